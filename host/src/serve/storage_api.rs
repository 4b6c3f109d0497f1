//! `POST /_storage/{get-many,scan,commit,snapshot}`: this server's storage for a
//! host running the store logic elsewhere (the CLI's `--url`; the client
//! and the wire types are backend/remote.rs). Raw storage is beneath every
//! namespace's rules, so only a token that may create tokens gets in (an
//! admin over every namespace), or anyone while the server is open
//! without tokens; the guest decides, as for its own routes.

use std::sync::Arc;

use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{App, detail, guest_request, into_axum, json_response};
use crate::backend::StorageError;
use crate::backend::remote::{Bytes, Commit, GetMany, Scan, Scanned, Values};
use crate::backend::{Check, Storage as _, Write};

/// The largest request: a commit of values up to the store's 32 MiB cap,
/// base64-encoded.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

pub(super) async fn storage(
    State(app): State<Arc<App>>,
    Path(op): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    // Allowed what `POST /tokens` is allowed: the whole store.
    let mut check = guest_request(&app, &parts, Vec::new());
    check.method = "POST".into();
    check.path = "/tokens".into();
    let nexus = app.nexus.clone();
    match tokio::task::spawn_blocking(move || nexus.authorize_http(&check)).await {
        Ok(Ok(None)) => {}
        Ok(Ok(Some(refused))) => return into_axum(refused).0,
        Ok(Err(e)) => return detail(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(_) => {
            return detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "checking the token failed",
            );
        }
    }
    if op == "snapshot" {
        return snapshot(app);
    }
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return detail(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body over {MAX_BODY_BYTES} bytes"),
        );
    };
    let answer = tokio::task::spawn_blocking(move || match op.as_str() {
        "get-many" => run(&body, |r: GetMany| {
            let keys: Vec<Vec<u8>> = r.keys.into_iter().map(|b| b.0).collect();
            let values = app.backend.get_many(&keys)?;
            Ok(Values {
                values: values.into_iter().map(|v| v.map(Bytes)).collect(),
            })
        }),
        "scan" => run(&body, |r: Scan| {
            let entries = app.backend.scan(&r.start.0, &r.end.0, r.limit)?;
            Ok(Scanned {
                entries: entries
                    .into_iter()
                    .map(|(k, v)| (Bytes(k), Bytes(v)))
                    .collect(),
            })
        }),
        "commit" => run(&body, |r: Commit| {
            let checks: Vec<Check> = r.checks.into_iter().map(Into::into).collect();
            let writes: Vec<Write> = r.writes.into_iter().map(Into::into).collect();
            let woken: Vec<String> = writes
                .iter()
                .filter_map(|w| match w {
                    Write::Notify(channel) => Some(channel.clone()),
                    _ => None,
                })
                .collect();
            app.backend.commit(checks, writes)?;
            // As a commit of this server's own guest does (bindings.rs).
            for channel in woken {
                app.nexus.waiters().wake(&channel);
            }
            Ok(serde_json::json!({}))
        }),
        other => Err(Refused::NotFound(format!("no storage operation {other:?}"))),
    })
    .await;
    match answer {
        Ok(Ok(value)) => json_response(StatusCode::OK, value),
        Ok(Err(Refused::BadRequest(why))) => detail(StatusCode::UNPROCESSABLE_ENTITY, &why),
        Ok(Err(Refused::NotFound(why))) => detail(StatusCode::NOT_FOUND, &why),
        Ok(Err(Refused::Storage(StorageError::Conflict))) => detail(
            StatusCode::CONFLICT,
            "conflict: a check did not hold; nothing was written",
        ),
        Ok(Err(Refused::Storage(StorageError::OutcomeUnknown(why)))) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "detail": why, "outcome_unknown": true }),
        ),
        Ok(Err(Refused::Storage(e))) => detail(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(_) => detail(StatusCode::INTERNAL_SERVER_ERROR, "the storage call failed"),
    }
}

/// The whole store as a backup file (`crate::backup`'s format), written
/// from one snapshot of the backend on a blocking thread while writers go
/// on, and streamed as it is written. A failure half-way ends the stream
/// early, which the reader refuses as truncated.
fn snapshot(app: Arc<App>) -> Response {
    let (sender, chunks) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(16);
    tokio::task::spawn_blocking(move || {
        let out = ChunkWriter(sender.clone());
        if let Err(e) = crate::backup::write(&*app.backend, out) {
            let _ = sender.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let stream = futures_util::stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/octet-stream")
        .body(axum::body::Body::from_stream(stream))
        .unwrap_or_else(|_| detail(StatusCode::INTERNAL_SERVER_ERROR, "building the answer"))
}

/// What a backup writes, sent on as chunks of the answer's body.
struct ChunkWriter(tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>);

impl std::io::Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(bytes.to_vec()))
            .map_err(|_| std::io::Error::other("the client went away"))?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Refused {
    BadRequest(String),
    NotFound(String),
    Storage(StorageError),
}

impl From<StorageError> for Refused {
    fn from(e: StorageError) -> Self {
        Refused::Storage(e)
    }
}

/// Parses the request, runs `op`, and renders its answer as JSON.
fn run<T: DeserializeOwned, R: Serialize>(
    body: &[u8],
    op: impl FnOnce(T) -> Result<R, Refused>,
) -> Result<serde_json::Value, Refused> {
    let request: T = serde_json::from_slice(body)
        .map_err(|e| Refused::BadRequest(format!("invalid request body: {e}")))?;
    serde_json::to_value(op(request)?).map_err(|e| Refused::BadRequest(e.to_string()))
}
