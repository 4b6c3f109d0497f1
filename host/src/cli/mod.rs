//! The command line: the top-level clap types, opening the store, running
//! one command and turning its outcome into output and an exit code.
//!
//! Each command (or small group of commands) is one module owning its clap
//! arguments and its `run`, like mini-redis's `cmd/`; a group's enum
//! (`kv::KvCommand`, `events::EventsCommand`, ...) only picks the variant and
//! delegates. `output` renders, `failure` maps errors to exit codes; `serve`
//! starts the HTTP server instead of running once. With `--json`, a command
//! prints the REST API's JSON for the records it shows
//! (`nexus_store::http::json`), so a script can move between the two.

mod backup;
mod dlq;
mod events;
mod failure;
mod kv;
mod nodes;
mod ns;
mod output;
mod serve;
mod tasks;
mod tick;
mod tokens;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use nexus_host::batch::{Operation, Outcome};
use nexus_host::{Namespace, Nexus};

use failure::{EXIT_FAILED, Failure};
use output::Out;

const EXIT_CODES: &str = "\
Exit codes:
  0  ok
  1  not found (a missing key, namespace, message, dead letter, node or task)
  2  refused: the store's typed error (invalid namespace, invalid metadata,
     invalid argument, condition failed, quota exceeded, ...), or a usage error
  3  nexus could not run the command (store not openable, component trap)";

/// A multi-tenant key-value and events store; its logic runs as a WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "nexus", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Directory of the durable store (created if missing).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "DIR",
        env = "NEXUS_DATA",
        default_value = "./nexus-data"
    )]
    data: PathBuf,

    /// Use a throw-away in-memory store instead of --data (nothing is kept).
    #[arg(long, global = true, help_heading = "Global options")]
    memory: bool,

    /// Use the PostgreSQL database at this URL instead of --data
    /// (`postgres://user:password@host:port/db`), shared with every host
    /// that uses it.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "URL",
        env = "NEXUS_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,

    /// Run the command against the running `nexus serve` at this URL
    /// (`http://host:port`) instead of a local store: the same output and
    /// exit codes, with the server's storage (see docs/cli.md).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "URL",
        env = "NEXUS_URL",
        conflicts_with_all = ["memory", "database_url"]
    )]
    url: Option<String>,

    /// The bearer token for --url: an admin token over every namespace
    /// (`nexus tokens create --ns '*' --scope admin`), once the server has
    /// tokens. Unused without --url.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "TOKEN",
        env = "NEXUS_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

/// Commands that open the store, run once and exit.
#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Read and write keys.
    #[command(subcommand)]
    Kv(kv::KvCommand),
    /// Inspect and manage namespaces.
    #[command(subcommand)]
    Ns(ns::NsCommand),
    /// Emit, receive and acknowledge events; the event log, metrics,
    /// consumer groups and settings.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// The dead-letter queue: messages whose attempts ran out.
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
    /// Nodes: registered event consumers and their heartbeats.
    #[command(subcommand)]
    Nodes(nodes::NodesCommand),
    /// Cron-scheduled tasks; each occurrence emits an event (in `nexus tick`).
    #[command(subcommand)]
    Tasks(tasks::TasksCommand),
    /// Bearer tokens for `nexus serve`: per-namespace scopes, stored only as hashes.
    #[command(subcommand)]
    Tokens(tokens::TokensCommand),
    Tick(tick::Tick),
    Backup(backup::Backup),
    Restore(backup::Restore),
}

impl StoreCommand {
    fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        match self {
            Self::Kv(cmd) => cmd.run(ctx),
            Self::Ns(cmd) => cmd.run(ctx),
            Self::Events(cmd) => cmd.run(ctx),
            Self::Dlq(cmd) => cmd.run(ctx),
            Self::Nodes(cmd) => cmd.run(ctx),
            Self::Tasks(cmd) => cmd.run(ctx),
            Self::Tokens(cmd) => cmd.run(ctx),
            Self::Tick(cmd) => cmd.run(ctx),
            Self::Backup(cmd) => cmd.run(ctx),
            Self::Restore(cmd) => cmd.run(ctx),
        }
    }
}

/// Every command: one-shot commands on an opened store, or the server.
#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Store(StoreCommand),
    /// Serve the REST API over HTTP (PyKV-compatible key-value routes, and
    /// events, DLQ, nodes and tasks under /namespaces/{ns}/; the whole API
    /// at /openapi.json, Prometheus metrics at /metrics) until SIGINT or
    /// SIGTERM, which finish the requests in flight first.
    Serve(serve::ServeArgs),
    Copy(backup::Copy),
}

/// The namespace a command works in.
#[derive(Debug, Args)]
struct NsArg {
    /// Namespace (letters, digits, '-', '_'; 1-64 characters).
    #[arg(long = "ns", value_name = "NS", default_value = nexus_store::DEFAULT_NAMESPACE)]
    namespace: String,
}

impl NsArg {
    fn open(&self, ctx: &Ctx) -> Result<Namespace, Failure> {
        Ok(ctx.nexus.namespace(&self.namespace)?)
    }
}

