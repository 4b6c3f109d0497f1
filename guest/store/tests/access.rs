//! Access control over the REST API, generated from the route table: every
//! route, asked with no token, a wrong one, an expired one, a revoked one,
//! one for another namespace, a read token where it needs more, and the
//! right one, gives the right status; every refusal leaves the storage
//! byte for byte as it was, and no answer ever shows a secret.

mod common;

use nexus_store::access::{Scope, TokenSpec};
use nexus_store::http::{
    AccessPolicy, CHALLENGE, ROUTES, Request, Response, Route, RouteId, Rule, rule,
};
use serde_json::{Value, json};

use common::{TestStore, snapshot, store};

/// The namespace every request acts on.
const NS: &str = "app1";

fn spec(name: &str, scope: Scope, namespaces: &[&str]) -> TokenSpec {
    TokenSpec {
        name: Some(name.into()),
        namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
        scope,
        expires_in_ms: None,
    }
}

/// A valid body for each route that takes one (so that the right token
/// gets past validation too). Exhaustive: a new route must say.
fn body(id: RouteId) -> Value {
    use RouteId::*;
    match id {
        Set => json!({"key": "k", "value": "v", "namespace": NS}),
        Increment => json!({"key": "n", "by": 1}),
        PutMetadata => json!({"owner": "ops"}),
        PutLimits => json!({"max_keys": 100}),
        PutKeyEvents => json!({"enabled": true}),
        PutEventsConfig => json!({"max_attempts": 3}),
        Emit => json!({"event_type": "a.b"}),
        EmitBatch => json!({"events": [{"event_type": "a.b"}]}),
        Receive => json!({"max": 1}),
        AckBatch => json!({"message_ids": []}),
        Nack => json!({"reason": "no"}),
        Subscribe => json!({"patterns": ["#"]}),
        RegisterNode => json!({"display_name": "n"}),
        CreateTask => json!({"name": "t2", "cron": "0 * * * *", "event_type": "a.t"}),
        CreateToken => json!({"name": "made", "namespaces": [NS], "scope": "read"}),
        Get | Delete | ListNamespaces | NamespaceKeyCount | ClearNamespace | Stats | Health
        | OpenApi | Tick | Metrics | Performance | RecentErrors | Compact | ListTokens
        | RevokeToken | NamespaceInfo | GetMetadata | GetLimits | GetKeyEvents | Watch
        | ListEntries | Ack | QueryLog | EventMetrics | GetEventsConfig | ListSubscriptions
        | Unsubscribe | ListDeadLetters | ReplayAllDeadLetters | PurgeDeadLetters
        | GetDeadLetter | ReplayDeadLetter | ListNodes | GetNode | Heartbeat | DeregisterNode
        | ListTasks | GetTask | PauseTask | ResumeTask | DeleteTask => Value::Null,
    }
}

/// The route's template with its parameters filled in, acting on [`NS`].
fn request(route: &Route, token: Option<&str>) -> Request {
    let path = route
        .template
        .replace("{ns}", NS)
        .replace("{key}", "k")
        .replace("{id}", "00000000000000000000")
        .replace("{name}", "t");
    let query = match route.id {
        RouteId::Get | RouteId::Delete | RouteId::Stats => format!("ns={NS}"),
        RouteId::Watch => "key=k".to_string(),
        _ => String::new(),
    };
    let body = match body(route.id) {
        Value::Null => Vec::new(),
        v => v.to_string().into_bytes(),
    };
    Request {
        method: route.method.into(),
        path,
        query,
        headers: token
            .map(|t| vec![("Authorization".into(), t.into())])
            .unwrap_or_default(),
        body,
        ..Request::default()
    }
}

struct Tokens {
    read: String,
    write: String,
    admin: String,
    store_admin: String,
    other_ns_admin: String,
    expired: String,
    revoked: String,
    all: Vec<String>,
}

