//! `nexus serve`: a thin axum adapter in front of the guest's `http-api`.
//!
//! The REST API itself lives in the guest (`nexus_store::http`), so every
//! host serves the same routes from the same code. This module only moves
//! requests into the component and responses out: it bounds request bodies,
//! runs requests on pooled instances (the pool grows with concurrency;
//! each call has the instance's time budget; durable writes wait for their
//! fsync on a blocking thread), gathers the requests that arrive while the
//! instances are busy into one call (`batcher.rs`), serves
//! `/metrics` itself, drives `tick` on a timer, holds long-polling receives
//! open without holding a thread, and on SIGINT/SIGTERM stops accepting,
//! answers held receives, finishes in-flight requests and flushes
//! statistics.
//!
//! Access control is the guest's (tokens in the store, checked on every
//! request); this adapter adds what only a server knows: whether it
//! listens on a loopback address (protected mode: with no tokens, a
//! server on any other address refuses to start unless `no_auth`), and
//! CORS for browser clients on other origins.

mod batcher;
mod connections;
mod cors;
mod metrics;
mod performance;
mod storage_api;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use batcher::BatchOptions;
use batcher::{Batcher, Placement};
pub use connections::ConnectionLimits;
pub use metrics::{Metered, Metrics};

use crate::backend::{Backend, FileBackend, MemoryBackend, PostgresBackend, PostgresOptions};
use crate::clock::{Clock, ClockMove, ManualClock, SystemClock};
use crate::http::{
    AccessPolicy, HOST_HEADERS, HttpRequest, HttpResponse, ROUTE_HEADER, wait_hint, watch_hint,
};
use crate::runtime::DEFAULT_GUEST_MEMORY;
use crate::wait::Hold;
use crate::{Error, Nexus};

#[derive(Clone)]
pub enum BackendKind {
    File(PathBuf),
    Memory,
    /// A PostgreSQL table shared with other hosts.
    Postgres(PostgresOptions),
    /// A backend built by the embedder, who keeps a handle on it (to serve
    /// storage of its own, or to look at what requests did to it).
    Shared(Arc<dyn Backend>),
}

impl std::fmt::Debug for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendKind::File(dir) => f.debug_tuple("File").field(dir).finish(),
            BackendKind::Memory => f.write_str("Memory"),
            BackendKind::Postgres(options) => f.debug_tuple("Postgres").field(options).finish(),
            BackendKind::Shared(_) => f.write_str("Shared"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub backend: BackendKind,
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// The longest one request may run inside the component; over it, 503.
    pub request_timeout: Duration,
    /// The most linear memory one guest instance may grow to; a request
    /// that needs more gets 503 and writes nothing.
    pub guest_memory_limit: usize,
    pub tick_interval: Duration,
    /// Serve on this clock instead of the system's, and answer
    /// `POST /_test/clock {"advance_ms": N}` or `{"set_ms": N}` to move it
    /// (and `GET /_test/waiting`, the receives held open now): for client
    /// tests of TTLs and timeouts that must not sleep. Never for production.
    pub manual_clock: Option<ManualClock>,
    /// Serve everyone while the store has no tokens, even on a
    /// non-loopback address (where it would otherwise refuse to start).
    pub no_auth: bool,
    /// `/stats` and `/metrics` without a token.
    pub public_stats: bool,
    /// Origins whose pages may call the API (`*`: any); empty: CORS off.
    pub cors_origins: Vec<String>,
    /// Caps and timeouts that keep one client from starving the others.
    pub connections: ConnectionLimits,
    /// How requests that arrive together share guest calls; `None`: the
    /// backend's default ([`BatchOptions::default_for`]).
    pub batch: Option<BatchOptions>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            backend: BackendKind::File(PathBuf::from("./nexus-data")),
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(5),
            guest_memory_limit: DEFAULT_GUEST_MEMORY,
            tick_interval: Duration::from_secs(1),
            manual_clock: None,
            no_auth: false,
            public_stats: false,
            cors_origins: Vec::new(),
            connections: ConnectionLimits::default(),
            batch: None,
        }
    }
}

