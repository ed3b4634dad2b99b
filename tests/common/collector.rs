//! The real collector for tests: `ces-collector`'s routes on 127.0.0.1:0, running on a
//! runtime of its own (so a test's paused or blocked runtime never stalls it). Its storage
//! is an SQLite file, or, with `CES_TEST_STORAGE=postgres`, a database of its own on the
//! tests' PostgreSQL server: the same tests run on both backends.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ces_kiosk::collector::dashboard::access;
use ces_kiosk::collector::database::Database;
use ces_kiosk::collector::storage::postgres::PgSettings;
use ces_kiosk::collector::storage::{NewDevice, NewUser, Role, Storage};
use ces_kiosk::collector::{Collector, Limits, Settings};
use ces_kiosk::credential::{Credential, Kind};
use tokio_util::sync::CancellationToken;

pub struct TestCollector {
    pub address: SocketAddr,
    /// The base URL, ending in `/`.
    pub url: String,
    /// Where its data is: an SQLite file or a PostgreSQL database.
    pub database: Database,
    pub storage: Arc<dyn Storage>,
    runtime: Option<tokio::runtime::Runtime>,
    shutdown: CancellationToken,
    served: Option<std::sync::mpsc::Receiver<()>>,
    _dir: tempfile::TempDir,
}

impl TestCollector {
    /// A collector with default limits except a rate limit high enough for tests.
    pub fn start() -> TestCollector {
        TestCollector::with_settings(|_| {})
    }

    pub fn with_limits(limits: Limits) -> TestCollector {
        TestCollector::with_settings(|s| s.limits = limits)
    }

    /// A collector with its settings changed by `change` (limits, trusted proxies).
    pub fn with_settings(change: impl FnOnce(&mut Settings)) -> TestCollector {
        TestCollector::on_database(test_database, change)
    }

    /// A collector on SQLite whatever the tests run on (for copying it to PostgreSQL).
    pub fn on_sqlite() -> TestCollector {
        TestCollector::on_database(|dir| Database::Sqlite(dir.join("collector.db")), |_| {})
    }

    /// Another collector on `database` (shared with others), its settings changed by
    /// `change`.
    pub fn sharing(database: &Database, change: impl FnOnce(&mut Settings)) -> TestCollector {
        let database = database.clone();
        TestCollector::on_database(move |_| database, change)
    }

