//! Scale-out benchmark: the collector on SQLite, one collector on PostgreSQL, and two
//! collectors on one PostgreSQL database (each terminal sent to one of them, as a round-robin
//! balancer does), each on a runtime of its own, the PostgreSQL server a throwaway one from
//! Debian's binaries on the same machine. For each:
//!
//! (a) closed loop: 200 simulated terminals each send batches of 50 answers one after the
//!     other as fast as they are answered: answers stored per second;
//! (b) open loop: 1,000 terminals each send a batch of 10 answers every 2 s (500 batches a
//!     second offered, whatever the replies): batch latency p50 and p99;
//! (c) the herd after an outage: 1,000 terminals come back at once with 2,000 queued answers
//!     each, sent in batches of 1,000 (429 and 503 are waited out as their `Retry-After`
//!     says); how long until all are stored, what came back, and the dashboard's overview
//!     timed meanwhile.
//!
//! Run with `cargo bench --bench scale` (`-- --quick` for a short run: a tenth of (c);
//! `-- --batches-at-once N` for the collectors' `[storage] batches_at_once`; `-- --only
//! sqlite|postgres|two` for one backend).

#[path = "support/central.rs"]
#[allow(dead_code)]
mod central;
#[path = "support/measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../tests/common/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use central::{Central, wire_answer};
use ces_kiosk::collector::database::Database;
use ces_kiosk::collector::storage::postgres::PgSettings;
use ces_kiosk::credential::Credential;
use ces_kiosk::survey::{Answer, InputSource};
use ces_kiosk::sync::Payload;

const TERMINALS: usize = 1_000;
const CLOSED_TERMINALS: usize = 200;

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
    TwoOnPostgres,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (closed_batches, open_seconds, herd_terminals, herd_answers) = if quick {
        (5, 10, 200, 1_000)
    } else {
        (20, 20, TERMINALS, 2_000)
    };
    let batches_at_once: Option<usize> = std::env::args()
        .skip_while(|a| a != "--batches-at-once")
        .nth(1)
        .map(|n| n.parse().expect("--batches-at-once N"));
    let only: Option<String> = std::env::args().skip_while(|a| a != "--only").nth(1);
    println!("ces-collector scale-out benchmark");
    println!("machine: {}", measure::machine());
    println!(
        "PostgreSQL: pool_size 16, batches_at_once {}",
        batches_at_once.map_or("4 (the default)".to_owned(), |n| n.to_string())
    );
    ces_kiosk::sync::transport::install_crypto_provider();
    let mut rates = BTreeMap::new();
    let backends = [
        ("sqlite", Backend::Sqlite),
        ("postgres", Backend::Postgres),
        ("two", Backend::TwoOnPostgres),
    ];
    if let Some(only) = &only {
        assert!(
            backends.iter().any(|(name, _)| name == only),
            "--only sqlite|postgres|two"
        );
    }
    for (_, backend) in backends
        .into_iter()
        .filter(|(name, _)| only.as_deref().is_none_or(|only| only == *name))
    {
        let work = tempfile::tempdir_in(std::env::temp_dir()).expect("a work folder");
        let database = match backend {
            Backend::Sqlite => Database::Sqlite(work.path().join("collector.db")),
            _ => Database::Postgres(PgSettings {
                url: postgres::database(),
                password_file: None,
                ca_file: None,
                pool_size: 16,
                batches_at_once,
            }),
        };
        let devices = (0..TERMINALS).map(|i| {
            (
                format!("t-{i:04}"),
                format!("site-{:03}", i / 10),
                format!("desk-{}", i % 10),
            )
        });
        let first = Central::start_on(database, devices);
        let second = matches!(backend, Backend::TwoOnPostgres).then(|| first.another());
        let urls: Vec<String> = [Some(&first), second.as_ref()]
            .into_iter()
            .flatten()
            .map(|c| c.url.clone())
            .collect();
        println!("\n{backend:?} ({} collector(s))", urls.len());

        let (rate, mut latencies) = closed_loop(&first, &urls, closed_batches);
        println!(
            "  (a) closed loop, {CLOSED_TERMINALS} terminals x {closed_batches} batches of 50: \
             {rate:.0} answers/s; batch latency {}",
            measure::stats(&mut latencies, "ms")
        );
        rates.insert(format!("{backend:?}"), rate);

        let (mut latencies, sent, failed) = open_loop(&first, &urls, open_seconds);
        println!(
            "  (b) open loop, {TERMINALS} terminals x a batch of 10 every 2 s for {open_seconds} \
             s ({sent} batches, {:.0} a second offered, {failed} not 200): batch latency {} \
             (target p99 <= 50 ms)",
            sent as f64 / open_seconds as f64,
            measure::stats(&mut latencies, "ms")
        );

        let herd = herd(&first, &urls, herd_terminals, herd_answers);
        println!(
            "  (c) herd, {herd_terminals} terminals x {herd_answers} queued answers at once: all \
             {} stored in {:.1} s (target <= 300 s); replies {:?}; dashboard overview \
             meanwhile ({} loads): {} (target p99 <= 300 ms)",
            herd.stored,
            herd.seconds,
            herd.statuses,
            herd.pages.len(),
            measure::stats(&mut herd.pages.clone(), "ms")
        );
        println!(
            "      the overview's loads in order, ms: {:?}",
            herd.pages
                .iter()
                .map(|p| p.round() as u32)
                .collect::<Vec<_>>()
        );
        let verification = first.on(first.storage.verify_counts()).unwrap();
        println!(
            "  stored {} answers in all; the rollups count them exactly: {}",
            verification.answers,
            verification.differences.is_empty()
        );
        if let Some(second) = second {
            second.stop();
        }
        first.stop();
    }
    if let (Some(one), Some(two)) = (rates.get("Postgres"), rates.get("TwoOnPostgres")) {
        println!(
            "\ntwo collectors on PostgreSQL take {:.2}x the answers of one (target >= 1.6)",
            two / one
        );
    }
}

