//! The SQLite host called as the component calls it (through the generated
//! `HostConnection` trait), on a temporary database file.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Resource;

use super::spin::sqlite::sqlite::HostConnection;
use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    database: Database,
    runtime: tokio::runtime::Runtime,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = Database::new(dir.path().join("sqlite_db.db"));
        // As the harness runs it: SQLite blocks in place on a worker of a
        // multi-threaded runtime.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Self {
            _dir: dir,
            database,
            runtime,
        }
    }

    /// An instance's SQLite host on the fixture's database, with connections
    /// that give up on a lock at once (no test waits on a timer).
    fn host(&self) -> Host<'_> {
        let database = self.database.clone().with_busy_timeout(Duration::ZERO);
        Host {
            sqlite: Sqlite::new(Arc::new(database)),
            runtime: &self.runtime,
        }
    }
}

/// One instance's view of SQLite, with blocking calls for brevity.
struct Host<'a> {
    sqlite: Sqlite,
    runtime: &'a tokio::runtime::Runtime,
}

impl Host<'_> {
    fn open(&mut self, name: &str) -> Result<Resource<Connection>, Error> {
        self.runtime
            .block_on(self.sqlite.open(name.into()))
            .unwrap()
    }

    fn connect(&mut self) -> Resource<Connection> {
        self.open(DEFAULT_DATABASE).unwrap()
    }

    fn execute(
        &mut self,
        connection: &Resource<Connection>,
        statement: &str,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, Error> {
        let handle = Resource::new_borrow(connection.rep());
        self.runtime
            .block_on(self.sqlite.execute(handle, statement.into(), parameters))
            .unwrap()
    }

    /// `execute` that must succeed; its rows.
    fn rows(
        &mut self,
        connection: &Resource<Connection>,
        statement: &str,
        parameters: Vec<Value>,
    ) -> Vec<Vec<Value>> {
        match self.execute(connection, statement, parameters) {
            Ok(result) => result.rows.into_iter().map(|r| r.values).collect(),
            Err(e) => panic!("{statement}: {e:?}"),
        }
    }

    fn close(&mut self, connection: Resource<Connection>) {
        self.runtime.block_on(self.sqlite.drop(connection)).unwrap();
    }
}

fn io_message(result: Result<QueryResult, Error>) -> String {
    match result {
        Err(Error::Io(message)) => message,
        other => panic!("expected error::io, got {other:?}"),
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn blob(b: &[u8]) -> Value {
    Value::Blob(b.to_vec())
}

#[test]
fn a_string_with_two_statements_is_refused_and_nothing_runs() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let db = host.connect();
    let message = io_message(host.execute(&db, "CREATE TABLE t (x); CREATE TABLE u (y)", vec![]));
    assert!(message.contains("exactly one SQL statement"), "{message}");
    let message = io_message(host.execute(&db, "SELECT * FROM t", vec![]));
    assert!(message.contains("no such table: t"), "{message}");
}

#[test]
fn trailing_semicolons_whitespace_and_comments_are_not_statements() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let db = host.connect();
    for statement in [
        "SELECT 1",
        "SELECT 1;",
        " SELECT 1 ;\n\t",
        "SELECT 1; ;",
        "SELECT 1; -- done",
        "SELECT 1 /* c */;",
    ] {
        assert_eq!(
            host.rows(&db, statement, vec![]),
            [[Value::Integer(1)]],
            "{statement:?}"
        );
    }
}

#[test]
fn a_string_without_a_statement_is_refused() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let db = host.connect();
    for statement in ["", " ", ";", "-- nothing"] {
        let message = io_message(host.execute(&db, statement, vec![]));
        assert!(message.contains("holds none"), "{statement:?}: {message}");
    }
}

#[test]
fn values_are_bound_as_their_own_sqlite_type_and_come_back_unchanged() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let db = host.connect();
    let values = vec![
        Value::Integer(-7),
        Value::Real(2.5),
        text("é"),
        blob(b"\x00\xff"),
        Value::Null,
    ];
    let result = host
        .execute(
            &db,
            "SELECT ? AS i, ? AS r, ? AS t, ? AS b, ? AS n",
            values.clone(),
        )
        .unwrap();
    assert_eq!(result.columns, ["i", "r", "t", "b", "n"]);
    assert_eq!(result.rows.len(), 1);
    assert_eq!(result.rows[0].values, values);
    let types = host.rows(
        &db,
        "SELECT typeof(?), typeof(?), typeof(?), typeof(?), typeof(?)",
        values,
    );
    assert_eq!(
        types,
        [[
            text("integer"),
            text("real"),
            text("text"),
            text("blob"),
            text("null")
        ]]
    );
}

