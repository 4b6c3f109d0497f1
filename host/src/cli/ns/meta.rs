//! `nexus ns meta`.

use clap::Args;
use nexus_store::http::json;

use super::NsName;
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::Out;

/// Print a namespace's metadata, or replace it with --set.
#[derive(Debug, Args)]
pub struct Meta {
    #[command(flatten)]
    ns: NsName,
    /// New metadata: a JSON object.
    #[arg(long, value_name = "JSON")]
    set: Option<String>,
}

impl Meta {
    /// Prints the metadata object itself (`GET /namespaces/{ns}/metadata`
    /// wraps it with the namespace); with `--set`, replaces it first and
    /// prints what the store kept (it stores JSON compacted).
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        if let Some(json) = &self.set {
            ns.set_metadata(json)?;
        }
        let metadata = json::parsed(&ns.metadata()?);
        let human =
            serde_json::to_string_pretty(&metadata).unwrap_or_else(|_| metadata.to_string());
        Ok(Out::new(metadata, human))
    }
}
