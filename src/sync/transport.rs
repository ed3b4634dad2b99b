//! How the uploader reaches the collector: one POST with a JSON body, and what came back,
//! with who sent it: the collector marks every reply (`ces-collector` header), so that a
//! reverse proxy's error page or a captive portal's login page is never taken for the
//! collector's verdict. [`HttpTransport`] is the real one (reqwest over rustls with the ring
//! provider, redirects not followed); the uploader only sees the [`Transport`] trait, so its
//! retry loop can be tested in paused time.

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

/// Who answered a request, as far as the reply tells.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Responder {
    /// The reply carries the collector's mark: it is the collector's own.
    pub collector: bool,
    /// Its `Content-Type` (media type only), `Server` and `Location`, made printable.
    pub content_type: Option<String>,
    pub server: Option<String>,
    pub location: Option<String>,
}

impl Responder {
    /// The collector itself (tests, and replies known to be its own).
    pub fn collector() -> Responder {
        Responder {
            collector: true,
            content_type: Some("application/json".into()),
            ..Responder::default()
        }
    }

    /// Reads who answered from a reply's headers.
    pub fn of(headers: &reqwest::header::HeaderMap) -> Responder {
        let text = |name: header::HeaderName, max: usize| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| printable(v.split(';').next().unwrap_or(v).trim(), max))
                .filter(|v| !v.is_empty())
        };
        Responder {
            collector: headers.contains_key(crate::wire::COLLECTOR_MARK),
            content_type: text(header::CONTENT_TYPE, 60),
            server: text(header::SERVER, 40),
            location: headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(|v| printable(v, 120)),
        }
    }

    /// Whether an error reply is the collector's own verdict: its mark and its JSON error
    /// body. Only such a verdict may dead-letter answers or call the credential unknown.
    pub fn is_collector_error(&self, body: &[u8]) -> bool {
        self.collector && serde_json::from_slice::<crate::wire::ErrorBody>(body).is_ok()
    }

    /// Says what answered in place of the collector, and what to check: "the collector's
    /// address answered HTTP 404 text/html from nginx, not the collector: check the reverse
    /// proxy".
    pub fn not_the_collector(&self, status: u16) -> String {
        let mut text = format!("the collector's address answered HTTP {status}");
        if let Some(t) = &self.content_type {
            text.push(' ');
            text.push_str(t);
        }
        if let Some(s) = &self.server {
            text.push_str(" from ");
            text.push_str(s);
        }
        if let Some(l) = &self.location {
            text.push_str(" redirecting to ");
            text.push_str(l);
        }
        let check = match status {
            200..=299 | 300..=399 | 407 | 511 => {
                "a network login page (captive portal) or a proxy is in the way: check the network"
            }
            502..=504 => "the reverse proxy cannot reach the collector: check that it runs",
            _ => "check the reverse proxy",
        };
        format!("{text}, not the collector: {check}; answers wait safely")
    }
}

/// `value` as printable ASCII of at most `max` characters (a header value from anywhere).
fn printable(value: &str, max: usize) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(max)
        .collect()
}

/// The outcome of one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// Something answered with a status (any status): the collector, or what stands in its
    /// way (a proxy, a captive portal), as `from` tells.
    Answered {
        status: u16,
        /// The `Retry-After` it asked for, if any.
        retry_after: Option<Duration>,
        body: Vec<u8>,
        from: Responder,
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
        // A redirect is never the collector's answer (a login page, a moved proxy): it is
        // shown as it is, never followed with the credential.
        .redirect(reqwest::redirect::Policy::none())
        // Shorter than the collector's keep-alive idle time, so that a connection the
        // collector is closing is not picked for the next request.
        .pool_idle_timeout(Duration::from_secs(5))
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
        let from = Responder::of(response.headers());
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
            from,
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn a_reply_without_the_mark_is_named_for_what_it_is() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(header::SERVER, HeaderValue::from_static("nginx/1.22.1"));
        let from = Responder::of(&h);
        assert!(!from.collector);
        assert_eq!(
            from.not_the_collector(404),
            "the collector's address answered HTTP 404 text/html from nginx/1.22.1, not the \
             collector: check the reverse proxy; answers wait safely"
        );
        h.insert(
            header::LOCATION,
            HeaderValue::from_static("http://portal.example/login"),
        );
        let said = Responder::of(&h).not_the_collector(302);
        assert!(
            said.contains("redirecting to http://portal.example/login"),
            "{said}"
        );
        assert!(said.contains("captive portal"), "{said}");
        h.insert(crate::wire::COLLECTOR_MARK, HeaderValue::from_static("1"));
        assert!(Responder::of(&h).collector);
    }

    #[test]
    fn header_text_from_anywhere_is_made_printable() {
        let mut h = HeaderMap::new();
        h.insert(
            header::SERVER,
            HeaderValue::from_bytes(b"evil\tproxy").unwrap(),
        );
        assert_eq!(Responder::of(&h).server.as_deref(), Some("evilproxy"));
        // Bytes beyond ASCII (a right-to-left override, say) are not shown at all.
        h.insert(
            header::SERVER,
            HeaderValue::from_bytes(b"evil\xe2\x80\xaeproxy").unwrap(),
        );
        assert_eq!(Responder::of(&h).server, None);
        let long = "y".repeat(500);
        h.insert(header::SERVER, HeaderValue::from_str(&long).unwrap());
        assert_eq!(Responder::of(&h).server.unwrap().len(), 40);
    }
}
