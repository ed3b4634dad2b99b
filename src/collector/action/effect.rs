//! Whether an action worked: a place's answers in equal windows before and after it (14
//! days each by default, the action's own day in neither), per question, with the share of
//! difficult answers and its 95 % Wilson interval, the mean, and a plain verdict that says
//! when the answers are too few to tell.

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Serialize;

use super::Action;
use crate::collector::report::{Period, figures_of};
use crate::collector::storage::{
    AnswerFilter, CountQuery, GroupCounts, Grouping, Storage, StorageError, TimeSplit,
};
use crate::survey::{Direction, Scale};
use crate::wire::Figures;

/// z for a two-sided 95 % interval.
const Z: f64 = 1.959_963_984_540_054;

/// One window's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Window {
    /// First and last local date (YYYY-MM-DD).
    pub from: String,
    pub to: String,
    pub figures: Figures,
    /// Difficult answers among the counted ones.
    pub difficult: u64,
    /// The 95 % Wilson interval of the share of difficult answers, in percent; absent
    /// without answers.
    pub interval: Option<(f64, f64)>,
}

/// What the windows say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fewer counted answers than the minimum in either window.
    TooFew,
    /// The share of difficult answers fell: the intervals do not overlap.
    Better,
    /// It rose: the intervals do not overlap.
    Worse,
    /// The intervals overlap.
    NoClearChange,
}

/// Before against after for one question at the action's place.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuestionEffect {
    pub question_id: String,
    pub question_version: u32,
    pub scale: Scale,
    pub direction: Direction,
    pub before: Window,
    pub after: Window,
    pub verdict: Verdict,
}

/// An action and what followed it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Effect {
    pub action: Action,
    pub days: u32,
    /// Days of the after window that have passed (it may still be running).
    pub days_after_so_far: u32,
    pub min_answers: u64,
    pub questions: Vec<QuestionEffect>,
}

/// The 95 % Wilson score interval of `x` out of `n`, in percent.
pub fn wilson(x: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some((
        ((centre - half) * 100.0).max(0.0),
        ((centre + half) * 100.0).min(100.0),
    ))
}

/// The windows around an action taken on `day`: the `days` before it and the `days` after.
pub fn windows(day: Date, days: u32) -> Option<(Period, Period)> {
    let days = i64::from(days.max(1));
    let before = Period {
        from: day.checked_sub(days.days()).ok()?,
        to: day.yesterday().ok()?,
    };
    let after = Period {
        from: day.tomorrow().ok()?,
        to: day.checked_add(days.days()).ok()?,
    };
    Some((before, after))
}

/// The verdict on two windows: too few when either has fewer than `min_answers` counted
/// answers; better or worse only when the intervals do not overlap.
pub fn verdict(before: &Window, after: &Window, min_answers: u64) -> Verdict {
    if before.figures.n < min_answers.max(1) || after.figures.n < min_answers.max(1) {
        return Verdict::TooFew;
    }
    match (before.interval, after.interval) {
        (Some((low_before, _)), Some((_, high_after))) if high_after < low_before => {
            Verdict::Better
        }
        (Some((_, high_before)), Some((low_after, _))) if low_after > high_before => Verdict::Worse,
        _ => Verdict::NoClearChange,
    }
}

/// Reads the counts of the action's place in both windows from the rollups. `today` bounds
/// the after window's days so far; `sites` limits a viewer.
pub async fn read(
    storage: &dyn Storage,
    action: Action,
    days: u32,
    min_answers: u64,
    today: Date,
    sites: Option<Vec<String>>,
) -> Result<Effect, StorageError> {
    let day: Date = action
        .taken_on
        .parse()
        .map_err(|e| StorageError::Failed(format!("the action's date: {e}")))?;
    let (before, after) = windows(day, days)
        .ok_or_else(|| StorageError::Failed("the action's date is out of range".into()))?;
    let counts = |p: Period| {
        let filter = AnswerFilter {
            from: Some(p.from.to_string()),
            to: Some(p.to.to_string()),
            site: Some(action.site.clone()),
            touchpoint: action.touchpoint.clone(),
            sites: sites.clone(),
            ..AnswerFilter::default()
        };
        storage.report_counts(CountQuery {
            filter,
            group: Grouping::Question,
            time: TimeSplit::None,
            page: None,
        })
    };
    let (earlier, later) = (counts(before).await?, counts(after).await?);
    let window = |p: Period, scale: Scale, g: Option<&GroupCounts>| {
        let (counts, suppressed) = g.map_or((&[][..], 0), |g| (&g.counts[..], g.suppressed));
        let figures = figures_of(scale, counts, suppressed);
        let difficult = scale
            .difficult_scores()
            .filter_map(|s| counts.get(usize::from(s) - 1))
            .sum();
        Window {
            from: p.from.to_string(),
            to: p.to.to_string(),
            interval: wilson(difficult, figures.n),
            figures,
            difficult,
        }
    };
    let mut keys: Vec<_> = earlier.iter().chain(&later).map(question_key).collect();
    keys.sort();
    keys.dedup();
    let questions = keys
        .into_iter()
        .map(|key| {
            let (b, a) = (find(&earlier, &key), find(&later, &key));
            let scale = key.2;
            let (b, a) = (window(before, scale, b), window(after, scale, a));
            QuestionEffect {
                question_id: key.0,
                question_version: key.1,
                scale,
                direction: scale.direction(),
                verdict: verdict(&b, &a, min_answers),
                before: b,
                after: a,
            }
        })
        .collect();
    let so_far = if today < after.from {
        0
    } else {
        after
            .from
            .until(today)
            .map_or(0, |s| i64::from(s.get_days()) + 1)
    };
    Ok(Effect {
        action,
        days,
        days_after_so_far: u32::try_from(so_far.min(i64::from(days))).unwrap_or(0),
        min_answers,
        questions,
    })
}

/// The counts of the question `key` among `all`.
fn find<'a>(all: &'a [GroupCounts], key: &(String, u32, Scale)) -> Option<&'a GroupCounts> {
    all.iter().find(|g| question_key(g) == *key)
}

/// A question's identity: never mixed with another's version or scale.
fn question_key(g: &GroupCounts) -> (String, u32, Scale) {
    (g.question_id.clone(), g.question_version, g.scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::report::figures_of;

    fn window(difficult: u64, easy: u64) -> Window {
        let figures = figures_of(Scale::Ces7, &[difficult, 0, 0, 0, 0, 0, easy], 0);
        Window {
            from: String::new(),
            to: String::new(),
            interval: wilson(difficult, difficult + easy),
            figures,
            difficult,
        }
    }

    #[test]
    fn the_verdict_needs_enough_answers_and_intervals_apart() {
        assert_eq!(
            verdict(&window(30, 10), &window(5, 35), 20),
            Verdict::Better
        );
        assert_eq!(verdict(&window(5, 35), &window(30, 10), 20), Verdict::Worse);
        assert_eq!(
            verdict(&window(12, 18), &window(10, 20), 20),
            Verdict::NoClearChange
        );
        assert_eq!(verdict(&window(30, 10), &window(1, 9), 20), Verdict::TooFew);
        assert_eq!(wilson(0, 0), None);
        let (low, high) = wilson(0, 10).unwrap();
        assert!(low == 0.0 && high > 25.0 && high < 35.0, "{low} {high}");
    }
}
