//! The CES maths of the report, on score counts from storage: n, mean, % easy, % difficult
//! and the distribution per group and time bucket, totals, the previous equal period beside
//! them, the minimum-n rule, and pages with a cursor. Pure, so that every backend reports the
//! same figures.

mod key;
mod period;
mod table;

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;

pub use key::Cursor;
use key::{Key, Question};
pub use period::{Bucket, By, Period};
pub use table::{csv, table};

use crate::collector::storage::{
    AnswerFilter, CountPage, CountQuery, GroupCounts, Grouping, Storage, StorageError, TimeSplit,
};
use crate::survey::Scale;
use crate::wire::{DateRange, Figures, Report, ReportGroup};

/// How a report is cut: its buckets, the minimum-n rule, its period (for the comparison) and
/// which page.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub by: By,
    /// Groups with fewer counted answers are marked too few.
    pub min_n: u64,
    /// The report's dates when both ends are given: then the previous period is compared.
    pub period: Option<Period>,
    /// Start after this group.
    pub after: Option<Cursor>,
    /// At most this many groups; all when `None`.
    pub limit: Option<usize>,
}

/// Counted answers per score (index 0 is score 1) and suppressed taps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Tally {
    scores: Vec<u64>,
    suppressed: u64,
}

impl Tally {
    fn add(&mut self, scores: &[u64], suppressed: u64) {
        if self.scores.len() < scores.len() {
            self.scores.resize(scores.len(), 0);
        }
        for (sum, n) in self.scores.iter_mut().zip(scores) {
            *sum += n;
        }
        self.suppressed += suppressed;
    }
}

/// The score counts a report is built from.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// The period's groups: all of them, or the page and maybe more.
    pub groups: Vec<GroupCounts>,
    /// The same groups of the previous period, when compared (at least those the page
    /// needs).
    pub previous: Option<Vec<GroupCounts>>,
    /// The whole period per question (group `question`, no time split).
    pub totals: Vec<GroupCounts>,
    /// The same for the previous period, when compared.
    pub previous_totals: Option<Vec<GroupCounts>>,
}

/// Reads the counts a report needs from storage and builds it: the period's groups (only the
/// page, for days and hours, whose order storage can page in), the totals, and when both dates
/// are given the previous period's figures for the groups shown.
pub async fn read(
    storage: &dyn Storage,
    filter: AnswerFilter,
    group: Grouping,
    mut req: Request,
) -> Result<Report, StorageError> {
    let date = |d: &Option<String>| d.as_deref().and_then(|d| d.parse().ok());
    req.period = match (date(&filter.from), date(&filter.to)) {
        (Some(from), Some(to)) => Some(Period { from, to }),
        _ => None,
    };
    let time = req.by.split();
    let page = match (req.by, req.limit) {
        (By::Day | By::Hour, Some(limit)) => Some(CountPage {
            after: req.after.as_ref().map(Cursor::group_key),
            groups: limit.saturating_add(1),
        }),
        _ => None,
    };
    let paged = page.is_some();
    let count = |filter: AnswerFilter, group, time, page| CountQuery {
        filter,
        group,
        time,
        page,
    };
    let groups = storage
        .report_counts(count(filter.clone(), group, time, page))
        .await?;
    // Totals add up every group: those read already unless storage gave only a page.
    let totals = if paged {
        let query = count(filter.clone(), Grouping::Question, TimeSplit::None, None);
        storage.report_counts(query).await?
    } else {
        groups.clone()
    };
    let (mut previous, mut previous_totals) = (None, None);
    if let Some((period, before)) = req.period.and_then(|p| Some((p, p.previous()?))) {
        let within = |from: Date, to: Date| AnswerFilter {
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            ..filter.clone()
        };
        // A page needs only the earlier days of its own buckets.
        let needed = if paged {
            let back: Vec<Date> = groups
                .iter()
                .filter_map(|g| Bucket::of(req.by, g.date.as_deref(), g.hour))
                .filter_map(|b| period.back(&b))
                .filter_map(|b| b.first_day())
                .collect();
            back.iter()
                .min()
                .zip(back.iter().max())
                .map(|(a, b)| (*a, *b))
        } else {
            Some((before.from, before.to))
        };
        previous = Some(match needed {
            Some((from, to)) => {
                let query = count(within(from, to), group, time, None);
                storage.report_counts(query).await?
            }
            None => Vec::new(),
        });
        previous_totals = Some(if paged {
            let whole = within(before.from, before.to);
            let query = count(whole, Grouping::Question, TimeSplit::None, None);
            storage.report_counts(query).await?
        } else {
            previous.clone().unwrap_or_default()
        });
    }
    let counts = Counts {
        groups,
        previous,
        totals,
        previous_totals,
    };
    Ok(build(&req, counts))
}

