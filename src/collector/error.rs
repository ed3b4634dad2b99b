//! How the collector's routes fail: a status, a JSON [`ErrorBody`], and for 429 and 503 a
//! `Retry-After`. Storage failures map to 503 (worth retrying) or 500.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::collector::storage::StorageError;
use crate::wire::{ErrorBody, InvalidAnswer};

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody::new(message),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    /// A 422 for a batch with invalid answers, naming each one.
    pub fn invalid_answers(total: usize, invalid: Vec<InvalidAnswer>) -> ApiError {
        let n = invalid.len();
        let mut e = ApiError::unprocessable(format!(
            "{n} of {total} answers are invalid; nothing of this batch was stored"
        ));
        e.body.invalid = invalid;
        e
    }

    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds.max(1));
        self
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        match e {
            StorageError::Unavailable(_) => {
                tracing::warn!("storage unavailable: {e}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage is busy or unavailable",
                )
                .retry_after(5)
            }
            StorageError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            StorageError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            StorageError::Failed(m) => {
                tracing::error!("storage failed: {m}");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage failed")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
