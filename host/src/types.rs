//! The key-value and namespace types of the Rust API: nexus-store's own
//! (the events and tokens types are in [`crate::events`] and
//! [`crate::tokens`]), so a program that also runs the store logic natively
//! uses the same ones.

pub use nexus_store::{
    Condition, Entry, EvictionPolicy, KeyEvents, KeyInfo, Limits, ListOptions, ListPage,
    NamespaceInfo, Op, SetOptions, Stats, TickReport, Watched,
};
