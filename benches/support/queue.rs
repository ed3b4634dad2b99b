//! A terminal's queue for the benchmarks: answers recorded as a terminal records them, and
//! the real uploader draining them to a collector on loopback.

use std::path::Path;
use std::time::{Duration, Instant};

use super::central::Central;
use ces_kiosk::config::Device;
use ces_kiosk::store::Store;
use ces_kiosk::survey::{Answer, InputSource};
use ces_kiosk::sync::policy::Backoff;
use ces_kiosk::sync::{HttpTransport, Settings, Uploader};
use tokio_util::sync::CancellationToken;

pub fn device() -> Device {
    Device {
        id: "bench-1".into(),
        site: "bench-site".into(),
        touchpoint: "bench-desk".into(),
    }
}

/// A terminal database with `n` answers waiting, recorded the way a terminal records them.
pub fn fill(path: &Path, n: usize) {
    let survey = ces_kiosk::demo::config(Path::new(".")).unwrap().survey;
    let mut store = Store::open(path, &device()).unwrap();
    for i in 0..n {
        let score = 4 + (i % 4) as u8; // no follow-up holds these back
        let a = Answer::new(
            &survey,
            "en",
            score,
            false,
            InputSource::Touch,
            ces_kiosk::clock::now(),
        );
        store.record(&a).unwrap();
    }
}

/// Drains `count` of the queued answers (a copy of `template`) with batches of `batch`;
/// returns answers per second.
pub fn drain(dir: &Path, template: &Path, run: usize, count: usize, batch: usize) -> f64 {
    let dir = dir.join(format!("drain-{run}"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("answers.db");
    std::fs::copy(template, &db).unwrap();
    let bench = Central::start(&dir, ["bench-1".to_owned()]);
    let settings = Settings {
        batch_max_answers: batch,
        batch_max_bytes: Settings::BATCH_MAX_BYTES,
        upload_delay: Duration::ZERO,
        heartbeat: Duration::from_secs(3600),
        keep_synced: Duration::from_secs(86_400),
        backoff: Backoff::default(),
    };
    let transport = HttpTransport::new(
        reqwest::Url::parse(&bench.url).unwrap(),
        &bench.credentials[0].1,
        Duration::from_secs(30),
    )
    .unwrap();
    let uploader_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rate = uploader_rt.block_on(async {
        let (uploader, handle) = Uploader::new(transport, db, device(), settings);
        let mut status = handle.status();
        let stop = CancellationToken::new();
        let t = Instant::now();
        let task = tokio::spawn(uploader.run(stop.clone()));
        status
            .wait_for(|s| s.uploaded as usize >= count)
            .await
            .unwrap();
        let elapsed = t.elapsed();
        let last_error = status.borrow().last_error.clone();
        assert!(last_error.is_none(), "{last_error:?}");
        stop.cancel();
        task.await.unwrap();
        count as f64 / elapsed.as_secs_f64()
    });
    bench.stop();
    rate
}
