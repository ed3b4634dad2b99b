//! Survey configs from the collector, on the terminal: a heartbeat reply may carry a newer
//! one. It is checked against this terminal (the survey rules, and its button boxes' scores),
//! saved as the one in force, and handed to the screen, which switches at its next idle
//! moment and says so ([`ConfigFeed::applied`]). A config that does not pass is refused and
//! named in the next heartbeats; the last good one keeps running.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

use crate::config::{Config, SurveyConfig};

/// The uploader's side: takes configs from heartbeat replies.
pub struct ConfigUpdates {
    /// The terminal's config, to check new survey configs against; `None`: the terminal
    /// takes no survey configs (it was not enrolled; its survey is in its config file).
    base: Option<Config>,
    running: Arc<AtomicU64>,
    refused: Option<(u64, String)>,
    tx: watch::Sender<Option<Arc<Config>>>,
}

/// The screen's side: the newest accepted config, and where to say which one runs.
#[derive(Clone)]
pub struct ConfigFeed {
    rx: watch::Receiver<Option<Arc<Config>>>,
    running: Arc<AtomicU64>,
}

/// A new pair; nothing is accepted until [`ConfigUpdates::accept_for`].
pub fn channel() -> (ConfigUpdates, ConfigFeed) {
    let (tx, rx) = watch::channel(None);
    let running = Arc::new(AtomicU64::new(0));
    let updates = ConfigUpdates {
        base: None,
        running: running.clone(),
        refused: None,
        tx,
    };
    (updates, ConfigFeed { rx, running })
}

impl ConfigUpdates {
    /// Accepts survey configs for the enrolled terminal `config` (saved in its state folder).
    pub fn accept_for(&mut self, config: &Config) {
        if let Some(v) = config.config_version {
            self.running.store(v, Ordering::Relaxed);
            self.base = Some(config.clone());
        }
    }

    /// The version the screen runs, for the heartbeat.
    pub fn running(&self) -> Option<u64> {
        Some(self.running.load(Ordering::Relaxed)).filter(|v| *v != 0)
    }

    /// Why the newest config was refused, for the heartbeat.
    pub fn error(&self) -> Option<String> {
        self.refused.as_ref().map(|(_, e)| e.clone())
    }

    /// A config from the collector: checked, saved and passed on, or refused.
    pub async fn offer(&mut self, doc: crate::wire::SurveyConfig) {
        let Some(base) = &self.base else { return };
        let known = |v: u64| {
            Some(v) == self.running()
                || self.refused.as_ref().is_some_and(|(r, _)| *r == v)
                || self.tx.borrow().as_ref().and_then(|c| c.config_version) == Some(v)
        };
        if known(doc.version) {
            return;
        }
        let origin = PathBuf::from(format!("survey config version {}", doc.version));
        let checked = SurveyConfig::parse(&doc.text, &origin)
            .map_err(|e| e.to_string())
            .and_then(|s| base.with_survey(s, doc.version));
        let config = match checked {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(
                    version = doc.version,
                    "refused the collector's survey config; the current one keeps running: {e}"
                );
                let e = format!("survey config version {} refused: {e}", doc.version);
                self.refused = Some((doc.version, e));
                return;
            }
        };
        let state = base.state_dir().to_owned();
        let version = doc.version;
        let saved =
            tokio::task::spawn_blocking(move || crate::enrolment::save_survey_config(&state, &doc))
                .await;
        match saved {
            Ok(Ok(())) => {
                tracing::info!(
                    version,
                    "new survey config saved; it applies when the screen is idle"
                );
                self.refused = None;
                self.tx.send_replace(Some(Arc::new(config)));
            }
            Ok(Err(e)) => tracing::warn!(version, "cannot save the new survey config: {e}"),
            Err(e) => tracing::warn!(version, "saving the new survey config stopped: {e}"),
        }
    }
}

impl ConfigFeed {
    /// The newest accepted config, if one came since the terminal started.
    pub fn latest(&self) -> Option<Arc<Config>> {
        self.rx.borrow().clone()
    }

    /// The newest accepted config and its version, if the screen does not run it yet.
    pub fn pending(&self) -> Option<(Arc<Config>, u64)> {
        let config = self.latest()?;
        let version = config.config_version?;
        (self.running() != Some(version)).then_some((config, version))
    }

    /// Waits until a new config is accepted; `false` when the uploader is gone.
    pub async fn changed(&mut self) -> bool {
        self.rx.changed().await.is_ok()
    }

    /// The screen switched to `version`.
    pub fn applied(&self, version: u64) {
        self.running.store(version, Ordering::Relaxed);
    }

    /// The version the screen runs.
    pub fn running(&self) -> Option<u64> {
        Some(self.running.load(Ordering::Relaxed)).filter(|v| *v != 0)
    }
}
