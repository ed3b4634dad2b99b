//! What terminals send: `POST /v1/answers` and `POST /v1/heartbeat`. Each request is
//! authenticated by its credential, rate-limited per device, read within the body limits
//! (gzip allowed), validated in full, and only then stored. A batch with any invalid answer
//! is refused as a whole (422, naming each invalid answer); nothing of it is stored.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::collector::State;
use crate::collector::auth::Device;
use crate::collector::error::ApiError;
use crate::collector::storage::{CheckedAnswer, HeartbeatRecord, IncomingBatch};
use crate::collector::validate;
use crate::wire::{BatchResponse, Heartbeat, HeartbeatResponse, InvalidAnswer, WireAnswer};

/// A batch as first read: each answer kept raw, so that one bad answer can be named alone.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch<'a> {
    device_time: String,
    #[serde(borrow)]
    answers: Vec<&'a RawValue>,
}

/// The largest heartbeat body, compressed or not.
const MAX_HEARTBEAT_BYTES: usize = 64 * 1024;

pub async fn answers(
    Shared(state): Shared<Arc<State>>,
    Device(device): Device,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<BatchResponse>, ApiError> {
    state.rate_limit(&device.id)?;
    let limits = &state.settings.limits;
    let body_limits = BodyLimits {
        max_body: limits.max_body_bytes,
        max_json: limits.max_json_bytes,
        timeout: limits.body_timeout,
    };
    let sent = receive_body(&headers, body, &body_limits).await?;
    // Received now: the device's clock skew and the answers' arrival are measured here, not
    // after the waits below, which a herd can make last seconds.
    let now = jiff::Timestamp::now();
    // A batch the database cannot take yet waits as it came (PostgreSQL's turns).
    let _turn = state.storage.upload_turn().await;
    // Decompressing and checking a batch is the CPU-heavy part: a herd of uploads waits for
    // its turn here, asleep, instead of crowding the runtime ahead of other requests.
    let decoding = state.decoding.acquire().await;
    let json = decode_body(&headers, sent, body_limits.max_json)?;
    let parsed = parse_batch(&json, limits.max_answers_per_batch, now);
    drop((decoding, json));
    let batch = match parsed {
        Ok(b) => b,
        Err(e) => {
            if !e.body.invalid.is_empty() {
                tracing::warn!(
                    device = device.id,
                    invalid = e.body.invalid.len(),
                    first = crate::text::for_terminal(&e.body.invalid[0].reason).as_ref(),
                    "refused a batch with invalid answers"
                );
            }
            return Err(e);
        }
    };
    let (total, skew) = (batch.answers.len(), batch.clock_skew_ms);
    let device_id = device.id.clone();
    let results = state
        .storage
        .store_batch(IncomingBatch {
            device,
            received_at_ms: now.as_millisecond(),
            clock_skew_ms: skew,
            answers: batch.answers,
        })
        .await?;
    let accepted = results
        .iter()
        .filter(|r| r.status == crate::wire::AnswerStatus::Accepted);
    tracing::info!(
        device = device_id,
        answers = total,
        accepted = accepted.count(),
        skew_ms = skew,
        "batch stored"
    );
    Ok(Json(BatchResponse {
        results,
        server_time: jiff::Timestamp::now().to_string(),
    }))
}

/// An upload as the collector reads it: every answer valid, with the batch's clock skew.
#[derive(Debug)]
pub struct ParsedBatch {
    pub clock_skew_ms: i64,
    pub answers: Vec<CheckedAnswer>,
}

/// Reads and checks an upload body (JSON, decompressed) received at `now`. A batch with any
/// invalid answer is refused whole (422, naming each invalid answer by position).
pub fn parse_batch(
    json: &[u8],
    max_answers: usize,
    now: jiff::Timestamp,
) -> Result<ParsedBatch, ApiError> {
    let raw: RawBatch = from_json(json)?;
    if raw.answers.len() > max_answers {
        return Err(ApiError::too_large(format!(
            "{} answers in one batch; at most {max_answers} are accepted",
            raw.answers.len(),
        )));
    }
    let skew = validate::skew_ms(&raw.device_time, now).map_err(ApiError::unprocessable)?;
    let total = raw.answers.len();
    let mut answers = Vec::with_capacity(total);
    let mut invalid = Vec::new();
    for (index, one) in raw.answers.into_iter().enumerate() {
        let checked = read_answer(one).and_then(|a| validate::answer(a, skew, now));
        match checked {
            Ok(a) => answers.push(a),
            Err(reason) => invalid.push(InvalidAnswer { index, reason }),
        }
    }
    if !invalid.is_empty() {
        return Err(ApiError::invalid_answers(total, invalid));
    }
    Ok(ParsedBatch {
        clock_skew_ms: skew,
        answers,
    })
}

/// Reads and checks a heartbeat body (JSON, decompressed) received at `now`; with the
/// device's clock skew.
pub fn parse_heartbeat(json: &[u8], now: jiff::Timestamp) -> Result<(Heartbeat, i64), ApiError> {
    let beat: Heartbeat = from_json(json)?;
    validate::heartbeat(&beat).map_err(ApiError::unprocessable)?;
    let skew = validate::skew_ms(&beat.device_time, now).map_err(ApiError::unprocessable)?;
    Ok((beat, skew))
}

pub async fn heartbeat(
    Shared(state): Shared<Arc<State>>,
    Device(device): Device,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<HeartbeatResponse>, ApiError> {
    state.rate_limit(&device.id)?;
    let limits = BodyLimits {
        max_body: MAX_HEARTBEAT_BYTES,
        max_json: MAX_HEARTBEAT_BYTES,
        timeout: state.settings.limits.body_timeout,
    };
    let json = read_body(&headers, body, &limits).await?;
    let now = jiff::Timestamp::now();
    let (beat, skew) = parse_heartbeat(&json, now)?;
    state
        .storage
        .record_heartbeat(HeartbeatRecord {
            device_id: device.id.clone(),
            received_at_ms: now.as_millisecond(),
            clock_skew_ms: skew,
            beat: beat.clone(),
        })
        .await?;
    // The device hears of its survey config until it reports running that version.
    let config = state
        .storage
        .device_config(&device.id)
        .await?
        .filter(|c| beat.config_version != Some(c.version));
    Ok(Json(HeartbeatResponse {
        server_time: now.to_string(),
        clock_skew_ms: skew,
        config,
    }))
}

/// What a request body may be: its size as sent, its size once decompressed, and how long
/// it may take to arrive.
pub(super) struct BodyLimits {
    pub max_body: usize,
    pub max_json: usize,
    pub timeout: Duration,
}

/// Reads a request body within its limits and decompresses it; a body that does not arrive
/// in time is a 408.
pub(super) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limits: &BodyLimits,
) -> Result<Bytes, ApiError> {
    let sent = receive_body(headers, body, limits).await?;
    decode_body(headers, sent, limits.max_json)
}

/// Reads a request body as sent, within its size and time limits.
async fn receive_body(
    headers: &HeaderMap,
    body: Body,
    limits: &BodyLimits,
) -> Result<Bytes, ApiError> {
    let max_body = limits.max_body;
    let too_large =
        || ApiError::too_large(format!("the request body is larger than {max_body} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_body) {
        return Err(too_large());
    }
    let reading = axum::body::to_bytes(body, max_body);
    let bytes = tokio::time::timeout(limits.timeout, reading)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    limits.timeout.as_secs()
                ),
            )
        })?
        .map_err(|e| {
            if std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            {
                too_large()
            } else {
                ApiError::bad_request(format!("the request body could not be read: {e}"))
            }
        })?;
    Ok(bytes)
}

