//! Starting and stopping each host.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;

use nexus_edge_harness::HarnessOptions;
use nexus_host::backend::PostgresOptions;
use nexus_host::clock::ManualClock;
use nexus_host::serve::{BackendKind, ServeOptions, serve_until};
use nexus_host::testing::{fresh_table, test_database};

use super::{T0, agent};

/// What serves the API.
#[derive(Debug, Clone)]
pub enum Host {
    /// `nexus serve` on this backend.
    Serve(BackendKind),
    /// The edge component in the harness, on this SQLite file.
    Edge(PathBuf),
}

/// Where the server runs: a thread of this process, or a Node process (the
/// browser host).
enum Running {
    Thread {
        stop: tokio::sync::oneshot::Sender<()>,
        thread: JoinHandle<()>,
    },
    Process(Child),
}

/// A running server; dropping it shuts it down gracefully and waits.
pub struct Server {
    pub(super) base: String,
    pub(super) agent: ureq::Agent,
    running: Option<Running>,
}

/// What a server's `serve_until` is given: a call with the address once it
/// listens, and a future that ends when it is to stop.
type Ready = Box<dyn FnOnce(SocketAddr) + Send>;
type Stopped = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Server {
    pub fn memory() -> Self {
        Self::start(Host::Serve(BackendKind::Memory), 64 * 1024)
    }

    pub fn file(dir: &Path) -> Self {
        Self::start(Host::Serve(BackendKind::File(dir.to_path_buf())), 64 * 1024)
    }

    /// `nexus serve` on a fresh PostgreSQL table named after `walk`, or
    /// `None` (a visible NOT RUN) outside CI without a database.
    pub fn postgres(walk: &str) -> Option<Self> {
        let (url, table) = Self::postgres_table(walk)?;
        Some(Self::postgres_on(&url, &table))
    }

    /// The database and a fresh table for `walk` (names are at most 63
    /// bytes; the walks differ in their first 50).
    pub fn postgres_table(walk: &str) -> Option<(String, String)> {
        let url = test_database()?;
        let table = fresh_table(&url, format!("http_{}", &walk[..walk.len().min(50)]));
        Some((url, table))
    }

    pub fn postgres_on(url: &str, table: &str) -> Self {
        let options = PostgresOptions {
            table: table.to_string(),
            ..PostgresOptions::new(url)
        };
        Self::start(Host::Serve(BackendKind::Postgres(options)), 64 * 1024)
    }

    pub fn edge(dir: &Path) -> Self {
        Self::start(Host::Edge(dir.join("sqlite_db.db")), 64 * 1024)
    }

    /// The browser host: `web/test/api-server.js` in Node, which needs
    /// `npm ci && npm run build` in `web/` first (the README's test command
    /// runs both). Missing, it fails: it never skips.
    pub fn web() -> Self {
        let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web");
        assert!(
            web.join("gen/nexus_component.js").exists() && web.join("node_modules").exists(),
            "the browser host is not built: run `npm ci && npm run build` in {}",
            web.display()
        );
        let node = std::env::var("NEXUS_NODE").unwrap_or_else(|_| "node".into());
        let mut child = Command::new(&node)
            .current_dir(&web)
            .args(["test/api-server.js", "--port", "0"])
            .args(["--manual-clock-ms", &T0.to_string()])
            .args([
                "--tick-every-ms",
                "5",
                "--max-body-bytes",
                &(64 * 1024).to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {node} (Node.js 20+ is needed): {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the server prints its address");
        let base = line
            .trim()
            .strip_prefix("nexus-web listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the browser host: {line:?}"))
            .to_string();
        Self {
            base,
            agent: agent(),
            running: Some(Running::Process(child)),
        }
    }

    /// `host` on a free loopback port and a manual clock at [`T0`], with
    /// request bodies up to `max_body_bytes`.
    pub fn start(host: Host, max_body_bytes: usize) -> Self {
        match host {
            Host::Serve(backend) => Self::serve(ServeOptions {
                backend,
                max_body_bytes,
                manual_clock: Some(ManualClock::new(T0)),
                // The ticker's cadence is real time; what it fires
                // follows the manual clock. Ticking often keeps the
                // ticker test short.
                tick_interval: std::time::Duration::from_millis(5),
                ..ServeOptions::default()
            }),
            Host::Edge(database) => Self::on_thread(move |ready, stopped| {
                let options = HarnessOptions {
                    addr: loopback(),
                    database,
                    manual_clock_ms: Some(T0),
                    // The one suite checks `/stats` exactly on every host;
                    // the edge's sampled default has its own test.
                    environment: vec![("NEXUS_READ_COUNT_SAMPLE".into(), "1".into())],
                    ..HarnessOptions::default()
                };
                nexus_edge_harness::serve_until(options, ready, stopped)
                    .expect("the harness runs and stops cleanly");
            }),
        }
    }

    /// `nexus serve`'s server with `options`, in a thread of this process
    /// (so that a test can keep a handle on a shared backend), on a free
    /// loopback port whatever `options.addr` says.
    pub fn serve(options: ServeOptions) -> Self {
        Self::on_thread(move |ready, stopped| {
            let options = ServeOptions {
                addr: loopback(),
                ..options
            };
            serve_until(options, ready, stopped).expect("the server runs and stops cleanly");
        })
    }

    /// Runs `serve` on a thread and returns once it listens.
    fn on_thread(serve: impl FnOnce(Ready, Stopped) + Send + 'static) -> Self {
        let (addr_tx, addr_rx) = mpsc::channel::<SocketAddr>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let ready: Ready =
            Box::new(move |addr| addr_tx.send(addr).expect("the test waits for the address"));
        let stopped: Stopped = Box::pin(async {
            let _ = stop_rx.await;
        });
        let thread = std::thread::spawn(move || serve(ready, stopped));
        let addr = addr_rx.recv().expect("the server started");
        Self {
            base: format!("http://{addr}"),
            agent: agent(),
            running: Some(Running::Thread {
                stop: stop_tx,
                thread,
            }),
        }
    }

    /// `http://ADDR`, where requests go.
    pub fn base(&self) -> &str {
        &self.base
    }
}

/// Port 0 of the loopback address: a free port, picked when it listens.
fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Drop for Server {
    fn drop(&mut self) {
        match self.running.take() {
            Some(Running::Thread { stop, thread }) => {
                let _ = stop.send(());
                let joined = thread.join();
                if !std::thread::panicking() {
                    joined.expect("the server thread ends without panicking");
                }
            }
            // Its storage is memory: nothing to shut down gracefully.
            Some(Running::Process(mut child)) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            None => {}
        }
    }
}
