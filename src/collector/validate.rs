//! The rules an upload must meet before anything of it is stored: identifiers of the shapes
//! a survey config allows (names, reason ids, language tags), a score within the answer's own
//! scale, a direction that matches it, and times that parse and agree; free text (a
//! heartbeat's errors) without control characters or invisible formatting. Also where an
//! answer's local day and hour for reports come from. Pure.

use jiff::Timestamp;
use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::tz::Offset;

use crate::collector::storage::CheckedAnswer;
use crate::survey::{NAME_RULE, is_language_tag, is_name};
use crate::text::check_free_text;
use crate::wire::{Heartbeat, WireAnswer};

/// 2100-01-01T00:00:00Z: later device times are refused as nonsense.
const LATEST_MS: i64 = 4_102_444_800_000;

/// Parses an RFC 3339 time with its UTC offset.
pub fn time(text: &str) -> Result<(Timestamp, Offset), String> {
    let bad = || format!("{text:?} is not an RFC 3339 time with a UTC offset");
    // Parsed once: the pieces give the offset, and the instant with it.
    let pieces = Pieces::parse(text).map_err(|_| bad())?;
    let (Some(time), Some(offset)) = (pieces.time(), pieces.offset()) else {
        return Err(bad());
    };
    let offset = match offset {
        PiecesOffset::Numeric(n) => n.offset(),
        PiecesOffset::Zulu => Offset::UTC,
        _ => return Err(bad()),
    };
    let ts = offset
        .to_timestamp(pieces.date().to_datetime(time))
        .map_err(|_| bad())?;
    if !(0..LATEST_MS).contains(&ts.as_millisecond()) {
        return Err(format!("{text:?} is outside the years 1970 to 2099"));
    }
    Ok((ts, offset))
}

/// Device clock minus collector clock, from the device time a request carries.
pub fn skew_ms(device_time: &str, now: Timestamp) -> Result<i64, String> {
    let (ts, _) = time(device_time).map_err(|e| format!("device_time: {e}"))?;
    Ok(ts.as_millisecond() - now.as_millisecond())
}

/// The longest an answer can have waited on its terminal and still be placed by its age.
const MAX_AGE_MS: i64 = 400 * 24 * 3_600_000;

/// Checks one answer, received at `now`. An answer recorded on an untrusted clock is
/// reported at `now` minus its age when the terminal sent one (the boot that recorded it
/// still running: right even if the clock was set since), else at its time corrected by the
/// batch's measured clock skew `skew_ms`.
pub fn answer(a: WireAnswer, skew_ms: i64, now: Timestamp) -> Result<CheckedAnswer, String> {
    if a.id.is_nil() {
        return Err("id: the nil UUID is not an answer id".into());
    }
    if a.seq < 1 {
        return Err(format!("seq: {} must be 1 or more", a.seq));
    }
    if !a.scale.contains(a.score) {
        return Err(format!(
            "score {} is outside the {} scale (1 to {})",
            a.score,
            a.scale.as_str(),
            a.scale.max()
        ));
    }
    if a.direction != a.scale.direction() {
        return Err(format!(
            "direction {} does not match the {} scale",
            a.direction.as_str(),
            a.scale.as_str()
        ));
    }
    if a.question_version < 1 {
        return Err("question_version must be 1 or more".into());
    }
    let name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    field("question_id", &a.question_id, 64, name)?;
    if !is_language_tag(&a.language) {
        return Err(format!(
            "language: {:?} is not a language tag like \"en\" or \"pt-BR\"",
            a.language
        ));
    }
    field("boot_id", &a.boot_id, 64, name)?;
    field("input", &a.input, 32, |c| {
        c.is_ascii_lowercase() || c == '-'
    })?;
    if let Some(reason) = &a.reason
        && !is_name(reason)
    {
        // A reason id as the survey config allows it (`survey.follow_up`).
        return Err(format!("reason: {reason:?} must be {NAME_RULE}"));
    }
    let (ts, offset) = time(&a.device_time).map_err(|e| format!("device_time: {e}"))?;
    if ts.as_millisecond() != a.device_time_ms {
        return Err("device_time and device_time_ms are not the same instant".into());
    }
    if let Some(age) = a.age_ms
        && !(0..=MAX_AGE_MS).contains(&age)
    {
        return Err(format!("age_ms: {age} is not 0 to {MAX_AGE_MS} (400 days)"));
    }
    let (instant, estimated) = match a.age_ms {
        _ if a.clock_trusted => (ts, false),
        Some(age) => (
            Timestamp::from_millisecond(now.as_millisecond() - age).unwrap_or(ts),
            true,
        ),
        None if skew_ms != 0 => (
            Timestamp::from_millisecond(a.device_time_ms.saturating_sub(skew_ms)).unwrap_or(ts),
            true,
        ),
        None => (ts, false),
    };
    let local = offset.to_datetime(instant);
    Ok(CheckedAnswer {
        local_date: local.date().to_string(),
        local_hour: u8::try_from(local.hour()).unwrap_or(0),
        time_estimated: estimated,
        wire: a,
    })
}

