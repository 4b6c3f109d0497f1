//! `nexus kv get`.

use clap::Args;
use nexus_store::http::json;
use serde_json::Value;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Print a value (exit code 1 if the key does not exist).
#[derive(Debug, Args)]
pub struct Get {
    /// The key (UTF-8 text).
    #[arg(allow_hyphen_values = true)]
    key: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Get {
    /// A missing key is a not-found failure (`null` with --json).
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        match ns.get(&self.key)? {
            Some(entry) => Ok(Out::new(
                json::entry(ns.name(), self.key.as_bytes(), &entry),
                json::text(&entry.value),
            )),
            None => {
                Err(
                    Failure::not_found(format!("key {:?} in namespace {:?}", self.key, ns.name()))
                        .printing(Out::json_only(Value::Null)),
                )
            }
        }
    }
}