/// Turns score counts into the report. Groups whose answers were all suppressed are kept
/// (n = 0, figures absent) so that misuse stays visible.
pub fn build(req: &Request, counts: Counts) -> Report {
    let now = fold(req.by, counts.groups);
    let before = counts.previous.map(|p| fold(req.by, p));
    let compare = req.period.filter(|_| before.is_some());

    let mut totals: BTreeMap<Question, (Tally, Tally)> = BTreeMap::new();
    for (key, tally) in fold(By::Period, counts.totals) {
        let t = totals.entry(key.question).or_default();
        t.0.add(&tally.scores, tally.suppressed);
    }
    let before_totals = counts.previous_totals.map(|p| fold(By::Period, p));
    for (key, tally) in before_totals.into_iter().flatten() {
        let t = totals.entry(key.question).or_default();
        t.1.add(&tally.scores, tally.suppressed);
    }
    let scales: BTreeSet<Scale> = totals.keys().map(|q| q.scale).collect();

    let start = match &req.after {
        Some(Cursor(after)) => std::ops::Bound::Excluded(after),
        None => std::ops::Bound::Unbounded,
    };
    let mut page = now.range((start, std::ops::Bound::Unbounded));
    let limit = req.limit.unwrap_or(usize::MAX);
    let mut groups = Vec::new();
    let mut last = None;
    for (key, tally) in page.by_ref().take(limit) {
        let previous = compare.map(|period| {
            let earlier = period.back(&key.bucket).and_then(|bucket| {
                before.as_ref()?.get(&Key {
                    bucket,
                    ..key.clone()
                })
            });
            figures(key.question.scale, earlier.unwrap_or(&Tally::default()))
        });
        let mut g = group(&key.question, tally, req.min_n, previous);
        key.bucket.fill(&mut g);
        (g.site, g.touchpoint, g.device) =
            (key.site.clone(), key.touchpoint.clone(), key.device.clone());
        groups.push(g);
        last = Some(key);
    }
    let next_cursor = match (page.next(), last) {
        (Some(_), Some(last)) => Some(Cursor(last.clone()).to_string()),
        _ => None,
    };
    Report {
        formulas: scales.into_iter().map(|s| s.formula()).collect(),
        groups,
        totals: totals
            .iter()
            .map(|(q, (now, before))| {
                let previous = compare.map(|_| figures(q.scale, before));
                group(q, now, req.min_n, previous)
            })
            .collect(),
        previous_period: compare.and_then(|p| p.previous()).map(|p| DateRange {
            from: p.from.to_string(),
            to: p.to.to_string(),
        }),
        next_cursor,
    }
}

/// Adds storage's counts up per report group.
fn fold(by: By, counts: Vec<GroupCounts>) -> BTreeMap<Key, Tally> {
    let mut groups: BTreeMap<Key, Tally> = BTreeMap::new();
    for g in counts {
        let Some(bucket) = Bucket::of(by, g.date.as_deref(), g.hour) else {
            continue;
        };
        let key = Key {
            bucket,
            site: g.site,
            touchpoint: g.touchpoint,
            device: g.device,
            question: Question {
                id: g.question_id,
                version: g.question_version,
                scale: g.scale,
                direction: g.direction,
            },
        };
        groups.entry(key).or_default().add(&g.counts, g.suppressed);
    }
    groups
}

/// A report group of one question with no place or time filled in yet.
fn group(q: &Question, counts: &Tally, min_n: u64, previous: Option<Figures>) -> ReportGroup {
    let figures = figures(q.scale, counts);
    ReportGroup {
        site: None,
        touchpoint: None,
        device: None,
        question_id: q.id.clone(),
        question_version: q.version,
        scale: q.scale,
        direction: q.direction,
        date: None,
        hour: None,
        week: None,
        month: None,
        weekday: None,
        too_few: figures.n < min_n,
        figures,
        formula: q.scale.formula(),
        previous,
    }
}

