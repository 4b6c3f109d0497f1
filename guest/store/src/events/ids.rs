//! Message and node ids: the emission time in ms (12 hex digits) followed by
//! a per-instance sequence (8 hex digits). Ids sort by emission time; two
//! instances that pick the same id in the same millisecond are caught by the
//! emit commit's check that the log entry is absent, and the loser retries
//! with the next sequence number.

use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::{Clock, Store};

pub(crate) const ID_LEN: usize = 20;

pub(crate) fn make(now: u64, seq: u32) -> String {
    format!("{:012x}{seq:08x}", now & 0xFFFF_FFFF_FFFF)
}

/// The emission time of a well-formed id.
pub(crate) fn time_of(id: &str) -> Option<u64> {
    u64::from_str_radix(id.get(..12)?, 16).ok()
}

/// Rejects anything that cannot be an id: such an id names no message.
pub(crate) fn check(id: &str) -> Result<()> {
    if id.len() == ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "no message {id:?}: message ids are {ID_LEN} lowercase hex digits"
        )))
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// A fresh id for a message, a node or a task.
    pub(crate) fn next_message_id(&mut self, now: u64) -> String {
        self.event_seq = self.event_seq.wrapping_add(1);
        make(now, self.event_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_round_trip() {
        let a = make(1_700_000_000_000, 0xFFFF_FFFF);
        let b = make(1_700_000_000_001, 0);
        assert!(a < b);
        assert_eq!(a.len(), ID_LEN);
        assert_eq!(time_of(&b), Some(1_700_000_000_001));
        assert!(check(&a).is_ok());
        assert!(check("nope").is_err());
        assert!(check(&a.to_uppercase()).is_err());
    }
}
