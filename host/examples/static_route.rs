//! The framework's limit on this machine, for `scripts/bench-http.sh`: an
//! axum server on the same multi-thread tokio runtime as `nexus serve`,
//! answering `GET /get/{key}` with the JSON nexus answers for a stored
//! 32-byte value, from no store at all.
//!
//!     cargo run --release -p nexus-host --example static_route -- 127.0.0.1:18702

use axum::Router;
use axum::extract::Path;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18702".into());
    let value = "v".repeat(32);
    let app = Router::new().route(
        "/get/{key}",
        get(move |Path(key): Path<String>| {
            let value = value.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    serde_json::json!({ "key": key, "value": value, "namespace": "bench" })
                        .to_string(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "static route listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