struct App {
    nexus: Nexus,
    metrics: Metrics,
    max_body_bytes: usize,
    started_at_ms: u64,
    manual_clock: Option<ManualClock>,
    batcher: Arc<Batcher>,
    access: AccessPolicy,
    /// One permit per watch streaming now (watch.rs).
    watch_slots: Arc<tokio::sync::Semaphore>,
    performance: performance::Performance,
    /// For `POST /compact`, and whether one is running.
    backend: Arc<dyn Backend>,
    compacting: Arc<AtomicBool>,
}

impl App {
    /// Counts one answered request, in `/metrics` and `/performance`;
    /// `reason` is an error answer's detail.
    fn answered(
        &self,
        method: &str,
        route: &str,
        status: u16,
        reason: Option<&str>,
        took: Duration,
    ) {
        self.metrics.record_request(method, route, status, took);
        self.performance
            .record(method, route, status, reason, took, self.nexus.now_ms());
    }
}

/// Opens the store, binds `options.addr` and serves until SIGINT/SIGTERM.
/// `ready` is called with the bound address (the port may have been 0).
pub fn serve(options: ServeOptions, ready: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    serve_until(options, ready, shutdown_signal())
}

/// [`serve`], stopping when `shutdown` completes instead of on a signal
/// (for embedding and tests). Requests in flight finish, then statistics
/// are flushed, before it returns.
pub fn serve_until(
    options: ServeOptions,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    options.connections.validate()?;
    let batch = options
        .batch
        .unwrap_or_else(|| BatchOptions::default_for(&options.backend));
    batch.validate()?;
    let metrics = Metrics::new();
    let backend: Arc<dyn Backend> = match &options.backend {
        BackendKind::File(dir) => Arc::new(metrics.metered(
            FileBackend::open(dir).with_context(|| format!("opening {}", dir.display()))?,
        )),
        BackendKind::Memory => Arc::new(metrics.metered(MemoryBackend::new())),
        BackendKind::Postgres(pg) => Arc::new(
            metrics.metered(PostgresBackend::open(pg).context("opening the PostgreSQL backend")?),
        ),
        BackendKind::Shared(backend) => Arc::new(metrics.metered(backend.clone())),
    };
    let mut builder = Nexus::builder()
        .backend(backend.clone())
        .call_timeout(options.request_timeout)
        .guest_memory_limit(options.guest_memory_limit);
    let started_at_ms = match &options.manual_clock {
        Some(clock) => {
            builder = builder.clock(clock.clone());
            clock.now_ms()
        }
        None => SystemClock.now_ms(),
    };
    let nexus = builder.build()?;
    let loopback = options.addr.ip().is_loopback();
    if !loopback && !options.no_auth && !nexus.has_tokens()? {
        anyhow::bail!(
            "refusing to serve {} without authentication: the store has no tokens; \
             create one first (nexus tokens create --scope admin --ns '*') or pass --no-auth",
            options.addr
        );
    }
    let cors = cors::layer(&options.cors_origins)?;
    let batch_sizes = metrics.batch_size();
    let app = Arc::new(App {
        nexus: nexus.clone(),
        metrics,
        max_body_bytes: options.max_body_bytes,
        started_at_ms,
        manual_clock: options.manual_clock.clone(),
        batcher: Arc::new(Batcher::new(
            nexus.clone(),
            batch,
            Placement {
                never_waits_on_io: matches!(options.backend, BackendKind::Memory),
                // The PostgreSQL client blocks on its own runtime, which must
                // not run on one of the server's async threads (nor may a
                // backend we do not know); reads of the embedded backends
                // take microseconds and run inline.
                reads_inline: matches!(options.backend, BackendKind::File(_) | BackendKind::Memory),
            },
            batch_sizes,
        )),
        access: AccessPolicy {
            open_without_tokens: loopback || options.no_auth,
            public_stats: options.public_stats,
        },
        watch_slots: Arc::new(tokio::sync::Semaphore::new(watch::MAX_WATCHES)),
        performance: performance::Performance::default(),
        backend,
        compacting: Arc::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .with_context(|| format!("binding {}", options.addr))?;
        let addr = listener.local_addr()?;
        // OPTIONS /metrics is the guest's, like every other OPTIONS (204, never 405).
        let mut router = Router::new()
            .route("/metrics", get(prometheus).options(forward))
            .route("/performance", get(performance_summary).options(forward))
            .route("/compact", post(compact).options(forward))
            .route("/_storage/{op}", post(storage_api::storage))
            .route(
                "/performance/recent-errors",
                get(recent_errors).options(forward),
            );
        if options.manual_clock.is_some() {
            tracing::warn!("serving on a manual clock: POST /_test/clock moves time");
            router = router
                .route("/_test/clock", post(move_clock))
                .route("/_test/waiting", get(waiting_receivers));
        }
        let mut router = router.fallback(forward).with_state(app.clone());
        if let Some(cors) = cors {
            router = router.layer(cors);
        }
        let ticker = nexus.start_ticker(options.tick_interval);
        tracing::info!(%addr, "nexus serving");
        ready(addr);
        let waiters = nexus.waiters().clone();
        connections::serve(listener, router, options.connections, async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections; finishing requests in flight");
            waiters.close();
        })
        .await;
        drop(ticker);
        anyhow::Ok(())
    })?;
    // Outside the runtime: a blocking backend (PostgreSQL's client runs its
    // own runtime) must not be driven from inside one.
    tracing::info!("stopped accepting; requests in flight are done; flushing");
    nexus.flush()?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// What `GET /metrics` answers, once the guest has looked at the token.
