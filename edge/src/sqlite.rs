//! The store's [`Storage`] over Spin's SQLite (`spin:sqlite/sqlite@3.0.0`).
//!
//! One table, `nexus_kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`, created
//! on first use. Keys are always bound as blobs: SQLite compares BLOBs with
//! memcmp, the byte order the storage contract needs, and would sort a TEXT
//! value before every BLOB. Spin runs one statement per `execute` (it
//! ignores anything after the first), so a commit is a sequence of calls on
//! one connection: `BEGIN IMMEDIATE`, the checks, the writes, `COMMIT`, and
//! `ROLLBACK` on any failure. `BEGIN IMMEDIATE` takes the write lock before
//! the checks read, so no other writer can slip in between a check and the
//! writes. When the database stays locked past Spin's busy timeout, the
//! commit reports a conflict and the store retries it like any lost race.

use std::cell::{Cell, OnceCell};
use std::collections::HashMap;

use nexus_store::storage::{CommitTarget, Entries, StorageError, Write, apply_commit};
use nexus_store::{Storage, storage::Check};
use spin_sdk::sqlite3::{Connection, Error as SqliteError, QueryResult, Value};

const TABLE: &str =
    "CREATE TABLE IF NOT EXISTS nexus_kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID";
const GET: &str = "SELECT v FROM nexus_kv WHERE k = ?";
const SCAN: &str = "SELECT k, v FROM nexus_kv WHERE k >= ? AND k < ? ORDER BY k LIMIT ?";
const PUT: &str =
    "INSERT INTO nexus_kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v";
const DELETE: &str = "DELETE FROM nexus_kv WHERE k = ?";
const DELETE_RANGE: &str = "DELETE FROM nexus_kv WHERE k >= ? AND k < ?";
/// Keys per `IN (...)` lookup: well under SQLite's limit on parameters.
const GET_MANY_CHUNK: usize = 256;

/// The app's database, opened on the first storage call of the instance.
pub struct SqliteStorage {
    database: &'static str,
    connection: OnceCell<Connection>,
    /// Between BEGIN IMMEDIATE and COMMIT/ROLLBACK.
    in_transaction: Cell<bool>,
}

impl SqliteStorage {
    /// The database `spin.toml` grants as `sqlite_databases = ["default"]`.
    pub fn default_database() -> Self {
        Self {
            database: "default",
            connection: OnceCell::new(),
            in_transaction: Cell::new(false),
        }
    }

    /// From here on, commits of this connection return before they are on
    /// disk (`synchronous = NORMAL`): for the hit/miss counts a request
    /// flushes after its own work. In WAL mode SQLite stays consistent
    /// through a crash either way; what a power cut can lose is those last
    /// counts, never a write that was acknowledged (every other commit
    /// keeps `synchronous = FULL`, and its fsync of the log also makes the
    /// counts before it durable). Where WAL could not be turned on this is
    /// not done, since without WAL `NORMAL` risks the database.
    pub fn relax_durability_for_counts(&self) -> Result<(), StorageError> {
        let mode = self.execute("PRAGMA journal_mode", &[])?;
        let wal = matches!(
            mode.rows.first().and_then(|r| r.values.first()),
            Some(Value::Text(m)) if m.eq_ignore_ascii_case("wal")
        );
        if wal {
            self.execute("PRAGMA synchronous = NORMAL", &[])?;
        }
        Ok(())
    }

    fn connection(&self) -> Result<&Connection, StorageError> {
        if let Some(c) = self.connection.get() {
            return Ok(c);
        }
        let opened = Connection::open(self.database).map_err(storage_error)?;
        Ok(self.connection.get_or_init(|| opened))
    }

