//! A real webhook receiver for tests: an HTTP server on 127.0.0.1 that records every
//! request (headers, body, arrival), checks its HMAC-SHA256 signature with its own secret,
//! and answers 500 to the first requests when told to.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Hit {
    pub at: Instant,
    pub delivery: String,
    pub event: String,
    pub body: serde_json::Value,
    /// The signature header matched the body under the receiver's secret.
    pub signed: bool,
    /// What the receiver answered.
    pub status: u16,
}

struct Shared {
    secret: Option<String>,
    fail_first: usize,
    hits: Mutex<Vec<Hit>>,
    count: tokio::sync::watch::Sender<usize>,
}

pub struct Receiver {
    pub address: SocketAddr,
    pub url: String,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Receiver {
    /// A receiver checking signatures with `secret`, answering 500 to its first `fail_first`
    /// requests and 200 after.
    pub fn start(secret: Option<&str>, fail_first: usize) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Receiver::on(listener, secret, fail_first)
    }

    /// The same on a listener the test bound.
    pub fn on(
        listener: std::net::TcpListener,
        secret: Option<&str>,
        fail_first: usize,
    ) -> Receiver {
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Shared {
            secret: secret.map(str::to_owned),
            fail_first,
            hits: Mutex::new(Vec::new()),
            count: tokio::sync::watch::channel(0).0,
        });
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(shared.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            address,
            url: format!("http://{address}/hook"),
            shared,
            runtime: Some(runtime),
        }
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.shared.hits.lock().unwrap().clone()
    }

    /// Waits until the receiver has had `n` requests, and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        let mut count = self.shared.count.subscribe();
        tokio::time::timeout(Duration::from_secs(60), count.wait_for(|c| *c >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} requests within a minute; had {:#?}", self.hits()))
            .unwrap();
        self.hits()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn hook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let signed = shared
        .secret
        .as_deref()
        .is_some_and(|secret| verify(secret, &header("x-ces-signature"), &body));
    let mut hits = shared.hits.lock().unwrap();
    let status = if hits.len() < shared.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    hits.push(Hit {
        at: Instant::now(),
        delivery: header("x-ces-delivery"),
        event: header("x-ces-event"),
        body: serde_json::from_str(&body).unwrap_or_default(),
        signed,
        status: status.as_u16(),
    });
    shared.count.send_replace(hits.len());
    status
}

/// Checks `t=<seconds>,v1=<hex>` against the body, as a receiver's documentation says to.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let Ok(sent) = t.parse::<i64>() else {
        return false;
    };
    // A signature older than five minutes is a replay.
    if (jiff::Timestamp::now().as_second() - sent).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}
