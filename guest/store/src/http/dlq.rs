//! `/namespaces/{ns}/dlq...`: messages whose attempts ran out.

use serde_json::json;

use super::call::Call;
use super::json;
use super::{Handled, Reply};
use crate::storage::Storage;
use crate::{Clock, Store};

/// Letters in id order, `?after=&limit=`; `next` is the `after` of the
/// following page.
pub fn list<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let limit = call.query_parsed("limit")?.unwrap_or(100);
    let page = store.dlq_list(ns, call.query("after"), limit)?;
    Ok(Reply::ok(json::dead_letter_page(ns, &page)))
}

pub fn get<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let letter = store.dlq_get(call.ns(), call.param("id"))?;
    Ok(Reply::ok(json::dead_letter(&letter)))
}

/// Emits the letter's event again as a new message (into the queue it
/// failed in) and removes the letter, in one commit.
pub fn replay<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let id = call.param("id");
    let message_id = store.dlq_replay(call.ns(), id)?;
    Ok(Reply::ok(
        json!({ "status": "replayed", "letter_id": id, "message_id": message_id }),
    ))
}

pub fn replay_all<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let replayed = store.dlq_replay_all(call.ns())?;
    Ok(Reply::ok(
        json!({ "status": "replayed", "replayed": replayed }),
    ))
}

pub fn purge<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let purged = store.dlq_purge(call.ns())?;
    Ok(Reply::ok(json!({ "status": "purged", "purged": purged })))
}