enum MetricsAnswer {
    Text(String),
    Refused(HttpResponse),
}

/// `GET /metrics`, after the guest's check: an admin token for `*`, unless
/// `public_stats`.
async fn prometheus(State(app): State<Arc<App>>, request: Request) -> Response {
    let parts = match read_request(&app, request).await {
        Ok((parts, _unused_body)) => parts,
        Err(too_large) => return too_large,
    };
    let request = guest_request(&app, &parts, Vec::new());
    let answer = tokio::task::spawn_blocking(move || {
        Ok::<_, Error>(match app.nexus.authorize_http(&request)? {
            Some(refused) => MetricsAnswer::Refused(refused),
            None => MetricsAnswer::Text(app.metrics.render(&app.nexus)),
        })
    })
    .await;
    match answer {
        Ok(Ok(MetricsAnswer::Refused(refused))) => into_axum(refused).0,
        Ok(Ok(MetricsAnswer::Text(text))) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
                (HeaderName::from_static(ROUTE_HEADER), "/metrics"),
            ],
            text,
        )
            .into_response(),
        Ok(Err(e)) => detail(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(_) => detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rendering metrics failed",
        ),
    }
}

/// `GET /performance`, after the guest's check (as `/metrics`).
async fn performance_summary(State(app): State<Arc<App>>, request: Request) -> Response {
    let now = app.nexus.now_ms();
    let started = app.started_at_ms;
    let app2 = app.clone();
    host_route(&app, request, "/performance", move || {
        app2.performance.summary(now, started)
    })
    .await
}

/// `GET /performance/recent-errors`, after the guest's check.
async fn recent_errors(State(app): State<Arc<App>>, request: Request) -> Response {
    let app2 = app.clone();
    host_route(&app, request, "/performance/recent-errors", move || {
        app2.performance.recent_errors()
    })
    .await
}

/// `POST /compact`, after the guest's check: starts the backend's
/// compaction on a thread of its own (one at a time) and answers at once.
async fn compact(State(app): State<Arc<App>>, request: Request) -> Response {
    let app2 = app.clone();
    host_route(&app, request, "/compact", move || {
        let action = if app2.compacting.swap(true, Ordering::SeqCst) {
            "already compacting: the one running goes on"
        } else {
            let running = app2.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                match running.backend.compact() {
                    Ok(()) => {
                        tracing::info!(took_ms = started.elapsed().as_millis() as u64, "compacted")
                    }
                    Err(e) => tracing::warn!(error = %e, "compaction failed"),
                }
                running.compacting.store(false, Ordering::SeqCst);
            });
            app2.backend.compaction()
        };
        serde_json::json!({ "status": "compaction_started", "action": action })
    })
    .await
}

