//! The terminal's one config file: TOML parsed into raw types, then checked once into a
//! validated [`Config`]. Every refusal names the file, the line and the key. The
//! `[upstream]` section (where and how to sync) is checked in `upstream`; `[display]` and
//! `[[button_box]]` in `hardware`; `[speech]` in `speech`; `[survey]` and `[kiosk]` in `survey`, which also checks
//! the survey configs a collector hands out. An enrolled terminal (`enrolled`) takes its
//! device, collector, credential and survey config from its state folder instead.

mod brand;
pub mod enrolled;
mod hardware;
mod speech;
mod survey;
mod upstream;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::survey::Survey;

pub use brand::with_logo_inline;
pub use enrolled::Enrolled;
pub use hardware::{ButtonBox, Display, Layout, MAX_BUTTON, MIN_TARGET_MM, PANEL_WIDTH_MM};
pub use speech::Speech;
pub use survey::{MAX_SURVEY_CONFIG_BYTES, SurveyConfig, with_notice};
pub use upstream::{Upstream, collector_url};

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
    /// The version of the collector's survey config in force; `None` when the survey comes
    /// from the config file itself.
    pub config_version: Option<u64>,
    /// The staff PIN's Argon2id hash (`[staff] pin_hash`); no staff screen without one.
    pub staff_pin_hash: Option<String>,
    /// The speech engine that reads the screens aloud for a visitor who asks; `None` for
    /// none (`[speech] enabled = false`).
    pub speech: Option<Speech>,
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
    /// The database may lie on a filesystem that does not survive a reboot (tmpfs, a
    /// read-only root's overlay): only for demos and trials. Otherwise such a database takes
    /// the terminal out of service, and `doctor` fails.
    pub allow_volatile: bool,
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
        let raw: RawConfig = from_toml(text, origin)?;
        Checker { text, origin }.config(raw, base)
    }

    /// The state folder a config file names (the folder of its database), read without
    /// checking the rest: `ces-kiosk enroll` runs before the terminal has a device or survey.
    pub fn state_dir_of(path: &Path) -> Result<PathBuf, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let raw: RawConfig = from_toml(&text, path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let checker = Checker {
            text: &text,
            origin: path,
        };
        let db = checker.storage(raw.storage, base)?.path;
        Ok(db.parent().unwrap_or(Path::new(".")).to_owned())
    }

    /// The folder of the terminal's state: its database, and if enrolled, its enrolment.
    pub fn state_dir(&self) -> &Path {
        self.storage.path.parent().unwrap_or(Path::new("."))
    }

    /// This config with another survey config in force (one the collector sent). Refused
    /// when it does not fit the terminal: a button box's score outside the new scale.
    pub fn with_survey(&self, new: SurveyConfig, version: u64) -> Result<Config, String> {
        for b in &self.button_boxes {
            if let Some(s) = b.scores.iter().find(|s| !new.survey.scale.contains(**s)) {
                return Err(format!(
                    "the button box at {} gives score {s}, outside the new {} scale",
                    b.path.display(),
                    new.survey.scale.as_str()
                ));
            }
        }
        Ok(Config {
            survey: new.survey,
            kiosk: new.timings,
            config_version: Some(version),
            ..self.clone()
        })
    }
}

