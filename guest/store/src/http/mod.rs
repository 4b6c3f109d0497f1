//! The REST API, implemented once, here, as a function from a plain request
//! record to a plain response record. The wasmtime server, the Spin edge and
//! the browser demo all hand their requests to [`Store::handle_http`], so
//! they answer the same routes with the same bytes.
//!
//! The key-value routes (`/set`, `/get/{key}`, `/delete/{key}`,
//! `/namespaces`, `/stats`, `/health`) match PyKV's exactly, so its clients
//! work unchanged; everything else lives under `/namespaces/{ns}/...` in the
//! same style. Errors are `{"detail": reason}` with a 4xx status (422 for a
//! body that fails validation, as PyKV's FastAPI does), 503 for a storage
//! failure. The whole API is described by `docs/openapi.json`, served at
//! `/openapi.json`.

mod auth;
mod batch;
mod call;
mod dlq;
mod events;
mod idempotent;
pub mod json;
mod kv;
mod maintenance;
mod namespaces;
mod nodes;
mod openapi;
mod problem;
mod router;
mod tasks;
mod tokens;
mod wait;
mod watch;
mod whole;

use serde_json::Value;

use crate::storage::Storage;
use crate::{Clock, Store};

pub use auth::{AccessPolicy, CHALLENGE, Rule, rule};
pub use batch::{FirstReads, first_reads};
pub use idempotent::{IDEMPOTENCY_HEADER, REPLAYED_HEADER};
pub use problem::Problem;
pub use router::{ROUTES, Route, RouteId};
pub use wait::{WAIT_HEADER, WaitHint};
pub use watch::{RETRY_MS, WATCH_HEADER, WatchHint};

/// The response headers a host acts on and never forwards.
pub const HOST_HEADERS: [&str; 2] = [WAIT_HEADER, WATCH_HEADER];

use call::Call;
use router::Matched;

/// The response header naming the route template a request matched
/// (`/get/{key}`), or `unmatched`. Hosts use it to label metrics and
/// need not forward it.
pub const ROUTE_HEADER: &str = "x-nexus-route";

/// An HTTP request as the host received it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path as sent, still percent-encoded, without the query.
    pub path: String,
    /// The raw query string, without the `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the serving process started, for `uptime_seconds` in `/stats`;
    /// hosts without a process lifetime (an edge request) leave it out.
    pub started_at_ms: Option<u64>,
    /// What the host lets in without a token.
    pub access: AccessPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a handler answers: a status and a JSON body (or, rarely, bytes of
/// another type).
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
    /// Sent instead of `body`: its content type and bytes.
    pub raw: Option<(&'static str, Vec<u8>)>,
    /// Besides `content-type` and the route.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body,
            raw: None,
            headers: Vec::new(),
        }
    }

    pub fn created(body: Value) -> Self {
        Self {
            status: 201,
            ..Self::ok(body)
        }
    }

    /// A 200 of `content_type` (a watch's `text/event-stream`).
    pub fn raw(content_type: &'static str, bytes: Vec<u8>) -> Self {
        Self {
            raw: Some((content_type, bytes)),
            ..Self::ok(Value::Null)
        }
    }
}

pub(crate) type Handled = Result<Reply, Problem>;

impl<S: Storage, C: Clock> Store<S, C> {
    /// Answers one REST request. Never fails: every error, including a
    /// storage failure, becomes a response with a reason.
    pub fn handle_http(&mut self, request: &Request) -> Response {
        self.answer(request, &router::find(&request.method, &request.path))
    }

    /// [`Store::handle_http`] once the request is matched.
    fn answer(&mut self, request: &Request, matched: &Matched) -> Response {
        let (template, outcome) = match matched {
            Matched::Route { route, params } => {
                // No clock read here: most requests never need the time, and
                // each read is a call out of the component.
                let mut call = Call::new(request, params);
                let outcome = match self.admit(route.id, request, &call) {
                    Ok(viewer) => {
                        call.viewer = viewer;
                        if let Some(answer) =
                            self.answer_keyed(route.id, route.template, request, &call)
                        {
                            return answer;
                        }
                        self.dispatch(route.id, &call)
                    }
                    Err(refused) => Err(refused),
                };
                (route.template, outcome)
            }
            Matched::WrongMethod { allow } => {
                let mut response = respond(Err(Problem::method_not_allowed()), "unmatched");
                response.headers.push(("allow".into(), allow.join(", ")));
                return response;
            }
            // Open, like a CORS preflight (which carries no credentials) must be.
            Matched::Options { allow } => {
                return Response {
                    status: 204,
                    headers: vec![
                        (ROUTE_HEADER.into(), "unmatched".into()),
                        ("allow".into(), allow.join(", ")),
                    ],
                    body: Vec::new(),
                };
            }
            Matched::NotFound => ("unmatched", Err(Problem::not_found("Not Found"))),
        };
        respond(outcome, template)
    }

