//! What the fuzz targets share: the properties a checked survey keeps, how a refusal names
//! a field, and the collector's clock for the targets.

use std::time::Duration;

use ces_kiosk::config::Timings;
use ces_kiosk::survey::{SHIPPED_LANGUAGES, Survey, is_name};

/// A fixed "now" (2026-11-24T09:00:00Z): a target gives the same verdict for the same input.
pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_510_800).unwrap()
}

/// Whether `message` names one of `fields` (as the field itself, or in a path like
/// `answers[0].score`), or says that the body or answer as a whole is not an object.
pub fn names_a_field(message: &str, fields: &[&str]) -> bool {
    message.contains("must be a JSON object")
        || fields.iter().any(|f| {
            message.starts_with(&format!("{f}:"))
                || message.starts_with(&format!("{f} "))
                || message.contains(&format!("`{f}`"))
                || message.contains(&format!(".{f}:"))
        })
}

/// The rules a checked survey and its timings keep.
pub fn survey_holds(survey: &Survey, timings: &Timings) {
    assert!(is_name(&survey.question_id), "{:?}", survey.question_id);
    assert!(survey.question_version >= 1);
    assert!(!survey.languages.is_empty());
    for lang in &survey.languages {
        assert!(SHIPPED_LANGUAGES.contains(&lang.as_str()), "{lang:?}");
        assert!(!survey.question_text(lang).is_empty());
    }
    assert!(survey.low_scores.iter().all(|&s| survey.scale.contains(s)));
    assert!(survey.follow_up.len() <= 8);
    for reason in &survey.follow_up {
        assert!(is_name(&reason.id), "{:?}", reason.id);
        for lang in &survey.languages {
            assert!(reason.text.get(lang).is_some_and(|t| !t.is_empty()));
        }
    }
    let within = |d: Duration, lo: f64, hi: f64| (lo..=hi).contains(&d.as_secs_f64());
    assert!(within(timings.thank_you, 1.0, 60.0));
    assert!(within(timings.follow_up, 3.0, 120.0));
    assert!(within(timings.idle_reset, 5.0, 600.0));
    assert!(within(timings.misuse_cooldown, 0.0, 30.0));
}