/// A batch of `n` answers given now, with sequence numbers from `*seq` on, gzipped.
fn payload(n: usize, seq: &mut i64) -> Payload {
    static SURVEY: std::sync::OnceLock<ces_kiosk::survey::Survey> = std::sync::OnceLock::new();
    let survey = SURVEY.get_or_init(|| {
        ces_kiosk::demo::config(std::path::Path::new("."))
            .unwrap()
            .survey
    });
    let answers: Vec<_> = (0..n)
        .map(|i| {
            let a = Answer::new(
                survey,
                "en",
                1 + (i % 7) as u8,
                false,
                InputSource::Touch,
                ces_kiosk::clock::now(),
            );
            *seq += 1;
            wire_answer(&a, *seq)
        })
        .collect();
    ces_kiosk::sync::batch::encode(&answers, usize::MAX, &ces_kiosk::clock::now().local).payload
}

fn load_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Sends one batch; returns its status and how long the reply took, in ms.
async fn send(
    http: &reqwest::Client,
    url: &str,
    credential: &Credential,
    body: Vec<u8>,
) -> (u16, Option<u64>, f64) {
    let start = Instant::now();
    let reply = http
        .post(format!("{url}v1/answers"))
        .bearer_auth(credential.expose())
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(body)
        .send()
        .await;
    match reply {
        Ok(reply) => {
            let status = reply.status().as_u16();
            let wait = reply
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()?.parse().ok());
            let _ = reply.bytes().await;
            (status, wait, start.elapsed().as_secs_f64() * 1000.0)
        }
        Err(_) => (0, None, start.elapsed().as_secs_f64() * 1000.0),
    }
}

/// (a): answers per second and each batch's latency.
fn closed_loop(central: &Central, urls: &[String], batches: usize) -> (f64, Vec<f64>) {
    let work: Vec<(String, Credential, Vec<Vec<u8>>)> = central.credentials[..CLOSED_TERMINALS]
        .iter()
        .enumerate()
        .map(|(i, (_, c))| {
            let mut seq = 0;
            let bodies = (0..batches).map(|_| payload(50, &mut seq).bytes).collect();
            (urls[i % urls.len()].clone(), c.clone(), bodies)
        })
        .collect();
    let load = load_runtime();
    let (elapsed, latencies) = load.block_on(async move {
        let t = Instant::now();
        let tasks: Vec<_> = work
            .into_iter()
            .map(|(url, credential, bodies)| {
                tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    let mut latencies = vec![];
                    for body in bodies {
                        let (status, _, ms) = send(&http, &url, &credential, body).await;
                        assert_eq!(status, 200, "a closed-loop batch");
                        latencies.push(ms);
                    }
                    latencies
                })
            })
            .collect();
        let mut all = vec![];
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        (t.elapsed(), all)
    });
    let answers = (CLOSED_TERMINALS * batches * 50) as f64;
    (answers / elapsed.as_secs_f64(), latencies)
}

