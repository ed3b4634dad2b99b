//! Requests to the collector as a terminal or a central team makes them, for protocol tests:
//! answers as JSON, batches, uploads and reads with their status and body.

use ces_kiosk::credential::Credential;
use ces_kiosk::wire::BatchResponse;
use serde_json::{Value, json};

use super::collector::{TestCollector, client};

/// An answer as a terminal sends it, at local time `local` (RFC 3339 with offset).
pub fn answer(scale: &str, score: u8, local: &str) -> Value {
    let ms = local.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    json!({
        "id": uuid::Uuid::now_v7(), "seq": 1, "boot_id": "6c1d7f0e-3b9a-4a51-b0c4-3f8f2b3e9d11",
        "device_time": local, "device_time_ms": ms, "clock_trusted": true,
        "question_id": "returns-ease", "question_version": 1, "language": "en",
        "scale": scale, "direction": "higher_is_easier", "score": score, "low": score <= 3,
        "suppressed": false, "input": "touch"
    })
}

pub fn now_answer(score: u8) -> Value {
    answer("ces7", score, &ces_kiosk::clock::now().local)
}

pub fn batch(answers: Vec<Value>) -> Value {
    json!({ "device_time": ces_kiosk::clock::now().local, "answers": answers })
}

pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Value,
}

pub async fn post(
    c: &TestCollector,
    path: &str,
    credential: Option<&Credential>,
    body: Vec<u8>,
    gzip: bool,
) -> Reply {
    let mut request = client().post(format!("{}{path}", c.url)).body(body);
    if let Some(cred) = credential {
        request = request.bearer_auth(cred.expose());
    }
    if gzip {
        request = request.header("content-encoding", "gzip");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    Reply {
        status,
        retry_after,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

pub async fn upload(c: &TestCollector, credential: &Credential, body: &Value) -> Reply {
    post(
        c,
        "v1/answers",
        Some(credential),
        serde_json::to_vec(body).unwrap(),
        false,
    )
    .await
}

pub fn statuses(reply: &Reply) -> Vec<String> {
    let r: BatchResponse = serde_json::from_value(reply.body.clone()).unwrap();
    r.results
        .iter()
        .map(|r| {
            serde_json::to_value(r.status)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

pub async fn get(c: &TestCollector, path: &str, token: &Credential) -> (u16, String) {
    let r = client()
        .get(format!("{}{path}", c.url))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The value of the `Set-Cookie` header of `response` that sets `name`, as `name=value`.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// Logs in to the dashboard at `base` (ending in `/`) as a browser would, through the login
/// form with its CSRF cookie, and returns the session cookie (`ces_session=…`).
pub async fn dashboard_session(base: &str, name: &str, password: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(format!("{base}login")).send().await.unwrap();
    let cookie = set_cookie(&page, "ces_login").expect("the login form sets its cookie");
    let token = cookie.trim_start_matches("ces_login=").to_owned();
    let form = [
        ("name", name),
        ("password", password),
        ("csrf", &token),
        ("next", "/"),
    ];
    let r = http
        .post(format!("{base}login"))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "logged in as {name}");
    set_cookie(&r, "ces_session").expect("a session cookie")
}
