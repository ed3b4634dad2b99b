//! The real collector for tests: `ces-collector`'s routes on 127.0.0.1:0 with an SQLite file,
//! running on a runtime of its own (so a test's paused or blocked runtime never stalls it).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use ces_kiosk::collector::dashboard::access;
use ces_kiosk::collector::storage::{NewDevice, NewUser, Role, SqliteStorage, Storage};
use ces_kiosk::collector::{Collector, Limits, Settings};
use ces_kiosk::credential::{Credential, Kind};
use tokio_util::sync::CancellationToken;

pub struct TestCollector {
    pub address: SocketAddr,
    /// The base URL, ending in `/`.
    pub url: String,
    pub db: PathBuf,
    pub storage: Arc<SqliteStorage>,
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
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("collector.db");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let storage = Arc::new(SqliteStorage::open(&db).expect("the collector database opens"));
        let mut settings = Settings::new(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), db.clone());
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
            db,
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
            "listen = \"127.0.0.1:0\"\n[storage]\npath = {:?}\n",
            self.db.to_str().unwrap()
        );
        std::fs::write(&path, text).unwrap();
        path
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
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let mut stmt = conn
            .prepare("SELECT id FROM answers WHERE device_id = ?1 ORDER BY id")
            .unwrap();
        stmt.query_map([device], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// How many answers the database holds in all.
    pub fn answer_count(&self) -> i64 {
        rusqlite::Connection::open(&self.db)
            .unwrap()
            .query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
            .unwrap()
    }

    /// Asks it to stop; `stopped` then waits until it has.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
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

/// A collector config file in `dir` for the real binary: listening on 127.0.0.1:0, its
/// database `dir/collector.db`.
pub fn config_file(dir: &std::path::Path) -> std::path::PathBuf {
    let cfg = dir.join("collector.toml");
    std::fs::write(
        &cfg,
        "listen = \"127.0.0.1:0\"\n[storage]\npath = \"collector.db\"\n",
    )
    .unwrap();
    cfg
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
