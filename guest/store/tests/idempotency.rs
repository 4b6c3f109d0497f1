//! Idempotency keys over the REST API, natively: a write sent again with
//! its key is answered as the first time and applied once — also when the
//! first answer was lost after the commit (`outcome unknown`), which is
//! what the keys are for.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use nexus_store::http::{IDEMPOTENCY_HEADER, REPLAYED_HEADER, Request, Response};
use nexus_store::{ManualClock, MemoryStorage, Storage, StorageError, Store};
use proptest::prelude::*;
use serde_json::{Value, json};

use common::{Gate, Gated, START_MS, TestStore, proptest_config, snapshot, store};

fn request(method: &str, path: &str, body: Value, key: Option<&str>) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        headers: key
            .map(|k| vec![(IDEMPOTENCY_HEADER.to_string(), k.to_string())])
            .unwrap_or_default(),
        body: if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        },
        ..Request::default()
    }
}

fn json_of(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

fn replayed(response: &Response) -> bool {
    response
        .headers
        .iter()
        .any(|(name, value)| name == REPLAYED_HEADER && value == "true")
}

fn call<S: Storage>(
    s: &mut Store<S, ManualClock>,
    method: &str,
    path: &str,
    body: Value,
    key: Option<&str>,
) -> Response {
    s.handle_http(&request(method, path, body, key))
}

fn counter(s: &mut TestStore, ns: &str, key: &str) -> Option<String> {
    s.get(ns, key.as_bytes())
        .unwrap()
        .map(|e| String::from_utf8(e.value).unwrap())
}

fn event_count(s: &mut TestStore, ns: &str) -> u64 {
    let log = call(
        s,
        "GET",
        &format!("/namespaces/{ns}/events/log"),
        Value::Null,
        None,
    );
    json_of(&log)["events"].as_array().unwrap().len() as u64
}

#[test]
fn a_set_sent_again_with_its_key_is_answered_the_same_and_written_once() {
    let (mut s, _clock) = store();
    let body = json!({"key": "k", "value": "v1", "namespace": "app"});
    let first = call(&mut s, "POST", "/set", body.clone(), Some("req-1"));
    assert_eq!(first.status, 200, "{first:?}");
    assert!(!replayed(&first));
    // Someone else writes the key in between: the retry must not undo it.
    call(
        &mut s,
        "POST",
        "/set",
        json!({"key": "k", "value": "v2", "namespace": "app"}),
        None,
    );
    let again = call(&mut s, "POST", "/set", body, Some("req-1"));
    assert!(replayed(&again), "{again:?}");
    assert_eq!(
        (again.status, json_of(&again)),
        (first.status, json_of(&first))
    );
    assert_eq!(counter(&mut s, "app", "k").as_deref(), Some("v2"));
    s.flush().unwrap();
    assert_eq!(s.stats("app").unwrap().sets, 2, "the replay wrote nothing");
}

#[test]
fn increments_and_emits_apply_once_per_key() {
    let (mut s, _clock) = store();
    for _ in 0..3 {
        let r = call(
            &mut s,
            "POST",
            "/namespaces/app/increment",
            json!({"key": "n", "by": 5}),
            Some("inc-a"),
        );
        assert_eq!((r.status, json_of(&r)["value"].clone()), (200, json!(5)));
    }
    call(
        &mut s,
        "POST",
        "/namespaces/app/increment",
        json!({"key": "n", "by": 5}),
        Some("inc-b"),
    );
    assert_eq!(counter(&mut s, "app", "n").as_deref(), Some("10"));

    let ids: Vec<Value> = (0..3)
        .map(|_| {
            let r = call(
                &mut s,
                "POST",
                "/namespaces/app/events",
                json!({"event_type": "order.created", "payload": {"n": 1}}),
                Some("emit-1"),
            );
            assert_eq!(r.status, 201, "{r:?}");
            json_of(&r)["message_id"].clone()
        })
        .collect();
    assert!(ids[0].is_string(), "{ids:?}");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(event_count(&mut s, "app"), 1);
}

#[test]
fn a_key_reused_for_another_request_is_refused_and_changes_nothing() {
    let (mut s, _clock) = store();
    let first = call(
        &mut s,
        "POST",
        "/namespaces/app/increment",
        json!({"key": "n", "by": 1}),
        Some("k1"),
    );
    assert_eq!(first.status, 200);
    let before = snapshot(&s);
    for (method, path, body) in [
        (
            "POST",
            "/namespaces/app/increment",
            json!({"key": "n", "by": 2}),
        ),
        (
            "POST",
            "/set",
            json!({"key": "n", "value": "x", "namespace": "app"}),
        ),
    ] {
        let r = call(&mut s, method, path, body, Some("k1"));
        assert_eq!(r.status, 422, "{r:?}");
        assert!(
            json_of(&r)["detail"]
                .as_str()
                .unwrap()
                .contains("idempotency key reused"),
            "{r:?}"
        );
    }
    assert_eq!(snapshot(&s), before);
    // The same key in another namespace is another key.
    let other = call(
        &mut s,
        "POST",
        "/namespaces/other/increment",
        json!({"key": "n", "by": 1}),
        Some("k1"),
    );
    assert_eq!((other.status, replayed(&other)), (200, false));
}

#[test]
fn bad_keys_and_whole_store_routes_are_refused_before_anything_runs() {
    let (mut s, _clock) = store();
    let before = snapshot(&s);
    for key in ["", "has space", &"k".repeat(256)] {
        let r = call(
            &mut s,
            "POST",
            "/set",
            json!({"key": "k", "value": "v"}),
            Some(key),
        );
        assert_eq!(r.status, 400, "{key:?}: {r:?}");
    }
    let r = call(&mut s, "POST", "/tick", Value::Null, Some("t1"));
    assert_eq!(r.status, 400, "{r:?}");
    assert!(
        json_of(&r)["detail"]
            .as_str()
            .unwrap()
            .contains("one namespace")
    );
    assert_eq!(snapshot(&s), before);
    // A read ignores the header.
    let r = call(&mut s, "GET", "/get/k", Value::Null, Some("has space"));
    assert_eq!(r.status, 404);
}

#[test]
fn a_request_that_wrote_nothing_is_not_recorded() {
    let (mut s, _clock) = store();
    call(
        &mut s,
        "POST",
        "/set",
        json!({"key": "n", "value": "abc"}),
        None,
    );
    let refused = call(
        &mut s,
        "POST",
        "/namespaces/default/increment",
        json!({"key": "n", "by": 1}),
        Some("k"),
    );
    assert_eq!(refused.status, 409, "{refused:?}");
    call(
        &mut s,
        "POST",
        "/set",
        json!({"key": "n", "value": "1"}),
        None,
    );
    let retried = call(
        &mut s,
        "POST",
        "/namespaces/default/increment",
        json!({"key": "n", "by": 1}),
        Some("k"),
    );
    assert_eq!(
        (
            retried.status,
            replayed(&retried),
            json_of(&retried)["value"].clone()
        ),
        (200, false, json!(2))
    );
}

#[test]
fn keys_expire_after_the_namespace_window_and_are_swept() {
    let (mut s, clock) = store();
    let limits = call(
        &mut s,
        "PUT",
        "/namespaces/app/limits",
        json!({"idempotency_window_ms": 60_000}),
        None,
    );
    assert_eq!(limits.status, 200, "{limits:?}");
    assert_eq!(json_of(&limits)["idempotency_window_ms"], json!(60_000));
    let inc = |s: &mut TestStore, delta: i64| {
        call(
            s,
            "POST",
            "/namespaces/app/increment",
            json!({"key": "n", "by": delta}),
            Some("k"),
        )
    };
    assert_eq!(inc(&mut s, 1).status, 200);
    clock.advance(59_999);
    assert!(replayed(&inc(&mut s, 1)));
    assert_eq!(inc(&mut s, 7).status, 422);
    clock.advance(1);
    // The window has ended: the key names a new request.
    let after = inc(&mut s, 7);
    assert_eq!((after.status, replayed(&after)), (200, false));
    assert_eq!(counter(&mut s, "app", "n").as_deref(), Some("8"));

    let recorded = |s: &TestStore| {
        snapshot(s)
            .keys()
            .filter(|k| k.starts_with(b"app\0I") || k.starts_with(b"app\0J"))
            .count()
    };
    assert_eq!(recorded(&s), 3, "one record and two index entries");
    s.tick(100).unwrap();
    assert_eq!(recorded(&s), 2, "the stale index entry went");
    clock.advance(60_000);
    s.tick(100).unwrap();
    assert_eq!(recorded(&s), 0, "the record went with its window");
    assert_eq!(counter(&mut s, "app", "n").as_deref(), Some("8"));
}

#[test]
fn a_clear_with_a_key_runs_once() {
    let (mut s, _clock) = store();
    call(
        &mut s,
        "POST",
        "/set",
        json!({"key": "a", "value": "1", "namespace": "app"}),
        None,
    );
    let first = call(
        &mut s,
        "DELETE",
        "/namespaces/app",
        Value::Null,
        Some("clear-1"),
    );
    assert_eq!(first.status, 200, "{first:?}");
    call(
        &mut s,
        "POST",
        "/set",
        json!({"key": "b", "value": "2", "namespace": "app"}),
        None,
    );
    let again = call(
        &mut s,
        "DELETE",
        "/namespaces/app",
        Value::Null,
        Some("clear-1"),
    );
    assert!(replayed(&again));
    assert_eq!(json_of(&again), json_of(&first));
    assert_eq!(
        counter(&mut s, "app", "b").as_deref(),
        Some("2"),
        "not cleared twice"
    );
}

/// The dead-letter routes that write many records or a range: replaying
/// all and purging, each sent twice with its key, apply once.
#[test]
fn replaying_and_purging_dead_letters_with_a_key_apply_once() {
    let (mut s, _clock) = store();
    let ok = |r: Response| {
        assert!(r.status < 300, "{r:?}");
        json_of(&r)
    };
    // One attempt: a nack dead-letters.
    let config = json!({"max_attempts": 1});
    ok(call(
        &mut s,
        "PUT",
        "/namespaces/app/events/config",
        config,
        None,
    ));
    for i in 0..3 {
        ok(call(
            &mut s,
            "POST",
            "/namespaces/app/events",
            json!({"event_type": format!("t.{i}")}),
            None,
        ));
    }
    let received = ok(call(
        &mut s,
        "POST",
        "/namespaces/app/events/receive",
        json!({"max": 10}),
        None,
    ));
    for message in received["messages"].as_array().unwrap() {
        let id = message["message_id"].as_str().unwrap();
        let path = format!("/namespaces/app/events/{id}/nack");
        ok(call(&mut s, "POST", &path, json!({"reason": "no"}), None));
    }
    let letters = |s: &mut TestStore| {
        let page = call(s, "GET", "/namespaces/app/dlq", Value::Null, None);
        json_of(&page)["letters"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(letters(&mut s), 3, "three dead letters");
    let first = ok(call(
        &mut s,
        "POST",
        "/namespaces/app/dlq/replay",
        Value::Null,
        Some("replay-1"),
    ));
    let again = call(
        &mut s,
        "POST",
        "/namespaces/app/dlq/replay",
        Value::Null,
        Some("replay-1"),
    );
    assert!(replayed(&again));
    assert_eq!(json_of(&again), first);
    assert_eq!(
        event_count(&mut s, "app"),
        6,
        "three events and one replay each, not two"
    );

    let received = ok(call(
        &mut s,
        "POST",
        "/namespaces/app/events/receive",
        json!({"max": 10}),
        None,
    ));
    for message in received["messages"].as_array().unwrap() {
        let id = message["message_id"].as_str().unwrap();
        let path = format!("/namespaces/app/events/{id}/nack");
        ok(call(&mut s, "POST", &path, json!({"reason": "no"}), None));
    }
    assert_eq!(letters(&mut s), 3);
    let purged = ok(call(
        &mut s,
        "DELETE",
        "/namespaces/app/dlq",
        Value::Null,
        Some("purge-1"),
    ));
    assert_eq!(letters(&mut s), 0);
    let again = call(
        &mut s,
        "DELETE",
        "/namespaces/app/dlq",
        Value::Null,
        Some("purge-1"),
    );
    assert!(replayed(&again));
    assert_eq!(json_of(&again), purged);
}

#[test]
fn keyed_requests_in_one_batch_apply_once() {
    let (mut s, _clock) = store();
    let inc = request(
        "POST",
        "/namespaces/app/increment",
        json!({"key": "n", "by": 3}),
        Some("same"),
    );
    let answers = s.handle_http_batch(&[inc.clone(), inc.clone(), inc]);
    let answered: Vec<&Response> = answers.iter().flatten().collect();
    assert!(!answered.is_empty());
    for r in &answered {
        assert_eq!(
            (r.status, json_of(r)["value"].clone()),
            (200, json!(3)),
            "{r:?}"
        );
    }
    assert_eq!(counter(&mut s, "app", "n").as_deref(), Some("3"));
}

/// A store whose next commit, once `lose` is set, applies and then
/// reports its answer lost, as a database connection that breaks after
/// `COMMIT` was sent.
fn losing_answers() -> (Store<Gated<impl Gate>, ManualClock>, Rc<Cell<bool>>) {
    let lose = Rc::new(Cell::new(false));
    let losing = lose.clone();
    let storage = Gated::new(move |inner: &MemoryStorage, checks, writes| {
        inner.commit(checks, writes)?;
        if losing.replace(false) {
            return Err(StorageError::OutcomeUnknown(
                "connection lost after COMMIT".into(),
            ));
        }
        Ok(())
    });
    (Store::new(storage, ManualClock::new(START_MS)), lose)
}

#[test]
fn a_write_whose_answer_was_lost_is_retried_with_its_key_and_counted_once() {
    let (mut s, lose) = losing_answers();
    lose.set(true);
    let body = json!({"key": "n", "by": 1});
    let lost = call(
        &mut s,
        "POST",
        "/namespaces/app/increment",
        body.clone(),
        Some("k"),
    );
    assert_eq!(lost.status, 503, "{lost:?}");
    assert!(
        json_of(&lost)["detail"]
            .as_str()
            .unwrap()
            .contains("same idempotency key"),
        "{lost:?}"
    );
    let retried = call(&mut s, "POST", "/namespaces/app/increment", body, Some("k"));
    assert_eq!(
        (
            retried.status,
            replayed(&retried),
            json_of(&retried)["value"].clone()
        ),
        (200, true, json!(1))
    );
    let value = s.get("app", b"n").unwrap().unwrap().value;
    assert_eq!(value, b"1");
}

/// One of a few fixed requests per idempotency key: what a client sends,
/// and sends again.
fn keyed_request(key: u8) -> (String, &'static str, Value) {
    match key % 3 {
        0 => (
            "/namespaces/app/increment".into(),
            "POST",
            json!({"key": "n", "by": key as i64 + 1}),
        ),
        1 => (
            "/namespaces/app/events".into(),
            "POST",
            json!({"event_type": format!("t.{key}")}),
        ),
        _ => (
            "/set".into(),
            "POST",
            json!({"key": format!("s{key}"), "value": "v", "namespace": "app"}),
        ),
    }
}

proptest! {
    #![proptest_config(proptest_config(64))]

    /// Whatever is sent how often, and whichever answers are lost after
    /// their commit, each key's request is applied exactly once once the
    /// client has an answer for it: the counter is the sum of the distinct
    /// increments, the log has one event per distinct emit.
    #[test]
    fn every_key_applies_exactly_once(sends in prop::collection::vec((0u8..9, any::<bool>()), 1..40)) {
        let (mut s, lose) = losing_answers();
        let mut answers: std::collections::BTreeMap<u8, Value> = Default::default();
        for (key, lost) in sends {
            let (path, method, body) = keyed_request(key);
            let idem = format!("key-{key}");
            lose.set(lost);
            let mut response = call(&mut s, method, &path, body.clone(), Some(&idem));
            while response.status == 503 {
                response = call(&mut s, method, &path, body.clone(), Some(&idem));
            }
            prop_assert!(response.status < 300, "{response:?}");
            let answer = json_of(&response);
            let first = answers.entry(key).or_insert_with(|| answer.clone());
            prop_assert_eq!(&*first, &answer, "the same answer every time");
        }
        let sum: i64 = answers.keys().filter(|k| *k % 3 == 0).map(|k| *k as i64 + 1).sum();
        let counted = s.get("app", b"n").unwrap().map(|e| String::from_utf8(e.value).unwrap());
        prop_assert_eq!(counted, (sum > 0).then(|| sum.to_string()));
        let log = call(&mut s, "GET", "/namespaces/app/events/log", Value::Null, None);
        let events = json_of(&log)["events"].as_array().map_or(0, Vec::len);
        prop_assert_eq!(events, answers.keys().filter(|k| *k % 3 == 1).count());
    }
}
