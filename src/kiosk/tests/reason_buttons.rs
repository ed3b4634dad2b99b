//! The follow-up on a terminal whose reasons are chosen with the box's buttons, and the
//! follow-up that a restart left open.

use super::*;
use crate::recording::OpenFollowUp;

fn button_kiosk() -> Kiosk {
    let mut survey = survey();
    survey.follow_up.push(Reason {
        id: "staff".into(),
        text: BTreeMap::from([("en".to_owned(), "Staff".to_owned())]),
    });
    Kiosk::new(survey, Timings::default()).reasons_by_button()
}

fn press_of(button: u8, seq: u32) -> ButtonPress {
    ButtonPress {
        button,
        ..press(seq)
    }
}

/// A low press on button 1, stored: the follow-up is on screen. Returns the answer's id.
fn low_press(k: &mut Kiosk) -> uuid::Uuid {
    let fx = k.press(2, press_of(1, 1), time());
    let id = recorded(&fx)[0].id;
    commit(k, fx);
    assert_eq!(k.screen(), Screen::FollowUp);
    id
}

fn closing(fx: &[Effect]) -> Option<(uuid::Uuid, Option<&str>, Option<u32>)> {
    fx.iter().find_map(|e| match e {
        Effect::Store(Request::CloseFollowUp { id, reason, press }) => {
            Some((*id, reason.as_deref(), press.as_ref().map(|p| p.seq)))
        }
        _ => None,
    })
}

#[test]
fn a_press_during_the_follow_up_chooses_the_reason_of_its_button_and_is_no_score() {
    for (button, reason) in [(1, Some("wait")), (2, Some("staff")), (5, None)] {
        let mut k = button_kiosk();
        let id = low_press(&mut k);
        let fx = k.press(5, press_of(button, 2), time());
        assert!(recorded(&fx).is_empty(), "a reason press is never a score");
        assert_eq!(closing(&fx), Some((id, reason, Some(2))), "button {button}");
        assert_eq!(
            k.screen(),
            Screen::FollowUp,
            "thanked only after the commit"
        );
        commit(&mut k, fx);
        assert_eq!(k.screen(), Screen::Thanks);
    }
}

#[test]
fn without_reason_buttons_a_press_during_the_follow_up_is_the_next_answer() {
    let mut k = kiosk();
    let fx = k.press(2, press(1), time());
    commit(&mut k, fx);
    let fx = k.press(6, press_of(2, 2), time());
    assert_eq!(closing(&fx).map(|c| c.1), Some(None));
    assert_eq!(recorded(&fx).len(), 1);
}

#[test]
fn the_scores_press_sent_again_during_the_follow_up_keeps_the_question() {
    let mut k = button_kiosk();
    let id = low_press(&mut k);
    // After a restart the box sends the low press again: the flow cannot tell it from a
    // reason press; the store can.
    let fx = k.press(2, press_of(1, 1), time());
    let (_, _, seq) = closing(&fx).unwrap();
    assert_eq!(seq, Some(1));
    let after = k.store_replied(&Reply::FollowUpClosed {
        id,
        press: Some(press_of(1, 1)),
        result: Ok(Closed::ScorePress { suppressed: false }),
    });
    assert_eq!(k.screen(), Screen::FollowUp);
    assert!(starts(&after, TimerKind::FollowUp), "its full time again");
    // The next press still chooses a reason.
    let fx = k.press(2, press_of(2, 2), time());
    assert_eq!(closing(&fx), Some((id, Some("staff"), Some(2))));
}

#[test]
fn a_resent_low_press_whose_follow_up_is_still_open_asks_it_again() {
    let mut k = button_kiosk();
    let fx = k.press(2, press_of(1, 1), time());
    let Some(Effect::Store(Request::Record(answer))) = fx.into_iter().last() else {
        panic!("a record request")
    };
    let first = uuid::Uuid::now_v7();
    let result = Ok(Recorded {
        id: first,
        seq: 1,
        resent: true,
        suppressed: false,
        follow_up_open: true,
    });
    k.store_replied(&Reply::Recorded { answer, result });
    assert_eq!(k.screen(), Screen::FollowUp);
    let fx = k.press(5, press_of(1, 2), time());
    assert_eq!(
        closing(&fx),
        Some((first, Some("wait"), Some(2))),
        "the reason goes to the answer stored first"
    );
}

