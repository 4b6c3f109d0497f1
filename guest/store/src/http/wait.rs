//! Long polling over HTTP. The component never waits: an empty `receive`
//! with `wait_ms` is answered at once, with a header telling the host how
//! long it may hold the request and when to look again. The host waits for
//! a commit that wakes the namespace (or that time), asks again with the
//! same request, and strips the header before it answers. A host that does
//! not wait simply forwards the empty answer, which is still correct.

/// The response header carrying a [`WaitHint`].
pub const WAIT_HEADER: &str = "x-nexus-wait";

/// What a host needs to hold an empty receive open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitHint {
    /// Whose commits wake the request.
    pub namespace: String,
    /// Answer no later than this (ms since the epoch, on the store's clock).
    /// A host keeps the first hint's: each new ask computes a later one.
    pub deadline_ms: u64,
    /// Ask again at this time even if nothing wakes the namespace: a
    /// delayed message, a lease or a backoff ends then.
    pub next_visible_ms: Option<u64>,
}

impl WaitHint {
    /// The latest time the host should ask again.
    pub fn recheck_at(&self) -> u64 {
        self.next_visible_ms
            .map_or(self.deadline_ms, |at| at.min(self.deadline_ms))
    }

    /// `ns=app1; deadline=1700000005000; next=1700000001000` (`next` only
    /// when there is one). Namespace names need no quoting.
    pub fn header_value(&self) -> String {
        let mut value = format!("ns={}; deadline={}", self.namespace, self.deadline_ms);
        if let Some(at) = self.next_visible_ms {
            value.push_str(&format!("; next={at}"));
        }
        value
    }

    pub fn parse(value: &str) -> Option<Self> {
        let (mut namespace, mut deadline_ms, mut next_visible_ms) = (None, None, None);
        for part in value.split(';') {
            let (name, v) = part.trim().split_once('=')?;
            match name {
                "ns" => namespace = Some(v.to_string()),
                "deadline" => deadline_ms = Some(v.parse().ok()?),
                "next" => next_visible_ms = Some(v.parse().ok()?),
                _ => return None,
            }
        }
        Some(Self {
            namespace: namespace?,
            deadline_ms: deadline_ms?,
            next_visible_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_reads_back_as_written() {
        for next_visible_ms in [None, Some(5)] {
            let hint = WaitHint {
                namespace: "app-1_x".into(),
                deadline_ms: 1_700_000_005_000,
                next_visible_ms,
            };
            assert_eq!(WaitHint::parse(&hint.header_value()), Some(hint));
        }
        assert_eq!(WaitHint::parse("ns=a"), None);
        assert_eq!(WaitHint::parse("ns=a; deadline=x"), None);
    }

    #[test]
    fn the_recheck_is_the_earlier_of_deadline_and_next_visible() {
        let mut hint = WaitHint {
            namespace: "a".into(),
            deadline_ms: 100,
            next_visible_ms: None,
        };
        assert_eq!(hint.recheck_at(), 100);
        hint.next_visible_ms = Some(40);
        assert_eq!(hint.recheck_at(), 40);
        hint.next_visible_ms = Some(400);
        assert_eq!(hint.recheck_at(), 100);
    }
}