/// A store with data in [`NS`] and one token of each kind.
fn seeded() -> (TestStore, Tokens) {
    let (mut s, clock) = store();
    let make = |s: &mut TestStore, spec: TokenSpec| s.create_token(&spec).unwrap().secret;
    let read = make(&mut s, spec("reader", Scope::Read, &[NS]));
    let write = make(&mut s, spec("writer", Scope::Write, &["app*"]));
    let admin = make(&mut s, spec("ns-admin", Scope::Admin, &[NS, "other"]));
    let store_admin = make(&mut s, spec("root", Scope::Admin, &["*"]));
    let other_ns_admin = make(&mut s, spec("elsewhere", Scope::Admin, &["other"]));
    let expired = make(
        &mut s,
        TokenSpec {
            expires_in_ms: Some(1),
            ..spec("short", Scope::Admin, &["*"])
        },
    );
    let revoked = make(&mut s, spec("gone", Scope::Admin, &["*"]));
    s.revoke_token("gone").unwrap();
    clock.advance(1);
    let bearer = |secret: &str| format!("Bearer {secret}");
    for (method, path, body) in [
        (
            "POST",
            "/set",
            json!({"key": "k", "value": "v", "namespace": NS}),
        ),
        (
            "POST",
            "/set",
            json!({"key": "o", "value": "v", "namespace": "other"}),
        ),
        (
            "POST",
            "/namespaces/app1/events",
            json!({"event_type": "a.b"}),
        ),
        (
            "POST",
            "/namespaces/app1/tasks",
            json!({"name": "t", "cron": "0 * * * *", "event_type": "a.t"}),
        ),
    ] {
        let answer = s.handle_http(&Request {
            method: method.into(),
            path: path.into(),
            headers: vec![("authorization".into(), bearer(&store_admin))],
            body: body.to_string().into_bytes(),
            ..Request::default()
        });
        assert!(answer.status < 300, "seeding {path}: {answer:?}");
    }
    s.flush().unwrap();
    let tokens = Tokens {
        all: [
            &read,
            &write,
            &admin,
            &store_admin,
            &other_ns_admin,
            &expired,
            &revoked,
        ]
        .map(String::clone)
        .to_vec(),
        read: bearer(&read),
        write: bearer(&write),
        admin: bearer(&admin),
        store_admin: bearer(&store_admin),
        other_ns_admin: bearer(&other_ns_admin),
        expired: bearer(&expired),
        revoked: bearer(&revoked),
    };
    (s, tokens)
}

fn detail(response: &Response) -> String {
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    body["detail"].as_str().unwrap_or_default().to_string()
}

/// Asks, expects a refusal with `status`, and checks nothing changed.
fn refused(s: &mut TestStore, route: &Route, token: Option<&str>, status: u16, case: &str) {
    s.flush().unwrap();
    let before = snapshot(s);
    let response = s.handle_http(&request(route, token));
    let line = format!("{} {} with {case}", route.method, route.template);
    assert_eq!(response.status, status, "{line}: {response:?}");
    assert!(!detail(&response).is_empty(), "{line}: a reason");
    let challenged = response
        .headers
        .iter()
        .any(|(n, v)| n == "www-authenticate" && v == CHALLENGE);
    assert_eq!(
        challenged,
        status == 401,
        "{line}: WWW-Authenticate only on 401"
    );
    s.flush().unwrap();
    assert!(snapshot(s) == before, "{line}: a refusal wrote something");
}

fn admitted(s: &mut TestStore, route: &Route, token: Option<&str>, case: &str) -> Response {
    let response = s.handle_http(&request(route, token));
    let line = format!("{} {} with {case}", route.method, route.template);
    assert!(
        // 501: a route this host does not serve (/performance in the
        // store alone), after the token was accepted.
        !matches!(response.status, 401 | 403) && (response.status < 500 || response.status == 501),
        "{line}: {response:?}"
    );
    response
}

/// The rule a route should have, said independently of `rule()`: GET
/// routes read, others write, except the routes named here.
fn expected(route: &Route) -> Rule {
    use RouteId::*;
    match route.id {
        OpenApi => Rule::Open,
        Health => Rule::OpenUnlessNamespaced(Scope::Read),
        Tick | Metrics | Performance | RecentErrors | Compact | ListTokens | CreateToken
        | RevokeToken => Rule::WholeStore,
        // Settings that change what every later write does.
        ClearNamespace | PutMetadata | PutLimits | PutKeyEvents | PutEventsConfig | Stats => {
            Rule::Scoped(Scope::Admin)
        }
        _ if route.method == "GET" => Rule::Scoped(Scope::Read),
        _ => Rule::Scoped(Scope::Write),
    }
}

/// Open to a request that names no namespace, as [`request`] asks.
fn open(route: &Route) -> bool {
    matches!(expected(route), Rule::Open | Rule::OpenUnlessNamespaced(_))
}

