//! What central teams read, behind an admin token: `GET /v1/export` (CSV or JSON, streamed),
//! `GET /v1/report` (the CES report per site, touchpoint, question and day or hour) and
//! `GET /v1/devices` (the fleet).

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State as Shared};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::collector::State;
use crate::collector::auth::Admin;
use crate::collector::error::ApiError;
use crate::collector::export::{Encoder, Format};
use crate::collector::report;
use crate::collector::storage::AnswerFilter;
use crate::wire::{DeviceStatus, ExportRow};

/// The query string of every read: a filter, and for the report its grouping and format.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    pub format: Option<Format>,
    /// Reports only: group by day (default) or by hour.
    pub by: Option<By>,
    /// First local date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last local date (YYYY-MM-DD).
    pub to: Option<String>,
    pub site: Option<String>,
    pub touchpoint: Option<String>,
    pub device: Option<String>,
}

impl ReadQuery {
    /// Checks the dates and names; a bad one is refused, never silently ignored.
    pub fn filter(&self) -> Result<AnswerFilter, String> {
        let date = |key: &str, v: &Option<String>| -> Result<Option<String>, String> {
            v.as_ref()
                .map(|d| {
                    d.parse::<jiff::civil::Date>()
                        .map(|d| d.to_string())
                        .map_err(|_| format!("{key}: {d:?} is not a date like 2026-11-24"))
                })
                .transpose()
        };
        let name = |key: &str, v: &Option<String>| -> Result<Option<String>, String> {
            match v {
                Some(n) if n.is_empty() || n.len() > 64 => {
                    Err(format!("{key}: {n:?} is not 1 to 64 characters"))
                }
                other => Ok(other.clone()),
            }
        };
        let filter = AnswerFilter {
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            site: name("site", &self.site)?,
            touchpoint: name("touchpoint", &self.touchpoint)?,
            device: name("device", &self.device)?,
        };
        if let (Some(f), Some(t)) = (&filter.from, &filter.to)
            && f > t
        {
            return Err(format!("from {f} is after to {t}"));
        }
        Ok(filter)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum By {
    #[default]
    Day,
    Hour,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// How many bytes of rows go out in one chunk of a streamed export.
const CHUNK: usize = 64 * 1024;

pub async fn export(
    Shared(state): Shared<Arc<State>>,
    _: Admin,
    q: Result<Query<ReadQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    if q.by.is_some() {
        return Err(ApiError::bad_request("by: applies to /v1/report only"));
    }
    let filter = q.filter().map_err(ApiError::bad_request)?;
    let format = q.format.unwrap_or(Format::Csv);
    let (tx, rx) = mpsc::channel::<ExportRow>(1024);
    let storage = state.storage.clone();
    let reading = tokio::spawn(async move { storage.export(filter, tx).await });
    let stream = futures_util::stream::unfold(
        (rx, Encoder::new(format), Some(reading)),
        |(mut rx, mut encoder, reading)| async move {
            let reading = reading?;
            let mut chunk = Vec::new();
            while chunk.len() < CHUNK {
                let row = if chunk.is_empty() {
                    rx.recv().await
                } else {
                    rx.try_recv().ok()
                };
                match row {
                    Some(row) => chunk.extend(encoder.row(&row)),
                    None => break,
                }
            }
            if !chunk.is_empty() {
                return Some((Ok(Bytes::from(chunk)), (rx, encoder, Some(reading))));
            }
            // All rows are out: end the body, or break it off if the read failed.
            let end = match reading.await {
                Ok(Ok(())) => Ok(Bytes::from(encoder.finish())),
                Ok(Err(e)) => Err(std::io::Error::other(e.to_string())),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            if let Err(e) = &end {
                tracing::error!("an export stopped early: {e}");
            }
            Some((end, (rx, encoder, None)))
        },
    );
    let file = match format {
        Format::Csv => "attachment; filename=\"ces-answers.csv\"",
        Format::Json => "attachment; filename=\"ces-answers.json\"",
    };
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::CONTENT_DISPOSITION, file),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

pub async fn report(
    Shared(state): Shared<Arc<State>>,
    _: Admin,
    q: Result<Query<ReadQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let filter = q.filter().map_err(ApiError::bad_request)?;
    let by_hour = q.by.unwrap_or_default() == By::Hour;
    let counts = state.storage.report_counts(filter, by_hour).await?;
    let report = report::build(counts);
    Ok(match q.format.unwrap_or(Format::Json) {
        Format::Json => Json(report).into_response(),
        Format::Csv => (
            [(header::CONTENT_TYPE, Format::Csv.content_type())],
            report::csv(&report),
        )
            .into_response(),
    })
}

pub async fn devices(
    Shared(state): Shared<Arc<State>>,
    _: Admin,
) -> Result<Json<Vec<DeviceStatus>>, ApiError> {
    let flag = i64::try_from(state.settings.skew_flag.as_millis()).unwrap_or(i64::MAX);
    Ok(Json(state.storage.devices(flag).await?))
}
