//! How the uploader reaches the collector: one POST with a JSON body, and what came back.
//! [`HttpTransport`] is the real one (reqwest over rustls with the ring provider); the
//! uploader only sees the [`Transport`] trait, so its retry loop can be tested in paused time.

use std::future::Future;
use std::time::Duration;

use reqwest::header::{self, HeaderValue};

use crate::credential::Credential;
use crate::sync::policy;

/// A request body, gzip-compressed or not.
#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    pub bytes: Vec<u8>,
    pub gzip: bool,
}

/// The outcome of one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// The collector answered with a status (any status).
    Answered {
        status: u16,
        /// The `Retry-After` it asked for, if any.
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    /// No answer: no connection, a reset, or no reply within the timeout.
    NoAnswer(String),
}

/// Sends requests to the collector.
pub trait Transport: Send + Sync + 'static {
    /// POSTs `payload` to `path` (like `v1/answers`) under the collector's base URL.
    fn post(&self, path: &'static str, payload: Payload) -> impl Future<Output = Attempt> + Send;
}

/// The largest response the terminal reads (a reply to a full batch is about 80 KB).
const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// The real transport: HTTPS (or http on localhost) with the device credential.
pub struct HttpTransport {
    client: reqwest::Client,
    base: reqwest::Url,
    authorization: HeaderValue,
}

/// Installs ring as the process's TLS crypto provider (reqwest is built without one, so that
/// no aws-lc-rs has to be cross-compiled). Calling it again does nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The terminal's HTTP client (uploads, enrolment, doctor): rustls with ring, its user
/// agent, each request limited to `timeout` (connecting to 10 s at most).
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("ces-kiosk/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .build()
}

impl HttpTransport {
    /// A transport to the collector at `base` (ending in `/`), each request limited to `timeout`.
    pub fn new(
        base: reqwest::Url,
        credential: &Credential,
        timeout: Duration,
    ) -> Result<HttpTransport, reqwest::Error> {
        let client = client(timeout)?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", credential.expose()))
            .expect("a credential is printable ASCII");
        authorization.set_sensitive(true);
        Ok(HttpTransport {
            client,
            base,
            authorization,
        })
    }

    async fn send(&self, path: &'static str, payload: Payload) -> Result<Attempt, reqwest::Error> {
        let url = self
            .base
            .join(path)
            .expect("a relative path joins any base URL");
        let mut request = self
            .client
            .post(url)
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::CONTENT_TYPE, "application/json");
        if payload.gzip {
            request = request.header(header::CONTENT_ENCODING, "gzip");
        }
        let mut response = request.body(payload.bytes).send().await?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| policy::parse_retry_after(v, jiff::Timestamp::now()));
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Attempt::Answered {
            status,
            retry_after,
            body,
        })
    }
}

impl Transport for HttpTransport {
    async fn post(&self, path: &'static str, payload: Payload) -> Attempt {
        match self.send(path, payload).await {
            Ok(attempt) => attempt,
            Err(e) => Attempt::NoAnswer(describe(&e)),
        }
    }
}

/// A short, complete description of a failed request (the whole cause chain).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "no answer in time".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
