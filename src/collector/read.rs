//! What central teams read, with an admin token (every site) or a dashboard session (the
//! person's sites, enforced in the queries): `GET /v1/export` (CSV or JSON, streamed),
//! `GET /v1/report` (the CES report per place, question and time bucket, paged) and
//! `GET /v1/devices` (the fleet).

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State as Shared};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::collector::State;
use crate::collector::dashboard::access::Reader;
use crate::collector::error::ApiError;
use crate::collector::export::{Encoder, Format};
use crate::collector::report::{self, By};
use crate::collector::storage::{AnswerFilter, Grouping};
use crate::wire::{DeviceStatus, ExportRow};

/// The query string of every read: a filter, and for the report its grouping, page and format.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    pub format: Option<Format>,
    /// Reports only: the time buckets (day by default).
    pub by: Option<By>,
    /// Reports only: the places (touchpoint by default).
    pub group: Option<Grouping>,
    /// Reports only: groups with fewer counted answers are marked too few.
    pub min_n: Option<u64>,
    /// Reports only: groups per page.
    pub limit: Option<usize>,
    /// Reports only: where the page starts, from the previous page's `next_cursor`.
    pub cursor: Option<String>,
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
            sites: None,
        };
        if let (Some(f), Some(t)) = (&filter.from, &filter.to)
            && f > t
        {
            return Err(format!("from {f} is after to {t}"));
        }
        Ok(filter)
    }
}

/// Groups per report page unless `limit` says otherwise, and the most it may say.
pub const REPORT_PAGE: usize = 1000;
pub const REPORT_PAGE_MAX: usize = 10_000;

impl ReadQuery {
    /// The report's cut, checked: a bad page size or cursor is refused.
    pub fn report(&self) -> Result<(Grouping, report::Request), String> {
        let by = self.by.unwrap_or_default();
        let limit = match self.limit {
            Some(n) if n == 0 || n > REPORT_PAGE_MAX => {
                return Err(format!("limit: {n} is not 1 to {REPORT_PAGE_MAX}"));
            }
            n => n.unwrap_or(REPORT_PAGE),
        };
        let after = self
            .cursor
            .as_deref()
            .map(|c| report::Cursor::parse(by, c))
            .transpose()?;
        let request = report::Request {
            by,
            min_n: self.min_n.unwrap_or(0),
            period: None,
            after,
            limit: Some(limit),
        };
        Ok((self.group.unwrap_or_default(), request))
    }

    /// Whether a parameter that only reports take is given.
    fn has_report_parameters(&self) -> bool {
        self.by.is_some()
            || self.group.is_some()
            || self.min_n.is_some()
            || self.limit.is_some()
            || self.cursor.is_some()
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// How many bytes of rows go out in one chunk of a streamed export.
const CHUNK: usize = 64 * 1024;

pub async fn export(
    Shared(state): Shared<Arc<State>>,
    reader: Reader,
    q: Result<Query<ReadQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    if q.has_report_parameters() {
        return Err(ApiError::bad_request(
            "by, group, min_n, limit and cursor apply to /v1/report only",
        ));
    }
    let filter = reader.scoped(q.filter().map_err(ApiError::bad_request)?)?;
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
    reader: Reader,
    uri: Uri,
    q: Result<Query<ReadQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let filter = reader.scoped(q.filter().map_err(ApiError::bad_request)?)?;
    let (group, request) = q.report().map_err(ApiError::bad_request)?;
    let report = report::read(state.storage.as_ref(), filter, group, request).await?;
    let next = report
        .next_cursor
        .as_deref()
        .and_then(|c| next_page(uri.query().unwrap_or(""), c));
    let mut response = match q.format.unwrap_or(Format::Json) {
        Format::Json => Json(report).into_response(),
        Format::Csv => (
            [(header::CONTENT_TYPE, Format::Csv.content_type())],
            report::csv(&report),
        )
            .into_response(),
    };
    if let Some(link) = next {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

/// The `Link` header to the next page: the same query with the cursor replaced.
fn next_page(query: &str, cursor: &str) -> Option<HeaderValue> {
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
        .collect();
    let cursor = format!("cursor={cursor}");
    kept.push(&cursor);
    HeaderValue::from_str(&format!("</v1/report?{}>; rel=\"next\"", kept.join("&"))).ok()
}

pub async fn devices(
    Shared(state): Shared<Arc<State>>,
    reader: Reader,
) -> Result<Json<Vec<DeviceStatus>>, ApiError> {
    let flag = i64::try_from(state.settings.skew_flag.as_millis()).unwrap_or(i64::MAX);
    let mut devices = state.storage.devices(flag).await?;
    devices.retain(|d| reader.may_see(&d.site));
    Ok(Json(devices))
}
