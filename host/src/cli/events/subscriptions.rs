//! `nexus events subscribe`, `unsubscribe` and `subscriptions`: the
//! namespace's consumer groups.

use clap::Args;
use nexus_host::events::Subscription;
use nexus_store::http::json;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, timestamp};
use crate::cli::{Ctx, NsArg};

/// Create a consumer group (subscription) receiving the events whose type
/// matches a pattern, or replace its patterns.
///
/// Patterns: '*' matches one segment, '#' any number (user.*, billing.#, #).
/// A subscription receives the events emitted after it was created.
#[derive(Debug, Args)]
pub struct Subscribe {
    /// The subscription's name (the --group of receive, ack and nack).
    name: String,
    /// Event-type patterns.
    #[arg(value_name = "PATTERN", required = true)]
    patterns: Vec<String>,
    #[command(flatten)]
    ns: NsArg,
}

impl Subscribe {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let sub = self.ns.open(ctx)?.subscribe(&self.name, &self.patterns)?;
        let human = format!("{} receives {}", sub.name, sub.patterns.join(" "));
        Ok(Out::new(json::subscription(&sub), human))
    }
}

/// Remove a consumer group and the messages waiting in it.
#[derive(Debug, Args)]
pub struct Unsubscribe {
    /// The subscription's name.
    name: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Unsubscribe {
    /// Removing a subscription that does not exist is not an error.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let name = &self.name;
        let removed = self.ns.open(ctx)?.unsubscribe(name)?;
        let human = if removed {
            format!("removed {name}")
        } else {
            format!("{name} does not exist (nothing removed)")
        };
        Ok(Out::new(json!({ "name": name, "removed": removed }), human))
    }
}

/// Every consumer group, with its patterns.
#[derive(Debug, Args)]
pub struct Subscriptions {
    #[command(flatten)]
    ns: NsArg,
}

impl Subscriptions {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        Ok(Out::list(
            &self.ns.open(ctx)?.list_subscriptions()?,
            json::subscription,
            "(no subscriptions)",
            &["NAME", "CREATED", "PATTERNS"],
            row,
        ))
    }
}

fn row(s: &Subscription) -> Vec<String> {
    vec![
        s.name.clone(),
        timestamp(s.created_at),
        s.patterns.join(" "),
    ]
}
