//! `nexus dlq replay`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, plural};
use crate::cli::{Ctx, NsArg};

/// Emit a letter's event again as a new message, into the queue it failed
/// in, and remove the letter; prints the new message id.
#[derive(Debug, Args)]
pub struct Replay {
    /// The letter id.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    id: Option<String>,
    /// Replay every letter.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    ns: NsArg,
}

impl Replay {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        // clap requires exactly one of ID and --all.
        match &self.id {
            Some(id) => {
                let new_id = ns.dlq_replay(id)?;
                Ok(Out::new(
                    json!({ "letter_id": id, "message_id": new_id }),
                    new_id,
                ))
            }
            None => {
                let n = ns.dlq_replay_all()?;
                Ok(Out::new(
                    json!({ "replayed": n }),
                    format!("replayed {n} letter{}", plural(n)),
                ))
            }
        }
    }
}