/// Decompresses a body as its `Content-Encoding` says, within `max_json` bytes.
fn decode_body(headers: &HeaderMap, bytes: Bytes, max_json: usize) -> Result<Bytes, ApiError> {
    let too_large =
        || ApiError::too_large(format!("the request body is larger than {max_json} bytes"));
    match headers.get(header::CONTENT_ENCODING).map(|v| v.as_bytes()) {
        None | Some(b"identity") => {
            if bytes.len() > max_json {
                return Err(too_large());
            }
            Ok(bytes)
        }
        Some(b"gzip") => {
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .take(max_json as u64 + 1)
                .read_to_end(&mut json)
                .map_err(|_| ApiError::bad_request("the body is not valid gzip"))?;
            if json.len() > max_json {
                return Err(ApiError::too_large(format!(
                    "the decompressed body is larger than {max_json} bytes"
                )));
            }
            Ok(Bytes::from(json))
        }
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "content encoding {:?} is not supported; send gzip or nothing",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

/// Reads a JSON body as `T`. Syntax errors are a 400; well-formed JSON of the wrong shape is
/// a 422 that names the field at fault.
pub fn from_json<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, ApiError> {
    // Serde would also read a struct from an array of its fields: not this protocol.
    let first = json.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(json) {
                Ok(_) => ApiError::unprocessable(
                    "the body must be a JSON object as docs/protocol.md shows",
                ),
                Err(e) => ApiError::bad_request(format!("malformed JSON: {e}")),
            },
        );
    }
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(e, json))?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// Reads one answer of a batch (already well-formed JSON): why not, naming the field.
fn read_answer(raw: &RawValue) -> Result<WireAnswer, String> {
    if !raw.get().starts_with('{') {
        return Err("the answer must be a JSON object as docs/protocol.md shows".into());
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            // A key that is not readable text: no field to name.
            serde_json::error::Category::Syntax if path == "." || path.contains('?') => {
                format!("malformed JSON: {inner}")
            }
            // `missing field`, `unknown field` name the field themselves.
            _ if path == "." || path.contains('?') => inner.to_string(),
            _ => format!("{path}: {inner}"),
        }
    })
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>, json: &[u8]) -> ApiError {
    use serde_json::error::Category;
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = inner.to_string();
    match inner.classify() {
        // serde_json calls some errors of well-formed JSON syntax errors: a number too large
        // for its field (`"seq": 6e1841`), a value where an enum's name belongs
        // (`"scale": false`). Well-formed, they are the field's fault. (`?` is a key that
        // could not be read: no field to name.)
        Category::Syntax
            if (message.starts_with("number out of range")
                || message.starts_with("expected value"))
                && path != "."
                && !path.contains('?')
                && serde_json::from_slice::<serde::de::IgnoredAny>(json).is_ok() =>
        {
            ApiError::unprocessable(format!("{path}: {message}"))
        }
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request(format!("malformed JSON: {message}"))
        }
        // `unknown field`, `missing field` name the field themselves.
        Category::Data if path == "." && message.contains(" field `") => {
            ApiError::unprocessable(message)
        }
        Category::Data if path == "." => ApiError::unprocessable(format!(
            "the body must be a JSON object as docs/protocol.md shows: {message}"
        )),
        Category::Data => ApiError::unprocessable(format!("{path}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> jiff::Timestamp {
        "2026-11-24T09:00:00Z".parse().unwrap()
    }

    const ANSWER: &str = r#"{"id":"01936b2e-8f3a-7cc1-9a2b-3c4d5e6f7a8b","seq":SEQ,
        "boot_id":"b","device_time":"2026-11-24T09:00:00Z","device_time_ms":1795510800000,
        "clock_trusted":true,"question_id":"q","question_version":1,"language":"en",
        "scale":"ces7","direction":"higher_is_easier","score":6,"low":false,
        "suppressed":false,"input":"touch"}"#;

    fn batch(seq: &str) -> String {
        format!(
            r#"{{"device_time":"2026-11-24T09:00:00Z","answers":[{}]}}"#,
            ANSWER.replace("SEQ", seq)
        )
    }

    #[test]
    fn a_refusal_names_the_field_at_fault() {
        assert_eq!(
            parse_batch(batch("1").as_bytes(), 10, now())
                .unwrap()
                .answers
                .len(),
            1
        );
        let e = parse_batch(batch("6e1841").as_bytes(), 10, now()).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            e.body.invalid[0]
                .reason
                .starts_with("seq: number out of range"),
            "{e:?}"
        );
        let e = parse_batch(batch("\"7\"").as_bytes(), 10, now()).unwrap_err();
        assert!(
            e.body.invalid[0].reason.starts_with("seq: invalid type"),
            "{e:?}"
        );
        let e = parse_batch(
            br#"{"device_time":"2026-11-24T09:00:00Z","answers":[],"device_id":"x"}"#,
            10,
            now(),
        )
        .unwrap_err();
        assert!(e.body.error.contains("unknown field `device_id`"), "{e:?}");
    }

    #[test]
    fn only_an_object_is_a_body() {
        // Serde would read a struct from an array of its fields.
        let e = parse_batch(br#"["2026-11-24T09:00:00Z", []]"#, 10, now()).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            e.body.error.starts_with("the body must be a JSON object"),
            "{e:?}"
        );
        let e = parse_batch(br#"["2026-11-24"#, 10, now()).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        // A lone surrogate: in a key of the body, JSON that cannot be read (400); in a field
        // of an answer, that field is named.
        let e = parse_batch(br#"{"\udc00": 1}"#, 10, now()).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{e:?}");
        let e = parse_batch(
            batch("1").replace("\"b\"", "\"\\udc00\"").as_bytes(),
            10,
            now(),
        )
        .unwrap_err();
        assert!(
            e.body.invalid[0].reason.starts_with("boot_id: lone"),
            "{e:?}"
        );
        let e = parse_batch(&batch("1").as_bytes()[..40], 10, now()).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.body.error.starts_with("malformed JSON"), "{e:?}");
    }
}
