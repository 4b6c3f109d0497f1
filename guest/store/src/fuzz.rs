//! The bodies of the fuzz targets. cargo-fuzz runs them from `fuzz/` (see
//! its README); `tests/fuzz_corpora.rs` replays the committed corpora
//! through them as ordinary tests. They live in the crate because they
//! exercise private codecs. Each one panics when a property breaks, which
//! is what a fuzzer reports; a typed error is never a failure.
//!
//! Only built with the `fuzzing` feature.

use arbitrary::{Result as Drawn, Unstructured};
use serde_json::{Map, Value, json};

use crate::events::{ids, pattern, tasks::Schedule};
use crate::http::{AccessPolicy, ROUTE_HEADER, ROUTES, Request, Response};
use crate::storage::{Storage, Write};
use crate::{Error, ManualClock, MemoryStorage, Store, keys, namespace};

const T0: u64 = 1_700_000_000_000;

type FuzzStore = Store<MemoryStorage, ManualClock>;

// ------------------------------------------------------------ rest-handler

/// A few requests of arbitrary method, path, query, headers and body, one
/// after another on one store. Every answer is a well-formed response below
/// 500, and a refusal (400, 401, 405, 413, 422) leaves storage unchanged.
pub fn rest_handler(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let clock = ManualClock::new(T0);
    let mut store = Store::new(MemoryStorage::new(), clock.clone());
    let Ok(count) = u.int_in_range(1..=6u8) else {
        return;
    };
    for _ in 0..count {
        let Ok(request) = request(&mut u) else {
            return;
        };
        let before = store.storage().snapshot();
        let response = store.handle_http(&request);
        check_response(&request, &response);
        if matches!(response.status, 400 | 401 | 405 | 413 | 422) {
            assert!(
                before == store.storage().snapshot(),
                "a {} changed storage: {request:?}",
                response.status
            );
        }
        clock.advance(u.int_in_range(0..=120_000u64).unwrap_or(0));
    }
}

/// Names the API knows, so that drawn requests reach the handlers.
const WORDS: &[&str] = &[
    "default",
    "app1",
    "a",
    "k",
    "user.created",
    "user.*",
    "#",
    "g1",
    "n1",
    "t1",
    "root",
    "0",
    "1",
    "-1",
    "65.0",
    "1e3",
    "null",
    "true",
    "",
    "*",
    "%2F",
    "%ff",
    "..",
    "_x",
    "00000000000000000000",
    "0190a0f0c0000000000000000000",
];
const QUERY_NAMES: &[&str] = &[
    "ns", "limit", "cursor", "prefix", "after", "type", "since", "until", "budget", "group",
];
const FIELDS: &[&str] = &[
    "key",
    "value",
    "ttl",
    "namespace",
    "by",
    "event_type",
    "payload",
    "delay_ms",
    "events",
    "max",
    "wait_ms",
    "visibility_ms",
    "consumer",
    "group",
    "ids",
    "pattern",
    "reason",
    "name",
    "cron",
    "timezone",
    "display_name",
    "description",
    "max_keys",
    "max_key_bytes",
    "max_value_bytes",
    "policy",
    "max_attempts",
    "base_delay_ms",
    "max_delay_ms",
    "scope",
    "namespaces",
    "expires_in",
    "retry",
    "id",
    "budget",
];

fn word(u: &mut Unstructured) -> Drawn<String> {
    if u.ratio(3, 4)? {
        Ok(u.choose(WORDS)?.to_string())
    } else {
        u.arbitrary()
    }
}

