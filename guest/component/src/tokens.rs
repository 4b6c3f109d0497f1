//! The `tokens` export: the store's access tokens (conversions in `convert.rs`).

use crate::bindings::exports::nexus::store::tokens::{
    self as wit, CreatedToken, Error, TokenInfo, TokenSpec,
};
use crate::{Component, all_into, with_store};

impl wit::Guest for Component {
    fn create(spec: TokenSpec) -> Result<CreatedToken, Error> {
        with_store(|s| s.create_token(&spec.into())).map(Into::into)
    }

    fn list() -> Result<Vec<TokenInfo>, Error> {
        with_store(|s| s.list_tokens()).map(all_into)
    }

    fn revoke(name: String) -> Result<(), Error> {
        with_store(|s| s.revoke_token(&name))
    }

    fn any() -> Result<bool, Error> {
        with_store(|s| s.has_tokens())
    }
}
