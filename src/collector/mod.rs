//! The central service `ces-collector`: receives answers from enrolled terminals, stores each
//! once, and gives central teams exports, the CES report and the fleet's health.
//!
//! - `settings`: the config file; `database` its `[storage]` section (SQLite or PostgreSQL).
//!   `storage`: the [`Storage`] trait, its SQLite backend and its PostgreSQL backend.
//! - `server`: the HTTP server (connection cap, timeouts, head size). `client`: the client's
//!   address (`X-Forwarded-For` from trusted proxies only).
//! - `auth`: device credentials and admin tokens on requests. `limit`: rate limits per
//!   device, per client address and in all.
//! - `enrol`: one-time enrolment codes traded for a credential and a survey config.
//! - `ingest`: what terminals send. `validate`: the rules an answer must meet (pure).
//! - `read`: what central teams read. `report`: the CES maths. `export`: CSV and JSON rows.
//! - `dashboard`: the web pages central teams log in to (overview, places, fleet).
//! - `alert`: alert rules, the alerts they raise and their notifications (outbox, webhooks).
//!   `action`: what was changed at places and its effect. `notice`: "you said, we did".
//! - `error`: how routes fail (status, JSON body, `Retry-After`). `demo`: the demo terminal's
//!   own collector (`ces-collector demo`).
//!
//! [`Collector::bind`] → [`Collector::local_addr`] → [`Collector::run_until_stopped`].

pub mod action;
pub mod alert;
pub mod auth;
pub mod client;
pub mod dashboard;
pub mod database;
pub mod demo;
pub mod enrol;
pub mod error;
pub mod export;
pub mod ingest;
pub mod limit;
pub mod notice;
pub mod read;
pub mod report;
pub mod server;
pub mod settings;
pub mod storage;
pub mod validate;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use settings::{Limits, Settings};
pub use storage::{SqliteStorage, Storage};

use error::ApiError;
use limit::{DeviceLimiter, FailedAuth, GlobalLimiter, KeyedLimiter};

/// Enrolment attempts per client address (per second, and at once), and of all addresses
/// together: a code cannot be guessed at speed, and one address guessing cannot keep
/// technicians elsewhere from enrolling.
const ENROL_PER_ADDRESS: (u32, u32) = (1, 10);
const ENROL_IN_ALL: (u32, u32) = (20, 200);
/// Unknown credentials per client address before it is turned away (per second, at once).
const FAILED_AUTH_PER_ADDRESS: (u32, u32) = (1, 20);
/// Dashboard logins and password setups per client address (per second, at once).
const LOGIN_PER_ADDRESS: (u32, u32) = (1, 10);
/// How often the limiters forget the addresses and devices whose quota is full again.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// What every route shares.
pub struct State {
    pub storage: Arc<dyn Storage>,
    pub settings: Settings,
    limiter: DeviceLimiter,
    enrol_per_address: KeyedLimiter<IpAddr>,
    enrol_in_all: GlobalLimiter,
    failed_auth: FailedAuth,
    login_per_address: KeyedLimiter<IpAddr>,
    /// Upload batches decompressed and checked at once: one per core, so that a herd of
    /// uploads waits here, asleep, and the dashboard's requests still find a free worker.
    decoding: tokio::sync::Semaphore,
}

fn too_many(message: &str, wait: Duration) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, message)
        .retry_after(wait.as_secs_f64().ceil() as u64)
}

