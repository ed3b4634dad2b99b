//! The real uploader against the real collector on 127.0.0.1, through a fault-injecting
//! proxy: every answer arrives exactly once whatever the network does, and each kind of
//! reply is handled as the protocol says (retried, dead-lettered, split, or kept).

mod common;

use std::collections::HashSet;
use std::time::Duration;

use ces_kiosk::sync::Link;
use common::collector::TestCollector;
use common::fault_proxy::{Fault, FaultProxy};
use common::terminal::{Terminal, fast_settings, upload};

const ANSWERS: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_answers_arrive_exactly_once_through_a_faulty_network() {
    let collector = TestCollector::start();
    let credential = collector.add_device("t-faults", "lab", "bench");
    let proxy = FaultProxy::start(&collector.url);
    let timeout = Duration::from_millis(300);
    let ms = Duration::from_millis;
    proxy.random(
        0x5eed,
        vec![
            Fault::Pass,
            Fault::Pass,
            Fault::Pass,
            Fault::Pass,
            Fault::Drop,
            Fault::ResetAfterCommit,
            Fault::ResetAfterCommit,
            Fault::Delay(ms(60)),
            Fault::Delay(ms(450)), // longer than the request timeout
            Fault::Status(500, None),
            Fault::Status(502, None),
            Fault::Status(503, Some(1)),
            Fault::Status(504, None),
            Fault::Status(429, Some(1)),
        ],
    );

    let mut terminal = Terminal::new("t-faults");
    let mut running = upload(&terminal, &proxy.url, &credential, fast_settings(), timeout);
    // Answers keep coming while the network misbehaves, as at a busy desk.
    let mut ids = HashSet::new();
    for chunk in 0..50 {
        ids.extend(terminal.record(ANSWERS / 50));
        running.handle.nudge();
        if chunk % 10 == 9 {
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(ids.len(), ANSWERS);
    // Let the faults bite until every kind has happened, then heal the network.
    let kinds = |seen: &[common::fault_proxy::Seen]| {
        let mut k: Vec<String> = seen
            .iter()
            .map(|s| {
                format!("{:?}", s.fault)
                    .split('(')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .chain(seen.iter().filter_map(|s| match s.fault {
                Fault::Status(code, _) => Some(code.to_string()),
                _ => None,
            }))
            .collect();
        k.sort();
        k.dedup();
        k
    };
    let all_kinds = [
        "500",
        "502",
        "503",
        "504",
        "429",
        "Drop",
        "ResetAfterCommit",
        "Delay",
        "Pass",
    ];
    let mut requests = proxy.requests();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let seen = kinds(&proxy.seen());
        if all_kinds.iter().all(|k| seen.iter().any(|s| s == k)) {
            break;
        }
        if running.status.borrow().pending == 0 {
            // Everything went through before every fault was tried: add more work.
            ids.extend(terminal.record(100));
            running.handle.nudge();
        }
        let next = tokio::time::timeout_at(deadline, requests.changed()).await;
        assert!(next.is_ok(), "faults seen so far: {seen:?}");
    }
    proxy.heal();
    running.handle.sync_now();
    // Each answer is confirmed to the terminal once, as accepted or (after a lost reply)
    // as a duplicate.
    let total = ids.len() as u64;
    let done = running
        .until(Duration::from_secs(120), "the queue drained", |s| {
            s.uploaded == total
        })
        .await;
    assert_eq!((done.pending, done.link), (0, Link::Online));
    running.stop().await;

    assert_eq!(done.dead_letters, 0, "nothing was refused");
    let stored = collector.answer_ids("t-faults");
    let unique: HashSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), unique.len(), "no answer stored twice");
    assert_eq!(
        unique, ids,
        "the collector holds exactly the terminal's answers"
    );
    assert_eq!(terminal.ids_in("synced").len(), ids.len());

    let seen = proxy.uploads();
    let resets = seen
        .iter()
        .filter(|s| s.fault == Fault::ResetAfterCommit)
        .count();
    let duplicates: usize = seen.iter().map(|s| s.duplicates).sum();
    assert!(
        resets > 0 && duplicates > 0,
        "replies lost after commit came back as duplicates"
    );
    println!(
        "{} answers, {} uploads through the proxy ({} faulty), {} duplicates answered",
        ids.len(),
        seen.len(),
        seen.iter().filter(|s| s.fault != Fault::Pass).count(),
        duplicates
    );
}

/// A fresh device and terminal with `n` answers, uploading through a proxy with `script`.
fn scenario(
    collector: &TestCollector,
    id: &str,
    n: usize,
    script: Vec<Fault>,
) -> (Terminal, FaultProxy, common::terminal::Running, Vec<String>) {
    let credential = collector.add_device(id, "lab", "bench");
    let proxy = FaultProxy::start(&collector.url);
    proxy.script(script);
    let mut terminal = Terminal::new(id);
    let ids = terminal.record(n);
    let running = upload(
        &terminal,
        &proxy.url,
        &credential,
        fast_settings(),
        Duration::from_millis(300),
    );
    (terminal, proxy, running, ids)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_replies_are_retried_until_the_collector_has_every_answer() {
    let collector = TestCollector::start();
    let cases = [
        ("t-429", Fault::Status(429, Some(1))),
        ("t-503", Fault::Status(503, Some(1))),
        ("t-502", Fault::Status(502, None)),
        ("t-504", Fault::Status(504, None)),
        ("t-drop", Fault::Drop),
        ("t-timeout", Fault::Delay(Duration::from_millis(450))),
        ("t-reset", Fault::ResetAfterCommit),
    ];
    for (id, fault) in cases {
        let (terminal, proxy, mut running, ids) = scenario(&collector, id, 3, vec![fault.clone()]);
        let s = running
            .until(Duration::from_secs(20), id, |s| s.uploaded == 3)
            .await;
        running.stop().await;
        assert_eq!(s.dead_letters, 0, "{id}");
        assert_eq!(
            sorted(collector.answer_ids(id)),
            sorted(ids.clone()),
            "{id}"
        );
        assert_eq!(terminal.ids_in("synced").len(), 3, "{id}");
        let uploads = proxy.uploads();
        assert!(uploads.len() >= 2, "{id}: retried ({uploads:?})");
        assert_eq!(uploads[0].fault, fault, "{id}");
        if let Fault::Status(_, Some(secs)) = fault {
            let gap = uploads[1].at - uploads[0].at;
            assert!(
                gap >= Duration::from_secs(secs),
                "{id}: Retry-After honoured ({gap:?})"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_fault_keeps_the_answers_and_waits_the_longest_backoff() {
    let collector = TestCollector::start();
    let (terminal, proxy, mut running, ids) =
        scenario(&collector, "t-500", 3, vec![Fault::AsCollector(500)]);
    running
        .until(Duration::from_secs(20), "stored after the fault", |s| {
            s.uploaded == 3
        })
        .await;
    running.stop().await;
    assert_eq!(sorted(collector.answer_ids("t-500")), sorted(ids));
    assert!(
        terminal.ids_in("rejected").is_empty(),
        "a 500 dead-letters nothing"
    );
    let uploads = proxy.uploads();
    let gap = uploads[1].at - uploads[0].at;
    assert!(
        gap >= fast_settings().backoff.cap,
        "waited the cap ({gap:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_the_collector_refuses_are_dead_lettered_and_never_sent_again() {
    let collector = TestCollector::start();
    // The body reaches the collector cut short: the collector's own 400.
    let (mut terminal, proxy, mut running, ids) =
        scenario(&collector, "t-400", 3, vec![Fault::Truncate]);
    let s = running
        .until(Duration::from_secs(20), "dead letters", |s| {
            s.dead_letters == 3
        })
        .await;
    assert_eq!(s.pending, 0);
    assert_eq!(sorted(terminal.ids_in("rejected")), sorted(ids));
    assert!(collector.answer_ids("t-400").is_empty());
    assert_eq!(proxy.uploads()[0].reply, Some(400));
    let reasons = terminal.store.dead_letters().unwrap();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].0.contains("(HTTP 400): malformed JSON"),
        "{reasons:?}"
    );

    // A new answer goes up alone: the dead letters stay where they are.
    let new = terminal.record(1);
    running.handle.nudge();
    running
        .until(Duration::from_secs(20), "the new answer", |s| {
            s.uploaded == 1
        })
        .await;
    running.stop().await;
    assert_eq!(collector.answer_ids("t-400"), new);
    let sizes: Vec<usize> = proxy.uploads().iter().map(|u| u.answers).collect();
    assert_eq!(sizes, [3, 1], "the refused answers were sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_422_naming_one_answer_dead_letters_only_that_one() {
    let collector = TestCollector::start();
    // The second answer reaches the collector with score 9: the collector's own 422.
    let (terminal, proxy, mut running, ids) =
        scenario(&collector, "t-422", 3, vec![Fault::BadScore(1)]);
    running
        .until(Duration::from_secs(20), "the rest stored", |s| {
            s.uploaded == 2 && s.dead_letters == 1
        })
        .await;
    running.stop().await;
    assert_eq!(terminal.ids_in("rejected"), [ids[1].clone()]);
    assert_eq!(
        sorted(collector.answer_ids("t-422")),
        sorted(vec![ids[0].clone(), ids[2].clone()])
    );
    let uploads = proxy.uploads();
    assert_eq!(uploads[0].reply, Some(422));
    let sizes: Vec<usize> = uploads.iter().map(|u| u.answers).collect();
    assert_eq!(sizes, [3, 2]);
    let reason: String = rusqlite::Connection::open(&terminal.db)
        .unwrap()
        .query_row(
            "SELECT reject_reason FROM answers WHERE id = ?1",
            [&ids[1]],
            |r| r.get(0),
        )
        .unwrap();
    assert!(reason.contains("score 9 is outside"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_too_large_is_split() {
    // The collector takes 2 answers per batch: its own 413 for 3.
    let collector = TestCollector::with_limits(ces_kiosk::collector::Limits {
        max_answers_per_batch: 2,
        device_requests_per_second: 100_000,
        device_burst: 100_000,
        ..Default::default()
    });
    let (_terminal, proxy, mut running, ids) = scenario(&collector, "t-413", 3, vec![]);
    running
        .until(Duration::from_secs(20), "stored in smaller batches", |s| {
            s.uploaded == 3
        })
        .await;
    running.stop().await;
    assert_eq!(sorted(collector.answer_ids("t-413")), sorted(ids));
    let uploads = proxy.uploads();
    assert_eq!(uploads[0].reply, Some(413));
    let sizes: Vec<usize> = uploads.iter().map(|u| u.answers).collect();
    assert_eq!(sizes, [3, 1, 1, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_or_revoked_credential_keeps_every_answer() {
    let collector = TestCollector::start();
    let stranger = ces_kiosk::credential::Credential::generate(ces_kiosk::credential::Kind::Device);
    let revoked = collector.add_device("t-revoked", "lab", "bench");
    collector.revoke("t-revoked");
    for (credential, status) in [(stranger, "HTTP 401"), (revoked, "HTTP 403")] {
        let mut terminal = Terminal::new("t-revoked");
        terminal.record(3);
        let mut running = upload(
            &terminal,
            &collector.url,
            &credential,
            fast_settings(),
            Duration::from_secs(5),
        );
        let s = running
            .until(Duration::from_secs(20), status, |s| {
                s.link == Link::Unauthorized
            })
            .await;
        running.stop().await;
        assert_eq!(
            (s.pending, s.dead_letters),
            (3, 0),
            "{status}: nothing dropped"
        );
        assert!(
            s.last_error.as_deref().unwrap().starts_with(status),
            "{s:?}"
        );
        assert_eq!(terminal.ids_in("pending").len(), 3);
    }
    assert_eq!(collector.answer_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_view_shows_each_terminals_heartbeat() {
    let collector = TestCollector::start();
    let credential = collector.add_device("t-beat", "hotel", "check-in");
    let mut terminal = Terminal::new("t-beat");
    terminal.record(2);
    let mut running = upload(
        &terminal,
        &collector.url,
        &credential,
        fast_settings(),
        Duration::from_secs(5),
    );
    running
        .until(Duration::from_secs(20), "synced and reported", |s| {
            s.uploaded == 2 && s.last_heartbeat_ms.is_some()
        })
        .await;
    running.stop().await;
    let admin = collector.admin();
    let devices: Vec<ces_kiosk::wire::DeviceStatus> = common::collector::client()
        .get(format!("{}v1/devices", collector.url))
        .bearer_auth(admin.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let d = devices.iter().find(|d| d.id == "t-beat").unwrap();
    assert_eq!(d.app_version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(
        (d.queue_depth, d.dead_letters, d.answers),
        (Some(0), Some(0), 2)
    );
    assert!(d.last_seen.is_some() && d.last_upload.is_some());
    assert!(d.clock_skew_ms.unwrap().abs() < 5_000 && !d.clock_skewed);
    assert_eq!(
        (d.site.as_str(), d.touchpoint.as_str()),
        ("hotel", "check-in")
    );
}
