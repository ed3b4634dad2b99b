//! Storage-card benchmark: the terminal on a card whose every fsync is made slower (the FUSE
//! layer of `tests/assets/lazyfs.py`, as a cheap SD card takes 10–25 ms or more per
//! synchronous write): tap → thank-you (the store thread's commit as the screen waits for
//! it) and press → ACK (a box on a real pty pair) at 0, 5, 20 and 50 ms per fsync, and how
//! fast the uploader drains a queue at 20 ms. Then what one answer writes: fsyncs, write
//! calls and bytes through the card, for the answer alone and with its upload (the terminal
//! syncing each answer to a collector on loopback, as a quiet terminal does).
//!
//! Run with `cargo bench --bench card` as root (it mounts FUSE; needs Debian's
//! python3-fusepy and fuse). `-- --quick` for a short run.

#[path = "../tests/common/buttons.rs"]
#[allow(dead_code)]
mod buttons;
#[path = "../tests/common/card.rs"]
#[allow(dead_code)]
mod card;
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
use std::time::{Duration, Instant};

use card::Card;
use ces_kiosk::buttons::simulate::SimBox;
use ces_kiosk::config::{Config, Storage, Upstream};
use ces_kiosk::store::{Reply, Request, StoreWriter};
use ces_kiosk::survey::{Answer, InputSource};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 50 } else { 200 };
    println!("ces-kiosk storage-card benchmark");
    println!("machine: {}", measure::machine());
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch dir");
    println!(
        "disk: a FUSE pass-through (Python) over the folder {}, each fsync delayed",
        work.path().display()
    );
    ces_kiosk::sync::transport::install_crypto_provider();

    println!("\nfsync delay | tap -> thank-you ({n})            | press -> ACK ({n})");
    for delay in [0, 5, 20, 50] {
        let dir = work.path().join(format!("delay-{delay}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut card = Card::mount(&dir, &[]);
        let mut tap = taps(&mut card, delay, n);
        let mut press = presses(&mut card, delay, n);
        println!(
            "{delay:>5} ms    | {} | {}",
            measure::stats(&mut tap, "ms"),
            measure::stats(&mut press, "ms")
        );
    }

    let queued = if quick { 2_000 } else { 10_000 };
    for delay in [0, 20] {
        let dir = work.path().join(format!("drain-{delay}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut card = Card::mount(&dir, &[]);
        let template = card.mount.join("queued.db");
        queue::fill(&template, queued);
        assert_eq!(card.command(&format!("delay {delay}")), "ok");
        let rate = queue::drain(&card.mount, &template, 0, queued, 500);
        println!(
            "drain {queued} queued answers (batches of 500) at {delay} ms per fsync: {rate:.0} answers/s"
        );
    }

    let answers = if quick { 50 } else { 300 };
    let dir = work.path().join("writes");
    std::fs::create_dir_all(&dir).unwrap();
    let mut card = Card::mount(&dir, &[]);
    writes_per_answer(&dir, &mut card, answers);
}

/// Records `n` answers through the store thread, one at a time as a screen does; the time
/// from the request to its reply is what the visitor waits before the thank-you.
fn taps(card: &mut Card, delay: u32, n: usize) -> Vec<f64> {
    let mount = card.mount.clone();
    let config = ces_kiosk::demo::config(&mount).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let storage = Storage {
        path: mount.join("taps.db"),
        allow_volatile: false,
    };
    let writer = StoreWriter::spawn(storage, config.device.clone(), move |r| {
        tx.send((r, Instant::now())).unwrap();
    });
    assert!(matches!(rx.recv().unwrap().0, Reply::Opened(Ok(None))));
    assert_eq!(card.command(&format!("delay {delay}")), "ok");
    let mut waited = vec![];
    for i in 0..n {
        let answer = Answer::new(
            &config.survey,
            "en",
            4 + (i % 4) as u8,
            false,
            InputSource::Touch,
            ces_kiosk::clock::now(),
        );
        let t = Instant::now();
        writer.send(Request::Record(answer)).unwrap();
        let (reply, at) = rx.recv().unwrap();
        assert!(reply.error().is_none(), "{reply:?}");
        waited.push((at - t).as_secs_f64() * 1000.0);
    }
    waited
}

/// Presses a box `n` times, each after the last one's ACK; the time from the press leaving
/// the box to its ACK arriving.
fn presses(card: &mut Card, delay: u32, n: usize) -> Vec<f64> {
    assert_eq!(card.command("delay 0"), "ok");
    let sim = SimBox::start("card-box", None, Duration::from_secs(60)).unwrap();
    let config = buttons::config(&card.mount, &[(sim.path(), "[4, 5, 6, 7]")], 0.0);
    let _terminal = buttons::start(&config);
    buttons::wait_connected(&sim);
    assert_eq!(card.command(&format!("delay {delay}")), "ok");
    (0..n)
        .map(|i| {
            let t = Instant::now();
            let seq = sim.press(1 + (i % 4) as u8);
            buttons::verdict(&sim, seq);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

/// A button terminal syncing each answer to a collector, as a quiet terminal does: what
/// the card saw per answer, recorded only and recorded with its upload.
fn writes_per_answer(dir: &Path, card: &mut Card, answers: usize) {
    let central = central::Central::start(dir, ["card-1".to_owned()]);
    let sim = SimBox::start("card-box", None, Duration::from_secs(60)).unwrap();
    let mut config: Config = buttons::config(&card.mount, &[(sim.path(), "[4, 5, 6, 7]")], 0.0);
    config.device.id = "card-1".into();
    let mut upstream = Upstream::new(
        reqwest::Url::parse(&central.url).unwrap(),
        central.credentials[0].1.clone(),
    );
    upstream.upload_delay = Duration::ZERO;
    config.upstream = Some(upstream.clone());
    let thread = ces_kiosk::sync::SyncThread::start().unwrap();
    let sync = ces_kiosk::sync::start(&thread, &config, &upstream).unwrap();
    let terminal =
        ces_kiosk::button_terminal::ButtonTerminal::new(&config, None, Some(sync.clone())).unwrap();
    let sender = terminal.sender();
    let running = std::thread::spawn(move || terminal.run());
    buttons::wait_connected(&sim);
    let synced = per_answer(card, answers, |i| {
        let mut status = sync.status();
        let before = status.borrow().uploaded;
        let seq = sim.press(1 + (i % 4) as u8);
        buttons::verdict(&sim, seq);
        thread.run(async move {
            status.wait_for(|s| s.uploaded > before).await.unwrap();
        });
    });
    println!(
        "\none answer recorded and uploaded ({answers} answers, each synced alone): {:.2} fsyncs, \
         {:.1} write calls, {:.1} KB written per answer",
        synced.0,
        synced.1,
        synced.2 / 1000.0
    );
    let _ = sender.send(ces_kiosk::button_terminal::Input::Stop);
    running.join().unwrap();

    // The answer alone: a terminal with no collector.
    let sim = SimBox::start("card-box-2", None, Duration::from_secs(60)).unwrap();
    let config = buttons::config(
        &card.mount.join("alone"),
        &[(sim.path(), "[4, 5, 6, 7]")],
        0.0,
    );
    let _terminal = buttons::start(&config);
    buttons::wait_connected(&sim);
    let alone = per_answer(card, answers, |i| {
        let seq = sim.press(1 + (i % 4) as u8);
        buttons::verdict(&sim, seq);
    });
    println!(
        "one answer recorded only ({answers} answers): {:.2} fsyncs, {:.1} write calls, {:.1} KB \
         written per answer",
        alone.0,
        alone.1,
        alone.2 / 1000.0
    );
    let year = |bytes: f64| bytes * 1000.0 * 365.0 / 1e9;
    println!(
        "a terminal taking 1,000 answers a day: {:.1} GB a year recorded only, {:.1} GB a year \
         with each answer uploaded alone",
        year(alone.2),
        year(synced.2)
    );
}

/// What the card saw per answer (fsyncs, write calls, bytes) over `answers` answers given
/// by `answer`; the first answer, which makes the database's pages, is not counted.
fn per_answer(card: &mut Card, answers: usize, mut answer: impl FnMut(usize)) -> (f64, f64, f64) {
    answer(0);
    let start = card.stats();
    for i in 1..=answers {
        answer(i);
    }
    let end = card.stats();
    let per = |a: u64, b: u64| (b - a) as f64 / answers as f64;
    (
        per(start.0, end.0),
        per(start.1, end.1),
        per(start.2, end.2),
    )
}
