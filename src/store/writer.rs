//! The store's own thread: it owns the connection, takes requests in order and reports each
//! outcome through a callback, so the UI thread never waits for the disk.
//!
//! After a failed write the connection is dropped and a new one opened for the next request:
//! an fsync error must not be retried on the same connection.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::{Store, StoreError};
use crate::config::{Device, Storage};
use crate::recording::Request;

/// What the store answers, with why a request failed.
pub type Reply = crate::recording::Reply<StoreError>;

/// Handle to the store thread. Dropping it lets the thread finish its queue and exit.
pub struct StoreWriter {
    tx: Option<mpsc::Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl StoreWriter {
    /// Starts the thread, which opens the store `storage` names and reports
    /// [`Reply::Opened`] (with the follow-up a restart left open, if any). A database on a
    /// filesystem that does not survive a reboot is refused (every request fails with
    /// [`StoreError::Volatile`]) unless the config allows it.
    pub fn spawn(
        storage: Storage,
        device: Device,
        mut on_reply: impl FnMut(Reply) + Send + 'static,
    ) -> StoreWriter {
        let (tx, rx) = mpsc::channel::<Request>();
        let thread = std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                let mut worker = Worker {
                    path: storage.path,
                    allow_volatile: storage.allow_volatile,
                    device,
                    store: None,
                };
                let opened = worker.store().and_then(Store::open_follow_up);
                on_reply(worker.logged(Reply::Opened(opened)));
                for request in rx {
                    let reply = worker.handle(request);
                    on_reply(worker.logged(reply));
                }
            })
            .expect("the store thread starts");
        StoreWriter {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Queues a request. When the store thread has stopped, gives back the reply that says
    /// so, to be handled like any failed write.
    pub fn send(&self, request: Request) -> Result<(), Box<Reply>> {
        match &self.tx {
            Some(tx) => tx
                .send(request)
                .map_err(|e| Box::new(e.0.failed(StoreError::Stopped))),
            None => Err(Box::new(request.failed(StoreError::Stopped))),
        }
    }
}

impl Drop for StoreWriter {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    path: PathBuf,
    allow_volatile: bool,
    device: Device,
    store: Option<Store>,
}

impl Worker {
    fn store(&mut self) -> Result<&mut Store, StoreError> {
        if self.store.is_none() {
            if let Some(on) = super::volatile(&self.path).filter(|_| !self.allow_volatile) {
                let path = self.path.clone();
                return Err(StoreError::Volatile { path, on });
            }
            self.store = Some(Store::open(&self.path, &self.device)?);
        }
        Ok(self.store.as_mut().expect("opened above"))
    }

    fn handle(&mut self, request: Request) -> Reply {
        match request {
            Request::Record(answer) => {
                let result = self.store().and_then(|s| s.record(&answer));
                match &result {
                    Ok(r) if r.resent => tracing::info!(
                        seq = r.seq,
                        suppressed = r.suppressed,
                        "button press sent again by its box was stored before; answered as stored"
                    ),
                    Ok(r) => tracing::info!(
                        seq = r.seq,
                        score = answer.score,
                        suppressed = r.suppressed,
                        "answer stored"
                    ),
                    Err(_) => {}
                }
                Reply::Recorded { answer, result }
            }
            Request::CloseFollowUp { id, reason, press } => {
                let result = self
                    .store()
                    .and_then(|s| s.close_follow_up(id, reason.as_deref(), press.as_ref()));
                if let (Some(p), Ok(closed)) = (&press, &result) {
                    tracing::info!(
                        box_seq = p.seq,
                        ?closed,
                        "follow-up reason chosen with a button"
                    );
                }
                Reply::FollowUpClosed { id, press, result }
            }
            Request::Probe => Reply::Probed(self.store().and_then(Store::probe)),
        }
    }

    /// Logs a failure once, and drops the connection so the next request opens a new one.
    fn logged(&mut self, reply: Reply) -> Reply {
        if let Some(e) = reply.error() {
            tracing::error!(db = %self.path.display(), "answer store failed: {e}");
            self.store = None;
        }
        reply
    }
}
