//! `nexus ns drop`.

use clap::Args;
use serde_json::json;

use super::NsName;
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::Out;

/// Delete a namespace with everything in it.
#[derive(Debug, Args)]
pub struct DropNamespace {
    #[command(flatten)]
    ns: NsName,
}

impl DropNamespace {
    /// Dropping a namespace that does not exist is not an error.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let dropped = ns.drop_namespace()?;
        let human = if dropped {
            format!("dropped {}", ns.name())
        } else {
            format!("{} does not exist (nothing dropped)", ns.name())
        };
        Ok(Out::new(
            json!({ "namespace": ns.name(), "dropped": dropped }),
            human,
        ))
    }
}
