//! `nexus kv del`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use nexus_host::batch::{KeyIn, Operation, Outcome};

use crate::cli::{Ctx, NsArg, OnceArg};

/// Delete a key; says whether it existed.
#[derive(Debug, Args)]
pub struct Del {
    /// The key (UTF-8 text).
    #[arg(allow_hyphen_values = true)]
    key: String,
    #[command(flatten)]
    ns: NsArg,
    #[command(flatten)]
    once: OnceArg,
}

impl Del {
    /// Deleting a missing key is not an error: the key is gone either way.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let deleted = self.once.run(
            ctx,
            || {
                Operation::Delete(KeyIn {
                    ns: ns.name().to_string(),
                    key: self.key.as_bytes().to_vec(),
                })
            },
            |o| match o {
                Outcome::Existed(existed) => Some(existed),
                _ => None,
            },
            || Ok(ns.delete(&self.key)?),
        )?;
        let human = if deleted {
            "deleted"
        } else {
            "not found (nothing deleted)"
        };
        Ok(Out::new(
            json!({ "key": self.key, "deleted": deleted }),
            human,
        ))
    }
}
