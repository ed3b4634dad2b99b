//! The alerts page in real headless Chromium against the real collector: an open alert
//! shown with what was seen, acknowledged with a comment and the action taken (recorded at
//! its place); the place's page with the action, its before and after, its mark on the
//! trend, the place's alerts and the form to record another; the admins' notice editor
//! (an over-long notice refused, viewers kept out); the admins' rules page (a rule added,
//! a taken name refused, a rule removed); no console error, no CSP
//! violation, no serious accessibility violation; a viewer of another site neither sees the
//! alert nor can acknowledge it through the form's route.
//!
//! `CES_UPDATE_SCREENSHOTS=1 cargo test --test dashboard_alerts` also writes the page's
//! reference screenshots in `docs/screenshots/dashboard-alerts*.png` and
//! `dashboard-place-actions.png`.

mod common;

use ces_kiosk::collector::action::effect;
use ces_kiosk::collector::alert::rule::{Condition, Rule, Share};
use ces_kiosk::collector::storage::{ActionFilter, Role};
use common::browser::{Browser, page_is_clean};
use common::collector::TestCollector;
use common::dataset::send;
use common::requests::{dashboard_session, now_answer};

const PASSWORD: &str = "correct horse battery";

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The CSRF token of a page's forms (the logout form's, at least).
fn csrf_of(page: &str) -> String {
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next());
    token.expect("a form's token").to_owned()
}

