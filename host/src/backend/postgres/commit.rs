//! A group of commits as one SERIALIZABLE transaction, in a handful of
//! statements whatever its size: every round trip to the database is a
//! wait, and a commit of ten events would otherwise be some fifty
//! single-row reads and writes.
//!
//! The keys the group reads (those its commits check and the counters they
//! add to) are read in one query inside the transaction, so SERIALIZABLE
//! sees them as read. Then each commit, in order, is validated against what
//! the commits before it left (`validate_commit`): one whose check fails
//! hears `conflict` and writes nothing, without failing the others. The
//! writes of the accepted ones, coalesced to each key's last, go out as one
//! delete per range, then one statement that upserts, deletes and sends a
//! `pg_notify` for every namespace notified, and one `COMMIT` acknowledges
//! them all: `BEGIN`, the read, the write and `COMMIT`, four round trips
//! for the whole group.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use nexus_store::storage::{CommitTarget, validate_commit, write_commit};
use postgres::{IsolationLevel, Statement, Transaction};

use super::group::Outcome;
use super::{Connection, PostgresBackend, Sql, classify, dropped};
use crate::backend::{Check, StorageError, Write};

/// One caller's commit, as `Storage::commit` takes it.
#[derive(Clone)]
pub(super) struct Commit {
    pub(super) checks: Vec<Check>,
    pub(super) writes: Vec<Write>,
}

/// Why a group's transaction did not commit.
enum Failed {
    /// The server refused a statement and rolled the transaction back:
    /// nothing was written, but the refusal may be one commit's alone.
    RolledBack(StorageError),
    /// What goes for every commit of the group alike: no connection, or
    /// the connection lost.
    Shared(StorageError),
}

impl Failed {
    fn of(e: postgres::Error) -> Self {
        if dropped(&e) {
            Failed::Shared(classify(e))
        } else {
            Failed::RolledBack(classify(e))
        }
    }
}

impl PostgresBackend {
    /// Answers each commit of a group (see [`super::group`]), in order. If
    /// the server refuses the group's transaction (a serialization failure,
    /// or a statement one commit's data makes fail), each commit runs again
    /// alone, so that a refusal is heard only by the commit it concerns.
    pub(super) fn run_group(&self, mut commits: Vec<Commit>) -> Vec<Outcome> {
        let n = commits.len();
        if n == 1 {
            let commit = commits.pop().expect("one commit");
            return vec![self.run_alone(commit)];
        }
        let kept = commits.clone();
        match self.transaction(commits) {
            Ok(outcomes) => outcomes,
            Err(Failed::Shared(e)) => vec![Err(e); n],
            Err(Failed::RolledBack(_)) => kept.into_iter().map(|c| self.run_alone(c)).collect(),
        }
    }

    /// Runs `commits` as one group, as concurrent callers of `commit`
    /// would, for tests that need to choose a group's members.
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub fn commit_group(&self, commits: Vec<(Vec<Check>, Vec<Write>)>) -> Vec<Outcome> {
        self.run_group(
            commits
                .into_iter()
                .map(|(checks, writes)| Commit { checks, writes })
                .collect(),
        )
    }

    fn run_alone(&self, commit: Commit) -> Outcome {
        match self.transaction(vec![commit]) {
            Ok(mut outcomes) => outcomes.pop().expect("one outcome"),
            Err(Failed::RolledBack(e) | Failed::Shared(e)) => Err(e),
        }
    }

    /// One transaction for `commits`. A connection found dead before the
    /// transaction began has done nothing, so it may start again on a new
    /// one; after `BEGIN` it is never repeated. The whole transaction is
    /// bound (`bound.rs`): past the bound before `COMMIT` was sent, nothing
    /// was written (`unavailable`); after, the outcome is unknown — even if
    /// `COMMIT` answered, since a cancelled wait for the synchronous
    /// standby answers success for a commit that is only local.
    fn transaction(&self, mut commits: Vec<Commit>) -> Result<Vec<Outcome>, Failed> {
        let mut last = None;
        for _ in 0..2 {
            let mut conn = self.connection().map_err(Failed::Shared)?;
            let alarm = self.watchdog.arm(&conn.cancel);
            let mut committing = false;
            let attempt = Self::attempt(&mut conn, &self.channel, &mut commits, &mut committing);
            if alarm.fired() {
                let unanswered = self.timed_out(&mut conn);
                return Err(Failed::Shared(if committing {
                    StorageError::OutcomeUnknown(format!(
                        "the COMMIT was sent and not answered in time ({unanswered})"
                    ))
                } else {
                    unanswered
                }));
            }
            match attempt {
                Attempt::Done(outcomes) => return outcomes,
                Attempt::Again(e) => last = Some(e),
            }
        }
        Err(Failed::Shared(last.map_or_else(
            || StorageError::Unavailable("no PostgreSQL connection".into()),
            classify,
        )))
    }

    /// [`PostgresBackend::transaction`] on one connection. `commits` is
    /// taken once `BEGIN` has gone through; `committing` says whether
    /// `COMMIT` was sent.
    fn attempt(
        conn: &mut Connection,
        channel: &str,
        commits: &mut Vec<Commit>,
        committing: &mut bool,
    ) -> Attempt {
        let statements = match Statements::prepare(conn) {
            Ok(statements) => statements,
            Err(e) if dropped(&e) => return Attempt::Again(e),
            Err(e) => return Attempt::Done(Err(Failed::Shared(classify(e)))),
        };
        let mut tx = match conn
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::Serializable)
            .start()
        {
            Ok(tx) => tx,
            Err(e) if dropped(&e) => return Attempt::Again(e),
            Err(e) => return Attempt::Done(Err(Failed::Shared(classify(e)))),
        };
        let outcomes = match Buffered::run(&mut tx, &statements, channel, std::mem::take(commits)) {
            Ok(outcomes) => outcomes,
            Err(failed) => return Attempt::Done(Err(failed)),
        };
        if outcomes.iter().any(Result::is_ok) {
            *committing = true;
            if let Err(e) = tx.commit() {
                return Attempt::Done(Err(if lost_while_committing(&e) {
                    Failed::Shared(StorageError::OutcomeUnknown(format!(
                        "the PostgreSQL connection was lost while it committed: {e}"
                    )))
                } else {
                    Failed::of(e)
                }));
            }
        }
        // Otherwise dropping the transaction rolls it back: it wrote
        // nothing, and each commit has its refusal.
        Attempt::Done(Ok(outcomes))
    }
}

