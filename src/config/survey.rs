//! The survey part of a config: `[survey]` (question, scale, languages, low scores,
//! follow-up reasons) and `[kiosk]` (timings), checked alike whether they come from the
//! terminal's own file or from the collector as a versioned survey config
//! ([`SurveyConfig::parse`]). The collector checks a config with the same code before it
//! stores it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::brand::RawBrand;
use super::{Checker, ConfigError, MAX_TEXT, Timings};
use crate::survey::{MAX_NOTICE, Notice, Reason, SHIPPED_LANGUAGES, Scale, Survey};

/// A survey config as the collector hands it out: `[survey]` and `[kiosk]` alone.
#[derive(Clone, Debug, PartialEq)]
pub struct SurveyConfig {
    pub survey: Survey,
    pub timings: Timings,
}

/// The largest survey config text accepted (a long one with 8 reasons in 6 languages is ~6 KB).
pub const MAX_SURVEY_CONFIG_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurveyConfig {
    survey: RawSurvey,
    #[serde(default)]
    kiosk: RawKiosk,
    notice: Option<Spanned<RawNotice>>,
    brand: Option<RawBrand>,
}

/// `[notice]`: "you said, we did" on the thank-you screen, until a last day.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotice {
    until: Spanned<String>,
    text: Spanned<BTreeMap<String, String>>,
}

impl SurveyConfig {
    /// Checks survey config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<SurveyConfig, ConfigError> {
        let checker = Checker { text, origin };
        if text.len() > MAX_SURVEY_CONFIG_BYTES {
            return Err(checker.err(
                0..0,
                "survey",
                format!("the config is larger than {MAX_SURVEY_CONFIG_BYTES} bytes"),
            ));
        }
        let raw: RawSurveyConfig = super::from_toml(text, origin)?;
        let mut survey = checker.survey(raw.survey)?;
        survey.notice = raw
            .notice
            .map(|n| checker.notice(n.into_inner(), &survey.languages))
            .transpose()?;
        // From the collector: a logo is inline, never a file on the terminal.
        checker.brand(raw.brand.unwrap_or_default(), None, &mut survey)?;
        Ok(SurveyConfig {
            survey,
            timings: checker.timings(raw.kiosk)?,
        })
    }
}

