//! `nexus tasks ...`: cron-scheduled tasks; and `nexus tick`, which fires
//! the due ones.

use clap::Subcommand;
use nexus_host::events::{Task, TaskSpec};
use nexus_host::{Namespace, Nexus};
use serde_json::{Value, json};

use super::NsArg;
use super::failure::Failure;
use super::output::{Out, maybe_timestamp, pairs, table, timestamp, to_json};

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Create a task that emits an event at every occurrence of a cron schedule.
    Create {
        /// The task's name, unique in the namespace.
        name: String,
        #[command(flatten)]
        ns: NsArg,
        /// 5-field cron expression: minute hour day-of-month month day-of-week.
        #[arg(long, value_name = "EXPR")]
        cron: String,
        /// The type of the events it emits.
        #[arg(long = "type", value_name = "T")]
        event_type: String,
        /// The payload of the events it emits: a JSON document.
        #[arg(
            long,
            value_name = "JSON",
            default_value = "{}",
            allow_hyphen_values = true
        )]
        payload: String,
        /// IANA time zone of the schedule, e.g. Europe/Paris (default UTC).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
    },
    /// Every task, with its schedule and next run.
    List {
        #[command(flatten)]
        ns: NsArg,
    },
    /// Everything about one task.
    Get {
        /// The task's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Stop a task from firing (it keeps its schedule).
    Pause {
        /// The task's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Let a paused task fire again, scheduled from now.
    Resume {
        /// The task's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Remove a task.
    Delete {
        /// The task's name.
        name: String,
        #[command(flatten)]
        ns: NsArg,
    },
}

/// Runs one `nexus tasks` command.
pub fn run(nexus: &Nexus, cmd: TasksCommand) -> Result<Out, Failure> {
    match cmd {
        TasksCommand::Create {
            name,
            ns,
            cron,
            event_type,
            payload,
            tz,
        } => {
            let spec = TaskSpec {
                name,
                cron,
                timezone: tz,
                event_type,
                payload,
            };
            create(&nexus.namespace(&ns.namespace)?, &spec)
        }
        TasksCommand::List { ns } => list(&nexus.namespace(&ns.namespace)?),
        TasksCommand::Get { name, ns } => get(&nexus.namespace(&ns.namespace)?, &name),
        TasksCommand::Pause { name, ns } => {
            set_active(&nexus.namespace(&ns.namespace)?, &name, false)
        }
        TasksCommand::Resume { name, ns } => {
            set_active(&nexus.namespace(&ns.namespace)?, &name, true)
        }
        TasksCommand::Delete { name, ns } => delete(&nexus.namespace(&ns.namespace)?, &name),
    }
}

pub fn create(ns: &Namespace, spec: &TaskSpec) -> Result<Out, Failure> {
    Ok(task_out(&ns.create_task(spec)?))
}

pub fn list(ns: &Namespace) -> Result<Out, Failure> {
    let tasks = ns.list_tasks()?;
    let json = Value::Array(tasks.iter().map(to_json).collect());
    let human = if tasks.is_empty() {
        "(no tasks)".to_string()
    } else {
        let rows: Vec<Vec<String>> = tasks
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    status(t).to_string(),
                    t.cron.clone(),
                    zone(t).to_string(),
                    t.event_type.clone(),
                    maybe_timestamp(t.next_run_at),
                    t.run_count.to_string(),
                ]
            })
            .collect();
        table(
            &["NAME", "STATUS", "CRON", "ZONE", "TYPE", "NEXT RUN", "RUNS"],
            &rows,
        )
    };
    Ok(Out::new(json, human))
}

pub fn get(ns: &Namespace, name: &str) -> Result<Out, Failure> {
    Ok(task_out(&ns.get_task(name)?))
}

/// Pauses or resumes; prints the task as it now is.
pub fn set_active(ns: &Namespace, name: &str, active: bool) -> Result<Out, Failure> {
    Ok(task_out(&ns.set_task_active(name, active)?))
}

pub fn delete(ns: &Namespace, name: &str) -> Result<Out, Failure> {
    ns.delete_task(name)?;
    Ok(Out::new(
        json!({ "name": name, "deleted": true }),
        format!("deleted {name}"),
    ))
}

fn task_out(t: &Task) -> Out {
    let rows = [
        ("name", t.name.clone()),
        ("id", t.task_id.clone()),
        ("status", status(t).to_string()),
        ("cron", t.cron.clone()),
        ("zone", zone(t).to_string()),
        ("type", t.event_type.clone()),
        ("payload", t.payload.clone()),
        ("created", timestamp(t.created_at)),
        ("next run", maybe_timestamp(t.next_run_at)),
        ("last run", maybe_timestamp(t.last_run_at)),
        ("runs", t.run_count.to_string()),
    ];
    Out::new(to_json(t), pairs(&rows))
}

fn status(t: &Task) -> &'static str {
    if t.active { "active" } else { "paused" }
}

fn zone(t: &Task) -> &str {
    t.timezone.as_deref().unwrap_or("UTC")
}

/// One maintenance tick over every namespace (what the Rust API's ticker
/// does every second).
pub fn tick(nexus: &Nexus, budget: u32) -> Result<Out, Failure> {
    let report = nexus.tick(budget)?;
    let json = json!({
        "expired_keys": report.expired_keys,
        "tasks_fired": report.tasks_fired,
        "log_entries_removed": report.log_entries_removed,
        "more": report.more,
    });
    let rows = [
        ("tasks_fired", report.tasks_fired.to_string()),
        (
            "log_entries_removed",
            report.log_entries_removed.to_string(),
        ),
        ("expired_keys", report.expired_keys.to_string()),
        (
            "more",
            if report.more {
                "yes (run again)".to_string()
            } else {
                "no".to_string()
            },
        ),
    ];
    Ok(Out::new(json, pairs(&rows)))
}
