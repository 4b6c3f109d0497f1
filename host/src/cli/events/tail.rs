//! `nexus events tail`: the newest log entries, then (with `--follow`) new
//! ones as they come. It reads the log only through the store's log query,
//! in ascending pages continued with `after_id`.

use std::collections::VecDeque;
use std::time::Duration;

use clap::Args;
use nexus_host::Namespace;
use nexus_host::events::{Envelope, LogQuery};
use nexus_store::http::json;
use serde_json::Value;

use super::LogFilter;
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, print_line, timestamp};

/// The last N entries of the event log, oldest first.
///
/// Looks for them among the entries of the last minute first, widening
/// that window until it holds N of them (or reaches --since). With
/// --follow, keeps printing new entries as they are emitted until
/// interrupted (with --json, one JSON object per line).
#[derive(Debug, Args)]
pub struct Tail {
    #[command(flatten)]
    filter: LogFilter,
    /// Print the last N entries.
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    limit: u32,
    /// Keep polling (every 500 ms) and print new entries as they come.
    #[arg(long, short = 'f')]
    follow: bool,
}

/// The log is read in ascending pages of this many entries.
const LOG_PAGE: u32 = 1000;
/// How often `tail --follow` asks for new entries.
const FOLLOW_POLL: Duration = Duration::from_millis(500);

/// `tail` first looks for the newest entries among those emitted in the
/// last minute, and widens that window sixteenfold while it holds fewer
/// than `limit` of them (see [`Tail::newest_entries`]).
const FIRST_WINDOW_MS: u64 = 60_000;

impl Tail {
    /// The last `limit` log entries, oldest first. With `follow` it never
    /// returns unless it fails or stdout is closed: it prints entries itself,
    /// as they come (`--json`: one object per line).
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.filter.ns.open(ctx)?;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let (last, mut cursor) = self.newest_entries(&ns, now_ms)?;

        if !self.follow {
            let events = Value::Array(last.iter().map(json::envelope).collect());
            let human: String = last.iter().map(line).collect();
            let human = if human.is_empty() {
                "(no events)".to_string()
            } else {
                human
            };
            return Ok(Out::new(events, human));
        }

        let mut open = true;
        for event in &last {
            if !print_entry(event, ctx.json)? {
                open = false;
                break;
            }
        }
        while open {
            std::thread::sleep(FOLLOW_POLL);
            let mut failure = None;
            open = self.for_each_new_entry(&ns, self.filter.since, &mut cursor, |event| {
                match print_entry(&event, ctx.json) {
                    Ok(more) => more,
                    Err(f) => {
                        failure = Some(f);
                        false
                    }
                }
            })?;
            if let Some(f) = failure {
                return Err(f);
            }
        }
        // stdout was closed (`nexus events tail -f | head`): nothing more to say.
        Ok(Out::nothing())
    }

    /// The newest `limit` entries (oldest first) and the id of the newest
    /// one. The log is only queried in ascending order, so reading it from the
    /// start (or `since`) would page through all of it, a week of entries with
    /// the default retention. Message ids begin with their emission time, so a
    /// window ending at `now_ms` holds the newest entries; it widens until it
    /// holds enough of them or reaches `since` (or the start of the log), and
    /// entries stamped after `now_ms` are always in it. Each pass reads only its
    /// window, so the reads add up to little more than the last window's.
    fn newest_entries(
        &self,
        ns: &Namespace,
        now_ms: u64,
    ) -> Result<(VecDeque<Envelope>, Option<String>), Failure> {
        let floor = self.filter.since.unwrap_or(0);
        let mut window = FIRST_WINDOW_MS;
        loop {
            let from = now_ms.saturating_sub(window).max(floor);
            let mut last = VecDeque::with_capacity(self.limit.min(LOG_PAGE) as usize);
            let mut cursor = None;
            self.for_each_new_entry(ns, Some(from), &mut cursor, |event| {
                if last.len() == self.limit as usize {
                    last.pop_front();
                }
                last.push_back(event);
                true
            })?;
            if last.len() == self.limit as usize || from == floor {
                return Ok((last, cursor));
            }
            window = window.saturating_mul(16);
        }
    }

    /// Calls `each` with every log entry of the type asked for (all types
    /// when none) after `cursor`, or from `since` when there is no cursor
    /// yet, in order, and moves `cursor` past them. Returns false as soon as
    /// `each` does.
    fn for_each_new_entry(
        &self,
        ns: &Namespace,
        since: Option<u64>,
        cursor: &mut Option<String>,
        mut each: impl FnMut(Envelope) -> bool,
    ) -> Result<bool, Failure> {
        loop {
            let query = LogQuery {
                event_type: self.filter.event_type.clone(),
                since,
                until: None,
                after_id: cursor.clone(),
                limit: LOG_PAGE,
            };
            let page = ns.log_query(&query)?;
            for event in page.events {
                *cursor = Some(event.message_id.clone());
                if !each(event) {
                    return Ok(false);
                }
            }
            if page.next.is_none() {
                return Ok(true);
            }
        }
    }
}

