//! Unit tests of the screen flow, without window, clock or disk.

use std::collections::BTreeMap;

use super::*;
use crate::recording::Recorded;
use crate::survey::{Reason, Scale};

/// The store's replies as the flow sees them: why a request failed is only shown.
type Reply = crate::recording::Reply<String>;

fn survey() -> Survey {
    let text = |en: &str, nl: &str| {
        BTreeMap::from([
            ("en".to_owned(), en.to_owned()),
            ("nl".to_owned(), nl.to_owned()),
        ])
    };
    Survey {
        question_id: "q".into(),
        question_version: 1,
        scale: Scale::Ces7,
        languages: vec!["en".into(), "nl".into()],
        question: text("Easy?", "Makkelijk?"),
        low_scores: [1, 2, 3].into(),
        follow_up: vec![Reason {
            id: "wait".into(),
            text: text("Waiting", "Wachten"),
        }],
        notice: None,
        accent: None,
        logo: None,
    }
}

fn kiosk() -> Kiosk {
    Kiosk::new(survey(), Timings::default())
}

fn time() -> Reading {
    Reading {
        boot_ms: 1_000,
        unix_ms: 1_790_000_000_000,
        local: "2026-09-21T12:53:20+02:00".into(),
        trusted: true,
    }
}

/// Plays the store: records whatever the flow asked and returns the replies.
fn commit(k: &mut Kiosk, fx: Vec<Effect>) -> Vec<Effect> {
    let mut out = vec![];
    for e in fx {
        match e {
            Effect::Store(Request::Record(answer)) => {
                let result = Ok(Recorded {
                    id: answer.id,
                    seq: 1,
                    resent: false,
                    suppressed: answer.suppressed,
                    follow_up_open: false,
                });
                out.extend(k.store_replied(&Reply::Recorded { answer, result }));
            }
            Effect::Store(Request::CloseFollowUp { id, press, .. }) => {
                out.extend(k.store_replied(&Reply::FollowUpClosed {
                    id,
                    press,
                    result: Ok(Closed::Now),
                }));
            }
            other => out.push(other),
        }
    }
    out
}

fn recorded(fx: &[Effect]) -> Vec<&crate::survey::Answer> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Store(Request::Record(a)) => Some(a),
            _ => None,
        })
        .collect()
}

fn starts(fx: &[Effect], kind: TimerKind) -> bool {
    fx.iter()
        .any(|e| matches!(e, Effect::StartTimer(k, _) if *k == kind))
}

#[test]
fn a_tap_is_stored_and_thanked_only_after_the_commit() {
    let mut k = kiosk();
    let fx = k.tap(6, time());
    let answers = recorded(&fx);
    assert_eq!(answers.len(), 1);
    assert_eq!(
        (answers[0].score, answers[0].suppressed, answers[0].low),
        (6, false, false)
    );
    assert_eq!(
        k.screen(),
        Screen::Question,
        "no thank-you before the commit returned"
    );
    let after = commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::Thanks);
    assert!(starts(&after, TimerKind::Thanks));
    k.timer(TimerKind::Thanks);
    assert_eq!(k.screen(), Screen::Question);
}

#[test]
fn taps_within_the_cooldown_are_suppressed() {
    let mut k = kiosk();
    let fx = k.tap(7, time());
    assert!(starts(&fx, TimerKind::Cooldown));
    commit(&mut k, fx);
    k.timer(TimerKind::Thanks);
    let again = k.tap(7, time());
    assert!(recorded(&again)[0].suppressed);
    commit(&mut k, again);
    assert_eq!(
        k.screen(),
        Screen::Question,
        "a suppressed tap is not thanked"
    );
    k.timer(TimerKind::Cooldown);
    let later = k.tap(7, time());
    assert!(!recorded(&later)[0].suppressed);
}

#[test]
fn a_second_tap_before_the_commit_is_suppressed_even_without_cooldown() {
    let mut k = Kiosk::new(
        survey(),
        Timings {
            misuse_cooldown: Duration::ZERO,
            ..Timings::default()
        },
    );
    let first = k.tap(5, time());
    let second = k.tap(5, time());
    assert!(!recorded(&first)[0].suppressed);
    assert!(recorded(&second)[0].suppressed);
}

