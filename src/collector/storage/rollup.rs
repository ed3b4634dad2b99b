//! How a report is read from the rollups, whichever the backend: the smallest table that
//! holds what it asks for ([`RollupTable`]), the columns its groups are keyed, sorted and
//! paged by ([`Layout`]), and a period's whole months with the days around them
//! ([`Months`]).

use std::collections::BTreeMap;

use jiff::civil::Date;

use super::{AnswerFilter, CountQuery, GroupCounts, Grouping, TimeSplit};

/// The rollup table a report reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollupTable {
    /// `answer_counts`: devices, hours and reasons; within a day, one place's rows lie
    /// together.
    Fine,
    /// `day_counts`: per touchpoint and day.
    TouchpointDays,
    /// `site_day_counts`: per site and day.
    SiteDays,
}

impl RollupTable {
    /// The smallest table that holds what `q` asks for and reads few rows for it.
    pub fn for_query(q: &CountQuery) -> RollupTable {
        let f = &q.filter;
        let hours = matches!(q.time, TimeSplit::DateHour | TimeSplit::Hour);
        if hours || q.group == Grouping::Device || f.device.is_some() {
            RollupTable::Fine
        } else if f.site.is_some() {
            // A site's or a touchpoint's days, through the index by place.
            RollupTable::TouchpointDays
        } else if f.touchpoint.is_none() && q.group != Grouping::Touchpoint {
            RollupTable::SiteDays
        } else {
            RollupTable::TouchpointDays
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RollupTable::Fine => "answer_counts",
            RollupTable::TouchpointDays => "day_counts",
            RollupTable::SiteDays => "site_day_counts",
        }
    }
}

/// A value a page starts after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bound {
    Text(String),
    /// A local hour.
    Hour(i16),
    /// A question version.
    Version(i32),
}

/// Which columns a report's groups show and are keyed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub site: bool,
    pub touchpoint: bool,
    pub device: bool,
    pub date: bool,
    pub hour: bool,
    /// The group's key in the order groups are sorted and paged: time, question, place.
    pub key: Vec<&'static str>,
}

impl Layout {
    pub fn of(q: &CountQuery) -> Layout {
        let date = matches!(q.time, TimeSplit::Date | TimeSplit::DateHour);
        let hour = matches!(q.time, TimeSplit::DateHour | TimeSplit::Hour);
        let (site, touchpoint, device) = match q.group {
            Grouping::Site => (true, false, false),
            Grouping::Touchpoint => (true, true, false),
            Grouping::Device => (true, true, true),
            Grouping::Question => (false, false, false),
        };
        let key = [(date, "local_date"), (hour, "local_hour")]
            .into_iter()
            .filter_map(|(on, column)| on.then_some(column))
            .chain(["question_id", "question_version", "scale", "direction"])
            .chain(
                [
                    (site, "site"),
                    (touchpoint, "touchpoint"),
                    (device, "device_id"),
                ]
                .into_iter()
                .filter_map(|(on, column)| on.then_some(column)),
            )
            .collect();
        Layout {
            site,
            touchpoint,
            device,
            date,
            hour,
            key,
        }
    }

