//! `nexus ns size`.

use clap::Args;
use serde_json::json;

use super::NsName;
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::Out;

/// Live keys in a namespace.
#[derive(Debug, Args)]
pub struct Size {
    #[command(flatten)]
    ns: NsName,
}

impl Size {
    /// `GET /namespaces/{ns}/keys`' answer.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let size = ns.size()?;
        Ok(Out::new(
            json!({ "namespace": ns.name(), "total_keys": size }),
            size.to_string(),
        ))
    }
}