    /// The refusal [`Store::handle_http`] would answer this request with,
    /// or `None` if it may go on: for a route the host serves itself
    /// (`GET /metrics`), so that it is guarded by the same rules.
    pub fn authorize_http(&mut self, request: &Request) -> Option<Response> {
        let Matched::Route { route, params } = router::find(&request.method, &request.path) else {
            return None;
        };
        let call = Call::new(request, &params);
        let refused = self.admit(route.id, request, &call).err()?;
        Some(respond(Err(refused), route.template))
    }

    fn dispatch(&mut self, id: RouteId, call: &Call) -> Handled {
        use RouteId::*;
        match id {
            Set => kv::set(self, call),
            Get => kv::get(self, call),
            Delete => kv::delete(self, call),
            ListNamespaces => kv::list_namespaces(self, call),
            NamespaceKeyCount => kv::key_count(self, call),
            ClearNamespace => kv::clear(self, call),
            Stats => kv::stats(self, call),
            Health => kv::health(self, call),
            OpenApi => openapi::document(),
            Tick => maintenance::tick(self, call),
            Metrics => Err(Problem::not_found(
                "GET /metrics is served by nexus serve; this host has no metrics",
            )),
            // A host with a storage to compact answers it itself.
            Compact => Ok(Reply::ok(serde_json::json!({
                "status": "compaction_started",
                "action": "nothing: this host's storage gives space back by itself",
            }))),
            Performance | RecentErrors => Err(Problem::new(
                501,
                "this host keeps no window of the requests it answered (each edge request is \
                 an instance of its own); nexus serve and the browser host answer it",
            )),
            ListTokens => tokens::list(self),
            CreateToken => tokens::create(self, call),
            RevokeToken => tokens::revoke(self, call),
            NamespaceInfo => namespaces::info(self, call),
            GetMetadata => namespaces::get_metadata(self, call),
            PutMetadata => namespaces::put_metadata(self, call),
            GetLimits => namespaces::get_limits(self, call),
            PutLimits => namespaces::put_limits(self, call),
            GetKeyEvents => namespaces::get_key_events(self, call),
            Watch => watch::watch(self, call),
            PutKeyEvents => namespaces::put_key_events(self, call),
            ListEntries => namespaces::list_entries(self, call),
            Increment => namespaces::increment(self, call),
            Emit => events::emit(self, call),
            EmitBatch => events::emit_batch(self, call),
            Receive => events::receive(self, call),
            AckBatch => events::ack_batch(self, call),
            Ack => events::ack(self, call),
            Nack => events::nack(self, call),
            QueryLog => events::query_log(self, call),
            EventMetrics => events::metrics(self, call),
            GetEventsConfig => events::get_config(self, call),
            PutEventsConfig => events::put_config(self, call),
            ListSubscriptions => events::list_subscriptions(self, call),
            Subscribe => events::subscribe(self, call),
            Unsubscribe => events::unsubscribe(self, call),
            ListDeadLetters => dlq::list(self, call),
            ReplayAllDeadLetters => dlq::replay_all(self, call),
            PurgeDeadLetters => dlq::purge(self, call),
            GetDeadLetter => dlq::get(self, call),
            ReplayDeadLetter => dlq::replay(self, call),
            RegisterNode => nodes::register(self, call),
            ListNodes => nodes::list(self, call),
            GetNode => nodes::get(self, call),
            Heartbeat => nodes::heartbeat(self, call),
            DeregisterNode => nodes::deregister(self, call),
            CreateTask => tasks::create(self, call),
            ListTasks => tasks::list(self, call),
            GetTask => tasks::get(self, call),
            PauseTask => tasks::set_active(self, call, false),
            ResumeTask => tasks::set_active(self, call, true),
            DeleteTask => tasks::delete(self, call),
        }
    }
}

fn respond(outcome: Handled, template: &str) -> Response {
    let (status, body, extra) = match outcome {
        Ok(Reply {
            status,
            raw: Some((content_type, bytes)),
            headers,
            ..
        }) => (status, Err((content_type, bytes)), headers),
        Ok(reply) => (reply.status, Ok(reply.body), reply.headers),
        Err(problem) if problem.status == 401 => (
            problem.status,
            Ok(problem.body()),
            vec![("www-authenticate".into(), CHALLENGE.into())],
        ),
        Err(problem) => (problem.status, Ok(problem.body()), Vec::new()),
    };
    let (content_type, body) = match body {
        Ok(json) => (
            "application/json",
            serde_json::to_vec(&json).unwrap_or_default(),
        ),
        Err(raw) => raw,
    };
    let mut headers = vec![
        ("content-type".into(), content_type.into()),
        (ROUTE_HEADER.into(), template.into()),
    ];
    headers.extend(extra);
    Response {
        status,
        headers,
        body,
    }
}
