//! A fault-injecting HTTP proxy between the real uploader and the real collector: it drops
//! connections, resets them after the collector committed but before the reply arrived,
//! delays requests, answers 429, 500, 502, 503 or 504 itself, answers with a canned page of
//! its own as a misconfigured reverse proxy or a captive portal would (HTML 404, 408, 400,
//! 413, a login page with 200, a 302 to it, 511), and spoils a request on its way so that
//! the real collector refuses it (400, 422). Faults come from a script (one per upload, in
//! order) or at random from a seeded generator. Every request is logged.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// What the proxy does to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    Pass,
    /// Close the connection without forwarding: the collector never sees the request.
    Drop,
    /// Forward, wait for the collector's reply (it has committed), then close without replying.
    ResetAfterCommit,
    /// Wait, then forward.
    Delay(Duration),
    /// Answer with this status and `Retry-After` seconds, without forwarding.
    Status(u16, Option<u64>),
    /// Answer with a page of the proxy's own (as nginx or a captive portal would).
    Page(Page),
    /// Answer as the collector itself would: its mark and a JSON error body (for a 500,
    /// which the real collector cannot be made to give on demand).
    AsCollector(u16),
    /// Forward the body cut short: the real collector refuses it as malformed (400).
    Truncate,
    /// Forward the body with the answer at this position given score 9: the real collector
    /// refuses the batch naming that answer (422).
    BadScore(usize),
}

/// A canned page of what stands between a terminal and its collector.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub server: &'static str,
    pub location: Option<&'static str>,
    pub body: String,
}

impl Page {
    /// nginx's own error page for `status` (a missing location, a timeout, a body limit).
    pub fn nginx(status: u16) -> Page {
        let title = match status {
            400 => "400 Bad Request",
            404 => "404 Not Found",
            408 => "408 Request Time-out",
            413 => "413 Request Entity Too Large",
            502 => "502 Bad Gateway",
            _ => "Error",
        };
        Page {
            status,
            content_type: "text/html",
            server: "nginx/1.22.1",
            location: None,
            body: format!(
                "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}\
                 </h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
            ),
        }
    }

    /// A hotel Wi-Fi's login page, served with 200 in place of whatever was asked.
    pub fn captive_portal() -> Page {
        Page {
            status: 200,
            content_type: "text/html; charset=utf-8",
            server: "HotelNet Gateway",
            location: None,
            body: "<!doctype html><title>Welcome</title><form>Room number <input></form>".into(),
        }
    }

    /// A redirect to that login page.
    pub fn redirect_to_login() -> Page {
        Page {
            status: 302,
            location: Some("http://login.hotelnet.example/portal?return=1"),
            body: String::new(),
            ..Page::captive_portal()
        }
    }

    /// 511 Network Authentication Required (RFC 6585), with the login link.
    pub fn network_login_required() -> Page {
        Page {
            status: 511,
            body: "<html><title>Network Authentication Required</title>\
                   <meta http-equiv=\"refresh\" content=\"0; url=http://login.hotelnet.example/\">\
                   </html>"
                .into(),
            ..Page::captive_portal()
        }
    }
}

/// One request the proxy handled.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub path: String,
    /// Answers in the request body.
    pub answers: usize,
    pub fault: Fault,
    /// The status the client got; `None` when the connection was closed instead.
    pub reply: Option<u16>,
    /// Answers the collector called duplicates in its reply.
    pub duplicates: usize,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    script: Mutex<VecDeque<Fault>>,
    random: Mutex<Option<(fastrand::Rng, Vec<Fault>)>>,
    seen: Mutex<Vec<Seen>>,
    count: tokio::sync::watch::Sender<usize>,
}

pub struct FaultProxy {
    /// The proxy's base URL, ending in `/`.
    pub url: String,
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultProxy {
    /// A proxy in front of the collector at `upstream` (a base URL ending in `/`).
    pub fn start(upstream: &str) -> FaultProxy {
        ces_kiosk::sync::transport::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            script: Mutex::default(),
            random: Mutex::default(),
            seen: Mutex::default(),
            count: tokio::sync::watch::Sender::new(0),
        });
        let listener =
            super::collector::outside(&runtime, tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let serving = shared.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let shared = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(shared.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultProxy {
            url,
            shared,
            runtime: Some(runtime),
        }
    }

    /// Faults for the next uploads, one each, in order; then uploads pass.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.script.lock().unwrap().extend(faults);
    }

    /// From now on, each request gets one of `faults` at random (seeded); `Pass` entries set
    /// how many pass.
    pub fn random(&self, seed: u64, faults: Vec<Fault>) {
        *self.shared.random.lock().unwrap() = Some((fastrand::Rng::with_seed(seed), faults));
    }

    /// No more random faults.
    pub fn heal(&self) {
        *self.shared.random.lock().unwrap() = None;
    }

