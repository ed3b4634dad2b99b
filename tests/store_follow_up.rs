//! The store's side of a follow-up on real SQLite files: a reason chosen with a box's button
//! stored once however often the box sends the press, never taken for a score, and the
//! follow-up a restart left open found again when the store reopens.

mod common;

use ces_kiosk::config::Device;
use ces_kiosk::store::{Closed, Store};
use ces_kiosk::survey::{Answer, ButtonPress, InputSource};
use common::terminal::{SURVEY, answer};

fn device() -> Device {
    Device {
        id: "t-1".into(),
        site: "lab".into(),
        touchpoint: "bench".into(),
    }
}

fn press(seq: u32, button: u8) -> ButtonPress {
    ButtonPress {
        port: 0,
        box_id: "box-a".into(),
        session: 0xbeef,
        seq,
        button,
    }
}

fn pressed(score: u8, p: ButtonPress) -> Answer {
    Answer::new(
        &SURVEY,
        "en",
        score,
        false,
        InputSource::Button(p),
        ces_kiosk::clock::now(),
    )
}

#[test]
fn a_reason_press_is_stored_once_and_never_taken_for_a_score() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut store = Store::open(&path, &device()).unwrap();
    let low = pressed(1, press(1, 1));
    assert!(low.follow_up_open);
    let first = store.record(&low).unwrap();
    assert!(!first.resent);

    let reason = SURVEY.follow_up[0].id.clone();
    let close = |s: &mut Store, p| s.close_follow_up(low.id, Some(&reason), Some(&p)).unwrap();
    // The box sends the low press again while the reason is asked: nothing changes.
    assert_eq!(
        close(&mut store, press(1, 1)),
        Closed::ScorePress { suppressed: false }
    );
    assert!(store.answers().unwrap()[0].follow_up_open);
    assert_eq!(close(&mut store, press(2, 3)), Closed::Now);
    assert_eq!(close(&mut store, press(2, 3)), Closed::ReasonPress);

    // After a restart the box sends both again; the flow, back on the question, takes
    // them for scores: the store knows better.
    drop(store);
    let mut store = Store::open(&path, &device()).unwrap();
    assert_eq!(store.open_follow_up().unwrap(), None);
    for p in [press(1, 1), press(2, 3)] {
        let again = store.record(&pressed(6, p)).unwrap();
        assert!(again.resent);
        assert_eq!((again.id, again.seq), (low.id, first.seq));
        assert!(!again.follow_up_open);
    }
    let rows = store.answers().unwrap();
    assert_eq!(rows.len(), 1, "one answer: {rows:?}");
    assert_eq!(rows[0].score, 1);
    assert_eq!(rows[0].reason.as_deref(), Some(reason.as_str()));
    assert!(!rows[0].follow_up_open);
}

#[test]
fn a_press_too_late_for_the_reason_changes_nothing_but_is_known_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("a.db"), &device()).unwrap();
    let low = pressed(2, press(1, 2));
    store.record(&low).unwrap();
    // Its time ran out first.
    assert_eq!(
        store.close_follow_up(low.id, None, None).unwrap(),
        Closed::Now
    );
    let late = store
        .close_follow_up(low.id, Some("x"), Some(&press(2, 1)))
        .unwrap();
    assert_eq!(late, Closed::Before);
    assert_eq!(store.answers().unwrap()[0].reason, None);
    let again = store.record(&pressed(6, press(2, 1))).unwrap();
    assert!(again.resent, "not a second score");
    assert_eq!(store.answers().unwrap().len(), 1);
}

#[test]
fn reopening_finds_the_last_open_follow_up_and_closes_older_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut store = Store::open(&path, &device()).unwrap();
    let older = answer(1);
    let last = pressed(2, press(5, 2));
    store.record(&older).unwrap();
    store.record(&answer(6)).unwrap();
    store.record(&last).unwrap();
    drop(store);

    let mut store = Store::open(&path, &device()).unwrap();
    let open = store
        .open_follow_up()
        .unwrap()
        .expect("the last one is open");
    assert_eq!((open.id, open.language.as_str()), (last.id, "en"));
    let age = open.age.expect("given during this boot");
    assert!(age < std::time::Duration::from_secs(60), "{age:?}");
    let rows = store.answers().unwrap();
    let still_open: Vec<_> = rows.iter().filter(|r| r.follow_up_open).collect();
    assert_eq!(still_open.len(), 1);
    assert_eq!(still_open[0].id, last.id.to_string());
    // A resent press of it says so, for the flow to ask its reason again.
    let again = store.record(&pressed(2, press(5, 2))).unwrap();
    assert!(again.resent && again.follow_up_open);
}
