//! CORS for `--cors-origin`: tower-http's layer answers preflight
//! `OPTIONS` for every path (credentials are never sent on a preflight, so
//! it needs no token) and adds `Access-Control-Allow-Origin` to responses
//! for the listed origins.

use anyhow::Context as _;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The methods the API answers, the headers a client sends, and the one
/// it may read besides the simple ones (a replayed idempotent answer).
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::OPTIONS,
];
const HEADERS: [HeaderName; 3] = [
    header::CONTENT_TYPE,
    header::AUTHORIZATION,
    HeaderName::from_static(nexus_store::http::IDEMPOTENCY_HEADER),
];
const EXPOSED: [HeaderName; 1] = [HeaderName::from_static(nexus_store::http::REPLAYED_HEADER)];

/// `None` when no origin is allowed (CORS off: browsers refuse cross-origin
/// reads, as for any server that says nothing).
pub fn layer(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let list = origins
            .iter()
            .map(|o| {
                origin(o).with_context(|| {
                    format!(
                        "--cors-origin {o:?} is not an origin like http://127.0.0.1:8081 (or *)"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        AllowOrigin::list(list)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods(METHODS)
            .allow_headers(HEADERS)
            .expose_headers(EXPOSED),
    ))
}

/// `scheme://host[:port]`, as a browser sends it in `Origin` (a trailing
/// slash is forgiven).
fn origin(text: &str) -> anyhow::Result<HeaderValue> {
    let text = text.trim_end_matches('/');
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .context("no http:// or https://")?;
    anyhow::ensure!(
        !rest.is_empty() && !rest.contains('/'),
        "not just a host and port"
    );
    Ok(HeaderValue::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        assert!(layer(&[]).unwrap().is_none());
        assert!(layer(&["*".into()]).unwrap().is_some());
        assert!(
            layer(&[
                "http://127.0.0.1:8081/".into(),
                "https://app.example".into()
            ])
            .is_ok()
        );
        for bad in ["127.0.0.1:8081", "http://", "http://a/b", "ftp://a"] {
            assert!(layer(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
