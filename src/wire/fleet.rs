//! Fleet health over the wire: the heartbeat a terminal sends with its status, and the
//! device list central teams read (`GET /v1/devices`).

use serde::{Deserialize, Serialize};

/// `POST /v1/heartbeat`: how a terminal is doing, sent after each sync round and at least
/// every few minutes. Like every device request, it names no device: the credential does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The device's clock when it sent this (RFC 3339), for skew detection.
    pub device_time: String,
    pub app_version: String,
    pub boot_id: String,
    /// Whether the device's kernel said its clock was synchronised.
    pub clock_trusted: bool,
    /// Answers waiting for upload.
    pub queue_depth: u64,
    /// Age of the oldest waiting answer, by the device clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_unsynced_age_seconds: Option<u64>,
    /// Answers the collector rejected, kept on the device.
    pub dead_letters: u64,
    /// The last upload problem, if the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The version of the survey config the terminal runs (`None`: its own file's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_version: Option<u64>,
    /// Why the terminal refused a newer survey config it was given, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
}

/// The collector's reply to a heartbeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatResponse {
    /// The collector's clock (RFC 3339, UTC).
    pub server_time: String,
    /// Device clock minus collector clock, in milliseconds, as measured on this request.
    pub clock_skew_ms: i64,
    /// The device's survey config, when it is not the version the heartbeat reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<super::SurveyConfig>,
}

/// One terminal as central teams see it in the fleet list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub id: String,
    pub site: String,
    pub touchpoint: String,
    pub created_at: String,
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// The last request the device made with its credential.
    #[serde(default)]
    pub last_seen: Option<String>,
    /// The last batch of answers it uploaded.
    #[serde(default)]
    pub last_upload: Option<String>,
    #[serde(default)]
    pub app_version: Option<String>,
    #[serde(default)]
    pub queue_depth: Option<u64>,
    #[serde(default)]
    pub oldest_unsynced_age_seconds: Option<u64>,
    #[serde(default)]
    pub dead_letters: Option<u64>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Device clock minus collector clock at the last request, in milliseconds.
    #[serde(default)]
    pub clock_skew_ms: Option<i64>,
    /// The skew is larger than the collector's threshold: the device's times are suspect.
    pub clock_skewed: bool,
    #[serde(default)]
    pub clock_trusted: Option<bool>,
    /// The survey config version the device last reported running.
    #[serde(default)]
    pub config_version: Option<u64>,
    /// The newest survey config version set for the device (its own or its site's).
    #[serde(default)]
    pub config_latest: Option<u64>,
    /// Why the device refused its newest survey config, if it did.
    #[serde(default)]
    pub config_error: Option<String>,
    /// Answers stored for this device.
    pub answers: u64,
}
