//! `spin:sqlite/sqlite@3.0.0` over rusqlite, as Spin's local SQLite does it
//! (rusqlite, one SQLite connection per `open`, statements prepared and
//! cached per connection, every SQLite error as `error::io` with SQLite's
//! own message) and stricter where Spin is lenient:
//!
//! - `execute` takes exactly one statement. Spin runs the first statement of
//!   a string and, depending on its rusqlite, silently drops the rest; here
//!   a second statement is an error, so the component can never come to
//!   depend on either behaviour. Trailing whitespace, `;` or comments are
//!   not a statement and are fine. An empty statement is an error too.
//! - Text that is not UTF-8 is an error (Spin panics on it).
//!
//! Only the `default` database exists, a file ([`Database`]); it keeps
//! SQLite's defaults (rollback journal, `synchronous=FULL`) and rusqlite's
//! busy timeout, 5 s, which is Spin's. SQLite blocks; each call runs in
//! place on its tokio worker, which tokio is told about (see [`blocking`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::{Value as SqlValue, ValueRef};
use wasmtime::component::{Resource, ResourceTable};

wasmtime::component::bindgen!({
    // Only the sqlite package: the rest of Spin's WIT includes WASIp3 types
    // this wasmtime build (no component-model-async) cannot bind.
    path: "wit/deps/spin-sqlite@3.0.0",
    inline: "
        package nexus:edge-harness;
        world sqlite-host {
            import spin:sqlite/sqlite@3.0.0;
        }
    ",
    world: "nexus:edge-harness/sqlite-host",
    // trappable: a handle that is not in the table, or a blocking task
    // that panicked, traps the instance instead of answering an error.
    imports: { default: async | trappable },
    with: {
        "spin:sqlite/sqlite.connection": Connection,
    },
    // For the tests' assertions on values and rows.
    additional_derives: [PartialEq],
});

pub use spin::sqlite::sqlite::{Error, QueryResult, RowResult, Value};

/// The database Spin opens for `Connection::open("default")`.
pub const DEFAULT_DATABASE: &str = "default";

/// Spin's busy timeout (rusqlite's default, which Spin keeps).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What `execute` says about a string with a second statement.
const MULTIPLE_STATEMENTS: &str = "execute takes exactly one SQL statement; this string holds more \
     (Spin would run only the first; nexus-edge-harness refuses it)";

/// The `default` database: a file, and how connections to it are opened.
#[derive(Debug, Clone)]
pub struct Database {
    path: PathBuf,
    busy_timeout: Duration,
}

impl Database {
    /// The `default` database in the SQLite file at `path` (created on the
    /// first `open` if missing; its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            busy_timeout: BUSY_TIMEOUT,
        }
    }

    /// For tests of lock contention that must not wait: a connection that
    /// finds the database locked fails after `timeout` (zero: at once).
    #[cfg(test)]
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    fn connect(&self) -> Result<rusqlite::Connection, Error> {
        let connection = rusqlite::Connection::open(&self.path).map_err(io)?;
        connection.busy_timeout(self.busy_timeout).map_err(io)?;
        Ok(connection)
    }
}

/// A `connection` resource: one SQLite connection, closed (rolling back any
/// transaction left open) when the guest drops the resource or the
/// instance goes away.
pub struct Connection(Arc<Mutex<rusqlite::Connection>>);

impl Connection {
    fn lock(&self) -> MutexGuard<'_, rusqlite::Connection> {
        // A panic while locked can only have come from rusqlite; the
        // connection itself is still usable.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The per-instance SQLite host: the database and the instance's open
/// connections.
pub struct Sqlite {
    database: Arc<Database>,
    connections: ResourceTable,
}

impl Sqlite {
    pub fn new(database: Arc<Database>) -> Self {
        Self {
            database,
            connections: ResourceTable::new(),
        }
    }

    fn connection(&self, handle: &Resource<Connection>) -> wasmtime::Result<&Connection> {
        Ok(self.connections.get(handle)?)
    }
}

impl spin::sqlite::sqlite::Host for Sqlite {}

impl spin::sqlite::sqlite::HostConnection for Sqlite {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        if database != DEFAULT_DATABASE {
            return Ok(Err(Error::NoSuchDatabase));
        }
        let opened = match blocking(|| self.database.connect()) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let handle = self
            .connections
            .push(Connection(Arc::new(Mutex::new(opened))))?;
        Ok(Ok(handle))
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let connection = self.connection(&connection)?;
        Ok(blocking(|| {
            execute(&connection.lock(), &statement, parameters)
        }))
    }

    async fn last_insert_rowid(
        &mut self,
        connection: Resource<Connection>,
    ) -> wasmtime::Result<i64> {
        Ok(self.connection(&connection)?.lock().last_insert_rowid())
    }

    async fn changes(&mut self, connection: Resource<Connection>) -> wasmtime::Result<u64> {
        Ok(self.connection(&connection)?.lock().changes())
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.connections.delete(connection)?;
        Ok(())
    }
}

/// Runs SQLite's blocking work on the calling worker thread, telling tokio
/// so (`block_in_place`) that it moves the worker's other tasks elsewhere.
/// Handing each call to the blocking pool instead cost a thread wake-up per
/// statement, which on this VM doubled a short request (`benches/edge.rs`:
/// a GET miss 857 µs on the pool, 402 µs in place). Blocking in place cannot
/// deadlock: the guest's statements are plain host calls one after another,
/// so a transaction never waits on another task between BEGIN and COMMIT.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(work)
}

/// One statement, its parameters bound as the SQLite values they name (a
/// blob stays a blob, text stays text), and every row it yields.
fn execute(
    connection: &rusqlite::Connection,
    statement: &str,
    parameters: Vec<Value>,
) -> Result<QueryResult, Error> {
    let mut prepared = connection.prepare_cached(statement).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => Error::Io(MULTIPLE_STATEMENTS.into()),
        e => io(e),
    })?;
    // SQLite prepares nothing for a string of only whitespace, `;` and
    // comments, and rusqlite would then report no rows without saying so.
    // (Only a statement without result columns can be that empty.)
    if prepared.column_count() == 0 && prepared.expanded_sql().is_none() {
        return Err(Error::Io(
            "execute needs an SQL statement; this string holds none".into(),
        ));
    }
    let columns: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let params = rusqlite::params_from_iter(parameters.into_iter().map(to_sql));
    let mut rows = prepared.query(params).map_err(io)?;
    let mut results = Vec::new();
    while let Some(row) = rows.next().map_err(io)? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map_err(io).and_then(from_sql))
            .collect::<Result<_, _>>()?;
        results.push(RowResult { values });
    }
    Ok(QueryResult {
        columns,
        rows: results,
    })
}

fn to_sql(value: Value) -> SqlValue {
    match value {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(r) => SqlValue::Real(r),
        Value::Text(t) => SqlValue::Text(t),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    }
}

fn from_sql(value: ValueRef<'_>) -> Result<Value, Error> {
    Ok(match value {
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(
            String::from_utf8(t.to_vec())
                .map_err(|_| Error::Io("a TEXT value is not valid UTF-8".into()))?,
        ),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Null => Value::Null,
    })
}

/// SQLite's errors keep SQLite's message ("database is locked", "no such
/// table: ..."), as Spin's do: the component reads them.
fn io(e: rusqlite::Error) -> Error {
    Error::Io(e.to_string())
}

#[cfg(test)]
mod tests;
