//! Export rows as CSV (one header line, then one line per answer) or as a JSON array, written
//! piece by piece so that an export of millions of answers streams in constant memory.
//! Used by `GET /v1/export` and `ces-collector export` alike. CSV text cells that a
//! spreadsheet would run as a formula get a leading `'` (`text::csv_cell`).

use crate::wire::ExportRow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// Writes rows in one format; call [`Encoder::row`] per row and [`Encoder::finish`] once.
pub struct Encoder {
    format: Format,
    rows: usize,
}

impl Encoder {
    pub fn new(format: Format) -> Encoder {
        Encoder { format, rows: 0 }
    }

    /// The bytes of one more row (with the header or the array's start before the first).
    pub fn row(&mut self, row: &ExportRow) -> Vec<u8> {
        self.rows += 1;
        match self.format {
            Format::Csv => {
                // The header comes from the field names, before the first row only.
                let mut csv = csv::WriterBuilder::new()
                    .has_headers(self.rows == 1)
                    .buffer_capacity(1024)
                    .from_writer(Vec::with_capacity(512));
                csv.serialize(neutralised(row))
                    .expect("an export row serialises");
                csv.into_inner().expect("writing to memory cannot fail")
            }
            Format::Json => {
                let mut out = if self.rows == 1 {
                    b"[\n".to_vec()
                } else {
                    b",\n".to_vec()
                };
                serde_json::to_writer(&mut out, row).expect("an export row serialises");
                out
            }
        }
    }

    /// The closing bytes (for an empty CSV export, the header alone).
    pub fn finish(&mut self) -> Vec<u8> {
        match (self.format, self.rows) {
            (Format::Csv, 0) => {
                let mut out = csv::Writer::from_writer(Vec::new());
                out.write_record(HEADER)
                    .expect("writing to memory cannot fail");
                out.into_inner().expect("writing to memory cannot fail")
            }
            (Format::Csv, _) => Vec::new(),
            (Format::Json, 0) => b"[]\n".to_vec(),
            (Format::Json, _) => b"\n]\n".to_vec(),
        }
    }
}

/// `row` with each text cell made safe for a spreadsheet; numbers, flags, the id and the
/// scale are not text a spreadsheet could run.
fn neutralised(row: &ExportRow) -> ExportRow {
    let cell = |s: &String| crate::text::csv_cell(s).into_owned();
    ExportRow {
        device_id: cell(&row.device_id),
        site: cell(&row.site),
        touchpoint: cell(&row.touchpoint),
        boot_id: cell(&row.boot_id),
        question_id: cell(&row.question_id),
        language: cell(&row.language),
        reason: row.reason.as_ref().map(cell),
        input: cell(&row.input),
        device_time: cell(&row.device_time),
        received_at: cell(&row.received_at),
        local_date: cell(&row.local_date),
        ..row.clone()
    }
}

/// The CSV columns, as serde names the fields of [`ExportRow`].
const HEADER: [&str; 24] = [
    "id",
    "device_id",
    "site",
    "touchpoint",
    "seq",
    "boot_id",
    "question_id",
    "question_version",
    "language",
    "scale",
    "direction",
    "score",
    "low",
    "reason",
    "suppressed",
    "input",
    "device_time",
    "device_time_ms",
    "clock_trusted",
    "received_at",
    "clock_skew_ms",
    "local_date",
    "local_hour",
    "time_estimated",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::{Direction, Scale};

    fn row(reason: Option<&str>) -> ExportRow {
        ExportRow {
            id: uuid::Uuid::now_v7(),
            device_id: "d".into(),
            site: "s".into(),
            touchpoint: "t".into(),
            seq: 1,
            boot_id: "b".into(),
            question_id: "q".into(),
            question_version: 1,
            language: "en".into(),
            scale: Scale::Ces7,
            direction: Direction::HigherIsEasier,
            score: 2,
            low: true,
            reason: reason.map(Into::into),
            suppressed: false,
            input: "touch".into(),
            device_time: "2026-11-24T10:00:00+01:00".into(),
            device_time_ms: 1,
            clock_trusted: true,
            received_at: "2026-11-24T09:00:01Z".into(),
            clock_skew_ms: -5,
            local_date: "2026-11-24".into(),
            local_hour: 10,
            time_estimated: false,
        }
    }

    #[test]
    fn csv_has_the_header_once_and_one_line_per_row() {
        let mut e = Encoder::new(Format::Csv);
        let mut out = e.row(&row(Some("waiting")));
        out.extend(e.row(&row(None)));
        out.extend(e.finish());
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], HEADER.join(","));
        assert!(lines[1].contains(",ces7,higher_is_easier,2,true,waiting,false,"));
        let mut empty = Encoder::new(Format::Csv);
        assert_eq!(
            String::from_utf8(empty.finish()).unwrap().trim(),
            HEADER.join(",")
        );
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
        let mut e = Encoder::new(Format::Csv);
        let mut hostile = row(Some("=HYPERLINK(\"http://evil.example/\",\"x\")"));
        hostile.site = "+cmd".into();
        hostile.touchpoint = "-1+2".into();
        hostile.device_id = "@SUM(A1)".into();
        let out = String::from_utf8(e.row(&hostile)).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        let field = |name: &str| &record[HEADER.iter().position(|h| *h == name).unwrap()];
        assert_eq!(
            field("reason"),
            "'=HYPERLINK(\"http://evil.example/\",\"x\")"
        );
        assert_eq!(field("site"), "'+cmd");
        assert_eq!(field("touchpoint"), "'-1+2");
        assert_eq!(field("device_id"), "'@SUM(A1)");
        assert_eq!(field("clock_skew_ms"), "-5", "numbers stay numbers");
        // JSON carries the value as it is: it is data for programs, not a spreadsheet.
        let mut j = Encoder::new(Format::Json);
        let mut json = j.row(&hostile);
        json.extend(j.finish());
        let rows: Vec<ExportRow> = serde_json::from_slice(&json).unwrap();
        assert_eq!(rows[0], hostile);
    }

    #[test]
    fn json_is_one_array() {
        let mut e = Encoder::new(Format::Json);
        let mut out = e.row(&row(None));
        out.extend(e.row(&row(Some("x"))));
        out.extend(e.finish());
        let rows: Vec<ExportRow> = serde_json::from_slice(&out).unwrap();
        assert_eq!(rows.len(), 2);
        let mut empty = Encoder::new(Format::Json);
        assert_eq!(empty.finish(), b"[]\n");
    }
}
