//! `nexus events ...`: emit, receive, ack and nack; the event log, metrics,
//! consumer groups (subscriptions) and the namespace's events settings.

use std::collections::VecDeque;
use std::io::Write as _;
use std::time::Duration;

use clap::{Args, Subcommand};
use nexus_host::events::{
    Delivery, EmitOptions, Envelope, EventsConfig, LogQuery, NackOutcome, ReceiveRequest,
};
use nexus_host::{Namespace, Nexus};
use serde_json::{Value, json};

use super::NsArg;
use super::failure::{Failure, Kind};
use super::output::{Out, pairs, table, timestamp, to_json};

/// The queue a consumer works on, and who it is.
#[derive(Debug, Args)]
pub struct ConsumerArgs {
    /// Consumer group (a subscription); the namespace queue if omitted.
    #[arg(long, value_name = "G")]
    group: Option<String>,
    /// The consumer's name; ack and nack must come from the consumer that received.
    #[arg(long, value_name = "NAME", default_value = "cli")]
    consumer: String,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
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
        /// If none is visible, wait up to N ms (at most 20000) for one: an
        /// emit from any process on the same store ends the wait at once.
        #[arg(long, value_name = "N", default_value_t = 0)]
        wait_ms: u64,
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
    /// Looks for them among the entries of the last minute first, widening
    /// that window until it holds N of them (or reaches --since). With
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
        change: ConfigArgs,
    },
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
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

/// Runs one `nexus events` command.
pub fn run(nexus: &Nexus, cmd: EventsCommand, json: bool) -> Result<Out, Failure> {
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
            emit(
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
            wait_ms,
        } => {
            let request = ReceiveRequest {
                group: consumer.group,
                consumer: consumer.consumer,
                max,
                visibility_timeout_ms,
                wait_ms,
            };
            receive(&nexus.namespace(&ns.namespace)?, &request)
        }
        EventsCommand::Ack { id, ns, consumer } => ack(
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
        } => nack(
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
            let request = Tail {
                event_type,
                since,
                limit,
                follow,
            };
            tail(&nexus.namespace(&ns.namespace)?, &request, json)
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
            log(&nexus.namespace(&ns.namespace)?, &query)
        }
        EventsCommand::Metrics { ns } => metrics(&nexus.namespace(&ns.namespace)?),
        EventsCommand::Subscribe { name, patterns, ns } => {
            subscribe(&nexus.namespace(&ns.namespace)?, &name, &patterns)
        }
        EventsCommand::Unsubscribe { name, ns } => {
            unsubscribe(&nexus.namespace(&ns.namespace)?, &name)
        }
        EventsCommand::Subscriptions { ns } => subscriptions(&nexus.namespace(&ns.namespace)?),
        EventsCommand::Config { ns, change } => {
            let change = ConfigChange {
                max_attempts: change.max_attempts,
                base_delay_ms: change.base_delay_ms,
                max_delay_ms: change.max_delay_ms,
                node_stale_after_ms: change.node_stale_after_ms,
                log_retention_ms: change.log_retention_ms,
            };
            config(&nexus.namespace(&ns.namespace)?, &change)
        }
    }
}

pub fn emit(
    ns: &Namespace,
    event_type: &str,
    payload: &str,
    options: &EmitOptions,
) -> Result<Out, Failure> {
    let id = ns.emit_with(event_type, payload, options)?;
    Ok(Out::new(json!({ "message_id": id }), id))
}

pub fn receive(ns: &Namespace, request: &ReceiveRequest) -> Result<Out, Failure> {
    let deliveries = ns.receive(request)?;
    let json = Value::Array(deliveries.iter().map(delivery_json).collect());
    let human = if deliveries.is_empty() {
        "(no messages)".to_string()
    } else {
        let rows: Vec<Vec<String>> = deliveries
            .iter()
            .map(|d| {
                vec![
                    d.envelope.message_id.clone(),
                    d.envelope.event_type.clone(),
                    d.attempt.to_string(),
                    timestamp(d.visible_until),
                    d.envelope.payload.clone(),
                ]
            })
            .collect();
        table(
            &["ID", "TYPE", "ATTEMPT", "VISIBLE UNTIL", "PAYLOAD"],
            &rows,
        )
    };
    Ok(Out::new(json, human))
}

/// `Delivery` does not derive `Serialize`; its fields, the envelope nested.
fn delivery_json(d: &Delivery) -> Value {
    json!({
        "envelope": to_json(&d.envelope),
        "group": d.group,
        "consumer": d.consumer,
        "visible_until": d.visible_until,
        "attempt": d.attempt,
    })
}

