//! A round-robin TCP proxy in front of several collectors, as a load balancer would be: each
//! new connection goes to the next collector, or to the one after it when that one refuses
//! (a collector that is down or restarting), and the bytes are passed through untouched.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};

pub struct RoundRobin {
    /// The proxy's base URL, ending in `/`.
    pub url: String,
    /// Connections each collector has taken, in the order of the collectors given.
    pub taken: Arc<Vec<AtomicUsize>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl RoundRobin {
    pub fn start(collectors: Vec<SocketAddr>) -> RoundRobin {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener =
            super::collector::outside(&runtime, TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let taken: Arc<Vec<AtomicUsize>> =
            Arc::new(collectors.iter().map(|_| AtomicUsize::new(0)).collect());
        let counts = taken.clone();
        runtime.spawn(async move {
            let next = Arc::new(AtomicUsize::new(0));
            let collectors = Arc::new(collectors);
            while let Ok((mut client, _)) = listener.accept().await {
                let (next, collectors, counts) = (next.clone(), collectors.clone(), counts.clone());
                tokio::spawn(async move {
                    let first = next.fetch_add(1, Ordering::Relaxed);
                    for i in 0..collectors.len() {
                        let at = (first + i) % collectors.len();
                        if let Ok(mut upstream) = TcpStream::connect(collectors[at]).await {
                            counts[at].fetch_add(1, Ordering::Relaxed);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                            return;
                        }
                    }
                    // Every collector refused: the client sees its connection closed.
                });
            }
        });
        RoundRobin {
            url,
            taken,
            runtime: Some(runtime),
        }
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
