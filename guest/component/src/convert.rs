//! Conversions between the WIT types and the logic's types: the one
//! mapping nexus-store declares, expanded over this crate's bindings.

use crate::bindings::exports::nexus::store::{
    batch, events, http_api, kv, maintenance, namespaces, tokens,
};
use crate::bindings::nexus::store::{storage, types};

nexus_store::wit_conversions!();
