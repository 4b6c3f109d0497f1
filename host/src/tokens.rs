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
use crate::nexus::all_into;
use crate::{Error, Nexus};

impl Nexus {
    /// Makes a token and returns its secret, which the store does not keep
    /// (only its SHA-256 hash). `condition-failed` if the name is taken.
    pub fn create_token(&self, spec: &TokenSpec) -> Result<CreatedToken, Error> {
        let spec: wit::TokenSpec = spec.clone().into();
        self.call(Box::new(|b, s| {
            b.nexus_store_tokens().call_create(s, &spec)
        }))
        .map(Into::into)
    }

    /// Every token, by name, without secrets.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, Error> {
        self.call(Box::new(|b, s| b.nexus_store_tokens().call_list(s)))
            .map(all_into)
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
