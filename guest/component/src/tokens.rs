//! The `tokens` export: the store's access tokens, converted field for
//! field to and from `nexus_store::access`.

use nexus_store::access::{self as access, Scope as StoreScope};

use crate::bindings::exports::nexus::store::tokens::{
    self as wit, CreatedToken, Error, Scope, TokenInfo, TokenSpec,
};
use crate::{Component, with_store};

impl wit::Guest for Component {
    fn create(spec: TokenSpec) -> Result<CreatedToken, Error> {
        let spec = access::TokenSpec {
            name: spec.name,
            namespaces: spec.namespaces,
            scope: store_scope(spec.scope),
            expires_in_ms: spec.expires_in_ms,
        };
        with_store(|s| s.create_token(&spec)).map(|created| CreatedToken {
            info: info(created.info),
            secret: created.secret,
        })
    }

    fn list() -> Result<Vec<TokenInfo>, Error> {
        with_store(|s| s.list_tokens()).map(|all| all.into_iter().map(info).collect())
    }

    fn revoke(name: String) -> Result<(), Error> {
        with_store(|s| s.revoke_token(&name))
    }

    fn any() -> Result<bool, Error> {
        with_store(|s| s.has_tokens())
    }
}

fn store_scope(scope: Scope) -> StoreScope {
    match scope {
        Scope::Read => StoreScope::Read,
        Scope::Write => StoreScope::Write,
        Scope::Admin => StoreScope::Admin,
    }
}

fn wit_scope(scope: StoreScope) -> Scope {
    match scope {
        StoreScope::Read => Scope::Read,
        StoreScope::Write => Scope::Write,
        StoreScope::Admin => Scope::Admin,
    }
}

fn info(t: access::TokenInfo) -> TokenInfo {
    TokenInfo {
        name: t.name,
        namespaces: t.namespaces,
        scope: wit_scope(t.scope),
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
    }
}
