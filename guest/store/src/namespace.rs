//! Namespace names, limits and the namespace record.

use crate::error::{Error, Result};

pub const DEFAULT_NAMESPACE: &str = "default";
pub const MAX_NAME_LEN: usize = 64;
/// Names no tenant may take (compared ignoring ASCII case): they are used by
/// the event system this store follows.
pub const RESERVED_NAMES: [&str; 2] = ["core", "pgmq"];

/// Largest key any namespace may allow.
pub const MAX_KEY_BYTES_CAP: u32 = 64 * 1024;
/// Largest value any namespace may allow.
pub const MAX_VALUE_BYTES_CAP: u32 = 32 * 1024 * 1024;
pub const DEFAULT_MAX_KEY_BYTES: u32 = 4 * 1024;
pub const DEFAULT_MAX_VALUE_BYTES: u32 = 1024 * 1024;
/// How long an idempotency key's answer is kept by default: a day, as
/// Stripe keeps its keys, long enough for any client's retries.
pub const DEFAULT_IDEMPOTENCY_WINDOW_MS: u64 = 24 * 60 * 60 * 1000;
/// The longest a namespace may keep idempotency keys (30 days).
pub const MAX_IDEMPOTENCY_WINDOW_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// Ok if `name` is a valid namespace name; otherwise says which rule it breaks.
pub fn validate(name: &str) -> Result<()> {
    let bad = |why: String| Err(Error::InvalidNamespace(why));
    if name.is_empty() {
        return bad("name is empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return bad(format!(
            "name is {} characters long; at most {MAX_NAME_LEN} are allowed",
            name.len()
        ));
    }
    // Bytes, not chars: every allowed character is one byte, and a name is
    // checked on every call (a point read's share is measurable).
    if let Some(at) = name
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        let c = name[at..].chars().next().unwrap_or_default();
        return bad(format!(
            "{c:?} is not allowed; use ASCII letters, digits, '-' and '_'"
        ));
    }
    if name.starts_with('_') {
        return bad(format!("{name:?} starts with '_', which is reserved"));
    }
    if RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return bad(format!("{name:?} is a reserved name"));
    }
    Ok(())
}

/// Turns any string into a valid name: every character other than an ASCII
/// letter, digit, '-' or '_' becomes '_', leading '_' are dropped, the result
/// is cut to 64 characters, a reserved name gets the suffix `-ns`, and
/// nothing left at all gives `default`. Valid names are returned unchanged.
pub fn sanitize(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut out: String = mapped
        .trim_start_matches('_')
        .chars()
        .take(MAX_NAME_LEN)
        .collect();
    if out.is_empty() {
        return DEFAULT_NAMESPACE.to_string();
    }
    if RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(&out)) {
        out.push_str("-ns");
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvictionPolicy {
    #[default]
    Reject,
    EvictLru,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_keys: Option<u64>,
    pub max_key_bytes: u32,
    pub max_value_bytes: u32,
    pub policy: EvictionPolicy,
    /// How long the answer to a request with an idempotency key is kept:
    /// a retry with the key within this window gets it again
    /// (`crate::idempotency`).
    pub idempotency_window_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_keys: None,
            max_key_bytes: DEFAULT_MAX_KEY_BYTES,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            policy: EvictionPolicy::Reject,
            idempotency_window_ms: DEFAULT_IDEMPOTENCY_WINDOW_MS,
        }
    }
}

impl Limits {
    pub fn validate(&self) -> Result<()> {
        let bad = |why: String| Err(Error::InvalidArgument(why));
        if self.max_keys == Some(0) {
            return bad("max-keys must be at least 1".into());
        }
        if !(1..=MAX_KEY_BYTES_CAP).contains(&self.max_key_bytes) {
            return bad(format!("max-key-bytes must be 1..={MAX_KEY_BYTES_CAP}"));
        }
        // 0 is refused rather than read as "no limit" (as some stores do) or
        // as "empty values only", which nobody means.
        if !(1..=MAX_VALUE_BYTES_CAP).contains(&self.max_value_bytes) {
            return bad(format!("max-value-bytes must be 1..={MAX_VALUE_BYTES_CAP}"));
        }
        if !(1..=MAX_IDEMPOTENCY_WINDOW_MS).contains(&self.idempotency_window_ms) {
            return bad(format!(
                "idempotency-window-ms must be 1..={MAX_IDEMPOTENCY_WINDOW_MS} (30 days)"
            ));
        }
        Ok(())
    }

