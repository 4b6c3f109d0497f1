//! The shared backend: one PostgreSQL table that any number of hosts use at
//! once (several `nexus serve` processes, services embedding nexus).
//!
//! Keys and values are `bytea`, which PostgreSQL orders bytewise, as the
//! contract needs, so a scan is an index range scan of the primary key. A
//! commit is one SERIALIZABLE transaction that checks, then writes, with the
//! reference semantics (`apply_commit`) over the open transaction. Under
//! SERIALIZABLE, two hosts that both check "absent" and write the same key
//! cannot both commit: the later one gets a serialization failure (or a
//! unique violation), which is the contract's `conflict`, so its guest
//! re-reads and retries. A lost connection is `unavailable`; the pool drops
//! broken connections and opens new ones when the database is back.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use nexus_store::storage::{CommitTarget, Entries, apply_commit};
use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2::{self, ManageConnection, Pool, PooledConnection};

use super::{Check, Storage, StorageError, Write};

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// `postgres://user:password@host:port/database` (or key=value form).
    pub url: String,
    /// The table, created if missing; `schema.table` or `table`.
    pub table: String,
    /// Most connections this process holds.
    pub pool_size: u32,
    /// How long a call waits for a connection before it is `unavailable`.
    pub connect_timeout: Duration,
}

impl PostgresOptions {
    pub const DEFAULT_TABLE: &str = "nexus_kv";
    pub const DEFAULT_POOL_SIZE: u32 = 16;

    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            table: Self::DEFAULT_TABLE.into(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The statements the backend runs, each prepared once per connection.
#[derive(Debug, Clone, Copy)]
enum Sql {
    Get,
    GetMany,
    Scan,
    Put,
    Delete,
    DeleteRange,
}

const STATEMENTS: usize = 6;

impl Sql {
    fn text(self, table: &str) -> String {
        match self {
            Sql::Get => format!("SELECT v FROM {table} WHERE k = $1"),
            Sql::GetMany => format!("SELECT k, v FROM {table} WHERE k = ANY($1)"),
            Sql::Scan => {
                format!("SELECT k, v FROM {table} WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3")
            }
            Sql::Put => format!(
                "INSERT INTO {table} (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
            ),
            Sql::Delete => format!("DELETE FROM {table} WHERE k = $1"),
            Sql::DeleteRange => format!("DELETE FROM {table} WHERE k >= $1 AND k < $2"),
        }
    }
}

/// A pooled connection and its prepared statements: a statement sent as
/// text costs a prepare round trip every time, a prepared one does not.
pub struct Connection {
    client: Client,
    table: Arc<str>,
    prepared: [Option<Statement>; STATEMENTS],
}

impl Connection {
    fn statement(&mut self, sql: Sql) -> Result<Statement, postgres::Error> {
        if let Some(statement) = &self.prepared[sql as usize] {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&sql.text(&self.table))?;
        self.prepared[sql as usize] = Some(statement.clone());
        Ok(statement)
    }
}

/// r2d2_postgres's manager, with the prepared statements kept beside each
/// connection.
#[derive(Debug)]
struct Manager {
    inner: PostgresConnectionManager<NoTls>,
    table: Arc<str>,
}

impl ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: self.inner.connect()?,
            table: self.table.clone(),
            prepared: Default::default(),
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        self.inner.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        self.inner.has_broken(&mut conn.client)
    }
}

pub struct PostgresBackend {
    pool: Pool<Manager>,
    table: String,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// `schema.table` or `table`, each part an SQL identifier we quote.
fn quoted_table(name: &str) -> Result<String, StorageError> {
    let parts: Vec<&str> = name.split('.').collect();
    let valid = |p: &&str| {
        !p.is_empty()
            && p.len() <= 63
            && p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if parts.len() > 2 || !parts.iter().all(valid) {
        return Err(StorageError::Other(format!(
            "table name {name:?}: expected `table` or `schema.table`, letters, digits and `_`, at most 63 each"
        )));
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join("."))
}

/// The server's own words when it said something ("db error" alone is
/// what the client's `Display` gives).
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => e.to_string(),
    }
}

/// A database error as the contract's: a serialization failure or a
/// duplicate key is a lost race (`conflict`); no answer from the server is
/// `unavailable`; anything the server said otherwise is `other`.
fn classify(e: postgres::Error) -> StorageError {
    match e.code() {
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::UNIQUE_VIOLATION =>
        {
            StorageError::Conflict
        }
        Some(code)
            if code.code().starts_with("08")
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW =>
        {
            StorageError::Unavailable(format!("PostgreSQL: {}", describe(&e)))
        }
        Some(_) => StorageError::Other(format!("PostgreSQL: {}", describe(&e))),
        None => StorageError::Unavailable(format!("PostgreSQL: {}", describe(&e))),
    }
}

fn no_connection(e: r2d2::Error) -> StorageError {
    StorageError::Unavailable(format!("no PostgreSQL connection: {e}"))
}

