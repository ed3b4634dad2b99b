//! Actions and their effect: answers uploaded to the real collector before and after an
//! action at a place, and the before/after figures checked against values computed by hand
//! (the 95 % Wilson intervals with Python's math), including a place with too few answers
//! to tell; and the `action` commands.

mod common;

use ces_kiosk::collector::action::Action;
use ces_kiosk::collector::action::effect::{self, Verdict};
use common::collector::{TestCollector, command, printed};
use common::dataset::{at, scored, send};

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() < 1e-6
}

/// Answers with `scores` at the place of `device`, one a day from `first` on (14 days, then
/// again from `first`).
async fn days_of(
    c: &TestCollector,
    device: &ces_kiosk::credential::Credential,
    question: &str,
    first: u32,
    scores: &[u8],
) {
    let answers = scores
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let day = first + (i as u32 % 14);
            scored("ces7", question, s, &at(&format!("11-{day:02}"), 10))
        })
        .collect();
    send(c, device, answers).await;
}

fn action(site: &str, touchpoint: Option<&str>, on: &str) -> Action {
    Action {
        id: 0,
        site: site.into(),
        touchpoint: touchpoint.map(str::to_owned),
        taken_on: on.into(),
        what: "a second desk at lunch".into(),
        by: "anna".into(),
        alert_id: None,
        recorded_at_ms: 0,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn before_and_after_an_action_are_counted_with_their_intervals() {
    let c = TestCollector::start();
    let returns = c.add_device("dev-r", "north", "returns");
    let desk = c.add_device("dev-d", "north", "desk");
    // Before (1 to 14 November): 20 answers, 10 difficult; mean 89 / 20.
    let mut before = vec![1, 1, 1, 1, 2, 2, 2, 3, 3, 3];
    before.extend([7; 10]);
    days_of(&c, &returns, "returns-ease", 1, &before).await;
    // The action's own day (15 November) and the days outside both windows do not count.
    let outside = ["11-15", "11-15", "11-15", "10-31", "11-30"]
        .map(|day| scored("ces7", "returns-ease", 1, &at(day, 10)))
        .to_vec();
    send(&c, &returns, outside).await;
    // After (16 to 29 November): 20 answers, 1 difficult; mean 116 / 20.
    let mut after = vec![2];
    after.extend([6; 19]);
    days_of(&c, &returns, "returns-ease", 16, &after).await;
    // Another touchpoint of the site: not in a touchpoint's action.
    days_of(&c, &desk, "returns-ease", 16, &[1; 20]).await;

    let storage = c.storage.clone();
    let today: jiff::civil::Date = "2026-12-03".parse().unwrap();
    let e = c
        .on(async move {
            let id = storage
                .add_action(action("north", Some("returns"), "2026-11-15"))
                .await?;
            let stored = storage.action(id).await?.unwrap();
            effect::read(storage.as_ref(), stored, 14, 20, today, None).await
        })
        .unwrap();
    assert_eq!(e.days_after_so_far, 14);
    assert_eq!(e.questions.len(), 1);
    let q = &e.questions[0];
    assert_eq!(
        (q.before.from.as_str(), q.before.to.as_str()),
        ("2026-11-01", "2026-11-14")
    );
    assert_eq!(
        (q.after.from.as_str(), q.after.to.as_str()),
        ("2026-11-16", "2026-11-29")
    );
    assert_eq!((q.before.figures.n, q.before.difficult), (20, 10));
    assert_eq!((q.after.figures.n, q.after.difficult), (20, 1));
    assert!(close(q.before.figures.pct_difficult.unwrap(), 50.0));
    assert!(close(q.after.figures.pct_difficult.unwrap(), 5.0));
    assert!(close(q.before.figures.mean.unwrap(), 4.45));
    assert!(close(q.after.figures.mean.unwrap(), 5.8));
    let (low, high) = q.before.interval.unwrap();
    assert!(
        close(low, 29.929800819821228) && close(high, 70.07019918017878),
        "{low} {high}"
    );
    let (low, high) = q.after.interval.unwrap();
    assert!(
        close(low, 0.8881448800795402) && close(high, 23.613119344674203),
        "{low} {high}"
    );
    assert_eq!(q.verdict, Verdict::Better);

    // The whole site: the desk's 20 difficult answers after it make it worse.
    let storage = c.storage.clone();
    let site = c
        .on(async move {
            let stored = action("north", None, "2026-11-15");
            effect::read(storage.as_ref(), stored, 14, 20, today, None).await
        })
        .unwrap();
    let q = &site.questions[0];
    assert_eq!((q.after.figures.n, q.after.difficult), (40, 21));
    assert_eq!(q.verdict, Verdict::NoClearChange);

    // Too few: 5 answers before and 5 after, against a minimum of 20.
    let few = c.add_device("dev-f", "south", "exit");
    days_of(&c, &few, "exit-ease", 1, &[1, 2, 7, 7, 7]).await;
    days_of(&c, &few, "exit-ease", 16, &[1, 7, 7, 7, 7]).await;
    let storage = c.storage.clone();
    let e = c
        .on(async move {
            let stored = action("south", Some("exit"), "2026-11-15");
            effect::read(storage.as_ref(), stored, 14, 20, today, None).await
        })
        .unwrap();
    let q = &e.questions[0];
    assert_eq!((q.before.figures.n, q.after.figures.n), (5, 5));
    let (low, high) = q.before.interval.unwrap();
    assert!(
        close(low, 11.762077423264783) && close(high, 76.9275718723987),
        "{low} {high}"
    );
    assert_eq!(q.verdict, Verdict::TooFew);

    // An action of today: its after window has not begun.
    let storage = c.storage.clone();
    let fresh = c
        .on(async move {
            let stored = action("north", Some("returns"), "2026-12-03");
            effect::read(storage.as_ref(), stored, 14, 20, today, None).await
        })
        .unwrap();
    assert_eq!(fresh.days_after_so_far, 0);
}

#[test]
fn the_action_commands_record_list_and_tell_the_effect() {
    let c = TestCollector::start();
    let cfg = c.config_path();
    let run = |args: &[&str]| command(&cfg, args);
    let text = printed;
    let add = run(&[
        "action",
        "add",
        "--site",
        "north",
        "--touchpoint",
        "returns",
        "--what",
        "signage at the entrance",
        "--by",
        "anna",
        "--on",
        "2026-11-15",
    ]);
    assert!(add.status.success(), "{}", text(&add));
    let id = String::from_utf8_lossy(&add.stdout).trim().to_owned();
    let list = text(&run(&["action", "list", "--site", "north"]));
    assert!(
        list.contains("2026-11-15  north / returns  by anna: signage at the entrance"),
        "{list}"
    );
    let effect = text(&run(&["action", "effect", &id]));
    assert!(
        effect.contains("No answers at this place in either window."),
        "{effect}"
    );
    for (args, says) in [
        (
            &[
                "action",
                "add",
                "--site",
                "north",
                "--what",
                "x",
                "--by",
                "a",
                "--on",
                "2999-01-01",
            ][..],
            "in the future",
        ),
        (
            &[
                "action", "add", "--site", "north", "--what", "  ", "--by", "a",
            ],
            "say what was changed",
        ),
        (
            &[
                "action",
                "add",
                "--site",
                "north",
                "--what",
                "x\u{1b}[2J",
                "--by",
                "a",
            ],
            "control or invisible",
        ),
        (
            &[
                "action", "add", "--site", "north", "--what", "x", "--by", "a", "--alert", "99",
            ],
            "no alert 99",
        ),
        (&["action", "effect", "99"], "no action 99"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
    }
}