/// (b): each batch's latency, how many were sent and how many were not answered 200.
fn open_loop(central: &Central, urls: &[String], seconds: u64) -> (Vec<f64>, usize, usize) {
    let rounds = (seconds / 2) as usize;
    let work: Vec<(String, Credential, Vec<Vec<u8>>)> = central
        .credentials
        .iter()
        .enumerate()
        .map(|(i, (_, c))| {
            // After the closed loop's sequence numbers: each terminal's own.
            let mut seq = 1_000_000;
            let bodies = (0..rounds).map(|_| payload(10, &mut seq).bytes).collect();
            (urls[i % urls.len()].clone(), c.clone(), bodies)
        })
        .collect();
    let load = load_runtime();
    let results = Arc::new(Mutex::new(Vec::new()));
    let kept = results.clone();
    load.block_on(async move {
        let http = reqwest::Client::new();
        let start = tokio::time::Instant::now();
        let mut sends = vec![];
        for (i, (url, credential, bodies)) in work.into_iter().enumerate() {
            let (http, results) = (http.clone(), kept.clone());
            // Terminals spread evenly over the 2 s.
            let phase = Duration::from_micros((i * 2_000_000 / TERMINALS) as u64);
            sends.push(tokio::spawn(async move {
                let mut sent = vec![];
                for (round, body) in bodies.into_iter().enumerate() {
                    let at = start + phase + Duration::from_secs(2 * round as u64);
                    tokio::time::sleep_until(at).await;
                    let (http, url, credential, results) = (
                        http.clone(),
                        url.clone(),
                        credential.clone(),
                        results.clone(),
                    );
                    // Sent whether or not the previous one was answered: an open loop.
                    sent.push(tokio::spawn(async move {
                        let (status, _, ms) = send(&http, &url, &credential, body).await;
                        results.lock().unwrap().push((status, ms));
                    }));
                }
                for s in sent {
                    s.await.unwrap();
                }
            }));
        }
        for s in sends {
            s.await.unwrap();
        }
    });
    let results = results.lock().unwrap();
    let failed = results.iter().filter(|(s, _)| *s != 200).count();
    let latencies = results.iter().map(|(_, ms)| *ms).collect();
    (latencies, results.len(), failed)
}

struct Herd {
    stored: u64,
    seconds: f64,
    statuses: BTreeMap<u16, usize>,
    pages: Vec<f64>,
}

/// (c): the herd after an outage, with the overview page loaded every half second.
fn herd(central: &Central, urls: &[String], terminals: usize, answers: usize) -> Herd {
    let work: Vec<(String, Credential, Vec<Vec<u8>>)> = central.credentials[..terminals]
        .iter()
        .enumerate()
        .map(|(i, (_, c))| {
            let mut seq = 2_000_000;
            let bodies = (0..answers / 1000)
                .map(|_| payload(1000, &mut seq).bytes)
                .collect();
            (urls[i % urls.len()].clone(), c.clone(), bodies)
        })
        .collect();
    let page_url = urls[0].clone();
    let session = central.session.clone();
    // The page is loaded from a thread and runtime of its own, as a browser elsewhere would:
    // not queued behind the thousand terminals' requests in the load's runtime.
    let done = tokio_util::sync::CancellationToken::new();
    let watching = {
        let done = done.clone();
        std::thread::spawn(move || {
            let watcher = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            watcher.block_on(async move {
                let http = ces_kiosk::sync::transport::client(Duration::from_secs(120)).unwrap();
                let mut pages = vec![];
                while !done.is_cancelled() {
                    let start = Instant::now();
                    let reply = http.get(&page_url).header("cookie", &session).send().await;
                    if let Ok(reply) = reply {
                        let ok = reply.status() == 200;
                        let _ = reply.bytes().await;
                        if ok {
                            pages.push(start.elapsed().as_secs_f64() * 1000.0);
                        }
                    }
                    tokio::select! {
                        () = done.cancelled() => {}
                        () = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
                pages
            })
        })
    };
    let load = load_runtime();
    let (seconds, statuses) = load.block_on(async move {
        let http = ces_kiosk::sync::transport::client(Duration::from_secs(120)).unwrap();
        let start = Instant::now();
        let tasks: Vec<_> = work
            .into_iter()
            .map(|(url, credential, bodies)| {
                let http = http.clone();
                tokio::spawn(async move {
                    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
                    for body in bodies {
                        loop {
                            let (status, wait, _) =
                                send(&http, &url, &credential, body.clone()).await;
                            *statuses.entry(status).or_default() += 1;
                            if status == 200 {
                                break;
                            }
                            // Back-pressure as the terminal takes it: Retry-After, else 1 s.
                            tokio::time::sleep(Duration::from_secs(wait.unwrap_or(1).min(30)))
                                .await;
                        }
                    }
                    statuses
                })
            })
            .collect();
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        for task in tasks {
            for (status, n) in task.await.unwrap() {
                *statuses.entry(status).or_default() += n;
            }
        }
        (start.elapsed().as_secs_f64(), statuses)
    });
    done.cancel();
    let pages = watching.join().unwrap();
    Herd {
        stored: (terminals * (answers / 1000) * 1000) as u64,
        seconds,
        statuses,
        pages,
    }
}
