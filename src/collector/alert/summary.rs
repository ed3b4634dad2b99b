//! The summary e-mail of a site: daily or weekly, sent once the site has closed for the
//! day (or for the week), with the period's figures per question and touchpoint against
//! the previous equal period, and the hours when visitors found it hardest.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use super::hours::{SiteHours, time_zone};
use crate::collector::report::{self, By, Period, Request};
use crate::collector::storage::{AnswerFilter, Grouping, Storage, StorageError};
use crate::wire::{Figures, Report};

/// How often a site's summary goes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    #[default]
    Never,
    Daily,
    Weekly,
}

impl Every {
    pub fn as_str(self) -> &'static str {
        match self {
            Every::Never => "never",
            Every::Daily => "daily",
            Every::Weekly => "weekly",
        }
    }

    pub fn from_name(name: &str) -> Option<Every> {
        [Every::Never, Every::Daily, Every::Weekly]
            .into_iter()
            .find(|e| e.as_str() == name)
    }
}

/// The period a site's summary is due for at `now`, if one is: the latest day (or ISO
/// week) the site has closed for and no summary has covered yet.
pub fn due(site: &SiteHours, tz: &TimeZone, now: Timestamp) -> Option<Period> {
    let today = now.to_zoned_datetime(tz.clone()).date();
    let through: Option<Date> = site.summary_through.as_deref().and_then(|d| d.parse().ok());
    let closed = |day: Date| site.hours.closing(tz, day).is_some_and(|at| at <= now);
    let period = match site.summary {
        Every::Never => return None,
        Every::Daily => {
            let day = if closed(today) {
                today
            } else {
                today.yesterday().ok()?
            };
            // A day the site did not open has nothing to sum up.
            site.hours.closing(tz, day)?;
            Period { from: day, to: day }
        }
        Every::Weekly => {
            let monday =
                |d: Date| d.checked_sub(i64::from(d.weekday().to_monday_zero_offset()).days());
            let this_week = monday(today).ok()?;
            let week = |first: Date| Period {
                from: first,
                to: first.checked_add(6.days()).unwrap_or(first),
            };
            let last_closing = |p: Period| {
                (0..7)
                    .filter_map(|i| p.from.checked_add(i.days()).ok())
                    .filter_map(|d| site.hours.closing(tz, d))
                    .max()
            };
            let current = week(this_week);
            if last_closing(current).is_some_and(|at| at <= now)
                && today.weekday() == Weekday::Sunday
            {
                current
            } else {
                let previous = week(this_week.checked_sub(7.days()).ok()?);
                last_closing(previous)?;
                previous
            }
        }
    };
    through.is_none_or(|t| t < period.to).then_some(period)
}