#[test]
fn a_low_score_asks_why_and_the_reason_is_stored() {
    let mut k = kiosk();
    let fx = k.tap(2, time());
    assert!(recorded(&fx)[0].follow_up_open);
    let after = commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::FollowUp);
    assert!(starts(&after, TimerKind::FollowUp));
    assert!(k.reason("no-such-reason").is_empty());
    let fx = k.reason("wait");
    assert!(fx.iter().any(|e| matches!(e,
        Effect::Store(Request::CloseFollowUp { reason: Some(r), .. }) if r == "wait")));
    commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::Thanks);
}

#[test]
fn the_follow_up_timeout_keeps_the_score() {
    let mut k = kiosk();
    let fx = k.tap(1, time());
    commit(&mut k, fx);
    let fx = k.timer(TimerKind::FollowUp);
    assert_eq!(k.screen(), Screen::Question);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Store(Request::CloseFollowUp { reason: None, .. })
    )));
}

#[test]
fn language_resets_for_the_next_visitor() {
    let mut k = kiosk();
    let fx = k.choose_language("nl");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Language(l) if l == "nl"))
    );
    assert!(starts(&fx, TimerKind::Idle));
    assert_eq!(k.language(), "nl");
    assert!(k.choose_language("de").is_empty(), "only survey languages");
    let fx = k.timer(TimerKind::Idle);
    assert_eq!(k.language(), "en");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Language(l) if l == "en"))
    );
}

#[test]
fn a_failing_store_takes_the_terminal_out_of_service_until_a_probe_succeeds() {
    let mut k = kiosk();
    let fx = k.tap(6, time());
    let Some(Effect::Store(Request::Record(answer))) = fx.into_iter().last() else {
        panic!("a record request")
    };
    let err = "the disk holding the database is full".to_owned();
    let fx = k.store_replied(&Reply::Recorded {
        answer,
        result: Err(err),
    });
    assert_eq!(k.screen(), Screen::OutOfService);
    assert!(k.problem().is_some());
    assert!(starts(&fx, TimerKind::Probe));
    assert!(
        k.tap(6, time()).is_empty(),
        "no answers while out of service"
    );
    let fx = k.timer(TimerKind::Probe);
    assert!(matches!(fx[..], [Effect::Store(Request::Probe)]));
    k.store_replied(&Reply::Probed(Ok(())));
    assert_eq!(k.screen(), Screen::Question);
}

fn press(seq: u32) -> ButtonPress {
    ButtonPress {
        port: 0,
        box_id: "box".into(),
        session: 1,
        seq,
        button: 1,
    }
}

#[test]
fn a_press_on_the_thank_you_screen_is_the_next_visitors_answer() {
    let mut k = Kiosk::new(
        survey(),
        Timings {
            misuse_cooldown: Duration::ZERO,
            ..Timings::default()
        },
    );
    let fx = k.press(6, press(1), time());
    commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::Thanks);
    let fx = k.press(7, press(2), time());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::StopTimer(TimerKind::Thanks)))
    );
    let answers = recorded(&fx);
    assert_eq!(answers.len(), 1);
    assert!(!answers[0].suppressed);
    assert_eq!(answers[0].input, InputSource::Button(press(2)));
}

#[test]
fn a_press_during_the_follow_up_closes_it_without_a_reason() {
    let mut k = Kiosk::new(
        survey(),
        Timings {
            misuse_cooldown: Duration::ZERO,
            ..Timings::default()
        },
    );
    let fx = k.tap(2, time());
    commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::FollowUp);
    let fx = k.press(7, press(1), time());
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Store(Request::CloseFollowUp { reason: None, .. })
    )));
    assert_eq!(recorded(&fx).len(), 1);
}

#[test]
fn presses_are_refused_out_of_service_or_off_the_scale() {
    let mut k = kiosk();
    assert!(matches!(
        k.press(8, press(1), time()).as_slice(),
        [Effect::Refuse(p)] if p.seq == 1
    ));
    let fx = k.press(6, press(2), time());
    let Some(Effect::Store(Request::Record(answer))) = fx.into_iter().last() else {
        panic!("a record request")
    };
    k.store_replied(&Reply::Recorded {
        answer,
        result: Err("the database write failed".to_owned()),
    });
    assert_eq!(k.screen(), Screen::OutOfService);
    assert!(matches!(
        k.press(6, press(3), time()).as_slice(),
        [Effect::Refuse(p)] if p.seq == 3
    ));
}

