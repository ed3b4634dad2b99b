//! Alerts end to end: answers uploaded to the real collector, rules evaluated on its live
//! counts, notifications through the outbox to real webhook receivers on 127.0.0.1 that
//! check each signature; too few answers and closed sites; a failing receiver retried;
//! silent and troubled terminals. (`alert_commands.rs`: the binary killed and restarted.)

mod common;

use std::time::Duration;

use ces_kiosk::collector::alert::hours::{OpeningHours, SiteHours};
use ces_kiosk::collector::alert::rule::{Condition, Rule, Share};
use ces_kiosk::collector::alert::settings::{AlertSettings, Email, Format, Hidden, Webhook};
use ces_kiosk::collector::alert::summary::Every;
use ces_kiosk::collector::storage::AlertFilter;
use ces_kiosk::credential::Credential;
use common::collector::TestCollector;
use common::dataset::send;
use common::requests::{answer, now_answer, post};
use common::smtp::SmtpSink;
use common::webhook::{Hit, Receiver};
use serde_json::json;

fn hook(name: &str, receiver: &Receiver, format: Format, secret: Option<&str>) -> Webhook {
    Webhook {
        name: name.into(),
        url: Hidden(receiver.url.parse().unwrap()),
        format,
        secret: secret.map(|s| Hidden(s.to_owned())),
    }
}

/// A collector evaluating its rules every 200 ms and notifying `webhooks`.
fn collector(webhooks: Vec<Webhook>) -> TestCollector {
    collector_mailing(webhooks, None)
}

/// The same, sending e-mail too.
fn collector_mailing(webhooks: Vec<Webhook>, email: Option<Email>) -> TestCollector {
    TestCollector::with_settings(|s| {
        s.alerts = AlertSettings {
            evaluate_every: Duration::from_millis(200),
            webhooks,
            email,
        }
    })
}

/// A collector notifying one signed plain receiver, and the receiver.
fn with_one_receiver() -> (TestCollector, Receiver) {
    let a = Receiver::start(Some("secret-of-endpoint-a"), 0);
    let c = collector(vec![hook(
        "ops",
        &a,
        Format::Plain,
        Some("secret-of-endpoint-a"),
    )]);
    (c, a)
}

/// The anchor's recommended floor rule: 50 % difficult within 15 minutes, 4 answers.
fn floor(name: &str, site: Option<&str>, clear_s: u32, repeat_s: u32) -> Rule {
    Rule {
        id: 0,
        name: name.into(),
        condition: Condition::Floor(Share {
            share_pct: 50,
            window_min: 15,
            min_answers: 4,
        }),
        site: site.map(str::to_owned),
        touchpoint: None,
        pending_s: 0,
        clear_s,
        repeat_s,
    }
}

fn add_rule(c: &TestCollector, rule: Rule) {
    let storage = c.storage.clone();
    c.on(async move { storage.add_alert_rule(rule, now_ms()).await })
        .unwrap();
}

