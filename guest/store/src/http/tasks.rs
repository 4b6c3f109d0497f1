//! `/namespaces/{ns}/tasks...`: cron-scheduled tasks. Each occurrence
//! emits an event when the host's tick runs.

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::Call;
use super::json;
use super::{Handled, Reply};
use crate::events::TaskSpec;
use crate::storage::Storage;
use crate::{Clock, Store};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    /// Five fields: minute hour day-of-month month day-of-week.
    cron: String,
    /// An IANA zone such as `Europe/Paris`; UTC if left out.
    #[serde(default)]
    timezone: Option<String>,
    event_type: String,
    #[serde(default = "json::empty_object")]
    payload: Value,
}

pub fn create<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let body: CreateBody = call.json()?;
    let spec = TaskSpec {
        name: body.name,
        cron: body.cron,
        timezone: body.timezone,
        event_type: body.event_type,
        payload: body.payload.to_string(),
    };
    let task = store.create_task(call.ns(), &spec)?;
    Ok(Reply::created(json::task(&task)))
}

pub fn list<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let tasks: Vec<Value> = store.list_tasks(ns)?.iter().map(json::task).collect();
    Ok(Reply::ok(json!({ "namespace": ns, "tasks": tasks })))
}

pub fn get<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let task = store.get_task(call.ns(), call.param("name"))?;
    Ok(Reply::ok(json::task(&task)))
}

/// Pause keeps the schedule; resume schedules from now.
pub fn set_active<S: Storage, C: Clock>(
    store: &mut Store<S, C>,
    call: &Call,
    active: bool,
) -> Handled {
    let task = store.set_task_active(call.ns(), call.param("name"), active)?;
    Ok(Reply::ok(json::task(&task)))
}

pub fn delete<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let name = call.param("name");
    store.delete_task(call.ns(), name)?;
    Ok(Reply::ok(json!({ "status": "deleted", "name": name })))
}