impl PostgresBackend {
    /// Connects (failing at once on a bad URL, an unreachable server or a
    /// refused login) and creates the table if it is missing.
    pub fn open(options: &PostgresOptions) -> Result<Self, StorageError> {
        let mut config = postgres::Config::from_str(&options.url)
            .map_err(|e| StorageError::Other(format!("bad database URL: {e}")))?;
        config.connect_timeout(options.connect_timeout);
        let table = quoted_table(&options.table)?;
        // Try once by hand first: the pool would only report a timeout,
        // and the reason (wrong password, no such database) matters here.
        let mut first = config.connect(NoTls).map_err(|e| {
            StorageError::Unavailable(format!("cannot connect to PostgreSQL: {}", describe(&e)))
        })?;
        first
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (k bytea PRIMARY KEY, v bytea NOT NULL)"
            ))
            .map_err(|e| {
                StorageError::Other(format!("creating table {table}: {}", describe(&e)))
            })?;
        drop(first);
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .test_on_check_out(false)
            .connection_timeout(options.connect_timeout)
            .build(Manager {
                inner: PostgresConnectionManager::new(config, NoTls),
                table: table.as_str().into(),
            })
            .map_err(no_connection)?;
        Ok(Self { pool, table })
    }

    fn connection(&self) -> Result<PooledConnection<Manager>, StorageError> {
        self.pool.get().map_err(no_connection)
    }

    /// Runs a read, once more on a new connection if the pooled one turns
    /// out to be dead (the database restarted since it was last used). The
    /// pool does not test connections as it hands them out: that would be
    /// a round trip more on every call.
    fn read<T>(
        &self,
        f: impl Fn(&mut Connection) -> Result<T, postgres::Error>,
    ) -> Result<T, StorageError> {
        let mut conn = self.connection()?;
        match f(&mut conn) {
            Err(e) if dropped(&e) => {
                // `conn` is broken; the pool discards it when it comes back.
                drop(conn);
                f(&mut *self.connection()?).map_err(classify)
            }
            other => other.map_err(classify),
        }
    }
}

/// An error that says the connection is gone rather than anything about
/// the statement: no SQLSTATE at all.
fn dropped(e: &postgres::Error) -> bool {
    e.is_closed() || e.code().is_none()
}

impl Storage for PostgresBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let row = self.read(|conn| {
            let statement = conn.statement(Sql::Get)?;
            conn.client.query_opt(&statement, &[&key])
        })?;
        Ok(row.map(|r| r.get(0)))
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.read(|conn| {
            let statement = conn.statement(Sql::GetMany)?;
            conn.client.query(&statement, &[&keys])
        })?;
        let found: HashMap<Vec<u8>, Vec<u8>> =
            rows.into_iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        if limit == 0 || start >= end {
            return Ok(Vec::new());
        }
        let rows = self.read(|conn| {
            let statement = conn.statement(Sql::Scan)?;
            conn.client
                .query(&statement, &[&start, &end, &i64::from(limit)])
        })?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        // A connection found dead before the transaction began has done
        // nothing, so the commit may start again on a new one; after BEGIN
        // it is never repeated.
        let mut last = None;
        for _ in 0..2 {
            let mut conn = self.connection()?;
            let statements = match Statements::prepare(&mut conn) {
                Ok(statements) => statements,
                Err(e) if dropped(&e) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(classify(e)),
            };
            let tx = match conn
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::Serializable)
                .start()
            {
                Ok(tx) => tx,
                Err(e) if dropped(&e) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(classify(e)),
            };
            let mut target = InTransaction {
                tx,
                sql: &statements,
            };
            apply_commit(&mut target, &checks, writes)?;
            // Any failure above drops the transaction, which rolls it back.
            return target.tx.commit().map_err(classify);
        }
        Err(last.map_or_else(
            || StorageError::Unavailable("no PostgreSQL connection".into()),
            classify,
        ))
    }
}

/// What a commit runs, prepared before its transaction starts.
struct Statements {
    get: Statement,
    put: Statement,
    delete: Statement,
    delete_range: Statement,
}

impl Statements {
    fn prepare(conn: &mut Connection) -> Result<Self, postgres::Error> {
        Ok(Self {
            get: conn.statement(Sql::Get)?,
            put: conn.statement(Sql::Put)?,
            delete: conn.statement(Sql::Delete)?,
            delete_range: conn.statement(Sql::DeleteRange)?,
        })
    }
}

/// A commit's reads and writes, inside its transaction.
struct InTransaction<'a> {
    tx: Transaction<'a>,
    sql: &'a Statements,
}

impl CommitTarget for InTransaction<'_> {
    fn current(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let row = self
            .tx
            .query_opt(&self.sql.get, &[&key])
            .map_err(classify)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StorageError> {
        self.tx
            .execute(&self.sql.put, &[&key, &value])
            .map_err(classify)?;
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.tx
            .execute(&self.sql.delete, &[&key])
            .map_err(classify)?;
        Ok(())
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        if start < end {
            self.tx
                .execute(&self.sql.delete_range, &[&start, &end])
                .map_err(classify)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_checked_and_quoted() {
        assert_eq!(quoted_table("nexus_kv").unwrap(), "\"nexus_kv\"");
        assert_eq!(quoted_table("app.kv2").unwrap(), "\"app\".\"kv2\"");
        for bad in ["", "a.b.c", "1kv", "kv; DROP TABLE x", "k\"v", ".kv", "kv."] {
            assert!(quoted_table(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_bad_url_is_refused_before_any_connection() {
        let err = PostgresBackend::open(&PostgresOptions::new("postgres://a:b@host:notaport/db"))
            .unwrap_err();
        assert!(
            matches!(err, StorageError::Other(ref m) if m.contains("bad database URL")),
            "{err:?}"
        );
    }
}
