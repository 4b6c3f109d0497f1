//! The shared backend: one PostgreSQL table that any number of hosts use at
//! once (several `nexus serve` processes, services embedding nexus).
//!
//! Keys and values are `bytea`, which PostgreSQL orders bytewise, as the
//! contract needs, so a scan is an index range scan of the primary key.
//! Commits made at the same time by this process's threads are folded into
//! one SERIALIZABLE transaction ([`group`]), which reads what they check,
//! then writes, with the reference semantics in between, in a handful of
//! statements whatever its size ([`commit`]). Under SERIALIZABLE, two hosts
//! that both check "absent" and write the same key cannot both commit: the
//! later one gets a serialization failure (or a unique violation), which is
//! the contract's `conflict`, so its guest re-reads and retries. A lost
//! connection is `unavailable`; the pool drops broken connections and opens
//! new ones when the database is back.
//!
//! Long polling across hosts: a commit's `notify` write is a `pg_notify` on
//! the table's channel inside the commit's transaction, so PostgreSQL
//! delivers it exactly when (and only if) the commit lands; every host keeps
//! one connection LISTENing on the channel and wakes its waiting receivers.

mod bound;
mod commit;
mod group;
mod hosts;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use nexus_store::storage::Entries;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::{CancelToken, Client, Statement};
use r2d2_postgres::r2d2::{self, ManageConnection, Pool, PooledConnection};

use self::bound::Watchdog;
use self::commit::Commit;
use self::group::Groups;
use self::hosts::Hosts;
use super::{Check, Storage, StorageError, Write};
use crate::wait::Waiters;

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
    /// Most transactions of grouped commits in flight at once: commits
    /// made while that many run wait and share the next one.
    pub commit_groups: usize,
    /// The longest any statement (a read, a commit's transaction) may go
    /// unanswered before its connection is dropped and its host passed
    /// over for the next (see `bound.rs`): a read is then `unavailable`, a
    /// commit `outcome unknown`. `None`: unbounded.
    pub statement_timeout: Option<Duration>,
}

impl PostgresOptions {
    pub const DEFAULT_TABLE: &str = "nexus_kv";
    pub const DEFAULT_POOL_SIZE: u32 = 16;
    pub const DEFAULT_COMMIT_GROUPS: usize = 2;
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            table: Self::DEFAULT_TABLE.into(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            connect_timeout: Duration::from_secs(5),
            commit_groups: Self::DEFAULT_COMMIT_GROUPS,
            statement_timeout: Some(Self::DEFAULT_STATEMENT_TIMEOUT),
        }
    }
}

/// The statements the backend runs, each prepared once per connection.
#[derive(Debug, Clone, Copy)]
enum Sql {
    Get,
    GetMany,
    Scan,
    DeleteRange,
    Write,
}

const STATEMENTS: usize = 5;

impl Sql {
    fn text(self, table: &str) -> String {
        match self {
            Sql::Get => format!("SELECT v FROM {table} WHERE k = $1"),
            Sql::GetMany => format!("SELECT k, v FROM {table} WHERE k = ANY($1)"),
            Sql::Scan => {
                format!("SELECT k, v FROM {table} WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3")
            }
            Sql::DeleteRange => format!("DELETE FROM {table} WHERE k >= $1 AND k < $2"),
            // A commit's writes in one round trip: the upsert, the deletes
            // and the notifications, whichever are empty. Data-modifying
            // CTEs run once each, on one snapshot, so they must not touch
            // the same row: the keys are coalesced before (each key is
            // either put or deleted, once), and range deletes, which could
            // meet a put, go first in statements of their own.
            Sql::Write => format!(
                "WITH put AS (INSERT INTO {table} (k, v) \
                   SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                   ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v), \
                 deleted AS (DELETE FROM {table} WHERE k = ANY($3)) \
                 SELECT pg_notify($4, n) FROM unnest($5::text[]) AS n"
            ),
        }
    }
}

