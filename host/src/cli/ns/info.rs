//! `nexus ns info`.

use clap::Args;
use nexus_store::http::json;
use serde_json::Value;

use super::{NsName, limits_rows};
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, pairs, timestamp};

/// Everything about one namespace (exit code 1 if it does not exist).
#[derive(Debug, Args)]
pub struct Info {
    #[command(flatten)]
    ns: NsName,
}

impl Info {
    /// A namespace that was never written is a not-found failure (`null` with --json).
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let Some(info) = ns.info()? else {
            return Err(
                Failure::not_found(format!("namespace {:?} does not exist", ns.name()))
                    .printing(Out::json_only(Value::Null)),
            );
        };
        let mut rows = vec![
            ("name", info.name.clone()),
            ("created", timestamp(info.created_at)),
            ("keys", info.key_count.to_string()),
            ("metadata", info.metadata.clone()),
        ];
        rows.extend(limits_rows(&info.limits));
        Ok(Out::new(json::namespace_info(&info), pairs(&rows)))
    }
}