fn opened(k: &mut Kiosk, language: &str, age: Option<Duration>) -> (uuid::Uuid, Vec<Effect>) {
    let id = uuid::Uuid::now_v7();
    let open = OpenFollowUp {
        id,
        language: language.into(),
        age,
    };
    (id, k.store_replied(&Reply::Opened(Ok(Some(open)))))
}

#[test]
fn a_follow_up_a_restart_left_open_goes_on_for_the_rest_of_its_time() {
    let mut k = button_kiosk();
    let (id, fx) = opened(&mut k, "nl", Some(Duration::from_secs(2)));
    assert_eq!(k.screen(), Screen::FollowUp);
    assert_eq!(k.language(), "nl", "in the visitor's language");
    let left = Timings::default().follow_up - Duration::from_secs(2);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::StartTimer(TimerKind::FollowUp, d) if *d == left))
    );
    let fx = k.press(5, press_of(2, 7), time());
    assert_eq!(closing(&fx), Some((id, Some("staff"), Some(7))));
}

#[test]
fn a_follow_up_left_open_too_long_ago_or_by_an_earlier_boot_is_closed() {
    let long = Timings::default().follow_up + Duration::from_secs(1);
    for age in [Some(long), None] {
        let mut k = button_kiosk();
        let (id, fx) = opened(&mut k, "en", age);
        assert_eq!(k.screen(), Screen::Question);
        assert_eq!(closing(&fx), Some((id, None, None)));
    }
    // A flow that asks no follow-up closes it too.
    let mut survey = survey();
    survey.follow_up.clear();
    let mut k = Kiosk::new(survey, Timings::default());
    let (id, fx) = opened(&mut k, "en", Some(Duration::ZERO));
    assert_eq!(k.screen(), Screen::Question);
    assert_eq!(closing(&fx), Some((id, None, None)));
}

#[test]
fn a_press_on_its_way_when_the_store_opens_decides_the_follow_up_left_open() {
    // The box sent the low press again before the store said what a restart left open.
    let mut k = button_kiosk();
    let fx = k.press(2, press_of(1, 1), time());
    let answer = recorded(&fx)[0].clone();
    let (left, fx) = opened(&mut k, "en", Some(Duration::from_secs(1)));
    assert!(fx.is_empty(), "decided by the press's reply");
    let result = Ok(Recorded {
        id: left,
        seq: 1,
        resent: true,
        suppressed: false,
        follow_up_open: true,
    });
    let fx = k.store_replied(&Reply::Recorded { answer, result });
    assert_eq!(closing(&fx), None);
    assert_eq!(k.screen(), Screen::FollowUp);
    let fx = k.press(5, press_of(1, 2), time());
    assert_eq!(closing(&fx), Some((left, Some("wait"), Some(2))));

    // A new visitor's press instead: the follow-up left open is closed, the press thanked.
    let mut k = button_kiosk();
    let fx = k.press(6, press_of(6, 9), time());
    let (left, _) = opened(&mut k, "en", Some(Duration::from_secs(1)));
    let after = commit(&mut k, fx);
    assert_eq!(closing(&after), Some((left, None, None)));
    assert_eq!(k.screen(), Screen::Thanks);
}

#[test]
fn a_press_that_comes_before_the_low_press_is_stored_waits_and_chooses_a_reason() {
    let mut k = button_kiosk();
    let fx = k.press(2, press_of(1, 1), time());
    assert!(
        k.press(5, press_of(2, 2), time()).is_empty(),
        "neither a score nor a reason until the commit says which"
    );
    let after = commit(&mut k, fx);
    let id = k.follow_up.expect("the follow-up is asked");
    assert_eq!(closing(&after), Some((id, Some("staff"), Some(2))));
    assert!(recorded(&after).is_empty());
}
