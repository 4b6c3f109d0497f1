//! The command line: clap types, opening the store, running one command
//! and turning its outcome into output and an exit code.

mod failure;
mod kv;
mod ns;
mod output;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use nexus_host::Nexus;
use nexus_host::types::{EvictionPolicy, SetOptions};

use failure::{EXIT_FAILED, Failure};
use output::Out;

const EXIT_CODES: &str = "\
Exit codes:
  0  ok
  1  not found (a missing key or namespace)
  2  refused: the store's typed error (invalid namespace, invalid metadata,
     condition failed, quota exceeded, ...), or a usage error
  3  nexus could not run the command (store not openable, component trap)";

/// A multi-tenant key-value store; its logic runs as a WebAssembly component.
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

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read and write keys.
    #[command(subcommand)]
    Kv(KvCommand),
    /// Inspect and manage namespaces.
    #[command(subcommand)]
    Ns(NsCommand),
}

/// The namespace a key command works in.
#[derive(Debug, Args)]
struct NsArg {
    /// Namespace (letters, digits, '-', '_'; 1-64 characters).
    #[arg(long = "ns", value_name = "NS", default_value = nexus_store::DEFAULT_NAMESPACE)]
    name: String,
}

#[derive(Debug, Subcommand)]
enum KvCommand {
    /// Store a value; prints its new version.
    Set {
        /// The key (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        key: String,
        /// The value (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        value: String,
        #[command(flatten)]
        ns: NsArg,
        /// Expire after this many milliseconds.
        #[arg(long, value_name = "N", conflicts_with = "ttl")]
        ttl_ms: Option<u64>,
        /// Expire after this many seconds.
        #[arg(long, value_name = "SECONDS",
              value_parser = clap::value_parser!(u64).range(..=u64::MAX / 1000))]
        ttl: Option<u64>,
        /// Fail (condition failed) if the key already holds a value.
        #[arg(long)]
        if_absent: bool,
        /// Fail (condition failed) unless the key's current version is V.
        #[arg(long, value_name = "V")]
        if_version: Option<u64>,
    },
    /// Print a value (exit code 1 if the key does not exist).
    Get {
        /// The key (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        key: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Delete a key; says whether it existed.
    Del {
        /// The key (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        key: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// List keys in ascending order, a page at a time.
    List {
        #[command(flatten)]
        ns: NsArg,
        /// Only keys starting with P.
        #[arg(long, value_name = "P", default_value = "", hide_default_value = true)]
        prefix: String,
        /// At most N keys (1-1000).
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
        /// Continue after this key (the cursor printed with the previous page).
        #[arg(long, value_name = "C")]
        cursor: Option<String>,
    },
    /// Add to a decimal integer value (a missing key counts as 0); prints the result.
    Incr {
        /// The key (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        key: String,
        /// The amount to add (may be negative).
        #[arg(
            long,
            value_name = "N",
            default_value_t = 1,
            allow_negative_numbers = true
        )]
        by: i64,
        #[command(flatten)]
        ns: NsArg,
    },
}

#[derive(Debug, Subcommand)]
enum NsCommand {
    /// Every namespace, with its key count, creation time and metadata.
    List,
    /// Everything about one namespace (exit code 1 if it does not exist).
    Info {
        /// Namespace name.
        ns: String,
    },
    /// Live keys in a namespace.
    Size {
        /// Namespace name.
        ns: String,
    },
    /// Delete every key of a namespace (it keeps its metadata and limits).
    Clear {
        /// Namespace name.
        ns: String,
    },
    /// Delete a namespace with everything in it.
    Drop {
        /// Namespace name.
        ns: String,
    },
    /// Hit, miss, write and key counts; of every namespace together if NS is omitted.
    Stats {
        /// Namespace name.
        ns: Option<String>,
    },
    /// Print a namespace's metadata, or replace it with --set.
    Meta {
        /// Namespace name.
        ns: String,
        /// New metadata: a JSON object.
        #[arg(long, value_name = "JSON")]
        set: Option<String>,
    },
    /// Print a namespace's limits, or change the ones given (the rest stay).
    Limits {
        /// Namespace name.
        ns: String,
        #[command(flatten)]
        change: LimitsChange,
    },
}