/// A pooled connection and its prepared statements: a statement sent as
/// text costs a prepare round trip every time, a prepared one does not.
pub struct Connection {
    client: Client,
    table: Arc<str>,
    prepared: [Option<Statement>; STATEMENTS],
    /// For the watchdog to cancel what runs on it (shared: an alarm per
    /// statement takes a reference, not a copy).
    cancel: Arc<CancelToken>,
    /// Which host of the URL it is connected to.
    host: usize,
    /// A statement ran past the bound: never handed out again.
    broken: bool,
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

/// The pool's manager: connections to the hosts in turn ([`Hosts`]), with
/// the prepared statements kept beside each.
struct Manager {
    hosts: Arc<Hosts>,
    table: Arc<str>,
}

impl ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        let (client, host) = self.hosts.connect()?;
        Ok(Connection {
            cancel: Arc::new(client.cancel_token()),
            client,
            table: self.table.clone(),
            prepared: Default::default(),
            host,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

pub struct PostgresBackend {
    pool: Pool<Manager>,
    table: String,
    hosts: Arc<Hosts>,
    watchdog: Watchdog,
    /// The channel that `notify` writes are sent on and that the listener
    /// of [`Backend::watch`](super::Backend::watch) LISTENs to.
    channel: Arc<str>,
    groups: Groups<Commit>,
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

/// The NOTIFY channel of a table: `nexus:` and its name as given. A
/// channel is an identifier (at most 63 bytes); a longer name is replaced
/// by its FNV-1a hash, the same on every host.
fn channel_of(table: &str) -> String {
    let channel = format!("nexus:{table}");
    if channel.len() <= 63 {
        return channel;
    }
    format!("nexus:{:016x}", fnv1a(table))
}

/// Creates the table if it is missing. Hosts started together on an empty
/// database would race: `CREATE TABLE IF NOT EXISTS` is not safe against
/// itself (the loser fails on PostgreSQL's catalog with a duplicate key),
/// so each takes a transaction-scoped advisory lock named after the table
/// first; the others wait for the first to commit, then find the table.
fn create_table(client: &mut Client, quoted: &str, name: &str) -> Result<(), postgres::Error> {
    let lock = fnv1a(&format!("nexus:create:{name}")).cast_signed();
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])?;
    tx.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {quoted} (k bytea PRIMARY KEY, v bytea NOT NULL)"
    ))?;
    tx.commit()
}

/// FNV-1a: the same on every host, for names PostgreSQL needs short.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
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
        // A machine gone silent acknowledges nothing: TCP gives up on it
        // within the bound too (unless the URL says otherwise).
        if let (Some(bound), None) = (options.statement_timeout, config.get_tcp_user_timeout()) {
            config.tcp_user_timeout(bound);
        }
        let hosts = Arc::new(Hosts::new(&config));
        let table = quoted_table(&options.table)?;
        // Try once by hand first: the pool would only report a timeout,
        // and the reason (wrong password, no such database) matters here.
        let (mut first, _) = hosts.connect().map_err(|e| {
            StorageError::Unavailable(format!("cannot connect to PostgreSQL: {}", describe(&e)))
        })?;
        create_table(&mut first, &table, &options.table).map_err(|e| {
            StorageError::Other(format!("creating table {table}: {}", describe(&e)))
        })?;
        drop(first);
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .test_on_check_out(false)
            .connection_timeout(options.connect_timeout)
            .build(Manager {
                hosts: hosts.clone(),
                table: table.as_str().into(),
            })
            .map_err(no_connection)?;
        Ok(Self {
            pool,
            table,
            hosts,
            watchdog: Watchdog::new(options.statement_timeout),
            channel: channel_of(&options.table).into(),
            groups: Groups::new(options.commit_groups, MOST_PER_GROUP),
        })
    }

    /// LISTENs on the table's channel (before it returns, so a host built
    /// now hears every emit committed from now on), then hands the
    /// connection to a thread that wakes `waiters` for every namespace
    /// notified, until `waiters` is dropped. Connection lost, the thread
    /// reconnects by itself (once a second) and then wakes every waiter,
    /// since it may have missed notifications.
    pub(crate) fn listen(&self, waiters: Weak<Waiters>) {
        let hosts = self.hosts.clone();
        let channel = self.channel.clone();
        let first = subscribe(&hosts, &channel)
            .map_err(
                |e| tracing::warn!(error = %describe(&e), "PostgreSQL listener cannot connect yet"),
            )
            .ok();
        let started = std::thread::Builder::new()
            .name("nexus-pg-listen".into())
            .spawn(move || listen_until_dropped(first, &hosts, &channel, &waiters));
        if let Err(e) = started {
            tracing::warn!(error = %e, "cannot start the PostgreSQL listener; receivers wake on their own commits and timers only");
        }
    }

    /// `VACUUM (ANALYZE)` of the table: space of deleted and replaced rows
    /// becomes reusable and the planner's statistics fresh. Nothing waits
    /// on it (`VACUUM FULL`, which would give the space to the system,
    /// locks the table for its duration, so it is left to operators).
    pub fn vacuum(&self) -> Result<(), StorageError> {
        let mut conn = self.connection()?;
        conn.client
            .batch_execute(&format!("VACUUM (ANALYZE) {}", self.table))
            .map_err(classify)
    }

    /// Every entry, in key order, from one REPEATABLE READ transaction
    /// (one snapshot of the table, read through a cursor a page at a
    /// time, while other hosts go on writing).
    pub fn snapshot(&self, visit: super::Visit<'_>) -> Result<(), StorageError> {
        let mut conn = self.connection()?;
        let cancel = conn.cancel.clone();
        let mut tx = conn
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(classify)?;
        let portal = tx
            .bind(&format!("SELECT k, v FROM {} ORDER BY k", self.table), &[])
            .map_err(classify)?;
        loop {
            let alarm = self.watchdog.arm(&cancel);
            let rows = tx.query_portal(&portal, 1000);
            if alarm.fired() {
                drop(tx);
                return Err(self.timed_out(&mut conn));
            }
            let rows = rows.map_err(classify)?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                visit(row.get(0), row.get(1))?;
            }
        }
        tx.commit().map_err(classify)
    }

    /// A pooled connection to the host new connections go to: one to a
    /// host passed over since (an orphaned primary answers reads from a
    /// past it no longer shares) is discarded rather than used.
    fn connection(&self) -> Result<PooledConnection<Manager>, StorageError> {
        loop {
            let mut conn = self.pool.get().map_err(no_connection)?;
            if !self.hosts.passed_over(conn.host) {
                return Ok(conn);
            }
            conn.broken = true;
        }
    }

    /// A call on `conn` ran past the bound: the connection is discarded
    /// when it goes back to the pool, its host passed over; what to say
    /// when nothing was sent to commit.
    fn timed_out(&self, conn: &mut Connection) -> StorageError {
        conn.broken = true;
        self.hosts.pass_over(conn.host);
        StorageError::Unavailable(format!(
            "PostgreSQL did not answer within {:?}; that connection was dropped and the next \
             goes to the next host",
            self.watchdog.bound().unwrap_or_default()
        ))
    }

    /// Runs a read, once more on a new connection if the pooled one turns
    /// out to be dead (the database restarted since it was last used). The
    /// pool does not test connections as it hands them out: that would be
    /// a round trip more on every call.
    fn read<T>(
        &self,
        f: impl Fn(&mut Connection) -> Result<T, postgres::Error>,
    ) -> Result<T, StorageError> {
        let bounded = |conn: &mut Connection| {
            let alarm = self.watchdog.arm(&conn.cancel);
            let answer = f(conn);
            (answer, alarm.fired())
        };
        let mut conn = self.connection()?;
        match bounded(&mut conn) {
            (_, true) => Err(self.timed_out(&mut conn)),
            (Err(e), false) if dropped(&e) => {
                // `conn` is broken; the pool discards it when it comes back.
                drop(conn);
                let mut conn = self.connection()?;
                match bounded(&mut conn) {
                    (_, true) => Err(self.timed_out(&mut conn)),
                    (answer, false) => answer.map_err(classify),
                }
            }
            (answer, false) => answer.map_err(classify),
        }
    }
}

