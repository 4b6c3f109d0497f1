//! The store's [`Storage`] over Spin's SQLite (`spin:sqlite/sqlite@3.0.0`).
//!
//! One table, `nexus_kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`, created
//! on first use. Keys are always bound as blobs: SQLite compares BLOBs with
//! memcmp, the byte order the storage contract needs, and would sort a TEXT
//! value before every BLOB. Spin runs one statement per `execute` (it
//! ignores anything after the first), so a commit is a sequence of calls on
//! one connection: `BEGIN IMMEDIATE`, one `SELECT … IN` of the keys it checks
//! and the counters it adds to, the writes (one upsert of every key it puts,
//! one `DELETE … IN`), `COMMIT`, and
//! `ROLLBACK` on any failure. `BEGIN IMMEDIATE` takes the write lock before
//! the checks read, so no other writer can slip in between a check and the
//! writes. When the database stays locked past Spin's busy timeout, the
//! commit reports a conflict and the store retries it like any lost race.
//!
//! Every statement is a call out of the component and a trip through
//! SQLite, so what a request reads first ([`FirstReads`]: the tick's state,
//! whether tokens exist, a GET's entry) is fetched in one `SELECT … UNION
//! ALL …` ([`SqliteStorage::prefetch`]) and served from there until the
//! request's first commit: the reads then see the database as of one
//! moment, and every commit checks against the database itself.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};

use nexus_store::http::FirstReads;
use nexus_store::storage::{
    CommitTarget, Entries, StorageError, Write, validate_commit, write_commit,
};
use nexus_store::{Storage, storage::Check};
use spin_sdk::sqlite3::{Connection, Error as SqliteError, QueryResult, Value};

const TABLE: &str =
    "CREATE TABLE IF NOT EXISTS nexus_kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID";
const GET: &str = "SELECT v FROM nexus_kv WHERE k = ?";
const SCAN: &str = "SELECT k, v FROM nexus_kv WHERE k >= ? AND k < ? ORDER BY k LIMIT ?";
const DELETE_RANGE: &str = "DELETE FROM nexus_kv WHERE k >= ? AND k < ?";
/// Keys per `IN (...)` lookup: well under SQLite's limit on parameters.
const GET_MANY_CHUNK: usize = 256;

/// The app's database, opened on the first storage call of the instance.
pub struct SqliteStorage {
    database: &'static str,
    connection: OnceCell<Connection>,
    /// Between BEGIN IMMEDIATE and COMMIT/ROLLBACK.
    in_transaction: Cell<bool>,
    /// What [`SqliteStorage::prefetch`] read, until the first commit.
    prefetched: RefCell<Option<Prefetched>>,
}

/// A range read: `(start, end, limit)`, as in [`FirstReads::scans`].
type Range = (Vec<u8>, Vec<u8>, u32);

/// One moment's answers to a request's first reads.
#[derive(Default)]
struct Prefetched {
    keys: HashMap<Vec<u8>, Option<Vec<u8>>>,
    scans: Vec<(Range, Entries)>,
}

impl Prefetched {
    /// A cached scan of exactly this range with at least this limit.
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Option<Entries> {
        self.scans
            .iter()
            .find(|((s, e, l), _)| s == start && e == end && *l >= limit)
            .map(|(_, entries)| entries.iter().take(limit as usize).cloned().collect())
    }
}

impl SqliteStorage {
    /// The database `spin.toml` grants as `sqlite_databases = ["default"]`.
    pub fn default_database() -> Self {
        Self {
            database: "default",
            connection: OnceCell::new(),
            in_transaction: Cell::new(false),
            prefetched: RefCell::new(None),
        }
    }

