//! HTTP/1 in front of the component, on hyper as in `wasmtime serve` (and
//! Spin): every request goes to a fresh instance, except
//! `POST /_test/clock` when serving on a manual clock. Shutdown stops
//! accepting, lets every connection finish the request it is on, and waits
//! for every instance still running.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::clock::ManualClock;
use crate::edge::{Edge, RequestFailed};

/// The clock route's body is a few bytes of JSON.
const MAX_CLOCK_BODY: usize = 4096;

pub(crate) async fn serve(
    edge: Edge,
    clock: Option<ManualClock>,
    addr: SocketAddr,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let addr = listener.local_addr()?;
    let edge = Arc::new(edge);
    let clock = Arc::new(clock);
    // Every running instance holds a clone; when the last one is dropped
    // (after this original), `recv` returns `None`.
    let (in_flight, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
    let graceful = GracefulShutdown::new();
    if clock.is_some() {
        eprintln!("nexus-edge-harness: serving on a manual clock: POST /_test/clock moves time");
    }
    eprintln!("nexus-edge-harness: serving http://{addr}");
    ready(addr);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: the next accept
                // may work, as in hyper's own servers.
                Err(e) => {
                    eprintln!("nexus-edge-harness: accept failed: {e}");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without it a keep-alive client waits out the delayed ACK (40 ms)
        // between the response's head and body: measured 40 req/s on one
        // connection.
        if let Err(e) = stream.set_nodelay(true) {
            eprintln!("nexus-edge-harness: TCP_NODELAY: {e}");
        }
        let (edge, clock, in_flight) = (edge.clone(), clock.clone(), in_flight.clone());
        let service = service_fn(move |request| {
            let (edge, clock, in_flight) = (edge.clone(), clock.clone(), in_flight.clone());
            async move {
                Ok::<_, std::convert::Infallible>(route(&edge, &clock, request, in_flight).await)
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // Clients that hang up mid-request end up here; not an error
                // of the harness.
                if !e.is_incomplete_message() {
                    eprintln!("nexus-edge-harness: connection error: {e}");
                }
            }
        });
    }
    drop(listener);
    eprintln!("nexus-edge-harness: shutting down: finishing requests in flight");
    graceful.shutdown().await;
    drop(in_flight);
    let _ = all_done.recv().await;
    Ok(())
}

async fn route(
    edge: &Edge,
    clock: &Option<ManualClock>,
    request: Request<Incoming>,
    in_flight: tokio::sync::mpsc::Sender<()>,
) -> Response<HyperOutgoingBody> {
    if let Some(clock) = clock
        && request.method() == Method::POST
        && request.uri().path() == "/_test/clock"
    {
        return move_clock(clock, request).await;
    }
    match edge.handle(request, in_flight).await {
        Ok(response) => response,
        Err(RequestFailed::BadRequest(reason)) => text(StatusCode::BAD_REQUEST, reason),
        Err(RequestFailed::Guest(e)) => {
            eprintln!("nexus-edge-harness: request failed: {e:#}");
            // Spin's answer to a component that failed: a bare 500.
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error".into(),
            )
        }
    }
}

/// `POST /_test/clock`, answered as `nexus serve` answers it.
async fn move_clock(
    clock: &ManualClock,
    request: Request<Incoming>,
) -> Response<HyperOutgoingBody> {
    let body = match Limited::new(request.into_body(), MAX_CLOCK_BODY)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => return detail(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
    };
    match clock.apply(&body) {
        Ok(now_ms) => json(StatusCode::OK, &serde_json::json!({ "now_ms": now_ms })),
        Err(reason) => detail(StatusCode::UNPROCESSABLE_ENTITY, reason),
    }
}

/// A JSON error in the REST API's style: `{"detail": reason}`.
fn detail(status: StatusCode, reason: &str) -> Response<HyperOutgoingBody> {
    json(status, &serde_json::json!({ "detail": reason }))
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response<HyperOutgoingBody> {
    response(status, "application/json", body.to_string())
}

fn text(status: StatusCode, body: String) -> Response<HyperOutgoingBody> {
    response(status, "text/plain; charset=utf-8", body)
}

fn response(status: StatusCode, content_type: &str, body: String) -> Response<HyperOutgoingBody> {
    let body = Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}
