//! The collector the benchmarks' terminals talk to: `ces-collector`'s routes on 127.0.0.1:0
//! with an SQLite file (or, with `CES_BENCH_STORAGE=postgres`, a database on a throwaway
//! PostgreSQL server started from Debian's binaries), on a runtime of its own, devices
//! enrolled, an admin token and a dashboard session, no rate limit.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ces_kiosk::collector::alert::settings::AlertSettings;
use ces_kiosk::collector::dashboard::access;
use ces_kiosk::collector::database::Database;
use ces_kiosk::collector::storage::postgres::PgSettings;
use ces_kiosk::collector::storage::{NewDevice, NewSession, NewUser, Role, SqliteStorage, Storage};
use ces_kiosk::collector::{Collector, Limits, Settings};
use ces_kiosk::credential::hash_text;
use ces_kiosk::credential::{Credential, Kind};
use tokio_util::sync::CancellationToken;

pub struct Central {
    /// The base URL, ending in `/`.
    pub url: String,
    /// Each enrolled device's id and credential, in the order given.
    pub credentials: Vec<(String, Credential)>,
    /// An admin token for reads.
    pub admin: Credential,
    /// A dashboard admin's session cookie (`ces_session=…`).
    pub session: String,
    /// Its storage, for what a benchmark does beside the HTTP routes.
    pub storage: Arc<dyn Storage>,
    /// Where its data is.
    pub database: Database,
    runtime: tokio::runtime::Runtime,
    shutdown: CancellationToken,
}

impl Central {
    /// A collector with its database in `dir` and the devices `ids` enrolled.
    pub fn start(dir: &Path, ids: impl IntoIterator<Item = String>) -> Central {
        let devices = ids
            .into_iter()
            .map(|id| (id, "bench-site".to_owned(), "bench-desk".to_owned()));
        Central::start_fleet(dir, devices, true)
    }

    /// A collector on `database` with `devices` (id, site, touchpoint) enrolled.
    pub fn start_on(
        database: Database,
        devices: impl IntoIterator<Item = (String, String, String)>,
    ) -> Central {
        Central::start_with(database, devices, true, AlertSettings::default())
    }

    /// A collector with its database in `dir` and `devices` (id, site, touchpoint)
    /// enrolled; `rollups` false stores answers without counting them (to measure the cost).
    pub fn start_fleet(
        dir: &Path,
        devices: impl IntoIterator<Item = (String, String, String)>,
        rollups: bool,
    ) -> Central {
        Central::start_fleet_with(dir, devices, rollups, AlertSettings::default())
    }

    /// The same, with the collector's alert settings.
    pub fn start_fleet_with(
        dir: &Path,
        devices: impl IntoIterator<Item = (String, String, String)>,
        rollups: bool,
        alerts: AlertSettings,
    ) -> Central {
        Central::start_with(bench_database(dir), devices, rollups, alerts)
    }

    fn start_with(
        database: Database,
        devices: impl IntoIterator<Item = (String, String, String)>,
        rollups: bool,
        alerts: AlertSettings,
    ) -> Central {
        let runtime = runtime();
        let storage: Arc<dyn Storage> = match (&database, rollups) {
            (_, true) => runtime
                .block_on(database.open())
                .expect("the collector database"),
            (Database::Sqlite(db), false) => {
                Arc::new(SqliteStorage::open_without_rollups(db).expect("the collector database"))
            }
            (Database::Postgres(_), false) => {
                panic!("answers are stored without rollups on SQLite only (use --with-only)")
            }
        };
        let admin = Credential::generate(Kind::Admin);
        let (credentials, session) = runtime.block_on(async {
            let mut credentials = vec![];
            for (id, site, touchpoint) in devices {
                let c = Credential::generate(Kind::Device);
                let device = NewDevice {
                    id: id.clone(),
                    site,
                    touchpoint,
                    credential_hash: c.hash(),
                    created_at_ms: 0,
                };
                storage.add_device(device).await.expect("device added");
                credentials.push((id, c));
            }
            storage
                .add_admin_token("bench", &admin.hash(), 0)
                .await
                .expect("admin token added");
            (credentials, dashboard_session(storage.as_ref()).await)
        });
        let (url, shutdown) = serve(&runtime, &database, storage.clone(), alerts);
        Central {
            url,
            credentials,
            admin,
            session,
            storage,
            database,
            runtime,
            shutdown,
        }
    }

    /// Another collector on the same database, with the same devices, token and session:
    /// as a second collector behind a load balancer.
    pub fn another(&self) -> Central {
        let runtime = runtime();
        let storage = runtime
            .block_on(self.database.open())
            .expect("the collector database");
        let (url, shutdown) = serve(
            &runtime,
            &self.database,
            storage.clone(),
            AlertSettings::default(),
        );
        Central {
            url,
            credentials: self.credentials.clone(),
            admin: self.admin.clone(),
            session: self.session.clone(),
            storage,
            database: self.database.clone(),
            runtime,
            shutdown,
        }
    }