/// `/health?ns=` gives that namespace's size, so it is read like the
/// namespace's data once tokens exist; without `?ns=` it stays open.
#[test]
fn health_naming_a_namespace_needs_read_on_it() {
    let (mut s, t) = seeded();
    let health = |s: &mut TestStore, query: &str, token: Option<&str>| {
        let response = s.handle_http(&Request {
            method: "GET".into(),
            path: "/health".into(),
            query: query.into(),
            headers: token
                .map(|t| vec![("authorization".to_string(), t.to_string())])
                .unwrap_or_default(),
            ..Request::default()
        });
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        (response.status, body)
    };
    assert_eq!(health(&mut s, "", None).0, 200);
    let ns = format!("ns={NS}");
    assert_eq!(health(&mut s, &ns, None).0, 401);
    assert_eq!(health(&mut s, &ns, Some(&t.other_ns_admin)).0, 403);
    let (status, body) = health(&mut s, &ns, Some(&t.read));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["namespace"], NS);
    assert_eq!(body["store_size"], s.size(NS).unwrap());
    let (status, body) = health(&mut s, "ns=_bad", Some(&t.store_admin));
    assert_eq!(status, 400, "{body}");
}

#[test]
fn each_route_has_the_rule_its_method_and_purpose_give() {
    for route in ROUTES {
        assert_eq!(
            rule(route.id),
            expected(route),
            "{} {}",
            route.method,
            route.template
        );
    }
}

/// The token with just what the route needs on [`NS`].
fn right<'t>(tokens: &'t Tokens, route: &Route) -> Option<&'t str> {
    Some(match expected(route) {
        Rule::Open | Rule::OpenUnlessNamespaced(_) => return None,
        Rule::Scoped(Scope::Read) => &tokens.read,
        Rule::Scoped(Scope::Write) => &tokens.write,
        Rule::Scoped(Scope::Admin) => &tokens.admin,
        Rule::WholeStore => &tokens.store_admin,
    })
}

#[test]
fn every_route_admits_exactly_the_tokens_its_rule_allows() {
    for route in ROUTES {
        // A fresh store for each route: the right token's request may
        // change what the next route's would find.
        let (mut s, t) = seeded();
        let rule = expected(route);
        // Asked without a namespace (see `request`).
        if open(route) {
            for token in [None, Some("Bearer nope"), Some(t.expired.as_str())] {
                admitted(&mut s, route, token, "any credentials");
            }
            continue;
        }
        let flipped = if t.read.ends_with('0') { '1' } else { '0' };
        let wrong_secret = format!("{}{flipped}", &t.read[..t.read.len() - 1]);
        for (token, case) in [
            (None, "no token"),
            (Some("Bearer nope"), "a malformed token"),
            (
                Some(wrong_secret.as_str()),
                "a wrong secret for a real name",
            ),
            (Some("Basic dXNlcjpwYXNz"), "another scheme"),
            (Some(t.expired.as_str()), "an expired token"),
            (Some(t.revoked.as_str()), "a revoked token"),
        ] {
            refused(&mut s, route, token, 401, case);
        }
        let lists = matches!(route.id, RouteId::ListNamespaces);
        if lists {
            let shown = admitted(
                &mut s,
                route,
                Some(&t.other_ns_admin),
                "another namespace's token",
            );
            let body: Value = serde_json::from_slice(&shown.body).unwrap();
            assert_eq!(body["namespaces"], json!(["other"]), "{body}");
        } else {
            refused(
                &mut s,
                route,
                Some(&t.other_ns_admin),
                403,
                "another namespace's token",
            );
        }
        match rule {
            Rule::Scoped(Scope::Read) => {
                admitted(&mut s, route, Some(&t.read), "a read token");
            }
            _ => refused(&mut s, route, Some(&t.read), 403, "a read token"),
        }
        if rule == Rule::WholeStore {
            refused(
                &mut s,
                route,
                Some(&t.admin),
                403,
                "an admin token for some namespaces",
            );
        }
        admitted(&mut s, route, right(&t, route), "the right token");
    }
}

#[test]
fn no_answer_shows_a_secret() {
    let (mut s, t) = seeded();
    let mut bodies = Vec::new();
    for route in ROUTES {
        for token in [
            None,
            Some(t.read.as_str()),
            Some(t.expired.as_str()),
            Some(t.store_admin.as_str()),
        ] {
            let response = s.handle_http(&request(route, token));
            bodies.push(String::from_utf8_lossy(&response.body).into_owned());
            for (_, value) in &response.headers {
                bodies.push(value.clone());
            }
        }
    }
    for secret in &t.all {
        let random = secret.rsplit_once('.').unwrap().1;
        for body in &bodies {
            assert!(!body.contains(random), "a secret in an answer: {body}");
        }
    }
}