pub fn ack(ns: &Namespace, group: Option<&str>, consumer: &str, id: &str) -> Result<Out, Failure> {
    ns.ack(group, consumer, id)?;
    Ok(Out::new(
        json!({ "message_id": id, "acked": true }),
        "acked",
    ))
}

pub fn nack(
    ns: &Namespace,
    group: Option<&str>,
    consumer: &str,
    id: &str,
    reason: &str,
    error: Option<&str>,
) -> Result<Out, Failure> {
    Ok(match ns.nack(group, consumer, id, reason, error)? {
        NackOutcome::Retry { visible_at } => Out::new(
            json!({ "message_id": id, "outcome": "retry", "visible_at": visible_at }),
            format!("retry at {}", timestamp(visible_at)),
        ),
        NackOutcome::DeadLettered => Out::new(
            json!({ "message_id": id, "outcome": "dead_lettered", "visible_at": null }),
            "dead-lettered",
        ),
    })
}

/// One page of the log: `{events, next}`.
pub fn log(ns: &Namespace, query: &LogQuery) -> Result<Out, Failure> {
    let page = ns.log_query(query)?;
    let events: Vec<Value> = page.events.iter().map(to_json).collect();
    let json = json!({ "events": events, "next": page.next });
    let mut human = if page.events.is_empty() {
        "(no events)\n".to_string()
    } else {
        let rows: Vec<Vec<String>> = page.events.iter().map(log_row).collect();
        table(&["ID", "EMITTED", "TYPE", "PAYLOAD"], &rows)
    };
    if let Some(next) = &page.next {
        human.push_str(&format!("(more: --after {next})\n"));
    }
    Ok(Out::new(json, human))
}

fn log_row(e: &Envelope) -> Vec<String> {
    vec![
        e.message_id.clone(),
        timestamp(e.emitted_at),
        e.event_type.clone(),
        e.payload.clone(),
    ]
}

/// What `events tail` shows.
#[derive(Debug)]
pub struct Tail {
    pub event_type: Option<String>,
    pub since: Option<u64>,
    /// How many of the newest entries to print first (at least 1).
    pub limit: u32,
    pub follow: bool,
}

/// The log is read in ascending pages of this many entries.
const LOG_PAGE: u32 = 1000;
/// How often `tail --follow` asks for new entries.
const FOLLOW_POLL: Duration = Duration::from_millis(500);

/// `tail` first looks for the newest entries among those emitted in the
/// last minute, and widens that window sixteenfold while it holds fewer
/// than `limit` of them (see [`newest_entries`]).
const FIRST_WINDOW_MS: u64 = 60_000;

/// The last `limit` log entries, oldest first. With `follow` it never
/// returns unless it fails or stdout is closed: it prints entries itself,
/// as they come (`json`: one object per line).
pub fn tail(ns: &Namespace, tail: &Tail, json: bool) -> Result<Out, Failure> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (last, mut cursor) = newest_entries(ns, tail, now_ms)?;

    if !tail.follow {
        let events: Vec<Value> = last.iter().map(to_json).collect();
        let human: String = last.iter().map(tail_line).collect();
        let human = if human.is_empty() {
            "(no events)".to_string()
        } else {
            human
        };
        return Ok(Out::new(Value::Array(events), human));
    }

    let mut open = true;
    for event in &last {
        if !print_entry(event, json)? {
            open = false;
            break;
        }
    }
    while open {
        std::thread::sleep(FOLLOW_POLL);
        let mut failure = None;
        open = for_each_new_entry(ns, &tail.event_type, tail.since, &mut cursor, |event| {
            match print_entry(&event, json) {
                Ok(more) => more,
                Err(f) => {
                    failure = Some(f);
                    false
                }
            }
        })?;
        if let Some(f) = failure {
            return Err(f);
        }
    }
    // stdout was closed (`nexus events tail -f | head`): nothing more to say.
    Ok(Out::nothing())
}

