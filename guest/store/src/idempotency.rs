//! Idempotency keys: a write sent again with the same key is answered as
//! the first time and applied once (Stripe's `Idempotency-Key`, SQS's
//! deduplication id).
//!
//! A request that carries a key runs its ordinary code against a staging
//! storage (the batch's overlay), so none of its writes reach the storage
//! yet; its answer is then recorded beside them, and the whole goes out as
//! **one commit**, checked against the key being unrecorded. Either the
//! write and its recorded answer are both durable or neither is, so a
//! client that lost the answer (a dropped connection, a database failover,
//! an `outcome-unknown` error) sends the request again with the same key
//! and gets the recorded answer, applied once. Of two retries racing, one
//! commits; the other's check fails, and on its next attempt it finds the
//! answer.
//!
//! Only requests that wrote something are recorded: one that wrote nothing
//! (a refusal, a miss) runs again on a retry, which can only answer the
//! same or see what another writer changed since. A key is kept for its
//! namespace's `idempotency_window_ms` (a day by default) and swept after;
//! within the window the same key with another request (another
//! fingerprint) is refused with [`Error::IdempotencyKeyReused`].

use std::cell::{Cell, RefCell};

use sha2::{Digest, Sha256};

use crate::batch::Overlay;
use crate::error::{Error, Result};
use crate::keys::{self, IDEMPOTENCY, IDEMPOTENCY_EXPIRY};
use crate::namespace::{DEFAULT_IDEMPOTENCY_WINDOW_MS, Record};
use crate::storage::{Check, Entries, GetEach, Storage, StorageError, Write};
use crate::sweep::DueEntries;
use crate::{Clock, MAX_ATTEMPTS, Store, stats};

/// The longest idempotency key (Stripe's limit).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// What identifies a request for its key: a retry must match it to get the
/// recorded answer. A SHA-256 of the request's parts, so a recorded key
/// costs 32 bytes whatever the request's size.
pub type Fingerprint = [u8; 32];

/// The fingerprint of a request made of `parts` (each length-prefixed, so
/// no two different lists of parts hash alike by concatenation).
pub fn fingerprint(parts: &[&[u8]]) -> Fingerprint {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

/// Ok if `key` may be an idempotency key: 1 to 255 visible ASCII
/// characters (what an HTTP header carries unchanged; a UUID fits).
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(Error::InvalidArgument(format!(
            "an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters; this one has {}",
            key.len()
        )));
    }
    if let Some(c) = key.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(Error::InvalidArgument(format!(
            "an idempotency key is visible ASCII characters; {c:?} is not one"
        )));
    }
    Ok(())
}

/// A unit of work that may carry an idempotency key: an REST request or a
/// typed operation, with the recorded form of its answer.
pub(crate) trait Idempotent {
    type Answer;

    /// Runs it against `store` (a staging one).
    fn run<S: Storage, C: Clock>(&self, store: &mut Store<S, C>) -> Self::Answer;

    /// The answer as recorded; `None` for a refusal, which by the store's
    /// contract wrote nothing (its staged writes, if any, are dropped and
    /// it is answered unrecorded).
    fn encode(answer: &Self::Answer) -> Option<Vec<u8>>;

    /// A recorded answer, read back.
    fn decode(recorded: &[u8]) -> Result<Self::Answer>;
}

/// An answer, and whether it is a recorded one given again.
pub(crate) struct Answered<A> {
    pub answer: A,
    pub replayed: bool,
}

/// A recorded request: its fingerprint, when the key expires, its answer.
struct Recorded {
    fingerprint: Fingerprint,
    expires_at: u64,
    answer: Vec<u8>,
}

const RECORD_FORMAT: u8 = 1;
const RECORD_HEADER: usize = 1 + 32 + 8;

impl Recorded {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RECORD_HEADER + self.answer.len());
        out.push(RECORD_FORMAT);
        out.extend_from_slice(&self.fingerprint);
        out.extend_from_slice(&self.expires_at.to_le_bytes());
        out.extend_from_slice(&self.answer);
        out
    }

    fn decode(raw: &[u8]) -> Result<Self> {
        if raw.len() < RECORD_HEADER || raw[0] != RECORD_FORMAT {
            return Err(Error::Storage("corrupt idempotency record".into()));
        }
        Ok(Self {
            fingerprint: raw[1..33].try_into().expect("32 bytes"),
            expires_at: u64::from_le_bytes(raw[33..41].try_into().expect("8 bytes")),
            answer: raw[RECORD_HEADER..].to_vec(),
        })
    }
}

