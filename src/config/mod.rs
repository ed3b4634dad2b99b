//! The terminal's one config file: TOML parsed into raw types, then checked once into a
//! validated [`Config`]. Every refusal names the file, the line and the key. The
//! `[upstream]` section (where and how to sync) is checked in `upstream`; `[display]` and
//! `[[button_box]]` in `hardware`.

mod hardware;
mod upstream;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::survey::{Reason, SHIPPED_LANGUAGES, Scale, Survey};

pub use hardware::{ButtonBox, Display};
pub use upstream::Upstream;

/// A config the terminal can run with.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub device: Device,
    pub survey: Survey,
    pub kiosk: Timings,
    pub storage: Storage,
    /// Where answers are synced to; `None` for a terminal that only stores them.
    pub upstream: Option<Upstream>,
    /// Where the screens are shown.
    pub display: Display,
    /// The button boxes whose presses are answers, besides taps on a touch display.
    pub button_boxes: Vec<ButtonBox>,
}

/// Who this terminal is and where it stands; captured with every answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub site: String,
    pub touchpoint: String,
}

/// How the screens behave over time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timings {
    pub thank_you: Duration,
    pub follow_up: Duration,
    pub idle_reset: Duration,
    pub misuse_cooldown: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            thank_you: Duration::from_secs(4),
            follow_up: Duration::from_secs(12),
            idle_reset: Duration::from_secs(30),
            misuse_cooldown: Duration::from_secs(3),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    /// The SQLite database; relative paths in a file are relative to the file's folder.
    pub path: PathBuf,
}

/// Why a config was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}\n  {line} | {text}")]
    Syntax {
        path: PathBuf,
        line: usize,
        text: String,
        message: String,
    },
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

impl ConfigError {
    /// The 1-based line the error points at, if it points at one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Syntax { line, .. } | ConfigError::Invalid { line, .. } => Some(*line),
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, path, base)
    }

    /// Validates config text. `origin` names it in errors; relative paths resolve against `base`.
    pub fn parse(text: &str, origin: &Path, base: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            ConfigError::Syntax {
                path: origin.to_owned(),
                line,
                text: text
                    .lines()
                    .nth(line - 1)
                    .unwrap_or("")
                    .trim_end()
                    .to_owned(),
                message: e.message().trim_end().to_owned(),
            }
        })?;
        Checker { text, origin }.config(raw, base)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    device: RawDevice,
    survey: RawSurvey,
    #[serde(default)]
    kiosk: RawKiosk,
    storage: Option<RawStorage>,
    upstream: Option<upstream::RawUpstream>,
    display: Option<hardware::RawDisplay>,
    #[serde(default)]
    button_box: Vec<Spanned<hardware::RawButtonBox>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    id: Spanned<String>,
    site: Spanned<String>,
    touchpoint: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurvey {
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
struct RawReason {
    id: String,
    text: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKiosk {
    thank_you_seconds: Option<Spanned<f64>>,
    follow_up_seconds: Option<Spanned<f64>>,
    idle_reset_seconds: Option<Spanned<f64>>,
    misuse_cooldown_seconds: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    path: Spanned<String>,
}

/// The default database of an installed terminal.
pub const DEFAULT_DB_PATH: &str = "/var/lib/ces-kiosk/answers.db";

const MAX_TEXT: usize = 300;

struct Checker<'a> {
    text: &'a str,
    origin: &'a Path,
}

impl Checker<'_> {
    fn err(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.origin.to_owned(),
            line: line_of(self.text, span.start),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn config(&self, raw: RawConfig, base: &Path) -> Result<Config, ConfigError> {
        let device = Device {
            id: self.name(&raw.device.id, "device.id")?,
            site: self.name(&raw.device.site, "device.site")?,
            touchpoint: self.name(&raw.device.touchpoint, "device.touchpoint")?,
        };
        let survey = self.survey(raw.survey)?;
        let kiosk = self.timings(raw.kiosk)?;
        let storage = match raw.storage {
            None => Storage {
                path: PathBuf::from(DEFAULT_DB_PATH),
            },
            Some(s) if s.path.get_ref().trim().is_empty() => {
                return Err(self.err(s.path.span(), "storage.path", "must not be empty"));
            }
            Some(s) => Storage {
                path: base.join(s.path.get_ref()),
            },
        };
        let upstream = raw.upstream.map(|u| self.upstream(u, base)).transpose()?;
        let display_span = raw.display.as_ref().map(|d| d.kind_span());
        let display = self.display(raw.display, base)?;
        let button_boxes = self.button_boxes(raw.button_box, &survey, base)?;
        if !display.is_touch() && button_boxes.is_empty() {
            return Err(self.err(
                display_span.unwrap_or(0..0),
                "button_box",
                "a terminal without a touch display needs at least one [[button_box]] \
                 to take answers",
            ));
        }
        Ok(Config {
            device,
            survey,
            kiosk,
            storage,
            upstream,
            display,
            button_boxes,
        })
    }

    /// An identifier that travels with every answer: short, printable, no spaces.
    fn name(&self, value: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        let v = value.get_ref();
        if !crate::survey::is_name(v) {
            return Err(self.err(
                value.span(),
                key,
                format!("{v:?} must be {}", crate::survey::NAME_RULE),
            ));
        }
        Ok(v.clone())
    }

    fn survey(&self, raw: RawSurvey) -> Result<Survey, ConfigError> {
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
            let id_ok = !r.id.is_empty() && r.id.len() <= 64 && !r.id.contains(char::is_whitespace);
            if !id_ok {
                return Err(self.err(
                    reason.span(),
                    &format!("{key}.id"),
                    "must be 1 to 64 characters without spaces",
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

    fn timings(&self, raw: RawKiosk) -> Result<Timings, ConfigError> {
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

    fn seconds(
        &self,
        raw: Option<Spanned<f64>>,
        key: &str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some(v) = raw else { return Ok(None) };
        let secs = *v.get_ref();
        if !range.contains(&secs) {
            return Err(self.err(
                v.span(),
                key,
                format!(
                    "{secs} is outside {} to {} seconds",
                    range.start(),
                    range.end()
                ),
            ));
        }
        Ok(Some(Duration::from_secs_f64(secs)))
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
