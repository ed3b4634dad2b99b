//! The collector's HTTP/1.1 server. It accepts connections up to a cap (the newest beyond it
//! get a short 503 and are closed), closes a connection that has not sent a complete request
//! head within the header timeout (also a keep-alive connection left idle that long), refuses
//! an oversized request head with 431, tells every request its client's address, and on
//! shutdown stops accepting and lets the requests in flight finish.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::collector::Limits;

/// The header every response of the collector carries (`wire::COLLECTOR_MARK`), with the
/// protocol version as its value.
pub const MARK: &str = crate::wire::COLLECTOR_MARK;
pub const MARK_VALUE: &str = "1";

/// Refused connections being answered at once; beyond this they are closed unanswered.
const REFUSING_AT_ONCE: usize = 256;

/// How long a refused connection is given to take its 503.
const REFUSAL_TIME: Duration = Duration::from_secs(2);

/// Connections the kernel may hold for the collector before it accepts them (capped by the
/// system's `net.core.somaxconn`): a burst of terminals coming back online at once is not
/// turned away.
const BACKLOG: u32 = 4096;

/// A listening socket on `address` with a backlog for bursts.
pub fn listen(address: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

/// Serves `router` on `listener` until `shutdown` is cancelled, within `limits`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: CancellationToken,
) {
    let connections = Arc::new(Semaphore::new(connection_cap(limits.max_connections)));
    let refusing = Arc::new(Semaphore::new(REFUSING_AT_ONCE));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_headers(100);
    let mut accept_failed = false;
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed = accept_error(e, accept_failed).await;
                    continue;
                }
            },
        };
        if accept_failed {
            tracing::info!("accepting connections again");
            accept_failed = false;
        }
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            if let Ok(slot) = refusing.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(slot);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service =
            router
                .clone()
                .map_request(move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request.map(Body::new)
                });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(peer = %peer, "connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Logs a failed accept (once until one works again) and waits a little: the usual cause is
/// the open-file limit, which frees up as connections close.
async fn accept_error(e: std::io::Error, reported: bool) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return reported;
    }
    if !reported {
        tracing::error!("cannot accept connections: {e}; retrying");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    true
}

/// Answers a connection over the cap with a 503 and closes it. Its request is read (and
/// dropped) for a moment first, so that closing does not reset the connection before the
/// client has read the answer.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = "{\"error\":\"the collector has too many connections; try again shortly\"}";
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 5\r\n{MARK}: {MARK_VALUE}\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        stream.write_all(reply.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// Files kept free for everything but connections (the database, its pool, logs).
const FILES_SPARE: u64 = 128;

/// The connection cap in force: the configured one, or less when the open-file limit would
/// be reached first (accepting would then fail for everybody, `/healthz` included).
fn connection_cap(configured: usize) -> usize {
    let files = open_file_limit().unwrap_or(u64::MAX);
    let room = usize::try_from(files.saturating_sub(FILES_SPARE)).unwrap_or(usize::MAX);
    if room < configured {
        tracing::warn!(
            configured,
            open_file_limit = files,
            "limits.max_connections is above what the open-file limit allows; at most {room} \
             connections are taken (raise LimitNOFILE)"
        );
    }
    configured.min(room).max(1)
}

// `rlim_t` is 32 bits wide on 32-bit ARM, 64 elsewhere.
#[allow(clippy::useless_conversion)]
fn open_file_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(u64::from(limit.rlim_cur))
}

/// Raises this process's soft limit of open files to its hard limit, and returns the limit
/// then in force. Each connection takes one file.
#[allow(clippy::useless_conversion)]
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(u64::from(limit.rlim_cur))
}
