//! A watch as a stream (`GET /namespaces/{ns}/watch` asked with `Accept:
//! text/event-stream`, as `EventSource` asks): the guest answers one event
//! per request (http/watch.rs in nexus-store); here the response stays
//! open and the request is asked again, with the last position as its
//! `Last-Event-ID`, each time the namespace's key channel is notified (a
//! commit on this host, or on another one through PostgreSQL's LISTEN) or
//! a watched TTL ends. Nothing polls storage.
//!
//! A stream holds no thread, no instance and no connection to the storage
//! while it waits; a reader that does not read only stops its own stream
//! from being asked again (hyper asks for the next event when the last one
//! is sent), never a writer. Dropped by a client that went away, it frees
//! its slot at once.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::stream;
use tokio::sync::OwnedSemaphorePermit;

use super::{App, answer, detail};
use crate::http::{HttpRequest, HttpResponse, ROUTE_HEADER, WatchHint, watch_hint};

/// The most watches one server streams at once; beyond, a 503 says so.
/// (An HTTP/1.1 connection carries one stream at a time.)
pub(super) const MAX_WATCHES: usize = 1024;

/// An idle stream sends an SSE comment this often, so proxies keep it and
/// a client that went away is noticed.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// Whether the client asked for a stream.
pub(super) fn wants_stream(parts: &axum::http::request::Parts) -> bool {
    parts
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("text/event-stream"))
}

/// The streamed response to a watch whose first answer was `first`.
pub(super) fn stream(
    app: Arc<App>,
    request: Arc<HttpRequest>,
    first: HttpResponse,
    hint: WatchHint,
) -> Response {
    let Ok(slot) = app.watch_slots.clone().try_acquire_owned() else {
        return detail(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("this server streams at most {MAX_WATCHES} watches at once; try again later"),
        );
    };
    let watch = Watch {
        app,
        request,
        position: hint.position,
        channel: hint.channel,
        next_expiry_ms: hint.next_expiry_ms,
        pending: Some(first.body).filter(|b| !b.is_empty()),
        _slot: slot,
    };
    let events = stream::unfold(watch, |mut watch| async move {
        let chunk = watch.next().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), watch))
    });
    let mut response = Response::new(Body::from_stream(events));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        ROUTE_HEADER,
        HeaderValue::from_static("/namespaces/{ns}/watch"),
    );
    response
}

/// One open stream: where it is and what wakes it.
struct Watch {
    app: Arc<App>,
    request: Arc<HttpRequest>,
    position: String,
    channel: String,
    next_expiry_ms: Option<u64>,
    /// An event read but not sent yet.
    pending: Option<Vec<u8>>,
    /// Given back when the stream is dropped.
    _slot: OwnedSemaphorePermit,
}

impl Watch {
    /// The next bytes to send: an event, or a keepalive comment; `None`
    /// ends the stream (shutdown, or the watch refused: a revoked token,
    /// the storage gone — the client reconnects and hears why).
    async fn next(&mut self) -> Option<Vec<u8>> {
        if let Some(event) = self.pending.take() {
            return Some(event);
        }
        let waiters = self.app.nexus.waiters().clone();
        loop {
            if waiters.closed() {
                return None;
            }
            // Listen first, then ask: a commit between the two has already
            // woken the listener (wait.rs).
            let listener = waiters.listen(&self.channel);
            let answer = answer(&self.app, self.again()).await.ok()?;
            if answer.status != 200 {
                return None;
            }
            let hint = watch_hint(&answer)?;
            self.position = hint.position;
            self.next_expiry_ms = hint.next_expiry_ms;
            if !answer.body.is_empty() {
                return Some(answer.body);
            }
            let now = self.app.nexus.now_ms();
            let sleep = self.next_expiry_ms.map_or(KEEPALIVE, |at| {
                Duration::from_millis(at.saturating_sub(now)).min(KEEPALIVE)
            });
            if tokio::time::timeout(sleep, listener).await.is_err()
                && self
                    .next_expiry_ms
                    .is_none_or(|at| at > self.app.nexus.now_ms())
            {
                return Some(b": keepalive\n\n".to_vec());
            }
        }
    }

    /// The request again, resuming from the last position.
    fn again(&self) -> Arc<HttpRequest> {
        let mut request = (*self.request).clone();
        request
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("last-event-id"));
        request
            .headers
            .push(("last-event-id".into(), self.position.clone()));
        Arc::new(request)
    }
}
