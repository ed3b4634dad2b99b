//! `[brand]` of a survey config: the organisation's accent colour and logo, checked alike on
//! the collector and on the terminal. A logo file named in a config is put inline (as a
//! `data:` URL) by `ces-collector config set`, since a survey config travels as text.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Checker, ConfigError};
use crate::logo::{Logo, MAX_LOGO_BYTES};
use crate::survey::Survey;
use crate::theme::{Rgb, Theme};

/// `[brand]`: the organisation's accent colour and logo on the visitor screens.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBrand {
    accent: Option<Spanned<String>>,
    logo: Option<Spanned<String>>,
}

impl Checker<'_> {
    /// Checks `[brand]` into `survey`. A logo is a `data:` URL, or a file relative to `base`
    /// where the config is a file (`None`: from the collector, where it must be inline).
    pub(super) fn brand(
        &self,
        raw: RawBrand,
        base: Option<&Path>,
        survey: &mut Survey,
    ) -> Result<(), ConfigError> {
        survey.accent = raw.accent.map(|a| self.accent(&a)).transpose()?;
        survey.logo = raw.logo.map(|l| self.logo(&l, base)).transpose()?;
        Ok(())
    }

    /// The brand's accent: a `#rrggbb` colour that stands out against the page and carries
    /// readable text (checked against the normal theme; high contrast keeps its own).
    fn accent(&self, accent: &Spanned<String>) -> Result<Rgb, ConfigError> {
        let colour = Rgb::parse_hex(accent.get_ref().trim()).ok_or_else(|| {
            self.err(
                accent.span(),
                "brand.accent",
                format!(
                    "{:?} is not a colour; write it as #rrggbb, e.g. \"#0b5cad\"",
                    accent.get_ref()
                ),
            )
        })?;
        Theme::branded(colour).map_err(|why| self.err(accent.span(), "brand.accent", why))?;
        Ok(colour)
    }

    fn logo(&self, raw: &Spanned<String>, base: Option<&Path>) -> Result<Logo, ConfigError> {
        let value = raw.get_ref().trim();
        let err = |why: String| self.err(raw.span(), "brand.logo", why);
        if value.starts_with("data:") {
            return Logo::from_data_url(value).map_err(|why| err(format!("the logo {why}")));
        }
        let Some(base) = base else {
            return Err(err(format!(
                "{value:?} is a file name, but a survey config from the collector carries its \
                 logo inline: `ces-collector config set` puts the file in"
            )));
        };
        read_logo(&base.join(value)).map_err(err)
    }
}

/// Reads and checks a logo file.
fn read_logo(path: &Path) -> Result<Logo, String> {
    let shown = path.display();
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the logo {shown}: {e}"))?
        .len();
    if len > MAX_LOGO_BYTES as u64 {
        return Err(format!(
            "the logo {shown} is {len} bytes; at most {MAX_LOGO_BYTES} fit (save it smaller, \
             or as SVG)"
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the logo {shown}: {e}"))?;
    Logo::check(&bytes).map_err(|why| format!("the logo {shown} {why}"))
}

/// Survey config text from `file` with the logo file its `[brand] logo` names put inline as
/// a `data:` URL (the rest of the text as it was); unchanged without one, or when it is
/// inline already.
pub fn with_logo_inline(text: &str, file: &Path) -> Result<String, ConfigError> {
    #[derive(Deserialize)]
    struct Brand {
        logo: Option<Spanned<String>>,
    }
    #[derive(Deserialize)]
    struct OnlyBrand {
        brand: Option<Brand>,
    }
    let raw: OnlyBrand = super::from_toml(text, file)?;
    let Some(logo) = raw.brand.and_then(|b| b.logo) else {
        return Ok(text.to_owned());
    };
    let value = logo.get_ref().trim();
    if value.starts_with("data:") {
        return Ok(text.to_owned());
    }
    let checker = Checker { text, origin: file };
    let base = file.parent().unwrap_or(Path::new("."));
    let checked =
        read_logo(&base.join(value)).map_err(|why| checker.err(logo.span(), "brand.logo", why))?;
    let span = logo.span();
    Ok(format!(
        "{}\"{}\"{}",
        &text[..span.start],
        checked.data_url(),
        &text[span.end..]
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::SurveyConfig;
    use crate::theme::Rgb;

    /// The demo survey config (its `[survey]` and `[kiosk]`) as a collector hands it out,
    /// with `brand` added.
    fn survey_config(brand: &str) -> Result<SurveyConfig, String> {
        let demo = crate::demo::DEMO_TOML;
        let start = demo.find("[survey]").unwrap();
        let end = demo.find("[storage]").unwrap();
        let text = format!("{}\n{brand}", &demo[start..end]);
        SurveyConfig::parse(&text, Path::new("survey.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_brands_accent_is_taken_when_it_stands_out() {
        assert_eq!(survey_config("").unwrap().survey.accent, None);
        let c = survey_config("[brand]\naccent = \"#7A1F5C\"").unwrap();
        assert_eq!(c.survey.accent, Some(Rgb(0x7a, 0x1f, 0x5c)));
    }

    #[test]
    fn an_accent_that_is_no_colour_or_does_not_stand_out_is_refused_with_its_line() {
        for (accent, says) in [
            ("plum", "is not a colour"),
            ("#7a1f5", "is not a colour"),
            ("#ffee88", "against the page"),
            ("#808080", "text on #808080"),
        ] {
            let e = survey_config(&format!("[brand]\naccent = \"{accent}\"")).unwrap_err();
            assert!(
                e.contains("brand.accent") && e.contains(says),
                "{accent}: {e}"
            );
        }
        let e = survey_config("[brand]\nlogo_colour = \"#7a1f5c\"").unwrap_err();
        assert!(e.contains("logo_colour"), "{e}");
    }

    #[test]
    fn a_terminal_config_takes_a_brand_too() {
        let text = format!(
            "{}\n[brand]\naccent = \"#0b5cad\"\n",
            crate::demo::DEMO_TOML
        );
        let c =
            crate::config::Config::parse(&text, Path::new("t.toml"), Path::new("/data")).unwrap();
        assert_eq!(c.survey.accent, Some(Rgb(0x0b, 0x5c, 0xad)));
    }
}