/// Parses TOML, naming the file, line and text of a syntax error.
fn from_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &Path) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
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
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    device: Option<Spanned<RawDevice>>,
    survey: Option<Spanned<survey::RawSurvey>>,
    kiosk: Option<Spanned<survey::RawKiosk>>,
    storage: Option<RawStorage>,
    upstream: Option<upstream::RawUpstream>,
    display: Option<hardware::RawDisplay>,
    #[serde(default)]
    button_box: Vec<Spanned<hardware::RawButtonBox>>,
    staff: Option<RawStaff>,
    speech: Option<speech::RawSpeech>,
    brand: Option<Spanned<brand::RawBrand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaff {
    pin_hash: Spanned<String>,
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
struct RawStorage {
    path: Option<Spanned<String>>,
    #[serde(default)]
    allow_volatile: bool,
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

    /// `[storage]`: the database, relative to the file's folder; the default when left out.
    fn storage(&self, raw: Option<RawStorage>, base: &Path) -> Result<Storage, ConfigError> {
        let Some(raw) = raw else {
            return Ok(Storage {
                path: PathBuf::from(DEFAULT_DB_PATH),
                allow_volatile: false,
            });
        };
        let path = match raw.path {
            None => PathBuf::from(DEFAULT_DB_PATH),
            Some(p) if p.get_ref().trim().is_empty() => {
                return Err(self.err(p.span(), "storage.path", "must not be empty"));
            }
            Some(p) => base.join(p.get_ref()),
        };
        Ok(Storage {
            path,
            allow_volatile: raw.allow_volatile,
        })
    }

    fn config(&self, raw: RawConfig, base: &Path) -> Result<Config, ConfigError> {
        let storage = self.storage(raw.storage, base)?;
        let state = storage.path.parent().unwrap_or(Path::new("."));
        let (device, survey, upstream, config_version) = match enrolled::read(state)? {
            Some(e) => {
                let from_collector = [
                    raw.device.as_ref().map(|d| ("device", d.span())),
                    raw.survey.as_ref().map(|d| ("survey", d.span())),
                    raw.kiosk.as_ref().map(|d| ("kiosk", d.span())),
                    raw.brand.as_ref().map(|d| ("brand", d.span())),
                ];
                if let Some((key, span)) = from_collector.into_iter().flatten().next() {
                    return Err(self.err(
                        span,
                        key,
                        format!(
                            "this terminal is enrolled ({}): its device and survey come from \
                             the collector; remove [{key}] from this file",
                            state.join(enrolled::ENROLMENT_FILE).display()
                        ),
                    ));
                }
                let raw_up = raw.upstream.unwrap_or_default();
                let upstream = self.upstream(raw_up, base, Some((e.collector, e.credential)))?;
                (e.device, e.survey, Some(upstream), Some(e.version))
            }
            None => {
                let missing = |key: &str| {
                    self.err(
                        0..0,
                        key,
                        format!(
                            "missing [{key}] section: write it here, or enrol the terminal \
                             with `ces-kiosk enroll --collector URL --code CODE`"
                        ),
                    )
                };
                let device = raw.device.ok_or_else(|| missing("device"))?;
                let survey = raw.survey.ok_or_else(|| missing("survey"))?;
                let mut survey = SurveyConfig {
                    survey: self.survey(survey.into_inner())?,
                    timings: self
                        .timings(raw.kiosk.map(Spanned::into_inner).unwrap_or_default())?,
                };
                // A logo may be a file beside this one.
                self.brand(
                    raw.brand.map(Spanned::into_inner).unwrap_or_default(),
                    Some(base),
                    &mut survey.survey,
                )?;
                let upstream = raw
                    .upstream
                    .map(|u| self.upstream(u, base, None))
                    .transpose()?;
                (self.device(device.get_ref())?, survey, upstream, None)
            }
        };
        let SurveyConfig {
            survey,
            timings: kiosk,
        } = survey;
        let staff_pin_hash = match raw.staff {
            None => None,
            Some(s) if crate::staff::is_pin_hash(s.pin_hash.get_ref()) => {
                Some(s.pin_hash.into_inner())
            }
            Some(s) => {
                return Err(self.err(
                    s.pin_hash.span(),
                    "staff.pin_hash",
                    "not a PIN hash: paste the line `ces-kiosk staff-pin` printed",
                ));
            }
        };
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
            config_version,
            staff_pin_hash,
            speech: self.speech(raw.speech)?,
        })
    }

    fn device(&self, raw: &RawDevice) -> Result<Device, ConfigError> {
        Ok(Device {
            id: self.name(&raw.id, "device.id")?,
            site: self.name(&raw.site, "device.site")?,
            touchpoint: self.name(&raw.touchpoint, "device.touchpoint")?,
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