/// The storage key of an idempotency key's record.
fn record_key(ns: &str, key: &str) -> Vec<u8> {
    keys::tagged(ns, IDEMPOTENCY, &[key.as_bytes()])
}

/// What running a unit staged left: its answer, the commit it made (if it
/// wrote), and its statistics.
struct Staged<A> {
    answer: A,
    commit: Option<(Vec<Check>, Vec<Write>)>,
    tally: stats::Pending,
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Runs `unit` once per idempotency `key` of namespace `ns` (see the
    /// module's documentation). `key` must pass [`validate_key`].
    pub(crate) fn run_idempotent<I: Idempotent>(
        &mut self,
        ns: &str,
        key: &str,
        fingerprint: &Fingerprint,
        unit: &I,
    ) -> Result<Answered<I::Answer>> {
        let record_key = record_key(ns, key);
        for _ in 0..MAX_ATTEMPTS {
            let [recorded, namespace] = self
                .storage
                .get_array([record_key.clone(), keys::namespace_record(ns)])?;
            let now = self.clock.now_ms();
            if let Some(raw) = &recorded {
                let prior = Recorded::decode(raw)?;
                if prior.expires_at > now {
                    if prior.fingerprint != *fingerprint {
                        return Err(Error::IdempotencyKeyReused(format!(
                            "idempotency key {key:?} of namespace {ns:?} was used for another \
                             request; a key names one request until it expires"
                        )));
                    }
                    return Ok(Answered {
                        answer: I::decode(&prior.answer)?,
                        replayed: true,
                    });
                }
            }
            let window = match namespace.as_deref() {
                Some(raw) => Record::decode(raw)?.limits.idempotency_window_ms,
                None => DEFAULT_IDEMPOTENCY_WINDOW_MS,
            };
            let Staged {
                answer,
                commit,
                tally,
            } = self.stage(unit)?;
            let recorded_answer = commit.as_ref().and_then(|_| I::encode(&answer));
            let (Some((mut checks, mut writes)), Some(recorded_answer)) = (commit, recorded_answer)
            else {
                self.pending.merge(tally);
                return Ok(Answered {
                    answer,
                    replayed: false,
                });
            };
            let expires_at = now.saturating_add(window);
            checks.push(Check {
                key: record_key.clone(),
                expected: recorded,
            });
            writes.push(Write::Put(
                record_key.clone(),
                Recorded {
                    fingerprint: *fingerprint,
                    expires_at,
                    answer: recorded_answer,
                }
                .encode(),
            ));
            writes.push(Write::Put(
                keys::indexed(ns, IDEMPOTENCY_EXPIRY, expires_at, key.as_bytes()),
                Vec::new(),
            ));
            match self.storage.commit(checks, writes) {
                Ok(()) => {
                    self.pending.merge(tally);
                    return Ok(Answered {
                        answer,
                        replayed: false,
                    });
                }
                // Another writer got there first, perhaps a retry of this
                // very request: read the key again and run again.
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Storage(
            "too much contention on this idempotency key's writes; try again".into(),
        ))
    }

    /// Runs `unit` with its commits held back: on the batch's overlay, or,
    /// for a unit the overlay refuses (a range delete: clearing a
    /// namespace, purging dead letters), holding its one commit.
    fn stage<I: Idempotent>(&mut self, unit: &I) -> Result<Staged<I::Answer>> {
        let overlay = Overlay::new(&self.storage, 1);
        overlay.begin(0);
        let (answer, tally, seqs) = self.run_unit_on(&overlay, unit);
        if !overlay.refused() {
            let (checks, writes) = overlay.into_staging().commit_of(|_| true);
            (self.write_seq, self.event_seq) = seqs;
            return Ok(Staged {
                answer,
                commit: (!writes.is_empty()).then_some((checks, writes)),
                tally,
            });
        }
        let held = Held::new(&self.storage);
        let (answer, tally, seqs) = self.run_unit_on(&held, unit);
        if held.refused.get() {
            return Err(Error::InvalidArgument(
                "this request cannot carry an idempotency key: it writes more than once".into(),
            ));
        }
        (self.write_seq, self.event_seq) = seqs;
        Ok(Staged {
            answer,
            commit: held.commit.into_inner(),
            tally,
        })
    }

    /// Runs `unit` on a store over `staging` that continues this one's
    /// clock and sequences; its answer, statistics and sequences after.
    fn run_unit_on<T: Storage, I: Idempotent>(
        &self,
        staging: T,
        unit: &I,
    ) -> (I::Answer, stats::Pending, (u64, u32)) {
        let mut inner = Store::staging(
            staging,
            &self.clock,
            self.write_seq,
            self.event_seq,
            self.counts_in_commits,
        );
        let answer = unit.run(&mut inner);
        (answer, inner.pending, (inner.write_seq, inner.event_seq))
    }

    /// Removes idempotency keys whose window ended before `now`, examining
    /// at most `budget` of them. Returns (examined, whether more remain).
    pub(crate) fn sweep_idempotency_keys(
        &mut self,
        ns: &str,
        now: u64,
        budget: u32,
    ) -> Result<(u32, bool)> {
        let DueEntries {
            examined,
            more,
            parsed,
        } = self.due_index_entries(ns, IDEMPOTENCY_EXPIRY, now, budget)?;
        if examined == 0 {
            return Ok((0, more));
        }
        let record_keys: Vec<Vec<u8>> = parsed
            .iter()
            .map(|(_, key, _)| keys::tagged(ns, IDEMPOTENCY, &[key]))
            .collect();
        let raws = self.storage.get_each(&record_keys)?;
        let mut checks = Vec::new();
        let mut writes = Vec::new();
        for (((at, _, index_key), record_key), raw) in parsed.into_iter().zip(record_keys).zip(raws)
        {
            writes.push(Write::Delete(index_key));
            let expired = match raw.as_deref().map(Recorded::decode).transpose()? {
                Some(record) => record.expires_at == at && at <= now,
                None => false,
            };
            // A key recorded again since has a later index entry of its own.
            if expired {
                writes.push(Write::Delete(record_key.clone()));
                checks.push(Check {
                    key: record_key,
                    expected: raw,
                });
            }
        }
        match self.storage.commit(checks, writes) {
            Ok(()) => Ok((examined, more)),
            // A retry re-recorded one of them: the next tick gets the rest.
            Err(StorageError::Conflict) => Ok((examined, true)),
            Err(e) => Err(e.into()),
        }
    }
}

/// A storage that holds a unit's one commit instead of sending it; a read
/// or a commit after it is refused (it would need to see the held writes).
struct Held<S> {
    below: S,
    commit: RefCell<Option<(Vec<Check>, Vec<Write>)>>,
    refused: Cell<bool>,
}

impl<S: Storage> Held<S> {
    fn new(below: S) -> Self {
        Self {
            below,
            commit: RefCell::new(None),
            refused: Cell::new(false),
        }
    }

    /// Refuses what comes after the held commit.
    fn after_commit(&self) -> Result<(), StorageError> {
        if self.commit.borrow().is_some() {
            self.refused.set(true);
            return Err(StorageError::Other(
                "an operation after a write cannot carry an idempotency key".into(),
            ));
        }
        Ok(())
    }
}

impl<S: Storage> Storage for Held<S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.after_commit()?;
        self.below.get(key)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.after_commit()?;
        self.below.get_many(keys)
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        self.after_commit()?;
        self.below.scan(start, end, limit)
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        self.after_commit()?;
        *self.commit.borrow_mut() = Some((checks, writes));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(validate_key("3f2c9a1e-0b7d-4c1e-9d4a-1f2e3d4c5b6a").is_ok());
        assert!(validate_key(&"k".repeat(255)).is_ok());
        for bad in ["", " ", "a b", "é", "\n", &"k".repeat(256)] {
            assert!(
                matches!(validate_key(bad), Err(Error::InvalidArgument(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn fingerprints_differ_by_parts_not_by_concatenation() {
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert_eq!(fingerprint(&[b"a", b"b"]), fingerprint(&[b"a", b"b"]));
    }

    #[test]
    fn a_record_round_trips_and_refuses_garbage() {
        let record = Recorded {
            fingerprint: [7; 32],
            expires_at: 99,
            answer: b"answer".to_vec(),
        };
        let back = Recorded::decode(&record.encode()).unwrap();
        assert_eq!(
            (back.fingerprint, back.expires_at, back.answer),
            ([7; 32], 99, b"answer".to_vec())
        );
        assert!(Recorded::decode(b"\x01short").is_err());
        assert!(Recorded::decode(&[2; 41]).is_err());
    }
}
