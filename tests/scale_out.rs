//! Several collectors on one PostgreSQL database (a throwaway server the tests start): the
//! real `ces-collector` binaries behind a round-robin proxy written here, one of them killed
//! with SIGKILL and restarted again and again while twenty real uploaders send 10,000
//! answers through the fault proxy; one enrolment code sent to two collectors at once; a
//! floor breach that two collectors see.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use ces_kiosk::collector::alert::rule::{Condition, Rule, Share};
use ces_kiosk::collector::alert::settings::{AlertSettings, Format, Hidden, Webhook};
use ces_kiosk::collector::database::Database;
use ces_kiosk::collector::storage::postgres::PgSettings;
use ces_kiosk::collector::storage::{ConfigTarget, NewDevice, NewEnrolmentCode, Storage};
use ces_kiosk::credential::{Credential, EnrolmentCode, Kind};
use common::collector::{TestCollector, client, sql_number, storage_section};
use common::fault_proxy::{Fault, FaultProxy};
use common::requests::{batch, now_answer, upload as post_batch};
use common::round_robin::RoundRobin;
use common::smtp::SmtpSink;
use common::terminal::{Terminal, fast_settings, upload};
use common::webhook::Receiver;

const TERMINALS: usize = 20;
const ROUNDS: usize = 5;
const PER_ROUND: usize = 100;

