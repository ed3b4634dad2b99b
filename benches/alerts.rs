//! Alert benchmark: a collector filled with a year of answers from 1,000 terminals (ending
//! yesterday, so that its last day is in the live counts) through the real upload route;
//! then (a) one evaluation round of 5 rules over the 1,000 places, timed at the busiest
//! hour of yesterday, as the collector's evaluation task runs it (one writer transaction);
//! (b) the time from the upload of the answer that crosses a floor rule's threshold to its
//! webhook at a receiver on 127.0.0.1, with the collector evaluating every second.
//!
//! Prints p50/p99 of both. Run with `cargo bench --bench alerts` (10 million answers;
//! `-- --answers 1000000` for another size).

#[path = "support/central.rs"]
#[allow(dead_code)]
mod central;
#[path = "support/measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../tests/common/postgres.rs"]
#[allow(dead_code)]
mod postgres;
#[path = "support/year.rs"]
#[allow(dead_code)]
mod year;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use central::Central;
use ces_kiosk::collector::alert::rule::{Condition, Rule, Share};
use ces_kiosk::collector::alert::settings::{AlertSettings, Format, Hidden, Webhook};
use ces_kiosk::collector::storage::NewDevice;
use ces_kiosk::credential::{Credential, Kind};
use jiff::ToSpan;

/// Timed rounds, after three untimed ones.
const ROUNDS: usize = 40;
/// Threshold crossings timed to their webhook.
const CROSSINGS: usize = 20;

/// A webhook receiver that notes when each touchpoint's first firing arrived.
struct Receiver {
    url: String,
    firing: Arc<Mutex<HashMap<String, Instant>>>,
    told: Arc<tokio::sync::Notify>,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let firing = Arc::new(Mutex::new(HashMap::new()));
        let told = Arc::new(tokio::sync::Notify::new());
        let (seen, wake) = (firing.clone(), told.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: String| async move {
                let at = Instant::now();
                let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                if v["event"] == "firing"
                    && let Some(place) = v["alert"]["touchpoint"].as_str()
                {
                    seen.lock().unwrap().entry(place.to_owned()).or_insert(at);
                    wake.notify_waiters();
                }
                "ok"
            }),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url,
            firing,
            told,
            _runtime: runtime,
        }
    }

    /// Waits until `place` has fired and returns when its webhook arrived.
    async fn fired(&self, place: &str) -> Instant {
        loop {
            let told = self.told.notified();
            if let Some(at) = self.firing.lock().unwrap().get(place) {
                return *at;
            }
            tokio::time::timeout(Duration::from_secs(30), told)
                .await
                .unwrap_or_else(|_| panic!("{place} fired within 30 s"));
        }
    }
}

fn rule(name: &str, condition: Condition, site: Option<&str>) -> Rule {
    Rule {
        id: 0,
        name: name.into(),
        condition,
        site: site.map(str::to_owned),
        touchpoint: None,
        pending_s: 0,
        clear_s: 900,
        repeat_s: 4 * 3600,
    }
}

