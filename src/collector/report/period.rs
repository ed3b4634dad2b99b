//! Time in reports: the buckets a report splits its period into (day, hour, ISO week, month,
//! hour of day, weekday or the whole period; weeks start on Monday) and the previous equal
//! period its figures are compared with.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Deserialize;

use crate::collector::storage::TimeSplit;
use crate::wire::ReportGroup;

/// How a report splits time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum By {
    #[default]
    Day,
    Hour,
    Week,
    Month,
    #[value(name = "hour_of_day", alias = "hour-of-day")]
    HourOfDay,
    Weekday,
    Period,
}

impl By {
    /// How finely storage must split the counts for these buckets.
    pub fn split(self) -> TimeSplit {
        match self {
            By::Day | By::Week | By::Month | By::Weekday => TimeSplit::Date,
            By::Hour => TimeSplit::DateHour,
            By::HourOfDay => TimeSplit::Hour,
            By::Period => TimeSplit::None,
        }
    }
}

/// One bucket of time. Dates are ISO strings, so that they sort as they follow each other.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bucket {
    Day(String),
    Hour(String, u8),
    /// The week's Monday.
    Week(String),
    /// The month's first day.
    Month(String),
    HourOfDay(u8),
    /// ISO weekday: 1 Monday … 7 Sunday.
    Weekday(u8),
    Period,
}

impl Bucket {
    /// The bucket of counts that storage split by `by.split()`; `None` when the split is
    /// missing a time the bucket needs or holds a date that is not one.
    pub fn of(by: By, date: Option<&str>, hour: Option<u8>) -> Option<Bucket> {
        let day = || date.and_then(|d| d.parse::<Date>().ok());
        Some(match by {
            By::Day => Bucket::Day(day()?.to_string()),
            By::Hour => Bucket::Hour(day()?.to_string(), hour?),
            By::Week => Bucket::Week(monday(day()?)?.to_string()),
            By::Month => Bucket::Month(day()?.first_of_month().to_string()),
            By::HourOfDay => Bucket::HourOfDay(hour?),
            By::Weekday => Bucket::Weekday(weekday(day()?)),
            By::Period => Bucket::Period,
        })
    }

    /// Reads a bucket back from [`Bucket::label`] for a report by `by`.
    pub fn parse(by: By, label: &str) -> Option<Bucket> {
        match by {
            By::Hour => {
                let (date, hour) = label.split_once('T')?;
                let hour: u8 = hour.parse().ok().filter(|h| *h < 24)?;
                Bucket::of(by, Some(date), Some(hour))
            }
            By::HourOfDay => Some(Bucket::HourOfDay(label.parse().ok().filter(|h| *h < 24)?)),
            By::Weekday => Some(Bucket::Weekday(
                label.parse().ok().filter(|d| (1..=7).contains(d))?,
            )),
            By::Period => (label == "all").then_some(Bucket::Period),
            By::Day | By::Week | By::Month => {
                let bucket = Bucket::of(by, Some(label), None)?;
                (bucket.label() == label).then_some(bucket)
            }
        }
    }

    /// The bucket as one short text: `2026-11-24`, `2026-11-24T09`, a week's Monday, a
    /// month's first day, `9` (hour of day), `1` (Monday) or `all`.
    pub fn label(&self) -> String {
        match self {
            Bucket::Day(d) | Bucket::Week(d) | Bucket::Month(d) => d.clone(),
            Bucket::Hour(d, h) => format!("{d}T{h:02}"),
            Bucket::HourOfDay(h) | Bucket::Weekday(h) => h.to_string(),
            Bucket::Period => "all".to_owned(),
        }
    }

    /// The bucket's first day, when it is a span of days.
    pub fn first_day(&self) -> Option<Date> {
        match self {
            Bucket::Day(d) | Bucket::Hour(d, _) | Bucket::Week(d) | Bucket::Month(d) => {
                d.parse().ok()
            }
            Bucket::HourOfDay(_) | Bucket::Weekday(_) | Bucket::Period => None,
        }
    }

    /// Writes the bucket into a report group's time fields.
    pub fn fill(&self, g: &mut ReportGroup) {
        match self {
            Bucket::Day(d) => g.date = Some(d.clone()),
            Bucket::Hour(d, h) => (g.date, g.hour) = (Some(d.clone()), Some(*h)),
            Bucket::Week(d) => {
                g.week = d.parse::<Date>().ok().map(|d| {
                    let w = d.iso_week_date();
                    format!("{:04}-W{:02}", w.year(), w.week())
                });
                g.date = Some(d.clone());
            }
            Bucket::Month(d) => {
                g.month = Some(d.get(..7).unwrap_or(d).to_owned());
                g.date = Some(d.clone());
            }
            Bucket::HourOfDay(h) => g.hour = Some(*h),
            Bucket::Weekday(d) => g.weekday = Some(*d),
            Bucket::Period => {}
        }
    }
}

fn monday(d: Date) -> Option<Date> {
    d.checked_sub(i64::from(d.weekday().to_monday_zero_offset()).days())
        .ok()
}

fn weekday(d: Date) -> u8 {
    d.weekday().to_monday_one_offset().unsigned_abs()
}

/// A report's dates, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

/// How far back the previous equal period lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Days(i64),
    Months(i64),
}

