//! `nexus tokens revoke`.

use clap::Args;
use serde_json::json;

use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::Out;

/// Remove a token: its secret stops working at once, on every server
/// sharing the store.
#[derive(Debug, Args)]
pub struct Revoke {
    /// The token's name.
    name: String,
}

impl Revoke {
    /// `DELETE /tokens/{name}`'s answer.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let name = &self.name;
        ctx.nexus.revoke_token(name)?;
        Ok(Out::new(
            json!({ "status": "revoked", "name": name }),
            format!("revoked {name}"),
        ))
    }
}