/// How one connection's attempt at a transaction ended.
enum Attempt {
    Done(Result<Vec<Outcome>, Failed>),
    /// The connection was found dead before `BEGIN`: nothing was sent.
    Again(postgres::Error),
}

/// Whether a failed `COMMIT` may have been applied: it was sent, and the
/// connection went (closed, a connection exception, class 08, or the
/// backend ended by an operator or a shutdown, class 57) before its answer
/// said otherwise. A refusal such as a serialization failure (40001) or a
/// deferred constraint (23…) is a definite rollback.
fn lost_while_committing(e: &postgres::Error) -> bool {
    dropped(e)
        || e.code()
            .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57"))
}

/// What a group runs, prepared before its transaction starts.
struct Statements {
    get_many: Statement,
    delete_range: Statement,
    write: Statement,
}

impl Statements {
    fn prepare(conn: &mut Connection) -> Result<Self, postgres::Error> {
        Ok(Self {
            get_many: conn.statement(Sql::GetMany)?,
            delete_range: conn.statement(Sql::DeleteRange)?,
            write: conn.statement(Sql::Write)?,
        })
    }
}

/// A group's reads and writes, worked out in memory.
#[derive(Default)]
struct Buffered {
    /// Read in the transaction: `None` = absent.
    read: HashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Each key's last write in this group (`None` = deleted).
    written: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Ranges deleted, in order.
    ranges: Vec<(Vec<u8>, Vec<u8>)>,
    notified: Vec<String>,
}

impl Buffered {
    fn run(
        tx: &mut Transaction<'_>,
        sql: &Statements,
        channel: &str,
        commits: Vec<Commit>,
    ) -> Result<Vec<Outcome>, Failed> {
        let mut wanted: Vec<&[u8]> = Vec::new();
        for commit in &commits {
            wanted.extend(commit.checks.iter().map(|c| c.key.as_slice()));
            wanted.extend(commit.writes.iter().filter_map(|w| match w {
                Write::Add(key, _) => Some(key.as_slice()),
                _ => None,
            }));
        }
        wanted.sort_unstable();
        wanted.dedup();
        let mut group = Buffered::default();
        if !wanted.is_empty() {
            let rows = tx.query(&sql.get_many, &[&wanted]).map_err(Failed::of)?;
            group.read = wanted.iter().map(|k| (k.to_vec(), None)).collect();
            for row in rows {
                group.read.insert(row.get(0), Some(row.get(1)));
            }
        }
        let mut outcomes = Vec::with_capacity(commits.len());
        for Commit { checks, writes } in commits {
            let outcome = validate_commit(&mut group, &checks, &writes);
            if outcome.is_ok() {
                // Validated, it cannot fail halfway; if it fails at all,
                // `group` is no longer what the commits before it left.
                write_commit(&mut group, writes).map_err(Failed::RolledBack)?;
            }
            outcomes.push(outcome);
        }
        group.write_out(tx, sql, channel).map_err(Failed::of)?;
        Ok(outcomes)
    }

    fn write_out(
        &self,
        tx: &mut Transaction<'_>,
        sql: &Statements,
        channel: &str,
    ) -> Result<(), postgres::Error> {
        for (start, end) in &self.ranges {
            tx.execute(&sql.delete_range, &[start, end])?;
        }
        let (mut put_keys, mut put_values, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
        for (key, value) in &self.written {
            match value {
                Some(value) => {
                    put_keys.push(key.as_slice());
                    put_values.push(value.as_slice());
                }
                None => deleted.push(key.as_slice()),
            }
        }
        if !(put_keys.is_empty() && deleted.is_empty() && self.notified.is_empty()) {
            tx.execute(
                &sql.write,
                &[&put_keys, &put_values, &deleted, &channel, &self.notified],
            )?;
        }
        Ok(())
    }
}

impl CommitTarget for Buffered {
    fn current(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(value) = self.written.get(key) {
            return Ok(value.clone());
        }
        if self
            .ranges
            .iter()
            .any(|(start, end)| start.as_slice() <= key && key < end.as_slice())
        {
            return Ok(None);
        }
        // Commits read only checked keys and counters: all read above.
        self.read
            .get(key)
            .cloned()
            .ok_or_else(|| StorageError::Other("a commit read a key it had not read first".into()))
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StorageError> {
        self.written.insert(key, Some(value));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.written.insert(key.to_vec(), None);
        Ok(())
    }

    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        if start < end {
            for (_, value) in self
                .written
                .range_mut::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            {
                *value = None;
            }
            self.ranges.push((start.to_vec(), end.to_vec()));
        }
        Ok(())
    }

    /// Sent when the transaction commits; dropped with it if it does not.
    fn notify(&mut self, namespace: &str) -> Result<(), StorageError> {
        if !self.notified.iter().any(|n| n == namespace) {
            self.notified.push(namespace.to_string());
        }
        Ok(())
    }
}