fn request(u: &mut Unstructured) -> Drawn<Request> {
    let (method, path) = if u.ratio(7, 8)? {
        let route = u.choose(ROUTES)?;
        let mut path = String::new();
        for part in route.template.split('/').skip(1) {
            path.push('/');
            if part.starts_with('{') {
                path.push_str(&word(u)?);
            } else {
                path.push_str(part);
            }
        }
        let method = if u.ratio(9, 10)? {
            route.method.to_string()
        } else {
            u.choose(&["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"])?
                .to_string()
        };
        (method, path)
    } else {
        (u.arbitrary()?, u.arbitrary()?)
    };
    let mut query = Vec::new();
    for _ in 0..u.int_in_range(0..=3u8)? {
        query.push(format!("{}={}", u.choose(QUERY_NAMES)?, word(u)?));
    }
    let mut headers = Vec::new();
    if u.ratio(1, 4)? {
        headers.push(("authorization".to_string(), format!("Bearer {}", word(u)?)));
    }
    if u.ratio(1, 8)? {
        headers.push((u.arbitrary()?, u.arbitrary()?));
    }
    let body = if u.ratio(1, 8)? {
        u.arbitrary::<Vec<u8>>()?
    } else {
        serde_json::to_vec(&body_object(u)?).expect("a JSON value serialises")
    };
    Ok(Request {
        method,
        path,
        query: query.join("&"),
        headers,
        body,
        started_at_ms: Some(T0),
        access: AccessPolicy::default(),
    })
}

fn body_object(u: &mut Unstructured) -> Drawn<Value> {
    let mut object = Map::new();
    for _ in 0..u.int_in_range(0..=5u8)? {
        object.insert(u.choose(FIELDS)?.to_string(), value(u, 2)?);
    }
    Ok(Value::Object(object))
}

fn value(u: &mut Unstructured, depth: u8) -> Drawn<Value> {
    Ok(match u.int_in_range(0..=8u8)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(u.arbitrary::<i64>()?),
        3 => json!(u.int_in_range(0..=100_000u64)?),
        4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 if depth > 0 => Value::Array(
            (0..u.int_in_range(0..=3u8)?)
                .map(|_| value(u, depth - 1))
                .collect::<Drawn<_>>()?,
        ),
        6 if depth > 0 => body_object(u)?,
        _ => Value::String(word(u)?),
    })
}

fn check_response(request: &Request, response: &Response) {
    // The routes only a host with a process serves (/performance) are the
    // store's one 5xx that is not a failure.
    let host_only = request.path.starts_with("/performance") && response.status == 501;
    assert!(
        (200..500).contains(&response.status) || host_only,
        "status {} for {request:?}: {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    assert!(
        response.headers.iter().any(|(n, _)| n == ROUTE_HEADER),
        "no route header: {request:?}"
    );
    let event_stream = response
        .headers
        .iter()
        .any(|(n, v)| n == "content-type" && v == "text/event-stream");
    if response.status != 204 && !event_stream {
        let body: Value = serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}) for {request:?}"));
        if response.status >= 400 {
            assert!(
                body["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "a refusal without a reason: {request:?}"
            );
        }
    }
}

// ------------------------------------------------------------ key-codec