/// A collector with a floor rule, and a burst of difficult answers at north / returns
/// decided into an alert.
async fn with_an_alert() -> TestCollector {
    let c = TestCollector::start();
    let d = c.add_device("dev-r", "north", "returns");
    c.add_device("dev-s", "south", "exit");
    send(&c, &d, [1, 2, 1, 7].map(now_answer).to_vec()).await;
    let storage = c.storage.clone();
    c.on(async move {
        let rule = Rule {
            id: 0,
            name: "floor".into(),
            condition: Condition::Floor(Share {
                share_pct: 50,
                window_min: 15,
                min_answers: 4,
            }),
            site: None,
            touchpoint: None,
            pending_s: 0,
            clear_s: 900,
            repeat_s: 0,
        };
        storage.add_alert_rule(rule, now_ms()).await?;
        storage.alert_round(now_ms(), vec![]).await
    })
    .unwrap();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_is_acknowledged_with_a_comment_and_the_action_taken() {
    let c = with_an_alert().await;
    c.add_person("anna", Role::Admin, &[], PASSWORD);
    let b = Browser::start().await;
    b.log_in(&c.url, "anna", PASSWORD).await;
    b.click_link("Alerts").await;
    assert_eq!(b.text("h1").await, "Alerts");
    let alert = b.text("section.alert").await;
    assert!(
        alert.contains("Visitors struggle at north / returns"),
        "{alert}"
    );
    assert!(
        alert.contains("3 of 4 answers difficult (75 %) in the last 15 min."),
        "{alert}"
    );
    assert!(alert.contains("Firing"), "{alert}");
    page_is_clean(&b, "alerts").await;

    b.fill(
        "form.ack input[name='comment']",
        "queue at lunch <b>again</b>",
    )
    .await;
    b.fill("form.ack input[name='action']", "second desk 12:00-14:00")
        .await;
    b.click("form.ack button").await;
    let alert = b.text("section.alert").await;
    assert!(alert.contains("Acknowledged"), "{alert}");
    assert!(
        alert.contains("Acknowledged by anna at")
            && alert.contains(": queue at lunch <b>again</b>"),
        "the comment shown as text, not markup: {alert}"
    );
    assert!(
        b.client
            .find(fantoccini::Locator::Css("form.ack"))
            .await
            .is_err(),
        "acknowledged once"
    );
    page_is_clean(&b, "alerts-acknowledged").await;

    // The place's page: the action with its (still empty) before and after, marked on the
    // trend, the alert, and a form to record another action.
    b.goto(&format!("{}place?site=north&touchpoint=returns", c.url))
        .await;
    let actions = b.text("#actions").await;
    assert!(
        actions.contains("by anna: second desk 12:00-14:00"),
        "{actions}"
    );
    assert!(
        actions.contains("No answers here in either window."),
        "{actions}"
    );
    assert!(
        b.client
            .find(fantoccini::Locator::Css("svg line.mark"))
            .await
            .is_ok(),
        "the action's day is marked on the trend"
    );
    let alerts = b.table("place-alerts").await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(
        alerts[1][1].starts_with("3 of 4 answers difficult"),
        "{alerts:?}"
    );
    b.fill("#what", "signage at the entrance").await;
    b.click("form.fields button").await;
    let actions = b.text("#actions").await;
    assert!(
        actions.contains("by anna: signage at the entrance"),
        "{actions}"
    );
    page_is_clean(&b, "place-actions").await;
    b.close().await;

    // The action is recorded at the alert's place, and its effect can be read.
    let storage = c.storage.clone();
    let actions = c
        .on(async move {
            let filter = ActionFilter {
                site: Some("north".into()),
                limit: 10,
                ..ActionFilter::default()
            };
            storage.actions(filter).await
        })
        .unwrap();
    assert_eq!(actions.len(), 2);
    let a = &actions[1];
    assert_eq!(
        (
            a.what.as_str(),
            a.by.as_str(),
            a.touchpoint.as_deref(),
            a.alert_id
        ),
        ("second desk 12:00-14:00", "anna", Some("returns"), Some(1))
    );
    let storage = c.storage.clone();
    let action = a.clone();
    let today = jiff::ZonedDateTime::now().date();
    let e = c
        .on(async move { effect::read(storage.as_ref(), action, 14, 20, today, None).await })
        .unwrap();
    assert_eq!(
        e.days_after_so_far, 0,
        "taken today: its after window begins tomorrow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_of_another_site_neither_sees_nor_acknowledges_the_alert() {
    let c = with_an_alert().await;
    c.add_person("sam", Role::Viewer, &["south"], PASSWORD);
    let session = dashboard_session(&c.url, "sam", PASSWORD).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}alerts", c.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("No open alerts."), "{page}");
    assert!(!page.contains("north"), "{page}");
    let csrf = csrf_of(&page);
    let r = http
        .post(format!("{}alerts/ack", c.url))
        .header("cookie", &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("id", "1"),
            ("comment", "mine now"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let storage = c.storage.clone();
    let open = c
        .on(async move {
            let filter = ces_kiosk::collector::storage::AlertFilter {
                open_only: true,
                sites: None,
                limit: 10,
            };
            storage.alerts(filter).await
        })
        .unwrap();
    assert!(
        open[0].acknowledged.is_none(),
        "still firing, unacknowledged"
    );
    // Without the form's token nothing changes either.
    let r = http
        .post(format!("{}alerts/ack", c.url))
        .header("cookie", &session)
        .form(&[("csrf", "forged"), ("id", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_a_sites_notice_with_the_editor() {
    let c = TestCollector::start();
    c.add_device("dev-r", "north", "returns");
    let storage = c.storage.clone();
    let survey = include_str!("../deploy/examples/survey.toml").to_owned();
    c.on(async move {
        let site = ces_kiosk::collector::storage::ConfigTarget::Site("north".into());
        storage.set_config(site, survey, now_ms()).await
    })
    .unwrap();
    c.add_person("anna", Role::Admin, &[], PASSWORD);
    c.add_person("sam", Role::Viewer, &["north"], PASSWORD);
    let b = Browser::start().await;
    b.log_in(&c.url, "anna", PASSWORD).await;
    b.click_link("Notices").await;
    assert!(b.text("section.site-notice").await.contains("No notice."));
    b.fill(
        "input[name='text.en']",
        "You said check-in was slow: we added a desk.",
    )
    .await;
    b.fill(
        "input[name='text.nl']",
        "U zei dat inchecken traag was: er is een balie bij.",
    )
    .await;
    b.click("form.fields button[value='set']").await;
    let shown = b.text("section.site-notice").await;
    assert!(shown.contains("Shown now, until"), "{shown}");
    assert!(
        shown.contains("en You said check-in was slow: we added a desk."),
        "{shown}"
    );
    page_is_clean(&b, "notices").await;
    b.close().await;

    // Stored as a new version of the site's survey config.
    let storage = c.storage.clone();
    let config = c
        .on(async move { storage.site_config("north").await })
        .unwrap()
        .unwrap();
    assert_eq!(config.version, 2);
    let parsed =
        ces_kiosk::config::SurveyConfig::parse(&config.text, std::path::Path::new("s")).unwrap();
    let notice = parsed.survey.notice.unwrap();
    assert_eq!(
        notice.text["nl"],
        "U zei dat inchecken traag was: er is een balie bij."
    );

    // Over-long, refused by the collector whatever the form allowed; a viewer may not.
    let http = reqwest::Client::new();
    let session = dashboard_session(&c.url, "anna", PASSWORD).await;
    let page = http
        .get(format!("{}notices", c.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let long = "x".repeat(161);
    let r = http
        .post(format!("{}notices", c.url))
        .header("cookie", &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("site", "north"),
            ("until", "2026-12-31"),
            ("text.en", long.as_str()),
            ("text.nl", "kort"),
            ("do", "set"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("at most 160 characters"));
    let viewer = dashboard_session(&c.url, "sam", PASSWORD).await;
    let r = http
        .get(format!("{}notices", c.url))
        .header("cookie", &viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_and_removes_alert_rules() {
    let c = TestCollector::start();
    c.add_person("anna", Role::Admin, &[], PASSWORD);
    let b = Browser::start().await;
    b.log_in(&c.url, "anna", PASSWORD).await;
    b.click_link("Alert rules").await;
    assert!(b.text("#rules").await.contains("No rules yet."));
    b.fill("#rule-name", "desk-floor").await;
    b.fill("#rule-site", "north").await;
    b.fill("#rule-share", "40").await;
    b.fill("#rule-clear", "1200").await;
    b.click("form.add-rule button").await;
    let rules = b.table("rules").await;
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert_eq!(
        rules[1][..4],
        [
            "desk-floor",
            "north",
            "40 % or more difficult within 15 min (at least 4 answers)",
            "pending 0 s, clear after 1200 s, repeat every 14400 s"
        ]
    );
    page_is_clean(&b, "rules").await;
    // The same name again is refused, with the reason.
    b.fill("#rule-name", "desk-floor").await;
    b.click("form.add-rule button").await;
    assert!(b.text("main").await.contains("exists already"));
    b.goto(&format!("{}rules", c.url)).await;
    b.click("button[aria-label='Remove desk-floor']").await;
    assert!(b.text("#rules").await.contains("No rules yet."));
    b.close().await;
    let storage = c.storage.clone();
    assert!(
        c.on(async move { storage.alert_rules().await })
            .unwrap()
            .is_empty()
    );
}
