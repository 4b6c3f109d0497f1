//! Who may use the REST API: bearer tokens, their scopes and the
//! namespaces they cover.
//!
//! Tokens live in the store's reserved area (`0x01 'A'`, outside every
//! namespace's range; see keys.rs), so every host and backend sharing a
//! storage enforces the same tokens, and the check runs inside the guest's
//! HTTP handler (`http/auth.rs`), so every host enforces the same rules. The
//! typed API never checks tokens: whoever holds the store holds the data.

mod grant;
mod secret;
mod tokens;

pub use grant::{Grant, Scope, validate_pattern};
pub use tokens::{CreatedToken, Denied, TokenInfo, TokenSpec};