fn main() {
    let size: usize = std::env::args()
        .skip_while(|a| a != "--answers")
        .nth(1)
        .map_or(10_000_000, |n| n.parse().expect("--answers N"));
    println!("machine: {}", measure::machine());
    let receiver = Receiver::start();
    let alerts = |every| AlertSettings {
        evaluate_every: Duration::from_secs(every),
        webhooks: vec![Webhook {
            name: "bench".into(),
            url: Hidden(receiver.url.parse().unwrap()),
            format: Format::Plain,
            secret: Some(Hidden("a secret of the benchmark".into())),
        }],
        email: None,
    };
    let channels = alerts(1).channels();
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let first = today.checked_sub(365.days()).unwrap();
    let work = tempfile::tempdir_in(std::env::temp_dir()).expect("a work folder");
    // Its own evaluation only once an hour: the timed rounds are the only ones.
    let (central, stored) = Central::fill_from(work.path(), size, true, first, alerts(3600));

    // (a) Five rules over the fleet, evaluated at yesterday 12:00 (+01:00), a busy hour.
    let share = |share_pct, window_min, min_answers| Share {
        share_pct,
        window_min,
        min_answers,
    };
    let rules = [
        rule("floor", Condition::Floor(share(50, 15, 4)), None),
        rule(
            "site-floor",
            Condition::Floor(share(40, 60, 4)),
            Some("site-007"),
        ),
        rule("praise", Condition::Praise(share(90, 60, 10)), None),
        rule("silent", Condition::Silent { hours: 2 }, None),
        rule("trouble", Condition::Trouble, None),
    ];
    let storage = central.storage.clone();
    central.on(async {
        for r in rules {
            storage.add_alert_rule(r, 0).await.unwrap();
        }
    });
    let noon = format!("{}T12:00:00+01:00", today.yesterday().unwrap())
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    let mut times = Vec::new();
    let mut queued = 0;
    for i in 0..ROUNDS + 3 {
        let at = noon + i as i64 * 1000;
        let start = Instant::now();
        let n = central
            .on(storage.alert_round(at, channels.clone()))
            .unwrap();
        if i >= 3 {
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        queued += n;
    }
    let open = central.on(storage.alerts(ces_kiosk::collector::storage::AlertFilter {
        open_only: true,
        sites: None,
        limit: 100_000,
    }));
    println!(
        "{size} answers ({stored} stored), 1,000 places, 5 rules: one evaluation round {} \
         ({} alerts open, {queued} notifications queued)",
        measure::stats(&mut times, "ms"),
        open.unwrap().len()
    );

    // (b) The collector evaluating every second, with only a floor rule for the probe site:
    // answers crossing it, timed to the webhook.
    let central = central.restart(work.path(), alerts(1));
    let storage = central.storage.clone();
    central.on(async {
        for name in ["floor", "site-floor", "praise", "silent", "trouble"] {
            storage.remove_alert_rule(name, 0).await.unwrap();
        }
        let probe = rule(
            "probe-floor",
            Condition::Floor(share(50, 15, 4)),
            Some("probe"),
        );
        storage.add_alert_rule(probe, 0).await.unwrap();
    });
    let http = ces_kiosk::sync::transport::client(Duration::from_secs(30)).unwrap();
    let mut latencies = Vec::new();
    for i in 0..CROSSINGS {
        let (id, place) = (format!("probe-{i}"), format!("probe-desk-{i}"));
        let credential = Credential::generate(Kind::Device);
        let device = NewDevice {
            id: id.clone(),
            site: "probe".into(),
            touchpoint: place.clone(),
            credential_hash: credential.hash(),
            created_at_ms: 0,
        };
        central.on(storage.add_device(device)).unwrap();
        let now = ces_kiosk::clock::now().local;
        let ms = now.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let answers: Vec<serde_json::Value> = (0..4)
            .map(|_| {
                serde_json::json!({
                    "id": uuid::Uuid::now_v7(), "seq": 1, "boot_id": "b", "device_time": now,
                    "device_time_ms": ms, "clock_trusted": true, "question_id": "visit-ease",
                    "question_version": 1, "language": "en", "scale": "ces7",
                    "direction": "higher_is_easier", "score": 1, "low": true,
                    "suppressed": false, "input": "touch"
                })
            })
            .collect();
        let body = serde_json::json!({ "device_time": now, "answers": answers });
        let url = format!("{}v1/answers", central.url);
        let arrived = central.on(async {
            let start = Instant::now();
            let reply = http
                .post(&url)
                .bearer_auth(credential.expose())
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200);
            let at = receiver.fired(&place).await;
            at - start
        });
        latencies.push(arrived.as_secs_f64() * 1000.0);
    }
    println!(
        "the answer crossing a floor rule to its webhook, evaluated every 1 s: {}",
        measure::stats(&mut latencies, "ms")
    );
    central.stop();
}