/// Checks a heartbeat's fields.
pub fn heartbeat(h: &Heartbeat) -> Result<(), String> {
    field("app_version", &h.app_version, 64, |c| c.is_ascii_graphic())?;
    field("boot_id", &h.boot_id, 64, |c| {
        c.is_ascii_alphanumeric() || c == '-'
    })?;
    for (key, text) in [
        ("last_error", &h.last_error),
        ("config_error", &h.config_error),
    ] {
        if let Some(text) = text {
            check_free_text(text, 2000).map_err(|e| format!("{key}: {e}"))?;
        }
    }
    Ok(())
}

fn field(key: &str, value: &str, max: usize, ok: impl Fn(char) -> bool) -> Result<(), String> {
    if value.is_empty() || value.len() > max || !value.chars().all(ok) {
        return Err(format!(
            "{key}: {value:?} is not 1 to {max} allowed characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::{Direction, Scale};

    fn answer_at(device_time: &str, ms: i64, trusted: bool) -> WireAnswer {
        WireAnswer {
            id: uuid::Uuid::now_v7(),
            seq: 1,
            boot_id: "6c1d7f0e-3b9a-4a51-b0c4-3f8f2b3e9d11".into(),
            device_time: device_time.into(),
            device_time_ms: ms,
            clock_trusted: trusted,
            question_id: "returns-ease".into(),
            question_version: 1,
            language: "nl".into(),
            scale: Scale::Ces7,
            direction: Direction::HigherIsEasier,
            score: 2,
            low: true,
            reason: Some("waiting".into()),
            suppressed: false,
            input: "touch".into(),
            age_ms: None,
        }
    }

    const T: &str = "2026-11-24T23:30:00.000+01:00";
    const T_MS: i64 = 1_795_559_400_000;

    #[test]
    fn the_local_day_and_hour_come_from_the_device_offset() {
        let c = answer(answer_at(T, T_MS, true), 0, received()).unwrap();
        assert_eq!((c.local_date.as_str(), c.local_hour), ("2026-11-24", 23));
        assert!(!c.time_estimated);
    }

    #[test]
    fn an_untrusted_clock_is_corrected_by_the_skew() {
        // The device clock was an hour fast: the answer belongs to 22:30 local time.
        let c = answer(answer_at(T, T_MS, false), 3_600_000, received()).unwrap();
        assert_eq!((c.local_date.as_str(), c.local_hour), ("2026-11-24", 22));
        assert!(c.time_estimated);
        // A trusted clock is taken as it is.
        let c = answer(answer_at(T, T_MS, true), 3_600_000, received()).unwrap();
        assert_eq!(c.local_hour, 23);
    }

    /// When the collector received the answers of these tests: a minute after `T`.
    fn received() -> Timestamp {
        Timestamp::from_millisecond(T_MS + 60_000).unwrap()
    }

    #[test]
    fn an_untrusted_clock_set_since_is_placed_by_the_answers_age() {
        // Recorded while the clock said 2021; the clock was set right before the upload, so
        // the batch shows no skew. The age (by the boot clock) places it at T.
        let wrong = "2021-03-01T10:00:00.000+01:00";
        let mut a = answer_at(wrong, 1_614_589_200_000, false);
        a.age_ms = Some(60_000);
        let c = answer(a.clone(), 0, received()).unwrap();
        assert_eq!((c.local_date.as_str(), c.local_hour), ("2026-11-24", 23));
        assert!(c.time_estimated);
        // A trusted clock is taken as it is; an age out of bounds is refused.
        a.clock_trusted = true;
        assert_eq!(
            answer(a.clone(), 0, received()).unwrap().local_date,
            "2021-03-01"
        );
        a.age_ms = Some(-1);
        assert!(answer(a, 0, received()).unwrap_err().starts_with("age_ms:"));
    }

    #[test]
    fn bad_answers_are_refused_with_the_reason() {
        let mut a = answer_at(T, T_MS, true);
        a.score = 9;
        assert_eq!(
            answer(a, 0, received()).unwrap_err(),
            "score 9 is outside the ces7 scale (1 to 7)"
        );
        let a = answer_at(T, T_MS + 1, true);
        assert!(
            answer(a, 0, received())
                .unwrap_err()
                .contains("not the same instant")
        );
        let a = answer_at("yesterday", T_MS, true);
        assert!(
            answer(a, 0, received())
                .unwrap_err()
                .starts_with("device_time:")
        );
        let a = answer_at("2026-11-24T23:30:00", T_MS, true);
        assert!(
            answer(a, 0, received()).unwrap_err().contains("UTC offset"),
            "no offset"
        );
        let mut a = answer_at(T, T_MS, true);
        a.question_id = "drop table".into();
        assert!(
            answer(a, 0, received())
                .unwrap_err()
                .starts_with("question_id:")
        );
        let mut a = answer_at(T, T_MS, true);
        a.reason = Some(String::new());
        assert!(answer(a, 0, received()).is_err());
    }

    #[test]
    fn hidden_characters_are_refused_in_every_text_a_device_sends() {
        for hostile in ["x\u{1b}[2J", "x\0", "x\u{9b}1m", "ok\u{202e}", "a\u{200b}b"] {
            let mut a = answer_at(T, T_MS, true);
            a.reason = Some(hostile.into());
            assert!(
                answer(a, 0, received()).unwrap_err().starts_with("reason:"),
                "{hostile:?}"
            );
            let mut a = answer_at(T, T_MS, true);
            a.language = format!("nl{hostile}");
            assert!(
                answer(a, 0, received())
                    .unwrap_err()
                    .starts_with("language:"),
                "{hostile:?}"
            );
            let mut a = answer_at(T, T_MS, true);
            a.question_id = hostile.into();
            assert!(answer(a, 0, received()).is_err(), "{hostile:?}");
            let mut a = answer_at(T, T_MS, true);
            a.boot_id = hostile.into();
            assert!(answer(a, 0, received()).is_err(), "{hostile:?}");
            let mut a = answer_at(T, T_MS, true);
            a.input = hostile.into();
            assert!(answer(a, 0, received()).is_err(), "{hostile:?}");
        }
        let mut a = answer_at(T, T_MS, true);
        a.reason = Some("=HYPERLINK(\"http://x\")".into());
        assert!(
            answer(a, 0, received()).is_err(),
            "a reason is an id, not a formula"
        );
        let mut a = answer_at(T, T_MS, true);
        a.language = "pt-BR".into();
        assert!(answer(a, 0, received()).is_ok());
    }

    #[test]
    fn skew_is_device_minus_collector() {
        let now: Timestamp = "2026-11-24T22:30:00Z".parse().unwrap();
        assert_eq!(skew_ms("2026-11-24T23:30:05+01:00", now), Ok(5000));
        assert!(skew_ms("1969-12-31T23:59:59Z", now).is_err());
    }
}
