//! Reports over whole months, read from the monthly rollups with the days around them from
//! the daily ones, against the same figures counted day by day or device by device: answers
//! per place, the heatmap's weekdays and hours, and a place's follow-up reasons.

mod common;

use ces_kiosk::wire::ReportGroup;
use common::dataset::data_set;
use common::report::{find, label, report};

/// A period over whole months is read from the monthly rollup and the days around them from
/// the daily ones; per device it is read from the finest rollup. Both count the same.
#[tokio::test]
async fn whole_months_and_the_days_around_them_count_as_the_days_do() {
    let (c, admin) = data_set().await;
    for (from, to) in [
        ("2026-10-01", "2026-11-30"),
        ("2026-10-10", "2026-11-30"),
        ("2026-10-16", "2026-11-30"),
        ("2026-10-01", "2026-11-29"),
        ("2026-09-20", "2026-12-05"),
        ("2026-11-01", "2026-11-30"),
    ] {
        let dates = format!("from={from}&to={to}&by=period");
        for group in ["touchpoint", "site", "question"] {
            let r = report(&c, &admin, &format!("{dates}&group={group}")).await;
            let by_device = report(&c, &admin, &format!("{dates}&group=device")).await;
            for g in &r.groups {
                let same_place = |d: &ReportGroup| {
                    d.question_id == g.question_id
                        && g.site.as_ref().is_none_or(|s| d.site.as_ref() == Some(s))
                        && g.touchpoint
                            .as_ref()
                            .is_none_or(|t| d.touchpoint.as_ref() == Some(t))
                };
                let mut sum = vec![0u64; g.figures.distribution.len()];
                for d in by_device.groups.iter().filter(|d| same_place(d)) {
                    for (s, n) in sum.iter_mut().zip(&d.figures.distribution) {
                        *s += n;
                    }
                }
                assert_eq!(
                    g.figures.distribution,
                    sum,
                    "{dates}&group={group}: {}",
                    label(g)
                );
            }
        }
    }
    // From 1 October or from 10 October: the same 13 answers at north/returns (the one of
    // 15 October included); from 16 October: 12.
    let n = |from: &'static str| {
        let (c, admin) = (&c, &admin);
        async move {
            let r = report(c, admin, &format!("from={from}&to=2026-11-30&by=period")).await;
            find(&r, "north returns returns-ease").figures.n
        }
    };
    assert_eq!(n("2026-10-01").await, 13);
    assert_eq!(n("2026-10-10").await, 13);
    assert_eq!(n("2026-10-16").await, 12);
}

/// The heatmap's counts per weekday and hour: over whole months from the monthly rollup, the
/// days around them per date; both equal the counts per date and hour folded by weekday.
#[tokio::test]
async fn weekday_and_hour_over_whole_months_count_as_the_days_do() {
    use ces_kiosk::collector::storage::{
        AnswerFilter, CountQuery, GroupCounts, Grouping, TimeSplit,
    };
    use std::collections::BTreeMap;
    let (c, _admin) = data_set().await;
    let read = |filter: AnswerFilter, time| {
        let storage = c.storage.clone();
        c.on(async move {
            let q = CountQuery {
                filter,
                group: Grouping::Question,
                time,
                page: None,
            };
            storage.report_counts(q).await.unwrap()
        })
    };
    for (from, to, site) in [
        ("2026-10-01", "2026-11-30", "north"),
        ("2026-10-10", "2026-11-30", "north"),
        ("2026-11-23", "2026-11-29", "north"),
        ("2026-10-01", "2026-11-30", "south"),
    ] {
        let filter = AnswerFilter {
            from: Some(from.into()),
            to: Some(to.into()),
            site: Some(site.into()),
            ..AnswerFilter::default()
        };
        let key = |g: &GroupCounts, weekday: u8| (g.question_id.clone(), weekday, g.hour);
        let mut expected: BTreeMap<_, Vec<u64>> = BTreeMap::new();
        for g in read(filter.clone(), TimeSplit::DateHour) {
            let date: jiff::civil::Date = g.date.as_deref().unwrap().parse().unwrap();
            let weekday = date.weekday().to_monday_one_offset().unsigned_abs();
            let sum = expected.entry(key(&g, weekday)).or_default();
            sum.resize(g.counts.len(), 0);
            for (s, n) in sum.iter_mut().zip(&g.counts) {
                *s += n;
            }
        }
        let got: BTreeMap<_, Vec<u64>> = read(filter, TimeSplit::WeekdayHour)
            .into_iter()
            .map(|g| (key(&g, g.weekday.unwrap()), g.counts))
            .collect();
        assert_eq!(got, expected, "{from} to {to} at {site}");
        assert!(!got.is_empty());
    }
}

/// A place's follow-up reasons: over whole months from the monthly rollup, the days around
/// them day by day; by hand from the data set (reasons only in November at north/returns:
/// "waiting" on the 23rd and 25th, "staff" on the 25th, "signage" on the 29th).
#[tokio::test]
async fn reasons_over_whole_months_and_the_days_around_them() {
    use ces_kiosk::collector::storage::AnswerFilter;
    let (c, _admin) = data_set().await;
    let reasons = |from: &str, to: &str, site: &str, touchpoint: Option<&str>| {
        let storage = c.storage.clone();
        let filter = AnswerFilter {
            from: Some(from.into()),
            to: Some(to.into()),
            site: Some(site.into()),
            touchpoint: touchpoint.map(Into::into),
            ..AnswerFilter::default()
        };
        c.on(async move { storage.reason_counts(filter).await.unwrap() })
            .into_iter()
            .map(|r| (r.question_id, r.reason, r.n))
            .collect::<Vec<_>>()
    };
    let all = |n_waiting| {
        let mut all = vec![("returns-ease".to_owned(), "waiting".to_owned(), n_waiting)];
        if n_waiting == 2 {
            all.push(("returns-ease".into(), "signage".into(), 1));
            all.push(("returns-ease".into(), "staff".into(), 1));
        }
        all
    };
    // November whole; October and November whole; days of October and November whole;
    // only days (the week); October whole and 1 to 24 November (the 23rd's reason only).
    for (from, to) in [
        ("2026-11-01", "2026-11-30"),
        ("2026-10-01", "2026-11-30"),
        ("2026-10-20", "2026-11-30"),
        ("2026-11-23", "2026-11-29"),
    ] {
        assert_eq!(reasons(from, to, "north", None), all(2), "{from} to {to}");
        let place = reasons(from, to, "north", Some("returns"));
        assert_eq!(place, all(2), "{from} to {to} at north/returns");
    }
    assert_eq!(reasons("2026-10-01", "2026-11-24", "north", None), all(1));
    assert_eq!(reasons("2026-10-01", "2026-11-30", "south", None), []);
    assert_eq!(
        reasons("2026-10-01", "2026-11-30", "north", Some("desk")),
        []
    );
}
