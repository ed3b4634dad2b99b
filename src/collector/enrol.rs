//! `POST /v1/enrol`: a terminal trades a one-time enrolment code for its own credential and
//! survey config. The only route without a credential, so it is rate-limited per client
//! address (and under a ceiling for all together) and says no more than staff need: unknown, used, expired, or no survey config yet. And
//! `GET /v1/whoami`, with which a terminal checks that its credential is accepted.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode};

use crate::collector::State;
use crate::collector::auth::{Client, Device};
use crate::collector::error::ApiError;
use crate::collector::storage::Enrolment;
use crate::credential::{Credential, EnrolmentCode, Kind};
use crate::wire::{EnrolRequest, EnrolResponse, WhoAmI};

/// The largest enrolment request.
const MAX_ENROL_BYTES: usize = 1024;

pub async fn enrol(
    Shared(state): Shared<Arc<State>>,
    Client(client): Client,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EnrolResponse>, ApiError> {
    state.enrol_limit(client)?;
    let limits = crate::collector::ingest::BodyLimits {
        max_body: MAX_ENROL_BYTES,
        max_json: MAX_ENROL_BYTES,
        timeout: state.settings.limits.body_timeout,
    };
    let json = crate::collector::ingest::read_body(&headers, body, &limits).await?;
    let code = parse(&json)?;
    let credential = Credential::generate(Kind::Device);
    let now = jiff::Timestamp::now();
    let gone = |what: String| {
        ApiError::new(
            StatusCode::GONE,
            format!(
                "{what}; ask the central team for a new code (ces-collector device enrol-code)"
            ),
        )
    };
    match state
        .storage
        .enrol(&code.hash(), &credential.hash(), now.as_millisecond())
        .await?
    {
        Enrolment::Enrolled { device, config } => {
            tracing::info!(
                device = device.id,
                config = config.version,
                "terminal enrolled"
            );
            Ok(Json(EnrolResponse {
                device_id: device.id,
                site: device.site,
                touchpoint: device.touchpoint,
                credential: credential.expose().to_owned(),
                config,
            }))
        }
        Enrolment::Unknown => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown enrolment code; check what you typed",
        )),
        Enrolment::Used { at_ms } => Err(gone(format!(
            "this enrolment code was used already, at {}",
            time(at_ms)
        ))),
        Enrolment::Expired { at_ms } => Err(gone(format!(
            "this enrolment code expired at {}",
            time(at_ms)
        ))),
        Enrolment::NoConfig { device_id } => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "device {device_id} has no survey config yet; the central team sets one with \
                 `ces-collector config set --device {device_id} FILE`, then this code works"
            ),
        )),
    }
}

pub async fn whoami(
    Shared(state): Shared<Arc<State>>,
    Device(device): Device,
) -> Result<Json<WhoAmI>, ApiError> {
    state.rate_limit(&device.id)?;
    Ok(Json(WhoAmI {
        device_id: device.id,
        site: device.site,
        touchpoint: device.touchpoint,
    }))
}

/// Reads an enrolment body: a JSON object with a well-formed code, and nothing else.
pub fn parse(json: &[u8]) -> Result<EnrolmentCode, ApiError> {
    let request: EnrolRequest = crate::collector::ingest::from_json(json)?;
    EnrolmentCode::parse(&request.code).map_err(|e| ApiError::bad_request(format!("code: {e}")))
}

fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}