    /// Changes with every request handled, to await the next one.
    pub fn requests(&self) -> tokio::sync::watch::Receiver<usize> {
        self.shared.count.subscribe()
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The uploads so far.
    pub fn uploads(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path == "/v1/answers")
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Reply, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let path = parts.uri.path().to_owned();
    let fault = next_fault(&shared, &path);
    // Logged before anything else: a request whose client gave up is logged too.
    let index = {
        let mut all = shared.seen.lock().unwrap();
        all.push(Seen {
            at: Instant::now(),
            path: path.clone(),
            answers: count_answers(&parts.headers, &body),
            fault: fault.clone(),
            reply: None,
            duplicates: 0,
        });
        all.len() - 1
    };
    shared.count.send_replace(index + 1);
    let result = match &fault {
        Fault::Drop => Err(std::io::Error::other("dropped by the fault proxy")),
        Fault::Status(status, retry_after) => {
            let mut r = Response::builder()
                .status(*status)
                .header("content-type", "application/json");
            if let Some(secs) = retry_after {
                r = r.header("retry-after", secs.to_string());
            }
            Ok(
                r.body(Full::from(r#"{"error":"injected by the fault proxy"}"#))
                    .unwrap(),
            )
        }
        Fault::Page(page) => {
            let mut r = Response::builder()
                .status(page.status)
                .header("content-type", page.content_type)
                .header("server", page.server);
            if let Some(location) = page.location {
                r = r.header("location", location);
            }
            Ok(r.body(Full::from(page.body.clone())).unwrap())
        }
        Fault::AsCollector(status) => Ok(Response::builder()
            .status(*status)
            .header("content-type", "application/json")
            .header(ces_kiosk::wire::COLLECTOR_MARK, "1")
            .body(Full::from(r#"{"error":"storage failed"}"#))
            .unwrap()),
        Fault::Truncate => {
            let json = decoded(&parts.headers, &body);
            forward(
                &shared,
                &plain(&parts),
                Bytes::copy_from_slice(&json[..json.len() / 2]),
            )
            .await
        }
        Fault::BadScore(index) => {
            let mut batch: serde_json::Value =
                serde_json::from_slice(&decoded(&parts.headers, &body)).unwrap();
            batch["answers"][*index]["score"] = 9.into();
            let json = serde_json::to_vec(&batch).unwrap();
            forward(&shared, &plain(&parts), Bytes::from(json)).await
        }
        Fault::Delay(d) => {
            tokio::time::sleep(*d).await;
            forward(&shared, &parts, body).await
        }
        Fault::ResetAfterCommit => match forward(&shared, &parts, body).await {
            Ok(_) => Err(std::io::Error::other(
                "reset by the fault proxy after the reply",
            )),
            Err(e) => Err(e),
        },
        Fault::Pass => forward(&shared, &parts, body).await,
    };
    if let Ok(reply) = &result {
        let body = reply.body().clone().collect().await.unwrap().to_bytes();
        let mut all = shared.seen.lock().unwrap();
        all[index].reply = Some(reply.status().as_u16());
        all[index].duplicates = String::from_utf8_lossy(&body)
            .matches("\"duplicate\"")
            .count();
    }
    result
}

fn next_fault(shared: &Shared, path: &str) -> Fault {
    if path == "/v1/answers"
        && let Some(f) = shared.script.lock().unwrap().pop_front()
    {
        return f;
    }
    match &mut *shared.random.lock().unwrap() {
        Some((rng, faults)) if !faults.is_empty() => faults[rng.usize(..faults.len())].clone(),
        _ => Fault::Pass,
    }
}

async fn forward(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    body: Bytes,
) -> Result<Reply, std::io::Error> {
    let mut request = shared.client.request(
        parts.method.clone(),
        format!("{}{}", shared.upstream, parts.uri),
    );
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(std::io::Error::other)?;
    let mut reply = Response::builder().status(response.status());
    for (name, value) in response.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            reply = reply.header(name, value);
        }
    }
    let bytes = response.bytes().await.map_err(std::io::Error::other)?;
    Ok(reply.body(Full::from(bytes)).unwrap())
}

/// A request body as JSON (inflated when gzip; empty when it cannot be).
fn decoded(headers: &hyper::HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut json = Vec::new();
    if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
        if flate2::read::GzDecoder::new(body)
            .read_to_end(&mut json)
            .is_err()
        {
            return Vec::new();
        }
    } else {
        json = body.to_vec();
    }
    json
}

/// The request's parts for a body sent uncompressed.
fn plain(parts: &hyper::http::request::Parts) -> hyper::http::request::Parts {
    let mut request = hyper::Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone());
    for (name, value) in &parts.headers {
        if name != "content-encoding" {
            request = request.header(name, value);
        }
    }
    request.body(()).unwrap().into_parts().0
}

/// How many answers an upload body carries (gzip or not).
fn count_answers(headers: &hyper::HeaderMap, body: &[u8]) -> usize {
    let json = decoded(headers, body);
    serde_json::from_slice::<serde_json::Value>(&json)
        .ok()
        .and_then(|v| v.get("answers")?.as_array().map(Vec::len))
        .unwrap_or(0)
}
