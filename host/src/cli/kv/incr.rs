//! `nexus kv incr`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use nexus_host::batch::{IncrementIn, Operation, Outcome};

use crate::cli::{Ctx, NsArg, OnceArg};

/// Add to a decimal integer value (a missing key counts as 0); prints the result.
#[derive(Debug, Args)]
pub struct Incr {
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
    #[command(flatten)]
    once: OnceArg,
}

impl Incr {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let value = self.once.run(
            ctx,
            || {
                Operation::Increment(IncrementIn {
                    ns: ns.name().to_string(),
                    key: self.key.as_bytes().to_vec(),
                    delta: self.by,
                })
            },
            |o| match o {
                Outcome::Value(n) => Some(n),
                _ => None,
            },
            || Ok(ns.increment(&self.key, self.by)?),
        )?;
        Ok(Out::new(
            json!({ "key": self.key, "value": value }),
            value.to_string(),
        ))
    }
}
