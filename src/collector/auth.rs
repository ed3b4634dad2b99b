//! Who is asking: request extractors for a device (its credential) and for a central team
//! (an admin token). Only the SHA-256 of a presented secret is looked up; the secret itself
//! is never stored or logged.

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

fn forbidden(message: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::FORBIDDEN, message)
}

impl FromRequestParts<Arc<State>> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, ApiError> {
        let hash = credential::hash_text(bearer(parts)?);
        match state.storage.device_by_credential(&hash).await? {
            None => Err(unauthorized("unknown device credential")),
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
        let hash = credential::hash_text(bearer(parts)?);
        match state.storage.admin_token(&hash).await? {
            None => Err(unauthorized("unknown admin token")),
            Some(true) => Err(forbidden("this admin token was revoked")),
            Some(false) => Ok(Admin),
        }
    }
}
