//! Sync and ingest benchmark: the real uploader draining a queue to the real collector on
//! loopback, against the same answers sent one request each, and the collector taking
//! batches from 200 concurrent simulated terminals.
//!
//! Prints answers per second (median over runs) and per-batch latency (median and p99).
//! Run with `cargo bench --bench sync` (`-- --quick` for a short run).

#[path = "support/central.rs"]
#[allow(dead_code)]
mod central;
#[path = "support/measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../tests/common/postgres.rs"]
#[allow(dead_code)]
mod postgres;
#[path = "support/queue.rs"]
mod queue;

use std::path::Path;
use std::time::Instant;

use central::{Central, wire_answer};
use ces_kiosk::credential::Credential;
use ces_kiosk::survey::{Answer, InputSource};
use ces_kiosk::sync::batch;
use queue::{drain, fill};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (queued, single, runs, devices, batches) = if quick {
        (20_000, 1_000, 2, 200, 5)
    } else {
        (100_000, 5_000, 5, 200, 20)
    };
    println!("ces-kiosk sync benchmark");
    println!("machine: {}", measure::machine());
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch dir");
    println!("disk: the folder {}", work.path().display());
    ces_kiosk::sync::transport::install_crypto_provider();

    let template = work.path().join("queued.db");
    let t = Instant::now();
    fill(&template, queued);
    println!(
        "\nqueued {queued} answers with Store::record in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let small = work.path().join("small.db");
    fill(&small, single);

    let mut drained = vec![];
    for run in 0..runs {
        let rate = drain(work.path(), &template, run, queued, 1000);
        println!("  drain run {}: {rate:.0} answers/s", run + 1);
        drained.push(rate);
    }
    let mut singles = vec![];
    for run in 0..runs.min(3) {
        let rate = drain(work.path(), &small, 100 + run, single, 1);
        println!("  one-per-request run {}: {rate:.0} answers/s", run + 1);
        singles.push(rate);
    }
    let drain_median = median(&mut drained);
    let single_median = median(&mut singles);
    println!(
        "drain {queued} queued answers, batches of up to 1000 (gzip), to a loopback collector: \
         median {drain_median:.0} answers/s over {runs} runs (target >= 50000)"
    );
    println!(
        "the same kind of answers one request each ({single} queued): median {single_median:.0} \
         answers/s; batching is {:.0}x faster (target >= 50x)",
        drain_median / single_median
    );

    println!();
    let (rate, mut latencies) = ingest(work.path(), devices, batches, 50);
    println!(
        "collector ingest, {devices} concurrent simulated devices x {batches} batches of 50 \
         answers (gzip): {rate:.0} answers/s"
    );
    println!(
        "  batch latency ({} batches): {}",
        latencies.len(),
        measure::stats(&mut latencies, "ms")
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `devices` simulated terminals each send `batches` batches of `size` answers at once;
/// returns answers per second and each batch's latency in ms.
fn ingest(dir: &Path, devices: usize, batches: usize, size: usize) -> (f64, Vec<f64>) {
    let dir = dir.join("ingest");
    std::fs::create_dir_all(&dir).unwrap();
    let bench = Central::start(&dir, (0..devices).map(|i| format!("sim-{i}")));
    let survey = ces_kiosk::demo::config(Path::new(".")).unwrap().survey;
    // Every request body made up front, compressed as the terminal does it.
    let bodies: Vec<(Credential, Vec<ces_kiosk::sync::Payload>)> = bench
        .credentials
        .iter()
        .map(|(_, cred)| {
            let payloads = (0..batches)
                .map(|b| {
                    let answers: Vec<_> = (0..size)
                        .map(|i| {
                            let a = Answer::new(
                                &survey,
                                "en",
                                1 + (i % 7) as u8,
                                false,
                                InputSource::Touch,
                                ces_kiosk::clock::now(),
                            );
                            wire_answer(&a, (b * size + i + 1) as i64)
                        })
                        .collect();
                    batch::encode(&answers, usize::MAX, &ces_kiosk::clock::now().local).payload
                })
                .collect();
            (cred.clone(), payloads)
        })
        .collect();
    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = bench.url.clone();
    let (elapsed, latencies) = load.block_on(async move {
        let t = Instant::now();
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|(cred, payloads)| {
                let url = format!("{url}v1/answers");
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut latencies = vec![];
                    for p in payloads {
                        let sent = Instant::now();
                        let reply = client
                            .post(&url)
                            .bearer_auth(cred.expose())
                            .header("content-type", "application/json")
                            .header("content-encoding", "gzip")
                            .body(p.bytes)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(reply.status(), 200);
                        reply.bytes().await.unwrap();
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
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
    bench.stop();
    let total = (devices * batches * size) as f64;
    (total / elapsed.as_secs_f64(), latencies)
}