    /// Stops it and starts a collector with `alerts` on the same database (in `dir`), its
    /// devices, token and session kept.
    pub fn restart(self, dir: &Path, alerts: AlertSettings) -> Central {
        let _ = dir;
        let Central {
            credentials,
            admin,
            session,
            storage,
            database,
            runtime: old,
            shutdown,
            ..
        } = self;
        shutdown.cancel();
        drop(storage);
        old.shutdown_timeout(Duration::from_secs(5));
        let runtime = runtime();
        let storage = runtime
            .block_on(database.open())
            .expect("the collector database");
        let (url, shutdown) = serve(&runtime, &database, storage.clone(), alerts);
        Central {
            url,
            credentials,
            admin,
            session,
            storage,
            database,
            runtime,
            shutdown,
        }
    }

    /// Runs `f` on the collector's runtime and waits for it.
    pub fn on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Stops it, letting requests in flight finish.
    pub fn stop(self) {
        self.shutdown.cancel();
        self.runtime.shutdown_timeout(Duration::from_secs(5));
    }
}

/// Whether the benchmark runs on PostgreSQL (`CES_BENCH_STORAGE=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("CES_BENCH_STORAGE").as_deref() == Ok("postgres")
}

/// The storage the benchmark runs on, for its printout.
pub fn storage_name() -> &'static str {
    if on_postgres() {
        "PostgreSQL (a throwaway server on 127.0.0.1, pool of 16)"
    } else {
        "SQLite (one file)"
    }
}

/// A new database for a benchmark's collector: `dir/collector.db`, or a new database on
/// the throwaway PostgreSQL server.
fn bench_database(dir: &Path) -> Database {
    if on_postgres() {
        Database::Postgres(PgSettings {
            url: super::postgres::database(),
            password_file: None,
            ca_file: None,
            pool_size: 16,
            batches_at_once: None,
        })
    } else {
        Database::Sqlite(dir.join("collector.db"))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Serves `storage` on 127.0.0.1:0 without rate limits; returns its URL and how to stop it.
fn serve(
    runtime: &tokio::runtime::Runtime,
    database: &Database,
    storage: Arc<dyn Storage>,
    alerts: AlertSettings,
) -> (String, CancellationToken) {
    let mut settings = Settings::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), database.clone());
    settings.limits = Limits {
        device_requests_per_second: 1_000_000,
        device_burst: 1_000_000,
        ..Limits::default()
    };
    settings.alerts = alerts;
    let shutdown = CancellationToken::new();
    let url = runtime.block_on(async {
        let collector = Collector::bind(settings, storage)
            .await
            .expect("the collector binds");
        let url = format!("http://{}/", collector.local_addr());
        tokio::spawn(collector.run_until_stopped(shutdown.clone()));
        url
    });
    (url, shutdown)
}

/// A dashboard admin `bench` with a session, as logging in would make them; returns the
/// session cookie.
async fn dashboard_session(storage: &dyn Storage) -> String {
    let code = access::random_token();
    let user = NewUser {
        name: "bench".into(),
        role: Role::Admin,
        sites: Vec::new(),
        setup_hash: hash_text(&code),
        setup_expires_ms: i64::MAX,
        at_ms: 0,
    };
    storage.add_user(user).await.expect("a dashboard user");
    let phc = access::hash_password(&access::random_token()).unwrap();
    storage
        .set_password(&hash_text(&code), &phc, 0)
        .await
        .expect("a password");
    let id = access::random_token();
    let user_id = storage
        .login_account("bench")
        .await
        .unwrap()
        .expect("the user")
        .id;
    let session = NewSession {
        id_hash: hash_text(&id),
        user_id,
        csrf: access::random_token(),
        at_ms: 0,
        expires_ms: i64::MAX,
    };
    storage.start_session(session).await.expect("a session");
    format!("{}={id}", access::SESSION)
}

/// An answer as it goes over the wire, without a database in between.
pub fn wire_answer(a: &ces_kiosk::survey::Answer, seq: i64) -> ces_kiosk::wire::WireAnswer {
    ces_kiosk::wire::WireAnswer {
        id: a.id,
        seq,
        boot_id: ces_kiosk::clock::boot_id(),
        device_time: a.time.local.clone(),
        device_time_ms: a.time.unix_ms,
        clock_trusted: a.time.trusted,
        question_id: a.question_id.clone(),
        question_version: a.question_version,
        language: a.language.clone(),
        scale: a.scale,
        direction: a.scale.direction(),
        score: a.score,
        low: a.low,
        reason: None,
        suppressed: a.suppressed,
        input: a.input.as_str().to_owned(),
        age_ms: None,
    }
}
