//! `nexus tokens ...`: the bearer tokens `nexus serve` checks. The CLI
//! itself needs none: it holds the data directory (or the database URL).

use std::time::Duration;

use clap::{Subcommand, ValueEnum};
use nexus_host::Nexus;
use nexus_host::tokens::{Scope, TokenInfo, TokenSpec};
use nexus_store::http::json::token_info;
use serde_json::{Value, json};

use super::failure::Failure;
use super::output::{Out, table, timestamp};

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a token and print its secret: the only time it is shown (the
    /// store keeps only its SHA-256 hash).
    Create {
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
    },
    /// Every token: name, namespaces, scope, created, expiry, last use
    /// (never a secret).
    List,
    /// Remove a token: its secret stops working at once, on every server
    /// sharing the store.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
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

/// Runs one `nexus tokens` command.
pub fn run(nexus: &Nexus, cmd: TokensCommand) -> Result<Out, Failure> {
    match cmd {
        TokensCommand::Create {
            namespaces,
            scope,
            name,
            expires_in,
        } => {
            let expires_in_ms = expires_in
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .map(|ms| ms.max(1));
            create(
                nexus,
                &TokenSpec {
                    name,
                    namespaces,
                    scope: scope.into(),
                    expires_in_ms,
                },
            )
        }
        TokensCommand::List => list(nexus),
        TokensCommand::Revoke { name } => revoke(nexus, &name),
    }
}

/// The secret alone on stdout (for `$(nexus tokens create ...)`); `--json`
/// gives it with the token's record.
pub fn create(nexus: &Nexus, spec: &TokenSpec) -> Result<Out, Failure> {
    let created = nexus.create_token(spec)?;
    let mut json = token_info(&created.info);
    json["secret"] = created.secret.clone().into();
    Ok(Out::new(json, created.secret))
}

pub fn list(nexus: &Nexus) -> Result<Out, Failure> {
    let tokens = nexus.tokens()?;
    let json = Value::Array(tokens.iter().map(token_info).collect());
    let human = if tokens.is_empty() {
        "(no tokens: `nexus serve` on a loopback address serves everyone)".to_string()
    } else {
        let rows: Vec<Vec<String>> = tokens.iter().map(row).collect();
        table(
            &[
                "NAME",
                "SCOPE",
                "NAMESPACES",
                "CREATED",
                "EXPIRES",
                "LAST USED",
            ],
            &rows,
        )
    };
    Ok(Out::new(json, human))
}

fn row(t: &TokenInfo) -> Vec<String> {
    vec![
        t.name.clone(),
        t.scope.as_str().to_string(),
        t.namespaces.join(" "),
        timestamp(t.created_at),
        t.expires_at.map_or_else(|| "never".into(), timestamp),
        t.last_used_at.map_or_else(|| "never".into(), timestamp),
    ]
}

pub fn revoke(nexus: &Nexus, name: &str) -> Result<Out, Failure> {
    nexus.revoke_token(name)?;
    Ok(Out::new(
        json!({ "status": "revoked", "name": name }),
        format!("revoked {name}"),
    ))
}
