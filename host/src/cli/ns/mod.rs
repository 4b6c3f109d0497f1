//! `nexus ns ...`: namespace commands, one module each.

mod clear;
mod drop;
mod info;
mod key_events;
mod limits;
mod list;
mod meta;
mod size;
mod stats;

use clap::{Args, Subcommand};
use nexus_host::Namespace;
use nexus_host::types::Limits;
use nexus_store::http::json::policy_name;

use super::Ctx;
use super::failure::Failure;
use super::output::Out;

#[derive(Debug, Subcommand)]
pub enum NsCommand {
    List(list::List),
    Info(info::Info),
    Size(size::Size),
    Clear(clear::Clear),
    Drop(drop::DropNamespace),
    Stats(stats::Stats),
    Meta(meta::Meta),
    Limits(limits::Limits),
    KeyEvents(key_events::KeyEvents),
}

impl NsCommand {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        match self {
            Self::List(cmd) => cmd.run(ctx),
            Self::Info(cmd) => cmd.run(ctx),
            Self::Size(cmd) => cmd.run(ctx),
            Self::Clear(cmd) => cmd.run(ctx),
            Self::Drop(cmd) => cmd.run(ctx),
            Self::Stats(cmd) => cmd.run(ctx),
            Self::Meta(cmd) => cmd.run(ctx),
            Self::Limits(cmd) => cmd.run(ctx),
            Self::KeyEvents(cmd) => cmd.run(ctx),
        }
    }
}

/// The namespace a command acts on, named as its first argument.
#[derive(Debug, Args)]
struct NsName {
    /// Namespace name.
    ns: String,
}

impl NsName {
    fn open(&self, ctx: &Ctx) -> Result<Namespace, Failure> {
        Ok(ctx.nexus.namespace(&self.ns)?)
    }
}

/// The limits for people, as `ns info` and `ns limits` print them.
fn limits_rows(limits: &Limits) -> Vec<(&'static str, String)> {
    vec![
        (
            "max-keys",
            limits
                .max_keys
                .map_or_else(|| "unlimited".to_string(), |n| n.to_string()),
        ),
        ("max-key-bytes", limits.max_key_bytes.to_string()),
        ("max-value-bytes", limits.max_value_bytes.to_string()),
        ("policy", policy_name(limits.policy).to_string()),
    ]
}
