//! `/tokens`: the store's access tokens, for an admin token over every
//! namespace (or anyone, on an open server that has none yet: that is how
//! the first token is made over HTTP).

use serde::Deserialize;
use serde_json::{Number, json};

use super::call::Call;
use super::{Handled, Problem, Reply, json, kv};
use crate::access::{Scope, TokenSpec};
use crate::storage::Storage;
use crate::{Clock, Store};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    name: Option<String>,
    namespaces: Vec<String>,
    scope: String,
    /// Seconds, like the key-value TTL.
    #[serde(default)]
    expires_in: Option<Number>,
}

pub fn list<S: Storage, C: Clock>(store: &mut Store<S, C>) -> Handled {
    let tokens: Vec<_> = store.list_tokens()?.iter().map(json::token_info).collect();
    Ok(Reply::ok(
        json!({ "count": tokens.len(), "tokens": tokens }),
    ))
}

/// 201 with the secret, which no later answer shows again.
pub fn create<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let body: CreateBody = call.json()?;
    let spec = TokenSpec {
        name: body.name,
        namespaces: body.namespaces,
        scope: Scope::parse(&body.scope).map_err(|e| Problem::unprocessable(e.to_string()))?,
        expires_in_ms: body
            .expires_in
            .as_ref()
            .map(|n| kv::seconds_to_ms("expires_in", n))
            .transpose()?,
    };
    Ok(Reply::created(json::created_token(
        &store.create_token(&spec)?,
    )))
}

pub fn revoke<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let name = call.param("name");
    store.revoke_token(name)?;
    Ok(Reply::ok(json!({ "status": "revoked", "name": name })))
}
