//! The command line: clap types, opening the store, running one command
//! and turning its outcome into output and an exit code.

mod dlq;
mod events;
mod failure;
mod kv;
mod nodes;
mod ns;
mod output;
mod serve;
mod tasks;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use nexus_host::Nexus;
use nexus_host::events::{EmitOptions, LogQuery, NodeRegistration, ReceiveRequest, TaskSpec};
use nexus_host::types::{EvictionPolicy, SetOptions};

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
    Kv(KvCommand),
    /// Inspect and manage namespaces.
    #[command(subcommand)]
    Ns(NsCommand),
    /// Emit, receive and acknowledge events; the event log, metrics,
    /// consumer groups and settings.
    #[command(subcommand)]
    Events(EventsCommand),
    /// The dead-letter queue: messages whose attempts ran out.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Nodes: registered event consumers and their heartbeats.
    #[command(subcommand)]
    Nodes(NodesCommand),
    /// Cron-scheduled tasks; each occurrence emits an event (in `nexus tick`).
    #[command(subcommand)]
    Tasks(TasksCommand),
    /// Run one maintenance tick over every namespace: fire due tasks, remove
    /// old event-log entries and expired keys; prints what it did.
    ///
    /// Run it from cron or a systemd timer to fire scheduled tasks.
    Tick {
        /// Examine at most N old log entries and expired keys (due tasks
        /// always all fire).
        #[arg(long, value_name = "N", default_value_t = 1000)]
        budget: u32,
    },
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
}

