//! An enrolled terminal's state, kept in the folder of its database (`/var/lib/ces-kiosk`):
//! `enrolment.toml` (who the terminal is and which collector it belongs to), `credential`
//! (its own, readable only by the service) and `survey-config.json` (the newest survey
//! config it accepted, with its version). Read and checked here; `enrolment` writes them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{Checker, ConfigError, Device, RawDevice, SurveyConfig};
use crate::credential::Credential;

/// The file that makes a terminal enrolled.
pub const ENROLMENT_FILE: &str = "enrolment.toml";
/// The terminal's own credential.
pub const CREDENTIAL_FILE: &str = "credential";
/// The survey config in force, as the collector sent it (JSON: version and text).
pub const SURVEY_CONFIG_FILE: &str = "survey-config.json";

/// What enrolment gave the terminal.
#[derive(Clone, Debug, PartialEq)]
pub struct Enrolled {
    pub device: Device,
    pub collector: reqwest::Url,
    pub credential: Credential,
    /// The survey config in force and its version.
    pub survey: SurveyConfig,
    pub version: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnrolment {
    collector: Spanned<String>,
    device: RawDevice,
}

/// Reads the enrolled state in `dir`; `None` when the terminal was never enrolled.
pub fn read(dir: &Path) -> Result<Option<Enrolled>, ConfigError> {
    let path = dir.join(ENROLMENT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let raw: RawEnrolment = super::from_toml(&text, &path)?;
    let checker = Checker {
        text: &text,
        origin: &path,
    };
    let device = checker.device(&raw.device)?;
    let collector = checker.url(&raw.collector, "collector")?;
    let file = Spanned::new(0..0, CREDENTIAL_FILE.to_owned());
    let credential = checker.credential(&file, dir, "credential")?;
    let (survey, version) = read_survey_config(dir)?;
    Ok(Some(Enrolled {
        device,
        collector,
        credential,
        survey,
        version,
    }))
}

/// The survey config in force in `dir`, checked, with its version.
fn read_survey_config(dir: &Path) -> Result<(SurveyConfig, u64), ConfigError> {
    let path = dir.join(SURVEY_CONFIG_FILE);
    let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let stored: crate::wire::SurveyConfig =
        serde_json::from_slice(&bytes).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            line: e.line(),
            key: "survey config".into(),
            message: format!("not a stored survey config: {e}"),
        })?;
    let origin = PathBuf::from(format!("{} (version {})", path.display(), stored.version));
    Ok((SurveyConfig::parse(&stored.text, &origin)?, stored.version))
}