/// `--idempotency-key` on the commands that write.
#[derive(Debug, Args)]
struct OnceArg {
    /// Apply this write at most once per KEY in the namespace: the same
    /// command run again with KEY (after exit code 3, "outcome unknown", or
    /// against another server) prints the first result and writes nothing.
    #[arg(long, value_name = "KEY")]
    idempotency_key: Option<String>,
}

impl OnceArg {
    /// With a key, `operation` applied once per key and its outcome taken
    /// by `pick`; without, `plain`.
    fn run<T>(
        &self,
        ctx: &Ctx,
        operation: impl FnOnce() -> Operation,
        pick: fn(Outcome) -> Option<T>,
        plain: impl FnOnce() -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let Some(key) = &self.idempotency_key else {
            return plain();
        };
        let outcome = ctx.nexus.apply_once(key, operation())?;
        pick(outcome).ok_or_else(|| {
            nexus_host::Error::Setup(anyhow::anyhow!(
                "the store answered another kind of outcome than this command asked for"
            ))
            .into()
        })
    }
}

/// What a command runs with: the opened store, and whether `--json` was
/// given, for the commands that print as they go (`events tail --follow`).
pub struct Ctx<'a> {
    nexus: &'a Nexus,
    json: bool,
    /// With `--url`: the server (a watch reads its stream).
    remote: Option<&'a Remote>,
}

/// The server `--url` names, and the token for it.
pub struct Remote {
    url: String,
    token: Option<String>,
}

/// Runs the command line and says how the process should exit.
pub fn main(cli: Cli) -> ExitCode {
    let command = match cli.command {
        Command::Serve(_) if cli.url.is_some() => {
            report("--url runs a command against a server; `nexus serve` is one");
            return ExitCode::from(failure::EXIT_REFUSED);
        }
        Command::Serve(ref args) => {
            return serve::run(&cli.data, cli.memory, cli.database_url.as_deref(), args);
        }
        Command::Copy(ref copy) => {
            if cli.url.is_some() || cli.database_url.is_some() || cli.memory {
                report("nexus copy names both stores with --from and --to");
                return ExitCode::from(failure::EXIT_REFUSED);
            }
            return finish(copy.run(), cli.json);
        }
        Command::Store(command) => command,
    };
    let remote = cli.url.clone().map(|url| Remote {
        url,
        token: cli.token.clone(),
    });
    let opened = match &remote {
        Some(remote) => open_remote(remote),
        None => open(&cli.data, cli.memory, cli.database_url.as_deref()),
    };
    let outcome = opened.and_then(|nexus| {
        let ctx = Ctx {
            nexus: &nexus,
            json: cli.json,
            remote: remote.as_ref(),
        };
        let result = command.run(&ctx);
        // Keep the read statistics (hits, misses) this process gathered.
        let flushed = nexus.flush().map_err(Failure::from);
        match (result, flushed) {
            (Ok(out), Ok(())) => Ok(out),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(flush)) => {
                report(&flush.message);
                Err(e)
            }
        }
    });
    finish(outcome, cli.json)
}

/// Prints a command's output and says how to exit.
fn finish(outcome: Result<Out, Failure>, json: bool) -> ExitCode {
    let (stdout, failure) = match outcome {
        Ok(out) => (Some(out), None),
        Err(mut f) => (f.stdout.take(), Some(f)),
    };
    if let Some(out) = stdout
        && let Err(e) = out.print(json)
    {
        report(&format!("writing the output failed: {e}"));
        return ExitCode::from(EXIT_FAILED);
    }
    match failure {
        None => ExitCode::SUCCESS,
        Some(f) => {
            report(&f.message);
            ExitCode::from(f.exit_code())
        }
    }
}

fn open(
    data: &std::path::Path,
    memory: bool,
    database_url: Option<&str>,
) -> Result<Nexus, Failure> {
    let builder = Nexus::builder();
    let builder = match (memory, database_url) {
        (true, _) => builder.memory(),
        (false, Some(url)) => builder.postgres(url),
        (false, None) => builder.file(data),
    };
    Ok(builder.build()?)
}

/// The store logic here, over the storage of the server at `remote.url`.
fn open_remote(remote: &Remote) -> Result<Nexus, Failure> {
    use nexus_host::backend::Storage as _;

    let backend = nexus_host::backend::RemoteBackend::new(&remote.url, remote.token.as_deref());
    // Unreachable, or the token refused: the store cannot be opened (exit
    // 3), as a data directory that cannot be.
    backend.get_many(&[]).map_err(|e| Failure {
        kind: failure::Kind::Failed,
        message: format!("cannot use the server at {}: {e}", remote.url),
        stdout: None,
    })?;
    Ok(Nexus::builder()
        .backend(std::sync::Arc::new(backend))
        .build()?)
}

/// `error: <message>` on stderr; if even that fails there is no one to tell.
fn report(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// clap checks a command's definition only when that command is parsed;
    /// this checks every subcommand at once (duplicate argument ids, bad
    /// defaults), so a broken definition fails here and not in a user's hands.
    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
