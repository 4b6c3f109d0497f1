//! `nexus tokens create`.

use std::time::Duration;

use clap::{Args, ValueEnum};
use nexus_host::tokens::{Scope, TokenSpec};
use nexus_store::http::json;

use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::Out;

/// Create a token and print its secret: the only time it is shown (the
/// store keeps only its SHA-256 hash).
#[derive(Debug, Args)]
pub struct Create {
    /// A namespace it covers: a name, a prefix pattern (`tenant-a-*`)
    /// or `*` for every namespace (repeat for several).
    #[arg(long = "ns", value_name = "PATTERN", required = true)]
    namespaces: Vec<String>,
    /// read: GET routes; write: reads, writes and events; admin:
    /// everything, and with `--ns '*'` the whole store (tokens, /tick,
    /// /metrics).
    #[arg(long, value_enum)]
    scope: ScopeArg,
    /// 1-64 letters, digits, '-', '_' (default: a generated `token-xxxxxxxx`).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// It stops working after this long (`90d`, `12h`, `30m`); default: never.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    expires_in: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ScopeArg {
    Read,
    Write,
    Admin,
}

impl From<ScopeArg> for Scope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::Read => Scope::Read,
            ScopeArg::Write => Scope::Write,
            ScopeArg::Admin => Scope::Admin,
        }
    }
}

impl Create {
    /// The secret alone on stdout (for `$(nexus tokens create ...)`);
    /// `--json` gives it with the token's record.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let expires_in_ms = self
            .expires_in
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .map(|ms| ms.max(1));
        let created = ctx.nexus.create_token(&TokenSpec {
            name: self.name.clone(),
            namespaces: self.namespaces.clone(),
            scope: self.scope.into(),
            expires_in_ms,
        })?;
        Ok(Out::new(json::created_token(&created), created.secret))
    }
}
