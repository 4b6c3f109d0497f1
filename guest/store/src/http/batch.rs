//! `handle-batch`: many REST requests in one call (see `crate::batch` for
//! how a batch runs). Which routes may run staged is one exhaustive
//! `match`, so a new route cannot be added without deciding.

use serde::Deserialize;

use super::call::Call;
use super::router::{self, Matched, RouteId};
use super::{Problem, Request, Response, respond};
use crate::batch::Item;
use crate::storage::{Storage, StorageError};
use crate::{Clock, Error, Store, keys};

/// A request matched once, for the batch to run.
struct Routed<'r> {
    request: &'r Request,
    matched: Matched,
}

/// Whether a route may run staged in a batch. The others run alone: they
/// read statistics (which must include this instance's unflushed tally),
/// delete ranges, sweep, or are rare enough that batching buys nothing.
fn stages(id: RouteId) -> bool {
    use RouteId::*;
    match id {
        Get | Set | Delete | Increment | NamespaceKeyCount | GetMetadata | GetLimits
        | GetKeyEvents | ListEntries | Emit | EmitBatch | Receive | AckBatch | Ack | Nack
        | Heartbeat | GetNode | GetTask | GetDeadLetter | OpenApi => true,
        ListNamespaces | ClearNamespace | Stats | Health | Tick | Metrics | Performance
        | RecentErrors | Compact | ListTokens | CreateToken | RevokeToken | NamespaceInfo
        | PutMetadata | PutLimits | PutKeyEvents | Watch | QueryLog | EventMetrics
        | GetEventsConfig | PutEventsConfig | ListSubscriptions | Subscribe | Unsubscribe
        | ListDeadLetters | ReplayAllDeadLetters | PurgeDeadLetters | ReplayDeadLetter
        | RegisterNode | ListNodes | DeregisterNode | CreateTask | ListTasks | PauseTask
        | ResumeTask | DeleteTask => false,
    }
}

impl Item for Routed<'_> {
    type Answer = Response;

    fn stages(&self) -> bool {
        match &self.matched {
            Matched::Route { route, .. } => stages(route.id),
            // Answered without storage.
            Matched::WrongMethod { .. } | Matched::Options { .. } | Matched::NotFound => true,
        }
    }

    /// The entry a key-value route reads first, and the namespace record
    /// when it writes.
    fn reads(&self) -> Vec<Vec<u8>> {
        let Matched::Route { route, params } = &self.matched else {
            return Vec::new();
        };
        let call = Call::new(self.request, params);
        let (ns, key) = match route.id {
            // A GET reads the entry alone; a delete, through `mutate`, the
            // namespace record too.
            RouteId::Get => {
                let ns = call.kv_namespace(None);
                return vec![keys::entry(ns, call.param("key").as_bytes())];
            }
            RouteId::Delete => (call.kv_namespace(None), call.param("key")),
            RouteId::Set => {
                #[derive(Deserialize)]
                struct Target<'a> {
                    key: &'a str,
                    #[serde(default)]
                    namespace: Option<&'a str>,
                }
                let Ok(target) = serde_json::from_slice::<Target>(&self.request.body) else {
                    return Vec::new();
                };
                return vec![
                    keys::namespace_record(call.kv_namespace(target.namespace)),
                    keys::entry(call.kv_namespace(target.namespace), target.key.as_bytes()),
                ];
            }
            _ => return Vec::new(),
        };
        vec![keys::namespace_record(ns), keys::entry(ns, key.as_bytes())]
    }

    fn run<S: Storage, C: Clock>(&self, store: &mut Store<S, C>) -> Response {
        store.answer(self.request, &self.matched)
    }

    fn failed(&self, error: StorageError) -> Response {
        let template = match &self.matched {
            Matched::Route { route, .. } => route.template,
            _ => "unmatched",
        };
        respond(Err(Problem::from(Error::from(error))), template)
    }
}

/// What answering one request reads from storage first, for a host whose
/// every storage call is a round trip (the edge: one SQLite statement each)
/// to fetch in one: the keys the request reads (with
/// [`Store::tick_if_due`]'s state when asked), and the ranges it scans,
/// as `(start, end, limit)` (whether any access token exists).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstReads {
    pub keys: Vec<Vec<u8>>,
    pub scans: Vec<(Vec<u8>, Vec<u8>, u32)>,
}

/// See [`FirstReads`]. A guess, never a promise: the request reads what
/// it reads, and a host serves a read it did not fetch from storage.
pub fn first_reads(request: &Request, with_tick: bool) -> FirstReads {
    let matched = router::find(&request.method, &request.path);
    let mut reads = FirstReads::default();
    if with_tick {
        reads.keys.push(keys::tick_state());
    }
    // A refusal to come (a body the rule cannot read) reads tokens too.
    if let Matched::Route { route, params } = &matched
        && !matches!(
            super::auth::rule_for(route.id, &Call::new(request, params)),
            Ok(super::Rule::Open)
        )
    {
        let (start, end) = keys::token_range();
        reads.scans.push((start, end, 1));
    }
    reads.keys.extend(Routed { request, matched }.reads());
    reads
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Answers many requests in one call, in order, as if each were given
    /// to [`Store::handle_http`] in turn, sharing their storage reads and
    /// their commit. `None`: not answered in this call (it came after a
    /// request that must run alone, or its check failed against another
    /// writer); nothing of it was written, so send it again. At least one
    /// request is answered.
    pub fn handle_http_batch(&mut self, requests: &[Request]) -> Vec<Option<Response>> {
        let routed: Vec<Routed> = requests
            .iter()
            .map(|request| Routed {
                request,
                matched: router::find(&request.method, &request.path),
            })
            .collect();
        self.run_batch(&routed)
    }
}
