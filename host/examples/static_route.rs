//! The framework's limit on this machine, for `scripts/bench-http.sh`: axum
//! on a multi-thread tokio runtime, as `nexus serve` runs, answering
//! `GET /get/{key}` with the body nexus answers for the benchmark's key
//! (`bench:1`, 32 `v`s, namespace `bench`), without the store. What nexus's
//! GET loses against it is the store's share of a request.
//!
//! ```sh
//! cargo build --release -p nexus-host --example static_route
//! target/release/examples/static_route 127.0.0.1:18702
//! ```

use axum::Router;
use axum::http::header;
use axum::routing::get;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18702".into());
    let value = "v".repeat(32);
    // Built once: the route answers the same bytes to every key. The field
    // order is the guest's (serde_json sorts an object's keys).
    let body: &'static str =
        format!(r#"{{"key":"bench:1","namespace":"bench","value":"{value}"}}"#).leak();
    let router = Router::new().route(
        "/get/{key}",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], body) }),
    );
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("static route listening on {}", listener.local_addr()?);
            axum::serve(listener, router).await
        })
}