/// Queues the summary of every site whose summary is due at `now` (once per period) for
/// the e-mail channel; returns how many it queued.
pub async fn queue_due(
    storage: &dyn Storage,
    min_n: u64,
    now: Timestamp,
) -> Result<usize, StorageError> {
    let mut queued = 0;
    for site in storage.sites().await? {
        let Ok(tz) = time_zone(&site.time_zone) else {
            continue;
        };
        let Some(period) = due(&site, &tz, now) else {
            continue;
        };
        let filter = AnswerFilter {
            from: Some(period.from.to_string()),
            to: Some(period.to.to_string()),
            site: Some(site.site.clone()),
            ..AnswerFilter::default()
        };
        let request = |by| Request {
            by,
            min_n,
            ..Request::default()
        };
        let places = report::read(
            storage,
            filter.clone(),
            Grouping::Touchpoint,
            request(By::Period),
        );
        let places = places.await?;
        let hours = report::read(storage, filter, Grouping::Question, request(By::HourOfDay));
        let hours = hours.await?;
        let (title, text) = compose(&site.site, site.summary, period, &places, &hours, min_n);
        let through = period.to.to_string();
        let at = now.as_millisecond();
        if storage
            .queue_summary(&site.site, &through, &title, &text, at)
            .await?
        {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The summary's title and text: the period's figures per question (with the previous
/// period) and per touchpoint, and up to three hours of the day with the highest share of
/// difficult answers among those with at least `min_n` answers.
pub fn compose(
    site: &str,
    every: Every,
    period: Period,
    places: &Report,
    hours: &Report,
    min_n: u64,
) -> (String, String) {
    let when = if period.from == period.to {
        format!("{}", period.from.strftime("%A %Y-%m-%d"))
    } else {
        format!("{} to {}", period.from, period.to)
    };
    let kind = match every {
        Every::Weekly => "Weekly",
        _ => "Daily",
    };
    let title = format!("{kind} summary for {site}: {when}");
    let mut text = format!("{title}\n\n");
    if places.totals.is_empty() {
        text.push_str("No answers in this period.\n");
    }
    for total in &places.totals {
        text.push_str(&format!(
            "{} v{} ({}): {}",
            total.question_id,
            total.question_version,
            total.scale.as_str(),
            figures(&total.figures)
        ));
        if let Some(before) = &total.previous {
            text.push_str(&format!(" (the period before: {})", figures(before)));
        }
        text.push('\n');
        for g in places.groups.iter().filter(|g| {
            g.question_id == total.question_id
                && g.question_version == total.question_version
                && g.scale == total.scale
        }) {
            text.push_str(&format!(
                "  {}: {}\n",
                g.touchpoint.as_deref().unwrap_or("-"),
                figures(&g.figures)
            ));
        }
    }
    let mut worst: Vec<_> = hours
        .groups
        .iter()
        .filter(|g| g.figures.n >= min_n.max(1))
        .filter_map(|g| Some((g.figures.pct_difficult?, g)))
        .collect();
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    if !worst.is_empty() {
        text.push_str(&format!(
            "\nHardest hours (% difficult, hours with at least {min_n} answers):\n"
        ));
    }
    for (pct, g) in worst.iter().take(3) {
        let hour = g.hour.unwrap_or(0);
        text.push_str(&format!(
            "  {hour:02}:00-{:02}:00  {pct:.0} % of {} answers ({} v{})\n",
            (hour + 1) % 24,
            g.figures.n,
            g.question_id,
            g.question_version
        ));
    }
    (title, text)
}

fn figures(f: &Figures) -> String {
    let pct = |p: Option<f64>| p.map_or("-".to_owned(), |p| format!("{p:.0} %"));
    let mean = f.mean.map_or("-".to_owned(), |m| format!("{m:.1}"));
    format!(
        "{} answers, mean {mean}, {} easy, {} difficult",
        f.n,
        pct(f.pct_easy),
        pct(f.pct_difficult)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::alert::hours::OpeningHours;

    fn site(hours: &str, every: Every, through: Option<&str>) -> SiteHours {
        SiteHours {
            site: "hq".into(),
            time_zone: "Europe/Amsterdam".into(),
            hours: OpeningHours::parse(hours).unwrap(),
            summary: every,
            summary_through: through.map(str::to_owned),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn day(text: &str) -> Period {
        let d: Date = text.parse().unwrap();
        Period { from: d, to: d }
    }

    #[test]
    fn a_daily_summary_is_due_once_the_site_has_closed() {
        let tz = time_zone("Europe/Amsterdam").unwrap();
        let s = site("mon-fri 08:00-18:00", Every::Daily, Some("2026-12-01"));
        // Wednesday 2 December, 17:59 local: not closed yet; yesterday was sent.
        assert_eq!(due(&s, &tz, at("2026-12-02T16:59:00Z")), None);
        // 18:00 local: today is due.
        assert_eq!(
            due(&s, &tz, at("2026-12-02T17:00:00Z")),
            Some(day("2026-12-02"))
        );
        let sent = site("mon-fri 08:00-18:00", Every::Daily, Some("2026-12-02"));
        assert_eq!(due(&sent, &tz, at("2026-12-02T20:00:00Z")), None);
        // Saturday: closed all day, nothing to sum up.
        let s = site("mon-fri 08:00-18:00", Every::Daily, Some("2026-12-04"));
        assert_eq!(due(&s, &tz, at("2026-12-05T20:00:00Z")), None);
        // Open at all times: yesterday, after midnight.
        let always = site("always", Every::Daily, None);
        assert_eq!(
            due(&always, &tz, at("2026-12-02T10:00:00Z")),
            Some(day("2026-12-01"))
        );
        assert_eq!(
            due(
                &site("always", Every::Never, None),
                &tz,
                at("2026-12-02T10:00:00Z")
            ),
            None
        );
    }

    #[test]
    fn a_weekly_summary_covers_monday_to_sunday_after_the_last_closing() {
        let tz = time_zone("Europe/Amsterdam").unwrap();
        let s = site("mon-sat 09:00-17:00", Every::Weekly, Some("2026-11-29"));
        let week = Period {
            from: "2026-11-30".parse().unwrap(),
            to: "2026-12-06".parse().unwrap(),
        };
        // Saturday 5 December 16:00 UTC is 17:00 local: the week's last closing.
        assert_eq!(due(&s, &tz, at("2026-12-05T15:59:00Z")), None);
        assert_eq!(
            due(&s, &tz, at("2026-12-05T16:00:00Z")),
            None,
            "not before Sunday"
        );
        assert_eq!(due(&s, &tz, at("2026-12-06T10:00:00Z")), Some(week));
        assert_eq!(due(&s, &tz, at("2026-12-08T10:00:00Z")), Some(week));
    }
}