    /// `column` when the layout shows it, else `NULL`.
    pub fn shown(on: bool, column: &'static str) -> &'static str {
        if on { column } else { "NULL" }
    }

    /// The values of the key (in [`Layout::key`] order) that the page after `q`'s
    /// `after` starts beyond; `None` for the first page or no paging.
    pub fn after(&self, q: &CountQuery) -> Option<Vec<Bound>> {
        let after = q.page.as_ref()?.after.as_ref()?;
        let text = |v: &Option<String>| Bound::Text(v.clone().unwrap_or_default());
        let mut bound = Vec::new();
        if self.date {
            bound.push(text(&after.date));
        }
        if self.hour {
            bound.push(Bound::Hour(after.hour.map_or(0, i16::from)));
        }
        bound.extend([
            Bound::Text(after.question_id.clone()),
            Bound::Version(i32::try_from(after.question_version).unwrap_or(i32::MAX)),
            Bound::Text(after.scale.as_str().to_owned()),
            Bound::Text(after.direction.as_str().to_owned()),
        ]);
        for (on, v) in [
            (self.site, &after.site),
            (self.touchpoint, &after.touchpoint),
            (self.device, &after.device),
        ] {
            if on {
                bound.push(text(v));
            }
        }
        Some(bound)
    }
}

/// The order of report groups: time, question, place (text byte by byte).
#[allow(clippy::type_complexity)]
pub fn order(
    g: &GroupCounts,
) -> (
    (&Option<String>, Option<u8>, Option<u8>),
    (&str, u32, &str),
    &str,
    (&Option<String>, &Option<String>, &Option<String>),
) {
    (
        (&g.date, g.hour, g.weekday),
        (&g.question_id, g.question_version, g.scale.as_str()),
        g.direction.as_str(),
        (&g.site, &g.touchpoint, &g.device),
    )
}

/// Adds up groups with the same time, question and place; in the order of [`order`].
pub fn merged(groups: Vec<GroupCounts>) -> Vec<GroupCounts> {
    let mut sums: BTreeMap<_, GroupCounts> = BTreeMap::new();
    for g in groups {
        let key = (
            (g.date.clone(), g.hour, g.weekday),
            (g.question_id.clone(), g.question_version, g.scale.as_str()),
            g.direction.as_str(),
            (g.site.clone(), g.touchpoint.clone(), g.device.clone()),
        );
        match sums.get_mut(&key) {
            Some(sum) => {
                for (total, n) in sum.counts.iter_mut().zip(&g.counts) {
                    *total += n;
                }
                sum.suppressed += g.suppressed;
            }
            None => {
                sums.insert(key, g);
            }
        }
    }
    sums.into_values().collect()
}

/// How a differing `answer_counts` row is named: its key columns (local date, site,
/// touchpoint, device, question id, version, scale, direction, hour, score, suppressed,
/// reason) as text, `suppressed` read as a flag.
pub fn fine_key(k: &[String]) -> String {
    let part = |i: usize| k.get(i).map_or("", String::as_str);
    let suppressed = matches!(part(10), "1" | "true");
    format!(
        "{} {:0>2}h site {} touchpoint {} device {} question {} v{} {} score {}{}{}",
        part(0),
        part(8),
        part(1),
        part(2),
        part(3),
        part(4),
        part(5),
        part(6),
        part(9),
        if suppressed { " suppressed" } else { "" },
        match part(11) {
            "" => String::new(),
            r => format!(" reason {r}"),
        },
    )
}

/// Whether `q` asks about one site or place as a whole (not per device).
fn one_place(q: &CountQuery) -> bool {
    let f = &q.filter;
    f.site.is_some() && f.device.is_none() && q.group != Grouping::Device
}

/// The whole months of a period, read from a monthly table, and the days before and after
/// them, read from a daily one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Months {
    /// First and last whole month (`YYYY-MM`), or `None` for the first or last stored.
    pub first: Option<String>,
    pub last: Option<String>,
    /// The days outside them, as (from, to).
    pub days: Vec<(String, String)>,
}

impl Months {
    /// The split for a report of one site's or place's hours of the day spanning at least
    /// one whole month; `None` for any other report.
    pub fn of(q: &CountQuery) -> Option<Months> {
        if q.time != TimeSplit::Hour || !one_place(q) || q.page.is_some() {
            return None;
        }
        Months::within(&q.filter)
    }

    /// The split for one site's or place's weekday × hour heatmap over at least one whole
    /// month, both ends given; `None` for any other.
    pub fn of_heatmap(q: &CountQuery) -> Option<Months> {
        Months::within(&q.filter).filter(|m| one_place(q) && m.first.is_some() && m.last.is_some())
    }

    /// `q` for each stretch of days before and after the whole months.
    pub fn edges<'a>(&'a self, q: &'a CountQuery) -> impl Iterator<Item = CountQuery> + 'a {
        self.days.iter().map(move |(from, to)| CountQuery {
            filter: AnswerFilter {
                from: Some(from.clone()),
                to: Some(to.clone()),
                ..q.filter.clone()
            },
            ..q.clone()
        })
    }

    /// The whole months between the filter's dates (open ends reach the first or last
    /// stored), and the days before and after them; `None` without a whole month.
    pub fn within(f: &AnswerFilter) -> Option<Months> {
        let date = |d: &Option<String>| -> Option<Option<Date>> {
            match d {
                None => Some(None),
                Some(d) => d.parse().ok().map(Some),
            }
        };
        let (from, to) = (date(&f.from)?, date(&f.to)?);
        let first = match from {
            Some(d) if d.day() == 1 => Some(d),
            Some(d) => Some(d.last_of_month().tomorrow().ok()?),
            None => None,
        };
        let last = match to {
            Some(d) if d == d.last_of_month() => Some(d),
            Some(d) => Some(d.first_of_month().yesterday().ok()?),
            None => None,
        };
        if let (Some(a), Some(b)) = (first, last)
            && a > b
        {
            return None; // no whole month inside
        }
        let mut days = Vec::new();
        if let (Some(from), Some(first)) = (from, first)
            && from < first
        {
            days.push((from.to_string(), first.yesterday().ok()?.to_string()));
        }
        if let (Some(to), Some(last)) = (to, last)
            && last < to
        {
            days.push((last.tomorrow().ok()?.to_string(), to.to_string()));
        }
        let month = |d: Date| d.strftime("%Y-%m").to_string();
        Some(Months {
            first: first.map(month),
            last: last.map(month),
            days,
        })
    }
}
