//! What `nexus serve` adds to the guest's access control, tested on the
//! real binary over real HTTP: protected mode (no tokens on a non-loopback
//! address: refuse to start, in one line), `/metrics` behind an admin
//! token (or `--public-stats`), CORS for `--cors-origin` pages, and no
//! secret in the server's logs or metrics. (The rules themselves are the
//! guest's: `guest/store/tests/access.rs`, and the HTTP suite's token walk
//! on every host.)

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tempfile::TempDir;

mod common;
use common::ServeProcess;

/// `nexus --data DIR ...` to completion: (exit code, stdout, stderr).
fn nexus(data: &Path, args: &[&str]) -> (i32, String, String) {
    let output = common::nexus()
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("NEXUS_DATA")
        .output()
        .expect("the nexus binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A running `nexus serve`; killed (SIGKILL) when dropped, or stopped
/// with [`Serve::logs`].
struct Serve {
    process: ServeProcess,
    agent: ureq::Agent,
}

/// One answer: status, headers we look at, body text.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

impl Serve {
    /// On a free port of the loopback address.
    fn start(data: &Path, args: &[&str]) -> Self {
        Self::start_on(data, "127.0.0.1:0", args)
    }

    /// On `addr` (port 0); requests go to the loopback address whatever it is.
    fn start_on(data: &Path, addr: &str, args: &[&str]) -> Self {
        let process = ServeProcess::start(
            common::nexus()
                .arg("--data")
                .arg(data)
                .args(["serve", "--addr", addr])
                .args(args)
                .env("NEXUS_LOG", "debug")
                .stderr(Stdio::piped()),
        );
        Self {
            process,
            agent: common::agent(),
        }
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.process.base()));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.as_bytes().to_vec()).unwrap();
        let mut response = self.agent.run(request).expect("the server answers");
        Answer {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
                .collect(),
            body: response.body_mut().read_to_string().unwrap(),
        }
    }

    fn as_(&self, secret: &str, method: &str, path: &str, body: &str) -> Answer {
        let bearer = format!("Bearer {secret}");
        self.call(
            method,
            path,
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            body,
        )
    }

    /// Stops the server (SIGTERM, a graceful stop) and returns its stderr.
    fn logs(mut self) -> String {
        let child = &mut self.process.child;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
        let mut text = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }
}

fn create_token(data: &Path, args: &[&str]) -> String {
    let mut all = vec!["tokens", "create"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = nexus(data, &all);
    assert_eq!(code, 0, "{stderr}");
    stdout.trim().to_string()
}

#[test]
fn without_tokens_a_non_loopback_address_is_refused_in_one_line() {
    let data = TempDir::new().unwrap();
    let (code, stdout, stderr) = nexus(data.path(), &["serve", "--addr", "0.0.0.0:0"]);
    assert_ne!(code, 0);
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("no tokens") && stderr.contains("--no-auth"),
        "{stderr}"
    );
}

/// `--no-auth` lets it start; a token turns auth on whatever the address.
#[test]
fn no_auth_serves_everyone_until_a_token_exists() {
    let data = TempDir::new().unwrap();
    let open = Serve::start_on(data.path(), "0.0.0.0:0", &["--no-auth"]);
    assert_eq!(
        open.call("GET", "/get/k", &[], "").status,
        404,
        "served, no token needed"
    );
    drop(open);

    // With a token in the store, a non-loopback address starts, with auth on.
    let root = create_token(
        data.path(),
        &["--ns", "*", "--scope", "admin", "--name", "root"],
    );
    let guarded = Serve::start_on(data.path(), "0.0.0.0:0", &[]);
    assert_eq!(guarded.call("GET", "/get/k", &[], "").status, 401);
    assert_eq!(guarded.as_(&root, "GET", "/get/k", "").status, 404);
}

#[test]
fn metrics_need_a_store_admin_token_and_never_show_a_secret() {
    let data = TempDir::new().unwrap();
    let root = create_token(
        data.path(),
        &["--ns", "*", "--scope", "admin", "--name", "root"],
    );
    let app = create_token(
        data.path(),
        &["--ns", "app1", "--scope", "admin", "--name", "app"],
    );
    let serve = Serve::start(data.path(), &[]);
    let anonymous = serve.call("GET", "/metrics", &[], "");
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some("Bearer realm=\"nexus\"")
    );
    assert_eq!(serve.as_(&app, "GET", "/metrics", "").status, 403);
    assert_eq!(serve.as_("nxt_root.00", "GET", "/metrics", "").status, 401);
    let metrics = serve.as_(&root, "GET", "/metrics", "");
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.trim_end().ends_with("# EOF"), "{metrics:?}");
    for secret in [&root, &app] {
        assert!(!metrics.body.contains(secret.as_str()));
    }
    drop(serve);

    let public = Serve::start(data.path(), &["--public-stats"]);
    assert_eq!(public.call("GET", "/metrics", &[], "").status, 200);
    assert_eq!(public.call("GET", "/stats", &[], "").status, 200);
    assert_eq!(public.call("GET", "/namespaces", &[], "").status, 401);
}

