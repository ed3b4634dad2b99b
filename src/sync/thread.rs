//! The terminal's async side in its own thread: a small tokio runtime that runs the
//! uploader (and, in the demo, an embedded collector) while the UI thread runs the window.
//! Stopping it lets every task finish its shutdown, within a time limit.

use std::future::Future;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long stopping waits for tasks to wind down (a collector finishing its requests).
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// A running async thread. Dropping it stops it.
pub struct SyncThread {
    runtime: tokio::runtime::Handle,
    tasks: TaskTracker,
    shutdown: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl SyncThread {
    /// Starts the thread with a single-threaded runtime.
    pub fn start() -> std::io::Result<SyncThread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("sync")
            .build()?;
        let handle = runtime.handle().clone();
        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let (stop, wait) = (shutdown.clone(), tasks.clone());
        let thread = std::thread::Builder::new()
            .name("sync".into())
            .spawn(move || {
                runtime.block_on(async move {
                    stop.cancelled().await;
                    wait.close();
                    if tokio::time::timeout(STOP_WITHIN, wait.wait())
                        .await
                        .is_err()
                    {
                        tracing::warn!("background tasks did not stop in time");
                    }
                });
            })?;
        Ok(SyncThread {
            runtime: handle,
            tasks,
            shutdown,
            thread: Some(thread),
        })
    }

    /// Cancelled when the thread is asked to stop; pass it to every long-lived task.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs `task` on the thread; stopping waits for it.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn_on(task, &self.runtime);
    }

    /// Runs `f` to completion on the thread and returns its output (for set-up work).
    pub fn run<F>(&self, f: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv().expect("the sync thread runs set-up work")
    }
}

impl Drop for SyncThread {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
