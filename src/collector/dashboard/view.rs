//! What the pages show, ready for the templates: tables (the same rows in HTML and in their
//! CSV download), key-figure tiles with their change, and how numbers are written.

use crate::collector::dashboard::texts::Texts;
use crate::wire::{Figures, ReportGroup};

/// One cell of a table: its text, maybe a link, and whether it is a number (right-aligned).
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub numeric: bool,
    /// A CSS class (a heatmap shade, a flag).
    pub class: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }

    pub fn number(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            numeric: true,
            ..Cell::default()
        }
    }

    pub fn link(text: impl Into<String>, href: String) -> Cell {
        Cell {
            text: text.into(),
            href: Some(href),
            ..Cell::default()
        }
    }

    pub fn class(mut self, class: impl Into<String>) -> Cell {
        self.class = Some(class.into());
        self
    }
}

/// A table as the page shows it and as its CSV download gives it.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Names the table in the page's CSV link (`table=`) and as the HTML id.
    pub id: String,
    pub caption: String,
    pub headers: Vec<String>,
    /// The first column names the row (a `th` with `scope="row"`).
    pub rows: Vec<Vec<Cell>>,
    /// The same view as CSV.
    pub csv_href: String,
    /// Said when there are no rows.
    pub empty: String,
    /// A CSS class for the whole table (`heat` for a heatmap).
    pub class: &'static str,
}

#[derive(askama::Template)]
#[template(path = "table.html")]
struct TableHtml<'a> {
    table: &'a Table,
    download: &'a str,
}

impl Table {
    /// A plain table whose caption, headers and empty text are the texts of these keys.
    pub fn of(
        t: &Texts,
        id: &str,
        csv_href: String,
        keys: (&str, &[&str], &str),
        rows: Vec<Vec<Cell>>,
    ) -> Table {
        let (caption, headers, empty) = keys;
        Table {
            id: id.to_owned(),
            caption: t.get(caption).to_owned(),
            headers: headers.iter().map(|h| t.get(h).to_owned()).collect(),
            rows,
            csv_href,
            empty: t.get(empty).to_owned(),
            class: "",
        }
    }

    /// The table as HTML, with its CSV link.
    pub fn html(&self, t: &Texts) -> String {
        use askama::Template;
        TableHtml {
            table: self,
            download: t.get("download_csv"),
        }
        .render()
        .unwrap_or_default()
    }

    /// Whether column `i` holds numbers (its header is then aligned like them).
    pub fn numeric_column(&self, i: &usize) -> bool {
        self.rows
            .first()
            .and_then(|r| r.get(*i))
            .is_some_and(|c| c.numeric)
    }

    /// The CSV of the table: its headers, then its rows' texts, each cell made safe for a
    /// spreadsheet.
    pub fn csv(&self) -> Vec<u8> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let safe = |s: &str| crate::text::csv_cell(s).into_owned();
        let _ = out.write_record(self.headers.iter().map(|h| safe(h)));
        for row in &self.rows {
            let _ = out.write_record(row.iter().map(|c| safe(&c.text)));
        }
        out.into_inner().unwrap_or_default()
    }
}

/// One key figure with its change against the previous period.
#[derive(Clone, Debug)]
pub struct Tile {
    pub label: String,
    pub value: String,
    /// "+4.0 pp against 16–22 Nov", or empty when there is nothing to compare.
    pub change: String,
    /// `worse`, `better` or `same`, for the change's colour (the text says it too).
    pub trend: &'static str,
}

