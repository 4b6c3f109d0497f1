//! Event types and the patterns subscriptions match them with.
//!
//! A type is dot-separated segments of letters, digits, `-` and `_`
//! (`user.created`, `billing.invoice-paid`), at most 255 characters. A
//! pattern is a type whose segments may also be `*` (exactly one segment) or
//! `#` (any number of segments, including none), as in AMQP topic exchanges:
//! `user.*` matches `user.created` but not `user.profile.updated`;
//! `user.#` matches both and `user` itself; `#` matches everything.

use crate::error::{Error, Result};

const MAX_LEN: usize = 255;

fn check_segments(what: &str, text: &str, wildcards: bool) -> Result<()> {
    if text.is_empty() || text.len() > MAX_LEN {
        return Err(Error::InvalidArgument(format!(
            "{what} must be 1-{MAX_LEN} characters, got {}",
            text.len()
        )));
    }
    for segment in text.split('.') {
        let wildcard = wildcards && (segment == "*" || segment == "#");
        let plain = !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !(wildcard || plain) {
            let allowed = if wildcards {
                "letters, digits, '-', '_', or a whole '*' or '#'"
            } else {
                "letters, digits, '-' and '_'"
            };
            return Err(Error::InvalidArgument(format!(
                "{what} {text:?}: segment {segment:?} is not allowed; dot-separated segments of {allowed}"
            )));
        }
    }
    Ok(())
}

pub fn validate_event_type(event_type: &str) -> Result<()> {
    check_segments("event type", event_type, false)
}

pub fn validate_pattern(pattern: &str) -> Result<()> {
    check_segments("pattern", pattern, true)
}

/// Whether `event_type` matches `pattern` (both assumed valid).
pub fn matches(pattern: &str, event_type: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let t: Vec<&str> = event_type.split('.').collect();
    match_from(&p, &t)
}

/// One pass over the pattern, keeping which prefixes of the type it can
/// consume: O(segments of both). Trying every split for each `#` in turn
/// is exponential in the number of `#` (`#.#.#…#.x` never matching took
/// longer than any request may).
fn match_from(p: &[&str], t: &[&str]) -> bool {
    // consumed[j]: the pattern read so far can match exactly t[..j].
    let mut consumed = vec![false; t.len() + 1];
    consumed[0] = true;
    for &seg in p {
        let mut next = vec![false; t.len() + 1];
        if seg == "#" {
            let mut any = false;
            for (j, slot) in next.iter_mut().enumerate() {
                any |= consumed[j];
                *slot = any;
            }
        } else {
            for j in 1..=t.len() {
                next[j] = consumed[j - 1] && (seg == "*" || seg == t[j - 1]);
            }
        }
        consumed = next;
    }
    consumed[t.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_is_one_segment_and_hash_any_number() {
        assert!(matches("user.*", "user.created"));
        assert!(!matches("user.*", "user.profile.updated"));
        assert!(!matches("user.*", "user"));
        assert!(matches("user.#", "user"));
        assert!(matches("user.#", "user.profile.updated"));
        assert!(matches("#", "anything.at.all"));
        assert!(matches("*.created", "order.created"));
        assert!(!matches("order.created", "order.created.v2"));
        assert!(matches("#.v2", "order.created.v2"));
        assert!(matches("#.#", "a"));
        assert!(matches("#.#", "a.b.c"));
        assert!(matches("a.#.#.b", "a.b"));
        assert!(!matches("*.#.*", "a"));
    }

    #[test]
    fn many_hashes_that_do_not_match_answer_at_once() {
        let pattern = format!("{}b", "#.".repeat(126));
        let event_type = vec!["a"; 127].join(".");
        assert!(validate_pattern(&pattern).is_ok() && validate_event_type(&event_type).is_ok());
        assert!(!matches(&pattern, &event_type));
        assert!(matches(&pattern, &format!("{event_type}.b")));
    }

    #[test]
    fn types_and_patterns_are_validated() {
        assert!(validate_event_type("user.created").is_ok());
        assert!(validate_event_type("billing.invoice-paid_v2").is_ok());
        for bad in [
            "",
            "user.",
            ".user",
            "user..created",
            "user created",
            "user.*",
            "é",
        ] {
            assert!(validate_event_type(bad).is_err(), "{bad:?}");
        }
        assert!(validate_pattern("user.*").is_ok());
        assert!(validate_pattern("#").is_ok());
        assert!(validate_pattern("user.cr*").is_err());
        assert!(validate_event_type(&"a".repeat(256)).is_err());
    }
}
