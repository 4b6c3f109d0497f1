//! The store's access tokens, which the REST API checks (the Rust API
//! never does: whoever holds the store holds its data). `nexus tokens`
//! is this as a CLI.
//!
//! ```no_run
//! use nexus_host::tokens::{Scope, TokenSpec};
//!
//! let nexus = nexus_host::Nexus::open("./nexus-data")?;
//! let created = nexus.create_token(&TokenSpec {
//!     name: Some("app1-writer".into()),
//!     namespaces: vec!["app1".into()],
//!     scope: Scope::Write,
//!     expires_in_ms: None,
//! })?;
//! println!("Authorization: Bearer {}", created.secret); // shown once
//! # Ok::<(), nexus_host::Error>(())
//! ```

pub use nexus_store::access::{CreatedToken, Scope, TokenInfo, TokenSpec};

use crate::bindings::exports::nexus::store::tokens as wit;
use crate::{Error, Nexus};

impl Nexus {
    /// Makes a token and returns its secret, which the store does not keep
    /// (only its SHA-256 hash). `condition-failed` if the name is taken.
    pub fn create_token(&self, spec: &TokenSpec) -> Result<CreatedToken, Error> {
        let spec = wit::TokenSpec {
            name: spec.name.clone(),
            namespaces: spec.namespaces.clone(),
            scope: wit_scope(spec.scope),
            expires_in_ms: spec.expires_in_ms,
        };
        let created = self.call(Box::new(|b, s| {
            b.nexus_store_tokens().call_create(s, &spec)
        }))?;
        Ok(CreatedToken {
            info: info(created.info),
            secret: created.secret,
        })
    }

    /// Every token, by name, without secrets.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        let all = self.call(Box::new(|b, s| b.nexus_store_tokens().call_list(s)))?;
        Ok(all.into_iter().map(info).collect())
    }

    /// Removes a token: its secret stops working at once, on every host
    /// sharing the storage. `not-found` if there is none of that name.
    pub fn revoke_token(&self, name: &str) -> Result<(), Error> {
        self.call(Box::new(|b, s| b.nexus_store_tokens().call_revoke(s, name)))
    }

    /// Whether any token exists; then the REST API requires one.
    pub fn has_tokens(&self) -> Result<bool, Error> {
        self.call(Box::new(|b, s| b.nexus_store_tokens().call_any(s)))
    }
}

fn wit_scope(scope: Scope) -> wit::Scope {
    match scope {
        Scope::Read => wit::Scope::Read,
        Scope::Write => wit::Scope::Write,
        Scope::Admin => wit::Scope::Admin,
    }
}

fn scope(scope: wit::Scope) -> Scope {
    match scope {
        wit::Scope::Read => Scope::Read,
        wit::Scope::Write => Scope::Write,
        wit::Scope::Admin => Scope::Admin,
    }
}

fn info(t: wit::TokenInfo) -> TokenInfo {
    TokenInfo {
        name: t.name,
        namespaces: t.namespaces,
        scope: scope(t.scope),
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
    }
}
