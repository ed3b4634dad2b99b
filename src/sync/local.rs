//! The uploader's own connection to the terminal database. SQLite calls block, so they run
//! on tokio's blocking threads, never on the task that talks to the network.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::Device;
use crate::store::{Store, StoreError};

/// The uploader's own connection to the terminal database, used off the async threads.
pub struct Local {
    path: PathBuf,
    device: Device,
    store: Arc<Mutex<Option<Store>>>,
}

impl Local {
    pub fn new(path: PathBuf, device: Device) -> Local {
        Local {
            path,
            device,
            store: Arc::default(),
        }
    }

    /// Runs `f` on the store in a blocking thread, opening the store first if needed. After
    /// a failure the connection is dropped: a failed fsync is never retried on it.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (path, device, slot) = (self.path.clone(), self.device.clone(), self.store.clone());
        tokio::task::spawn_blocking(move || {
            let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.is_none() {
                *slot = Some(Store::open(&path, &device)?);
            }
            let result = f(slot.as_mut().expect("opened above"));
            if result.is_err() {
                *slot = None;
            }
            result
        })
        .await
        .unwrap_or(Err(StoreError::Stopped))
    }
}