    /// A collector on the database `database` makes in its folder.
    fn on_database(
        database: impl FnOnce(&std::path::Path) -> Database,
        change: impl FnOnce(&mut Settings),
    ) -> TestCollector {
        let dir = tempfile::tempdir().unwrap();
        let database = database(dir.path());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let opening = database.clone();
        let storage = outside(&runtime, async move { opening.open().await })
            .expect("the collector database opens");
        let mut settings =
            Settings::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), database.clone());
        settings.limits.device_requests_per_second = 100_000;
        settings.limits.device_burst = 100_000;
        change(&mut settings);
        let collector = outside(&runtime, Collector::bind(settings, storage.clone()))
            .expect("the collector binds");
        let address = collector.local_addr();
        let shutdown = CancellationToken::new();
        let (done, served) = std::sync::mpsc::channel();
        let stop = shutdown.clone();
        runtime.spawn(async move {
            collector.run_until_stopped(stop).await.unwrap();
            let _ = done.send(());
        });
        TestCollector {
            address,
            url: format!("http://{address}/"),
            database,
            storage,
            runtime: Some(runtime),
            shutdown,
            served: Some(served),
            _dir: dir,
        }
    }

    /// A config file for the `ces-collector` command line on this collector's database.
    pub fn config_path(&self) -> std::path::PathBuf {
        let path = self._dir.path().join("collector.toml");
        let text = format!(
            "listen = \"127.0.0.1:0\"\n{}",
            storage_section(&self.database)
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The SQLite file, for tests of what only SQLite has (its file on disk, its WAL).
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        match &self.database {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }

    /// The first column of the first row of `sql` as a number: SQL that both backends take
    /// (counts, sums), for tests that look into the database itself.
    pub fn sql_number(&self, sql: &str) -> i64 {
        sql_number(&self.database, sql)
    }

    /// The first column of every row of `sql`, as text.
    pub fn sql_texts(&self, sql: &str) -> Vec<String> {
        sql_texts(&self.database, sql)
    }

    /// Runs statements that both backends take (changing the database behind the
    /// collector's back).
    pub fn sql_execute(&self, sql: &str) {
        match &self.database {
            Database::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Database::Postgres(pg) => {
                pg_rows(pg, sql);
            }
        }
    }

    /// Runs `f` on the collector's runtime and waits for it (callable from any thread).
    pub fn on<F>(&self, f: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        outside(self.runtime.as_ref().unwrap(), f)
    }

    /// Adds a device and returns its credential.
    pub fn add_device(&self, id: &str, site: &str, touchpoint: &str) -> Credential {
        let credential = Credential::generate(Kind::Device);
        let storage = self.storage.clone();
        let device = NewDevice {
            id: id.into(),
            site: site.into(),
            touchpoint: touchpoint.into(),
            credential_hash: credential.hash(),
            created_at_ms: 0,
        };
        self.on(async move { storage.add_device(device).await })
            .unwrap();
        credential
    }

    pub fn revoke(&self, id: &str) {
        let (storage, id) = (self.storage.clone(), id.to_owned());
        self.on(async move { storage.revoke_device(&id, 1).await })
            .unwrap();
    }

    /// A new admin token.
    pub fn admin(&self) -> Credential {
        let token = Credential::generate(Kind::Admin);
        let (storage, hash) = (self.storage.clone(), token.hash());
        let name = format!("t-{}", &hash[..8]);
        self.on(async move { storage.add_admin_token(&name, &hash, 0).await })
            .unwrap();
        token
    }

    /// A dashboard account with its password set (as the setup page would).
    pub fn add_person(&self, name: &str, role: Role, sites: &[&str], password: &str) {
        let storage = self.storage.clone();
        let code = format!("setup-{name}");
        let user = NewUser {
            name: name.into(),
            role,
            sites: sites.iter().map(|s| s.to_string()).collect(),
            setup_hash: ces_kiosk::credential::hash_text(&code),
            setup_expires_ms: i64::MAX,
            at_ms: 0,
        };
        let phc = access::hash_password(password).unwrap();
        self.on(async move {
            storage.add_user(user).await?;
            let hash = ces_kiosk::credential::hash_text(&code);
            storage.set_password(&hash, &phc, 1).await
        })
        .unwrap();
    }

    /// Every stored answer id of `device`, as the database holds them (with repeats, if any).
    pub fn answer_ids(&self, device: &str) -> Vec<String> {
        assert!(!device.contains('\''), "a plain device id");
        let mut ids = self.sql_texts(&format!(
            "SELECT id FROM answers WHERE device_id = '{device}'"
        ));
        ids.sort();
        ids
    }

    /// How many answers the database holds in all.
    pub fn answer_count(&self) -> i64 {
        self.sql_number("SELECT count(*) FROM answers")
    }

    /// Asks it to stop; `stopped` then waits until it has.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Stops the collector and closes its database, keeping its folder (its files, its
    /// config): what an operator has after stopping the service.
    pub fn close(mut self) -> tempfile::TempDir {
        self.begin_shutdown();
        self.stopped();
        if let Some(rt) = self.runtime.take() {
            // From a thread of its own: the caller may be inside a runtime.
            std::thread::spawn(move || rt.shutdown_timeout(std::time::Duration::from_secs(10)))
                .join()
                .unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let kept = std::mem::replace(&mut self._dir, dir);
        drop(self);
        kept
    }

    /// Waits until `run_until_stopped` returned.
    pub fn stopped(&mut self) {
        if let Some(served) = self.served.take() {
            served
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("the collector stopped");
        }
    }
}

impl Drop for TestCollector {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Whether the tests run on PostgreSQL (`CES_TEST_STORAGE=postgres`) rather than SQLite.
pub fn on_postgres() -> bool {
    match std::env::var("CES_TEST_STORAGE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("CES_TEST_STORAGE={other:?}: sqlite or postgres"),
    }
}

/// A new database for one collector of a test: `dir/collector.db`, or a new database on the
/// tests' PostgreSQL server.
pub fn test_database(dir: &std::path::Path) -> Database {
    if on_postgres() {
        Database::Postgres(PgSettings {
            url: super::postgres::database(),
            password_file: None,
            ca_file: None,
            pool_size: 8,
            batches_at_once: None,
        })
    } else {
        Database::Sqlite(dir.join("collector.db"))
    }
}

/// The `[storage]` section naming `database`.
pub fn storage_section(database: &Database) -> String {
    match database {
        Database::Sqlite(path) => format!("[storage]\npath = {:?}\n", path.to_str().unwrap()),
        Database::Postgres(pg) => format!("[storage]\nkind = \"postgres\"\nurl = {:?}\n", pg.url),
    }
}

/// A collector config file in `dir` for the real binary: listening on 127.0.0.1:0, its
/// database `dir/collector.db` (or a new PostgreSQL database).
pub fn config_file(dir: &std::path::Path) -> std::path::PathBuf {
    let cfg = dir.join("collector.toml");
    let text = format!(
        "listen = \"127.0.0.1:0\"\n{}",
        storage_section(&test_database(dir))
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

/// The first column of the first row of `sql` as a number.
pub fn sql_number(database: &Database, sql: &str) -> i64 {
    match database {
        Database::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap(),
        Database::Postgres(pg) => {
            let row = pg_rows(pg, &format!("SELECT ({sql})::bigint")).remove(0);
            row.get::<_, Option<i64>>(0).unwrap_or(0)
        }
    }
}

/// The first column of every row of `sql`, as text.
pub fn sql_texts(database: &Database, sql: &str) -> Vec<String> {
    match database {
        Database::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).unwrap();
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        }
        Database::Postgres(pg) => pg_rows(pg, &format!("SELECT x::text FROM ({sql}) AS q(x)"))
            .iter()
            .map(|r| r.get(0))
            .collect(),
    }
}

/// The rows of `sql` on a PostgreSQL database, from a connection of their own.
fn pg_rows(pg: &PgSettings, sql: &str) -> Vec<tokio_postgres::Row> {
    let config = pg.config().unwrap();
    let sql = sql.to_owned();
    std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                if sql.trim_start().starts_with("SELECT") {
                    client.query(&sql, &[]).await.unwrap()
                } else {
                    client.batch_execute(&sql).await.unwrap();
                    Vec::new()
                }
            })
        })
        .join()
        .unwrap()
    })
}

/// Runs the real `ces-collector` binary with the config `cfg` and `args`.
pub fn command(cfg: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ces-collector"))
        .arg("-c")
        .arg(cfg)
        .args(args)
        .output()
        .unwrap()
}

/// What a command printed: standard output, then standard error.
pub fn printed(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// An HTTP client for tests (with the TLS provider the terminal installs).
pub fn client() -> reqwest::Client {
    ces_kiosk::sync::transport::install_crypto_provider();
    reqwest::Client::new()
}

/// Runs `f` on `runtime` and waits for it from this thread, which may itself be inside
/// another runtime (a test's).
pub fn outside<F>(runtime: &tokio::runtime::Runtime, f: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(f.await);
    });
    rx.recv().unwrap()
}
