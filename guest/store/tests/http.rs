//! The REST API natively, under random requests: whatever the method, path,
//! query and body, `handle_http` answers (never panics) with JSON, every
//! error carries a `detail`, and a refused request leaves storage as it was.

mod common;

use nexus_store::http::{IDEMPOTENCY_HEADER, REPLAYED_HEADER, ROUTES, Request};
use proptest::prelude::*;
use serde_json::{Value, json};

use common::{TestStore, snapshot, store};

/// A store with something in it for the routes to find.
fn seeded() -> TestStore {
    let (mut s, _clock) = store();
    let call = |s: &mut TestStore, method: &str, path: &str, body: Value| {
        let response = s.handle_http(&Request {
            method: method.into(),
            path: path.into(),
            body: body.to_string().into_bytes(),
            ..Request::default()
        });
        assert!(
            response.status < 300,
            "seeding {method} {path}: {response:?}"
        );
    };
    call(
        &mut s,
        "POST",
        "/set",
        json!({"key": "k", "value": "v", "namespace": "app"}),
    );
    call(
        &mut s,
        "POST",
        "/set",
        json!({"key": "n", "value": "1", "namespace": "app"}),
    );
    call(
        &mut s,
        "POST",
        "/namespaces/app/events",
        json!({"event_type": "a.b"}),
    );
    call(
        &mut s,
        "PUT",
        "/namespaces/app/subscriptions/g",
        json!({"patterns": ["#"]}),
    );
    call(
        &mut s,
        "POST",
        "/namespaces/app/tasks",
        json!({"name": "t", "cron": "0 * * * *", "event_type": "a.t"}),
    );
    s.flush().expect("flush");
    s
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("app".to_string()),
        Just("other".to_string()),
        Just("_reserved".to_string()),
        Just("a%2Fb".to_string()),
        Just("%FF".to_string()),
        Just("00000000000000000000".to_string()),
        Just("x".repeat(300)),
        "[ -~]{0,12}",
    ]
}

/// A method and a path: mostly a route's own method on its template with
/// parameters filled in (so that requests get past routing), sometimes any
/// method, sometimes any path.
fn line() -> impl Strategy<Value = (String, String)> {
    let templated = (
        0..ROUTES.len(),
        any::<bool>(),
        method(),
        segment(),
        segment(),
        segment(),
    )
        .prop_map(|(i, own_method, other_method, a, b, c)| {
            let route = &ROUTES[i];
            let path = route
                .template
                .replace("{ns}", &a)
                .replace("{key}", &b)
                .replace("{id}", &c)
                .replace("{name}", &c);
            let method = if own_method {
                route.method.to_string()
            } else {
                other_method
            };
            (method, path)
        });
    prop_oneof![
        4 => templated,
        1 => (method(), "/[ -~]{0,30}"),
        1 => (method(), "[ -~]{0,10}"),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("ns=app".to_string()),
        Just("ns=_x".to_string()),
        Just("limit=0".to_string()),
        Just("limit=abc".to_string()),
        Just("after=zzz&limit=2".to_string()),
        Just("prefix=k&cursor=".to_string()),
        "[ -~]{0,24}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1.5)),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(json!(["#", "a.*"])),
        Just(json!({"nested": true})),
        Just(json!("* * * * *")),
    ]
}

const FIELDS: &[&str] = &[
    "key",
    "value",
    "ttl",
    "namespace",
    "event_type",
    "payload",
    "delay_ms",
    "max",
    "visibility_timeout_ms",
    "group",
    "consumer",
    "message_ids",
    "reason",
    "patterns",
    "events",
    "display_name",
    "metadata",
    "name",
    "cron",
    "timezone",
    "max_keys",
    "max_value_bytes",
    "policy",
    "max_attempts",
    "by",
];

