//! The uploader's timing in paused time (`tokio::time::pause`): backoff within the bounds of
//! full jitter, `Retry-After` as a floor, the longest wait after a collector failure, an
//! upload soon after a new answer, a look at the queue every heartbeat otherwise.
//!
//! Paused time cannot wait on real sockets, so here the collector is a scripted transport
//! that answers each request from a list; the store is a real SQLite file. The same uploader
//! against the real collector and a faulty network is tested in `tests/sync.rs`.

mod common;

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ces_kiosk::sync::policy::Backoff;
use ces_kiosk::sync::transport::Responder;
use ces_kiosk::sync::{Attempt, Payload, Settings, SyncStatus, Transport, Uploader};
use ces_kiosk::wire::{AnswerResult, AnswerStatus, BatchResponse, UploadBatch};
use common::terminal::Terminal;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What the scripted collector answers to the next upload.
#[derive(Clone, Debug)]
enum Next {
    NoAnswer,
    Status(u16, Option<Duration>),
    /// Accept every answer (also what it does when the script is empty).
    Accept,
}

#[derive(Clone, Default)]
struct Scripted {
    script: Arc<Mutex<VecDeque<Next>>>,
    calls: Arc<Mutex<Vec<(Instant, &'static str)>>>,
    /// How many requests were made, to await the next one.
    count: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Scripted {
    fn new(script: impl IntoIterator<Item = Next>) -> Scripted {
        let s = Scripted::default();
        s.script.lock().unwrap().extend(script);
        s
    }

    fn calls(&self, path: &str) -> Vec<Instant> {
        let calls = self.calls.lock().unwrap();
        calls.iter().filter(|c| c.1 == path).map(|c| c.0).collect()
    }
}

impl Transport for Scripted {
    async fn post(&self, path: &'static str, payload: Payload) -> Attempt {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((Instant::now(), path));
            calls.len()
        };
        self.count.send_replace(n);
        let ok = |body: Vec<u8>| Attempt::Answered {
            status: 200,
            retry_after: None,
            body,
            from: Responder::collector(),
        };
        if path == "v1/heartbeat" {
            return ok(br#"{"server_time":"2026-11-24T09:00:00Z","clock_skew_ms":0}"#.to_vec());
        }
        let next = self.script.lock().unwrap().pop_front();
        match next.unwrap_or(Next::Accept) {
            Next::NoAnswer => Attempt::NoAnswer("connection refused".into()),
            Next::Status(status, retry_after) => Attempt::Answered {
                status,
                retry_after,
                body: br#"{"error":"scripted"}"#.to_vec(),
                from: Responder::collector(),
            },
            Next::Accept => {
                let mut json = Vec::new();
                if payload.gzip {
                    flate2::read::GzDecoder::new(&payload.bytes[..])
                        .read_to_end(&mut json)
                        .unwrap();
                } else {
                    json = payload.bytes;
                }
                let batch: UploadBatch = serde_json::from_slice(&json).unwrap();
                let results = batch
                    .answers
                    .iter()
                    .map(|a| AnswerResult {
                        id: a.id,
                        status: AnswerStatus::Accepted,
                        reason: None,
                    })
                    .collect();
                let reply = BatchResponse {
                    results,
                    server_time: "2026-11-24T09:00:00Z".into(),
                };
                ok(serde_json::to_vec(&reply).unwrap())
            }
        }
    }
}

fn settings() -> Settings {
    Settings {
        batch_max_answers: 500,
        batch_max_bytes: Settings::BATCH_MAX_BYTES,
        upload_delay: Duration::from_secs(2),
        heartbeat: Duration::from_secs(300),
        keep_synced: Duration::from_secs(86_400),
        backoff: Backoff::default(),
    }
}

struct Run {
    status: tokio::sync::watch::Receiver<SyncStatus>,
    handle: ces_kiosk::sync::SyncHandle,
    shutdown: CancellationToken,
}

fn start(terminal: &Terminal, transport: Scripted) -> Run {
    start_with(terminal, transport, settings())
}

fn start_with(terminal: &Terminal, transport: Scripted, settings: Settings) -> Run {
    let (uploader, handle) = Uploader::new(
        transport,
        terminal.db.clone(),
        terminal.device.clone(),
        settings,
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(uploader.run(shutdown.clone()));
    Run {
        status: handle.status(),
        handle,
        shutdown,
    }
}

impl Run {
    async fn until(&mut self, done: impl Fn(&SyncStatus) -> bool) {
        // Paused time runs ahead on its own; a day of it is far more than any case needs.
        tokio::time::timeout(
            Duration::from_secs(86_400),
            self.status.wait_for(|s| done(s)),
        )
        .await
        .expect("reached in paused time")
        .expect("the uploader runs");
    }
}

#[tokio::test(start_paused = true)]
async fn backoff_stays_within_full_jitter_and_honours_retry_after_and_the_cap() {
    let mut terminal = Terminal::new("t-backoff");
    terminal.record(2);
    let failures = 10;
    let mut script: Vec<Next> = (0..failures).map(|_| Next::NoAnswer).collect();
    script.push(Next::Status(503, Some(Duration::from_secs(40))));
    script.push(Next::Status(500, None));
    script.push(Next::Status(429, Some(Duration::from_secs(7200))));
    let transport = Scripted::new(script);
    let mut run = start(&terminal, transport.clone());
    run.until(|s| s.uploaded == 2).await;
    run.shutdown.cancel();

    let at = transport.calls("v1/answers");
    assert_eq!(
        at.len(),
        failures + 4,
        "every failure was retried, then it went up"
    );
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    let b = Backoff::default();
    for (n, gap) in gaps[..failures].iter().enumerate() {
        let ceiling = b.ceiling(n as u32);
        assert!(
            *gap <= ceiling,
            "retry {n}: waited {gap:?}, more than {ceiling:?}"
        );
    }
    let jittered = gaps[..failures]
        .iter()
        .enumerate()
        .filter(|(n, g)| **g != b.ceiling(*n as u32))
        .count();
    assert!(jittered > 0, "the waits are jittered: {gaps:?}");
    let after_503 = gaps[failures];
    assert!(
        after_503 >= Duration::from_secs(40) && after_503 <= b.cap,
        "Retry-After is a floor under the jitter: {after_503:?}"
    );
    assert_eq!(gaps[failures + 1], b.cap, "a 500 waits the longest backoff");
    assert_eq!(
        gaps[failures + 2],
        b.max_retry_after,
        "a Retry-After of two hours is cut to one"
    );
    println!("waits: {gaps:?}");
}

#[tokio::test(start_paused = true)]
async fn a_new_answer_goes_up_after_the_upload_delay_and_the_queue_is_seen_every_heartbeat() {
    let mut terminal = Terminal::new("t-pace");
    let transport = Scripted::new([]);
    let mut run = start(&terminal, transport.clone());
    // At start: nothing to send, so only the heartbeat goes out.
    run.until(|s| s.last_success_ms.is_some()).await;
    assert_eq!(transport.calls("v1/heartbeat").len(), 1);
    assert!(transport.calls("v1/answers").is_empty());

    terminal.record(1);
    let tapped = Instant::now();
    run.handle.nudge();
    // The round is over once the uploader has counted its queue empty again: an answer
    // recorded before that could still join this round.
    run.until(|s| s.uploaded == 1 && s.oldest_pending_ms.is_none())
        .await;
    let uploaded = transport.calls("v1/answers");
    assert_eq!(uploaded.len(), 1);
    assert_eq!(uploaded[0] - tapped, settings().upload_delay);

    // With nothing new, the next look at the queue is one heartbeat after the last round,
    // and the heartbeat that is due by then goes with it.
    terminal.record(1);
    run.until(|s| s.uploaded == 2).await;
    let mut count = transport.count.subscribe();
    count.wait_for(|&n| n == 4).await.unwrap();
    let uploaded = transport.calls("v1/answers");
    assert_eq!(uploaded[1] - uploaded[0], settings().heartbeat);
    let beats = transport.calls("v1/heartbeat");
    assert_eq!(
        beats.len(),
        2,
        "one heartbeat per interval, not one per upload"
    );
    assert_eq!(
        beats[1], uploaded[1],
        "the due heartbeat goes with that round"
    );
    assert!(beats[1] - beats[0] >= settings().heartbeat);
    run.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_refused_credential_waits_an_hour_unless_staff_sync_now() {
    let mut terminal = Terminal::new("t-401");
    terminal.record(1);
    let transport = Scripted::new([Next::Status(401, None), Next::Status(403, None)]);
    let mut run = start(&terminal, transport.clone());
    run.until(|s| s.last_error.as_deref() == Some("HTTP 403: scripted"))
        .await;
    let at = transport.calls("v1/answers");
    assert_eq!(at[1] - at[0], settings().backoff.max_retry_after);

    let pressed = Instant::now();
    run.handle.sync_now();
    run.until(|s| s.uploaded == 1).await;
    let at = transport.calls("v1/answers");
    assert_eq!(at.len(), 3);
    assert_eq!(at[2], pressed, "sync now does not wait");
    run.shutdown.cancel();
}

#[tokio::test(start_paused = true)]
async fn synced_answers_are_pruned_after_their_retention_and_no_other_answer_is() {
    let mut terminal = Terminal::new("t-prune");
    terminal.record(3);
    // The collector refuses the fourth: a dead letter, kept however old it gets.
    let transport = Scripted::new([Next::Accept, Next::Status(422, None)]);
    let pruning = Settings {
        keep_synced: Duration::ZERO,
        batch_max_answers: 3,
        ..settings()
    };
    let mut run = start_with(&terminal, transport.clone(), pruning);
    run.until(|s| s.uploaded == 3).await;
    terminal.record(1);
    // A low score whose follow-up is on screen waits, unsent and not pruned.
    terminal.store.record(&common::terminal::answer(2)).unwrap();
    run.handle.nudge();
    run.until(|s| s.dead_letters == 1).await;
    // Pruning runs after a round, at most once an hour: wait for the rounds of the next hour.
    let mut count = transport.count.subscribe();
    let beats_in_an_hour = (3600 / settings().heartbeat.as_secs()) as usize + 1;
    count
        .wait_for(|_| transport.calls("v1/heartbeat").len() > beats_in_an_hour)
        .await
        .unwrap();
    run.shutdown.cancel();
    let states: Vec<String> = terminal.states().into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        states,
        ["rejected", "pending"],
        "synced answers went; the dead letter and the waiting answer stayed"
    );
}
