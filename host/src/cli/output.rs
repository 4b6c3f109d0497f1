//! What a command prints: both renderings of its result (JSON for
//! `--json`, text for people), and the helpers that build the text. The
//! JSON of a record is the REST API's (`nexus_store::http::json`), not
//! built here.

use std::io::Write as _;

use crate::cli::failure::{Failure, Kind};

use serde_json::Value;

/// A command's result, rendered both ways; `--json` picks which one is printed.
#[derive(Debug)]
pub struct Out {
    /// `None` prints nothing with `--json`.
    pub json: Option<Value>,
    /// Printed as is, plus a final newline if missing; `None` prints nothing.
    pub human: Option<String>,
}

impl Out {
    pub fn new(json: Value, human: impl Into<String>) -> Self {
        Self {
            json: Some(json),
            human: Some(human.into()),
        }
    }

    /// Prints nothing without `--json`.
    pub fn json_only(json: Value) -> Self {
        Self {
            json: Some(json),
            human: None,
        }
    }

    /// A list of records: a JSON array of each one's REST shape (`json`),
    /// or a table with a `row` for each under `headers` (`empty` when there
    /// are none).
    pub fn list<T>(
        records: &[T],
        json: impl Fn(&T) -> Value,
        empty: &str,
        headers: &[&str],
        row: impl Fn(&T) -> Vec<String>,
    ) -> Self {
        let rows: Vec<Vec<String>> = records.iter().map(row).collect();
        Self::new(
            Value::Array(records.iter().map(json).collect()),
            table_or(empty, headers, &rows),
        )
    }

    /// Prints nothing either way (the command printed as it went).
    pub fn nothing() -> Self {
        Self {
            json: None,
            human: None,
        }
    }

    /// Writes the chosen rendering to stdout. A closed pipe (`nexus kv list | head`)
    /// is not an error.
    pub fn print(&self, json: bool) -> std::io::Result<()> {
        let rendered = if json {
            self.json.as_ref().map(Value::to_string)
        } else {
            self.human.clone()
        };
        let Some(mut text) = rendered else {
            return Ok(());
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// An optional time: `-` when there is none.
pub fn maybe_timestamp(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".to_string(), timestamp)
}

/// `name  value` lines with the values aligned.
pub fn pairs(rows: &[(&str, String)]) -> String {
    let width = rows
        .iter()
        .map(|(name, _)| name.chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(name, value)| format!("{name:<width$}  {value}\n"))
        .collect()
}

/// One page of a listing for people: its table, then the option that
/// shows the next page (`more`, e.g. `--after ID`) when one follows.
pub fn page_table(
    empty: &str,
    headers: &[&str],
    rows: &[Vec<String>],
    more: Option<String>,
) -> String {
    let mut text = table_or(empty, headers, rows);
    if let Some(more) = more {
        text.push_str(&format!("(more: {more})\n"));
    }
    text
}

/// A table of `rows` under `headers`, or the line `empty` when there are none.
fn table_or(empty: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        format!("{empty}\n")
    } else {
        table(headers, rows)
    }
}

/// A table with a header row; columns are padded to align, the last one is not.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let last = row.len().saturating_sub(1);
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                line.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The `s` of a count: `1 key`, `2 keys`.
pub fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Milliseconds since the epoch as UTC, e.g. `2026-05-01T12:34:56.789Z`.
pub fn timestamp(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{millis:03}Z")
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Prints one line (a newline is added if missing) and flushes it, for
/// commands that print as they go; `false` once stdout is closed
/// (`nexus kv watch k | head -1`).
pub fn print_line(text: &str) -> Result<bool, Failure> {
    let mut stdout = std::io::stdout().lock();
    let newline: &[u8] = if text.ends_with('\n') { b"" } else { b"\n" };
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(newline))
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Failure {
            kind: Kind::Failed,
            message: format!("writing the output failed: {e}"),
            stdout: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(timestamp(1_777_638_896_789), "2026-05-01T12:34:56.789Z");
    }

    #[test]
    fn tables_align_all_but_the_last_column() {
        let rows = vec![vec!["app1".into(), "3".into(), "{}".into()]];
        assert_eq!(
            table(&["NAME", "KEYS", "META"], &rows),
            "NAME  KEYS  META\napp1  3     {}\n"
        );
    }
}