fn body() -> impl Strategy<Value = Vec<u8>> {
    let object = prop::collection::vec((0..FIELDS.len(), json_value()), 0..6).prop_map(|fields| {
        let map: serde_json::Map<String, Value> = fields
            .into_iter()
            .map(|(i, v)| (FIELDS[i].to_string(), v))
            .collect();
        Value::Object(map).to_string().into_bytes()
    });
    prop_oneof![
        3 => object,
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(Vec::new()),
    ]
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("PUT"),
        Just("DELETE"),
        Just("PATCH"),
        Just("HEAD"),
    ]
    .prop_map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_request_gets_a_json_answer_and_a_refusal_changes_nothing(
        (method, path) in line(),
        query in query(),
        body in body(),
    ) {
        let mut s = seeded();
        let before = snapshot(&s);
        let request = Request { method, path, query, body, ..Request::default() };
        let response = s.handle_http(&request);
        prop_assert!((200..600).contains(&response.status), "{response:?}");
        let answer: Value = serde_json::from_slice(&response.body)
            .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {response:?}")))?;
        if response.status >= 400 {
            prop_assert!(
                answer["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{request:?} -> {answer}"
            );
            // Refused: storage is as it was. (Read statistics stay in the
            // instance until a flush, and seeding ended with one.)
            prop_assert_eq!(snapshot(&s), before, "{:?}", request);
        }
    }

    /// Any request sent twice with one idempotency key: if the first wrote
    /// anything, the second is its recorded answer, byte for byte, and
    /// writes nothing; no route refuses to carry a key for how it writes.
    #[test]
    fn any_write_sent_twice_with_a_key_applies_once(
        (method, path) in line(),
        query in query(),
        body in body(),
    ) {
        let mut s = seeded();
        let before = snapshot(&s);
        let request = Request {
            method,
            path,
            query,
            body,
            headers: vec![(IDEMPOTENCY_HEADER.into(), "retry-me".into())],
            ..Request::default()
        };
        let first = s.handle_http(&request);
        prop_assert!(
            !String::from_utf8_lossy(&first.body).contains("cannot carry an idempotency key"),
            "{request:?} -> {first:?}"
        );
        let after_first = snapshot(&s);
        let second = s.handle_http(&request);
        if after_first != before {
            prop_assert_eq!(
                (second.status, &second.body),
                (first.status, &first.body),
                "{:?}",
                request
            );
            prop_assert!(
                second.headers.iter().any(|(n, v)| n == REPLAYED_HEADER && v == "true"),
                "{second:?}"
            );
            prop_assert_eq!(snapshot(&s), after_first, "{:?}", request);
        }
    }
}

/// What schemathesis found against the OpenAPI document: whole numbers
/// written as floats are integers (JSON Schema's `integer`), a body that is
/// an array is not an object, and an empty number in the query is no number.
#[test]
fn integers_may_be_written_as_floats_and_bodies_are_objects() {
    let mut s = seeded();
    let ask = |s: &mut TestStore, method: &str, path: &str, query: &str, body: &str| {
        s.handle_http(&Request {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            body: body.as_bytes().to_vec(),
            ..Request::default()
        })
        .status
    };
    let ok = [
        (
            "POST",
            "/namespaces/app/increment",
            r#"{"key": "n", "by": 2.0}"#,
        ),
        (
            "POST",
            "/namespaces/app/events",
            r#"{"event_type": "a.b", "delay_ms": 5.0}"#,
        ),
        (
            "POST",
            "/namespaces/app/events/receive",
            r#"{"max": 1.0, "wait_ms": 0.0}"#,
        ),
        (
            "PUT",
            "/namespaces/app/limits",
            r#"{"max_keys": 1e3, "max_value_bytes": 4096.0}"#,
        ),
        (
            "PUT",
            "/namespaces/app/events/config",
            r#"{"max_attempts": 4.0}"#,
        ),
    ];
    for (method, path, body) in ok {
        let status = ask(&mut s, method, path, "", body);
        assert!(
            (200..300).contains(&status),
            "{method} {path} {body}: {status}"
        );
    }
    s.flush().unwrap();
    let before = snapshot(&s);
    let refused = [
        (
            "POST",
            "/namespaces/app/increment",
            "",
            r#"{"key": "n", "by": 2.5}"#,
            422,
        ),
        (
            "PUT",
            "/namespaces/app/events/config",
            "",
            "[null, null]",
            422,
        ),
        ("PUT", "/namespaces/app/limits", "", " [1]", 422),
        ("POST", "/tick", "budget=", "", 400),
        ("GET", "/namespaces/app/entries", "limit=", "", 400),
    ];
    for (method, path, query, body, status) in refused {
        assert_eq!(
            ask(&mut s, method, path, query, body),
            status,
            "{method} {path}?{query} {body}"
        );
    }
    s.flush().unwrap();
    assert!(snapshot(&s) == before, "refusals wrote nothing");
}
