//! Conversions between the WIT types and the logic's types, field for field.

use crate::bindings::exports::nexus::store::{kv, namespaces};
use crate::bindings::nexus::store::storage as wit;
use crate::bindings::nexus::store::types::Error as WitError;
use nexus_store::storage::Write;
use nexus_store::{EvictionPolicy, Limits, StorageError};

pub fn wit_error(e: nexus_store::Error) -> WitError {
    use nexus_store::Error as E;
    match e {
        E::InvalidNamespace(r) => WitError::InvalidNamespace(r),
        E::InvalidKey(r) => WitError::InvalidKey(r),
        E::KeyTooLarge(r) => WitError::KeyTooLarge(r),
        E::ValueTooLarge(r) => WitError::ValueTooLarge(r),
        E::InvalidArgument(r) => WitError::InvalidArgument(r),
        E::NotAnInteger(r) => WitError::NotAnInteger(r),
        E::InvalidMetadata(r) => WitError::InvalidMetadata(r),
        E::ConditionFailed(r) => WitError::ConditionFailed(r),
        E::QuotaExceeded(r) => WitError::QuotaExceeded(r),
        E::NotFound(r) => WitError::NotFound(r),
        E::Storage(r) => WitError::Storage(r),
    }
}

pub fn storage_error(e: wit::StorageError) -> StorageError {
    match e {
        wit::StorageError::Conflict => StorageError::Conflict,
        wit::StorageError::Unavailable(r) => StorageError::Unavailable(r),
        wit::StorageError::Other(r) => StorageError::Other(r),
    }
}

pub fn write(w: Write) -> wit::Write {
    match w {
        Write::Put(key, value) => wit::Write::Put(wit::Entry { key, value }),
        Write::Delete(key) => wit::Write::Delete(key),
        Write::DeleteRange(start, end) => wit::Write::DeleteRange((start, end)),
        Write::Add(key, delta) => wit::Write::Add((key, delta)),
        Write::Notify(namespace) => wit::Write::Notify(namespace),
    }
}

pub fn entry(e: nexus_store::Entry) -> kv::Entry {
    kv::Entry {
        value: e.value,
        version: e.version,
        expires_at: e.expires_at,
    }
}

pub fn list_page(p: nexus_store::ListPage) -> kv::ListPage {
    kv::ListPage {
        keys: p
            .keys
            .into_iter()
            .map(|k| kv::KeyInfo {
                key: k.key,
                version: k.version,
                expires_at: k.expires_at,
                value_len: k.value_len,
            })
            .collect(),
        next_cursor: p.next_cursor,
    }
}

pub fn condition(c: kv::Condition) -> nexus_store::Condition {
    match c {
        kv::Condition::Absent(k) => nexus_store::Condition::Absent(k),
        kv::Condition::Present(k) => nexus_store::Condition::Present(k),
        kv::Condition::VersionIs((k, v)) => nexus_store::Condition::VersionIs(k, v),
    }
}

pub fn op(o: kv::Op) -> nexus_store::Op {
    match o {
        kv::Op::Set(s) => nexus_store::Op::Set {
            key: s.key,
            value: s.value,
            ttl_ms: s.ttl_ms,
        },
        kv::Op::Delete(k) => nexus_store::Op::Delete(k),
    }
}

pub fn from_limits(l: Limits) -> namespaces::Limits {
    namespaces::Limits {
        max_keys: l.max_keys,
        max_key_bytes: l.max_key_bytes,
        max_value_bytes: l.max_value_bytes,
        policy: match l.policy {
            EvictionPolicy::Reject => namespaces::EvictionPolicy::Reject,
            EvictionPolicy::EvictLru => namespaces::EvictionPolicy::EvictLru,
        },
    }
}

pub fn into_limits(l: namespaces::Limits) -> Limits {
    Limits {
        max_keys: l.max_keys,
        max_key_bytes: l.max_key_bytes,
        max_value_bytes: l.max_value_bytes,
        policy: match l.policy {
            namespaces::EvictionPolicy::Reject => EvictionPolicy::Reject,
            namespaces::EvictionPolicy::EvictLru => EvictionPolicy::EvictLru,
        },
    }
}

pub fn namespace_info(i: nexus_store::NamespaceInfo) -> namespaces::NamespaceInfo {
    namespaces::NamespaceInfo {
        name: i.name,
        created_at: i.created_at,
        metadata: i.metadata,
        key_count: i.key_count,
        limits: from_limits(i.limits),
    }
}

pub fn stats(s: nexus_store::Stats) -> namespaces::NamespaceStats {
    namespaces::NamespaceStats {
        hits: s.hits,
        misses: s.misses,
        sets: s.sets,
        deletes: s.deletes,
        expirations: s.expirations,
        evictions: s.evictions,
        total_keys: s.total_keys,
    }
}