/// n, mean, % easy and % difficult of counts on a scale.
/// The figures of counted answers per score (index 0 is score 1) on `scale`.
pub fn figures_of(scale: Scale, counts: &[u64], suppressed: u64) -> Figures {
    let mut tally = Tally::default();
    tally.add(counts, suppressed);
    figures(scale, &tally)
}

fn figures(scale: Scale, counts: &Tally) -> Figures {
    let mut distribution = counts.scores.clone();
    distribution.resize(usize::from(scale.max()), 0);
    let n: u64 = distribution.iter().sum();
    let sum: u64 = distribution
        .iter()
        .zip(1u64..)
        .map(|(count, score)| count * score)
        .sum();
    let share = |scores: std::ops::RangeInclusive<u8>| {
        let hits: u64 = scores
            .filter_map(|s| distribution.get(usize::from(s) - 1))
            .sum();
        percent(hits, n)
    };
    Figures {
        n,
        mean: (n > 0).then(|| sum as f64 / n as f64),
        pct_easy: share(scale.easy_scores()),
        pct_difficult: share(scale.difficult_scores()),
        suppressed: counts.suppressed,
        distribution,
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::Direction;

    fn counts(scale: Scale, date: &str, counts: Vec<u64>, suppressed: u64) -> GroupCounts {
        GroupCounts {
            site: Some("s".into()),
            touchpoint: Some("t".into()),
            device: None,
            question_id: "q".into(),
            question_version: 1,
            scale,
            direction: Direction::HigherIsEasier,
            date: Some(date.into()),
            hour: None,
            weekday: None,
            counts,
            suppressed,
        }
    }

    /// Counts as storage gives them for a report of `groups` without a comparison.
    fn all(groups: Vec<GroupCounts>) -> Counts {
        Counts {
            totals: groups.clone(),
            groups,
            ..Counts::default()
        }
    }

    #[test]
    fn ces7_figures_by_hand() {
        // Scores 1, 2, 5, 6, 6, 7, 7, 7: n 8, sum 41, mean 5.125;
        // easy (5-7) 6 of 8 = 75 %, difficult (1-3) 2 of 8 = 25 %.
        let day = vec![counts(
            Scale::Ces7,
            "2026-11-24",
            vec![1, 1, 0, 0, 1, 2, 3],
            4,
        )];
        let r = build(&Request::default(), all(day));
        let g = &r.groups[0].figures;
        assert_eq!(g.n, 8);
        assert_eq!(g.mean, Some(5.125));
        assert_eq!(g.pct_easy, Some(75.0));
        assert_eq!(g.pct_difficult, Some(25.0));
        assert_eq!(g.suppressed, 4);
        assert_eq!(r.formulas, [Scale::Ces7.formula()]);
        assert!(table(&r).contains("5.12"), "{}", table(&r));
    }

    #[test]
    fn a_group_of_only_suppressed_taps_has_no_figures() {
        let day = vec![counts(Scale::Smiley3, "2026-11-24", vec![0, 0, 0], 40)];
        let r = build(&Request::default(), all(day));
        let g = &r.groups[0].figures;
        assert_eq!((g.n, g.mean, g.pct_easy), (0, None, None));
        assert_eq!(g.suppressed, 40);
    }

    #[test]
    fn pages_follow_each_other_through_the_cursor() {
        let days: Vec<GroupCounts> = (1..=9)
            .map(|d| {
                counts(
                    Scale::Ces5,
                    &format!("2026-11-0{d}"),
                    vec![0, 0, 0, 1, 0],
                    0,
                )
            })
            .collect();
        let mut req = Request {
            limit: Some(4),
            ..Request::default()
        };
        let mut seen = Vec::new();
        loop {
            let r = build(&req, all(days.clone()));
            seen.extend(r.groups.iter().map(|g| g.date.clone().unwrap()));
            assert_eq!(r.totals[0].figures.n, 9, "totals cover every page");
            match r.next_cursor {
                Some(c) => req.after = Some(Cursor::parse(By::Day, &c).unwrap()),
                None => break,
            }
        }
        let all: Vec<String> = (1..=9).map(|d| format!("2026-11-0{d}")).collect();
        assert_eq!(seen, all);
        assert!(Cursor::parse(By::Week, "2026-11-04~s~t~~q~1~ces5~higher_is_easier").is_err());
        assert!(Cursor::parse(By::Day, "2026-11-04~s~t").is_err());
    }
}
