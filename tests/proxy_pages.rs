//! The real uploader and the real collector with a reverse proxy or a captive portal in
//! between that answers with pages of its own: HTML 404, 408, 400 and 413 from nginx, a
//! Wi-Fi login page with 200, a 302 to it, and 511. None of them is the collector's verdict:
//! every answer stays waiting, the terminal says what stands in the way, retries with its
//! normal backoff, and delivers everything once the way is clear. Dead letters can be sent
//! again (`requeue`), and the collector takes them once.

mod common;

use std::time::Duration;

use ces_kiosk::store::Snapshot;
use ces_kiosk::sync::Link;
use common::collector::TestCollector;
use common::fault_proxy::{Fault, FaultProxy, Page};
use common::terminal::{Terminal, fast_settings, upload};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_a_proxy_or_a_captive_portal_never_dead_letter_an_answer() {
    let collector = TestCollector::start();
    let cases = [
        (
            "t-nginx-404",
            Page::nginx(404),
            "HTTP 404 text/html from nginx/1.22.1",
        ),
        (
            "t-nginx-408",
            Page::nginx(408),
            "HTTP 408 text/html from nginx/1.22.1",
        ),
        (
            "t-nginx-400",
            Page::nginx(400),
            "HTTP 400 text/html from nginx/1.22.1",
        ),
        (
            "t-nginx-413",
            Page::nginx(413),
            "HTTP 413 text/html from nginx/1.22.1",
        ),
        (
            "t-portal-200",
            Page::captive_portal(),
            "HTTP 200 text/html from HotelNet",
        ),
        (
            "t-portal-302",
            Page::redirect_to_login(),
            "HTTP 302 text/html from HotelNet Gateway redirecting to \
             http://login.hotelnet.example/portal?return=1",
        ),
        ("t-portal-511", Page::network_login_required(), "HTTP 511"),
    ];
    for (id, page, said) in cases {
        let credential = collector.add_device(id, "lab", "bench");
        let proxy = FaultProxy::start(&collector.url);
        // The proxy answers with its page for a while (four uploads), then passes traffic.
        proxy.script(vec![Fault::Page(page.clone()); 4]);
        let mut terminal = Terminal::new(id);
        // One answer: a 413 page is not split away then, it must be waited out.
        let ids = terminal.record(1);
        let mut running = upload(
            &terminal,
            &proxy.url,
            &credential,
            fast_settings(),
            Duration::from_secs(5),
        );
        // Meanwhile the terminal names what answered, and keeps the answer.
        let s = running
            .until(Duration::from_secs(20), id, |s| {
                s.last_error.as_deref().is_some_and(|e| e.contains(said))
            })
            .await;
        assert_eq!((s.pending, s.dead_letters), (1, 0), "{id}: {s:?}");
        assert_eq!(s.link, Link::Offline, "{id}");
        let e = s.last_error.unwrap();
        assert!(e.contains("not the collector"), "{id}: {e}");
        // `ces-kiosk status` and doctor read what the uploader recorded.
        let recorded = running
            .until(Duration::from_secs(20), "delivered", |s| s.uploaded == 1)
            .await;
        running.stop().await;
        assert_eq!(recorded.dead_letters, 0, "{id}");
        assert_eq!(
            sorted(collector.answer_ids(id)),
            sorted(ids.clone()),
            "{id}: the collector has the answer once"
        );
        assert_eq!(terminal.ids_in("synced"), ids, "{id}");
        let uploads = proxy.uploads();
        let pages = uploads
            .iter()
            .filter(|u| matches!(u.fault, Fault::Page(_)))
            .count();
        assert_eq!(pages, 4, "{id}: every page was seen ({uploads:?})");
        assert!(
            uploads.iter().all(|u| u.answers == 1),
            "{id}: the same answer each time"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_names_the_proxy_while_it_is_in_the_way() {
    let collector = TestCollector::start();
    let credential = collector.add_device("t-status", "lab", "bench");
    let proxy = FaultProxy::start(&collector.url);
    // Every request, heartbeats too, gets nginx's 404 until healed.
    proxy.random(1, vec![Fault::Page(Page::nginx(404))]);
    let mut terminal = Terminal::new("t-status");
    let ids = terminal.record(10);
    let mut running = upload(
        &terminal,
        &proxy.url,
        &credential,
        fast_settings(),
        Duration::from_secs(5),
    );
    let mut requests = proxy.requests();
    requests
        .wait_for(|n| *n >= 3)
        .await
        .expect("the proxy is asked");
    // What `ces-kiosk status` shows is recorded in the terminal database.
    let recorded = loop {
        let snapshot = Snapshot::read(&terminal.db).unwrap();
        if let Some(r) = snapshot.sync.filter(|r| r.last_error.is_some()) {
            break r;
        }
        requests.changed().await.unwrap();
    };
    assert_eq!(recorded.link, "offline");
    let error = recorded.last_error.unwrap();
    assert!(
        error.contains("the collector's address answered HTTP 404 text/html from nginx/1.22.1")
            && error.contains("check the reverse proxy"),
        "{error}"
    );
    assert_eq!(Snapshot::read(&terminal.db).unwrap().counts.pending, 10);
    proxy.heal();
    running.handle.sync_now();
    // Sync now sends a heartbeat after the answers; the round's record is written before
    // the heartbeat shows in the status.
    running
        .until(Duration::from_secs(20), "delivered and reported", |s| {
            s.uploaded == 10 && s.last_heartbeat_ms.is_some()
        })
        .await;
    running.stop().await;
    assert_eq!(sorted(collector.answer_ids("t-status")), sorted(ids));
    let after = Snapshot::read(&terminal.db).unwrap();
    assert_eq!(
        after.sync.unwrap().last_error,
        None,
        "cleared by the success"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_captive_portal_the_terminal_retries_within_its_normal_backoff() {
    let collector = TestCollector::start();
    let credential = collector.add_device("t-portal", "lab", "bench");
    let proxy = FaultProxy::start(&collector.url);
    proxy.script([Fault::Page(Page::captive_portal())]);
    let mut terminal = Terminal::new("t-portal");
    let ids = terminal.record(3);
    // A long cap: waiting it out (what a collector's own failure gets) would take a minute.
    let mut settings = fast_settings();
    settings.backoff.base = Duration::from_millis(100);
    settings.backoff.cap = Duration::from_secs(60);
    let mut running = upload(
        &terminal,
        &proxy.url,
        &credential,
        settings,
        Duration::from_secs(5),
    );
    running
        .until(Duration::from_secs(30), "delivered", |s| s.uploaded == 3)
        .await;
    running.stop().await;
    assert_eq!(sorted(collector.answer_ids("t-portal")), sorted(ids));
    let uploads = proxy.uploads();
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    let gap = uploads[1].at - uploads[0].at;
    // The first retry waits a random time up to the base (100 ms), far from the cap.
    assert!(gap < Duration::from_secs(10), "retried after {gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_sent_again_are_stored_once() {
    let collector = TestCollector::start();
    let credential = collector.add_device("t-requeue", "lab", "bench");
    let proxy = FaultProxy::start(&collector.url);
    // The first batch reaches the collector spoilt (its own 400): three dead letters.
    proxy.script([Fault::Truncate]);
    let mut terminal = Terminal::new("t-requeue");
    let ids = terminal.record(3);
    let mut running = upload(
        &terminal,
        &proxy.url,
        &credential,
        fast_settings(),
        Duration::from_secs(5),
    );
    running
        .until(Duration::from_secs(20), "dead letters", |s| {
            s.dead_letters == 3
        })
        .await;
    // Two more arrive normally. Then they are made dead letters on the terminal, as an
    // earlier version did when a proxy's page came back after the collector had stored
    // them: sending them again must not count them twice.
    let more = terminal.record(2);
    running.handle.nudge();
    running
        .until(Duration::from_secs(20), "the new answers", |s| {
            s.uploaded == 2
        })
        .await;
    let conn = rusqlite::Connection::open(&terminal.db).unwrap();
    for id in &more {
        conn.execute(
            "UPDATE answers SET sync_state = 'rejected',
                reject_reason = 'refused by the collector (HTTP 404)' WHERE id = ?1",
            [id],
        )
        .unwrap();
    }
    let letters = terminal.store.dead_letters().unwrap();
    assert_eq!(letters.len(), 2, "{letters:?}");
    assert_eq!(letters[0].1, 3, "most first: {letters:?}");
    assert!(letters[0].0.contains("HTTP 400"), "{letters:?}");
    assert_eq!(terminal.store.requeue(Some("no such reason")).unwrap(), 0);
    assert_eq!(terminal.store.requeue(Some("HTTP 400")).unwrap(), 3);
    assert_eq!(terminal.store.dead_letters().unwrap().len(), 1);
    assert_eq!(terminal.store.requeue(None).unwrap(), 2);
    assert!(terminal.store.dead_letters().unwrap().is_empty());
    running.handle.sync_now();
    let s = running
        .until(Duration::from_secs(20), "sent again", |s| {
            s.uploaded == 7 && s.dead_letters == 0
        })
        .await;
    running.stop().await;
    assert_eq!((s.pending, s.dead_letters), (0, 0));
    let all: Vec<String> = ids.iter().chain(&more).cloned().collect();
    assert_eq!(
        sorted(collector.answer_ids("t-requeue")),
        sorted(all),
        "each answer once"
    );
    let last = proxy.uploads().pop().unwrap();
    assert_eq!(
        last.duplicates, 2,
        "the two the collector had came back as duplicates"
    );
    assert_eq!(terminal.ids_in("synced").len(), 5);
}
