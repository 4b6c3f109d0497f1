//! The walks' client: one blocking request at a time, every answer read
//! whole, whatever its status.

use std::time::Duration;

use nexus_host::testing::wait_until;
use nexus_store::http::{ROUTE_HEADER, WAIT_HEADER};
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
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(secret) = secret {
            request = request.header("authorization", format!("Bearer {secret}"));
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
