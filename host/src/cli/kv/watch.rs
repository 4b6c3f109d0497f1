//! `nexus kv watch`.

use clap::Args;
use nexus_store::http::json;

use serde_json::Value;

use crate::cli::failure::{Failure, Kind};
use crate::cli::output::{Out, print_line};
use crate::cli::{Ctx, NsArg, Remote};

/// Print the keys' values now, then a line each time one of them changes
/// (a write by any process sharing the store: another CLI or a server on
/// PostgreSQL), until interrupted. Intermediate values may be skipped; the
/// latest never is. With --json, one object per line.
#[derive(Debug, Args)]
pub struct Watch {
    /// The keys (UTF-8 text; 1-64; after `--` for keys that start with `-`).
    #[arg(required = true)]
    keys: Vec<String>,
    #[command(flatten)]
    ns: NsArg,
    /// Stop after printing N lines (the first one included).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
}

impl Watch {
    /// Never returns before `--count` lines unless it fails, the store
    /// shuts down or stdout is closed: it prints the lines itself.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let keys: Vec<Vec<u8>> = self.keys.iter().map(|k| k.as_bytes().to_vec()).collect();
        // Refused here as on a local store (too many keys, a bad one).
        let watch = ns.watch(&keys)?;
        if let Some(remote) = ctx.remote {
            // Only the server hears its commits: follow its stream.
            return self.follow(remote, ns.name(), ctx.json);
        }
        for (printed, entries) in (1..).zip(watch) {
            let event = json::watched(ns.name(), &keys, &entries?);
            let text = if ctx.json {
                event.to_string()
            } else {
                line(&event)
            };
            if !print_line(&text)? || self.count.is_some_and(|n| printed >= n) {
                break;
            }
        }
        Ok(Out::nothing())
    }
}

impl Watch {
    /// Prints the events of the server's `GET /namespaces/{ns}/watch`
    /// stream, one line each, as the local watch prints its changes.
    fn follow(&self, remote: &Remote, ns: &str, json: bool) -> Result<Out, Failure> {
        use std::io::BufRead as _;

        let query: Vec<String> = self
            .keys
            .iter()
            .map(|k| format!("key={}", percent_encode(k)))
            .collect();
        let url = format!(
            "{}/namespaces/{ns}/watch?{}",
            remote.url.trim_end_matches('/'),
            query.join("&")
        );
        let failed = |why: String| Failure {
            kind: Kind::Failed,
            message: why,
            stdout: None,
        };
        let mut request = ureq::get(&url).header("accept", "text/event-stream");
        if let Some(token) = &remote.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request
            .call()
            .map_err(|e| failed(format!("watching through {}: {e}", remote.url)))?;
        let reader = std::io::BufReader::new(response.into_body().into_reader());
        let mut printed = 0;
        for received in reader.lines() {
            let received = received
                .map_err(|e| failed(format!("the stream from {} broke: {e}", remote.url)))?;
            let Some(data) = received.strip_prefix("data: ") else {
                continue;
            };
            let event: Value = serde_json::from_str(data).map_err(|e| {
                failed(format!(
                    "{} sent an event that is not JSON: {e}",
                    remote.url
                ))
            })?;
            let text = if json {
                event.to_string()
            } else {
                line(&event)
            };
            printed += 1;
            if !print_line(&text)? || self.count.is_some_and(|n| printed >= n) {
                return Ok(Out::nothing());
            }
        }
        Err(failed(format!(
            "{} ended the stream (it is shutting down)",
            remote.url
        )))
    }
}

/// `a=1 b=(none)`: each key and its value, in the order asked, from the
/// watch's JSON (`json::watched`, also what the server's stream sends).
fn line(event: &Value) -> String {
    event["entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    let key = e["key"].as_str().unwrap_or_default();
                    match e["value"].as_str() {
                        Some(value) => format!("{key}={value}"),
                        None => format!("{key}=(none)"),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// A query value, percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