/// `tail`'s line for one entry: time, id, type, payload.
fn line(e: &Envelope) -> String {
    format!(
        "{}  {}  {}  {}\n",
        timestamp(e.emitted_at),
        e.message_id,
        e.event_type,
        e.payload
    )
}

/// Prints one entry now; false if stdout is closed.
fn print_entry(e: &Envelope, json: bool) -> Result<bool, Failure> {
    let text = if json {
        json::envelope(e).to_string()
    } else {
        line(e)
    };
    print_line(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexus_host::Nexus;
    use nexus_host::clock::ManualClock;

    const DAY_MS: u64 = 24 * 60 * 60 * 1000;
    const NOW_MS: u64 = 1_800_000_000_000;

    fn tail_of(limit: u32, since: Option<u64>) -> Tail {
        Tail {
            filter: LogFilter {
                ns: crate::cli::NsArg {
                    namespace: "app".to_string(),
                },
                event_type: None,
                since,
            },
            limit,
            follow: false,
        }
    }

    fn payloads(entries: &VecDeque<Envelope>) -> Vec<&str> {
        entries.iter().map(|e| e.payload.as_str()).collect()
    }

    /// Two entries six days old, one an hour old, one a second old.
    fn log() -> Namespace {
        let clock = ManualClock::new(NOW_MS - 6 * DAY_MS);
        let nexus = Nexus::builder()
            .memory()
            .clock(clock.clone())
            .build()
            .unwrap();
        let ns = nexus.namespace("app").unwrap();
        ns.emit("a.b", "1").unwrap();
        ns.emit("a.b", "2").unwrap();
        clock.set(NOW_MS - 3_600_000);
        ns.emit("a.b", "3").unwrap();
        clock.set(NOW_MS - 1_000);
        ns.emit("a.b", "4").unwrap();
        ns
    }

    #[test]
    fn the_newest_entries_come_from_the_last_window_that_holds_enough() {
        let ns = log();
        let (last, cursor) = tail_of(1, None).newest_entries(&ns, NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["4"]);
        assert_eq!(cursor.as_deref(), Some(last[0].message_id.as_str()));
        let (last, _) = tail_of(2, None).newest_entries(&ns, NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["3", "4"]);
        let (last, _) = tail_of(3, None).newest_entries(&ns, NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["2", "3", "4"]);
    }

    #[test]
    fn widening_stops_at_since_and_at_the_start_of_the_log() {
        let ns = log();
        let (last, _) = tail_of(10, None).newest_entries(&ns, NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["1", "2", "3", "4"]);
        let since = Some(NOW_MS - DAY_MS);
        let (last, _) = tail_of(10, since).newest_entries(&ns, NOW_MS).unwrap();
        assert_eq!(payloads(&last), ["3", "4"]);
    }

    #[test]
    fn entries_stamped_after_now_are_included() {
        let ns = log();
        let (last, _) = tail_of(2, None)
            .newest_entries(&ns, NOW_MS - DAY_MS)
            .unwrap();
        assert_eq!(payloads(&last), ["3", "4"]);
        let (empty, cursor) = tail_of(5, None)
            .newest_entries(&empty_log(), NOW_MS)
            .unwrap();
        assert!(empty.is_empty() && cursor.is_none());
    }

    fn empty_log() -> Namespace {
        Nexus::memory().unwrap().namespace("none").unwrap()
    }
}