/// Requests with good, bad and revoked secrets at the most verbose log
/// level the operator sets: the log shows requests, never a secret.
#[test]
fn no_secret_reaches_the_log() {
    let data = TempDir::new().unwrap();
    let serve = Serve::start(data.path(), &[]);
    let made = serve.call(
        "POST",
        "/tokens",
        &[("content-type", "application/json")],
        &json!({"name": "root", "namespaces": ["*"], "scope": "admin"}).to_string(),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let root = made.json()["secret"].as_str().unwrap().to_string();
    let made = serve.as_(
        &root,
        "POST",
        "/tokens",
        &json!({"name": "w", "namespaces": ["a"], "scope": "write"}).to_string(),
    );
    let writer = made.json()["secret"].as_str().unwrap().to_string();
    let set = json!({"key": "k", "value": "v", "namespace": "a"}).to_string();
    assert_eq!(serve.as_(&writer, "POST", "/set", &set).status, 200);
    assert_eq!(serve.as_(&writer, "POST", "/set?ns=b", &set).status, 403);
    // The writer's name, another secret (its last digit changed).
    let flipped = if writer.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{flipped}", &writer[..writer.len() - 1]);
    assert_eq!(serve.as_(&wrong, "GET", "/get/k?ns=a", "").status, 401);
    assert_eq!(serve.as_(&root, "DELETE", "/tokens/w", "").status, 200);
    assert_eq!(serve.as_(&writer, "GET", "/get/k?ns=a", "").status, 401);
    let listed = serve.as_(&root, "GET", "/tokens", "");
    let metrics = serve.as_(&root, "GET", "/metrics", "");
    let logs = serve.logs();
    assert!(logs.contains("request"), "debug logs are on: {logs}");
    for secret in [&root, &writer, &wrong] {
        let random = secret.rsplit_once('.').unwrap().1;
        assert!(!logs.contains(random), "a secret in the log:\n{logs}");
        assert!(!listed.body.contains(random), "a secret listed");
        assert!(!metrics.body.contains(random), "a secret in /metrics");
    }
}

#[test]
fn cors_answers_preflights_and_marks_responses_for_allowed_origins_only() {
    let data = TempDir::new().unwrap();
    let page = "http://127.0.0.1:8081";
    let serve = Serve::start(data.path(), &["--cors-origin", page]);
    for path in [
        "/set",
        "/get/k",
        "/namespaces/app1/events",
        "/metrics",
        "/tokens/x",
    ] {
        let preflight = serve.call(
            "OPTIONS",
            path,
            &[
                ("origin", page),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type, authorization, idempotency-key",
                ),
            ],
            "",
        );
        assert!(preflight.status < 300, "{path}: {preflight:?}");
        assert_eq!(preflight.header("access-control-allow-origin"), Some(page));
        let methods = preflight
            .header("access-control-allow-methods")
            .unwrap_or_default();
        for m in ["GET", "POST", "PUT", "DELETE"] {
            assert!(methods.contains(m), "{path}: {methods}");
        }
        let headers = preflight
            .header("access-control-allow-headers")
            .unwrap_or_default();
        assert!(
            ["content-type", "authorization", "idempotency-key"]
                .iter()
                .all(|h| headers.contains(h)),
            "{headers}"
        );
    }
    let set = json!({"key": "k", "value": "v"}).to_string();
    let allowed = serve.call(
        "POST",
        "/set",
        &[("origin", page), ("content-type", "application/json")],
        &set,
    );
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(page));
    let other = serve.call("GET", "/get/k", &[("origin", "http://evil.example")], "");
    assert_eq!(other.header("access-control-allow-origin"), None);
    drop(serve);

    // Off by default: no CORS headers, and OPTIONS is the guest's 204.
    let plain = Serve::start(data.path(), &[]);
    let options = plain.call("OPTIONS", "/set", &[("origin", page)], "");
    assert_eq!(
        (options.status, options.header("allow")),
        (204, Some("POST, OPTIONS"))
    );
    assert_eq!(options.header("access-control-allow-origin"), None);
}
