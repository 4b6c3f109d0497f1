//! Spin's HTTP request and response to the REST API's records and back:
//! the only place the edge touches HTTP.

use nexus_store::http as api;
use spin_sdk::http::{Request, Response};

/// `started_at_ms` is left for the caller: when the database was first
/// ticked, which stands in for a server's start (`uptime_seconds` in
/// `/stats`), as an edge app has no process of its own.
///
/// Access is the default policy: with no token in the database, everyone
/// is served (as `spin up` listens on loopback); the first `POST /tokens`
/// turns authentication on for good. See docs/security.md.
pub fn request(request: Request) -> api::Request {
    let headers = request
        .headers()
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    api::Request {
        method: request.method().to_string(),
        path: request.path().to_string(),
        query: request.query().to_string(),
        headers,
        body: request.into_body(),
        started_at_ms: None,
        access: api::AccessPolicy::default(),
    }
}

/// The host-only hints are dropped (a long poll's `wait_ms`, a watch's
/// stream): every edge request is its own instance, which nothing could
/// wake, so the answer goes out at once and the client asks again (an
/// `EventSource` after the event's `retry`).
pub fn response(mut response: api::Response) -> Response {
    response.headers.retain(|(name, _)| {
        !api::HOST_HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
    });
    Response::builder()
        .status(response.status)
        .headers(response.headers)
        .body(response.body)
        .build()
}
