//! Several threads, each with its own store instance over one storage,
//! receive from one namespace while a producer emits: every message is acked
//! exactly once and none is lost, nacks and redeliveries included.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use common::*;
use nexus_store::events::{EventsConfig, ReceiveRequest};
use nexus_store::{Error, ManualClock, MemoryStorage, Store};

const MESSAGES: usize = 400;
const CONSUMERS: usize = 4;

#[test]
fn concurrent_consumers_ack_every_message_exactly_once() {
    let storage = Arc::new(MemoryStorage::new());
    let clock = ManualClock::new(START_MS);
    let mut admin = Store::new(storage.clone(), clock.clone());
    // No backoff, so a nacked message is at once visible to the others.
    admin
        .set_events_config(
            "work",
            EventsConfig {
                max_attempts: 100,
                base_delay_ms: 0,
                max_delay_ms: 0,
                ..Default::default()
            },
        )
        .unwrap();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let emitted = Arc::new(Mutex::new(Vec::<String>::new()));

    std::thread::scope(|scope| {
        {
            let (storage, clock, emitted) = (storage.clone(), clock.clone(), emitted.clone());
            scope.spawn(move || {
                let mut producer = Store::new(storage, clock);
                for i in 0..MESSAGES {
                    let id = producer
                        .emit("work", draft("job.run", &i.to_string()))
                        .unwrap();
                    emitted.lock().unwrap().push(id);
                }
            });
        }
        for c in 0..CONSUMERS {
            let (storage, clock) = (storage.clone(), clock.clone());
            let acked = acked.clone();
            scope.spawn(move || {
                let mut store = Store::new(storage, clock);
                let consumer = format!("c{c}");
                // A fixed, seeded pattern of failures: every 7th delivery is nacked.
                let mut seen = 0usize;
                for round in 0.. {
                    assert!(round < 10_000_000, "{consumer} never saw the queue drain");
                    let req = ReceiveRequest {
                        group: None,
                        consumer: consumer.clone(),
                        max: 5,
                        visibility_timeout_ms: 3_600_000,
                        wait_ms: 0,
                    };
                    let got = match store.receive("work", &req) {
                        Ok(got) => got,
                        // Heavy contention may exhaust the retries of one call.
                        Err(Error::Storage(_)) => continue,
                        Err(e) => panic!("{e}"),
                    };
                    if got.is_empty() {
                        if acked.lock().unwrap().len() == MESSAGES {
                            return;
                        }
                        std::thread::yield_now();
                        continue;
                    }
                    for d in got {
                        seen += 1;
                        let id = &d.envelope.message_id;
                        if seen.is_multiple_of(7) {
                            store
                                .nack("work", None, &consumer, id, "flaky", None)
                                .unwrap();
                        } else {
                            store.ack("work", None, &consumer, id).unwrap();
                            acked.lock().unwrap().push(id.clone());
                        }
                    }
                }
            });
        }
    });

    let acked = acked.lock().unwrap().clone();
    let unique: BTreeSet<_> = acked.iter().cloned().collect();
    assert_eq!(acked.len(), MESSAGES, "each message acked once");
    let emitted: BTreeSet<_> = emitted.lock().unwrap().iter().cloned().collect();
    assert_eq!(unique, emitted, "none lost, none invented");
    let m = admin.metrics("work").unwrap();
    assert_eq!(
        (m.queue_depth, m.acked, m.in_flight),
        (0, MESSAGES as u64, 0)
    );
    assert!(m.nacked > 0);
}
