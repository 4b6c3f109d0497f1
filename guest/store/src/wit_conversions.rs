//! The one mapping between the WIT types (`wit/`) and this crate's types.
//!
//! Both sides of the component boundary need it: the component
//! (`guest/component`, wit-bindgen) turns the store's answers into WIT
//! records, and the wasmtime host (`host/`, `wasmtime::component::bindgen!`)
//! turns them back into this crate's types for its Rust API. The two
//! generators make two distinct sets of Rust types from the same WIT, so
//! the conversions cannot be plain functions here; they are written once, as
//! [`wit_conversions!`], and each side expands it over its own bindings.

/// Expands `From` conversions, in both directions, between every WIT type
/// of the `nexus:store` world and the `nexus_store` type it mirrors.
///
/// Expand it in a module where the generated interface modules are in
/// scope under their WIT names: `types`, `storage`, `kv`, `namespaces`,
/// `maintenance`, `events`, `tokens`, `batch` and `http_api`:
///
/// ```ignore
/// mod convert {
///     use crate::bindings::exports::nexus::store::{
///         batch, events, http_api, kv, maintenance, namespaces, tokens,
///     };
///     use crate::bindings::nexus::store::{storage, types};
///     nexus_store::wit_conversions!();
/// }
/// ```
///
/// A record whose fields match one for one is listed with its fields (a
/// field of another mapped type says how it converts: `into`, `list` or
/// `option`, or `options` for a list of options);
/// the few whose shapes differ are written out below the lists.
#[macro_export]
macro_rules! wit_conversions {
    () => {
        $crate::__wit_records! {
            storage::Check = $crate::storage::Check { key, expected };
            kv::SetOptions = $crate::SetOptions { ttl_ms, only_if_absent, only_if_version };
            kv::Entry = $crate::Entry { value, version, expires_at };
            kv::ListOptions = $crate::ListOptions { prefix, cursor, limit };
            kv::KeyInfo = $crate::KeyInfo { key, version, expires_at, value_len };
            kv::ListPage = $crate::ListPage { keys: list, next_cursor };
            kv::Watched = $crate::Watched { entries: options, next_expiry };
            namespaces::Limits = $crate::Limits {
                max_keys, max_key_bytes, max_value_bytes, policy: into,
                idempotency_window_ms
            };
            namespaces::KeyEvents = $crate::KeyEvents { enabled, include_values };
            namespaces::NamespaceInfo = $crate::NamespaceInfo {
                name, created_at, metadata, key_count, limits: into
            };
            namespaces::NamespaceStats = $crate::Stats {
                hits, misses, sets, deletes, expirations, evictions, total_keys
            };
            maintenance::TickReport = $crate::TickReport {
                expired_keys, tasks_fired, log_entries_removed, more
            };
            events::Envelope = $crate::events::Envelope {
                message_id, namespace, event_type, payload, emitted_at, producer_node_id,
                redelivery_count, scheduled_task_id, replay_of, broadcast
            };
            events::EmitOptions = $crate::events::EmitOptions {
                delay_ms, producer_node_id, broadcast
            };
            events::EventDraft = $crate::events::EventDraft { event_type, payload, options: into };
            events::ReceiveRequest = $crate::events::ReceiveRequest {
                group, consumer, max, visibility_timeout_ms, wait_ms
            };
            events::Delivery = $crate::events::Delivery {
                envelope: into, group, consumer, visible_until, attempt
            };
            events::DeadLetter = $crate::events::DeadLetter {
                id, original_event: into, reason, failed_at, error, group
            };
            events::DeadLetterPage = $crate::events::DeadLetterPage { letters: list, next };
            events::LogQuery = $crate::events::LogQuery {
                event_type, since, until, after_id, limit
            };
            events::LogPage = $crate::events::LogPage { events: list, next };
            events::NodeRegistration = $crate::events::NodeRegistration {
                display_name, description, metadata, subscriptions
            };
            events::Node = $crate::events::Node {
                node_id, display_name, description, metadata, subscriptions, registered_at,
                last_heartbeat, live
            };
            events::Subscription = $crate::events::Subscription { name, patterns, created_at };
            events::TaskSpec = $crate::events::TaskSpec {
                name, cron, timezone, event_type, payload
            };
            events::Task = $crate::events::Task {
                task_id, name, cron, timezone, event_type, payload, active, created_at,
                next_run_at, last_run_at, run_count
            };
            events::Metrics = $crate::events::Metrics {
                queue_depth, in_flight, dlq_depth, oldest_message_age_ms,
                newest_message_age_ms, emitted, acked, nacked, dead_lettered
            };
            events::EventsConfig = $crate::events::EventsConfig {
                max_attempts, base_delay_ms, max_delay_ms, node_stale_after_ms,
                log_retention_ms
            };
            tokens::TokenSpec = $crate::access::TokenSpec {
                name, namespaces, scope: into, expires_in_ms
            };
            tokens::TokenInfo = $crate::access::TokenInfo {
                name, namespaces, scope: into, created_at, expires_at, last_used_at
            };
            tokens::CreatedToken = $crate::access::CreatedToken { info: into, secret };
            batch::KeyIn = $crate::batch::KeyIn { ns, key };
            batch::SetIn = $crate::batch::SetIn { ns, key, value, options: into };
            batch::IncrementIn = $crate::batch::IncrementIn { ns, key, delta };
            batch::EmitIn = $crate::batch::EmitIn { ns, draft: into };
            batch::ReceiveIn = $crate::batch::ReceiveIn { ns, request: into };
            batch::AckIn = $crate::batch::AckIn { ns, group, consumer, message_id };
            batch::NackIn = $crate::batch::NackIn {
                ns, group, consumer, message_id, reason, error
            };
            batch::NodeIn = $crate::batch::NodeIn { ns, node_id };
            http_api::AccessPolicy = $crate::http::AccessPolicy {
                open_without_tokens, public_stats
            };
            http_api::Request = $crate::http::Request {
                method, path, query, headers, body, started_at_ms, access: into
            };
            http_api::Response = $crate::http::Response { status, headers, body };
        }

        $crate::__wit_variants! {
            types::Error = $crate::Error {
                InvalidNamespace(reason), InvalidKey(reason), KeyTooLarge(reason),
                ValueTooLarge(reason), InvalidArgument(reason), NotAnInteger(reason),
                InvalidMetadata(reason), ConditionFailed(reason), QuotaExceeded(reason),
                NotFound(reason), Storage(reason), OutcomeUnknown(reason),
                IdempotencyKeyReused(reason)
            };
            storage::StorageError = $crate::StorageError {
                Conflict, Unavailable(reason), Other(reason), OutcomeUnknown(reason)
            };
            namespaces::EvictionPolicy = $crate::EvictionPolicy { Reject, EvictLru };
            tokens::Scope = $crate::access::Scope { Read, Write, Admin };
            batch::Operation = $crate::batch::Operation {
                Get(k: into), Set(s: into), Delete(k: into), Increment(i: into),
                Emit(e: into), Receive(r: into), Ack(a: into), Nack(n: into),
                DeadLetter(n: into), Heartbeat(h: into)
            };
            batch::Outcome = $crate::batch::Outcome {
                Entry(e: option), Version(v), Existed(b), Value(n), MessageId(id),
                Deliveries(d: list), Nacked(n: into), Done
            };
        }

        // The shapes that differ: WIT variant cases carry one payload (a
        // record or a tuple) where the Rust enums have several fields.

        impl From<$crate::storage::Write> for storage::Write {
            fn from(w: $crate::storage::Write) -> Self {
                use $crate::storage::Write as W;
                match w {
                    W::Put(key, value) => Self::Put(storage::Entry { key, value }),
                    W::Delete(key) => Self::Delete(key),
                    W::DeleteRange(start, end) => Self::DeleteRange((start, end)),
                    W::Add(key, delta) => Self::Add((key, delta)),
                    W::Notify(namespace) => Self::Notify(namespace),
                }
            }
        }

        impl From<storage::Write> for $crate::storage::Write {
            fn from(w: storage::Write) -> Self {
                match w {
                    storage::Write::Put(e) => Self::Put(e.key, e.value),
                    storage::Write::Delete(key) => Self::Delete(key),
                    storage::Write::DeleteRange((start, end)) => Self::DeleteRange(start, end),
                    storage::Write::Add((key, delta)) => Self::Add(key, delta),
                    storage::Write::Notify(namespace) => Self::Notify(namespace),
                }
            }
        }

        impl From<storage::Entry> for (Vec<u8>, Vec<u8>) {
            fn from(e: storage::Entry) -> Self {
                (e.key, e.value)
            }
        }

        impl From<(Vec<u8>, Vec<u8>)> for storage::Entry {
            fn from((key, value): (Vec<u8>, Vec<u8>)) -> Self {
                Self { key, value }
            }
        }

        impl From<$crate::Condition> for kv::Condition {
            fn from(c: $crate::Condition) -> Self {
                use $crate::Condition as C;
                match c {
                    C::Absent(key) => Self::Absent(key),
                    C::Present(key) => Self::Present(key),
                    C::VersionIs(key, version) => Self::VersionIs((key, version)),
                }
            }
        }

        impl From<kv::Condition> for $crate::Condition {
            fn from(c: kv::Condition) -> Self {
                match c {
                    kv::Condition::Absent(key) => Self::Absent(key),
                    kv::Condition::Present(key) => Self::Present(key),
                    kv::Condition::VersionIs((key, version)) => Self::VersionIs(key, version),
                }
            }
        }

        impl From<$crate::Op> for kv::Op {
            fn from(o: $crate::Op) -> Self {
                match o {
                    $crate::Op::Set { key, value, ttl_ms } => {
                        Self::Set(kv::SetOp { key, value, ttl_ms })
                    }
                    $crate::Op::Delete(key) => Self::Delete(key),
                }
            }
        }

        impl From<kv::Op> for $crate::Op {
            fn from(o: kv::Op) -> Self {
                match o {
                    kv::Op::Set(s) => Self::Set {
                        key: s.key,
                        value: s.value,
                        ttl_ms: s.ttl_ms,
                    },
                    kv::Op::Delete(key) => Self::Delete(key),
                }
            }
        }

        impl From<$crate::events::NackOutcome> for events::NackOutcome {
            fn from(o: $crate::events::NackOutcome) -> Self {
                use $crate::events::NackOutcome as N;
                match o {
                    N::Retry { visible_at } => Self::Retry(visible_at),
                    N::DeadLettered => Self::DeadLettered,
                }
            }
        }

        impl From<events::NackOutcome> for $crate::events::NackOutcome {
            fn from(o: events::NackOutcome) -> Self {
                match o {
                    events::NackOutcome::Retry(visible_at) => Self::Retry { visible_at },
                    events::NackOutcome::DeadLettered => Self::DeadLettered,
                }
            }
        }
    };
}