    /// Runs one statement; creates the table when it does not exist yet and
    /// runs the statement again. Checking for the table on every call would
    /// cost a statement per request, since every request is a new instance.
    fn execute(&self, statement: &str, params: &[Value]) -> Result<QueryResult, StorageError> {
        let db = self.connection()?;
        match db.execute(statement, params) {
            Err(SqliteError::Io(message)) if message.contains("no such table") => {
                db.execute(TABLE, &[]).map_err(storage_error)?;
                // WAL, so that readers and the writer do not wait on each
                // other. It is a property of the database file, set once,
                // and only outside a transaction; a platform that refuses
                // it (a remote SQLite) keeps its own journal.
                if !self.in_transaction.get() {
                    let _ = db.execute("PRAGMA journal_mode = WAL", &[]);
                }
                db.execute(statement, params).map_err(storage_error)
            }
            other => other.map_err(storage_error),
        }
    }
}

impl Storage for SqliteStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let result = self.execute(GET, &[blob(key)])?;
        result
            .rows
            .into_iter()
            .next()
            .map(|row| bytes(row.values.into_iter().next()))
            .transpose()
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let mut found = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(GET_MANY_CHUNK) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let statement = format!("SELECT k, v FROM nexus_kv WHERE k IN ({marks})");
            let params: Vec<Value> = chunk.iter().map(|k| blob(k)).collect();
            found.extend(rows(self.execute(&statement, &params)?)?);
        }
        // The contract's one value per key, in order, holds by construction:
        // the answer is built from `keys`, not from the rows. The rows only
        // decide which keys have a value, matched by their exact bytes, so
        // a row SQLite returned for a key not asked could not shift one
        // onto another key. A key asked for twice gets its value in both
        // places.
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        if start >= end || limit == 0 {
            return Ok(Vec::new());
        }
        let params = [blob(start), blob(end), Value::Integer(limit.into())];
        rows(self.execute(SCAN, &params)?)
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        self.execute("BEGIN IMMEDIATE", &[])
            .map_err(busy_is_conflict)?;
        let outcome = apply_commit(&mut Transaction(self), &checks, writes)
            .and_then(|()| self.execute("COMMIT", &[]).map(drop))
            .map_err(busy_is_conflict);
        if outcome.is_err() {
            // Also ends a COMMIT that failed: SQLite keeps the transaction
            // open when COMMIT cannot get its lock.
            let _ = self.execute("ROLLBACK", &[]);
        }
        outcome
    }
}

/// The open transaction of a commit, for `apply_commit`, which checks and
/// then writes in the contract's order.
struct Transaction<'a>(&'a SqliteStorage);

impl CommitTarget for Transaction<'_> {
    fn current(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.0.get(key)
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StorageError> {
        self.0
            .execute(PUT, &[Value::Blob(key), Value::Blob(value)])
            .map(drop)
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.0.execute(DELETE, &[blob(key)]).map(drop)
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        if start >= end {
            return Ok(());
        }
        self.0
            .execute(DELETE_RANGE, &[blob(start), blob(end)])
            .map(drop)
    }
}

fn blob(bytes: &[u8]) -> Value {
    Value::Blob(bytes.to_vec())
}

/// The rows of a `SELECT k, v`.
fn rows(result: QueryResult) -> Result<Entries, StorageError> {
    result
        .rows
        .into_iter()
        .map(|row| {
            let mut values = row.values.into_iter();
            let key = bytes(values.next())?;
            let value = bytes(values.next())?;
            Ok((key, value))
        })
        .collect()
}

/// A stored key or value. Anything but a blob was not written by nexus.
fn bytes(value: Option<Value>) -> Result<Vec<u8>, StorageError> {
    match value {
        Some(Value::Blob(b)) => Ok(b),
        other => Err(StorageError::Other(format!(
            "nexus_kv holds {other:?} where a blob belongs"
        ))),
    }
}

fn storage_error(e: SqliteError) -> StorageError {
    match e {
        SqliteError::Io(message) => StorageError::Other(message),
        SqliteError::DatabaseFull => StorageError::Other("the database is full".into()),
        other => StorageError::Unavailable(format!("{other:?}")),
    }
}

/// SQLite's "database is locked" (SQLITE_BUSY, after the busy timeout) is
/// another writer holding the lock: a race lost, retried by the store.
fn busy_is_conflict(e: StorageError) -> StorageError {
    match &e {
        StorageError::Other(message)
            if message.contains("database is locked") || message.contains("busy") =>
        {
            StorageError::Conflict
        }
        _ => e,
    }
}
