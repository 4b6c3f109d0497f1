//! Ticks for hosts with no long-lived process to run a ticker: an edge
//! runtime that makes a fresh instance per request, a browser tab that may
//! sleep. Such a host calls [`Store::tick_if_due`] on every request; the time
//! of the last tick (and where its sweep stopped) lives in storage, in the
//! reserved area outside every namespace, so all the instances sharing one
//! storage agree on whether a tick is due, and only one of them runs it.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::events::{decode, encode};
use crate::keys;
use crate::storage::{Check, Storage, StorageError, Write};
use crate::sweep::TickReport;
use crate::{Clock, Store};

/// What every instance of one storage knows about its ticks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct TickState {
    /// When the first tick was claimed: as close as a per-request host gets
    /// to "when the server started" (`uptime_seconds` in `/stats`).
    first_at: u64,
    /// When the last tick was claimed.
    last_at: u64,
    /// The namespace where the last sweep stopped, so the next one continues
    /// from there although it runs in another instance.
    sweep_cursor: Option<String>,
}

/// What [`Store::tick_if_due`] found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PiggybackTick {
    /// When this storage was first ticked (now, if this call was the first).
    pub first_tick_at: u64,
    /// The tick this call ran; none when the last one is recent or another
    /// instance claimed this one first.
    pub ran: Option<TickReport>,
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Runs [`Store::tick`] with `budget` if no instance of this storage has
    /// ticked in the last `every_ms`. Claiming the tick is a commit checked
    /// against the stored state, so of the instances that find it due at the
    /// same moment exactly one ticks; the others go on at the cost of one read.
    pub fn tick_if_due(&mut self, every_ms: u64, budget: u32) -> Result<PiggybackTick> {
        let key = keys::tick_state();
        let raw = self.storage.get(&key)?;
        let mut state: TickState = match raw.as_deref() {
            Some(bytes) => decode(bytes, "tick state")?,
            None => TickState::default(),
        };
        let now = self.clock.now_ms();
        if raw.is_some() && now < state.last_at.saturating_add(every_ms) {
            return Ok(PiggybackTick {
                first_tick_at: state.first_at,
                ran: None,
            });
        }
        if raw.is_none() {
            state.first_at = now;
        }
        state.last_at = now;
        let claimed = encode(&state);
        let claim = Check {
            key: key.clone(),
            expected: raw,
        };
        match self
            .storage
            .commit(vec![claim], vec![Write::Put(key.clone(), claimed.clone())])
        {
            Ok(()) => {}
            // Another instance ticks now.
            Err(StorageError::Conflict) => {
                return Ok(PiggybackTick {
                    first_tick_at: state.first_at,
                    ran: None,
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.sweep_cursor = state.sweep_cursor.clone();
        let report = self.tick(budget)?;
        if self.sweep_cursor != state.sweep_cursor {
            state.sweep_cursor = self.sweep_cursor.clone();
            let since_claim = Check {
                key: key.clone(),
                expected: Some(claimed),
            };
            // Losing this race only means the next sweep starts a little
            // earlier than it could: nothing to retry.
            match self
                .storage
                .commit(vec![since_claim], vec![Write::Put(key, encode(&state))])
            {
                Ok(()) | Err(StorageError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(PiggybackTick {
            first_tick_at: state.first_at,
            ran: Some(report),
        })
    }
}