fn shared_database() -> Database {
    Database::Postgres(PgSettings {
        url: common::postgres::database(),
        password_file: None,
        ca_file: None,
        pool_size: 8,
        batches_at_once: None,
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real `ces-collector serve` on a fixed port, which can be killed and started again.
struct Serving {
    config: PathBuf,
    address: SocketAddr,
    child: Option<Child>,
}

impl Serving {
    fn new(dir: &Path, name: &str, database: &Database) -> Serving {
        let port = free_port();
        let config = dir.join(format!("{name}.toml"));
        let text = format!(
            "listen = \"127.0.0.1:{port}\"\n{}[limits]\ndevice_requests_per_second = 10000\n\
             device_burst = 10000\n",
            storage_section(database)
        );
        std::fs::write(&config, text).unwrap();
        let mut serving = Serving {
            config,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            child: None,
        };
        serving.start();
        serving
    }

    /// Starts the collector and waits until it says it listens.
    fn start(&mut self) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ces-collector"))
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut said = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if line.contains("address=") {
                break;
            }
            said.push(line);
            assert!(said.len() < 100, "the collector does not start: {said:#?}");
        }
        // Its log goes on being read, so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        self.child = Some(child);
    }

    /// SIGKILL, as a crash or an OOM kill would.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Adds a device to the shared database and returns its credential.
async fn add_device(storage: &dyn Storage, id: &str, site: &str) -> Credential {
    let credential = Credential::generate(Kind::Device);
    storage
        .add_device(NewDevice {
            id: id.into(),
            site: site.into(),
            touchpoint: "desk".into(),
            credential_hash: credential.hash(),
            created_at_ms: 0,
        })
        .await
        .unwrap();
    credential
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn answers_of_twenty_terminals_arrive_once_while_one_of_two_collectors_keeps_dying() {
    let database = shared_database();
    let storage = database.open().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut collectors = [
        Serving::new(dir.path(), "a", &database),
        Serving::new(dir.path(), "b", &database),
    ];
    let balancer = RoundRobin::start(collectors.iter().map(|c| c.address).collect());
    let proxy = FaultProxy::start(&balancer.url);
    let ms = Duration::from_millis;
    proxy.random(
        0x5ca1e,
        vec![
            Fault::Pass,
            Fault::Pass,
            Fault::Pass,
            Fault::Pass,
            Fault::Pass,
            Fault::Drop,
            Fault::ResetAfterCommit,
            Fault::Delay(ms(60)),
            Fault::Status(503, Some(1)),
        ],
    );
    let mut terminals = Vec::new();
    let mut running = Vec::new();
    for i in 0..TERMINALS {
        let id = format!("t-{i:02}");
        let credential = add_device(storage.as_ref(), &id, &format!("site-{}", i % 4)).await;
        let terminal = Terminal::new(&id);
        running.push(upload(
            &terminal,
            &proxy.url,
            &credential,
            fast_settings(),
            Duration::from_secs(2),
        ));
        terminals.push(terminal);
    }

    // Visitors answer in rounds at every terminal; in each round one collector, chosen at
    // random, is killed a moment after the round starts and started again a moment later.
    let mut rng = fastrand::Rng::with_seed(0xdead);
    let mut recorded: Vec<HashSet<String>> = vec![HashSet::new(); TERMINALS];
    for _ in 0..ROUNDS {
        for ((terminal, ids), run) in terminals.iter_mut().zip(&mut recorded).zip(&running) {
            ids.extend(terminal.record(PER_ROUND));
            run.handle.nudge();
        }
        // The fault schedule itself: how long after the round starts the kill comes, and
        // how long the collector stays down.
        tokio::time::sleep(ms(rng.u64(0..60))).await;
        let victim = rng.usize(0..collectors.len());
        collectors[victim].kill();
        tokio::time::sleep(ms(rng.u64(100..400))).await;
        collectors[victim].start();
    }
    proxy.heal();
    for run in &mut running {
        run.handle.sync_now();
        let total = (ROUNDS * PER_ROUND) as u64;
        let done = run
            .until(Duration::from_secs(120), "the queue drained", |s| {
                s.uploaded == total
            })
            .await;
        assert_eq!((done.pending, done.dead_letters), (0, 0));
    }
    for run in running {
        run.stop().await;
    }

    let mut all = 0;
    for (i, ids) in recorded.iter().enumerate() {
        let stored: Vec<String> = common::collector::sql_texts(
            &database,
            &format!("SELECT id FROM answers WHERE device_id = 't-{i:02}'"),
        );
        let unique: HashSet<String> = stored.iter().cloned().collect();
        assert_eq!(stored.len(), unique.len(), "no answer of t-{i:02} twice");
        assert_eq!(&unique, ids, "exactly the answers t-{i:02} recorded");
        all += stored.len();
    }
    assert_eq!(all, TERMINALS * ROUNDS * PER_ROUND);
    let fleet = sql_number(&database, "SELECT sum(answers) FROM devices");
    assert_eq!(fleet as usize, all, "each device counts its answers once");
    let verification = storage.verify_counts().await.unwrap();
    assert_eq!(verification.differences, [], "rollups equal a recount");
    assert_eq!(verification.answers as usize, all);
    let taken: Vec<usize> = balancer
        .taken
        .iter()
        .map(|n| n.load(Ordering::Relaxed))
        .collect();
    assert!(
        taken.iter().all(|&n| n > 0),
        "both collectors served: {taken:?}"
    );
    println!("connections per collector: {taken:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_enrolment_code_sent_to_two_collectors_at_once_enrols_one_terminal() {
    let database = shared_database();
    let (a, b) = (
        TestCollector::sharing(&database, |_| {}),
        TestCollector::sharing(&database, |_| {}),
    );
    a.add_device("desk-1", "hotel", "check-in");
    let storage = a.storage.clone();
    let mut codes = Vec::new();
    // Four codes, each sent twice to each collector: within each collector's limit on
    // enrolment attempts from one address (a burst of 10).
    for _ in 0..4 {
        codes.push(EnrolmentCode::generate());
    }
    let hashes: Vec<String> = codes.iter().map(EnrolmentCode::hash).collect();
    a.on(async move {
        storage
            .set_config(
                ConfigTarget::Site("hotel".into()),
                include_str!("../deploy/examples/survey.toml").into(),
                0,
            )
            .await?;
        for code_hash in hashes {
            storage
                .add_enrolment_code(NewEnrolmentCode {
                    device_id: "desk-1".into(),
                    code_hash,
                    created_at_ms: 0,
                    expires_at_ms: i64::MAX,
                })
                .await?;
        }
        Ok::<_, ces_kiosk::collector::storage::StorageError>(())
    })
    .unwrap();
    let http = client();
    // Each code sent to both collectors at the same moment, twice to each.
    for code in &codes {
        let sends = [&a.url, &b.url, &a.url, &b.url].map(|url| {
            http.post(format!("{url}v1/enrol"))
                .json(&serde_json::json!({ "code": code.expose() }))
                .send()
        });
        let statuses: Vec<u16> = futures_util::future::join_all(sends)
            .await
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 200).count(),
            1,
            "one enrolment per code: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|&s| s == 200 || s == 409 || s == 410),
            "the others are told the code was used: {statuses:?}"
        );
    }
    let used = sql_number(
        &database,
        "SELECT count(*) FROM enrolment_codes WHERE used_at_ms IS NOT NULL",
    );
    assert_eq!(used, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_floor_breach_seen_by_two_collectors_sends_one_email_and_one_webhook() {
    let database = shared_database();
    let receiver = Receiver::start(Some("secret-of-endpoint-a"), 0);
    let mail = SmtpSink::start();
    let settings = |s: &mut ces_kiosk::collector::Settings| {
        s.alerts = AlertSettings {
            evaluate_every: Duration::from_millis(100),
            webhooks: vec![Webhook {
                name: "ops".into(),
                url: Hidden(receiver.url.parse().unwrap()),
                format: Format::Plain,
                secret: Some(Hidden("secret-of-endpoint-a".into())),
            }],
            email: Some(mail.settings()),
        };
        s.limits.device_requests_per_second = 100_000;
        s.limits.device_burst = 100_000;
    };
    let (a, b) = (
        TestCollector::sharing(&database, settings),
        TestCollector::sharing(&database, settings),
    );
    let storage = a.storage.clone();
    a.on(async move {
        let rule = Rule {
            id: 0,
            name: "north-floor".into(),
            condition: Condition::Floor(Share {
                share_pct: 50,
                window_min: 15,
                min_answers: 4,
            }),
            site: Some("north".into()),
            touchpoint: None,
            pending_s: 0,
            clear_s: 3600,
            repeat_s: 0,
        };
        storage.add_alert_rule(rule, 0).await
    })
    .unwrap();
    let device = a.add_device("dev-r", "north", "returns");
    // Half the breach arrives at each collector.
    for (c, scores) in [(&a, [1, 2]), (&b, [3, 7])] {
        let answers = scores.iter().map(|&s| now_answer(s)).collect();
        assert_eq!(post_batch(c, &device, &batch(answers)).await.status, 200);
    }
    let hit = receiver.wait_for(1).await.remove(0);
    assert_eq!(hit.event, "firing");
    let message = mail.wait_for(1).await.remove(0);
    let text = message["text"].as_str().unwrap();
    assert!(text.contains("north / returns"), "{text}");
    // Both collectors go on deciding every 100 ms; whichever decides, nothing more is
    // sent. A non-event has no moment to await: twenty rounds of each are let run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.hits().len(), 1, "one webhook");
    assert_eq!(mail.messages().len(), 1, "one e-mail");
    assert_eq!(sql_number(&database, "SELECT count(*) FROM alerts"), 1);
    assert_eq!(sql_number(&database, "SELECT count(*) FROM outbox"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_collector_at_a_time_sends_a_channels_deliveries_and_another_takes_over() {
    use ces_kiosk::collector::alert::hours::{OpeningHours, SiteHours};
    use ces_kiosk::collector::alert::settings::EMAIL_CHANNEL;
    use ces_kiosk::collector::alert::summary::Every;

    let database = shared_database();
    let first = database.open().await.unwrap();
    let second = database.open().await.unwrap();
    first
        .set_site(SiteHours {
            site: "north".into(),
            time_zone: "Europe/Amsterdam".into(),
            hours: OpeningHours::parse("mon-sun 00:00-24:00").unwrap(),
            summary: Every::Daily,
            summary_through: None,
        })
        .await
        .unwrap();
    assert!(
        first
            .queue_summary("north", "2026-11-30", "Summary", "text", 0)
            .await
            .unwrap()
    );
    // Both collectors' senders look for due deliveries at the same moments.
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            first.due_deliveries(EMAIL_CHANNEL, 1_000, 16),
            second.due_deliveries(EMAIL_CHANNEL, 1_000, 16)
        );
        let (a, b) = (a.unwrap().ready.len(), b.unwrap().ready.len());
        assert_eq!(a + b, 1, "one of them has the delivery: {a} and {b}");
    }
    // The sender stops (its connections close): the other takes the channel over.
    let sender_was_first = !first
        .due_deliveries(EMAIL_CHANNEL, 1_000, 16)
        .await
        .unwrap()
        .ready
        .is_empty();
    let other = if sender_was_first {
        drop(first);
        second
    } else {
        drop(second);
        first
    };
    // A dropped collector's connections close in the background: wait until the server
    // has let the sender lock go (taking it here blocks until then; this session ends at
    // once and frees it again).
    let free = format!(
        "SELECT count(*) FROM (SELECT pg_advisory_lock({}, hashtext('{EMAIL_CHANNEL}'))) AS l",
        ces_kiosk::collector::storage::postgres::SENDER_LOCK
    );
    let wait = database.clone();
    let taken = tokio::task::spawn_blocking(move || sql_number(&wait, &free));
    assert_eq!(taken.await.unwrap(), 1);
    let due = other
        .due_deliveries(EMAIL_CHANNEL, 1_000, 16)
        .await
        .unwrap();
    assert_eq!(due.ready.len(), 1, "the other collector sends it now");
}
