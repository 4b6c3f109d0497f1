//! The wasmtime host for the nexus store component.
//!
//! The store's logic lives in a WebAssembly component (built from
//! `guest/component` and embedded in this crate). This crate gives it
//! storage ([`backend`]) and time ([`clock`]), runs it in a pool of
//! instances and wraps it in a typed, thread-safe Rust API
//! ([`Nexus`], [`Namespace`]) for key-value and [`events`] alike. The
//! REST API is the guest's too ([`Nexus::handle_http`]); [`serve`] puts it
//! behind an HTTP server. The `nexus` binary is a CLI over all of it.
//!
//! ```no_run
//! let nexus = nexus_host::Nexus::open("./nexus-data")?;
//! let users = nexus.namespace("app1")?;
//! users.set("user:1", "ada")?;
//! assert_eq!(users.get_value("user:1")?.as_deref(), Some(&b"ada"[..]));
//! # Ok::<(), nexus_host::Error>(())
//! ```
//!
//! To start: [`Nexus::open`] (the durable file store), [`Nexus::memory`],
//! or [`Nexus::builder`] for PostgreSQL ([`NexusBuilder::postgres`]), a
//! manual clock in tests ([`clock::ManualClock`]) and call budgets; then
//! [`Nexus::namespace`] for key-value ([`types`]) and events ([`events`]),
//! [`Nexus::start_ticker`] for TTL sweeps and cron tasks, [`node`] for a
//! worker that consumes events, [`serve::serve`] for the REST API over
//! HTTP. The repository's `docs/rust-api.md` walks through each.

pub mod backend;
pub mod backup;
pub mod batch;
mod bindings;
pub mod clock;
mod error;
pub mod events;
pub mod http;
mod nexus;
pub mod node;
mod runtime;
pub mod serve;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing;
mod ticker;
pub mod tokens;
pub mod types;
pub mod wait;
pub mod watch;

pub use error::{Error, StoreError};
pub use nexus::{Namespace, Nexus, NexusBuilder};
pub use node::{Node, NodeBuilder, PollReport, RunningNode};
pub use runtime::guest_imports;
pub use ticker::Ticker;
pub use watch::Watch;