/// A JSON route the server answers itself, guarded by the guest's rules
/// for it (a token may be needed).
async fn host_route(
    app: &Arc<App>,
    request: Request,
    route: &'static str,
    answer: impl FnOnce() -> serde_json::Value + Send + 'static,
) -> Response {
    let parts = match read_request(app, request).await {
        Ok((parts, _unused_body)) => parts,
        Err(too_large) => return too_large,
    };
    let request = guest_request(app, &parts, Vec::new());
    let nexus = app.nexus.clone();
    let refused = tokio::task::spawn_blocking(move || nexus.authorize_http(&request)).await;
    match refused {
        Ok(Ok(Some(refused))) => into_axum(refused).0,
        Ok(Ok(None)) => {
            let mut response = json_response(StatusCode::OK, answer());
            response
                .headers_mut()
                .insert(ROUTE_HEADER, HeaderValue::from_static(route));
            response
        }
        Ok(Err(e)) => detail(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(_) => detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "checking the token failed",
        ),
    }
}

/// `POST /_test/clock`, only on a manual clock.
async fn move_clock(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let Some(clock) = &app.manual_clock else {
        return detail(StatusCode::NOT_FOUND, "Not Found");
    };
    match ClockMove::parse(&body) {
        Ok(ClockMove::Advance(ms)) => clock.advance(ms),
        Ok(ClockMove::Set(ms)) => clock.set(ms),
        Err(reason) => return detail(StatusCode::UNPROCESSABLE_ENTITY, reason),
    }
    json_response(
        StatusCode::OK,
        serde_json::json!({ "now_ms": clock.now_ms() }),
    )
}

/// `GET /_test/waiting`, only on a manual clock: how many receives are
/// held open now, so that a test can act while one waits.
async fn waiting_receivers(State(app): State<Arc<App>>) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::json!({
            "waiting": app.nexus.waiters().total(),
            "watching": watch::MAX_WATCHES - app.watch_slots.available_permits(),
        }),
    )
}

/// A request's head and its whole body (413 past the server's limit),
/// read even by a route with no use for the body: hyper closes a
/// connection whose request body was left unread, and a client that has
/// already sent its next request on it, kept alive, loses that request.
async fn read_request(
    app: &App,
    request: Request,
) -> Result<(axum::http::request::Parts, axum::body::Bytes), Response> {
    let (parts, body) = request.into_parts();
    match to_bytes(body, app.max_body_bytes).await {
        Ok(body) => Ok((parts, body)),
        Err(_) => Err(detail(StatusCode::PAYLOAD_TOO_LARGE, &body_too_large(app))),
    }
}

/// Why a body past the server's limit is refused (413).
fn body_too_large(app: &App) -> String {
    format!("request body over {} bytes", app.max_body_bytes)
}

