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

/// `GET /v1/report`: one group per place, question, scale and time bucket, with totals and
/// the figures of the previous equal period beside them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// How the figures are computed, per scale that occurs in the report.
    pub formulas: Vec<String>,
    pub groups: Vec<ReportGroup>,
    /// All groups of the report (not only this page) added up per question, version and
    /// scale: never across them.
    #[serde(default)]
    pub totals: Vec<ReportGroup>,
    /// The period the `previous` figures cover, when the report has both `from` and `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_period: Option<DateRange>,
    /// Where the next page starts (`cursor=`); absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Local dates, both included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub from: String,
    pub to: String,
}

/// One group of a report. Names the grouping does not key by, and times the bucket does not
/// have, are absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    pub question_id: String,
    pub question_version: u32,
    pub scale: Scale,
    pub direction: Direction,
    /// Local date (YYYY-MM-DD) of the day or hour; the Monday of a week; the first of a month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Local hour (0–23) by hour or by hour of day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<u8>,
    /// ISO week (`2026-W48`) by week.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub week: Option<String>,
    /// Month (`2026-11`) by month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// ISO weekday (1 Monday … 7 Sunday) by weekday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekday: Option<u8>,
    #[serde(flatten)]
    pub figures: Figures,
    /// The formula behind mean, % easy and % difficult for this scale.
    pub formula: String,
    /// Fewer counted answers than the report's `min_n`: too few to rank or compare.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub too_few: bool,
    /// The same group one period earlier, when the report has a previous period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Figures>,
}

/// The CES figures of a set of answers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
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
}
