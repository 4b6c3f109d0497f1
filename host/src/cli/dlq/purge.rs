//! `nexus dlq purge`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, plural};
use crate::cli::{Ctx, NsArg};

/// Remove every dead letter.
#[derive(Debug, Args)]
pub struct Purge {
    #[command(flatten)]
    ns: NsArg,
}

impl Purge {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let n = self.ns.open(ctx)?.dlq_purge()?;
        Ok(Out::new(
            json!({ "purged": n }),
            format!("purged {n} letter{}", plural(n)),
        ))
    }
}
