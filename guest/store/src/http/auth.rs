//! Who may call which route. Every request passes [`Store::admit`] before
//! its handler runs, so a refusal (401 or 403) has written nothing; the
//! rule for each route is one arm of an exhaustive `match`, so a new route
//! cannot be added without deciding who may call it.
//!
//! The host decides only what happens with no token in the store
//! ([`AccessPolicy`]); the tokens decide everything else, the same way on
//! every host.

use serde::Deserialize;

use super::call::{Call, Viewer};
use super::{Problem, Request, RouteId};
use crate::access::{Denied, Grant, Scope};
use crate::storage::Storage;
use crate::{Clock, Store};

/// What the server lets in without a token; see the WIT `access-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessPolicy {
    /// With no token in the store, serve everyone (a loopback server, or
    /// `--no-auth`); otherwise refuse all but the open routes.
    pub open_without_tokens: bool,
    /// `/stats` and `/metrics` without a token.
    pub public_stats: bool,
}

/// A loopback server: PyKV's clients, which send no credentials, work
/// until the first token is created.
impl Default for AccessPolicy {
    fn default() -> Self {
        Self {
            open_without_tokens: true,
            public_stats: false,
        }
    }
}

/// What a route needs from a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No token: `/health`, `/openapi.json`.
    Open,
    /// Open when the request names no namespace, otherwise this scope on
    /// it, like its data: `/health?ns=` gives that namespace's size.
    OpenUnlessNamespaced(Scope),
    /// This scope on the namespace the request acts on; for a listing
    /// across namespaces, the scope, and the listing shows only the
    /// namespaces the token covers.
    Scoped(Scope),
    /// Admin over every namespace (`*`): tokens, `/tick`, `/metrics`.
    WholeStore,
}

/// The rule of each route. Deliberately without a wildcard arm.
pub fn rule(id: RouteId) -> Rule {
    use RouteId::*;
    use Scope::{Admin, Read, Write};
    match id {
        OpenApi => Rule::Open,
        Health => Rule::OpenUnlessNamespaced(Read),
        Get | ListNamespaces | NamespaceKeyCount | NamespaceInfo | GetMetadata | GetLimits
        | GetKeyEvents | Watch | ListEntries | QueryLog | EventMetrics | GetEventsConfig
        | ListSubscriptions | ListDeadLetters | GetDeadLetter | ListNodes | GetNode | ListTasks
        | GetTask => Rule::Scoped(Read),
        Set | Delete | Increment | Emit | EmitBatch | Receive | AckBatch | Ack | Nack
        | Subscribe | Unsubscribe | ReplayAllDeadLetters | PurgeDeadLetters | ReplayDeadLetter
        | RegisterNode | Heartbeat | DeregisterNode | CreateTask | PauseTask | ResumeTask
        | DeleteTask => Rule::Scoped(Write),
        ClearNamespace | PutMetadata | PutLimits | PutKeyEvents | PutEventsConfig | Stats => {
            Rule::Scoped(Admin)
        }
        Tick | Metrics | Performance | RecentErrors | Compact | ListTokens | CreateToken
        | RevokeToken => Rule::WholeStore,
    }
}

/// The rule for this request of route `id`: a route open unless
/// namespaced is open when the request names no namespace, and scoped on
/// it when it does.
pub(crate) fn rule_for(id: RouteId, call: &Call) -> Result<Rule, Problem> {
    Ok(match rule(id) {
        Rule::OpenUnlessNamespaced(need) if namespace_of(id, call)?.is_some() => Rule::Scoped(need),
        Rule::OpenUnlessNamespaced(_) => Rule::Open,
        rule => rule,
    })
}