/// The namespace a command works in.
#[derive(Debug, Args)]
struct NsArg {
    /// Namespace (letters, digits, '-', '_'; 1-64 characters).
    #[arg(long = "ns", value_name = "NS", default_value = nexus_store::DEFAULT_NAMESPACE)]
    namespace: String,
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

/// The queue a consumer works on, and who it is.
#[derive(Debug, Args)]
struct ConsumerArgs {
    /// Consumer group (a subscription); the namespace queue if omitted.
    #[arg(long, value_name = "G")]
    group: Option<String>,
    /// The consumer's name; ack and nack must come from the consumer that received.
    #[arg(long, value_name = "NAME", default_value = "cli")]
    consumer: String,
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Emit an event to the namespace queue and matching subscriptions; prints its message id.
    Emit {
        /// Event type: dot-separated segments of letters, digits, '-', '_' (e.g. user.created).
        #[arg(value_name = "TYPE", allow_hyphen_values = true)]
        event_type: String,
        /// The payload: a JSON document.
        #[arg(value_name = "PAYLOAD_JSON", allow_hyphen_values = true)]
        payload: String,
        #[command(flatten)]
        ns: NsArg,
        /// Deliver no sooner than N milliseconds from now.
        #[arg(long, value_name = "N", default_value_t = 0)]
        delay_ms: u64,
        /// The id of the node that produced the event.
        #[arg(long, value_name = "NODE_ID")]
        producer: Option<String>,
        /// Deliver to every subscription, whatever its patterns.
        #[arg(long)]
        broadcast: bool,
    },
    /// Lease up to N visible messages and print them; ack or nack each before
    /// its visibility timeout, or it is delivered again.
    Receive {
        #[command(flatten)]
        ns: NsArg,
        #[command(flatten)]
        consumer: ConsumerArgs,
        /// At most N messages (1-100).
        #[arg(long, value_name = "N", default_value_t = 10)]
        max: u32,
        /// Hold the messages for this many milliseconds.
        #[arg(long, value_name = "N", default_value_t = 30_000)]
        visibility_timeout_ms: u64,
    },
    /// Acknowledge a received message: it is done and removed from the queue.
    Ack {
        /// The message id.
        id: String,
        #[command(flatten)]
        ns: NsArg,
        #[command(flatten)]
        consumer: ConsumerArgs,
    },
    /// Give a received message back: it is retried after a backoff, or
    /// dead-lettered if that was its last attempt.
    Nack {
        /// The message id.
        id: String,
        /// Why it failed (kept with a dead letter).
        #[arg(long, value_name = "R")]
        reason: String,
        /// The error it failed with.
        #[arg(long, value_name = "E")]
        error: Option<String>,
        #[command(flatten)]
        ns: NsArg,
        #[command(flatten)]
        consumer: ConsumerArgs,
    },
    /// The last N entries of the event log, oldest first.
    ///
    /// Reads the log from the start (or from --since) to find them. With
    /// --follow, keeps printing new entries as they are emitted until
    /// interrupted (with --json, one JSON object per line).
    Tail {
        #[command(flatten)]
        ns: NsArg,
        /// Only events of this type.
        #[arg(long = "type", value_name = "T")]
        event_type: Option<String>,
        /// Only events emitted at or after this time (ms since the epoch).
        #[arg(long, value_name = "MS")]
        since: Option<u64>,
        /// Print the last N entries.
        #[arg(long, value_name = "N", default_value_t = 20,
              value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
        /// Keep polling (every 500 ms) and print new entries as they come.
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// One page of the event log in emission order, and the cursor of the next.
    Log {
        #[command(flatten)]
        ns: NsArg,
        /// Only events of this type.
        #[arg(long = "type", value_name = "T")]
        event_type: Option<String>,
        /// Only events emitted at or after this time (ms since the epoch).
        #[arg(long, value_name = "MS")]
        since: Option<u64>,
        /// Only events emitted before this time (ms since the epoch).
        #[arg(long, value_name = "MS")]
        until: Option<u64>,
        /// Continue after this message id (the cursor printed with the previous page).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
        /// At most N events (1-1000).
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
    },
    /// Queue depth, in flight, dead letters, message ages and totals.
    Metrics {
        #[command(flatten)]
        ns: NsArg,
    },
    /// Create a consumer group (subscription) receiving the events whose type
    /// matches a pattern, or replace its patterns.
    ///
    /// Patterns: '*' matches one segment, '#' any number (user.*, billing.#, #).
    /// A subscription receives the events emitted after it was created.
    Subscribe {
        /// The subscription's name (the --group of receive, ack and nack).
        name: String,
        /// Event-type patterns.
        #[arg(value_name = "PATTERN", required = true)]
        patterns: Vec<String>,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Remove a consumer group and the messages waiting in it.
    Unsubscribe {
        /// The subscription's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Every consumer group, with its patterns.
    Subscriptions {
        #[command(flatten)]
        ns: NsArg,
    },
    /// Print the namespace's events settings, or change the ones given (the rest stay).
    Config {
        #[command(flatten)]
        ns: NsArg,
        #[command(flatten)]
        change: ConfigChange,
    },
}

#[derive(Debug, Args)]
struct ConfigChange {
    /// Deliveries of a message before it is dead-lettered (1-100).
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
    /// The wait after the first nack; it doubles with each further attempt.
    #[arg(long, value_name = "N")]
    base_delay_ms: Option<u64>,
    /// The longest wait after a nack.
    #[arg(long, value_name = "N")]
    max_delay_ms: Option<u64>,
    /// A node with no heartbeat for this long is listed as stale.
    #[arg(long, value_name = "N")]
    node_stale_after_ms: Option<u64>,
    /// `nexus tick` removes log entries older than this.
    #[arg(long, value_name = "N")]
    log_retention_ms: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// Dead letters in message-id order, a page at a time.
    List {
        #[command(flatten)]
        ns: NsArg,
        /// Continue after this letter id (the cursor printed with the previous page).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
        /// At most N letters (1-1000).
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
    },
    /// One dead letter: the event, why it failed and when.
    Get {
        /// The letter id (the message id, plus `@group` for a subscription's letter).
        id: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Emit a letter's event again as a new message, into the queue it failed
    /// in, and remove the letter; prints the new message id.
    Replay {
        /// The letter id.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Replay every letter.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Remove every dead letter.
    Purge {
        #[command(flatten)]
        ns: NsArg,
    },
}

#[derive(Debug, Subcommand)]
enum NodesCommand {
    /// Register a node; prints its id.
    Register {
        /// Display name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
        /// What the node does.
        #[arg(long, value_name = "D", default_value = "", hide_default_value = true)]
        description: String,
        /// A JSON object stored with the node.
        #[arg(long, value_name = "JSON", default_value = "{}")]
        metadata: String,
        /// An event-type pattern the node handles (repeat for several).
        #[arg(long = "subscribe", value_name = "PATTERN")]
        subscriptions: Vec<String>,
    },
    /// Record that a node is alive.
    Heartbeat {
        /// The node id.
        id: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Every node in registration order, live or stale.
    List {
        #[command(flatten)]
        ns: NsArg,
    },
    /// Everything about one node.
    Get {
        /// The node id.
        id: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Remove a node.
    Deregister {
        /// The node id.
        id: String,
        #[command(flatten)]
        ns: NsArg,
    },
}

#[derive(Debug, Subcommand)]
enum TasksCommand {
    /// Create a task that emits an event at every occurrence of a cron schedule.
    Create {
        /// The task's name, unique in the namespace.
        name: String,
        #[command(flatten)]
        ns: NsArg,
        /// 5-field cron expression: minute hour day-of-month month day-of-week.
        #[arg(long, value_name = "EXPR")]
        cron: String,
        /// The type of the events it emits.
        #[arg(long = "type", value_name = "T")]
        event_type: String,
        /// The payload of the events it emits: a JSON document.
        #[arg(
            long,
            value_name = "JSON",
            default_value = "{}",
            allow_hyphen_values = true
        )]
        payload: String,
        /// IANA time zone of the schedule, e.g. Europe/Paris (default UTC).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
    },
    /// Every task, with its schedule and next run.
    List {
        #[command(flatten)]
        ns: NsArg,
    },
    /// Everything about one task.
    Get {
        /// The task's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Stop a task from firing (it keeps its schedule).
    Pause {
        /// The task's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Let a paused task fire again, scheduled from now.
    Resume {
        /// The task's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Remove a task.
    Delete {
        /// The task's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
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
    let command = match cli.command {
        Command::Serve(ref args) => return serve::run(&cli.data, cli.memory, args),
        Command::Store(command) => command,
    };
    let outcome = open(&cli.data, cli.memory).and_then(|nexus| {
        let result = run(&nexus, command, cli.json);
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

fn open(data: &std::path::Path, memory: bool) -> Result<Nexus, Failure> {
    let builder = Nexus::builder();
    let builder = if memory {
        builder.memory()
    } else {
        builder.file(data)
    };
    Ok(builder.build()?)
}

/// `json` is for the commands that print as they go (`events tail --follow`).
fn run(nexus: &Nexus, command: StoreCommand, json: bool) -> Result<Out, Failure> {
    match command {
        StoreCommand::Kv(cmd) => run_kv(nexus, cmd),
        StoreCommand::Ns(cmd) => run_ns(nexus, cmd),
        StoreCommand::Events(cmd) => run_events(nexus, cmd, json),
        StoreCommand::Dlq(cmd) => run_dlq(nexus, cmd),
        StoreCommand::Nodes(cmd) => run_nodes(nexus, cmd),
        StoreCommand::Tasks(cmd) => run_tasks(nexus, cmd),
        StoreCommand::Tick { budget } => tasks::tick(nexus, budget),
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
            kv::set(&nexus.namespace(&ns.namespace)?, &key, &value, &options)
        }
        KvCommand::Get { key, ns } => kv::get(&nexus.namespace(&ns.namespace)?, &key),
        KvCommand::Del { key, ns } => kv::del(&nexus.namespace(&ns.namespace)?, &key),
        KvCommand::List {
            ns,
            prefix,
            limit,
            cursor,
        } => kv::list(
            &nexus.namespace(&ns.namespace)?,
            &prefix,
            limit,
            cursor.as_deref(),
        ),
        KvCommand::Incr { key, by, ns } => kv::incr(&nexus.namespace(&ns.namespace)?, &key, by),
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

fn run_events(nexus: &Nexus, cmd: EventsCommand, json: bool) -> Result<Out, Failure> {
    match cmd {
        EventsCommand::Emit {
            event_type,
            payload,
            ns,
            delay_ms,
            producer,
            broadcast,
        } => {
            let options = EmitOptions {
                delay_ms,
                producer_node_id: producer,
                broadcast,
            };
            events::emit(
                &nexus.namespace(&ns.namespace)?,
                &event_type,
                &payload,
                &options,
            )
        }
        EventsCommand::Receive {
            ns,
            consumer,
            max,
            visibility_timeout_ms,
        } => {
            let request = ReceiveRequest {
                group: consumer.group,
                consumer: consumer.consumer,
                max,
                visibility_timeout_ms,
            };
            events::receive(&nexus.namespace(&ns.namespace)?, &request)
        }
        EventsCommand::Ack { id, ns, consumer } => events::ack(
            &nexus.namespace(&ns.namespace)?,
            consumer.group.as_deref(),
            &consumer.consumer,
            &id,
        ),
        EventsCommand::Nack {
            id,
            reason,
            error,
            ns,
            consumer,
        } => events::nack(
            &nexus.namespace(&ns.namespace)?,
            consumer.group.as_deref(),
            &consumer.consumer,
            &id,
            &reason,
            error.as_deref(),
        ),
        EventsCommand::Tail {
            ns,
            event_type,
            since,
            limit,
            follow,
        } => {
            let tail = events::Tail {
                event_type,
                since,
                limit,
                follow,
            };
            events::tail(&nexus.namespace(&ns.namespace)?, &tail, json)
        }
        EventsCommand::Log {
            ns,
            event_type,
            since,
            until,
            after,
            limit,
        } => {
            let query = LogQuery {
                event_type,
                since,
                until,
                after_id: after,
                limit,
            };
            events::log(&nexus.namespace(&ns.namespace)?, &query)
        }
        EventsCommand::Metrics { ns } => events::metrics(&nexus.namespace(&ns.namespace)?),
        EventsCommand::Subscribe { name, patterns, ns } => {
            events::subscribe(&nexus.namespace(&ns.namespace)?, &name, &patterns)
        }
        EventsCommand::Unsubscribe { name, ns } => {
            events::unsubscribe(&nexus.namespace(&ns.namespace)?, &name)
        }
        EventsCommand::Subscriptions { ns } => {
            events::subscriptions(&nexus.namespace(&ns.namespace)?)
        }
        EventsCommand::Config { ns, change } => {
            let change = events::ConfigChange {
                max_attempts: change.max_attempts,
                base_delay_ms: change.base_delay_ms,
                max_delay_ms: change.max_delay_ms,
                node_stale_after_ms: change.node_stale_after_ms,
                log_retention_ms: change.log_retention_ms,
            };
            events::config(&nexus.namespace(&ns.namespace)?, &change)
        }
    }
}

fn run_dlq(nexus: &Nexus, cmd: DlqCommand) -> Result<Out, Failure> {
    match cmd {
        DlqCommand::List { ns, after, limit } => {
            dlq::list(&nexus.namespace(&ns.namespace)?, after.as_deref(), limit)
        }
        DlqCommand::Get { id, ns } => dlq::get(&nexus.namespace(&ns.namespace)?, &id),
        DlqCommand::Replay { id, all: _, ns } => {
            // clap requires exactly one of ID and --all.
            let ns = nexus.namespace(&ns.namespace)?;
            match id {
                Some(id) => dlq::replay(&ns, &id),
                None => dlq::replay_all(&ns),
            }
        }
        DlqCommand::Purge { ns } => dlq::purge(&nexus.namespace(&ns.namespace)?),
    }
}

fn run_nodes(nexus: &Nexus, cmd: NodesCommand) -> Result<Out, Failure> {
    match cmd {
        NodesCommand::Register {
            name,
            ns,
            description,
            metadata,
            subscriptions,
        } => {
            let registration = NodeRegistration {
                display_name: name,
                description,
                metadata,
                subscriptions,
            };
            nodes::register(&nexus.namespace(&ns.namespace)?, &registration)
        }
        NodesCommand::Heartbeat { id, ns } => {
            nodes::heartbeat(&nexus.namespace(&ns.namespace)?, &id)
        }
        NodesCommand::List { ns } => nodes::list(&nexus.namespace(&ns.namespace)?),
        NodesCommand::Get { id, ns } => nodes::get(&nexus.namespace(&ns.namespace)?, &id),
        NodesCommand::Deregister { id, ns } => {
            nodes::deregister(&nexus.namespace(&ns.namespace)?, &id)
        }
    }
}

fn run_tasks(nexus: &Nexus, cmd: TasksCommand) -> Result<Out, Failure> {
    match cmd {
        TasksCommand::Create {
            name,
            ns,
            cron,
            event_type,
            payload,
            tz,
        } => {
            let spec = TaskSpec {
                name,
                cron,
                timezone: tz,
                event_type,
                payload,
            };
            tasks::create(&nexus.namespace(&ns.namespace)?, &spec)
        }
        TasksCommand::List { ns } => tasks::list(&nexus.namespace(&ns.namespace)?),
        TasksCommand::Get { name, ns } => tasks::get(&nexus.namespace(&ns.namespace)?, &name),
        TasksCommand::Pause { name, ns } => {
            tasks::set_active(&nexus.namespace(&ns.namespace)?, &name, false)
        }
        TasksCommand::Resume { name, ns } => {
            tasks::set_active(&nexus.namespace(&ns.namespace)?, &name, true)
        }
        TasksCommand::Delete { name, ns } => tasks::delete(&nexus.namespace(&ns.namespace)?, &name),
    }
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
