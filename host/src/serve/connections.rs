//! Connections: how many are open, from whom, and how long one may dawdle.
//!
//! `axum::serve` takes every connection and waits on each forever, so one
//! client holding thousands of idle sockets, or sending its headers a byte
//! a second (slowloris), would starve everyone else. This accept loop
//! serves the same router through hyper's HTTP/1 connection builder, with
//! what axum leaves out:
//! - a cap on open connections, overall and per client address; a
//!   connection over a cap is closed at once, and a refused client is
//!   logged at most once a minute, not once per connection;
//! - hyper's header read timeout: a request head (and the next one on a
//!   kept-alive connection) must arrive within it;
//! - an idle timeout: a connection on which nothing is read or written for
//!   that long (a stalled body, a client that stops reading) is closed.
//!
//! Bodies are bounded by the router (`--max-body-bytes`, 413), so an endless
//! chunked body is cut off at the limit.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// What one server allows its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections in all.
    pub max_connections: usize,
    /// Open connections from one client address.
    pub max_per_client: usize,
    /// The time a request's head may take to arrive, and a kept-alive
    /// connection may wait for its next request.
    pub header_read_timeout: Duration,
    /// The time a connection may pass without a byte read or written. It
    /// must exceed the longest request: a receive may wait 20 s.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_per_client: 256,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl ConnectionLimits {
    /// Refuses limits that would let no client in.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.max_connections == 0 || self.max_per_client == 0 {
            anyhow::bail!("--max-connections and --max-connections-per-client must be at least 1");
        }
        if self.header_read_timeout.is_zero() || self.idle_timeout.is_zero() {
            anyhow::bail!("--header-read-timeout-ms and --idle-timeout-ms must be at least 1");
        }
        Ok(())
    }
}

/// Accepts and serves until `shutdown` completes; then stops accepting,
/// lets the requests in flight finish and returns.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let clients = Clients::new(limits);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, mostly: wait for some to close.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = clients.admit(peer.ip()) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Watched::new(stream, limits.idle_timeout));
        let connection =
            graceful.watch(http.serve_connection(io, TowerToHyperService::new(router.clone())));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Who holds how many connections.
struct Clients {
    limits: ConnectionLimits,
    state: Arc<Mutex<Counts>>,
}

/// How often one refused client is logged.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Counts {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
    /// When each refused client was last logged.
    refused: HashMap<IpAddr, Instant>,
}

/// One open connection, given back when dropped.
struct Slot {
    client: IpAddr,
    state: Arc<Mutex<Counts>>,
}

impl Clients {
    fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            state: Arc::default(),
        }
    }

    fn admit(&self, client: IpAddr) -> Option<Slot> {
        let mut counts = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let held = counts.by_client.get(&client).copied().unwrap_or(0);
        let over = if held >= self.limits.max_per_client {
            Some(("--max-connections-per-client", self.limits.max_per_client))
        } else if counts.total >= self.limits.max_connections {
            Some(("--max-connections", self.limits.max_connections))
        } else {
            None
        };
        if let Some((option, cap)) = over {
            let now = Instant::now();
            let total = counts.total;
            counts
                .refused
                .retain(|_, logged| now - *logged < REFUSAL_LOG_EVERY);
            counts.refused.entry(client).or_insert_with(|| {
                tracing::warn!(
                    %client, held, total,
                    "refusing connections from this client: over {option} {cap} (logged at most once a minute)"
                );
                now
            });
            return None;
        }
        counts.total += 1;
        *counts.by_client.entry(client).or_default() += 1;
        Some(Slot {
            client,
            state: self.state.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.state.lock().unwrap_or_else(|p| p.into_inner());
        counts.total -= 1;
        let held = counts.by_client.entry(self.client).or_default();
        *held -= 1;
        if *held == 0 {
            counts.by_client.remove(&self.client);
        }
    }
}

/// A stream that fails with `TimedOut` once nothing has moved through it
/// for `idle`: hyper then closes the connection.
struct Watched {
    stream: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Watched {
    fn new(stream: TcpStream, idle: Duration) -> Self {
        Self {
            stream,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn moved(&mut self, bytes: usize) {
        if bytes > 0 {
            let next = Instant::now() + self.idle;
            self.deadline.as_mut().reset(next);
        }
    }

    /// A write's outcome, noted: progress resets the deadline, a write that
    /// cannot go on fails once the deadline has passed.
    fn wrote(
        &mut self,
        cx: &mut Context<'_>,
        outcome: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match outcome {
            Poll::Ready(result) => {
                if let Ok(n) = &result {
                    self.moved(*n);
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                self.check(cx)?;
                Poll::Pending
            }
        }
    }

    /// Ready with an error once the connection has been idle too long.
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for longer than --idle-timeout-ms",
            )),
            Poll::Pending => Ok(()),
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.moved(buf.filled().len() - before);
                Poll::Ready(result)
            }
            Poll::Pending => {
                this.check(cx)?;
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.wrote(cx, outcome)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
