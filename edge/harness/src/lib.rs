//! A test harness, not a product runtime: serves the `nexus-edge` Spin
//! component the way `spin up` would, for the workspace's tests and
//! benchmarks, where the `spin` CLI cannot be installed.
//!
//! It is built from the wasmtime crates Spin embeds (wasmtime,
//! wasmtime-wasi, wasmtime-wasi-http) and Spin's own WIT (`wit/`, vendored
//! from spin-sdk 5.2.0), and it is **stricter than Spin, never more
//! lenient**, so that what passes here runs on Spin:
//!
//! - a fresh instance per request, as Spin runs WASIp2 components
//!   (`src/edge.rs`);
//! - only part of Spin's platform world is linked (WASI 0.2, `wasi:http`,
//!   `spin:sqlite@3.0.0`); outgoing HTTP and sockets are denied
//!   (`src/outbound.rs`);
//! - SQLite refuses what Spin silently tolerates, such as several
//!   statements in one `execute` (`src/sqlite.rs`).
//!
//! ```no_run
//! use nexus_edge_harness::{HarnessOptions, serve_until};
//! let options = HarnessOptions {
//!     addr: "127.0.0.1:0".parse()?,
//!     database: "/tmp/edge.db".into(),
//!     ..HarnessOptions::default()
//! };
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! # drop(stop);
//! serve_until(options, |addr| println!("http://{addr}"), async {
//!     let _ = stopped.await;
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```

mod clock;
mod edge;
mod outbound;
mod server;
mod sqlite;

pub use edge::{Edge, RequestFailed};

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;

use clock::ManualClock;

/// The edge component (`edge/`), built for wasm32-wasip2 by `build.rs`
/// (`NEXUS_EDGE_WASM_OVERRIDE` at build time serves another build).
pub const EDGE_WASM: &str = env!("NEXUS_EDGE_WASM");

#[derive(Debug, Clone)]
pub struct HarnessOptions {
    /// Where to listen; port 0 picks a free port (see `ready`).
    pub addr: SocketAddr,
    /// The SQLite file behind the `default` database; created if missing,
    /// with its directory, as `spin up` does.
    pub database: PathBuf,
    /// The component to serve.
    pub component: PathBuf,
    /// Serve on a manual wall clock starting at this many ms since the
    /// epoch, and answer `POST /_test/clock` `{"advance_ms": N}` or
    /// `{"set_ms": N}` to move it (for tests that must not sleep). Without
    /// it `/_test/clock` is the component's, like any other path.
    pub manual_clock_ms: Option<u64>,
    /// Wasmtime's pooling allocator (as Spin uses): instantiation per
    /// request costs microseconds instead of mmap calls.
    pub pooling: bool,
    /// The component's environment variables: `spin.toml`'s
    /// `environment = { NAME = "value" }`.
    pub environment: Vec<(String, String)>,
}

impl Default for HarnessOptions {
    /// `spin up`'s address and default database file.
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database: PathBuf::from(".spin/sqlite_db.db"),
            component: PathBuf::from(EDGE_WASM),
            manual_clock_ms: None,
            pooling: true,
            environment: Vec::new(),
        }
    }
}

/// Compiles the component, binds `options.addr`, calls `ready` with the
/// bound address, and serves HTTP/1 until `shutdown` completes; then stops
/// accepting, finishes the requests in flight and returns. Runs its own
/// tokio runtime, so call it from a plain thread.
pub fn serve_until(
    options: HarnessOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if let Some(dir) = options
        .database
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the database directory {}", dir.display()))?;
    }
    let clock = options.manual_clock_ms.map(ManualClock::new);
    let edge = edge::Edge::new(
        &options.component,
        sqlite::Database::new(&options.database),
        clock.clone(),
        options.pooling,
        options.environment.clone(),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    runtime.block_on(server::serve(edge, clock, options.addr, ready, shutdown))
}
