//! A technician's view of answers the collector refused and of what stands in the way: the
//! real `ces-kiosk requeue` (list, by reason, all) and `doctor` on an enrolled terminal,
//! with a proxy answering nginx's 404 page in place of the collector.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use ces_kiosk::config::Config;
use ces_kiosk::store::Store;
use ces_kiosk::wire::{AnswerResult, AnswerStatus};
use common::collector::TestCollector;
use common::fault_proxy::{Fault, FaultProxy, Page};

fn kiosk(args: &[&str], terminal: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(args)
        .arg("--config")
        .arg(terminal)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn states(store: &Store) -> (usize, usize) {
    let answers = store.answers().unwrap();
    let count = |state: &str| answers.iter().filter(|a| a.sync_state == state).count();
    (count("pending"), count("rejected"))
}

#[test]
fn requeue_lists_and_sends_dead_letters_again_by_reason() {
    let collector = TestCollector::start();
    let dir = tempfile::tempdir().unwrap();
    let terminal = common::fleet::enrolled(&collector, "front-desk-2", dir.path());
    let config = Config::load(&terminal).unwrap();

    // Five answers refused for two reasons, one of them quoting an old collector's text
    // with an escape sequence in it.
    let mut store = Store::open(&config.storage.path, &config.device).unwrap();
    let survey = &config.survey;
    let ids: Vec<uuid::Uuid> = (0..5)
        .map(|_| {
            let a = ces_kiosk::survey::Answer::new(
                survey,
                "en",
                6,
                false,
                ces_kiosk::survey::InputSource::Touch,
                ces_kiosk::clock::now(),
            );
            store.record(&a).unwrap().id
        })
        .collect();
    let refused = |id: uuid::Uuid, why: &str| AnswerResult {
        id,
        status: AnswerStatus::Rejected,
        reason: Some(why.into()),
    };
    let old = "refused by the collector (HTTP 404): \u{1b}[2Jnot found";
    store
        .apply_results(&[
            refused(
                ids[0],
                "refused by the collector (HTTP 400): malformed JSON",
            ),
            refused(
                ids[1],
                "refused by the collector (HTTP 400): malformed JSON",
            ),
            refused(
                ids[2],
                "refused by the collector (HTTP 400): malformed JSON",
            ),
            refused(ids[3], old),
            refused(ids[4], old),
        ])
        .unwrap();

    // (This machine has no screen: doctor's display check fails here, not the upload one.)
    let (_, report) = doctor(&terminal);
    assert!(
        report.contains("WARN  upload     5 answers were refused by the collector")
            && report.contains("ces-kiosk requeue"),
        "{report}"
    );

    let list = kiosk(&["requeue", "--list"], &terminal);
    assert!(list.status.success(), "{list:?}");
    let listed = text(&list);
    assert!(
        listed.contains("      3  refused by the collector (HTTP 400): malformed JSON"),
        "{listed}"
    );
    assert!(
        listed.contains("      2  refused by the collector (HTTP 404): \\u{1b}[2Jnot found"),
        "stored text is shown, not obeyed: {listed}"
    );
    assert_eq!(states(&store), (0, 5), "--list changes nothing");

    let some = kiosk(&["requeue", "--reason", "HTTP 404"], &terminal);
    assert!(some.status.success(), "{some:?}");
    assert!(text(&some).starts_with("2 answers are waiting for upload again"));
    assert_eq!(states(&store), (2, 3));

    let rest = kiosk(&["requeue"], &terminal);
    assert!(text(&rest).starts_with("3 answers"), "{rest:?}");
    assert_eq!(states(&store), (5, 0));
    let none = kiosk(&["requeue", "--list"], &terminal);
    assert!(text(&none).starts_with("no dead letters"), "{none:?}");
}

fn doctor(terminal: &Path) -> (i32, String) {
    let out = kiosk(&["doctor"], terminal);
    (out.status.code().unwrap(), text(&out))
}

#[test]
fn doctor_names_a_proxy_page_in_place_of_the_collector() {
    let collector = TestCollector::start();
    let proxy = FaultProxy::start(&collector.url);
    // Enrolled through the proxy, which then answers nginx's 404 page for everything.
    collector.add_device("front-desk-3", "hotel-rotterdam", "check-in");
    common::fleet::set_config(&collector, "front-desk-3", common::fleet::SURVEY.to_owned());
    let code = common::fleet::add_code(&collector, "front-desk-3", i64::MAX);
    let dir = tempfile::tempdir().unwrap();
    let terminal = common::fleet::terminal_file(dir.path(), "");
    let out = common::fleet::enroll(&proxy.url, &code.expose(), &terminal);
    assert!(out.status.success(), "{out:?}");
    proxy.random(7, vec![Fault::Page(Page::nginx(404))]);

    let (code, report) = doctor(&terminal);
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains(
            "FAIL  collector  the collector's address answered HTTP 404 text/html from \
             nginx/1.22.1, not the collector: check the reverse proxy"
        ),
        "{report}"
    );
    // Enrolling through it says the same, not "the collector refused the code".
    let again = common::fleet::add_code(&collector, "front-desk-3", i64::MAX);
    let out = common::fleet::enroll(&proxy.url, &again.expose(), &terminal);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("answered HTTP 404 text/html from nginx/1.22.1, not the collector"),
        "{said}"
    );
}
