//! Enrolment and remote survey configs over the wire: what a terminal sends with its one-time
//! code (`POST /v1/enrol`), what it gets back, and the versioned survey config the collector
//! hands out with enrolment and heartbeat replies.

use serde::{Deserialize, Serialize};

/// `POST /v1/enrol`: the code staff typed. The only request made without a credential.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub code: String,
}

/// The collector's reply to a good code: who the terminal is, its new credential (sent this
/// once, stored only hashed on the collector) and its survey config.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub device_id: String,
    pub site: String,
    pub touchpoint: String,
    pub credential: String,
    pub config: SurveyConfig,
}

impl std::fmt::Debug for EnrolResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolResponse")
            .field("device_id", &self.device_id)
            .field("site", &self.site)
            .field("touchpoint", &self.touchpoint)
            .field("credential", &"<redacted>")
            .field("config", &self.config)
            .finish()
    }
}

/// A device's survey config as the central team set it: the `[survey]` and `[kiosk]`
/// sections of a terminal config, as TOML text, with the version the collector gave it.
/// Versions only grow; a terminal runs the highest one it was given and could use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyConfig {
    pub version: u64,
    pub text: String,
}

/// `GET /v1/whoami`: which device a credential belongs to (`ces-kiosk doctor` checks its
/// credential with it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub device_id: String,
    pub site: String,
    pub touchpoint: String,
}
