//! The central service `ces-collector`: receives answers from enrolled terminals, stores each
//! once, and gives central teams exports, the CES report and the fleet's health.
//!
//! - `settings`: the config file. `storage`: the [`Storage`] trait and its SQLite backend.
//! - `auth`: device credentials and admin tokens on requests. `limit`: per-device rate limit.
//! - `enrol`: one-time enrolment codes traded for a credential and a survey config.
//! - `ingest`: what terminals send. `validate`: the rules an answer must meet (pure).
//! - `read`: what central teams read. `report`: the CES maths. `export`: CSV and JSON rows.
//! - `error`: how routes fail (status, JSON body, `Retry-After`).
//!
//! [`Collector::bind`] → [`Collector::local_addr`] → [`Collector::run_until_stopped`].

pub mod auth;
mod enrol;
pub mod error;
pub mod export;
mod ingest;
pub mod limit;
pub mod read;
pub mod report;
pub mod settings;
pub mod storage;
pub mod validate;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use settings::{Limits, Settings};
pub use storage::{SqliteStorage, Storage};

use error::ApiError;
use limit::DeviceLimiter;

/// What every route shares.
pub struct State {
    pub storage: Arc<dyn Storage>,
    pub settings: Settings,
    limiter: DeviceLimiter,
    /// All enrolment attempts together: codes cannot be guessed at speed.
    enrol_limiter: DeviceLimiter,
}

impl State {
    /// Counts a request of `device`; a 429 with `Retry-After` when it is over its quota.
    fn rate_limit(&self, device: &str) -> Result<(), ApiError> {
        self.limiter.check(device).map_err(|wait| {
            ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too many requests from this device; slow down",
            )
            .retry_after(wait.as_secs_f64().ceil() as u64)
        })
    }
}

/// The collector's routes over `storage`.
pub fn router(settings: Settings, storage: Arc<dyn Storage>) -> Router {
    let limits = &settings.limits;
    let limiter = DeviceLimiter::new(limits.device_requests_per_second, limits.device_burst);
    let state = Arc::new(State {
        storage,
        settings,
        limiter,
        enrol_limiter: DeviceLimiter::new(1, 10),
    });
    Router::new()
        .route("/v1/answers", post(ingest::answers))
        .route("/v1/heartbeat", post(ingest::heartbeat))
        .route("/v1/enrol", post(enrol::enrol))
        .route("/v1/whoami", get(enrol::whoami))
        .route("/v1/export", get(read::export))
        .route("/v1/report", get(read::report))
        .route("/v1/devices", get(read::devices))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "no such endpoint; see docs/protocol.md",
            )
        })
        .with_state(state)
}

/// A collector bound to its port, ready to serve.
pub struct Collector {
    listener: TcpListener,
    router: Router,
}

impl Collector {
    /// Binds `settings.listen` (port 0 picks a free one) and prepares the routes.
    pub async fn bind(settings: Settings, storage: Arc<dyn Storage>) -> std::io::Result<Collector> {
        let listener = TcpListener::bind(settings.listen).await?;
        Ok(Collector {
            listener,
            router: router(settings, storage),
        })
    }

    /// The address it listens on (with the port it got).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` is cancelled, then stops taking connections and lets every
    /// request in flight finish (its batch stored and answered) before returning.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> std::io::Result<()> {
        tracing::info!(address = %self.local_addr(), "collector listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await?;
        tracing::info!("collector stopped");
        Ok(())
    }
}