/// Most commits in one group: its statements carry all their keys and
/// values, and a failed group runs them again one by one.
const MOST_PER_GROUP: usize = 64;

/// How long the listener blocks before it checks that someone still waits.
const LISTEN_POLL: Duration = Duration::from_secs(1);

/// A connection LISTENing on `channel`, and its host.
fn subscribe(hosts: &Hosts, channel: &str) -> Result<(Client, usize), postgres::Error> {
    let (mut client, host) = hosts.connect()?;
    client.batch_execute(&format!("LISTEN \"{channel}\""))?;
    Ok((client, host))
}

/// Follows the pool: when connections start at another host (the one it
/// listens on failed, or was passed over), it listens there instead.
fn listen_until_dropped(
    mut client: Option<(Client, usize)>,
    hosts: &Hosts,
    channel: &str,
    waiters: &Weak<Waiters>,
) {
    while waiters.strong_count() > 0 {
        let Some((mut listening, host)) = client.take() else {
            std::thread::sleep(LISTEN_POLL);
            match subscribe(hosts, channel) {
                Ok(c) => {
                    tracing::info!(channel, "listening for other hosts' emits again");
                    client = Some(c);
                    if let Some(waiters) = waiters.upgrade() {
                        waiters.wake_all();
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %describe(&e), "PostgreSQL listener cannot connect yet");
                }
            }
            continue;
        };
        while !listening.is_closed() {
            if hosts.passed_over(host) {
                tracing::info!(channel, "the pool moved to another host; listening there");
                break;
            }
            let next = listening.notifications().timeout_iter(LISTEN_POLL).next();
            let Some(local) = waiters.upgrade() else {
                return;
            };
            match next {
                Ok(Some(notification)) => local.wake(notification.payload()),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %describe(&e), "PostgreSQL listener lost its connection");
                    break;
                }
            }
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
        match keys {
            [] => return Ok(Vec::new()),
            // The single-key statement: `= ANY` costs the server an array.
            [key] => return Ok(vec![self.get(key)?]),
            _ => {}
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

    /// Queued for the next group this process runs (group commit: see
    /// `group.rs`).
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        self.groups
            .commit(Commit { checks, writes }, |group| self.run_group(group))
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
    fn channels_are_identifiers_named_after_their_table() {
        assert_eq!(channel_of("nexus_kv"), "nexus:nexus_kv");
        assert_eq!(channel_of("app.kv2"), "nexus:app.kv2");
        let long = format!("{}.{}", "s".repeat(63), "t".repeat(63));
        let channel = channel_of(&long);
        assert!(channel.len() <= 63 && channel.starts_with("nexus:"));
        assert_eq!(channel, channel_of(&long), "every host names it alike");
        assert_ne!(channel, channel_of(&long.replace('t', "u")));
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
