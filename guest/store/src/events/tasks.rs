//! Cron-scheduled tasks: each due occurrence emits one event.
//!
//! Schedules are standard 5-field cron expressions (minute hour day-of-month
//! month day-of-week, parsed by `croner`) evaluated in an IANA time zone
//! (`chrono-tz`, UTC by default). Daylight-saving changes follow croner: a
//! fixed time skipped by a spring-forward gap fires right after the gap; a
//! fixed time repeated by a fall-back fires once.
//!
//! Firing happens in `tick`: a task whose `next_run_at` has passed emits its
//! event and moves `next_run_at` to the first occurrence after *now*, in one
//! commit checked against the task record, so when several hosts tick the
//! same storage exactly one of them fires each occurrence. Catch-up policy:
//! occurrences missed while no host was ticking fire **once**, not once per
//! missed occurrence. A paused task does not fire; resuming schedules it
//! from the time of resuming.

use std::str::FromStr;

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde::{Deserialize, Serialize};

use super::batch::{Batch, Step};
use super::keys::task_key;
use super::records::{Envelope, decode, encode};
use super::subscriptions::targets;
use super::{pattern, validate_json, validate_label};
use crate::error::{Error, Result};
use crate::keys;
use crate::namespace;
use crate::storage::Storage;
use crate::{Clock, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// Unique in the namespace.
    pub name: String,
    pub cron: String,
    /// IANA name, e.g. `Europe/Paris`; `None` is UTC.
    pub timezone: Option<String>,
    pub event_type: String,
    /// JSON text.
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub name: String,
    pub cron: String,
    pub timezone: Option<String>,
    pub event_type: String,
    pub payload: String,
    pub active: bool,
    pub created_at: u64,
    /// When it fires next; `None` when paused or the schedule has no future.
    pub next_run_at: Option<u64>,
    /// The occurrence it fired for last.
    pub last_run_at: Option<u64>,
    pub run_count: u64,
}

/// What firing tasks did in one tick of one namespace.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TaskTick {
    pub fired: u32,
}

/// A parsed cron expression in its time zone.
pub(crate) struct Schedule {
    cron: Cron,
    tz: Tz,
}

