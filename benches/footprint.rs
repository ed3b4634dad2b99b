//! Footprint and latency benchmark of the real `ces-kiosk` binary under a virtual X server.
//!
//! The terminal runs as installed: `run` with the demo survey and an `[upstream]` section,
//! syncing to a collector that this program runs beside it (not counted in the figures).
//!
//! Prints: time to first window and PSS after start (over several starts), CPU used while the
//! terminal sits idle for 30 s, and store commit latency next to a bare SQLite WAL +
//! `synchronous=FULL` insert on the same disk. Needs `Xvfb` and `xdotool`.
//!
//! Run with `cargo bench --bench footprint` (`-- --quick` for a short run).

#[path = "support/bare.rs"]
mod bare;
#[path = "support/central.rs"]
#[allow(dead_code)]
mod central;
#[path = "support/measure.rs"]
mod measure;
#[path = "../tests/common/postgres.rs"]
#[allow(dead_code)]
mod postgres;
#[path = "../tests/common/xvfb.rs"]
mod xvfb;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use central::Central;
use ces_kiosk::config::Device;
use ces_kiosk::store::{Reply, Request, Store, StoreWriter};
use ces_kiosk::survey::{Answer, InputSource, Survey};
use xvfb::Xvfb;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (starts, idle, commits) = if quick {
        (3, Duration::from_secs(5), 300)
    } else {
        (10, Duration::from_secs(30), 2000)
    };
    println!("ces-kiosk footprint benchmark");
    println!("machine: {}", measure::machine());
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch dir");
    println!("disk: the folder {}", work.path().display());
    println!();

    let central = Central::start(work.path(), ["demo-1".to_owned()]);
    let xvfb = Xvfb::start();
    let bin = env!("CARGO_BIN_EXE_ces-kiosk");
    let mut window_ms = vec![];
    let mut pss_kb = vec![];
    for i in 0..starts {
        let data = work.path().join(format!("start-{i}"));
        let config = central.terminal(&data);
        let mut kiosk = xvfb.spawn_kiosk(bin, &config);
        let t0 = Instant::now();
        window_ms.push(xvfb.wait_for_window(&mut kiosk, t0));
        // Let start-up work (store open, first frames) settle before measuring memory.
        std::thread::sleep(Duration::from_secs(1));
        pss_kb.push(pss(kiosk.id()));
        kiosk.kill().ok();
        kiosk.wait().ok();
    }
    println!(
        "time to first window ({starts} starts): {}",
        stats_ms(&mut window_ms)
    );
    let mut pss_mb: Vec<f64> = pss_kb.iter().map(|kb| *kb as f64 / 1024.0).collect();
    println!(
        "PSS 1 s after start ({starts} starts): {}",
        measure::stats(&mut pss_mb, "MB")
    );

    let config = central.terminal(&work.path().join("idle"));
    let mut kiosk = xvfb.spawn_kiosk(bin, &config);
    xvfb.wait_for_window(&mut kiosk, Instant::now());
    // Past start-up, including the first sync round, whose blocking threads tokio ends after
    // 10 s idle (a thread that ends takes its CPU time out of /proc).
    std::thread::sleep(Duration::from_secs(12));
    println!("{}", measure::idle_cpu(kiosk.id(), idle));
    kiosk.kill().ok();
    kiosk.wait().ok();
    drop(xvfb);
    central.stop();

    println!();
    let (mut bare, mut store, mut tap) = commit_latencies(work.path(), commits);
    println!(
        "bare SQLite WAL+FULL insert ({commits}): {}",
        stats_ms(&mut bare)
    );
    println!(
        "Store::record commit ({commits}):       {}",
        stats_ms(&mut store)
    );
    println!(
        "tap -> confirmed via store thread ({commits}): {}",
        stats_ms(&mut tap)
    );
}

/// Starting and timing the kiosk on the virtual X server.
trait KioskDisplay {
    fn spawn_kiosk(&self, bin: &str, config: &Path) -> Child;
    fn wait_for_window(&self, kiosk: &mut Child, t0: Instant) -> f64;
}

impl KioskDisplay for Xvfb {
    fn spawn_kiosk(&self, bin: &str, config: &Path) -> Child {
        Command::new(bin)
            .args(["run", "--windowed", "--config"])
            .arg(config)
            .env("DISPLAY", &self.display)
            .env("SLINT_BACKEND", "winit-software")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .expect("ces-kiosk starts")
    }

    /// Milliseconds from `t0` until the kiosk's window is mapped (polled with xdotool).
    fn wait_for_window(&self, kiosk: &mut Child, t0: Instant) -> f64 {
        loop {
            if self.xdotool(&["search", "--onlyvisible", "--name", "^ces-kiosk$"]) {
                return t0.elapsed().as_secs_f64() * 1000.0;
            }
            if let Ok(Some(status)) = kiosk.try_wait() {
                panic!("ces-kiosk exited before showing a window: {status}");
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "no window after 20 s"
            );
        }
    }
}

/// A terminal in `data` as installed: the demo survey, syncing to `central`'s first device.
trait Terminals {
    fn terminal(&self, data: &Path) -> std::path::PathBuf;
}

impl Terminals for Central {
    /// A terminal config in `data`: the demo survey, syncing to this collector.
    fn terminal(&self, data: &Path) -> std::path::PathBuf {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(data).expect("terminal folder");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(data.join("credential"))
            .expect("credential file");
        let credential = &self.credentials[0].1;
        std::io::Write::write_all(&mut file, credential.expose().as_bytes()).unwrap();
        let config = data.join("terminal.toml");
        let upstream = format!(
            "\n[upstream]\nurl = \"{}\"\ncredential_file = \"credential\"\n",
            self.url
        );
        std::fs::write(&config, format!("{}{upstream}", ces_kiosk::demo::DEMO_TOML)).unwrap();
        config
    }
}

/// Proportional set size of a process, in kB.
fn pss(pid: u32) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("Pss in smaps_rollup")
}

fn commit_latencies(dir: &Path, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let survey: Survey = ces_kiosk::demo::config(dir).unwrap().survey;
    let device = Device {
        id: "bench-1".into(),
        site: "bench".into(),
        touchpoint: "bench".into(),
    };
    let answer = |i: usize| {
        let score = 1 + (i % 7) as u8;
        Answer::new(
            &survey,
            "en",
            score,
            false,
            InputSource::Touch,
            ces_kiosk::clock::now(),
        )
    };

    let bare = bare::inserts(&dir.join("bare.db"), n);

    let mut store = Store::open(&dir.join("store.db"), &device).unwrap();
    let mut recorded = vec![];
    for i in 0..n {
        let a = answer(i);
        let t = Instant::now();
        store.record(&a).unwrap();
        recorded.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(store);

    let (tx, rx) = std::sync::mpsc::channel();
    let storage = ces_kiosk::config::Storage {
        path: dir.join("writer.db"),
        allow_volatile: false,
    };
    let writer = StoreWriter::spawn(storage, device, move |r| {
        tx.send((r, Instant::now())).unwrap();
    });
    assert!(matches!(rx.recv().unwrap().0, Reply::Opened(Ok(None))));
    let mut tap = vec![];
    for i in 0..n {
        let t = Instant::now();
        writer.send(Request::Record(answer(i))).unwrap();
        let (reply, at) = rx.recv().unwrap();
        assert!(reply.error().is_none());
        tap.push((at - t).as_secs_f64() * 1000.0);
    }
    (bare, recorded, tap)
}

fn stats_ms(v: &mut [f64]) -> String {
    measure::stats(v, "ms")
}
