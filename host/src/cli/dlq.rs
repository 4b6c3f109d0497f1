//! `nexus dlq ...`: the dead-letter queue of one namespace.

use clap::Subcommand;
use nexus_host::events::DeadLetter;
use nexus_host::{Namespace, Nexus};
use serde_json::{Value, json};

use super::NsArg;
use super::failure::Failure;
use super::output::{Out, pairs, table, timestamp, to_json};

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
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

/// Runs one `nexus dlq` command.
pub fn run(nexus: &Nexus, cmd: DlqCommand) -> Result<Out, Failure> {
    match cmd {
        DlqCommand::List { ns, after, limit } => {
            list(&nexus.namespace(&ns.namespace)?, after.as_deref(), limit)
        }
        DlqCommand::Get { id, ns } => get(&nexus.namespace(&ns.namespace)?, &id),
        DlqCommand::Replay { id, all: _, ns } => {
            // clap requires exactly one of ID and --all.
            let ns = nexus.namespace(&ns.namespace)?;
            match id {
                Some(id) => replay(&ns, &id),
                None => replay_all(&ns),
            }
        }
        DlqCommand::Purge { ns } => purge(&nexus.namespace(&ns.namespace)?),
    }
}

pub fn list(ns: &Namespace, after: Option<&str>, limit: u32) -> Result<Out, Failure> {
    let page = ns.dlq_list(after, limit)?;
    let letters: Vec<Value> = page.letters.iter().map(to_json).collect();
    let json = json!({ "letters": letters, "next": page.next });
    let mut human = if page.letters.is_empty() {
        "(no dead letters)\n".to_string()
    } else {
        let rows: Vec<Vec<String>> = page
            .letters
            .iter()
            .map(|l| {
                vec![
                    l.id.clone(),
                    l.original_event.event_type.clone(),
                    timestamp(l.failed_at),
                    l.reason.clone(),
                ]
            })
            .collect();
        table(&["ID", "TYPE", "FAILED", "REASON"], &rows)
    };
    if let Some(next) = &page.next {
        human.push_str(&format!("(more: --after {next})\n"));
    }
    Ok(Out::new(json, human))
}

pub fn get(ns: &Namespace, id: &str) -> Result<Out, Failure> {
    let letter = ns.dlq_get(id)?;
    Ok(Out::new(to_json(&letter), pairs(&letter_rows(&letter))))
}

fn letter_rows(l: &DeadLetter) -> Vec<(&'static str, String)> {
    let e = &l.original_event;
    let or_dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_string());
    vec![
        ("id", l.id.clone()),
        ("message", e.message_id.clone()),
        ("type", e.event_type.clone()),
        (
            "queue",
            l.group.clone().unwrap_or_else(|| "(namespace)".into()),
        ),
        ("failed", timestamp(l.failed_at)),
        ("reason", l.reason.clone()),
        ("error", or_dash(&l.error)),
        ("emitted", timestamp(e.emitted_at)),
        (
            "deliveries",
            (u64::from(e.redelivery_count) + 1).to_string(),
        ),
        ("producer", or_dash(&e.producer_node_id)),
        ("task", or_dash(&e.scheduled_task_id)),
        ("replay_of", or_dash(&e.replay_of)),
        ("payload", e.payload.clone()),
    ]
}

pub fn replay(ns: &Namespace, id: &str) -> Result<Out, Failure> {
    let new_id = ns.dlq_replay(id)?;
    Ok(Out::new(
        json!({ "letter_id": id, "message_id": new_id }),
        new_id,
    ))
}

pub fn replay_all(ns: &Namespace) -> Result<Out, Failure> {
    let n = ns.dlq_replay_all()?;
    Ok(Out::new(
        json!({ "replayed": n }),
        format!("replayed {n} letter{}", plural(n)),
    ))
}

pub fn purge(ns: &Namespace) -> Result<Out, Failure> {
    let n = ns.dlq_purge()?;
    Ok(Out::new(
        json!({ "purged": n }),
        format!("purged {n} letter{}", plural(n)),
    ))
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
