//! What central teams read from the collector: export rows (`GET /v1/export`) and the CES
//! report (`GET /v1/report`). Every figure travels with the scale and the formula behind it.

use serde::{Deserialize, Serialize};

use crate::survey::{Direction, Scale};

/// One stored answer with everything known about it; one CSV line or one JSON object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    pub id: uuid::Uuid,
    pub device_id: String,
    pub site: String,
    pub touchpoint: String,
    pub seq: i64,
    pub boot_id: String,
    pub question_id: String,
    pub question_version: u32,
    pub language: String,
    pub scale: Scale,
    pub direction: Direction,
    pub score: u8,
    pub low: bool,
    pub reason: Option<String>,
    /// A tap within the misuse cooldown: kept for the record, never counted.
    pub suppressed: bool,
    pub input: String,
    /// The device's local time of the answer (RFC 3339 with its UTC offset).
    pub device_time: String,
    pub device_time_ms: i64,
    pub clock_trusted: bool,
    /// When the collector received it (RFC 3339, UTC).
    pub received_at: String,
    /// Device clock minus collector clock when the answer was uploaded, in milliseconds.
    pub clock_skew_ms: i64,
    /// The local day and hour the report counts the answer in.
    pub local_date: String,
    pub local_hour: u8,
    /// The device clock was not trusted: day and hour were estimated from the skew.
    pub time_estimated: bool,
}

/// `GET /v1/report`: one group per site, touchpoint, question, scale and day (or hour).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// How the figures are computed, per scale that occurs in the report.
    pub formulas: Vec<String>,
    pub groups: Vec<ReportGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportGroup {
    pub site: String,
    pub touchpoint: String,
    pub question_id: String,
    pub question_version: u32,
    pub scale: Scale,
    pub direction: Direction,
    /// Local date of the answers (YYYY-MM-DD).
    pub date: String,
    /// Local hour (0–23) when the report is by hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<u8>,
    /// Counted answers (suppressed taps excluded).
    pub n: u64,
    /// Absent when n is 0.
    pub mean: Option<f64>,
    /// Share of easy scores, in percent; absent when n is 0.
    pub pct_easy: Option<f64>,
    /// Share of difficult scores, in percent; absent when n is 0.
    pub pct_difficult: Option<f64>,
    /// Counted answers per score, from score 1 upwards.
    pub distribution: Vec<u64>,
    /// Taps within the misuse cooldown, not counted above.
    pub suppressed: u64,
    /// The formula behind mean, % easy and % difficult for this scale.
    pub formula: String,
}