/// Every alert the collector holds, newest first.
fn alerts(c: &TestCollector) -> Vec<ces_kiosk::collector::storage::AlertView> {
    let storage = c.storage.clone();
    c.on(async move {
        let all = AlertFilter {
            limit: 100,
            ..Default::default()
        };
        storage.alerts(all).await
    })
    .unwrap()
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

async fn scores(c: &TestCollector, device: &Credential, scores: &[u8]) {
    send(c, device, scores.iter().map(|&s| now_answer(s)).collect()).await;
}

/// Waits until the receiver has had a request with `event`, and returns every request.
async fn until_event(r: &Receiver, event: &str) -> Vec<Hit> {
    let mut n = 1;
    loop {
        let hits = r.wait_for(n).await;
        if hits.iter().any(|h| h.event == event) {
            return hits;
        }
        n = hits.len() + 1;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_difficult_answers_fires_one_alert_one_email_and_one_signed_webhook_per_endpoint()
 {
    let (a, b, slack) = (
        Receiver::start(Some("secret-of-endpoint-a"), 0),
        Receiver::start(Some("secret-of-endpoint-b"), 0),
        Receiver::start(None, 0),
    );
    let mail = SmtpSink::start();
    let c = collector_mailing(
        vec![
            hook("ops-a", &a, Format::Plain, Some("secret-of-endpoint-a")),
            hook("ops-b", &b, Format::Plain, Some("secret-of-endpoint-b")),
            hook("chat", &slack, Format::Slack, None),
        ],
        Some(mail.settings()),
    );
    // Resolved 2 s after clearing; repeated every second while firing and not acknowledged.
    add_rule(&c, floor("north-floor", Some("north"), 2, 1));
    let returns = c.add_device("dev-r", "north", "returns");
    let desk = c.add_device("dev-d", "north", "desk");
    scores(&c, &returns, &[1, 2, 3, 7]).await;

    let first = a.wait_for(1).await.remove(0);
    assert_eq!(first.event, "firing");
    assert!(
        first.signed,
        "the signature checks out under endpoint a's secret"
    );
    assert_eq!(first.body["delivery"], first.delivery.as_str());
    let alert = &first.body["alert"];
    assert_eq!(
        (&alert["site"], &alert["touchpoint"], &alert["kind"]),
        (&json!("north"), &json!("returns"), &json!("floor"))
    );
    assert_eq!(alert["figures"]["counted"], 4);
    assert_eq!(alert["figures"]["difficult"], 3);
    assert_eq!(
        first.body["text"],
        "3 of 4 answers difficult (75 %) in the last 15 min. Rule north-floor: 50 % or more \
         difficult within 15 min (at least 4 answers)."
    );
    let at_b = b.wait_for(1).await.remove(0);
    assert!(at_b.signed && at_b.event == "firing");
    assert_ne!(
        at_b.delivery, first.delivery,
        "each endpoint has its own delivery"
    );
    let chat = slack.wait_for(1).await.remove(0);
    assert_eq!(
        chat.body["text"],
        "*Visitors struggle at north / returns*\n3 of 4 answers difficult (75 %) in the last 15 \
         min. Rule north-floor: 50 % or more difficult within 15 min (at least 4 answers)."
    );

    let message = mail.wait_for(1).await.remove(0);
    assert_eq!(message["tls"], true, "sent after STARTTLS");
    assert_eq!(message["login"], true);
    assert_eq!(message["to"], json!(["cx@example.org", "ops@example.org"]));
    let text = message["text"].as_str().unwrap();
    assert!(
        text.contains("Subject: Visitors struggle at north / returns"),
        "{text}"
    );
    assert!(text.contains("3 of 4 answers difficult (75 %)"), "{text}");

    // Not acknowledged: it is told again; acknowledged: the repeats stop.
    let repeat = until_event(&a, "repeat").await;
    assert!(repeat.iter().all(|h| h.signed));
    let id = alert["id"].as_i64().unwrap();
    let storage = c.storage.clone();
    let acked = c
        .on(async move {
            storage
                .acknowledge_alert(id, "sam", "second desk opened", now_ms())
                .await
        })
        .unwrap();
    let acked_at = acked.acknowledged.unwrap().at_ms;

    // Easy answers bring the share under 50 %: resolved once clear for 2 s, told once.
    scores(&c, &returns, &[7, 7, 7, 7]).await;
    until_event(&a, "resolved").await;
    // A breach at the desk afterwards: once it is told, every round before it has been.
    scores(&c, &desk, &[1, 1, 1, 1]).await;
    let hits = loop {
        let hits = until_event(&a, "firing").await;
        if hits.iter().any(|h| h.body["alert"]["touchpoint"] == "desk") {
            break hits;
        }
    };
    let of_returns = |event: &str| {
        hits.iter()
            .filter(|h| h.event == event && h.body["alert"]["id"] == id)
            .count()
    };
    assert_eq!(of_returns("firing"), 1, "{hits:#?}");
    assert_eq!(of_returns("resolved"), 1, "{hits:#?}");
    // E-mail: one message per notification, sent in the order they were decided.
    let subject = |m: &serde_json::Value| {
        let text = m["text"].as_str().unwrap_or_default();
        let line = text.lines().find(|l| l.starts_with("Subject: "));
        line.unwrap_or_default().to_owned()
    };
    let desk_subject = "Subject: Visitors struggle at north / desk";
    let mut n = 1;
    let subjects: Vec<String> = loop {
        let all: Vec<String> = mail.wait_for(n).await.iter().map(subject).collect();
        if all.iter().any(|s| s == desk_subject) {
            break all;
        }
        n = all.len() + 1;
    };
    let count = |wanted: &str| subjects.iter().filter(|s| *s == wanted).count();
    assert_eq!(
        count("Subject: Visitors struggle at north / returns"),
        1,
        "{subjects:?}"
    );
    assert_eq!(
        count("Subject: Resolved: Visitors struggle at north / returns"),
        1,
        "{subjects:?}"
    );
    let late_repeats = c.sql_number(&format!(
        "SELECT count(*) FROM outbox WHERE event = 'repeat' AND alert_id = {id}
            AND created_at_ms >= {acked_at}"
    ));
    assert_eq!(
        late_repeats, 0,
        "no repeat decided after the acknowledgement"
    );
    let resolved_at = c.sql_number(&format!(
        "SELECT resolved_at_ms FROM alerts WHERE id = {id}"
    ));
    assert!(
        resolved_at - acked_at >= 2000,
        "the alert stayed open over two repeat intervals after its acknowledgement"
    );
    let all = alerts(&c);
    assert_eq!(all.len(), 2, "one alert per place: {all:#?}");
    let resolved = all.iter().find(|v| v.id == id).unwrap();
    assert_eq!(
        resolved.acknowledged.as_ref().unwrap().comment,
        "second desk opened"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_few_answers_a_closed_site_or_old_answers_fire_nothing() {
    let (c, a) = with_one_receiver();
    // A site open all day on a weekday that is not today (in UTC): closed now.
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let other = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [(today.weekday().to_monday_zero_offset() as usize + 3) % 7];
    let storage = c.storage.clone();
    let hours = OpeningHours::parse(&format!("{other} 00:00-24:00")).unwrap();
    c.on(async move {
        storage
            .set_site(SiteHours {
                site: "closed".into(),
                time_zone: "UTC".into(),
                hours,
                summary: Every::Never,
                summary_through: None,
            })
            .await
    })
    .unwrap();
    add_rule(&c, floor("fleet-floor", None, 60, 0));
    let few = c.add_device("dev-few", "open", "few");
    let shut = c.add_device("dev-shut", "closed", "desk");
    let late = c.add_device("dev-late", "open", "late");
    let marker = c.add_device("dev-marker", "open", "marker");
    scores(&c, &few, &[1, 1, 1]).await;
    scores(&c, &shut, &[1, 1, 1, 1]).await;
    // Given two days ago, uploaded now (a terminal back from an outage): too old to alert.
    let two_days_ago = jiff::Timestamp::from_millisecond(now_ms() - 48 * 3_600_000).unwrap();
    let old = (0..4)
        .map(|_| answer("ces7", 1, &two_days_ago.to_string()))
        .collect();
    send(&c, &late, old).await;
    scores(&c, &marker, &[1, 2, 3, 1]).await;
    let hit = a.wait_for(1).await.remove(0);
    assert_eq!(hit.body["alert"]["touchpoint"], "marker");
    // The round that fired the marker saw the others' answers too: they were stored first.
    let all = alerts(&c);
    let places: Vec<_> = all.iter().map(|v| v.touchpoint.as_str()).collect();
    assert_eq!(places, ["marker"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_endpoint_is_retried_with_growing_waits_while_another_gets_its_message_at_once() {
    let good = Receiver::start(Some("secret-of-endpoint-a"), 0);
    let failing = Receiver::start(Some("secret-of-endpoint-b"), 3);
    let c = collector(vec![
        hook("good", &good, Format::Plain, Some("secret-of-endpoint-a")),
        hook(
            "failing",
            &failing,
            Format::Plain,
            Some("secret-of-endpoint-b"),
        ),
    ]);
    add_rule(&c, floor("fleet-floor", None, 60, 0));
    let d = c.add_device("dev", "north", "returns");
    scores(&c, &d, &[1, 1, 1, 1]).await;
    let tries = failing.wait_for(4).await;
    let at_good = good.wait_for(1).await.remove(0);
    assert!(
        at_good.at < tries[1].at,
        "the good endpoint had its message before the failing one was tried again"
    );
    assert_eq!(
        tries.iter().map(|h| h.status).collect::<Vec<_>>(),
        [500, 500, 500, 200]
    );
    assert!(
        tries
            .iter()
            .all(|h| h.delivery == tries[0].delivery && h.signed)
    );
    let gaps: Vec<Duration> = tries.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(900), "{gaps:?}");
    assert!(gaps[1] >= gaps[0] + Duration::from_millis(500), "{gaps:?}");
    assert!(gaps[2] >= gaps[1] + Duration::from_millis(1000), "{gaps:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_terminal_and_one_in_trouble_fire() {
    let (c, a) = with_one_receiver();
    // Never heard from since it was added (at time 0).
    c.add_device("dev-quiet", "north", "returns");
    let alive = c.add_device("dev-alive", "north", "desk");
    let troubled = c.add_device("dev-troubled", "north", "exit");
    for (device, dead_letters) in [(&alive, 0), (&troubled, 2)] {
        let beat = json!({
            "device_time": jiff::Timestamp::now().to_string(), "app_version": "0.1.0",
            "boot_id": "b-1", "clock_trusted": true, "queue_depth": 0,
            "dead_letters": dead_letters
        });
        let body = serde_json::to_vec(&beat).unwrap();
        assert_eq!(
            post(&c, "v1/heartbeat", Some(device), body, false)
                .await
                .status,
            200
        );
        scores(&c, device, &[7]).await;
    }
    let silent = Rule {
        condition: Condition::Silent { hours: 1 },
        clear_s: 0,
        ..floor("silent", Some("north"), 0, 0)
    };
    let trouble = Rule {
        condition: Condition::Trouble,
        ..silent.clone()
    };
    add_rule(
        &c,
        Rule {
            name: "trouble".into(),
            ..trouble
        },
    );
    add_rule(&c, silent);
    let hits = a.wait_for(2).await;
    let mut told: Vec<(String, String)> = hits
        .iter()
        .map(|h| {
            let a = &h.body["alert"];
            (
                a["kind"].as_str().unwrap().into(),
                a["device"].as_str().unwrap().into(),
            )
        })
        .collect();
    told.sort();
    assert_eq!(
        told,
        [
            ("silent".to_owned(), "dev-quiet".to_owned()),
            ("trouble".to_owned(), "dev-troubled".to_owned())
        ]
    );
    assert_eq!(
        hits.iter()
            .find(|h| h.body["alert"]["kind"] == "trouble")
            .unwrap()
            .body["text"],
        "2 answers given up on (dead letters). Rule trouble: dead letters, or a survey config \
         refused."
    );
    let all = alerts(&c);
    assert_eq!(all.len(), 2, "{all:#?}");
}
