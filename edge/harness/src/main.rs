//! `nexus-edge-harness`: serves the nexus-edge Spin component over HTTP the
//! way `spin up` would, until Ctrl-C or SIGTERM.
//!
//! This is a TEST HARNESS, NOT A PRODUCT RUNTIME: it exists so that the
//! workspace's tests and `scripts/` benchmarks can run the edge component
//! where the `spin` CLI cannot be installed. Deploy the component with Spin
//! (or a Spin-compatible platform) instead.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use nexus_edge_harness::{EDGE_WASM, HarnessOptions, serve_until};

/// Test harness (not a product runtime): serves the nexus-edge Spin
/// component like `spin up`, one fresh instance per request.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// SQLite file of the app's `default` database.
    #[arg(long, default_value = ".spin/sqlite_db.db")]
    database: PathBuf,
    /// The component to serve.
    #[arg(long, default_value = EDGE_WASM)]
    component: PathBuf,
    /// Allocate each instance on demand instead of from wasmtime's pool.
    #[arg(long)]
    no_pooling: bool,
    /// Serve on a manual wall clock starting at this many ms since the
    /// epoch, moved with `POST /_test/clock` (client tests only).
    #[arg(long, value_name = "MS")]
    manual_clock_ms: Option<u64>,
    /// An environment variable of the component, as `spin.toml`'s
    /// `environment` table gives it (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = name_value)]
    environment: Vec<(String, String)>,
}

fn name_value(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .ok_or_else(|| format!("{arg:?} is not NAME=VALUE"))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let options = HarnessOptions {
        addr: args.addr,
        database: args.database,
        component: args.component,
        manual_clock_ms: args.manual_clock_ms,
        pooling: !args.no_pooling,
        environment: args.environment,
    };
    // On stdout once the port is bound, as `nexus serve` says it: scripts
    // and the Python client tests wait for this line.
    serve_until(
        options,
        |addr| {
            use std::io::Write as _;
            println!("nexus-edge-harness listening on http://{addr}");
            let _ = std::io::stdout().flush();
        },
        shutdown_signal(),
    )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
