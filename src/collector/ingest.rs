//! What terminals send: `POST /v1/answers` and `POST /v1/heartbeat`. Each request is
//! authenticated by its credential, rate-limited per device, read within the body limits
//! (gzip allowed), validated in full, and only then stored. A batch with any invalid answer
//! is refused as a whole (422, naming each invalid answer); nothing of it is stored.

use std::io::Read;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::collector::State;
use crate::collector::auth::Device;
use crate::collector::error::ApiError;
use crate::collector::storage::{HeartbeatRecord, IncomingBatch};
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
    let json = read_body(&headers, body, limits.max_body_bytes, limits.max_json_bytes).await?;
    let raw: RawBatch = serde_json::from_slice(&json).map_err(json_error)?;
    if raw.answers.len() > limits.max_answers_per_batch {
        return Err(ApiError::too_large(format!(
            "{} answers in one batch; at most {} are accepted",
            raw.answers.len(),
            limits.max_answers_per_batch
        )));
    }
    let now = jiff::Timestamp::now();
    let skew = validate::skew_ms(&raw.device_time, now).map_err(ApiError::unprocessable)?;
    let total = raw.answers.len();
    let mut answers = Vec::with_capacity(total);
    let mut invalid = Vec::new();
    for (index, one) in raw.answers.into_iter().enumerate() {
        let checked = serde_json::from_str::<WireAnswer>(one.get())
            .map_err(|e| e.to_string())
            .and_then(|a| validate::answer(a, skew));
        match checked {
            Ok(a) => answers.push(a),
            Err(reason) => invalid.push(InvalidAnswer { index, reason }),
        }
    }
    if !invalid.is_empty() {
        tracing::warn!(
            device = device.id,
            invalid = invalid.len(),
            first = invalid[0].reason,
            "refused a batch with invalid answers"
        );
        return Err(ApiError::invalid_answers(total, invalid));
    }
    let device_id = device.id.clone();
    let results = state
        .storage
        .store_batch(IncomingBatch {
            device,
            received_at_ms: now.as_millisecond(),
            clock_skew_ms: skew,
            answers,
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

pub async fn heartbeat(
    Shared(state): Shared<Arc<State>>,
    Device(device): Device,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<HeartbeatResponse>, ApiError> {
    state.rate_limit(&device.id)?;
    let json = read_body(&headers, body, MAX_HEARTBEAT_BYTES, MAX_HEARTBEAT_BYTES).await?;
    let beat: Heartbeat = serde_json::from_slice(&json).map_err(json_error)?;
    validate::heartbeat(&beat).map_err(ApiError::unprocessable)?;
    let now = jiff::Timestamp::now();
    let skew = validate::skew_ms(&beat.device_time, now).map_err(ApiError::unprocessable)?;
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

/// Reads a request body within `max_body` bytes as sent and `max_json` once decompressed.
pub(super) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    max_body: usize,
    max_json: usize,
) -> Result<Bytes, ApiError> {
    let too_large =
        || ApiError::too_large(format!("the request body is larger than {max_body} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_body) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, max_body).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        {
            too_large()
        } else {
            ApiError::bad_request(format!("the request body could not be read: {e}"))
        }
    })?;
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

/// Syntax errors are a 400; well-formed JSON of the wrong shape is a 422.
pub(super) fn json_error(e: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request(format!("malformed JSON: {e}"))
        }
        Category::Data => ApiError::unprocessable(format!("invalid request: {e}")),
    }
}