/// The namespace a request acts on, or `None` for a listing across
/// namespaces (`/namespaces`, `/stats` without `?ns=`) or a route on no
/// namespace. The same resolution the handlers use, so a token is checked
/// against the namespace actually touched.
pub(super) fn namespace_of(id: RouteId, call: &Call) -> Result<Option<String>, Problem> {
    use RouteId::*;
    Ok(match id {
        Set => {
            // The handler parses the whole body; a body this cannot parse,
            // it cannot either, so the 422 is the same.
            #[derive(Deserialize)]
            struct Target {
                #[serde(default)]
                namespace: Option<String>,
            }
            let target: Target = call.json()?;
            Some(call.kv_namespace(target.namespace.as_deref()).to_string())
        }
        Get | Delete => Some(call.kv_namespace(None).to_string()),
        Stats | Health => call.query("ns").map(str::to_string),
        ListNamespaces | OpenApi | Tick | Metrics | Performance | RecentErrors | Compact
        | ListTokens | CreateToken | RevokeToken => None,
        NamespaceKeyCount | ClearNamespace | NamespaceInfo | GetMetadata | PutMetadata
        | GetLimits | PutLimits | GetKeyEvents | PutKeyEvents | Watch | ListEntries | Increment
        | Emit | EmitBatch | Receive | AckBatch | Ack | Nack | QueryLog | EventMetrics
        | GetEventsConfig | PutEventsConfig | ListSubscriptions | Subscribe | Unsubscribe
        | ListDeadLetters | ReplayAllDeadLetters | PurgeDeadLetters | GetDeadLetter
        | ReplayDeadLetter | RegisterNode | ListNodes | GetNode | Heartbeat | DeregisterNode
        | CreateTask | ListTasks | GetTask | PauseTask | ResumeTask | DeleteTask => {
            Some(call.ns().to_string())
        }
    })
}

/// The `WWW-Authenticate` challenge every 401 carries (RFC 6750).
pub const CHALLENGE: &str = "Bearer realm=\"nexus\"";

fn unauthorized(reason: &str) -> Problem {
    Problem::new(401, reason)
}

/// The token an `Authorization` header carries.
fn bearer(request: &Request) -> Result<&str, Denied> {
    let Some((_, value)) = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
    else {
        return Err(Denied::Missing);
    };
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(Denied::NotBearer),
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Decides whether `call` may run `id`, before anything is written.
    /// A token that may is noted as used (at most once a minute).
    pub(crate) fn admit(
        &mut self,
        id: RouteId,
        request: &Request,
        call: &Call,
    ) -> Result<Viewer, Problem> {
        let policy = request.access;
        let public = policy.public_stats
            && matches!(
                id,
                RouteId::Stats | RouteId::Metrics | RouteId::Performance | RouteId::RecentErrors
            );
        let rule = rule_for(id, call)?;
        if rule == Rule::Open || public {
            return Ok(Viewer::Everyone);
        }
        let secret = match bearer(request) {
            Ok(secret) => secret,
            Err(Denied::Missing) if !self.has_tokens()? => {
                return if policy.open_without_tokens {
                    Ok(Viewer::Everyone)
                } else {
                    Err(unauthorized(
                        "authentication required, and this server has no tokens: \
                         create one with `nexus tokens create`",
                    ))
                };
            }
            Err(denied) => return Err(unauthorized(denied.reason())),
        };
        let (grant, last_used_at) = self
            .authenticate(secret)?
            .map_err(|denied| unauthorized(denied.reason()))?;
        let need = match rule {
            // Answered above; kept here so that the match stays exhaustive.
            Rule::Open | Rule::OpenUnlessNamespaced(_) => return Ok(Viewer::Everyone),
            Rule::WholeStore if grant.whole_store() => Scope::Admin,
            Rule::WholeStore => {
                return Err(forbidden(
                    &grant,
                    "this route needs an admin token for every namespace ('*')",
                ));
            }
            Rule::Scoped(need) if grant.scope < need => {
                return Err(forbidden(
                    &grant,
                    &format!(
                        "this route needs scope {}, the token has {}",
                        need.as_str(),
                        grant.scope.as_str()
                    ),
                ));
            }
            Rule::Scoped(need) => {
                if let Some(ns) = namespace_of(id, call)?
                    && !grant.covers(&ns)
                {
                    return Err(forbidden(
                        &grant,
                        &format!("the token does not cover namespace {ns:?}"),
                    ));
                }
                need
            }
        };
        self.note_token_use(&grant.name, last_used_at)?;
        Ok(Viewer::Token { grant, need })
    }
}

/// A 403 naming the token (never its secret) and what it lacks.
fn forbidden(grant: &Grant, why: &str) -> Problem {
    Problem::new(403, format!("token {:?}: {why}", grant.name))
}
