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