#[derive(Debug, Args)]
struct LimitsChange {
    /// At most N live keys.
    #[arg(long, value_name = "N", conflicts_with = "unlimited")]
    max_keys: Option<u64>,
    /// No limit on the number of keys.
    #[arg(long)]
    unlimited: bool,
    /// Longest key, in bytes.
    #[arg(long, value_name = "N")]
    max_key_bytes: Option<u32>,
    /// Largest value, in bytes.
    #[arg(long, value_name = "N")]
    max_value_bytes: Option<u32>,
    /// What a write beyond max-keys does.
    #[arg(long)]
    policy: Option<Policy>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Policy {
    /// The write fails (quota exceeded).
    Reject,
    /// The least recently written keys are evicted.
    EvictLru,
}

/// Runs the command line and says how the process should exit.
pub fn main(cli: Cli) -> ExitCode {
    let outcome = open(&cli).and_then(|nexus| {
        let result = run(&nexus, cli.command);
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
    let (stdout, failure) = match outcome {
        Ok(out) => (Some(out), None),
        Err(mut f) => (f.stdout.take(), Some(f)),
    };
    if let Some(out) = stdout
        && let Err(e) = out.print(cli.json)
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

fn open(cli: &Cli) -> Result<Nexus, Failure> {
    let builder = Nexus::builder();
    let builder = if cli.memory {
        builder.memory()
    } else {
        builder.file(&cli.data)
    };
    Ok(builder.build()?)
}

fn run(nexus: &Nexus, command: Command) -> Result<Out, Failure> {
    match command {
        Command::Kv(cmd) => run_kv(nexus, cmd),
        Command::Ns(cmd) => run_ns(nexus, cmd),
    }
}

fn run_kv(nexus: &Nexus, cmd: KvCommand) -> Result<Out, Failure> {
    match cmd {
        KvCommand::Set {
            key,
            value,
            ns,
            ttl_ms,
            ttl,
            if_absent,
            if_version,
        } => {
            let options = SetOptions {
                // --ttl is capped by clap so that this cannot overflow.
                ttl_ms: ttl_ms.or(ttl.map(|s| s * 1000)),
                only_if_absent: if_absent,
                only_if_version: if_version,
            };
            kv::set(&nexus.namespace(&ns.name)?, &key, &value, &options)
        }
        KvCommand::Get { key, ns } => kv::get(&nexus.namespace(&ns.name)?, &key),
        KvCommand::Del { key, ns } => kv::del(&nexus.namespace(&ns.name)?, &key),
        KvCommand::List {
            ns,
            prefix,
            limit,
            cursor,
        } => kv::list(
            &nexus.namespace(&ns.name)?,
            &prefix,
            limit,
            cursor.as_deref(),
        ),
        KvCommand::Incr { key, by, ns } => kv::incr(&nexus.namespace(&ns.name)?, &key, by),
    }
}

fn run_ns(nexus: &Nexus, cmd: NsCommand) -> Result<Out, Failure> {
    match cmd {
        NsCommand::List => ns::list(nexus),
        NsCommand::Info { ns } => ns::info(&nexus.namespace(&ns)?),
        NsCommand::Size { ns } => ns::size(&nexus.namespace(&ns)?),
        NsCommand::Clear { ns } => ns::clear(&nexus.namespace(&ns)?),
        NsCommand::Drop { ns } => ns::drop_namespace(&nexus.namespace(&ns)?),
        NsCommand::Stats { ns: None } => ns::global_stats(nexus),
        NsCommand::Stats { ns: Some(ns) } => ns::stats(&nexus.namespace(&ns)?),
        NsCommand::Meta { ns, set } => ns::meta(&nexus.namespace(&ns)?, set.as_deref()),
        NsCommand::Limits { ns, change } => {
            let change = ns::LimitsChange {
                max_keys: if change.unlimited {
                    Some(None)
                } else {
                    change.max_keys.map(Some)
                },
                max_key_bytes: change.max_key_bytes,
                max_value_bytes: change.max_value_bytes,
                policy: change.policy.map(|p| match p {
                    Policy::Reject => EvictionPolicy::Reject,
                    Policy::EvictLru => EvictionPolicy::EvictLru,
                }),
            };
            ns::limits(&nexus.namespace(&ns)?, &change)
        }
    }
}

/// `error: <message>` on stderr; if even that fails there is no one to tell.
fn report(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}