#[test]
fn a_resent_press_is_thanked_without_a_follow_up() {
    let mut k = kiosk();
    let fx = k.press(2, press(1), time());
    let Some(Effect::Store(Request::Record(answer))) = fx.into_iter().last() else {
        panic!("a record request")
    };
    assert!(answer.follow_up_open, "a low score asks why");
    let result = Ok(Recorded {
        id: answer.id,
        seq: 1,
        resent: true,
        suppressed: false,
        follow_up_open: false,
    });
    k.store_replied(&Reply::Recorded { answer, result });
    assert_eq!(k.screen(), Screen::Thanks);
}

#[test]
fn a_commit_slower_than_half_a_second_shows_saving_until_it_returns() {
    let mut k = kiosk();
    let fx = k.tap(6, time());
    assert!(starts(&fx, TimerKind::Saving));
    assert!(!k.saving(), "not at once: a quick commit shows nothing");
    // The commit is still running when the timer runs out.
    assert!(k.timer(TimerKind::Saving).is_empty());
    assert!(k.saving());
    assert_eq!(k.screen(), Screen::Question);
    let after = commit(&mut k, fx);
    assert!(!k.saving());
    assert_eq!(k.screen(), Screen::Thanks);
    assert!(
        after
            .iter()
            .any(|e| matches!(e, Effect::StopTimer(TimerKind::Saving)))
    );
    // A timer that runs out after its commit returned changes nothing.
    k.timer(TimerKind::Saving);
    assert!(!k.saving());
}

#[test]
fn a_touch_during_the_follow_up_gives_it_its_full_time_again() {
    let mut k = kiosk();
    let fx = k.tap(2, time());
    commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::FollowUp);
    let fx = k.touched();
    assert!(
        matches!(fx[..], [Effect::StartTimer(TimerKind::FollowUp, after)] if after == Timings::default().follow_up),
        "{fx:?}"
    );
    // Once a reason is on its way to the store, or on any other screen, a touch changes nothing.
    let fx = k.reason("wait");
    assert!(k.touched().is_empty());
    commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::Thanks);
    assert!(k.touched().is_empty());
}

#[test]
fn a_tap_on_the_thank_you_ends_it_and_resets_the_language() {
    let mut k = kiosk();
    k.choose_language("nl");
    let fx = k.tap(6, time());
    commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::Thanks);
    let fx = k.end_thanks();
    assert_eq!(k.screen(), Screen::Question);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::StopTimer(TimerKind::Thanks)))
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Language(l) if l == "en"))
    );
    assert!(k.is_idle());
    // Not on another screen.
    assert!(k.end_thanks().is_empty());
}

#[test]
fn the_list_of_languages_closes_when_chosen_from_or_left() {
    let mut k = kiosk();
    let fx = k.open_languages();
    assert!(k.choosing_language() && !k.is_idle());
    assert!(
        starts(&fx, TimerKind::Idle),
        "it closes by itself when left"
    );
    k.choose_language("nl");
    assert!(!k.choosing_language());
    assert_eq!(k.language(), "nl");

    k.open_languages();
    k.timer(TimerKind::Idle);
    assert!(
        !k.choosing_language() && k.is_idle(),
        "left open, then closed"
    );
    assert_eq!(k.language(), "en");

    k.open_languages();
    k.close_languages();
    assert!(!k.choosing_language());
}

#[test]
fn the_look_changes_for_one_visitor_and_is_back_to_normal_for_the_next() {
    let mut k = kiosk();
    let fx = k.toggle_contrast();
    assert!(
        starts(&fx, TimerKind::Idle),
        "back to normal when nobody answers"
    );
    k.toggle_large_text();
    assert_eq!(
        k.look(),
        Look {
            high_contrast: true,
            large_text: true
        }
    );
    assert!(!k.is_idle(), "no new survey config under someone's eyes");
    let fx = k.tap(6, time());
    commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::Thanks);
    assert!(
        k.look().high_contrast,
        "the thank-you in the visitor's look"
    );
    assert!(
        k.toggle_contrast().is_empty(),
        "changed on the question only"
    );
    k.timer(TimerKind::Thanks);
    assert_eq!(k.look(), Look::default());
    assert!(k.is_idle());

    k.toggle_large_text();
    k.toggle_large_text();
    assert_eq!(k.look(), Look::default(), "a second touch switches it off");
    k.toggle_contrast();
    k.timer(TimerKind::Idle);
    assert_eq!(
        k.look(),
        Look::default(),
        "left by a visitor who walked away"
    );
}

mod listen;
mod reason_buttons;