/// Every other request goes to the guest.
async fn forward(State(app): State<Arc<App>>, request: Request) -> Response {
    let start = Instant::now();
    let method = request.method().to_string();
    let (parts, body) = match read_request(&app, request).await {
        Ok(read) => read,
        Err(too_large) => {
            let reason = body_too_large(&app);
            app.answered(&method, "unmatched", 413, Some(&reason), start.elapsed());
            return too_large;
        }
    };
    let request = Arc::new(guest_request(&app, &parts, body.to_vec()));
    let mut outcome = answer(&app, request.clone()).await;
    if let Ok(first) = &outcome
        && first.status == 200
        && watch::wants_stream(&parts)
        && let Some(hint) = watch_hint(first)
        && let Ok(first) = outcome
    {
        let response = watch::stream(app.clone(), request, first, hint);
        let status = response.status().as_u16();
        app.answered(
            &method,
            "/namespaces/{ns}/watch",
            status,
            None,
            start.elapsed(),
        );
        return response;
    }
    if let Ok(first) = &outcome
        && let Some(hint) = wait_hint(first)
    {
        outcome = hold(&app, request, Hold::of(&hint)).await;
    }
    let (response, route, reason) = match outcome {
        Ok(r) => {
            let reason = problem_detail(&r);
            let (response, route) = into_axum(r);
            (response, route, reason)
        }
        Err(e) => {
            let reason = match &e {
                Error::Trap(trap) => {
                    tracing::warn!(error = %format!("{trap:#}"), "request trapped");
                    "the request ran over its time budget or the store failed; nothing was written"
                        .to_string()
                }
                Error::TrapAfterWrite(trap) => {
                    tracing::warn!(error = %format!("{trap:#}"), "request trapped after a commit");
                    "the store failed after writing: whether this request's writes were applied is unknown"
                        .to_string()
                }
                other => other.to_string(),
            };
            (
                detail(StatusCode::SERVICE_UNAVAILABLE, &reason),
                "unmatched".to_string(),
                Some(reason),
            )
        }
    };
    let took = start.elapsed();
    let status = response.status().as_u16();
    app.answered(&method, &route, status, reason.as_deref(), took);
    tracing::debug!(%method, path = parts.uri.path(), %route, status, micros = took.as_micros() as u64, "request");
    response
}

/// The request as the guest takes it. A header value that is not ASCII
/// text reaches the guest as lossy UTF-8 (as at the edge), so a malformed
/// one is refused by the route that reads it rather than read as absent.
fn guest_request(app: &App, parts: &axum::http::request::Parts, body: Vec<u8>) -> HttpRequest {
    HttpRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        started_at_ms: Some(app.started_at_ms),
        access: app.access,
    }
}

type Outcome = batcher::Answer;

/// One answer from the guest, alone or in a batch (see batcher.rs).
async fn answer(app: &Arc<App>, request: Arc<HttpRequest>) -> Outcome {
    app.batcher.answer(request).await
}

/// Holds an empty long-polling receive open: listen, ask again, sleep
/// until woken or the hint's time, until messages come or the hold ends.
/// The wait is a future, not a thread: held receives cost no thread.
async fn hold(app: &Arc<App>, request: Arc<HttpRequest>, hold: Hold) -> Outcome {
    loop {
        let listener = app.nexus.waiters().listen(hold.namespace());
        let outcome = answer(app, request.clone()).await;
        let hint = match &outcome {
            Ok(response) => wait_hint(response),
            _ => None,
        };
        match hold.sleep_for(hint.as_ref(), app.nexus.now_ms()) {
            Some(sleep) if !app.nexus.waiters().closed() => {
                let _ = tokio::time::timeout(sleep, listener).await;
            }
            _ => return outcome,
        }
    }
}

/// The reason an error answer gives (`{"detail": …}`), for
/// `/performance/recent-errors`.
fn problem_detail(r: &HttpResponse) -> Option<String> {
    if !performance::is_error(r.status) {
        return None;
    }
    let body: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
    match &body["detail"] {
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The guest's response as axum's, and the route it matched; the
/// host-only hints (long polling, watch) are not forwarded.
fn into_axum(r: HttpResponse) -> (Response, String) {
    let mut route = "unmatched".to_string();
    let mut builder = Response::builder().status(r.status);
    for (name, value) in r.headers {
        if name.eq_ignore_ascii_case(ROUTE_HEADER) {
            route.clone_from(&value);
        }
        if HOST_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            builder = builder.header(n, v);
        }
    }
    let response = builder.body(Body::from(r.body)).unwrap_or_else(|_| {
        detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the store answered an invalid status",
        )
    });
    (response, route)
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A JSON error in the API's style: `{"detail": reason}`.
fn detail(status: StatusCode, reason: &str) -> Response {
    json_response(status, serde_json::json!({ "detail": reason }))
}
