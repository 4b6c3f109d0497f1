//! `nexus kv incr`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Add to a decimal integer value (a missing key counts as 0); prints the result.
#[derive(Debug, Args)]
pub struct Incr {
    /// The key (UTF-8 text).
    #[arg(allow_hyphen_values = true)]
    key: String,
    /// The amount to add (may be negative).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    by: i64,
    #[command(flatten)]
    ns: NsArg,
}

impl Incr {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let value = self.ns.open(ctx)?.increment(&self.key, self.by)?;
        Ok(Out::new(
            json!({ "key": self.key, "value": value }),
            value.to_string(),
        ))
    }
}
