//! The edge's floor, for `scripts/bench-edge.sh` only: the least any Spin
//! app that keeps keys in SQLite does per request, served by the same
//! harness (a fresh instance per request, the same pooling allocator) under
//! the same connection rules as `nexus-edge` (the app's `default`
//! database, its table created on first use in WAL mode).
//!
//! - `GET /get/<key>`: one `SELECT v FROM floor_kv WHERE k = ?`; the value,
//!   or 404.
//! - `POST /set` with `{"key": …, "value": …}`: one `INSERT … ON CONFLICT
//!   DO UPDATE`, its own transaction, at `synchronous = FULL` (SQLite's
//!   default), so a 200 is durable, as nexus's is.
//!
//! No namespaces, statistics, TTLs, tokens or ticks: what nexus does beyond
//! this is what the ratio measures.

use serde::Deserialize;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::sqlite3::{Connection, Error, QueryResult, Value};

const TABLE: &str =
    "CREATE TABLE IF NOT EXISTS floor_kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID";
const GET: &str = "SELECT v FROM floor_kv WHERE k = ?";
const PUT: &str =
    "INSERT INTO floor_kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v";

/// `#[http_component]` generates the export's C ABI glue, which is unsafe
/// inside: the only unsafe code of this crate.
#[allow(unsafe_code)]
mod entry {
    use spin_sdk::http::{Request, Response};
    use spin_sdk::http_component;

    #[http_component]
    fn handle(request: Request) -> Response {
        super::handle(request)
    }
}

#[derive(Deserialize)]
struct Set {
    key: String,
    value: String,
}

fn handle(request: Request) -> Response {
    let answer = match (request.method(), request.path().strip_prefix("/get/")) {
        (Method::Get, Some(key)) => get(key.as_bytes()),
        (Method::Post, None) if request.path() == "/set" => {
            match serde_json::from_slice::<Set>(request.body()) {
                Ok(set) => put(set.key.into_bytes(), set.value.into_bytes()),
                Err(e) => Ok(Response::new(400, e.to_string())),
            }
        }
        _ => Ok(Response::new(404, "")),
    };
    answer.unwrap_or_else(|e| Response::new(500, format!("{e:?}")))
}

fn get(key: &[u8]) -> Result<Response, Error> {
    let found = execute(GET, &[Value::Blob(key.to_vec())])?;
    Ok(
        match found
            .rows
            .into_iter()
            .next()
            .and_then(|r| r.values.into_iter().next())
        {
            Some(Value::Blob(value)) => Response::new(200, value),
            _ => Response::new(404, ""),
        },
    )
}

fn put(key: Vec<u8>, value: Vec<u8>) -> Result<Response, Error> {
    execute(PUT, &[Value::Blob(key), Value::Blob(value)])?;
    Ok(Response::new(200, ""))
}

/// One statement on the app's database; the table is made (in WAL mode,
/// as nexus-edge makes its own) the first time it is missing.
fn execute(statement: &str, params: &[Value]) -> Result<QueryResult, Error> {
    let db = Connection::open_default()?;
    match db.execute(statement, params) {
        Err(Error::Io(message)) if message.contains("no such table") => {
            db.execute(TABLE, &[])?;
            let _ = db.execute("PRAGMA journal_mode = WAL", &[]);
            db.execute(statement, params)
        }
        other => other,
    }
}