    /// For a key being written; reads and deletes check only `check_key_len`
    /// against the cap, so lowering the limit strands no key.
    pub fn check_key(&self, key: &[u8]) -> Result<()> {
        check_key_len(key, MAX_KEY_BYTES_CAP)?;
        if key.len() > self.max_key_bytes as usize {
            return Err(Error::KeyTooLarge(format!(
                "key is {} bytes; this namespace allows {}",
                key.len(),
                self.max_key_bytes
            )));
        }
        Ok(())
    }

    pub fn check_value(&self, value: &[u8]) -> Result<()> {
        if value.len() > self.max_value_bytes as usize {
            return Err(Error::ValueTooLarge(format!(
                "value is {} bytes; this namespace allows {}",
                value.len(),
                self.max_value_bytes
            )));
        }
        Ok(())
    }
}

pub(crate) fn check_key_len(key: &[u8], max: u32) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidKey("key is empty".into()));
    }
    if key.len() > max as usize {
        return Err(Error::InvalidKey(format!(
            "key is {} bytes; at most {max} are allowed",
            key.len()
        )));
    }
    Ok(())
}

/// Whether changes to a namespace's keys become events (`kv.set`,
/// `kv.deleted`, …) in its queues, written in the commit of the change.
/// Off by default: a namespace that nobody watches pays nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyEvents {
    pub enabled: bool,
    /// The events of `kv.set` carry the value written (up to
    /// [`crate::MAX_KEY_EVENT_VALUE_BYTES`]; larger ones are left out and
    /// flagged).
    pub include_values: bool,
}

/// What the registry stores for a namespace. Read on every write, so it is a
/// fixed binary header (no parsing) followed by the metadata JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub created_at: u64,
    pub limits: Limits,
    pub key_events: KeyEvents,
    pub metadata: String,
}

/// Format 1 (26-byte header) had no key-events byte, format 2 (27 bytes)
/// no idempotency window; records written in them are read as having key
/// events off and the default window, and rewritten in format 3 by the
/// next change to the record.
const RECORD_FORMAT: u8 = 3;
const RECORD_HEADER: usize = 35;
const RECORD_HEADER_V2: usize = 27;
const RECORD_HEADER_V1: usize = 26;
const KEY_EVENTS_ON: u8 = 1;
const KEY_EVENTS_WITH_VALUES: u8 = 2;

impl Record {
    pub fn new(created_at: u64) -> Self {
        Self {
            created_at,
            limits: Limits::default(),
            key_events: KeyEvents::default(),
            metadata: "{}".into(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RECORD_HEADER + self.metadata.len());
        out.push(RECORD_FORMAT);
        out.extend_from_slice(&self.created_at.to_le_bytes());
        out.extend_from_slice(&self.limits.max_keys.unwrap_or(u64::MAX).to_le_bytes());
        out.extend_from_slice(&self.limits.max_key_bytes.to_le_bytes());
        out.extend_from_slice(&self.limits.max_value_bytes.to_le_bytes());
        out.push(match self.limits.policy {
            EvictionPolicy::Reject => 0,
            EvictionPolicy::EvictLru => 1,
        });
        let mut flags = 0;
        if self.key_events.enabled {
            flags |= KEY_EVENTS_ON;
        }
        if self.key_events.include_values {
            flags |= KEY_EVENTS_WITH_VALUES;
        }
        out.push(flags);
        out.extend_from_slice(&self.limits.idempotency_window_ms.to_le_bytes());
        out.extend_from_slice(self.metadata.as_bytes());
        out
    }

    pub fn decode(raw: &[u8]) -> Result<Self> {
        let corrupt = || Error::Storage("corrupt namespace record".into());
        let header = match raw.first() {
            Some(1) => RECORD_HEADER_V1,
            Some(2) => RECORD_HEADER_V2,
            Some(&RECORD_FORMAT) => RECORD_HEADER,
            _ => return Err(corrupt()),
        };
        if raw.len() < header {
            return Err(corrupt());
        }
        let flags = if header > RECORD_HEADER_V1 {
            raw[26]
        } else {
            0
        };
        if flags & !(KEY_EVENTS_ON | KEY_EVENTS_WITH_VALUES) != 0 {
            return Err(corrupt());
        }
        let u64_at = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().expect("8 bytes"));
        let u32_at = |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().expect("4 bytes"));
        let max_keys = u64_at(9);
        let idempotency_window_ms = match header {
            RECORD_HEADER => u64_at(27),
            _ => DEFAULT_IDEMPOTENCY_WINDOW_MS,
        };
        Ok(Self {
            created_at: u64_at(1),
            limits: Limits {
                max_keys: (max_keys != u64::MAX).then_some(max_keys),
                max_key_bytes: u32_at(17),
                max_value_bytes: u32_at(21),
                policy: match raw[25] {
                    0 => EvictionPolicy::Reject,
                    1 => EvictionPolicy::EvictLru,
                    _ => return Err(corrupt()),
                },
                idempotency_window_ms,
            },
            key_events: KeyEvents {
                enabled: flags & KEY_EVENTS_ON != 0,
                include_values: flags & KEY_EVENTS_WITH_VALUES != 0,
            },
            metadata: String::from_utf8(raw[header..].to_vec()).map_err(|_| corrupt())?,
        })
    }
}