/// [`wit_conversions!`]'s records: `From` both ways, field for field.
#[doc(hidden)]
#[macro_export]
macro_rules! __wit_records {
    ($( $wit:path = $store:path { $( $field:ident $(: $how:ident)? ),* $(,)? }; )*) => {$(
        impl From<$store> for $wit {
            fn from(v: $store) -> Self {
                Self { $( $field: $crate::__wit_field!(v.$field $(, $how)?) ),* }
            }
        }

        impl From<$wit> for $store {
            fn from(v: $wit) -> Self {
                Self { $( $field: $crate::__wit_field!(v.$field $(, $how)?) ),* }
            }
        }
    )*};
}

/// How one field of a record converts.
#[doc(hidden)]
#[macro_export]
macro_rules! __wit_field {
    ($value:expr) => {
        $value
    };
    ($value:expr, into) => {
        $value.into()
    };
    ($value:expr, list) => {
        $value.into_iter().map(Into::into).collect()
    };
    ($value:expr, option) => {
        $value.map(Into::into)
    };
    ($value:expr, options) => {
        $value.into_iter().map(|v| v.map(Into::into)).collect()
    };
}

/// [`wit_conversions!`]'s variants and enums: `From` both ways, case for
/// case, each case without a payload or with one payload, which converts
/// as a record's field does (`into`, `list`, `option`; none: moves as it
/// is). The matches are exhaustive, so a case added on one side only does
/// not compile.
#[doc(hidden)]
#[macro_export]
macro_rules! __wit_variants {
    ($( $wit:path = $store:path {
        $( $case:ident $(($payload:ident $(: $how:ident)?))? ),* $(,)?
    }; )*) => {$(
        impl From<$store> for $wit {
            fn from(v: $store) -> Self {
                type Source = $store;
                match v {
                    $( Source::$case $(($payload))? =>
                        Self::$case $(($crate::__wit_field!($payload $(, $how)?)))?, )*
                }
            }
        }

        impl From<$wit> for $store {
            fn from(v: $wit) -> Self {
                type Source = $wit;
                match v {
                    $( Source::$case $(($payload))? =>
                        Self::$case $(($crate::__wit_field!($payload $(, $how)?)))?, )*
                }
            }
        }
    )*};
}
