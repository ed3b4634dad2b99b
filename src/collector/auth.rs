//! Who is asking: request extractors for a device (its credential), for a central team (an
//! admin token), and for the client's address. Only the SHA-256 of a presented secret is
//! looked up; the secret itself is never stored or logged. A client address that presents
//! too many unknown secrets is turned away (429) before any lookup.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::collector::State;
use crate::collector::error::ApiError;
use crate::collector::storage::DeviceIdentity;
use crate::credential;

/// A request made with a valid, unrevoked device credential.
pub struct Device(pub DeviceIdentity);

/// A request made with a valid, unrevoked admin token.
pub struct Admin;

/// The client's address (`X-Forwarded-For` only from a trusted proxy).
pub struct Client(pub IpAddr);

impl FromRequestParts<Arc<State>> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, ApiError> {
        Ok(Client(state.client(parts)))
    }
}

/// The credential's hash, after checking that the client may try one now.
fn presented(parts: &Parts, state: &State) -> Result<(String, IpAddr), ApiError> {
    let client = state.client(parts);
    state.failed_auth.admit(client).map_err(|wait| {
        super::too_many(
            "too many unknown credentials from this address; try again later",
            wait,
        )
    })?;
    Ok((credential::hash_text(bearer(parts)?), client))
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("no credential: send Authorization: Bearer <credential>"))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header must be: Bearer <credential>"))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::UNAUTHORIZED, message)
}

/// An unknown credential from `client`: 401, or 429 once the address has had too many.
fn unknown(state: &State, client: IpAddr, message: &str) -> ApiError {
    match state.failed_auth.failed(client) {
        Ok(()) => unauthorized(message),
        Err(wait) => super::too_many(
            "too many unknown credentials from this address; try again later",
            wait,
        ),
    }
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::FORBIDDEN, message)
}

impl FromRequestParts<Arc<State>> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, ApiError> {
        let (hash, client) = presented(parts, state)?;
        match state.storage.device_by_credential(&hash).await? {
            None => Err(unknown(state, client, "unknown device credential")),
            Some(d) if d.revoked => Err(forbidden(
                "this device's credential was revoked; enrol the terminal again",
            )),
            Some(d) => Ok(Device(d)),
        }
    }
}

impl FromRequestParts<Arc<State>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, ApiError> {
        let (hash, client) = presented(parts, state)?;
        match state.storage.admin_token(&hash).await? {
            None => Err(unknown(state, client, "unknown admin token")),
            Some(true) => Err(forbidden("this admin token was revoked")),
            Some(false) => Ok(Admin),
        }
    }
}
