//! Enrolling a terminal: `ces-kiosk enroll` trades the one-time code staff typed for the
//! terminal's own credential and survey config at the collector, and keeps them in the state
//! folder (`config::enrolled` reads them). Later survey configs from the collector are saved
//! here too. Every file is written whole or not at all (temporary file, fsync, rename, fsync
//! of the folder), readable only by the service's user.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::config::SurveyConfig;
use crate::config::enrolled::{CREDENTIAL_FILE, ENROLMENT_FILE, SURVEY_CONFIG_FILE};
use crate::credential::{Credential, EnrolmentCode, Kind};
use crate::wire::{EnrolRequest, EnrolResponse, ErrorBody};

/// Why enrolment failed, in words staff can act on.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// The collector did not answer: network, address or TLS.
    #[error("cannot reach the collector at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The collector refused the code (unknown, used, expired, no survey config yet).
    #[error("the collector refused the code: {0}")]
    Refused(String),
    /// Something else answered at the collector's address (a proxy, a network login page).
    #[error("{0}")]
    NotTheCollector(String),
    /// The collector's reply was not what this version understands.
    #[error("the collector's reply is not usable: {0}")]
    BadReply(String),
    #[error("cannot save the enrolment in {folder}: {source}")]
    Save {
        folder: String,
        source: std::io::Error,
    },
}

#[derive(Serialize)]
struct EnrolmentFile<'a> {
    collector: &'a str,
    device: DeviceFile<'a>,
}

#[derive(Serialize)]
struct DeviceFile<'a> {
    id: &'a str,
    site: &'a str,
    touchpoint: &'a str,
}

/// Enrols at the collector at `collector` with `code` and saves what it gave into `state`.
pub async fn enroll(
    collector: &reqwest::Url,
    code: &EnrolmentCode,
    state: &Path,
) -> Result<EnrolResponse, EnrolError> {
    let url = collector
        .join("v1/enrol")
        .expect("a relative path joins any base URL");
    let unreachable = |e: reqwest::Error| EnrolError::Unreachable {
        url: collector.to_string(),
        reason: crate::sync::transport::describe(&e),
    };
    let client = crate::sync::transport::client(Duration::from_secs(30)).map_err(unreachable)?;
    let body = serde_json::to_vec(&EnrolRequest {
        code: code.expose(),
    })
    .expect("an enrolment request serialises");
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let from = crate::sync::transport::Responder::of(response.headers());
    let bytes = response.bytes().await.map_err(unreachable)?;
    if !status.is_success() {
        if !from.is_collector_error(&bytes) {
            return Err(EnrolError::NotTheCollector(
                from.not_the_collector(status.as_u16()),
            ));
        }
        let message = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| crate::text::for_terminal(&b.error).into_owned())
            .unwrap_or_else(|_| format!("HTTP {status}"));
        return Err(EnrolError::Refused(message));
    }
    let reply: EnrolResponse = serde_json::from_slice(&bytes).map_err(|e| {
        if from.collector {
            EnrolError::BadReply(e.to_string())
        } else {
            EnrolError::NotTheCollector(from.not_the_collector(status.as_u16()))
        }
    })?;
    check(&reply)?;
    save(state, collector, &reply).map_err(|source| EnrolError::Save {
        folder: state.display().to_string(),
        source,
    })?;
    Ok(reply)
}

/// What the collector sent must be usable before anything is saved.
fn check(reply: &EnrolResponse) -> Result<(), EnrolError> {
    let bad = |m: String| Err(EnrolError::BadReply(m));
    for (key, value) in [
        ("device_id", &reply.device_id),
        ("site", &reply.site),
        ("touchpoint", &reply.touchpoint),
    ] {
        if !crate::survey::is_name(value) {
            return bad(format!("{key} {value:?} is not a name"));
        }
    }
    if Credential::parse(&reply.credential, Kind::Device).is_err() {
        return bad("the credential is malformed".into());
    }
    let origin = Path::new("the collector's survey config");
    if let Err(e) = SurveyConfig::parse(&reply.config.text, origin) {
        return bad(format!("its survey config is invalid: {e}"));
    }
    Ok(())
}

/// Saves an enrolment: credential and survey config first, the enrolment file (which makes
/// the terminal enrolled) last.
fn save(state: &Path, collector: &reqwest::Url, reply: &EnrolResponse) -> std::io::Result<()> {
    std::fs::create_dir_all(state)?;
    write_private(&state.join(CREDENTIAL_FILE), reply.credential.as_bytes())?;
    save_survey_config(state, &reply.config)?;
    let file = EnrolmentFile {
        collector: collector.as_str(),
        device: DeviceFile {
            id: &reply.device_id,
            site: &reply.site,
            touchpoint: &reply.touchpoint,
        },
    };
    let text = format!(
        "# Written by `ces-kiosk enroll`: who this terminal is and where it syncs.\n\
         # Enrol again to change it; do not edit.\n{}",
        toml::to_string(&file).map_err(std::io::Error::other)?
    );
    write_private(&state.join(ENROLMENT_FILE), text.as_bytes())
}

/// Saves `config` as the survey config in force in `state`.
pub fn save_survey_config(state: &Path, config: &crate::wire::SurveyConfig) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(config).expect("a survey config serialises");
    write_private(&state.join(SURVEY_CONFIG_FILE), &json)
}

/// Writes a file readable only by its owner, whole or not at all. Run as root (`sudo
/// ces-kiosk enroll`), the file is given to the owner of the folder, the service's user.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    // A left-over temporary file keeps its mode when truncated: start from a new one.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    let owner = std::fs::metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 && owner.uid() != 0 {
        std::os::unix::fs::chown(&tmp, Some(owner.uid()), Some(owner.gid()))?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}
