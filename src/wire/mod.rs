//! The only types that cross HTTP: protocol v1 (`docs/protocol.md`), shared by the terminal
//! and the collector. Bodies a collector receives refuse unknown fields, so a typo is an
//! error, not a silently dropped value. Here: uploads; `fleet`: heartbeats and the device
//! list; `read`: what central teams read (export rows, the CES report); `enrol`: enrolment
//! codes and remote survey configs.

mod enrol;
mod fleet;
mod read;

use serde::{Deserialize, Serialize};

use crate::survey::{Direction, Scale};

pub use enrol::{EnrolRequest, EnrolResponse, SurveyConfig, WhoAmI};
pub use fleet::{DeviceStatus, Heartbeat, HeartbeatResponse};
pub use read::{DateRange, ExportRow, Figures, Report, ReportGroup};

/// The header the collector sets on every response (its value is the protocol version), so
/// that a terminal can tell the collector's own verdict from a proxy's or a captive portal's
/// page. Only a reply with this header and a JSON error body may dead-letter an answer.
pub const COLLECTOR_MARK: &str = "ces-collector";

/// `POST /v1/answers`: a batch of answers from one device. The device is known from the
/// credential, never from the body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadBatch {
    /// The device's clock when it sent the batch (RFC 3339), for skew detection.
    pub device_time: String,
    pub answers: Vec<WireAnswer>,
}

/// One answer with the metadata captured when the visitor gave it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireAnswer {
    pub id: uuid::Uuid,
    pub seq: i64,
    pub boot_id: String,
    pub device_time: String,
    pub device_time_ms: i64,
    pub clock_trusted: bool,
    pub question_id: String,
    pub question_version: u32,
    pub language: String,
    pub scale: Scale,
    pub direction: Direction,
    pub score: u8,
    pub low: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub suppressed: bool,
    pub input: String,
    /// How long before the upload was built the answer was given, by the terminal's boot
    /// clock (milliseconds); sent while the boot that recorded it lasts. An answer given on
    /// a clock that was not synchronised is placed by it, even if the clock was set right
    /// (or wrong) since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<i64>,
}

/// The collector's answer to a batch: one result per answer, in the order sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    pub results: Vec<AnswerResult>,
    /// The collector's clock when it answered (RFC 3339, UTC).
    pub server_time: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnswerResult {
    pub id: uuid::Uuid,
    pub status: AnswerStatus,
    /// Why the answer was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStatus {
    /// Stored now.
    Accepted,
    /// Stored before (a retry after a lost reply): also a success.
    Duplicate,
    /// Invalid: never sent again; kept on the terminal in the dead-letter state.
    Rejected,
}

impl AnswerStatus {
    /// Whether the collector holds the answer.
    pub fn is_stored(self) -> bool {
        matches!(self, AnswerStatus::Accepted | AnswerStatus::Duplicate)
    }
}

/// The body of every 4xx and 5xx response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What was wrong, for the log and the status screen.
    pub error: String,
    /// With a 422 for a batch: the answers that were invalid, by position in the batch.
    /// Nothing of the batch was stored; the others may be sent again without these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<InvalidAnswer>,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: error.into(),
            invalid: vec![],
        }
    }
}

/// One invalid answer of a refused batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvalidAnswer {
    /// Its position in `answers`, from 0.
    pub index: usize,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_result_reads_as_the_protocol_shows_it() {
        let r: BatchResponse = serde_json::from_str(
            r#"{"server_time":"2026-11-24T09:00:00Z","results":[
                {"id":"01936b2e-8f3a-7cc1-9a2b-3c4d5e6f7a8b","status":"duplicate"},
                {"id":"01936b2e-8f3a-7cc1-9a2b-3c4d5e6f7a8c","status":"rejected",
                 "reason":"score 9 is outside the ces7 scale"}]}"#,
        )
        .unwrap();
        assert!(r.results[0].status.is_stored());
        assert!(!r.results[1].status.is_stored());
        assert_eq!(
            r.results[1].reason.as_deref(),
            Some("score 9 is outside the ces7 scale")
        );
    }

    #[test]
    fn unknown_fields_and_scales_are_refused() {
        let ok = r#"{"device_time":"2026-11-24T10:00:00+01:00","answers":[]}"#;
        assert!(serde_json::from_str::<UploadBatch>(ok).is_ok());
        let extra = r#"{"device_time":"x","answers":[],"device_id":"someone-else"}"#;
        assert!(serde_json::from_str::<UploadBatch>(extra).is_err());
        let answer = |scale: &str| {
            format!(
                r#"{{"id":"01936b2e-8f3a-7cc1-9a2b-3c4d5e6f7a8b","seq":1,"boot_id":"b",
                "device_time":"t","device_time_ms":1,"clock_trusted":true,"question_id":"q",
                "question_version":1,"language":"en","scale":"{scale}",
                "direction":"higher_is_easier","score":3,"low":true,"suppressed":false,
                "input":"touch"}}"#
            )
        };
        assert!(serde_json::from_str::<WireAnswer>(&answer("ces7")).is_ok());
        assert!(serde_json::from_str::<WireAnswer>(&answer("ces10")).is_err());
    }
}
