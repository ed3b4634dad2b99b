//! The real collector against hostile clients on the wire: slow connections are dropped after
//! the header timeout while uploads and `/healthz` keep answering; oversized heads get 431;
//! connections over the cap get 503; enrolment guesses and unknown credentials are limited
//! per client address, and `X-Forwarded-For` is believed only from a trusted proxy.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use ces_kiosk::collector::client::TrustedProxies;
use common::collector::TestCollector;
use common::requests::{batch, now_answer};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Raises this test process's open-file limit: each slow client and its server side take one.
fn enough_files(needed: u64) {
    let files = ces_kiosk::collector::server::raise_open_file_limit().unwrap();
    assert!(
        files >= needed,
        "this machine allows {files} open files; the test needs {needed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_slow_connections_are_dropped_and_others_keep_being_answered() {
    enough_files(4_500);
    let header_timeout = Duration::from_secs(3);
    let c = TestCollector::with_settings(|s| s.limits.header_timeout = header_timeout);
    let cred = c.add_device("busy", "lab", "bench");
    let (closed_tx, mut closed) = tokio::sync::mpsc::unbounded_channel();
    let started = tokio::time::Instant::now();
    let mut opened = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..2_000 {
        let (address, closed_tx, opened_tx) = (c.address, closed_tx.clone(), opened.0.clone());
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(address).await.unwrap();
            // A request head sent a byte a second: never complete.
            stream
                .write_all(b"POST /v1/answers HTTP/1.1\r\nHost: c\r\nX-Slow: ")
                .await
                .unwrap();
            let _ = opened_tx.send(());
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut buf = [0u8; 512];
            loop {
                tokio::select! {
                    read = stream.read(&mut buf) => match read {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    },
                    _ = tick.tick() => {
                        if stream.write_all(b"a").await.is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = closed_tx.send(tokio::time::Instant::now());
        });
    }
    drop(closed_tx);
    for _ in 0..2_000 {
        opened.1.recv().await.unwrap();
    }
    // With 2,000 slow clients connected, uploads and health checks are answered at once.
    ces_kiosk::sync::transport::install_crypto_provider();
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    for _ in 0..10 {
        let health = quick.get(format!("{}healthz", c.url)).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let upload = quick
            .post(format!("{}v1/answers", c.url))
            .bearer_auth(cred.expose())
            .json(&batch(vec![now_answer(6)]))
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status(), 200);
    }
    assert_eq!(c.answer_count(), 10);
    // Every slow client is dropped after the header timeout, however much it trickles.
    let mut dropped = Vec::new();
    let deadline = started + header_timeout * 4 + Duration::from_secs(20);
    while let Some(at) = tokio::time::timeout_at(deadline, closed.recv())
        .await
        .expect("the slow connections are dropped")
    {
        dropped.push(at - started);
    }
    assert_eq!(dropped.len(), 2_000);
    let first = dropped.iter().min().unwrap();
    assert!(
        *first >= header_timeout,
        "none dropped before its timeout ({first:?})"
    );
}

/// Sends `request` on a new connection and reads the reply until the server closes.
async fn raw(address: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply).await;
    String::from_utf8_lossy(&reply).into_owned()
}

#[tokio::test]
async fn a_64_kb_header_gets_431() {
    let c = TestCollector::start();
    let big = "a".repeat(64 * 1024);
    let reply = raw(
        c.address,
        format!("GET /healthz HTTP/1.1\r\nHost: c\r\nX-Big: {big}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply:.200}");
    let fine = raw(
        c.address,
        b"GET /healthz HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(fine.starts_with("HTTP/1.1 200"), "{fine}");
    assert!(
        fine.to_ascii_lowercase().contains("ces-collector: 1"),
        "every reply carries the collector's mark: {fine}"
    );
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_politely() {
    let c = TestCollector::with_settings(|s| s.limits.max_connections = 16);
    let mut idle = Vec::new();
    for _ in 0..16 {
        let mut s = TcpStream::connect(c.address).await.unwrap();
        // One request each, so that the server has surely taken the connection.
        assert!(healthy(&mut s).await);
        idle.push(s);
    }
    let reply = raw(c.address, b"GET /healthz HTTP/1.1\r\nHost: c\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    let lower = reply.to_ascii_lowercase();
    assert!(lower.contains("retry-after: 5") && lower.contains("ces-collector: 1"));
    assert!(reply.contains("too many connections"), "{reply}");
    // The connections already there are still served.
    assert!(healthy(&mut idle[0]).await);
}

/// Asks `/healthz` on an open connection; whether it answered 200.
async fn healthy(s: &mut TcpStream) -> bool {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: c\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).await.unwrap();
    buf[..n].starts_with(b"HTTP/1.1 200")
}

/// An HTTP client whose connections come from `from` (127.0.0.1 or 127.0.0.2).
fn from(address: [u8; 4]) -> reqwest::Client {
    ces_kiosk::sync::transport::install_crypto_provider();
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::from(address)))
        .build()
        .unwrap()
}

async fn enrol(c: &TestCollector, client: &reqwest::Client, code: &str, xff: Option<&str>) -> u16 {
    let mut request = client
        .post(format!("{}v1/enrol", c.url))
        .json(&json!({ "code": code }));
    if let Some(xff) = xff {
        request = request.header("x-forwarded-for", xff);
    }
    request.send().await.unwrap().status().as_u16()
}

/// A well-formed code that was never made.
fn guess() -> String {
    ces_kiosk::credential::EnrolmentCode::generate().expose()
}

/// Whether 127.0.0.2 can be used as a source address here (Linux routes all of 127/8).
async fn second_loopback_works() -> bool {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, 2], 0))).is_ok()
}