/// The newest `tail.limit` entries (oldest first) and the id of the newest
/// one. The log is only queried in ascending order, so reading it from the
/// start (or `since`) would page through all of it, a week of entries with
/// the default retention. Message ids begin with their emission time, so a
/// window ending at `now_ms` holds the newest entries; it widens until it
/// holds enough of them or reaches `since` (or the start of the log), and
/// entries stamped after `now_ms` are always in it. Each pass reads only its
/// window, so the reads add up to little more than the last window's.
fn newest_entries(
    ns: &Namespace,
    tail: &Tail,
    now_ms: u64,
) -> Result<(VecDeque<Envelope>, Option<String>), Failure> {
    let floor = tail.since.unwrap_or(0);
    let mut window = FIRST_WINDOW_MS;
    loop {
        let from = now_ms.saturating_sub(window).max(floor);
        let mut last = VecDeque::with_capacity(tail.limit.min(LOG_PAGE) as usize);
        let mut cursor = None;
        for_each_new_entry(ns, &tail.event_type, Some(from), &mut cursor, |event| {
            if last.len() == tail.limit as usize {
                last.pop_front();
            }
            last.push_back(event);
            true
        })?;
        if last.len() == tail.limit as usize || from == floor {
            return Ok((last, cursor));
        }
        window = window.saturating_mul(16);
    }
}

/// Calls `each` with every log entry of `event_type` (all types when none)
/// after `cursor`, or from `since` when there is no cursor yet,
/// in order, and moves `cursor` past them. Returns false as soon as `each`
/// does.
fn for_each_new_entry(
    ns: &Namespace,
    event_type: &Option<String>,
    since: Option<u64>,
    cursor: &mut Option<String>,
    mut each: impl FnMut(Envelope) -> bool,
) -> Result<bool, Failure> {
    loop {
        let query = LogQuery {
            event_type: event_type.clone(),
            since,
            until: None,
            after_id: cursor.clone(),
            limit: LOG_PAGE,
        };
        let page = ns.log_query(&query)?;
        for event in page.events {
            *cursor = Some(event.message_id.clone());
            if !each(event) {
                return Ok(false);
            }
        }
        if page.next.is_none() {
            return Ok(true);
        }
    }
}

/// `tail`'s line for one entry: time, id, type, payload.
fn tail_line(e: &Envelope) -> String {
    format!(
        "{}  {}  {}  {}\n",
        timestamp(e.emitted_at),
        e.message_id,
        e.event_type,
        e.payload
    )
}

/// Prints one entry now; false if stdout is closed.
fn print_entry(e: &Envelope, json: bool) -> Result<bool, Failure> {
    let text = if json {
        format!("{}\n", to_json(e))
    } else {
        tail_line(e)
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Failure {
            kind: Kind::Failed,
            message: format!("writing the output failed: {e}"),
            stdout: None,
        }),
    }
}

pub fn metrics(ns: &Namespace) -> Result<Out, Failure> {
    let m = ns.metrics()?;
    // The REST API's shape (`GET /namespaces/{ns}/events/metrics`).
    let json = nexus_store::http::json::metrics(ns.name(), &m);
    let age = |ms: Option<u64>| ms.map_or_else(|| "-".to_string(), |ms| format!("{ms} ms"));
    let rows = [
        ("queue_depth", m.queue_depth.to_string()),
        ("in_flight", m.in_flight.to_string()),
        ("dlq_depth", m.dlq_depth.to_string()),
        ("oldest_message_age", age(m.oldest_message_age_ms)),
        ("newest_message_age", age(m.newest_message_age_ms)),
        ("emitted", m.emitted.to_string()),
        ("acked", m.acked.to_string()),
        ("nacked", m.nacked.to_string()),
        ("dead_lettered", m.dead_lettered.to_string()),
    ];
    Ok(Out::new(json, pairs(&rows)))
}

pub fn subscribe(ns: &Namespace, name: &str, patterns: &[String]) -> Result<Out, Failure> {
    let sub = ns.subscribe(name, patterns)?;
    let human = format!("{} receives {}", sub.name, sub.patterns.join(" "));
    Ok(Out::new(to_json(&sub), human))
}

/// Removing a subscription that does not exist is not an error.
pub fn unsubscribe(ns: &Namespace, name: &str) -> Result<Out, Failure> {
    let removed = ns.unsubscribe(name)?;
    let human = if removed {
        format!("removed {name}")
    } else {
        format!("{name} does not exist (nothing removed)")
    };
    Ok(Out::new(json!({ "name": name, "removed": removed }), human))
}

pub fn subscriptions(ns: &Namespace) -> Result<Out, Failure> {
    let subs = ns.list_subscriptions()?;
    let json = Value::Array(subs.iter().map(to_json).collect());
    let human = if subs.is_empty() {
        "(no subscriptions)".to_string()
    } else {
        let rows: Vec<Vec<String>> = subs
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    timestamp(s.created_at),
                    s.patterns.join(" "),
                ]
            })
            .collect();
        table(&["NAME", "CREATED", "PATTERNS"], &rows)
    };
    Ok(Out::new(json, human))
}