/// The byte-key layout's promises: a namespace's keys lie in its range and
/// in no other namespace's, user keys keep their order, and every key that
/// is split back gives what was put in.
pub fn key_codec(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((a, b, ka, kb, t1, t2)) = (|| -> Drawn<_> {
        Ok((
            namespace_name(&mut u)?,
            namespace_name(&mut u)?,
            u.arbitrary::<Vec<u8>>()?,
            u.arbitrary::<Vec<u8>>()?,
            u.arbitrary::<u64>()?,
            u.arbitrary::<u64>()?,
        ))
    })() else {
        return;
    };
    let (Some(a), Some(b)) = (a, b) else {
        return;
    };
    let inside = |ns: &str, key: &[u8]| {
        let (start, end) = keys::namespace_range(ns);
        start.as_slice() <= key && key < end.as_slice()
    };
    let (registry_start, registry_end) = keys::registry_range();
    for (ns, key) in [(&a, &ka), (&a, &kb), (&b, &ka)] {
        let entry = keys::entry(ns, key);
        assert!(inside(ns, &entry));
        assert!(!(registry_start <= entry && entry < registry_end));
        assert_eq!(&entry[keys::entry_prefix_len(ns)..], key.as_slice());
    }
    if a != b {
        assert!(!inside(&b, &keys::entry(&a, &ka)), "{a:?} in {b:?}");
        assert!(!inside(&a, &keys::entry(&b, &kb)), "{b:?} in {a:?}");
    }
    assert_eq!(
        keys::entry(&a, &ka).cmp(&keys::entry(&a, &kb)),
        ka.cmp(&kb),
        "user keys keep their order"
    );
    assert_eq!(
        keys::namespace_of_record(&keys::namespace_record(&a)),
        Some(a.as_str())
    );
    let token = String::from_utf8_lossy(&kb).into_owned();
    assert_eq!(
        keys::token_of_record(&keys::token(&token)),
        Some(token.as_str())
    );
    let (i1, i2) = (
        keys::indexed(&a, keys::EXPIRY, t1, &ka),
        keys::indexed(&a, keys::EXPIRY, t2, &kb),
    );
    assert_eq!(keys::parse_indexed(&a, &i1), Some((t1, ka.clone())));
    assert_eq!(i1.cmp(&i2), (t1, &ka).cmp(&(t2, &kb)), "index order");
    let (before_start, before_end) = keys::indexed_before(&a, keys::EXPIRY, t2);
    assert_eq!(before_start <= i1 && i1 < before_end, t1 < t2);
    let (tag_start, tag_end) = keys::tag_range(&a, keys::EXPIRY);
    assert!(tag_start <= i1 && i1 < tag_end);
    assert_eq!(
        keys::tagged_rest(&a, &keys::tagged(&a, keys::LOG, &[&ka, &kb])),
        [ka.as_slice(), kb.as_slice()].concat()
    );
    match keys::prefix_end(&ka) {
        Some(end) => {
            let mut longer = ka.clone();
            longer.extend_from_slice(&kb);
            assert!(longer < end && ka < end);
        }
        None => assert!(ka.iter().all(|&b| b == 0xFF)),
    }
    let id = ids::make(t1 % (1 << 48), t2 as u32);
    assert!(ids::check(&id).is_ok(), "{id}");
    assert!(ids::time_of(&id).is_some(), "{id}");
    let text = String::from_utf8_lossy(&ka);
    if ids::check(&text).is_ok() {
        assert_eq!(text.len(), id.len());
    }
}

/// A valid namespace name, or `None` for one that breaks the rules.
fn namespace_name(u: &mut Unstructured) -> Drawn<Option<String>> {
    let name = word(u)?;
    Ok(namespace::validate(&name).is_ok().then_some(name))
}

// ------------------------------------------------------------ stored-records

/// One stored record of a store that holds every kind of record is replaced
/// by arbitrary bytes, a truncation or a flipped byte; then every reading
/// route is asked. Each answer is below 500 or a 503 (a typed storage
/// error), never a panic; and what a 200 says of a record that was not
/// touched is still right.
pub fn stored_records(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let (mut store, secret, node) = populated();
    let snapshot = store.storage().snapshot();
    let stored: Vec<&Vec<u8>> = snapshot.keys().collect();
    let Ok(victim) = u.choose(&stored) else {
        return;
    };
    let victim = (*victim).clone();
    let old = snapshot[&victim].clone();
    let Ok(new) = corrupt(&mut u, &old) else {
        return;
    };
    store
        .storage()
        .commit(Vec::new(), vec![Write::Put(victim.clone(), new)])
        .expect("memory storage commits");
    for (method, path, body) in READS_AND_WRITES {
        let path = &path.replace("{node}", &node);
        let request = Request {
            method: method.to_string(),
            path: path.split('?').next().unwrap_or_default().to_string(),
            query: path
                .split_once('?')
                .map(|(_, q)| q)
                .unwrap_or("")
                .to_string(),
            headers: vec![("authorization".into(), format!("Bearer {secret}"))],
            body: body.as_bytes().to_vec(),
            started_at_ms: Some(T0),
            access: AccessPolicy::default(),
        };
        let response = store.handle_http(&request);
        assert!(
            response.status < 500 || response.status == 503,
            "{} for {method} {path} with {victim:?} = {:?}: {}",
            response.status,
            snapshot.get(&victim),
            String::from_utf8_lossy(&response.body)
        );
        if (*method, path.as_str()) == ("GET", "/get/kept?ns=app1")
            && response.status == 200
            && victim != keys::entry("app1", b"kept")
        {
            let body: Value = serde_json::from_slice(&response.body).expect("JSON");
            assert_eq!(body["value"], "kept value", "with {victim:?} corrupted");
        }
    }
}

