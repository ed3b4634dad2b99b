//! A site's time zone and weekly opening hours: whether it is open at an instant, and how
//! much of a stretch of time it was open (pure).
//!
//! Written and printed as `always`, or as weekdays with times, e.g.
//! `mon-fri 08:00-18:00, sat 09:00-12:30`. A day may have several ranges; a range ends at
//! `24:00` at the latest (one past midnight is written as two ranges on two days).

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

/// A site's time zone and opening hours.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteHours {
    pub site: String,
    /// The IANA name as given (`Europe/Amsterdam`).
    pub time_zone: String,
    pub hours: OpeningHours,
    /// How often the site's summary e-mail goes out.
    pub summary: super::summary::Every,
    /// The last local date a sent summary covered.
    pub summary_through: Option<String>,
}

/// Opening hours per ISO weekday: `ranges[0]` is Monday's, in minutes of the day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpeningHours {
    /// `None`: open at all times.
    ranges: Option<[Vec<(u16, u16)>; 7]>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The longest stretch [`OpeningHours::open_ms`] looks back over.
const LOOK_BACK_DAYS: i64 = 62;

impl OpeningHours {
    /// Open at all times.
    pub fn always() -> OpeningHours {
        OpeningHours { ranges: None }
    }

    /// Reads `always` or `mon-fri 08:00-18:00, sat 09:00-12:30`.
    pub fn parse(text: &str) -> Result<OpeningHours, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("always") {
            return Ok(OpeningHours::always());
        }
        let mut ranges: [Vec<(u16, u16)>; 7] = Default::default();
        for part in text.split([',', ';']).map(str::trim) {
            let (days, times) = part.split_once(' ').ok_or_else(|| {
                format!("{part:?} is not days and times, e.g. \"mon-fri 08:00-18:00\"")
            })?;
            let days = day_range(days.trim())?;
            let (start, end) = times
                .trim()
                .split_once('-')
                .ok_or_else(|| format!("{times:?} is not a time range, e.g. 08:00-18:00"))?;
            let (start, end) = (minute(start.trim())?, minute(end.trim())?);
            if start >= end {
                return Err(format!(
                    "{part:?}: a range must end after it starts, on the same day (write a \
                     night as two ranges, e.g. \"fri 22:00-24:00, sat 00:00-02:00\")"
                ));
            }
            for day in days {
                ranges[day].push((start, end));
            }
        }
        for day in &mut ranges {
            day.sort_unstable();
            if day.windows(2).any(|w| w[1].0 < w[0].1) {
                return Err(format!("{text:?}: ranges of one day overlap"));
            }
        }
        Ok(OpeningHours {
            ranges: Some(ranges),
        })
    }

    /// When the site closes on local date `day` (its last range's end), or `None` when it
    /// does not open that day. A site open at all times closes at midnight.
    pub fn closing(&self, tz: &TimeZone, day: Date) -> Option<Timestamp> {
        match &self.ranges {
            None => instant(tz, day, 24 * 60),
            Some(ranges) => {
                let end = ranges[day_index(day.weekday())].iter().map(|r| r.1).max()?;
                instant(tz, day, end)
            }
        }
    }

    /// Whether the site is open at `at` (local time in `tz`).
    pub fn is_open(&self, tz: &TimeZone, at: Timestamp) -> bool {
        let Some(ranges) = &self.ranges else {
            return true;
        };
        let local = at.to_zoned_datetime(tz.clone());
        let minute =
            u16::from(local.hour().unsigned_abs()) * 60 + u16::from(local.minute().unsigned_abs());
        ranges[day_index(local.weekday())]
            .iter()
            .any(|&(s, e)| s <= minute && minute < e)
    }

    /// How many milliseconds of `from` … `to` the site was open (at most the last
    /// `LOOK_BACK_DAYS` days of it).
    pub fn open_ms(&self, tz: &TimeZone, from: Timestamp, to: Timestamp) -> i64 {
        let look_back = to.as_millisecond() - LOOK_BACK_DAYS * 86_400_000;
        let from = from.max(Timestamp::from_millisecond(look_back).unwrap_or(from));
        let span_ms = to.as_millisecond() - from.as_millisecond();
        let Some(ranges) = &self.ranges else {
            return span_ms.max(0);
        };
        if span_ms <= 0 {
            return 0;
        }
        let mut open = 0;
        let mut day = from.to_zoned_datetime(tz.clone()).date();
        let last = to.to_zoned_datetime(tz.clone()).date();
        while day <= last {
            for &(s, e) in &ranges[day_index(day.weekday())] {
                let (Some(a), Some(b)) = (instant(tz, day, s), instant(tz, day, e)) else {
                    continue;
                };
                let (a, b) = (a.max(from), b.min(to));
                if a < b {
                    open += b.as_millisecond() - a.as_millisecond();
                }
            }
            day = match day.tomorrow() {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        open
    }
}

impl std::fmt::Display for OpeningHours {
    /// The canonical text: `always`, or each day's ranges with runs of days alike joined.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(ranges) = &self.ranges else {
            return f.write_str("always");
        };
        let mut parts = Vec::new();
        let mut day = 0;
        while day < 7 {
            let mut last = day;
            while last + 1 < 7 && ranges[last + 1] == ranges[day] {
                last += 1;
            }
            let days = if last == day {
                DAYS[day].to_owned()
            } else {
                format!("{}-{}", DAYS[day], DAYS[last])
            };
            for &(s, e) in &ranges[day] {
                parts.push(format!("{days} {}-{}", clock(s), clock(e)));
            }
            day = last + 1;
        }
        if parts.is_empty() {
            return f.write_str("never");
        }
        f.write_str(&parts.join(", "))
    }
}