/// The key figures of one question over a period, as tiles.
pub fn tiles(t: &Texts, g: &ReportGroup) -> Vec<Tile> {
    let f = &g.figures;
    let p = g.previous.as_ref();
    let tile = |label: &str, value: String, change: Option<(String, &'static str)>| {
        let (change, trend) = change.unwrap_or_default();
        Tile {
            label: label.to_owned(),
            value,
            change,
            trend: if trend.is_empty() { "same" } else { trend },
        }
    };
    let delta = |now: Option<f64>, before: Option<f64>, places: usize, unit: &str, up_is_good| {
        let (now, before) = (now?, before?);
        let d = now - before;
        let trend = if d.abs() < 1e-9 {
            "same"
        } else if (d > 0.0) == up_is_good {
            "better"
        } else {
            "worse"
        };
        Some((
            format!("{}{unit} {}", signed(d, places), t.get("vs_previous")),
            trend,
        ))
    };
    let n_change = p.map(|p| {
        let d = i128::from(f.n) - i128::from(p.n);
        (
            format!("{d:+} {}", t.get("vs_previous")),
            if d == 0 { "same" } else { "neutral" },
        )
    });
    vec![
        tile(t.get("answers"), f.n.to_string(), n_change),
        tile(
            t.get("mean"),
            mean(f.mean),
            delta(f.mean, p.and_then(|p| p.mean), 2, "", true),
        ),
        tile(
            t.get("pct_easy"),
            percent(f.pct_easy),
            delta(f.pct_easy, p.and_then(|p| p.pct_easy), 1, " pp", true),
        ),
        tile(
            t.get("pct_difficult"),
            percent(f.pct_difficult),
            delta(
                f.pct_difficult,
                p.and_then(|p| p.pct_difficult),
                1,
                " pp",
                false,
            ),
        ),
    ]
}

/// A signed number with `places` decimals (`+1.5`, `−0.3`, `0.0`).
pub fn signed(x: f64, places: usize) -> String {
    let text = format!("{:.*}", places, x.abs());
    if text.trim_start_matches(['0', '.']).is_empty() {
        text
    } else if x < 0.0 {
        format!("\u{2212}{text}")
    } else {
        format!("+{text}")
    }
}

/// A mean with two decimals, or a dash when there are no answers.
pub fn mean(x: Option<f64>) -> String {
    x.map_or("\u{2013}".to_owned(), |x| format!("{x:.2}"))
}

/// A share in percent with one decimal, or a dash when there are no answers.
pub fn percent(x: Option<f64>) -> String {
    x.map_or("\u{2013}".to_owned(), |x| format!("{x:.1} %"))
}

/// The name of a question as pages show it: id, version and scale, never mixed.
pub fn question_name(g: &ReportGroup) -> String {
    format!(
        "{} v{} ({})",
        g.question_id,
        g.question_version,
        g.scale.as_str()
    )
}

/// A stable id for a question in table ids and CSV links.
pub fn question_key(g: &ReportGroup) -> String {
    format!(
        "{}-v{}-{}",
        g.question_id,
        g.question_version,
        g.scale.as_str()
    )
}

/// The standard figure columns of a row: answers, mean, % easy, % difficult.
pub fn figure_cells(f: &Figures) -> Vec<Cell> {
    vec![
        Cell::number(f.n.to_string()),
        Cell::number(mean(f.mean)),
        Cell::number(percent(f.pct_easy)),
        Cell::number(percent(f.pct_difficult)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(signed(1.25, 1), "+1.2");
        assert_eq!(signed(-0.333, 2), "\u{2212}0.33");
        assert_eq!(signed(0.0001, 1), "0.0");
        assert_eq!(mean(Some(3.456)), "3.46");
        assert_eq!(percent(Some(33.333)), "33.3 %");
        assert_eq!(percent(None), "\u{2013}");
    }

    #[test]
    fn csv_cells_are_safe_for_spreadsheets() {
        let table = Table {
            headers: vec!["reason".into(), "n".into()],
            rows: vec![vec![Cell::text("=HYPERLINK(1)"), Cell::number("3")]],
            ..Table::default()
        };
        let text = String::from_utf8(table.csv()).unwrap();
        assert_eq!(text, "reason,n\n'=HYPERLINK(1),3\n");
    }
}