#[test]
fn a_blob_key_stays_a_blob_and_sorts_after_text() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let db = host.connect();
    host.rows(
        &db,
        "CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID",
        vec![],
    );
    host.rows(
        &db,
        "INSERT INTO kv VALUES (?, ?)",
        vec![blob(b"a"), blob(b"1")],
    );
    host.rows(
        &db,
        "INSERT INTO kv VALUES (?, ?)",
        vec![text("z"), blob(b"2")],
    );
    let rows = host.rows(&db, "SELECT k, typeof(k) FROM kv ORDER BY k", vec![]);
    // SQLite orders every TEXT before every BLOB: a key bound as text
    // would fall outside a blob range.
    assert_eq!(
        rows,
        [[text("z"), text("text")], [blob(b"a"), text("blob")]]
    );
}

#[test]
fn only_the_default_database_exists() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    for name in ["other", "", "Default", "default "] {
        assert!(
            matches!(host.open(name), Err(Error::NoSuchDatabase)),
            "{name:?}"
        );
    }
    assert!(host.open("default").is_ok());
}

#[test]
fn connections_keep_spins_defaults() {
    let fixture = Fixture::new();
    let mut host = Host {
        sqlite: Sqlite::new(Arc::new(fixture.database.clone())),
        runtime: &fixture.runtime,
    };
    let db = host.connect();
    assert_eq!(
        host.rows(&db, "PRAGMA busy_timeout", vec![]),
        [[Value::Integer(5000)]]
    );
    assert_eq!(
        host.rows(&db, "PRAGMA journal_mode", vec![]),
        [[text("delete")]]
    );
    // 2 = FULL, SQLite's default.
    assert_eq!(
        host.rows(&db, "PRAGMA synchronous", vec![]),
        [[Value::Integer(2)]]
    );
}

#[test]
fn every_open_is_its_own_connection_and_a_held_write_lock_makes_the_other_busy() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let first = host.connect();
    let second = host.connect();
    host.rows(&first, "CREATE TABLE t (x)", vec![]);
    host.rows(&first, "BEGIN IMMEDIATE", vec![]);
    host.rows(&first, "INSERT INTO t VALUES (1)", vec![]);
    // The other connection reads the last committed state ...
    assert!(host.rows(&second, "SELECT x FROM t", vec![]).is_empty());
    // ... and cannot take the write lock (busy timeout zero here, 5 s in
    // the harness): SQLite's own message, which the component recognises.
    let message = io_message(host.execute(&second, "BEGIN IMMEDIATE", vec![]));
    assert!(message.contains("database is locked"), "{message}");
    host.rows(&first, "COMMIT", vec![]);
    host.rows(&second, "BEGIN IMMEDIATE", vec![]);
    assert_eq!(
        host.rows(&second, "SELECT x FROM t", vec![]),
        [[Value::Integer(1)]]
    );
    host.rows(&second, "ROLLBACK", vec![]);
}

#[test]
fn dropping_a_connection_rolls_back_its_transaction() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let first = host.connect();
    host.rows(&first, "CREATE TABLE t (x)", vec![]);
    host.rows(&first, "BEGIN IMMEDIATE", vec![]);
    host.rows(&first, "INSERT INTO t VALUES (1)", vec![]);
    host.close(first);
    let second = host.connect();
    host.rows(&second, "BEGIN IMMEDIATE", vec![]);
    assert!(host.rows(&second, "SELECT x FROM t", vec![]).is_empty());
}

#[test]
fn last_insert_rowid_and_changes_are_the_connections_own() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let db = host.connect();
    let other = host.connect();
    host.rows(&db, "CREATE TABLE t (x)", vec![]);
    host.rows(&db, "INSERT INTO t VALUES (10), (20)", vec![]);
    let rowid = |host: &mut Host<'_>, c: &Resource<Connection>| {
        let handle = Resource::new_borrow(c.rep());
        host.runtime
            .block_on(host.sqlite.last_insert_rowid(handle))
            .unwrap()
    };
    let changes = |host: &mut Host<'_>, c: &Resource<Connection>| {
        let handle = Resource::new_borrow(c.rep());
        host.runtime.block_on(host.sqlite.changes(handle)).unwrap()
    };
    assert_eq!(rowid(&mut host, &db), 2);
    assert_eq!(changes(&mut host, &db), 2);
    host.rows(&db, "UPDATE t SET x = x + 1", vec![]);
    assert_eq!(changes(&mut host, &db), 2);
    assert_eq!(
        (rowid(&mut host, &other), changes(&mut host, &other)),
        (0, 0)
    );
}

#[test]
fn sqlite_errors_keep_sqlites_message() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let db = host.connect();
    let message = io_message(host.execute(&db, "SELECT * FROM nexus_kv", vec![]));
    assert!(message.contains("no such table: nexus_kv"), "{message}");
    let message = io_message(host.execute(&db, "SELECT ?", vec![]));
    assert!(!message.is_empty());
}

#[test]
fn a_closed_connection_traps_instead_of_answering() {
    let fixture = Fixture::new();
    let mut host = fixture.host();
    let db = host.connect();
    let rep = db.rep();
    host.close(db);
    let stale = Resource::<Connection>::new_borrow(rep);
    let outcome = host
        .runtime
        .block_on(host.sqlite.execute(stale, "SELECT 1".into(), vec![]));
    assert!(outcome.is_err());
}
