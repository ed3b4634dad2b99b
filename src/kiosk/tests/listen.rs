//! The flow with speech on: what is said, and that a first touch speaks and a second chooses.

use super::*;

/// The lines of each `Say` effect, in order.
fn said(fx: &[Effect]) -> Vec<Vec<String>> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Say { lines, .. } => Some(lines.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn listen_reads_the_question_its_ends_and_how_to_answer() {
    let mut k = kiosk();
    let fx = k.listen();
    assert!(k.listening() && !k.is_idle());
    assert_eq!(
        said(&fx),
        [[
            "Easy?",
            "1 means Strongly disagree. 7 means Strongly agree.",
            "Touch an answer to hear it. Touch it again to choose it."
        ]]
    );
    let fx = k.choose_language("nl");
    assert_eq!(said(&fx)[0][0], "Makkelijk?", "again in the new language");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Say { language, .. } if language == "nl"))
    );
}

#[test]
fn a_first_touch_says_the_answer_and_a_second_chooses_it() {
    let mut k = kiosk();
    k.listen();
    let fx = k.tap(7, time());
    assert_eq!(said(&fx), [["7. Strongly agree"]]);
    assert!(recorded(&fx).is_empty(), "not chosen by the first touch");
    assert!(starts(&fx, TimerKind::Confirm));
    // Another answer is only said, and so is the first again after it.
    assert_eq!(said(&k.tap(4, time())), [["4"]]);
    assert!(recorded(&k.tap(7, time())).is_empty());
    let fx = k.tap(7, time());
    assert_eq!(recorded(&fx).len(), 1, "the second touch chooses");
    assert_eq!(recorded(&fx)[0].score, 7);
    let fx = commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::Thanks);
    assert_eq!(said(&fx), [["Thank you!", "Your answer has been saved."]]);
    // Speech ends with the visitor.
    let fx = k.timer(TimerKind::Thanks);
    assert!(fx.iter().any(|e| matches!(e, Effect::Hush)));
    assert!(!k.listening() && k.is_idle());
    assert_eq!(
        recorded(&k.tap(6, time())).len(),
        1,
        "the next visitor's touch counts"
    );
}

#[test]
fn a_second_touch_too_late_only_says_the_answer_again() {
    let mut k = kiosk();
    k.listen();
    k.tap(2, time());
    k.timer(TimerKind::Confirm);
    let fx = k.tap(2, time());
    assert!(recorded(&fx).is_empty());
    assert_eq!(said(&fx), [["2"]]);
}

#[test]
fn the_follow_up_is_read_and_its_reasons_and_skip_need_two_touches() {
    let mut k = kiosk();
    k.listen();
    k.tap(1, time());
    let chosen = k.tap(1, time());
    let fx = commit(&mut k, chosen);
    assert_eq!(k.screen(), Screen::FollowUp);
    assert_eq!(
        said(&fx),
        [[
            "What made it hard?",
            "Waiting",
            "Or skip, at the bottom right."
        ]]
    );
    let fx = k.reason("wait");
    assert_eq!(said(&fx), [["Waiting"]]);
    assert!(
        starts(&fx, TimerKind::FollowUp),
        "someone listening gets the time"
    );
    assert_eq!(said(&k.skip()), [["Skip"]]);
    // After another touch, the reason is said again before it counts.
    assert_eq!(said(&k.reason("wait")), [["Waiting"]]);
    let fx = k.reason("wait");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Store(Request::CloseFollowUp { reason: Some(r), .. }) if r == "wait")),
        "{fx:?}"
    );
}

#[test]
fn walking_away_ends_speech_for_the_next_visitor() {
    let mut k = kiosk();
    k.listen();
    let fx = k.timer(TimerKind::Idle);
    assert!(fx.iter().any(|e| matches!(e, Effect::Hush)));
    assert!(!k.listening() && k.is_idle());
}

#[test]
fn an_idle_terminal_says_how_to_turn_speech_on_when_configured() {
    let mut k = kiosk();
    assert!(
        k.timer(TimerKind::Announce).is_empty(),
        "never unless configured"
    );
    let every = Duration::from_secs(120);
    let fx = k.announce_every(Some(every));
    assert!(matches!(fx[..], [Effect::StartTimer(TimerKind::Announce, d)] if d == every));
    let fx = k.timer(TimerKind::Announce);
    assert!(starts(&fx, TimerKind::Announce), "again later");
    assert_eq!(
        said(&fx),
        [["To hear this screen read aloud, touch and hold it."]]
    );
    // Not over a visitor who is answering.
    k.choose_language("nl");
    let fx = k.timer(TimerKind::Announce);
    assert!(starts(&fx, TimerKind::Announce));
    assert!(said(&fx).is_empty());
}

/// A button terminal's flow: a box whose buttons 1 to 3 score 1, 4 and 7, and whose button
/// 4 turns speech on.
fn spoken_button_kiosk(listen: Option<u8>) -> Kiosk {
    Kiosk::new(survey(), Timings::default())
        .reasons_by_button()
        .spoken_buttons(vec![(1, 1), (2, 4), (3, 7)], listen)
}

#[test]
fn on_a_button_terminal_speech_names_the_buttons_and_a_press_counts_at_once() {
    let mut k = spoken_button_kiosk(Some(4));
    assert_eq!(
        said(&k.listen()),
        [[
            "Easy?",
            "1 means Strongly disagree. 7 means Strongly agree.",
            "Button 1: 1. Strongly disagree.",
            "Button 2: 4.",
            "Button 3: 7. Strongly agree."
        ]]
    );
    let fx = k.press(1, press(1), time());
    assert_eq!(recorded(&fx).len(), 1, "a press counts at once");
    let fx = commit(&mut k, fx);
    assert_eq!(k.screen(), Screen::FollowUp);
    assert_eq!(
        said(&fx),
        [[
            "What made it hard?",
            "Button 1: Waiting.",
            "Press its button, or wait to skip."
        ]]
    );
    let fx = k.choose_language("nl");
    assert_eq!(
        said(&fx)[0][1],
        "Knop 1: Wachten.",
        "in the visitor's language"
    );
}

#[test]
fn a_button_terminal_announces_its_listen_button_and_nothing_without_one() {
    let mut k = spoken_button_kiosk(Some(4));
    k.announce_every(Some(Duration::from_secs(60)));
    assert_eq!(
        said(&k.timer(TimerKind::Announce)),
        [["To hear the question read aloud, press button 4."]]
    );
    let mut k = spoken_button_kiosk(None);
    k.announce_every(Some(Duration::from_secs(60)));
    let fx = k.timer(TimerKind::Announce);
    assert!(said(&fx).is_empty(), "{fx:?}");
}