#[test]
fn an_open_server_serves_everyone_until_the_first_token() {
    let (mut s, _clock) = store();
    let ask = |s: &mut TestStore, method: &str, path: &str, body: Value| {
        s.handle_http(&Request {
            method: method.into(),
            path: path.into(),
            body: if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            },
            ..Request::default()
        })
    };
    let set = json!({"key": "k", "value": "v"});
    assert_eq!(ask(&mut s, "POST", "/set", set.clone()).status, 200);
    // The first token, over HTTP, while open: then auth is on.
    let made = ask(
        &mut s,
        "POST",
        "/tokens",
        json!({"name": "root", "namespaces": ["*"], "scope": "admin"}),
    );
    assert_eq!(made.status, 201, "{made:?}");
    let made: Value = serde_json::from_slice(&made.body).unwrap();
    assert!(made["secret"].as_str().unwrap().starts_with("nxt_root."));
    assert_eq!(ask(&mut s, "POST", "/set", set).status, 401);
    assert_eq!(ask(&mut s, "GET", "/health", Value::Null).status, 200);
    let listed = s.handle_http(&Request {
        method: "GET".into(),
        path: "/tokens".into(),
        headers: vec![(
            "authorization".into(),
            format!("Bearer {}", made["secret"].as_str().unwrap()),
        )],
        ..Request::default()
    });
    let listed: Value = serde_json::from_slice(&listed.body).unwrap();
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["tokens"][0]["name"], "root");
    assert!(listed["tokens"][0].get("secret").is_none());
}

/// Asks every route without a token under `policy`; panics unless exactly
/// the routes `admitted` names get past the check (no 401).
fn anonymous_walk(s: &mut TestStore, policy: AccessPolicy, admitted: impl Fn(&Route) -> bool) {
    for route in ROUTES {
        let response = s.handle_http(&Request {
            access: policy,
            ..request(route, None)
        });
        assert_eq!(
            response.status != 401,
            admitted(route),
            "{} {}: {response:?}",
            route.method,
            route.template
        );
    }
}

#[test]
fn a_closed_server_without_tokens_refuses_all_but_the_open_routes() {
    let (mut s, _clock) = store();
    let closed = AccessPolicy {
        open_without_tokens: false,
        public_stats: false,
    };
    anonymous_walk(&mut s, closed, open);
    assert!(s.storage().snapshot().is_empty(), "nothing written");
}

#[test]
fn public_stats_opens_stats_and_metrics_only() {
    let (mut s, _tokens) = seeded();
    let public = AccessPolicy {
        open_without_tokens: false,
        public_stats: true,
    };
    anonymous_walk(&mut s, public, |route| {
        matches!(
            route.id,
            RouteId::Stats | RouteId::Metrics | RouteId::Performance | RouteId::RecentErrors
        ) || open(route)
    });
}

#[test]
fn stats_list_only_the_namespaces_a_token_administers() {
    let (mut s, t) = seeded();
    let stats = |s: &mut TestStore, token: &str| {
        let response = s.handle_http(&Request {
            method: "GET".into(),
            path: "/stats".into(),
            headers: vec![("authorization".into(), token.into())],
            ..Request::default()
        });
        assert_eq!(response.status, 200, "{response:?}");
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        let mut names: Vec<String> = body["namespaces"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    };
    assert_eq!(stats(&mut s, &t.other_ns_admin), ["other"]);
    assert_eq!(stats(&mut s, &t.admin), [NS, "other"]);
    assert_eq!(stats(&mut s, &t.store_admin), [NS, "other"]);
}

#[test]
fn a_used_token_shows_when_to_the_minute() {
    let (mut s, t) = seeded();
    let route = ROUTES.iter().find(|r| r.id == RouteId::Get).unwrap();
    admitted(&mut s, route, Some(&t.read), "a read token");
    let reader = s
        .list_tokens()
        .unwrap()
        .into_iter()
        .find(|i| i.name == "reader")
        .unwrap();
    assert_eq!(reader.last_used_at, Some(common::START_MS + 1));
    // Within the minute, a use writes nothing.
    let before = snapshot(&s);
    admitted(&mut s, route, Some(&t.read), "a read token");
    s.flush().unwrap();
    let after = snapshot(&s);
    let changed: Vec<_> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        changed.iter().all(|k| !k.starts_with(&[0x01, b'U'])),
        "a second use in a minute was written"
    );
}