    /// Reads `reads` in one statement, for the storage calls that follow
    /// to answer from until the first commit. A failure here only costs
    /// the calls their own statements.
    pub fn prefetch(&self, reads: &FirstReads) {
        if reads.keys.is_empty() && reads.scans.is_empty() {
            return;
        }
        let mut parts = Vec::new();
        let mut params = Vec::new();
        if !reads.keys.is_empty() {
            let marks = vec!["?"; reads.keys.len()].join(", ");
            parts.push(format!(
                "SELECT -1, k, v FROM nexus_kv WHERE k IN ({marks})"
            ));
            params.extend(reads.keys.iter().map(|k| blob(k)));
        }
        for (i, (start, end, limit)) in reads.scans.iter().enumerate() {
            parts.push(format!(
                "SELECT * FROM (SELECT {i}, k, v FROM nexus_kv WHERE k >= ? AND k < ? ORDER BY k LIMIT ?)"
            ));
            params.extend([blob(start), blob(end), Value::Integer((*limit).into())]);
        }
        let Ok(result) = self.execute(&parts.join(" UNION ALL "), &params) else {
            return;
        };
        let mut prefetched = Prefetched {
            keys: reads.keys.iter().map(|k| (k.clone(), None)).collect(),
            scans: reads
                .scans
                .iter()
                .map(|s| (s.clone(), Vec::new()))
                .collect(),
        };
        for row in result.rows {
            let mut values = row.values.into_iter();
            let (Some(Value::Integer(source)), Ok(key), Ok(value)) =
                (values.next(), bytes(values.next()), bytes(values.next()))
            else {
                return;
            };
            match usize::try_from(source) {
                Ok(scan) if scan < prefetched.scans.len() => {
                    prefetched.scans[scan].1.push((key, value));
                }
                Ok(_) => return,
                Err(_) => {
                    prefetched.keys.insert(key, Some(value));
                }
            }
        }
        // Each scan's rows are its first in key order (the subquery's
        // ORDER BY with its LIMIT); a compound SELECT does not promise to
        // keep that order, so it is restored here.
        for (_, entries) in &mut prefetched.scans {
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
        *self.prefetched.borrow_mut() = Some(prefetched);
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
        if let Some(found) = self
            .prefetched
            .borrow()
            .as_ref()
            .and_then(|p| p.keys.get(key))
        {
            return Ok(found.clone());
        }
        let result = self.execute(GET, &[blob(key)])?;
        result
            .rows
            .into_iter()
            .next()
            .map(|row| bytes(row.values.into_iter().next()))
            .transpose()
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        if let Some(prefetched) = self.prefetched.borrow().as_ref()
            && let Some(values) = keys
                .iter()
                .map(|k| prefetched.keys.get(k).cloned())
                .collect::<Option<Vec<_>>>()
        {
            return Ok(values);
        }
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
        if let Some(entries) = self
            .prefetched
            .borrow()
            .as_ref()
            .and_then(|p| p.scan(start, end, limit))
        {
            return Ok(entries);
        }
        let params = [blob(start), blob(end), Value::Integer(limit.into())];
        rows(self.execute(SCAN, &params)?)
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        // From the first commit on, reads go to the database: a commit that
        // lost a race must re-read what the winner wrote.
        self.prefetched.borrow_mut().take();
        self.execute("BEGIN IMMEDIATE", &[])
            .map_err(busy_is_conflict)?;
        self.in_transaction.set(true);
        let outcome = self
            .read_for_commit(&checks, &writes)
            .and_then(|known| {
                if checks
                    .iter()
                    .any(|c| known.get(&c.key) != Some(&c.expected))
                {
                    return Err(StorageError::Conflict);
                }
                // The checks are done; what is left of the contract's
                // validation is that counter additions fit.
                let mut transaction = Transaction {
                    storage: self,
                    known,
                    unwritten: BTreeMap::new(),
                };
                validate_commit(&mut transaction, &[], &writes)?;
                write_commit(&mut transaction, writes)?;
                transaction.write_out()
            })
            .and_then(|()| self.execute("COMMIT", &[]).map(drop))
            .map_err(busy_is_conflict);
        if outcome.is_err() {
            // Also ends a COMMIT that failed: SQLite keeps the transaction
            // open when COMMIT cannot get its lock.
            let _ = self.execute("ROLLBACK", &[]);
        }
        self.in_transaction.set(false);
        outcome
    }
}

impl SqliteStorage {
    /// What a commit reads inside its transaction, in one `SELECT … IN`:
    /// the keys it checks and the counters it adds to.
    fn read_for_commit(
        &self,
        checks: &[Check],
        writes: &[Write],
    ) -> Result<HashMap<Vec<u8>, Option<Vec<u8>>>, StorageError> {
        let mut keys: Vec<Vec<u8>> = checks.iter().map(|c| c.key.clone()).collect();
        keys.extend(writes.iter().filter_map(|w| match w {
            Write::Add(key, _) => Some(key.clone()),
            _ => None,
        }));
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let values = self.get_many(&keys)?;
        Ok(keys.into_iter().zip(values).collect())
    }
}

/// The open transaction of a commit, for the contract's validation and
/// writes (`validate_commit`, `write_commit`): reads answered from what
/// the commit read first and from its own writes, which are gathered and
/// sent as one multi-row upsert and one `DELETE … IN` ([`Transaction::write_out`]).
struct Transaction<'a> {
    storage: &'a SqliteStorage,
    known: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Each key's value after the writes so far (`None`: deleted), not yet
    /// sent to SQLite.
    unwritten: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

/// Rows per multi-row statement: two parameters each, well under SQLite's
/// limit on parameters.
const ROWS_PER_STATEMENT: usize = 200;

impl Transaction<'_> {
    /// Sends the gathered writes: the puts as one upsert, the deletes as
    /// one `DELETE … IN` (in chunks of [`ROWS_PER_STATEMENT`]).
    fn write_out(&mut self) -> Result<(), StorageError> {
        let unwritten = std::mem::take(&mut self.unwritten);
        let (mut puts, deletes): (Vec<_>, Vec<_>) = unwritten
            .into_iter()
            .partition(|(_, value)| value.is_some());
        while !puts.is_empty() {
            let chunk: Vec<_> = puts.drain(..puts.len().min(ROWS_PER_STATEMENT)).collect();
            let rows = vec!["(?, ?)"; chunk.len()].join(", ");
            let statement = format!(
                "INSERT INTO nexus_kv (k, v) VALUES {rows} ON CONFLICT (k) DO UPDATE SET v = excluded.v"
            );
            let params: Vec<Value> = chunk
                .into_iter()
                .flat_map(|(key, value)| [Value::Blob(key), Value::Blob(value.unwrap_or_default())])
                .collect();
            self.storage.execute(&statement, &params)?;
        }
        for chunk in deletes.chunks(ROWS_PER_STATEMENT) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let params: Vec<Value> = chunk.iter().map(|(key, _)| blob(key)).collect();
            self.storage.execute(
                &format!("DELETE FROM nexus_kv WHERE k IN ({marks})"),
                &params,
            )?;
        }
        Ok(())
    }
}

impl CommitTarget for Transaction<'_> {
    fn current(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(value) = self.unwritten.get(key) {
            return Ok(value.clone());
        }
        match self.known.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.storage.get(key),
        }
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StorageError> {
        self.unwritten.insert(key, Some(value));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.unwritten.insert(key.to_vec(), None);
        Ok(())
    }

    /// Rare (clearing a namespace): what was gathered goes first, so the
    /// range deletes it too, then the range.
    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        if start >= end {
            return Ok(());
        }
        self.write_out()?;
        for (key, value) in &mut self.known {
            if start <= key.as_slice() && key.as_slice() < end {
                *value = None;
            }
        }
        self.storage
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
