//! A terminal's side for sync tests: a real answer database with answers in it, and the real
//! uploader with the real HTTP transport, paced for tests.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use ces_kiosk::config::Device;
use ces_kiosk::credential::Credential;
use ces_kiosk::store::Store;
use ces_kiosk::survey::{Answer, InputSource, Survey};
use ces_kiosk::sync::policy::Backoff;
use ces_kiosk::sync::{HttpTransport, Settings, SyncHandle, SyncStatus, Uploader};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The demo survey, parsed once (crash writers record in a tight loop).
pub static SURVEY: LazyLock<Survey> =
    LazyLock::new(|| ces_kiosk::demo::config(Path::new(".")).unwrap().survey);

/// A terminal database in a folder of its own.
pub struct Terminal {
    pub db: PathBuf,
    pub device: Device,
    pub store: Store,
    _dir: tempfile::TempDir,
}

impl Terminal {
    pub fn new(id: &str) -> Terminal {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("answers.db");
        let device = Device {
            id: id.into(),
            site: "lab".into(),
            touchpoint: "bench".into(),
        };
        let store = Store::open(&db, &device).unwrap();
        Terminal {
            db,
            device,
            store,
            _dir: dir,
        }
    }

    /// Records `n` answers (scores 4 to 7: no follow-up holds them back); returns their ids.
    pub fn record(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let a = answer(4 + (i % 4) as u8);
                self.store.record(&a).unwrap().id.to_string()
            })
            .collect()
    }

    /// Every answer id with its sync state.
    pub fn states(&self) -> Vec<(String, String)> {
        let mut rows: Vec<_> = self
            .store
            .answers()
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.sync_state))
            .collect();
        rows.sort();
        rows
    }

    pub fn ids_in(&self, state: &str) -> Vec<String> {
        self.states()
            .into_iter()
            .filter(|(_, s)| s == state)
            .map(|(id, _)| id)
            .collect()
    }
}

/// An answer on the demo survey, stamped now.
pub fn answer(score: u8) -> Answer {
    Answer::new(
        &SURVEY,
        "en",
        score,
        false,
        InputSource::Touch,
        ces_kiosk::clock::now(),
    )
}

/// Uploader settings paced for tests: short delays, a short backoff.
pub fn fast_settings() -> Settings {
    Settings {
        batch_max_answers: 200,
        batch_max_bytes: Settings::BATCH_MAX_BYTES,
        upload_delay: Duration::from_millis(5),
        heartbeat: Duration::from_secs(3600),
        keep_synced: Duration::from_secs(86_400),
        backoff: Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(2),
        },
    }
}

/// A running uploader of `terminal` sending to `url` with `credential`.
pub struct Running {
    pub handle: SyncHandle,
    pub status: watch::Receiver<SyncStatus>,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the real uploader with the real HTTP transport (`timeout` per request).
pub fn upload(
    terminal: &Terminal,
    url: &str,
    credential: &Credential,
    settings: Settings,
    timeout: Duration,
) -> Running {
    let transport =
        HttpTransport::new(reqwest::Url::parse(url).unwrap(), credential, timeout).unwrap();
    let (uploader, handle) = Uploader::new(
        transport,
        terminal.db.clone(),
        terminal.device.clone(),
        settings,
    );
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(uploader.run(shutdown.clone()));
    Running {
        status: handle.status(),
        handle,
        shutdown,
        task: Some(task),
    }
}

impl Running {
    /// Waits until the status satisfies `done`, at most `within`; fails the test otherwise.
    pub async fn until(
        &mut self,
        within: Duration,
        what: &str,
        done: impl Fn(&SyncStatus) -> bool,
    ) -> SyncStatus {
        let got = match tokio::time::timeout(within, self.status.wait_for(|s| done(s))).await {
            Ok(Ok(s)) => Some(s.clone()),
            _ => None,
        };
        got.unwrap_or_else(|| {
            panic!(
                "{what}: not within {within:?}; status {:?}",
                *self.status.borrow()
            )
        })
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}