impl Schedule {
    pub fn parse(expr: &str, timezone: Option<&str>) -> Result<Self> {
        let fields = expr.split_whitespace().count();
        if fields != 5 {
            return Err(Error::InvalidArgument(format!(
                "cron expression {expr:?} has {fields} fields; expected 5 (minute hour day-of-month month day-of-week)"
            )));
        }
        // croner reads an empty list item as "nothing": `, * * * *` never
        // fires, and proving that walks every minute to its year limit
        // (seconds of CPU per tick, found by fuzzing).
        if let Some(field) = expr
            .split_whitespace()
            .find(|f| f.split(',').any(str::is_empty))
        {
            return Err(Error::InvalidArgument(format!(
                "cron expression {expr:?}: field {field:?} has an empty list item"
            )));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .build()
            .parse(expr)
            .map_err(|e| Error::InvalidArgument(format!("cron expression {expr:?}: {e}")))?;
        let tz = match timezone {
            None => Tz::UTC,
            Some(name) => Tz::from_str(name).map_err(|_| {
                Error::InvalidArgument(format!(
                    "unknown time zone {name:?}; use an IANA name such as Europe/Paris"
                ))
            })?,
        };
        Ok(Self { cron, tz })
    }

    /// The first occurrence strictly after `after_ms`.
    pub fn next_after(&self, after_ms: u64) -> Option<u64> {
        let after = Utc
            .timestamp_millis_opt(i64::try_from(after_ms).ok()?)
            .single()?
            .with_timezone(&self.tz);
        let next = self.cron.find_next_occurrence(&after, false).ok()?;
        u64::try_from(next.timestamp_millis()).ok()
    }
}

fn unknown(ns: &str, name: &str) -> Error {
    Error::NotFound(format!("no task {name:?} in namespace {ns:?}"))
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub fn create_task(&mut self, ns: &str, spec: &TaskSpec) -> Result<Task> {
        namespace::validate(ns)?;
        validate_label("task name", &spec.name)?;
        pattern::validate_event_type(&spec.event_type)?;
        validate_json("payload", &spec.payload)?;
        let schedule = Schedule::parse(&spec.cron, spec.timezone.as_deref())?;
        if schedule.next_after(self.clock.now_ms()).is_none() {
            return Err(Error::InvalidArgument(format!(
                "cron expression {:?} never fires",
                spec.cron
            )));
        }
        let key = task_key(ns, &spec.name);
        self.run_events(ns, |s, now| {
            let mut batch = Batch::default();
            let record = s.guard_namespace(ns, now, &mut batch)?;
            if spec.payload.len() as u64 > record.limits.max_value_bytes as u64 {
                return Err(Error::ValueTooLarge(format!(
                    "payload is {} bytes; the namespace allows {}",
                    spec.payload.len(),
                    record.limits.max_value_bytes
                )));
            }
            if s.storage.get(&key)?.is_some() {
                return Err(Error::ConditionFailed(format!(
                    "a task named {:?} already exists in {ns:?}",
                    spec.name
                )));
            }
            let task = Task {
                task_id: format!("task-{}", s.next_message_id(now)),
                name: spec.name.clone(),
                cron: spec.cron.clone(),
                timezone: spec.timezone.clone(),
                event_type: spec.event_type.clone(),
                payload: spec.payload.clone(),
                active: true,
                created_at: now,
                next_run_at: schedule.next_after(now),
                last_run_at: None,
                run_count: 0,
            };
            batch.check(key.clone(), None);
            batch.put(key.clone(), encode(&task));
            Ok(Step::Commit(batch, task))
        })
    }

    pub fn get_task(&mut self, ns: &str, name: &str) -> Result<Task> {
        namespace::validate(ns)?;
        match self.read_record::<Task>(&task_key(ns, name), "task")? {
            Some((_, task)) => Ok(task),
            None => Err(unknown(ns, name)),
        }
    }

    pub fn list_tasks(&mut self, ns: &str) -> Result<Vec<Task>> {
        namespace::validate(ns)?;
        let (start, end) = keys::tag_range(ns, keys::TASK);
        self.scan_all(&start, &end)?
            .iter()
            .map(|(_, raw)| decode(raw, "task"))
            .collect()
    }

    /// Pauses or resumes a task; resuming schedules it from now.
    pub fn set_task_active(&mut self, ns: &str, name: &str, active: bool) -> Result<Task> {
        namespace::validate(ns)?;
        let key = task_key(ns, name);
        self.run_events(ns, |s, now| {
            let Some((raw, mut task)) = s.read_record::<Task>(&key, "task")? else {
                return Err(unknown(ns, name));
            };
            if task.active == active {
                return Ok(Step::Done(task));
            }
            task.active = active;
            task.next_run_at = if active {
                Schedule::parse(&task.cron, task.timezone.as_deref())?.next_after(now)
            } else {
                None
            };
            let mut batch = Batch::default();
            batch.check(key.clone(), Some(raw));
            batch.put(key.clone(), encode(&task));
            Ok(Step::Commit(batch, task))
        })
    }

    pub fn delete_task(&mut self, ns: &str, name: &str) -> Result<()> {
        namespace::validate(ns)?;
        let key = task_key(ns, name);
        self.run_events(ns, |s, _| {
            let Some(raw) = s.storage.get(&key)? else {
                return Err(unknown(ns, name));
            };
            let mut batch = Batch::default();
            batch.check(key.clone(), Some(raw));
            batch.delete(key.clone());
            Ok(Step::Commit(batch, ()))
        })
    }

    /// Fires every due task of the namespace once.
    pub(crate) fn fire_due_tasks(&mut self, ns: &str, now: u64) -> Result<TaskTick> {
        let mut report = TaskTick::default();
        for task in self.list_tasks(ns)? {
            if !task.active || task.next_run_at.is_none_or(|at| at > now) {
                continue;
            }
            if self.fire_task(ns, &task.name)? {
                report.fired += 1;
            }
        }
        Ok(report)
    }

    /// Fires one task if it is still due; false if someone else did first.
    fn fire_task(&mut self, ns: &str, name: &str) -> Result<bool> {
        let key = task_key(ns, name);
        self.run_events(ns, |s, now| {
            let Some((raw, mut task)) = s.read_record::<Task>(&key, "task")? else {
                return Ok(Step::Done(false));
            };
            let Some(due) = task.next_run_at.filter(|at| task.active && *at <= now) else {
                return Ok(Step::Done(false));
            };
            let mut batch = Batch::default();
            batch.check(key.clone(), Some(raw));
            let event = Envelope {
                message_id: s.next_message_id(now),
                namespace: ns.to_string(),
                event_type: task.event_type.clone(),
                payload: task.payload.clone(),
                emitted_at: now,
                producer_node_id: None,
                redelivery_count: 0,
                scheduled_task_id: Some(task.task_id.clone()),
                replay_of: None,
                broadcast: false,
            };
            s.guard_namespace(ns, now, &mut batch)?;
            let subs = s.guard_subscriptions(ns, &mut batch)?;
            s.stage_event(ns, &mut batch, &event, &targets(&subs, &event), now);
            task.last_run_at = Some(due);
            task.run_count += 1;
            task.next_run_at =
                Schedule::parse(&task.cron, task.timezone.as_deref())?.next_after(now);
            batch.put(key.clone(), encode(&task));
            Ok(Step::Commit(batch, true))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> u64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis() as u64
    }

    #[test]
    fn five_fields_only() {
        assert!(Schedule::parse("*/5 * * * *", None).is_ok());
        for bad in [
            "* * * *",
            "0 * * * * *",
            "61 * * * *",
            "not cron at all x",
            "",
            // Found by fuzzing: never fires, and croner took seconds to say so.
            ",  * * * *",
            "1,,2 * * * *",
        ] {
            assert!(Schedule::parse(bad, None).is_err(), "{bad:?}");
        }
        assert!(Schedule::parse("0 9 * * *", Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn next_is_strictly_after() {
        let s = Schedule::parse("0 * * * *", None).unwrap();
        let at = utc("2026-01-01T10:00:00Z");
        assert_eq!(s.next_after(at), Some(utc("2026-01-01T11:00:00Z")));
        assert_eq!(s.next_after(at - 1), Some(at));
    }

    #[test]
    fn time_zones_shift_the_hour() {
        let s = Schedule::parse("0 9 * * *", Some("Europe/Paris")).unwrap();
        // Winter: UTC+1.
        assert_eq!(
            s.next_after(utc("2026-01-15T00:00:00Z")),
            Some(utc("2026-01-15T08:00:00Z"))
        );
        // Summer: UTC+2.
        assert_eq!(
            s.next_after(utc("2026-07-15T00:00:00Z")),
            Some(utc("2026-07-15T07:00:00Z"))
        );
    }
}