#[tokio::test]
async fn guessing_from_one_address_does_not_stop_an_enrolment_from_another() {
    assert!(second_loopback_works().await, "127.0.0.2 is usable");
    let c = TestCollector::start();
    c.add_device("desk-9", "hotel", "check-in");
    common::fleet::set_config(&c, "desk-9", common::fleet::SURVEY.to_owned());
    let code = common::fleet::add_code(&c, "desk-9", i64::MAX);
    let attacker = from([127, 0, 0, 1]);
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..200 {
        *statuses
            .entry(enrol(&c, &attacker, &guess(), None).await)
            .or_insert(0) += 1;
    }
    assert_eq!(
        statuses.get(&404),
        Some(&10),
        "a burst of 10 is looked up: {statuses:?}"
    );
    assert_eq!(statuses.get(&429), Some(&190), "{statuses:?}");
    let technician = from([127, 0, 0, 2]);
    assert_eq!(enrol(&c, &technician, &code.expose(), None).await, 200);
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    assert!(second_loopback_works().await, "127.0.0.2 is usable");
    let c = TestCollector::with_settings(|s| {
        s.trusted_proxies = TrustedProxies::parse(&["127.0.0.1".into()]).unwrap();
    });
    let proxy = from([127, 0, 0, 1]);
    let stranger = from([127, 0, 0, 2]);
    // Through the trusted proxy, each client named has its own quota.
    for _ in 0..10 {
        assert_eq!(enrol(&c, &proxy, &guess(), Some("198.51.100.7")).await, 404);
    }
    assert_eq!(enrol(&c, &proxy, &guess(), Some("198.51.100.7")).await, 429);
    assert_eq!(enrol(&c, &proxy, &guess(), Some("198.51.100.8")).await, 404);
    // A client that is not a trusted proxy cannot pick another address to get a new quota.
    for i in 0..10 {
        let xff = format!("203.0.113.{i}");
        assert_eq!(enrol(&c, &stranger, &guess(), Some(&xff)).await, 404);
    }
    assert_eq!(
        enrol(&c, &stranger, &guess(), Some("203.0.113.99")).await,
        429
    );
}

#[tokio::test]
async fn unknown_credentials_are_throttled_per_client_address() {
    assert!(second_loopback_works().await, "127.0.0.2 is usable");
    let c = TestCollector::start();
    let good = c.add_device("desk-1", "lab", "bench");
    let stranger = ces_kiosk::credential::Credential::generate(ces_kiosk::credential::Kind::Device);
    let whoami = |client: reqwest::Client, credential: String| {
        let url = format!("{}v1/whoami", c.url);
        async move {
            client
                .get(url)
                .bearer_auth(credential)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let guesser = from([127, 0, 0, 1]);
    for _ in 0..20 {
        assert_eq!(whoami(guesser.clone(), stranger.expose().into()).await, 401);
    }
    // The unknown credential over the burst is answered 429, and so is the next request.
    assert_eq!(whoami(guesser.clone(), stranger.expose().into()).await, 429);
    assert_eq!(
        whoami(guesser.clone(), good.expose().into()).await,
        429,
        "the address is turned away before any lookup"
    );
    let neighbour = from([127, 0, 0, 2]);
    assert_eq!(whoami(neighbour.clone(), good.expose().into()).await, 200);
    assert_eq!(whoami(neighbour, stranger.expose().into()).await, 401);
}