/// Parses metadata, which must be a JSON object, into its compact form.
pub(crate) fn normalize_metadata(json: &str) -> Result<String> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::InvalidMetadata(format!("not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::InvalidMetadata(
            "metadata must be a JSON object".into(),
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_pass() {
        for name in ["default", "app1", "A-b_c", "x", &"a".repeat(64)] {
            assert_eq!(validate(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn each_rule_is_reported() {
        let reason = |n: &str| match validate(n) {
            Err(Error::InvalidNamespace(r)) => r,
            other => panic!("{n}: {other:?}"),
        };
        assert!(reason("").contains("empty"));
        assert!(reason(&"a".repeat(65)).contains("at most 64"));
        assert!(reason("a b").contains("not allowed"));
        assert!(reason("app:1").contains("not allowed"));
        assert!(reason("é").contains("not allowed"));
        // The first character that breaks the rule, whole, after valid ones.
        assert!(reason("cafés").starts_with("'é' is not allowed"));
        assert!(reason("ab☕").starts_with("'☕' is not allowed"));
        assert!(reason("_system").contains("reserved"));
        assert!(reason("core").contains("reserved"));
        assert!(reason("PGMQ").contains("reserved"));
    }

    #[test]
    fn sanitize_always_gives_a_valid_name() {
        for raw in [
            "",
            "_",
            "__x",
            "a b/c",
            "core",
            "ünïcode",
            &"z".repeat(100),
            "ok-name",
        ] {
            let clean = sanitize(raw);
            assert_eq!(validate(&clean), Ok(()), "{raw:?} -> {clean:?}");
        }
        assert_eq!(sanitize("ok-name"), "ok-name");
        assert_eq!(sanitize("my app!"), "my_app_");
        assert_eq!(sanitize("__x"), "x");
        assert_eq!(sanitize(""), "default");
        assert_eq!(sanitize("core"), "core-ns");
    }

    #[test]
    fn record_round_trips() {
        let mut r = Record::new(42);
        r.limits.max_keys = Some(10);
        r.limits.policy = EvictionPolicy::EvictLru;
        r.metadata = r#"{"a":1}"#.into();
        r.key_events = KeyEvents {
            enabled: true,
            include_values: true,
        };
        r.limits.idempotency_window_ms = 60_000;
        assert_eq!(Record::decode(&r.encode()).unwrap(), r);
        assert_eq!(
            Record::decode(&Record::new(1).encode()).unwrap(),
            Record::new(1)
        );
    }

    #[test]
    fn a_record_of_the_first_format_reads_with_key_events_off() {
        let mut r = Record::new(42);
        r.limits.max_keys = Some(10);
        r.metadata = r#"{"a":1}"#.into();
        let mut v1 = r.encode();
        v1[0] = 1;
        v1.drain(26..RECORD_HEADER);
        assert_eq!(Record::decode(&v1).unwrap(), r);
        let mut bad = r.encode();
        bad[26] = 4;
        assert!(Record::decode(&bad).is_err());
    }

    #[test]
    fn a_record_of_the_second_format_reads_with_the_default_window() {
        let mut r = Record::new(42);
        r.key_events.enabled = true;
        r.metadata = r#"{"a":1}"#.into();
        let mut v2 = r.encode();
        v2[0] = 2;
        v2.drain(RECORD_HEADER_V2..RECORD_HEADER);
        assert_eq!(Record::decode(&v2).unwrap(), r);
        assert_eq!(
            r.limits.idempotency_window_ms,
            DEFAULT_IDEMPOTENCY_WINDOW_MS
        );
    }

    #[test]
    fn metadata_must_be_an_object() {
        assert_eq!(normalize_metadata(r#"{ "a" : 1 }"#).unwrap(), r#"{"a":1}"#);
        assert!(matches!(
            normalize_metadata("[1]"),
            Err(Error::InvalidMetadata(_))
        ));
        assert!(matches!(
            normalize_metadata("{oops"),
            Err(Error::InvalidMetadata(_))
        ));
    }
}
