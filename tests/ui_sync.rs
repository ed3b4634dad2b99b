//! The touch terminal with sync: a tap is stored, the uploader is told at once and sends it
//! to the real collector, and the sync indicator tells staff how the upload stands.

mod common;

use std::time::Duration;

use ces_kiosk::config::Upstream;
use ces_kiosk::sync::{Link, SyncStatus, SyncThread};
use ces_kiosk::ui::show_sync;
use common::collector::TestCollector;
use common::*;

#[test]
fn a_tap_is_uploaded_at_once_and_the_indicator_says_synced() {
    let collector = TestCollector::start();
    let credential = collector.add_device("demo-1", "demo-store", "returns-desk");
    let dir = tempfile::tempdir().unwrap();
    let mut config = ces_kiosk::demo::config(dir.path()).unwrap();
    let mut upstream = Upstream::new(reqwest::Url::parse(&collector.url).unwrap(), credential);
    upstream.upload_delay = Duration::from_millis(50);
    config.upstream = Some(upstream.clone());

    let thread = SyncThread::start().unwrap();
    let sync = ces_kiosk::sync::start(&thread, &config, &upstream).unwrap();
    let (_config, ui) = kiosk_syncing(config, Some(sync.clone()), 800, 480);
    assert!(
        !shows(&ui, "Synced"),
        "no indicator before the uploader said anything"
    );

    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    // The next periodic look is minutes away: only the nudge of the stored answer sends it now.
    let mut status = sync.status();
    let synced = thread.run(async move {
        let waited = tokio::time::timeout(
            Duration::from_secs(20),
            status.wait_for(|s| s.uploaded == 1),
        )
        .await;
        waited.ok().and_then(|r| r.ok()).map(|s| s.clone())
    });
    let synced = synced.expect("uploaded soon after the tap");
    assert_eq!(collector.answer_ids("demo-1").len(), 1);

    advance(Duration::from_secs(5)); // past the thank-you
    show_sync(ui.window(), &synced);
    assert!(shows(&ui, "Synced"), "{synced:?}");
}

#[test]
fn the_indicator_shows_waiting_offline_and_rejected_in_the_visitors_language() {
    let dir = tempfile::tempdir().unwrap();
    let (_config, ui) = kiosk(dir.path(), 800, 480);
    let mut status = SyncStatus {
        link: Link::Online,
        pending: 3,
        ..SyncStatus::default()
    };
    show_sync(ui.window(), &status);
    assert!(shows(&ui, "3 waiting"));
    status.link = Link::Offline;
    status.pending = 12;
    status.dead_letters = 1;
    show_sync(ui.window(), &status);
    assert!(shows(&ui, "Offline · 12 waiting · 1 rejected"));
    choose_language(&ui, "Nederlands");
    assert!(shows(&ui, "Offline · 12 wachtend · 1 geweigerd"));
    status.link = Link::Unauthorized;
    show_sync(ui.window(), &status);
    assert!(shows(&ui, "Niet aangemeld · 12 wachtend · 1 geweigerd"));

    // Only on the question screen: visitors on the thank-you see nothing of it.
    the(&ui, "Score 7").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Dank u wel!"));
    assert!(!shows(&ui, "Niet aangemeld · 12 wachtend · 1 geweigerd"));
}