impl State {
    fn new(settings: Settings, storage: Arc<dyn Storage>) -> State {
        let limits = &settings.limits;
        State {
            limiter: DeviceLimiter::new(limits.device_requests_per_second, limits.device_burst),
            enrol_per_address: KeyedLimiter::new(ENROL_PER_ADDRESS.0, ENROL_PER_ADDRESS.1),
            enrol_in_all: GlobalLimiter::new(ENROL_IN_ALL.0, ENROL_IN_ALL.1),
            failed_auth: FailedAuth::new(FAILED_AUTH_PER_ADDRESS.0, FAILED_AUTH_PER_ADDRESS.1),
            login_per_address: KeyedLimiter::new(LOGIN_PER_ADDRESS.0, LOGIN_PER_ADDRESS.1),
            decoding: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            ),
            storage,
            settings,
        }
    }

    /// Counts a request of `device`; a 429 with `Retry-After` when it is over its quota.
    fn rate_limit(&self, device: &str) -> Result<(), ApiError> {
        self.limiter
            .check(&device.to_owned())
            .map_err(|wait| too_many("too many requests from this device; slow down", wait))
    }

    /// Counts an enrolment attempt from `client`: its own quota first, then everybody's.
    fn enrol_limit(&self, client: IpAddr) -> Result<(), ApiError> {
        self.enrol_per_address
            .check(&limit::address_key(client))
            .map_err(|wait| {
                too_many(
                    "too many enrolment attempts from this address; try again shortly",
                    wait,
                )
            })?;
        self.enrol_in_all
            .check()
            .map_err(|wait| too_many("too many enrolment attempts; try again shortly", wait))
    }

    /// Counts a login or password setup from the request's client address.
    fn login_limit(&self, parts: &axum::http::request::Parts) -> Result<(), Duration> {
        self.login_per_address
            .check(&limit::address_key(self.client(parts)))
    }

    /// The client address of a request (`X-Forwarded-For` only from a trusted proxy).
    fn client(&self, parts: &axum::http::request::Parts) -> IpAddr {
        client::address(parts, &self.settings.trusted_proxies)
    }

    fn forget_idle(&self) {
        self.limiter.forget_idle();
        self.enrol_per_address.forget_idle();
        self.failed_auth.forget_idle();
        self.login_per_address.forget_idle();
    }
}

/// Marks every response as the collector's own (`server::MARK`).
async fn mark(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .insert(server::MARK, HeaderValue::from_static(server::MARK_VALUE));
    response
}

/// The collector's routes over `storage`.
pub fn router(settings: Settings, storage: Arc<dyn Storage>) -> Router {
    routes(Arc::new(State::new(settings, storage)))
}

fn routes(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/answers", post(ingest::answers))
        .route("/v1/heartbeat", post(ingest::heartbeat))
        .route("/v1/enrol", post(enrol::enrol))
        .route("/v1/whoami", get(enrol::whoami))
        .route("/v1/export", get(read::export))
        .route("/v1/report", get(read::report))
        .route("/v1/devices", get(read::devices))
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(dashboard::routes())
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such endpoint; see docs/protocol.md",
            )
        })
        .layer(axum::middleware::map_response(mark))
        .with_state(state)
}

/// A collector bound to its port, ready to serve.
pub struct Collector {
    listener: TcpListener,
    state: Arc<State>,
}

impl Collector {
    /// Binds `settings.listen` (port 0 picks a free one) and prepares the routes.
    pub async fn bind(settings: Settings, storage: Arc<dyn Storage>) -> std::io::Result<Collector> {
        let listener = server::listen(settings.listen)?;
        Ok(Collector {
            listener,
            state: Arc::new(State::new(settings, storage)),
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
        let state = self.state.clone();
        let forgetting = shutdown.child_token();
        let forget = forgetting.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(FORGET_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    () = forget.cancelled() => break,
                    _ = every.tick() => state.forget_idle(),
                }
            }
        });
        let alerts = alert::sender::spawn(
            self.state.storage.clone(),
            self.state.settings.alerts.clone(),
            self.state.settings.dashboard.min_answers,
            forgetting.clone(),
        );
        let limits = self.state.settings.limits.clone();
        server::serve(self.listener, routes(self.state), &limits, shutdown).await;
        forgetting.cancel();
        for task in alerts {
            let _ = task.await;
        }
        tracing::info!("collector stopped");
        Ok(())
    }
}