fn corrupt(u: &mut Unstructured, old: &[u8]) -> Drawn<Vec<u8>> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => old[..u.int_in_range(0..=old.len())?].to_vec(),
        1 if !old.is_empty() => {
            let mut new = old.to_vec();
            let at = u.choose_index(new.len())?;
            new[at] ^= u.int_in_range(1..=255u8)?;
            new
        }
        _ => u.arbitrary()?,
    })
}

/// Requests that read (and some that write) every kind of record.
const READS_AND_WRITES: &[(&str, &str, &str)] = &[
    ("GET", "/get/kept?ns=app1", ""),
    ("GET", "/get/ttl?ns=app1", ""),
    ("GET", "/get/n?ns=app1", ""),
    ("GET", "/namespaces", ""),
    ("GET", "/stats", ""),
    ("GET", "/stats?ns=app1", ""),
    ("GET", "/namespaces/app1", ""),
    ("GET", "/namespaces/app1/keys", ""),
    ("GET", "/namespaces/app1/entries", ""),
    ("GET", "/namespaces/app1/metadata", ""),
    ("GET", "/namespaces/app1/limits", ""),
    ("GET", "/namespaces/lru", ""),
    ("GET", "/namespaces/lru/entries", ""),
    ("GET", "/namespaces/app1/events/log", ""),
    ("GET", "/namespaces/app1/events/log?type=user.created", ""),
    ("GET", "/namespaces/app1/events/metrics", ""),
    ("GET", "/namespaces/app1/events/config", ""),
    ("GET", "/namespaces/app1/subscriptions", ""),
    ("GET", "/namespaces/app1/dlq", ""),
    ("GET", "/namespaces/app1/nodes", ""),
    ("GET", "/namespaces/app1/nodes/{node}", ""),
    ("GET", "/namespaces/app1/tasks", ""),
    ("GET", "/namespaces/app1/tasks/t1", ""),
    ("GET", "/tokens", ""),
    ("POST", "/namespaces/app1/increment", r#"{"key":"n"}"#),
    (
        "POST",
        "/set?ns=app1",
        r#"{"key":"kept","value":"kept value"}"#,
    ),
    ("POST", "/set?ns=lru", r#"{"key":"new","value":"v"}"#),
    ("POST", "/namespaces/app1/events/receive", r#"{"max":10}"#),
    (
        "POST",
        "/namespaces/app1/events/receive",
        r#"{"group":"g1"}"#,
    ),
    (
        "POST",
        "/namespaces/app1/events",
        r#"{"event_type":"user.created"}"#,
    ),
    ("POST", "/namespaces/app1/nodes/{node}/heartbeat", "{}"),
    ("POST", "/namespaces/app1/dlq/replay", "{}"),
    ("POST", "/tick", "{}"),
    ("DELETE", "/delete/ttl?ns=app1", ""),
    ("DELETE", "/namespaces/lru", ""),
];

/// A store holding every kind of record, made through the API, and the
/// secret of its admin token and the id of its node.
fn populated() -> (FuzzStore, String, String) {
    let clock = ManualClock::new(T0);
    let mut store = Store::new(MemoryStorage::new(), clock.clone());
    let mut call = |method: &str, path: &str, body: Value| {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let response = store.handle_http(&Request {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            body: serde_json::to_vec(&body).expect("JSON"),
            ..Request::default()
        });
        assert!(response.status < 300, "{method} {path}: {response:?}");
        serde_json::from_slice::<Value>(&response.body).expect("JSON")
    };
    call(
        "POST",
        "/set?ns=app1",
        json!({"key": "kept", "value": "kept value"}),
    );
    call(
        "POST",
        "/set?ns=app1",
        json!({"key": "ttl", "value": "v", "ttl": 60}),
    );
    call(
        "POST",
        "/namespaces/app1/increment",
        json!({"key": "n", "by": 5}),
    );
    call("PUT", "/namespaces/app1/metadata", json!({"owner": "ops"}));
    call("PUT", "/namespaces/app1/limits", json!({"max_keys": 100}));
    call(
        "PUT",
        "/namespaces/lru/limits",
        json!({"max_keys": 2, "policy": "evict-lru"}),
    );
    call("POST", "/set?ns=lru", json!({"key": "a", "value": "1"}));
    call(
        "PUT",
        "/namespaces/app1/subscriptions/g1",
        json!({"patterns": ["user.*"]}),
    );
    call(
        "PUT",
        "/namespaces/app1/events/config",
        json!({"max_attempts": 1}),
    );
    for _ in 0..3 {
        call(
            "POST",
            "/namespaces/app1/events",
            json!({"event_type": "user.created"}),
        );
    }
    // The default queue gets what no subscription takes: one event goes there.
    call(
        "POST",
        "/namespaces/app1/events",
        json!({"event_type": "billing.paid"}),
    );
    call("POST", "/namespaces/app1/events/receive", json!({"max": 1}));
    let leased = call(
        "POST",
        "/namespaces/app1/events/receive",
        json!({"max": 2, "group": "g1"}),
    );
    let id = leased["messages"][0]["message_id"]
        .as_str()
        .expect("a message")
        .to_string();
    call(
        "POST",
        &format!("/namespaces/app1/events/{id}/nack"),
        json!({"reason": "fuzz", "group": "g1"}),
    );
    let node = call(
        "POST",
        "/namespaces/app1/nodes",
        json!({"display_name": "node one"}),
    );
    let node = node["node_id"].as_str().expect("a node id").to_string();
    call(
        "POST",
        "/namespaces/app1/tasks",
        json!({"name": "t1", "cron": "*/5 * * * *", "event_type": "report.run"}),
    );
    clock.advance(600_000);
    call("POST", "/tick", json!({}));
    let token = call(
        "POST",
        "/tokens",
        json!({"name": "root", "namespaces": ["*"], "scope": "admin"}),
    );
    let secret = token["secret"].as_str().expect("a secret").to_string();
    (store, secret, node)
}

// ------------------------------------------------------------ cron-and-patterns

/// Cron expressions and event patterns, as a task or a subscription gets
/// them: parsing never panics, a schedule's next occurrence is strictly
/// later, and matching agrees with a plain reading of the pattern rules.
pub fn cron_and_patterns(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((expr, zone, after, pattern_text, event_type)) = (|| -> Drawn<_> {
        Ok((
            u.arbitrary::<String>()?,
            u.arbitrary::<Option<String>>()?,
            u.arbitrary::<u64>()?,
            u.arbitrary::<String>()?,
            u.arbitrary::<String>()?,
        ))
    })() else {
        return;
    };
    match Schedule::parse(&expr, zone.as_deref()) {
        Ok(schedule) => {
            if let Some(next) = schedule.next_after(after) {
                assert!(next > after, "{expr:?} after {after}: {next}");
                if let Some(again) = schedule.next_after(next) {
                    assert!(again > next, "{expr:?} after {next}: {again}");
                }
            }
        }
        Err(e) => assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}"),
    }
    let valid_pattern = pattern::validate_pattern(&pattern_text).is_ok();
    let valid_type = pattern::validate_event_type(&event_type).is_ok();
    if valid_pattern && valid_type {
        let got = pattern::matches(&pattern_text, &event_type);
        let segments = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        let (p, t) = (segments(&pattern_text), segments(&event_type));
        if p.iter().filter(|s| *s == "#").count() <= 4 {
            let p: Vec<&str> = p.iter().map(String::as_str).collect();
            let t: Vec<&str> = t.iter().map(String::as_str).collect();
            assert_eq!(
                got,
                plain_match(&p, &t),
                "{pattern_text:?} ~ {event_type:?}"
            );
        }
        if !pattern_text.contains(['*', '#']) {
            assert_eq!(got, pattern_text == event_type);
        }
    }
    if valid_type {
        assert!(pattern::matches("#", &event_type));
        assert!(pattern::matches(&event_type, &event_type));
    }
}

/// The pattern rules read plainly, by trying every split for each `#`
/// (exponential in their number, so only asked with a few).
fn plain_match(p: &[&str], t: &[&str]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((&"#", rest)) => (0..=t.len()).any(|skip| plain_match(rest, &t[skip..])),
        Some((&seg, rest)) => match t.split_first() {
            Some((&ty, t_rest)) => (seg == "*" || seg == ty) && plain_match(rest, t_rest),
            None => false,
        },
    }
}
