//! `nexus ns clear`.

use clap::Args;
use serde_json::json;

use super::NsName;
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, plural};

/// Delete every key of a namespace (it keeps its metadata and limits).
#[derive(Debug, Args)]
pub struct Clear {
    #[command(flatten)]
    ns: NsName,
}

impl Clear {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let deleted = ns.clear()?;
        let human = format!(
            "deleted {deleted} key{} from {}",
            plural(deleted),
            ns.name()
        );
        Ok(Out::new(
            json!({ "namespace": ns.name(), "keys_deleted": deleted }),
            human,
        ))
    }
}