/// Survey config text with its `[notice]` replaced by `notice` (or removed, for `None`);
/// the rest is kept as it was, though its comments and layout are not.
pub fn with_notice(text: &str, notice: Option<&Notice>) -> Result<String, String> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| format!("the survey config is not TOML: {e}"))?;
    table.remove("notice");
    if let Some(n) = notice {
        let mut section = toml::Table::new();
        section.insert("until".into(), toml::Value::String(n.until.clone()));
        let texts = n
            .text
            .iter()
            .map(|(lang, t)| (lang.clone(), toml::Value::String(t.clone())))
            .collect();
        section.insert("text".into(), toml::Value::Table(texts));
        table.insert("notice".into(), toml::Value::Table(section));
    }
    toml::to_string(&table).map_err(|e| format!("cannot write the survey config: {e}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSurvey {
    question_id: Spanned<String>,
    question_version: Spanned<u32>,
    scale: Scale,
    languages: Spanned<Vec<String>>,
    question: Spanned<BTreeMap<String, String>>,
    low_scores: Option<Spanned<Vec<i64>>>,
    #[serde(default)]
    follow_up: Vec<Spanned<RawReason>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReason {
    id: String,
    text: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKiosk {
    thank_you_seconds: Option<Spanned<f64>>,
    follow_up_seconds: Option<Spanned<f64>>,
    idle_reset_seconds: Option<Spanned<f64>>,
    misuse_cooldown_seconds: Option<Spanned<f64>>,
}

impl Checker<'_> {
    fn notice(&self, raw: RawNotice, languages: &[String]) -> Result<Notice, ConfigError> {
        let until = raw.until.get_ref();
        if until.parse::<jiff::civil::Date>().is_err() {
            return Err(self.err(
                raw.until.span(),
                "notice.until",
                format!("{until:?} is not a date (YYYY-MM-DD)"),
            ));
        }
        let text = self.texts(&raw.text, languages, "notice.text")?;
        if let Some((lang, t)) = text.iter().find(|(_, t)| t.chars().count() > MAX_NOTICE) {
            return Err(self.err(
                raw.text.span(),
                &format!("notice.text.{lang}"),
                format!(
                    "a notice is at most {MAX_NOTICE} characters; this one has {}",
                    t.chars().count()
                ),
            ));
        }
        Ok(Notice {
            until: until.clone(),
            text,
        })
    }

    pub(super) fn survey(&self, raw: RawSurvey) -> Result<Survey, ConfigError> {
        let question_id = self.name(&raw.question_id, "survey.question_id")?;
        if *raw.question_version.get_ref() == 0 {
            return Err(self.err(
                raw.question_version.span(),
                "survey.question_version",
                "must be 1 or more",
            ));
        }
        let languages = self.languages(&raw.languages)?;
        let question = self.texts(&raw.question, &languages, "survey.question")?;

        let scale = raw.scale;
        let low_scores = match &raw.low_scores {
            None => scale.default_low_scores(),
            Some(list) => {
                let mut set = BTreeSet::new();
                for &score in list.get_ref() {
                    match u8::try_from(score) {
                        Ok(s) if scale.contains(s) => set.insert(s),
                        _ => {
                            return Err(self.err(
                                list.span(),
                                "survey.low_scores",
                                format!(
                                    "score {score} is outside the {} scale (1 to {})",
                                    scale.as_str(),
                                    scale.max()
                                ),
                            ));
                        }
                    };
                }
                set
            }
        };

        let mut follow_up: Vec<Reason> = Vec::new();
        for (i, reason) in raw.follow_up.iter().enumerate() {
            let key = format!("survey.follow_up[{i}]");
            let r = reason.get_ref();
            // A reason id travels with every answer and into exports: a name.
            if !crate::survey::is_name(&r.id) {
                return Err(self.err(
                    reason.span(),
                    &format!("{key}.id"),
                    format!("must be {}", crate::survey::NAME_RULE),
                ));
            }
            if follow_up.iter().any(|other| other.id == r.id) {
                return Err(self.err(
                    reason.span(),
                    &format!("{key}.id"),
                    format!("reason {:?} appears twice", r.id),
                ));
            }
            let text = Spanned::new(reason.span(), r.text.clone());
            let text = self.texts(&text, &languages, &format!("{key}.text"))?;
            follow_up.push(Reason {
                id: r.id.clone(),
                text,
            });
        }
        if follow_up.len() > 8 {
            return Err(self.err(
                raw.follow_up[8].span(),
                "survey.follow_up",
                "at most 8 reasons fit on the screen",
            ));
        }

        Ok(Survey {
            question_id,
            question_version: *raw.question_version.get_ref(),
            scale,
            languages,
            question,
            low_scores,
            follow_up,
            notice: None,
            accent: None,
            logo: None,
        })
    }

    fn languages(&self, raw: &Spanned<Vec<String>>) -> Result<Vec<String>, ConfigError> {
        let list = raw.get_ref();
        if list.is_empty() {
            return Err(self.err(raw.span(), "survey.languages", "name at least one language"));
        }
        for (i, lang) in list.iter().enumerate() {
            if !SHIPPED_LANGUAGES.contains(&lang.as_str()) {
                return Err(self.err(
                    raw.span(),
                    "survey.languages",
                    format!(
                        "language {lang:?} has no built-in screen texts; available: {}",
                        SHIPPED_LANGUAGES.join(", ")
                    ),
                ));
            }
            if list[..i].contains(lang) {
                return Err(self.err(
                    raw.span(),
                    "survey.languages",
                    format!("language {lang:?} appears twice"),
                ));
            }
        }
        Ok(list.clone())
    }

    /// A text per language: one for every survey language, none for others, none empty.
    fn texts(
        &self,
        raw: &Spanned<BTreeMap<String, String>>,
        languages: &[String],
        key: &str,
    ) -> Result<BTreeMap<String, String>, ConfigError> {
        let map = raw.get_ref();
        for lang in languages {
            match map.get(lang) {
                None => {
                    return Err(self.err(
                        raw.span(),
                        &format!("{key}.{lang}"),
                        format!("missing text for language {lang:?} (listed in survey.languages)"),
                    ));
                }
                Some(t) if t.trim().is_empty() || t.chars().count() > MAX_TEXT => {
                    return Err(self.err(
                        raw.span(),
                        &format!("{key}.{lang}"),
                        format!("text must be 1 to {MAX_TEXT} characters"),
                    ));
                }
                Some(_) => {}
            }
        }
        if let Some(extra) = map.keys().find(|l| !languages.contains(l)) {
            return Err(self.err(
                raw.span(),
                &format!("{key}.{extra}"),
                format!("language {extra:?} is not listed in survey.languages"),
            ));
        }
        Ok(map.clone())
    }

    pub(super) fn timings(&self, raw: RawKiosk) -> Result<Timings, ConfigError> {
        let d = Timings::default();
        Ok(Timings {
            thank_you: self
                .seconds(raw.thank_you_seconds, "kiosk.thank_you_seconds", 1.0..=60.0)?
                .unwrap_or(d.thank_you),
            follow_up: self
                .seconds(
                    raw.follow_up_seconds,
                    "kiosk.follow_up_seconds",
                    3.0..=120.0,
                )?
                .unwrap_or(d.follow_up),
            idle_reset: self
                .seconds(
                    raw.idle_reset_seconds,
                    "kiosk.idle_reset_seconds",
                    5.0..=600.0,
                )?
                .unwrap_or(d.idle_reset),
            misuse_cooldown: self
                .seconds(
                    raw.misuse_cooldown_seconds,
                    "kiosk.misuse_cooldown_seconds",
                    0.0..=30.0,
                )?
                .unwrap_or(d.misuse_cooldown),
        })
    }
}
