//! The `kv` export, and its `namespace-handle` resource: a namespace named
//! once, for callers that pay for every string they pass (a page through
//! jco). A handle's method and the function of the same name are one call
//! of the store (the functions at the bottom of this file), so they answer
//! alike.

use crate::bindings::exports::nexus::store::kv::{
    self as wit, Condition, Entry, Error, ListOptions, ListPage, Op, SetOptions, Watched,
};
use crate::{Component, with_store};

impl wit::Guest for Component {
    type NamespaceHandle = NamespaceHandle;

    fn set(ns: String, key: Vec<u8>, value: Vec<u8>, options: SetOptions) -> Result<u64, Error> {
        set(&ns, &key, &value, options)
    }

    fn get(ns: String, key: Vec<u8>) -> Result<Option<Entry>, Error> {
        get(&ns, &key)
    }

    fn delete(ns: String, key: Vec<u8>) -> Result<bool, Error> {
        delete(&ns, &key)
    }

    fn exists(ns: String, key: Vec<u8>) -> Result<bool, Error> {
        with_store(|s| s.exists(&ns, &key))
    }

    fn get_many(ns: String, keys: Vec<Vec<u8>>) -> Result<Vec<Option<Entry>>, Error> {
        get_many(&ns, &keys)
    }

    fn watch(ns: String, keys: Vec<Vec<u8>>) -> Result<Watched, Error> {
        with_store(|s| s.watch(&ns, &keys)).map(Into::into)
    }

    fn set_many(
        ns: String,
        items: Vec<(Vec<u8>, Vec<u8>)>,
        ttl_ms: Option<u64>,
    ) -> Result<Vec<u64>, Error> {
        with_store(|s| s.set_many(&ns, &items, ttl_ms))
    }

    fn delete_many(ns: String, keys: Vec<Vec<u8>>) -> Result<u32, Error> {
        with_store(|s| s.delete_many(&ns, &keys))
    }

    fn increment(ns: String, key: Vec<u8>, delta: i64) -> Result<i64, Error> {
        with_store(|s| s.increment(&ns, &key, delta))
    }

    fn list(ns: String, options: ListOptions) -> Result<ListPage, Error> {
        with_store(|s| s.list(&ns, &options.into())).map(Into::into)
    }

    fn transaction(
        ns: String,
        conditions: Vec<Condition>,
        ops: Vec<Op>,
    ) -> Result<Vec<Option<u64>>, Error> {
        let conditions: Vec<_> = conditions.into_iter().map(Into::into).collect();
        let ops: Vec<_> = ops.into_iter().map(Into::into).collect();
        with_store(|s| s.transaction(&ns, &conditions, &ops))
    }
}

/// A checked namespace name. The store checks the name again on each call
/// (cheaply), so a handle is never a way around a rule.
pub struct NamespaceHandle {
    name: String,
}

impl wit::GuestNamespaceHandle for NamespaceHandle {
    fn open(ns: String) -> Result<wit::NamespaceHandle, Error> {
        nexus_store::namespace::validate(&ns)?;
        Ok(wit::NamespaceHandle::new(NamespaceHandle { name: ns }))
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn get(&self, key: Vec<u8>) -> Result<Option<Entry>, Error> {
        get(&self.name, &key)
    }

    fn get_many(&self, keys: Vec<Vec<u8>>) -> Result<Vec<Option<Entry>>, Error> {
        get_many(&self.name, &keys)
    }

    fn set(&self, key: Vec<u8>, value: Vec<u8>, options: SetOptions) -> Result<u64, Error> {
        set(&self.name, &key, &value, options)
    }

    fn delete(&self, key: Vec<u8>) -> Result<bool, Error> {
        delete(&self.name, &key)
    }
}

fn get(ns: &str, key: &[u8]) -> Result<Option<Entry>, Error> {
    with_store(|s| s.get(ns, key)).map(|e| e.map(Into::into))
}

fn get_many(ns: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Entry>>, Error> {
    with_store(|s| s.get_many(ns, keys)).map(|v| v.into_iter().map(|e| e.map(Into::into)).collect())
}

fn set(ns: &str, key: &[u8], value: &[u8], options: SetOptions) -> Result<u64, Error> {
    with_store(|s| s.set(ns, key, value, &options.into()))
}

fn delete(ns: &str, key: &[u8]) -> Result<bool, Error> {
    with_store(|s| s.delete(ns, key))
}