/// The settings to change; `None` leaves one as it is.
#[derive(Debug, Default)]
pub struct ConfigChange {
    pub max_attempts: Option<u32>,
    pub base_delay_ms: Option<u64>,
    pub max_delay_ms: Option<u64>,
    pub node_stale_after_ms: Option<u64>,
    pub log_retention_ms: Option<u64>,
}

impl ConfigChange {
    fn apply(&self, config: &mut EventsConfig) -> bool {
        let mut changed = false;
        let mut set = |field: &mut u64, value: Option<u64>| {
            if let Some(v) = value {
                *field = v;
                changed = true;
            }
        };
        set(&mut config.base_delay_ms, self.base_delay_ms);
        set(&mut config.max_delay_ms, self.max_delay_ms);
        set(&mut config.node_stale_after_ms, self.node_stale_after_ms);
        set(&mut config.log_retention_ms, self.log_retention_ms);
        if let Some(n) = self.max_attempts {
            config.max_attempts = n;
            changed = true;
        }
        changed
    }
}

/// Prints the settings; with changes, applies them to the current settings
/// first and prints the result.
pub fn config(ns: &Namespace, change: &ConfigChange) -> Result<Out, Failure> {
    let mut config = ns.events_config()?;
    if change.apply(&mut config) {
        ns.set_events_config(&config)?;
        config = ns.events_config()?;
    }
    let rows = [
        ("max-attempts", config.max_attempts.to_string()),
        ("base-delay-ms", config.base_delay_ms.to_string()),
        ("max-delay-ms", config.max_delay_ms.to_string()),
        (
            "node-stale-after-ms",
            config.node_stale_after_ms.to_string(),
        ),
        ("log-retention-ms", config.log_retention_ms.to_string()),
    ];
    Ok(Out::new(to_json(&config), pairs(&rows)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_host::clock::ManualClock;

    const DAY_MS: u64 = 24 * 60 * 60 * 1000;
    const NOW_MS: u64 = 1_800_000_000_000;

    fn tail_of(limit: u32, since: Option<u64>) -> Tail {
        Tail {
            event_type: None,
            since,
            limit,
            follow: false,
        }
    }

    fn payloads(entries: &VecDeque<Envelope>) -> Vec<&str> {
        entries.iter().map(|e| e.payload.as_str()).collect()
    }

    /// Two entries six days old, one an hour old, one a second old.
    fn log() -> Namespace {
        let clock = ManualClock::new(NOW_MS - 6 * DAY_MS);
        let nexus = Nexus::builder()
            .memory()
            .clock(clock.clone())
            .build()
            .unwrap();
        let ns = nexus.namespace("app").unwrap();
        ns.emit("a.b", "1").unwrap();
        ns.emit("a.b", "2").unwrap();
        clock.set(NOW_MS - 3_600_000);
        ns.emit("a.b", "3").unwrap();
        clock.set(NOW_MS - 1_000);
        ns.emit("a.b", "4").unwrap();
        ns
    }

    #[test]
    fn the_newest_entries_come_from_the_last_window_that_holds_enough() {
        let ns = log();
        let (last, cursor) = newest_entries(&ns, &tail_of(1, None), NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["4"]);
        assert_eq!(cursor.as_deref(), Some(last[0].message_id.as_str()));
        let (last, _) = newest_entries(&ns, &tail_of(2, None), NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["3", "4"]);
        let (last, _) = newest_entries(&ns, &tail_of(3, None), NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["2", "3", "4"]);
    }

    #[test]
    fn widening_stops_at_since_and_at_the_start_of_the_log() {
        let ns = log();
        let (last, _) = newest_entries(&ns, &tail_of(10, None), NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["1", "2", "3", "4"]);
        let since = Some(NOW_MS - DAY_MS);
        let (last, _) = newest_entries(&ns, &tail_of(10, since), NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["3", "4"]);
    }

    #[test]
    fn entries_stamped_after_now_are_included() {
        let ns = log();
        let (last, _) = newest_entries(&ns, &tail_of(2, None), NOW_MS - DAY_MS).unwrap();
        assert_eq!(payloads(&last), ["3", "4"]);
        let (empty, cursor) = newest_entries(&empty_log(), &tail_of(5, None), NOW_MS).unwrap();
        assert!(empty.is_empty() && cursor.is_none());
    }

    fn empty_log() -> Namespace {
        Nexus::memory().unwrap().namespace("none").unwrap()
    }
}
