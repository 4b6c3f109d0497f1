//! The PostgreSQL backend against its floor, in one run: a plain single-row
//! `SELECT` / upsert through the same driver, each client on its own
//! connection with the statement prepared once (one round trip a query,
//! the least a backend can do), then nexus GET and
//! SET through the component on the postgres backend, from 1 and 50
//! clients, then emit → receive → ack cycles at batch 1 and 10 (16 clients,
//! a namespace each) next to the same cycle as plain SQL on a queue table,
//! as pgmq does it (the events floor). Prints ops/s and the ratios to the
//! floors, ending with `ratio pg_get_vs_select`, `ratio pg_set_vs_upsert`
//! (50 clients) and `ratio pg_events_vs_queue` (batch 10). A benchmark,
//! not a test: it asserts nothing about speed.
//!
//! Run: `NEXUS_BENCH_DATABASE_URL=postgres://… cargo bench -p nexus-host --bench postgres`
//! (`SECONDS=N` per figure, default 3; `ROUNDS=N` measures each pair of
//! figures, floor and nexus, N times in turn and keeps each one's median,
//! default 3; `ONLY=kv` or `ONLY=events` runs that half alone, to profile
//! it; `COMMIT_GROUPS=N` sets `PostgresOptions::commit_groups`). Uses the
//! tables `bench_floor`, `bench_queue` and `bench_nexus`, dropped first.
//!
//! Why rounds, and a `VACUUM` before every figure: one figure's churn
//! (dead rows, the autovacuum they call) lands in the next figure's time,
//! and this machine's steal time comes in spells; a single floor figure
//! moved by 2× between runs (13 000 or 24 000 queue events/s), which made
//! one-shot ratios a coin toss.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nexus_host::backend::PostgresOptions;
use nexus_host::events::{EmitOptions, EventDraft, ReceiveRequest};
use nexus_host::{Namespace, Nexus};

const KEYS: u64 = 10_000;
const VALUE: &[u8] = &[b'x'; 32];
/// nexus's pool; with the floor's 50 connections and the bench's own one
/// (the `VACUUM`s) it stays under PostgreSQL's default `max_connections`
/// of 100, less the 3 it reserves for superusers.
const POOL: u32 = 45;

fn key(i: u64) -> Vec<u8> {
    format!("user:{:06}", i % KEYS).into_bytes()
}

/// When the run started: each figure says on stderr when it starts, so a
/// profiler can be pointed at one.
static STARTED: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

