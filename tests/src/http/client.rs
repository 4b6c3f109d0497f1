//! The walks' client: one blocking request at a time, every answer read
//! whole, whatever its status.

use std::time::Duration;

use nexus_host::testing::wait_until;
use nexus_store::http::{HOST_HEADERS, REPLAYED_HEADER, ROUTE_HEADER, WAIT_HEADER};
use serde_json::{Value, json};

use super::Server;

/// One answer: status, the route the guest matched, and the JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub route: String,
    pub body: Value,
    pub allow: Option<String>,
    /// The host-only long-polling hint, which no host may forward.
    pub wait_hint: Option<String>,
    /// `WWW-Authenticate`, on a 401.
    pub challenge: Option<String>,
    pub content_type: Option<String>,
    /// Whether a host-only hint (`x-nexus-wait`, `x-nexus-watch`) leaked.
    pub host_hint: bool,
    /// `idempotent-replayed: true`: a recorded answer given again.
    pub replayed: bool,
}

/// A client that hands back 4xx and 5xx answers instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

impl Server {
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        self.call_as(None, method, path, body)
    }

    /// [`Server::call`] with `Authorization: Bearer <secret>`.
    pub fn call_as(
        &self,
        secret: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Answer {
        let bearer = secret.map(|s| format!("Bearer {s}"));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| vec![("authorization", b)])
            .unwrap_or_default();
        self.call_with(method, path, body, &headers)
    }

    /// A `GET` with these request headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.call_with("GET", path, None, headers)
    }

    /// A `POST` of `body` with these request headers.
    pub fn post_with(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> Answer {
        self.call_with("POST", path, Some(&body.to_string()), headers)
    }

    fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(body.unwrap_or("").as_bytes().to_vec())
            .expect("a well-formed request");
        let mut response = self.agent.run(request).expect("the server answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let route = header(ROUTE_HEADER).unwrap_or_default();
        let allow = header("allow");
        let wait_hint = header(WAIT_HEADER);
        let challenge = header("www-authenticate");
        let content_type = header("content-type");
        let host_hint = HOST_HEADERS.iter().any(|h| header(h).is_some());
        let replayed = header(REPLAYED_HEADER).as_deref() == Some("true");
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .expect("a readable body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            route,
            body,
            allow,
            wait_hint,
            challenge,
            content_type,
            host_hint,
            replayed,
        }
    }

    pub fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Answer {
        self.call("POST", path, Some(&body.to_string()))
    }

    pub fn put(&self, path: &str, body: Value) -> Answer {
        self.call("PUT", path, Some(&body.to_string()))
    }

    pub fn delete(&self, path: &str) -> Answer {
        self.call("DELETE", path, None)
    }

    /// A 2xx answer's body.
    pub fn ok(&self, answer: Answer) -> Value {
        assert!(
            (200..300).contains(&answer.status),
            "expected success: {answer:?}"
        );
        answer.body
    }

    /// Moves the server's manual clock on by `ms`.
    pub fn advance(&self, ms: u64) {
        self.ok(self.post("/_test/clock", json!({ "advance_ms": ms })));
    }

    /// Returns once `n` receives are held open on the server.
    pub fn until_waiting(&self, n: u64) {
        wait_until(
            Duration::from_secs(20),
            &format!("{n} receives are held open"),
            || self.ok(self.get("/_test/waiting"))["waiting"] == n,
        );
    }
}

/// One Server-Sent Event: its `id` and its `data` as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub data: Value,
}

/// The events of a text/event-stream body (comments and `retry` skipped).
pub fn events(body: &str) -> Vec<Event> {
    body.split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(str::to_string))
            };
            Some(Event {
                id: field("id: ")?,
                data: serde_json::from_str(&field("data: ")?).expect("an event's data is JSON"),
            })
        })
        .collect()
}

/// A watch streamed by the server, read on a thread: events as they come.
pub struct Stream {
    events: std::sync::mpsc::Receiver<Option<Event>>,
}

impl Server {
    /// Opens `path` as `EventSource` does (`Accept: text/event-stream`,
    /// and `Last-Event-ID` when resuming).
    pub fn stream(&self, path: &str, last_event_id: Option<&str>) -> Stream {
        let mut request = ureq::http::Request::builder()
            .method("GET")
            .uri(format!("{}{path}", self.base))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let request = request.body(Vec::new()).expect("a well-formed request");
        let response = self.agent.run(request).expect("the server answers");
        assert_eq!(response.status().as_u16(), 200, "{response:?}");
        let (tx, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            let reader = std::io::BufReader::new(response.into_body().into_reader());
            let mut block = String::new();
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if !line.is_empty() {
                    block.push_str(&line);
                    block.push('\n');
                    continue;
                }
                for event in events(&block) {
                    if tx.send(Some(event)).is_err() {
                        return;
                    }
                }
                block.clear();
            }
            // The server ended the stream.
            let _ = tx.send(None);
        });
        Stream { events: received }
    }
}

impl Stream {
    /// The next event; panics if none comes within 20 s or the stream ends.
    pub fn next(&self) -> Event {
        self.events
            .recv_timeout(Duration::from_secs(20))
            .expect("an event within 20 s")
            .expect("the stream is still open")
    }

    /// Returns once the server has ended the stream (20 s at most).
    pub fn ended(&self) {
        loop {
            match self.events.recv_timeout(Duration::from_secs(20)) {
                Ok(Some(_)) => continue,
                Ok(None) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                Err(e) => panic!("the stream did not end: {e}"),
            }
        }
    }
}
