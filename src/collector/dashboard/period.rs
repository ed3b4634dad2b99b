//! The periods the dashboard shows: presets counted back from today (local dates; weeks
//! start on Monday, quarters on 1 January, April, July and October) and custom dates.

use jiff::ToSpan;
use jiff::civil::Date;

use crate::collector::storage::AnswerFilter;

/// The presets, in the order the period menu lists them, with their text keys.
pub const PRESETS: [(&str, &str); 9] = [
    ("today", "period_today"),
    ("yesterday", "period_yesterday"),
    ("7d", "period_7d"),
    ("30d", "period_30d"),
    ("90d", "period_90d"),
    ("this-month", "period_this_month"),
    ("last-month", "period_last_month"),
    ("this-quarter", "period_this_quarter"),
    ("last-quarter", "period_last_quarter"),
];

/// The preset when the address names none.
pub const DEFAULT: &str = "7d";

/// Local dates, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dates {
    pub from: Date,
    pub to: Date,
}

impl Dates {
    /// A filter of these dates, limited to `sites` (a viewer's) when given.
    pub fn filter(&self, sites: Option<Vec<String>>) -> AnswerFilter {
        AnswerFilter {
            from: Some(self.from.to_string()),
            to: Some(self.to.to_string()),
            sites,
            ..Default::default()
        }
    }

    /// The days, first to last.
    pub fn days(&self) -> impl Iterator<Item = Date> {
        let to = self.to;
        self.from.series(1.day()).take_while(move |d| *d <= to)
    }
}

/// The dates of a preset on `today`, or `None` for an unknown name.
pub fn preset(name: &str, today: Date) -> Option<Dates> {
    let back = |days: i64| today.checked_sub(days.days()).ok();
    let quarter_start = |d: Date| Date::new(d.year(), (d.month() - 1) / 3 * 3 + 1, 1).ok();
    let (from, to) = match name {
        "today" => (today, today),
        "yesterday" => (back(1)?, back(1)?),
        "7d" => (back(6)?, today),
        "30d" => (back(29)?, today),
        "90d" => (back(89)?, today),
        "this-month" => (today.first_of_month(), today),
        "last-month" => {
            let last = today.first_of_month().yesterday().ok()?;
            (last.first_of_month(), last)
        }
        "this-quarter" => (quarter_start(today)?, today),
        "last-quarter" => {
            let end = quarter_start(today)?.yesterday().ok()?;
            (quarter_start(end)?, end)
        }
        _ => return None,
    };
    Some(Dates { from, to })
}

/// The period a page asks for: a preset, or custom dates (`from` and `to`, at most 400 days
/// apart so that a page stays fast). A bad one is refused with the reason.
pub fn chosen(
    period: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    today: Date,
) -> Result<(String, Dates), String> {
    let custom = period == Some("custom") || (period.is_none() && (from.is_some() || to.is_some()));
    if !custom {
        let name = period.unwrap_or(DEFAULT);
        let dates = preset(name, today).ok_or_else(|| format!("{name:?} is not a period"))?;
        return Ok((name.to_owned(), dates));
    }
    let date = |key: &str, v: Option<&str>| -> Result<Date, String> {
        let v = v.ok_or_else(|| format!("a custom period needs {key}"))?;
        v.parse()
            .map_err(|_| format!("{key}: {v:?} is not a date like 2026-11-24"))
    };
    let (from, to) = (date("from", from)?, date("to", to)?);
    if from > to {
        return Err(format!("from {from} is after to {to}"));
    }
    if (to - from).get_days() > 400 {
        return Err("a custom period is at most 400 days long".into());
    }
    Ok(("custom".to_owned(), Dates { from, to }))
}

/// A page's address parameters: its period, the place it shows, and for a CSV download the
/// table.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub site: Option<String>,
    pub touchpoint: Option<String>,
    /// With `format=csv`: which of the page's tables.
    pub table: Option<String>,
    pub format: Option<String>,
}

impl PageQuery {
    /// The address of `path` with this query's period and place, changed by `changes`
    /// (`None` removes a parameter).
    pub fn href(&self, path: &str, changes: &[(&str, Option<&str>)]) -> String {
        let custom = self.period.as_deref() == Some("custom")
            || (self.period.is_none() && (self.from.is_some() || self.to.is_some()));
        let mut params: Vec<(&str, Option<&str>)> = vec![
            ("period", self.period.as_deref()),
            ("from", self.from.as_deref().filter(|_| custom)),
            ("to", self.to.as_deref().filter(|_| custom)),
            ("site", self.site.as_deref()),
            ("touchpoint", self.touchpoint.as_deref()),
        ];
        for (key, value) in changes {
            match params.iter_mut().find(|(k, _)| k == key) {
                Some(p) => p.1 = *value,
                None => params.push((key, *value)),
            }
        }
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            if let Some(v) = v {
                query.append_pair(k, v);
            }
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }

    /// The address of the CSV download of table `id` of the page at `path`, same filters.
    pub fn csv_href(&self, path: &str, id: &str) -> String {
        self.href(path, &[("table", Some(id)), ("format", Some("csv"))])
    }

    /// Whether this is a CSV download of one of the page's tables.
    pub fn wants_csv(&self) -> bool {
        self.format.as_deref() == Some("csv")
    }
}

/// Today's date where the collector runs.
pub fn today() -> Date {
    jiff::ZonedDateTime::now().date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn presets_count_back_from_today() {
        let today = date(2026, 12, 2);
        let p = |name| preset(name, today).map(|d| (d.from.to_string(), d.to.to_string()));
        let d = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        assert_eq!(p("today"), d("2026-12-02", "2026-12-02"));
        assert_eq!(p("yesterday"), d("2026-12-01", "2026-12-01"));
        assert_eq!(p("7d"), d("2026-11-26", "2026-12-02"));
        assert_eq!(p("30d"), d("2026-11-03", "2026-12-02"));
        assert_eq!(p("90d"), d("2026-09-04", "2026-12-02"));
        assert_eq!(p("this-month"), d("2026-12-01", "2026-12-02"));
        assert_eq!(p("last-month"), d("2026-11-01", "2026-11-30"));
        assert_eq!(p("this-quarter"), d("2026-10-01", "2026-12-02"));
        assert_eq!(p("last-quarter"), d("2026-07-01", "2026-09-30"));
        assert_eq!(p("fortnight"), None);
        let jan = preset("last-quarter", date(2027, 1, 15)).unwrap();
        assert_eq!((jan.from, jan.to), (date(2026, 10, 1), date(2026, 12, 31)));
    }

    #[test]
    fn custom_dates_are_checked() {
        let today = date(2026, 12, 2);
        let (name, d) = chosen(None, Some("2026-11-23"), Some("2026-11-29"), today).unwrap();
        assert_eq!(name, "custom");
        assert_eq!(d.days().count(), 7);
        assert!(
            chosen(
                Some("custom"),
                Some("2026-11-30"),
                Some("2026-11-29"),
                today
            )
            .is_err()
        );
        assert!(
            chosen(
                Some("custom"),
                Some("2025-01-01"),
                Some("2026-11-29"),
                today
            )
            .is_err()
        );
        assert!(chosen(Some("custom"), Some("yesterday"), Some("2026-11-29"), today).is_err());
        assert!(chosen(Some("week"), None, None, today).is_err());
        assert_eq!(chosen(None, None, None, today).unwrap().0, "7d");
    }
}
