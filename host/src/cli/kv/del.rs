//! `nexus kv del`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Delete a key; says whether it existed.
#[derive(Debug, Args)]
pub struct Del {
    /// The key (UTF-8 text).
    #[arg(allow_hyphen_values = true)]
    key: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Del {
    /// Deleting a missing key is not an error: the key is gone either way.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let deleted = self.ns.open(ctx)?.delete(&self.key)?;
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