impl Period {
    /// Whole calendar months step back by months (November against October, a quarter
    /// against the quarter before); any other period by its number of days.
    fn step(&self) -> Step {
        if self.from.day() == 1 && self.to == self.to.last_of_month() {
            let months = |d: Date| i64::from(d.year()) * 12 + i64::from(d.month());
            Step::Months(months(self.to) - months(self.from) + 1)
        } else {
            let days = self
                .from
                .until(self.to)
                .map_or(0, |span| i64::from(span.get_days()));
            Step::Days(days + 1)
        }
    }

    /// The equal period just before this one.
    pub fn previous(&self) -> Option<Period> {
        let to = self.from.yesterday().ok()?;
        let from = match self.step() {
            Step::Days(days) => self.from.checked_sub(days.days()).ok()?,
            Step::Months(months) => self.from.checked_sub(months.months()).ok()?,
        };
        Some(Period { from, to })
    }

    /// The same bucket one period earlier. A day that has no counterpart (31 March one
    /// month back) has none; weeks and months take the one their first day falls in.
    pub fn back(&self, bucket: &Bucket) -> Option<Bucket> {
        let exact = |d: &str| -> Option<String> {
            let d: Date = d.parse().ok()?;
            let back = self.shift(d)?;
            let again = match self.step() {
                Step::Days(_) => d,
                Step::Months(m) => back.checked_add(m.months()).ok()?,
            };
            (again == d).then(|| back.to_string())
        };
        let loose = |d: &str| d.parse().ok().and_then(|d| self.shift(d));
        Some(match bucket {
            Bucket::Day(d) => Bucket::Day(exact(d)?),
            Bucket::Hour(d, h) => Bucket::Hour(exact(d)?, *h),
            Bucket::Week(d) => Bucket::Week(monday(loose(d)?)?.to_string()),
            Bucket::Month(d) => Bucket::Month(loose(d)?.first_of_month().to_string()),
            other => other.clone(),
        })
    }

    fn shift(&self, d: Date) -> Option<Date> {
        match self.step() {
            Step::Days(days) => d.checked_sub(days.days()).ok(),
            Step::Months(months) => d.checked_sub(months.months()).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(from: &str, to: &str) -> Period {
        Period {
            from: from.parse().unwrap(),
            to: to.parse().unwrap(),
        }
    }

    fn previous(from: &str, to: &str) -> (String, String) {
        let p = period(from, to).previous().unwrap();
        (p.from.to_string(), p.to.to_string())
    }

    #[test]
    fn the_previous_period_is_as_long_and_just_before() {
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        // 7 days: the 7 days before.
        assert_eq!(
            previous("2026-11-24", "2026-11-30"),
            pair("2026-11-17", "2026-11-23")
        );
        // One day: the day before.
        assert_eq!(
            previous("2026-03-01", "2026-03-01"),
            pair("2026-02-28", "2026-02-28")
        );
        // A whole month: the month before, however long.
        assert_eq!(
            previous("2026-03-01", "2026-03-31"),
            pair("2026-02-01", "2026-02-28")
        );
        // A quarter: the quarter before.
        assert_eq!(
            previous("2026-10-01", "2026-12-31"),
            pair("2026-07-01", "2026-09-30")
        );
        // Not whole months: by days (30 days).
        assert_eq!(
            previous("2026-03-02", "2026-03-31"),
            pair("2026-01-31", "2026-03-01")
        );
    }

    #[test]
    fn buckets_go_back_one_period() {
        let march = period("2026-03-01", "2026-03-31");
        let day = |d: &str| Bucket::Day(d.to_owned());
        assert_eq!(march.back(&day("2026-03-15")), Some(day("2026-02-15")));
        assert_eq!(march.back(&day("2026-03-31")), None, "no 31 February");
        let week = period("2026-11-23", "2026-11-29");
        assert_eq!(
            week.back(&Bucket::Hour("2026-11-24".into(), 9)),
            Some(Bucket::Hour("2026-11-17".into(), 9))
        );
        assert_eq!(
            week.back(&Bucket::Weekday(2)),
            Some(Bucket::Weekday(2)),
            "weekdays, hours of day and the period compare with themselves"
        );
        let quarter = period("2026-10-01", "2026-12-31");
        assert_eq!(
            quarter.back(&Bucket::Month("2026-11-01".into())),
            Some(Bucket::Month("2026-08-01".into()))
        );
    }

    #[test]
    fn weeks_start_on_monday_and_carry_their_iso_number() {
        // 2026-01-01 is a Thursday: its ISO week is 2026-W01, whose Monday is 2025-12-29.
        let b = Bucket::of(By::Week, Some("2026-01-01"), None).unwrap();
        assert_eq!(b, Bucket::Week("2025-12-29".into()));
        assert_eq!(
            Bucket::of(By::Weekday, Some("2026-11-29"), None),
            Some(Bucket::Weekday(7))
        );
        assert_eq!(
            Bucket::of(By::Month, Some("2026-11-29"), None),
            Some(Bucket::Month("2026-11-01".into()))
        );
        for by in [
            By::Day,
            By::Hour,
            By::Week,
            By::Month,
            By::HourOfDay,
            By::Weekday,
            By::Period,
        ] {
            let b = Bucket::of(by, Some("2026-11-25"), Some(7)).unwrap();
            assert_eq!(Bucket::parse(by, &b.label()), Some(b), "{by:?}");
        }
        assert_eq!(Bucket::parse(By::Week, "2026-11-25"), None, "not a Monday");
    }
}
