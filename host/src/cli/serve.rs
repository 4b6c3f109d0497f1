//! `nexus serve`: the REST API over HTTP until SIGINT/SIGTERM.

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use nexus_host::backend::PostgresOptions;
use nexus_host::clock::ManualClock;
use nexus_host::serve::{BackendKind, BatchOptions, ConnectionLimits, ServeOptions, serve};
use tracing_subscriber::EnvFilter;

use super::failure::{EXIT_FAILED, EXIT_REFUSED as EXIT_USAGE};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one; the line
    /// `nexus listening on http://ADDR` on stdout says which).
    #[arg(
        long,
        value_name = "ADDR",
        env = "NEXUS_ADDR",
        default_value = "127.0.0.1:8000"
    )]
    addr: SocketAddr,
    /// Where keys and events live: `file` (durable, in --data), `memory`
    /// (gone when the server stops) or `postgres` (the database at
    /// --database-url, shared with other hosts). Default: `postgres` when
    /// --database-url is given, else `file`. --memory is `--backend memory`.
    #[arg(long, value_enum)]
    backend: Option<BackendArg>,
    /// Most PostgreSQL connections this server holds.
    #[arg(long, value_name = "N", default_value_t = PostgresOptions::DEFAULT_POOL_SIZE)]
    database_pool_size: u32,
    /// The PostgreSQL table (`table` or `schema.table`), created if missing.
    #[arg(long, value_name = "NAME", default_value = PostgresOptions::DEFAULT_TABLE)]
    database_table: String,
    /// The longest a PostgreSQL statement may go unanswered before its
    /// connection is dropped and the next goes to the next host of the URL
    /// (a read is then a 503, a commit a 503 "outcome unknown"); 0: no bound.
    #[arg(long, value_name = "MS", default_value_t = PostgresOptions::DEFAULT_STATEMENT_TIMEOUT.as_millis() as u64)]
    database_statement_timeout_ms: u64,
    /// Larger request bodies are refused with 413.
    #[arg(long, value_name = "BYTES", default_value_t = 2 * 1024 * 1024)]
    max_body_bytes: usize,
    /// The longest one request may run inside the store; over it, 503 and
    /// nothing written.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    request_timeout_ms: u64,
    /// The most memory one guest instance may grow to, in MiB; a request
    /// that needs more gets 503 and writes nothing.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    guest_memory_mib: usize,
    /// Log JSON lines instead of text (to stderr; level from $NEXUS_LOG,
    /// e.g. `debug` or `nexus_host=debug`, default `info`).
    #[arg(long)]
    log_json: bool,
    /// With no tokens in the store, serve everyone even on a non-loopback
    /// address (without it, such a server refuses to start). Once a token
    /// exists, every request needs one anyway.
    #[arg(long)]
    no_auth: bool,
    /// Serve /stats and /metrics without a token.
    #[arg(long)]
    public_stats: bool,
    /// Let pages from this origin call the API (`http://127.0.0.1:8081`, or
    /// `*` for any; repeat for several). Default: none (CORS off).
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Most connections open at once; more are closed as they arrive.
    #[arg(long, value_name = "N", default_value_t = ConnectionLimits::default().max_connections)]
    max_connections: usize,
    /// Most connections open at once from one client address.
    #[arg(long, value_name = "N", default_value_t = ConnectionLimits::default().max_per_client)]
    max_connections_per_client: usize,
    /// A request's headers must arrive within this (slowloris), and a
    /// kept-alive connection's next request must start within it.
    #[arg(long, value_name = "MS", default_value_t = millis(ConnectionLimits::default().header_read_timeout))]
    header_read_timeout_ms: u64,
    /// A connection on which no byte moves for this long is closed (a
    /// stalled body, a client that stops reading). Keep it above the
    /// longest receive wait (20 s) plus --request-timeout-ms.
    #[arg(long, value_name = "MS", default_value_t = millis(ConnectionLimits::default().idle_timeout))]
    idle_timeout_ms: u64,
    /// Most requests answered by one call into the store: requests that
    /// arrive while the store is busy share its storage reads and its
    /// commit (one fsync, one database transaction). 1 turns batching off.
    /// Default: 64, or 1 with the memory backend (where batching gains
    /// nothing).
    #[arg(long, value_name = "N")]
    batch_max: Option<usize>,
    /// How long a batch smaller than --batch-max waits for more requests,
    /// in microseconds; 0 takes what has arrived.
    #[arg(long, value_name = "US", default_value_t = 0)]
    batch_wait_us: u64,
    /// For client tests: run on a manual clock starting at this time (ms
    /// since the epoch), moved by `POST /_test/clock`.
    #[arg(long, value_name = "MS", env = "NEXUS_MANUAL_CLOCK_MS", hide = true)]
    manual_clock_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    File,
    Memory,
    Postgres,
}

pub fn run(data: &Path, memory: bool, database_url: Option<&str>, args: &ServeArgs) -> ExitCode {
    init_logging(args.log_json);
    let chosen = match (memory, args.backend, database_url) {
        (true, _, _) | (_, Some(BackendArg::Memory), _) => BackendArg::Memory,
        (_, Some(chosen), _) => chosen,
        (_, None, Some(_)) => BackendArg::Postgres,
        (_, None, None) => BackendArg::File,
    };
    let backend = match (chosen, database_url) {
        (BackendArg::Memory, _) => BackendKind::Memory,
        (BackendArg::File, _) => BackendKind::File(data.to_path_buf()),
        (BackendArg::Postgres, Some(url)) => BackendKind::Postgres(PostgresOptions {
            table: args.database_table.clone(),
            pool_size: args.database_pool_size,
            statement_timeout: (args.database_statement_timeout_ms > 0)
                .then(|| Duration::from_millis(args.database_statement_timeout_ms)),
            ..PostgresOptions::new(url)
        }),
        (BackendArg::Postgres, None) => {
            super::report("--backend postgres needs --database-url URL (or NEXUS_DATABASE_URL)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let options = ServeOptions {
        addr: args.addr,
        backend,
        max_body_bytes: args.max_body_bytes,
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        guest_memory_limit: args.guest_memory_mib << 20,
        manual_clock: args.manual_clock_ms.map(ManualClock::new),
        no_auth: args.no_auth,
        public_stats: args.public_stats,
        cors_origins: args.cors_origins.clone(),
        connections: ConnectionLimits {
            max_connections: args.max_connections,
            max_per_client: args.max_connections_per_client,
            header_read_timeout: Duration::from_millis(args.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        },
        batch: (args.batch_max.is_some() || args.batch_wait_us > 0).then(|| BatchOptions {
            max_requests: args.batch_max.unwrap_or(BatchOptions::ON.max_requests),
            max_wait: Duration::from_micros(args.batch_wait_us),
        }),
        ..ServeOptions::default()
    };
    let served = serve(options, |addr| {
        // Scripts and tests wait for this line to know the port.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "nexus listening on http://{addr}");
        let _ = out.flush();
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            super::report(&format!("{e:#}"));
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis() as u64
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_env("NEXUS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
