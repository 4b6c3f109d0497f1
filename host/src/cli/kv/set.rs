//! `nexus kv set`.

use clap::Args;
use nexus_host::types::SetOptions;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use nexus_host::batch::{Operation, Outcome, SetIn};

use crate::cli::{Ctx, NsArg, OnceArg};

/// Store a value; prints its new version.
#[derive(Debug, Args)]
pub struct Set {
    /// The key (UTF-8 text).
    #[arg(allow_hyphen_values = true)]
    key: String,
    /// The value (UTF-8 text).
    #[arg(allow_hyphen_values = true)]
    value: String,
    #[command(flatten)]
    ns: NsArg,
    /// Expire after this many milliseconds.
    #[arg(long, value_name = "N", conflicts_with = "ttl")]
    ttl_ms: Option<u64>,
    /// Expire after this many seconds.
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(..=u64::MAX / 1000))]
    ttl: Option<u64>,
    /// Fail (condition failed) if the key already holds a value.
    #[arg(long)]
    if_absent: bool,
    /// Fail (condition failed) unless the key's current version is V.
    #[arg(long, value_name = "V")]
    if_version: Option<u64>,
    #[command(flatten)]
    once: OnceArg,
}

impl Set {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let options = SetOptions {
            // --ttl is capped by clap so that this cannot overflow.
            ttl_ms: self.ttl_ms.or(self.ttl.map(|s| s * 1000)),
            only_if_absent: self.if_absent,
            only_if_version: self.if_version,
        };
        let ns = self.ns.open(ctx)?;
        let version = self.once.run(
            ctx,
            || {
                Operation::Set(SetIn {
                    ns: ns.name().to_string(),
                    key: self.key.as_bytes().to_vec(),
                    value: self.value.as_bytes().to_vec(),
                    options,
                })
            },
            |o| match o {
                Outcome::Version(v) => Some(v),
                _ => None,
            },
            || Ok(ns.set_with(&self.key, &self.value, &options)?),
        )?;
        Ok(Out::new(
            json!({ "key": self.key, "version": version }),
            format!("OK (version {version})"),
        ))
    }
}
