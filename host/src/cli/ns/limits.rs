//! `nexus ns limits`.

use clap::{Args, ValueEnum};
use nexus_host::types::{self, EvictionPolicy};
use nexus_store::http::json;

use super::{NsName, limits_rows};
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, pairs};

/// Print a namespace's limits, or change the ones given (the rest stay).
#[derive(Debug, Args)]
pub struct Limits {
    #[command(flatten)]
    ns: NsName,
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

impl Limits {
    /// Prints the limits; with changes, applies them to the current limits
    /// first and prints the result.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let mut limits = ns.limits()?;
        if self.apply(&mut limits) {
            ns.set_limits(limits)?;
            limits = ns.limits()?;
        }
        Ok(Out::new(
            json::limits(ns.name(), &limits),
            pairs(&limits_rows(&limits)),
        ))
    }

    /// Changes the limits given; says whether any was.
    fn apply(&self, limits: &mut types::Limits) -> bool {
        if self.unlimited {
            limits.max_keys = None;
        } else if let Some(n) = self.max_keys {
            limits.max_keys = Some(n);
        }
        if let Some(n) = self.max_key_bytes {
            limits.max_key_bytes = n;
        }
        if let Some(n) = self.max_value_bytes {
            limits.max_value_bytes = n;
        }
        if let Some(policy) = self.policy {
            limits.policy = match policy {
                Policy::Reject => EvictionPolicy::Reject,
                Policy::EvictLru => EvictionPolicy::EvictLru,
            };
        }
        self.unlimited
            || self.max_keys.is_some()
            || self.max_key_bytes.is_some()
            || self.max_value_bytes.is_some()
            || self.policy.is_some()
    }
}
