//! The guest's REST API as a Rust call: [`Nexus::handle_http`] hands a
//! plain request to the component and returns its plain response. `nexus
//! serve` is this behind axum; another server (hyper, actix, a test) can
//! put it behind its own.

use std::borrow::Borrow;

use event_listener::Listener as _;
pub use nexus_store::http::{HOST_HEADERS, WAIT_HEADER, WATCH_HEADER, WaitHint, WatchHint};

pub use nexus_store::http::{AccessPolicy, Request as HttpRequest, Response as HttpResponse};

use crate::batch::answer_all;
use crate::bindings::exports::nexus::store::http_api as wit;
use crate::wait::Hold;
use crate::{Error, Nexus};

/// The response header in which the guest names the matched route
/// template; servers use it as a metrics label.
pub use nexus_store::http::ROUTE_HEADER;

impl Nexus {
    /// Answers one REST request (see `docs/openapi.json`). Every API-level
    /// failure is a response with a status and a reason; `Err` means the
    /// component itself failed (a trap, such as running over the call time
    /// budget) and nothing was written.
    ///
    /// `GET /stats` first writes every idle instance's pending hit and miss
    /// counts, so statistics include every request answered before it.
    ///
    /// A `receive` with `wait_ms` that finds nothing blocks this thread
    /// until a message may be there or the time is up (long polling); a
    /// server that must not block a thread uses [`Nexus::handle_http_now`]
    /// and waits its own way.
    pub fn handle_http(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let mut response = self.handle_http_now(&request)?;
        let Some(hint) = wait_hint(&response) else {
            without_host_headers(&mut response);
            return Ok(response);
        };
        let hold = Hold::of(&hint);
        loop {
            let listener = self.waiters().listen(hold.namespace());
            let mut response = self.handle_http_now(&request)?;
            let hint = wait_hint(&response);
            match hold.sleep_for(hint.as_ref(), self.now_ms()) {
                Some(sleep) if !self.waiters().closed() => {
                    listener.wait_timeout(sleep);
                }
                _ => {
                    without_host_headers(&mut response);
                    return Ok(response);
                }
            }
        }
    }

    /// [`Nexus::handle_http`] that never waits: an empty `receive` with
    /// `wait_ms` comes back at once, carrying a [`WAIT_HEADER`] to act on
    /// (and to remove before answering).
    pub fn handle_http_now(&self, request: &HttpRequest) -> Result<HttpResponse, Error> {
        if flushes_first(request) {
            self.flush()?;
        }
        let request: wit::Request = request.clone().into();
        self.pool
            .with(|bindings, store| bindings.nexus_store_http_api().call_handle(store, &request))
            .map(Into::into)
    }
}

impl Nexus {
    /// Answers many requests with as few guest calls as it can: one, unless
    /// some must run alone or lost a race to another writer (those go
    /// again in the next call). Each request gets its own answer, as
    /// [`Nexus::handle_http_now`] would give it, in order: a request sees
    /// the writes of those before it, and their storage reads and commit
    /// are shared (one fsync, one database transaction).
    ///
    /// A trap fails no request by itself: if the call had written nothing,
    /// its requests run again one by one (the culprit traps alone);
    /// otherwise the reads do, and the writes answer
    /// [`Error::TrapAfterWrite`].
    pub fn handle_http_batch_now<R: Borrow<HttpRequest>>(
        &self,
        requests: &[R],
    ) -> Vec<Result<HttpResponse, Error>> {
        let run = |items: &[&R]| {
            let batch: Vec<wit::Request> = items
                .iter()
                .map(|&r| Borrow::<HttpRequest>::borrow(r).clone().into())
                .collect();
            self.pool
                .with(|bindings, store| {
                    bindings
                        .nexus_store_http_api()
                        .call_handle_batch(store, &batch)
                })
                .map(|answers| {
                    answers
                        .into_iter()
                        .map(|a| a.map(|r| Ok(r.into())))
                        .collect()
                })
        };
        // `GET /stats` flushes every instance first: it runs by itself,
        // after the requests before it.
        let mut out = Vec::with_capacity(requests.len());
        let mut pending: Vec<&R> = Vec::new();
        for request in requests {
            if flushes_first(request.borrow()) {
                out.extend(self.answer_all_http(&pending, &run));
                pending.clear();
                out.push(self.handle_http_now(request.borrow()));
            } else {
                pending.push(request);
            }
        }
        out.extend(self.answer_all_http(&pending, &run));
        out
    }
}

impl Nexus {
    /// [`answer_all`] for REST requests: `run` is one `handle-batch` call,
    /// a request alone goes through `handle`.
    fn answer_all_http<R: Borrow<HttpRequest>>(
        &self,
        requests: &[&R],
        run: &impl Fn(&[&R]) -> Result<Vec<Option<Result<HttpResponse, Error>>>, Error>,
    ) -> Vec<Result<HttpResponse, Error>> {
        if requests.is_empty() {
            return Vec::new();
        }
        answer_all(
            requests,
            |items: &[&&R]| run(&items.iter().map(|r| **r).collect::<Vec<_>>()),
            |r| Ok(Some(self.handle_http_now((*r).borrow()))),
            |r| is_read((*r).borrow()),
        )
    }

    /// The refusal (401 or 403) [`Nexus::handle_http`] would answer
    /// `request` with, or `None` if it may go on: for a route a server
    /// answers itself (`GET /metrics`), guarded by the same tokens.
    pub fn authorize_http(&self, request: &HttpRequest) -> Result<Option<HttpResponse>, Error> {
        let request: wit::Request = request.clone().into();
        self.pool
            .with(|bindings, store| {
                bindings
                    .nexus_store_http_api()
                    .call_authorize(store, &request)
            })
            .map(|refusal| refusal.map(Into::into))
    }
}

/// The long-polling hint of an empty `receive` answer, if it has one.
pub fn wait_hint(response: &HttpResponse) -> Option<WaitHint> {
    response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(WAIT_HEADER))
        .and_then(|(_, value)| WaitHint::parse(value))
}

/// How a streaming host goes on with a watch's answer, if it is one.
pub fn watch_hint(response: &HttpResponse) -> Option<WatchHint> {
    response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(WATCH_HEADER))
        .and_then(|(_, value)| WatchHint::parse(value))
}

/// Removes the host-only headers ([`HOST_HEADERS`]) before a response
/// goes out.
pub fn without_host_headers(response: &mut HttpResponse) {
    response
        .headers
        .retain(|(name, _)| !HOST_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)));
}

/// Whether a request only reads: a `GET` that does not flush statistics
/// first. The API writes nothing on a `GET` otherwise (hit and miss counts
/// wait in the instance).
pub fn is_read(request: &HttpRequest) -> bool {
    request.method.eq_ignore_ascii_case("GET") && !flushes_first(request)
}

/// Whether [`Nexus::handle_http`] writes pending statistics before
/// answering (`GET /stats`): then the call commits, which a server may not
/// want to run on a thread that must not wait.
pub fn flushes_first(request: &HttpRequest) -> bool {
    request.method.eq_ignore_ascii_case("GET") && request.path == "/stats"
}