/// Checks an IANA time zone name.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| {
        format!("{name:?} is not a known time zone (an IANA name such as Europe/Amsterdam)")
    })
}

fn day_index(w: Weekday) -> usize {
    usize::from(w.to_monday_zero_offset().unsigned_abs())
}

fn day_range(text: &str) -> Result<std::ops::RangeInclusive<usize>, String> {
    let day = |d: &str| {
        DAYS.iter()
            .position(|n| n.eq_ignore_ascii_case(d))
            .ok_or_else(|| format!("{d:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"))
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (day(a)?, day(b)?);
            if a > b {
                return Err(format!("{text:?}: days run from mon to sun"));
            }
            Ok(a..=b)
        }
        None => {
            let d = day(text)?;
            Ok(d..=d)
        }
    }
}

fn minute(text: &str) -> Result<u16, String> {
    let bad = || format!("{text:?} is not a time of day (HH:MM, 00:00 to 24:00)");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The instant of a local date and minute of the day (24:00 is the next day's start).
fn instant(tz: &TimeZone, day: Date, minute: u16) -> Option<Timestamp> {
    let (day, minute) = if minute >= 24 * 60 {
        (day.tomorrow().ok()?, 0)
    } else {
        (day, minute)
    };
    let hour = i8::try_from(minute / 60).ok()?;
    let min = i8::try_from(minute % 60).ok()?;
    day.at(hour, min, 0, 0)
        .to_zoned_datetime(tz.clone())
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn hours_are_read_and_printed_canonically() {
        let h = OpeningHours::parse("Mon-Fri 08:00-18:00; sat 09:00-12:30").unwrap();
        assert_eq!(h.to_string(), "mon-fri 08:00-18:00, sat 09:00-12:30");
        assert_eq!(OpeningHours::parse(&h.to_string()).unwrap(), h);
        assert_eq!(OpeningHours::parse("always").unwrap().to_string(), "always");
        let split = OpeningHours::parse("mon 08:00-12:00, mon 13:00-17:00").unwrap();
        assert_eq!(split.to_string(), "mon 08:00-12:00, mon 13:00-17:00");
        assert_eq!(
            OpeningHours::parse("fri 22:00-24:00").unwrap().to_string(),
            "fri 22:00-24:00"
        );
    }

    #[test]
    fn bad_hours_are_refused_with_the_reason() {
        for (bad, says) in [
            ("", "days and times"),
            ("mon", "is not days and times"),
            ("mon 08:00", "not a time range"),
            ("mon 8-18", "not a time of day"),
            ("funday 08:00-18:00", "is not a day"),
            ("fri-mon 08:00-18:00", "run from mon to sun"),
            ("mon 18:00-08:00", "must end after it starts"),
            ("mon 08:00-24:30", "not a time of day"),
            ("mon 8:00-18:00", "not a time of day"),
            ("mon 08:00-12:00, mon 11:00-13:00", "overlap"),
        ] {
            let e = OpeningHours::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
        assert!(
            time_zone("Mars/Olympus")
                .unwrap_err()
                .contains("not a known time zone")
        );
    }

    #[test]
    fn open_follows_the_local_clock_and_summer_time() {
        let tz = time_zone("Europe/Amsterdam").unwrap();
        let h = OpeningHours::parse("mon-fri 08:00-18:00").unwrap();
        // Winter: UTC+1. Monday 2026-01-05 07:30 UTC is 08:30 local.
        assert!(h.is_open(&tz, at("2026-01-05T07:30:00Z")));
        assert!(!h.is_open(&tz, at("2026-01-05T06:30:00Z")));
        assert!(!h.is_open(&tz, at("2026-01-05T17:00:00Z")));
        // Summer: UTC+2. 06:30 UTC is 08:30 local.
        assert!(h.is_open(&tz, at("2026-07-06T06:30:00Z")));
        // Saturday.
        assert!(!h.is_open(&tz, at("2026-01-10T12:00:00Z")));
        assert!(OpeningHours::always().is_open(&tz, at("2026-01-10T03:00:00Z")));
    }

    #[test]
    fn open_time_counts_only_opening_hours() {
        let tz = time_zone("Europe/Amsterdam").unwrap();
        let h = OpeningHours::parse("mon-fri 08:00-18:00").unwrap();
        let hour = 3_600_000;
        // Friday 17:00 local to Monday 09:00 local: one hour on Friday, one on Monday.
        let open = h.open_ms(&tz, at("2026-01-09T16:00:00Z"), at("2026-01-12T08:00:00Z"));
        assert_eq!(open, 2 * hour);
        // Within one day.
        let open = h.open_ms(&tz, at("2026-01-05T09:00:00Z"), at("2026-01-05T10:30:00Z"));
        assert_eq!(open, 3 * hour / 2);
        let always = OpeningHours::always();
        let open = always.open_ms(&tz, at("2026-01-05T09:00:00Z"), at("2026-01-05T10:00:00Z"));
        assert_eq!(open, hour);
        assert_eq!(
            h.open_ms(&tz, at("2026-01-05T10:00:00Z"), at("2026-01-05T09:00:00Z")),
            0
        );
    }
}