/// Runs `op(client, i)` from `clients` threads for `seconds`; ops/s.
fn rate(clients: usize, seconds: f64, op: impl Fn(usize, u64) -> u64 + Sync) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let start = Instant::now();
    eprintln!(
        "{:.1} s: a figure of {clients} clients starts",
        start.duration_since(*STARTED).as_secs_f64()
    );
    std::thread::scope(|scope| {
        for c in 0..clients {
            let (stop, done, op) = (&stop, &done, &op);
            scope.spawn(move || {
                let mut i = c as u64 * 7919;
                while !stop.load(Ordering::Relaxed) {
                    done.fetch_add(op(c, i), Ordering::Relaxed);
                    i += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// The floor's and nexus's figure measured `rounds` times in turn, each
/// after a `VACUUM` of the bench's tables (`settle`); their medians.
fn paired(
    rounds: usize,
    settle: &dyn Fn(),
    floor: &dyn Fn() -> f64,
    nexus: &dyn Fn() -> f64,
) -> (f64, f64) {
    let (mut floors, mut ours) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        settle();
        floors.push(floor());
        settle();
        ours.push(nexus());
        eprintln!(
            "  round {round}: floor {:.0}/s, nexus {:.0}/s",
            floors[round - 1],
            ours[round - 1]
        );
    }
    (median(floors), median(ours))
}

fn median(mut figures: Vec<f64>) -> f64 {
    figures.sort_by(f64::total_cmp);
    figures[figures.len() / 2]
}

fn main() {
    std::sync::LazyLock::force(&STARTED);
    let Some(url) = ["NEXUS_BENCH_DATABASE_URL", "NEXUS_TEST_DATABASE_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
    else {
        eprintln!("set NEXUS_BENCH_DATABASE_URL=postgres://… to run this benchmark");
        return;
    };
    let seconds: f64 = std::env::var("SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let admin = Mutex::new(postgres::Client::connect(&url, postgres::NoTls).expect("the database"));
    let settle = || {
        admin
            .lock()
            .unwrap()
            .batch_execute("VACUUM bench_floor, bench_nexus, bench_queue")
            .expect("VACUUM the bench's tables");
    };
    {
        let c = &mut *admin.lock().unwrap();
        c.batch_execute(
            "DROP TABLE IF EXISTS bench_floor, bench_nexus, bench_queue;
             CREATE TABLE bench_floor (k bytea PRIMARY KEY, v bytea NOT NULL);
             CREATE TABLE bench_queue (id bigserial PRIMARY KEY, q int NOT NULL,
                 visible_at bigint NOT NULL, payload bytea NOT NULL);
             CREATE INDEX ON bench_queue (q, visible_at)",
        )
        .unwrap();
        for i in 0..KEYS {
            c.execute(
                "INSERT INTO bench_floor VALUES ($1, $2)",
                &[&key(i), &VALUE],
            )
            .unwrap();
        }
    }
    let nexus = Nexus::builder()
        .postgres_with(PostgresOptions {
            table: "bench_nexus".into(),
            pool_size: POOL,
            commit_groups: std::env::var("COMMIT_GROUPS")
                .ok()
                .and_then(|g| g.parse().ok())
                .unwrap_or(PostgresOptions::DEFAULT_COMMIT_GROUPS),
            ..PostgresOptions::new(url.clone())
        })
        .build()
        .expect("nexus on PostgreSQL");
    let ns = nexus.namespace("bench").unwrap();
    for i in 0..KEYS {
        ns.set(key(i), VALUE).unwrap();
    }

    // The floor's clients: a connection each, statements prepared once.
    type FloorClient = (postgres::Client, postgres::Statement, postgres::Statement);
    let floor: Vec<Mutex<FloorClient>> = (0..50)
        .map(|_| {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let select = client.prepare("SELECT v FROM bench_floor WHERE k = $1").unwrap();
            let upsert = client
                .prepare("INSERT INTO bench_floor VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v")
                .unwrap();
            Mutex::new((client, select, upsert))
        })
        .collect();

    let only = std::env::var("ONLY").unwrap_or_default();
    let mut rows: Vec<(String, f64)> = Vec::new();
    for clients in [1, 50].into_iter().filter(|_| only != "events") {
        let (select, get) = paired(
            rounds,
            &settle,
            &|| {
                rate(clients, seconds, |c, i| {
                    let (client, select, _) = &mut *floor[c].lock().unwrap();
                    u64::from(client.query_opt(&*select, &[&key(i)]).unwrap().is_some())
                })
            },
            &|| {
                rate(clients, seconds, |_, i| {
                    u64::from(ns.get(key(i)).unwrap().is_some())
                })
            },
        );
        rows.push((format!("floor: plain SELECT, {clients} clients"), select));
        rows.push((format!("nexus GET, {clients} clients"), get));
        let (upsert, set) = paired(
            rounds,
            &settle,
            &|| {
                rate(clients, seconds, |c, i| {
                    let (client, _, upsert) = &mut *floor[c].lock().unwrap();
                    client.execute(&*upsert, &[&key(i), &VALUE]).unwrap()
                })
            },
            &|| {
                rate(clients, seconds, |_, i| {
                    ns.set(key(i), VALUE).unwrap();
                    1
                })
            },
        );
        rows.push((format!("floor: plain upsert, {clients} clients"), upsert));
        rows.push((format!("nexus SET, {clients} clients"), set));
    }

    // Their connections back, so the queue's clients fit under
    // `max_connections` beside nexus's pool.
    drop(floor);
    let clients = 16;
    // The events floor: the same cycle as plain SQL on a queue table, the
    // way pgmq does it (a client per queue, statements prepared once, each
    // its own READ COMMITTED transaction): insert the batch; lease it with
    // UPDATE … FOR UPDATE SKIP LOCKED … RETURNING; delete what was leased.
    // Three commits, three WAL flushes, three round trips a cycle.
    type QueueClient = (
        postgres::Client,
        postgres::Statement,
        postgres::Statement,
        postgres::Statement,
    );
    let queue: Vec<Mutex<QueueClient>> = (0..clients)
        .map(|_| {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let send = client
                .prepare(
                    "INSERT INTO bench_queue (q, visible_at, payload) \
                     SELECT $1, 0, unnest($2::bytea[])",
                )
                .unwrap();
            let read = client
                .prepare(
                    "UPDATE bench_queue SET visible_at = $2 WHERE id IN (SELECT id FROM bench_queue \
                     WHERE q = $1 AND visible_at <= $3 ORDER BY visible_at, id LIMIT $4 \
                     FOR UPDATE SKIP LOCKED) RETURNING id",
                )
                .unwrap();
            let delete = client
                .prepare("DELETE FROM bench_queue WHERE id = ANY($1)")
                .unwrap();
            Mutex::new((client, send, read, delete))
        })
        .collect();
    let spaces: Vec<Namespace> = (0..clients)
        .map(|c| nexus.namespace(&format!("ev{c}")).unwrap())
        .collect();
    for batch in [1u32, 10].into_iter().filter(|_| only != "kv") {
        let drafts: Vec<EventDraft> = (0..batch)
            .map(|_| EventDraft {
                event_type: "user.created".into(),
                payload: r#"{"user_id":12345}"#.into(),
                options: EmitOptions::default(),
            })
            .collect();
        let request = ReceiveRequest {
            group: None,
            consumer: "bench".into(),
            max: batch,
            visibility_timeout_ms: 30_000,
            wait_ms: 0,
        };
        let payloads: Vec<&[u8]> = vec![br#"{"user_id":12345}"#.as_slice(); batch as usize];
        let (plain, events) = paired(
            rounds,
            &settle,
            &|| {
                rate(clients, seconds, |c, i| {
                    let (client, send, read, delete) = &mut *queue[c].lock().unwrap();
                    let q = c as i32;
                    client.execute(&*send, &[&q, &payloads]).unwrap();
                    let now = i as i64;
                    let leased: Vec<i64> = client
                        .query(&*read, &[&q, &(now + 30_000), &now, &i64::from(batch)])
                        .unwrap()
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    client.execute(&*delete, &[&leased]).unwrap();
                    leased.len() as u64
                })
            },
            &|| {
                rate(clients, seconds, |c, _| {
                    let ns = &spaces[c];
                    ns.emit_batch(&drafts).unwrap();
                    let got = ns.receive(&request).unwrap();
                    let ids: Vec<&str> =
                        got.iter().map(|d| d.envelope.message_id.as_str()).collect();
                    ns.ack_batch(None, "bench", &ids).unwrap();
                    got.len() as u64
                })
            },
        );
        rows.push((
            format!("floor: plain SQL queue, batch {batch}, {clients} clients"),
            plain,
        ));
        rows.push((
            format!("events emit→receive→ack, batch {batch}, {clients} clients"),
            events,
        ));
    }

    println!("\n{:<58} {:>12}", "PostgreSQL backend (same run)", "ops/s");
    for (name, r) in &rows {
        println!("{name:<58} {r:>12.0}");
    }
    let find = |n: &str| {
        rows.iter()
            .find(|(name, _)| name == n)
            .map_or(f64::NAN, |(_, r)| *r)
    };
    for clients in [1, 50].into_iter().filter(|_| only != "events") {
        println!(
            "GET / plain SELECT, {clients} clients: {:.2} (target at 50: ≥ 0.9); SET / plain upsert: {:.2} (at 50: ≥ 0.6)",
            find(&format!("nexus GET, {clients} clients"))
                / find(&format!("floor: plain SELECT, {clients} clients")),
            find(&format!("nexus SET, {clients} clients"))
                / find(&format!("floor: plain upsert, {clients} clients")),
        );
    }
    for batch in [1, 10].into_iter().filter(|_| only != "kv") {
        println!(
            "events at batch {batch}: {:.0}/s, {:.2} of the plain SQL queue (target at batch 10: ≥ 0.5)",
            find(&format!(
                "events emit→receive→ack, batch {batch}, {clients} clients"
            )),
            find(&format!(
                "events emit→receive→ack, batch {batch}, {clients} clients"
            )) / find(&format!(
                "floor: plain SQL queue, batch {batch}, {clients} clients"
            )),
        );
    }
    // One line per ratio, in the form other tools read (issue 24); none
    // for a half `ONLY` left out.
    let ratios = [
        (
            "pg_get_vs_select",
            "nexus GET, 50 clients".to_string(),
            "floor: plain SELECT, 50 clients".to_string(),
        ),
        (
            "pg_set_vs_upsert",
            "nexus SET, 50 clients".to_string(),
            "floor: plain upsert, 50 clients".to_string(),
        ),
        (
            "pg_events_vs_queue",
            format!("events emit→receive→ack, batch 10, {clients} clients"),
            format!("floor: plain SQL queue, batch 10, {clients} clients"),
        ),
    ];
    for (name, ours, floor) in ratios {
        let ratio = find(&ours) / find(&floor);
        if ratio.is_finite() {
            println!("ratio {name} {ratio:.2}");
        }
    }
}
