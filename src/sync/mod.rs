//! The terminal's side of the sync: the uploader task and its parts.
//!
//! - `policy`: which outcomes are retried, backoff with full jitter, `Retry-After`.
//! - `batch`: building a batch (count and byte caps, gzip) and reading the verdict on it.
//! - `transport`: the HTTP client, behind a trait.
//! - `uploader`: the task that ties them together and publishes a [`SyncStatus`]; `local`:
//!   its connection to the terminal database.
//! - `status`: what the uploader publishes, for the sync indicator and heartbeats.
//! - `thread`: the async thread the uploader runs on, beside the UI thread.
//! - `survey_config`: survey configs the collector sends with heartbeat replies.

pub mod batch;
mod local;
pub mod policy;
pub mod status;
pub mod survey_config;
mod thread;
pub mod transport;
mod uploader;

pub use status::{Link, SyncStatus};
pub use thread::SyncThread;
pub use transport::{Attempt, HttpTransport, Payload, Transport};
pub use uploader::{Command, Settings, SyncHandle, Uploader};

/// Starts the uploader for `config`'s terminal on `thread`, sending to `upstream`.
pub fn start(
    thread: &SyncThread,
    config: &crate::config::Config,
    upstream: &crate::config::Upstream,
) -> Result<SyncHandle, reqwest::Error> {
    let transport =
        HttpTransport::new(upstream.url.clone(), &upstream.credential, upstream.timeout)?;
    let (mut uploader, handle) = Uploader::new(
        transport,
        config.storage.path.clone(),
        config.device.clone(),
        Settings::from_upstream(upstream),
    );
    uploader.accept_configs_for(config);
    thread.spawn(uploader.run(thread.shutdown()));
    tracing::info!(collector = %upstream.url, "syncing answers");
    Ok(handle)
}
