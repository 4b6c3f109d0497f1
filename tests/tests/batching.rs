//! `nexus serve` gathers requests that arrive together into one guest call
//! (on by default with a durable backend; on here for memory too). Whatever the batches, each client sees its
//! requests answered in order, and concurrent writers of one key lose no
//! update: batches that lose a race are answered again, never twice.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use nexus_host::serve::{BackendKind, BatchOptions, ServeOptions};
use nexus_tests::http::Server;
use serde_json::Value;

fn server(dir: Option<&std::path::Path>) -> Server {
    Server::serve(ServeOptions {
        backend: match dir {
            Some(dir) => BackendKind::File(dir.to_path_buf()),
            None => BackendKind::Memory,
        },
        batch: Some(BatchOptions {
            max_requests: 64,
            // A short wait, so that batches form even on a quiet machine.
            max_wait: Duration::from_micros(200),
        }),
        ..ServeOptions::default()
    })
}

/// Many clients increment one counter and write and read their own key,
/// each on its own connection: the counter ends at exactly the number of
/// increments answered 200, and every client reads what it last wrote.
fn concurrent_clients_lose_nothing(server: &Server) {
    const CLIENTS: usize = 12;
    const ROUNDS: usize = 40;
    std::thread::scope(|s| {
        for c in 0..CLIENTS {
            s.spawn(move || {
                for round in 0..ROUNDS {
                    let answer = server.call(
                        "POST",
                        "/namespaces/app/increment",
                        Some(r#"{"key":"counter","by":1}"#),
                    );
                    assert_eq!(answer.status, 200, "{}", answer.body);
                    let body = format!(r#"{{"key":"own{c}","value":"{round}"}}"#);
                    let answer = server.call("POST", "/set?ns=app", Some(&body));
                    assert_eq!(answer.status, 200, "{}", answer.body);
                    let answer = server.call("GET", &format!("/get/own{c}?ns=app"), None);
                    assert_eq!(answer.body["value"], round.to_string(), "client {c}");
                }
            });
        }
    });
    let answer = server.call("GET", "/get/counter?ns=app", None);
    assert_eq!(answer.body["value"], (CLIENTS * ROUNDS).to_string());
    let answer = server.call("GET", "/namespaces/app/keys", None);
    assert_eq!(answer.body["total_keys"], CLIENTS + 1, "{}", answer.body);
}

#[test]
fn concurrent_clients_lose_nothing_in_memory() {
    concurrent_clients_lose_nothing(&server(None));
}

#[test]
fn concurrent_clients_lose_nothing_on_the_file_backend() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_clients_lose_nothing(&server(Some(dir.path())));
}

/// One connection sends 100 SETs of one key and a GET without waiting for
/// answers (HTTP/1.1 pipelining) while other clients keep the server busy:
/// the answers come back in order and the GET sees the last SET.
#[test]
fn a_connection_s_requests_stay_in_order() {
    let server = server(None);
    let addr = server.base().trim_start_matches("http://").to_string();
    std::thread::scope(|s| {
        for c in 0..4 {
            let server = &server;
            s.spawn(move || {
                for i in 0..100 {
                    let body = format!(r#"{{"key":"noise{c}","value":"{i}"}}"#);
                    assert_eq!(server.call("POST", "/set?ns=app", Some(&body)).status, 200);
                }
            });
        }
        let mut stream = TcpStream::connect(&addr).unwrap();
        let mut requests = String::new();
        for i in 1..=100 {
            let body = format!(r#"{{"key":"p","value":"{i}"}}"#);
            requests.push_str(&format!(
                "POST /set?ns=app HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            ));
        }
        requests.push_str(&format!(
            "GET /get/p?ns=app HTTP/1.1\r\nhost: {addr}\r\n\r\n"
        ));
        stream.write_all(requests.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut last = Value::Null;
        for _ in 0..101 {
            last = read_response(&mut reader);
        }
        assert_eq!(last["value"], "100", "{last}");
    });
}

/// One HTTP/1.1 response's JSON body (the server answers with content-length).
fn read_response(reader: &mut BufReader<TcpStream>) -> Value {
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap()
}

mod embedded {
    use nexus_host::Nexus;
    use nexus_host::batch::{
        AckIn, EmitIn, IncrementIn, KeyIn, Operation, Outcome, ReceiveIn, SetIn,
    };
    use nexus_host::events::{EventDraft, ReceiveRequest};
    use nexus_host::types::SetOptions;

    fn set(ns: &str, key: &str, value: &str) -> Operation {
        Operation::Set(SetIn {
            ns: ns.into(),
            key: key.into(),
            value: value.into(),
            options: SetOptions::default(),
        })
    }

    fn get(ns: &str, key: &str) -> Operation {
        Operation::Get(KeyIn {
            ns: ns.into(),
            key: key.into(),
        })
    }

    /// Operations of several namespaces and kinds in one call: each answers
    /// as its own call would, later ones see earlier ones' writes, and a
    /// refused one refuses only itself.
    #[test]
    fn one_call_carries_operations_of_any_namespace_and_kind() {
        let nexus = Nexus::memory().unwrap();
        let draft = EventDraft {
            event_type: "user.created".into(),
            payload: r#"{"id":1}"#.into(),
            options: Default::default(),
        };
        let receive = ReceiveRequest {
            group: None,
            consumer: "c".into(),
            max: 10,
            visibility_timeout_ms: 30_000,
            wait_ms: 5_000,
        };
        let answers = nexus.batch(&[
            set("app1", "k", "one"),
            set("app2", "k", "two"),
            set("bad name!", "k", "x"),
            Operation::Increment(IncrementIn {
                ns: "app1".into(),
                key: "n".into(),
                delta: 5,
            }),
            get("app1", "k"),
            get("app2", "missing"),
            Operation::Emit(EmitIn {
                ns: "app1".into(),
                draft,
            }),
            Operation::Receive(ReceiveIn {
                ns: "app1".into(),
                request: receive,
            }),
            Operation::Delete(KeyIn {
                ns: "app2".into(),
                key: "k".into(),
            }),
        ]);
        assert!(matches!(answers[0], Ok(Outcome::Version(_))));
        assert!(matches!(answers[1], Ok(Outcome::Version(_))));
        assert!(
            matches!(
                answers[2],
                Err(nexus_host::Error::Store(
                    nexus_host::StoreError::InvalidNamespace(_)
                ))
            ),
            "{:?}",
            answers[2]
        );
        assert_eq!(answers[3].as_ref().unwrap(), &Outcome::Value(5));
        let Ok(Outcome::Entry(Some(entry))) = &answers[4] else {
            panic!("{:?}", answers[4]);
        };
        assert_eq!(entry.value, b"one");
        assert_eq!(answers[5].as_ref().unwrap(), &Outcome::Entry(None));
        let Ok(Outcome::MessageId(id)) = &answers[6] else {
            panic!("{:?}", answers[6]);
        };
        let Ok(Outcome::Deliveries(got)) = &answers[7] else {
            panic!("{:?}", answers[7]);
        };
        assert_eq!(got.len(), 1, "the receive saw the emit before it");
        assert_eq!(&got[0].envelope.message_id, id);
        assert_eq!(answers[8].as_ref().unwrap(), &Outcome::Existed(true));

        let app1 = nexus.namespace("app1").unwrap();
        assert_eq!(app1.get_value("k").unwrap().unwrap(), b"one");
        assert_eq!(app1.get_value("n").unwrap().unwrap(), b"5");
        assert_eq!(nexus.namespace("app2").unwrap().size().unwrap(), 0);
        let acked = nexus.batch(&[Operation::Ack(AckIn {
            ns: "app1".into(),
            group: None,
            consumer: "c".into(),
            message_id: id.clone(),
        })]);
        assert_eq!(acked[0].as_ref().unwrap(), &Outcome::Done);
        assert_eq!(app1.metrics().unwrap().acked, 1);
    }

    /// Many threads batch increments of one counter: batches that lose a
    /// race run again, none twice.
    #[test]
    fn concurrent_batches_lose_no_increment() {
        let nexus = Nexus::memory().unwrap();
        std::thread::scope(|s| {
            for _ in 0..8 {
                let nexus = &nexus;
                s.spawn(move || {
                    for _ in 0..50 {
                        let ops: Vec<Operation> = (0..4)
                            .map(|_| {
                                Operation::Increment(IncrementIn {
                                    ns: "app".into(),
                                    key: "n".into(),
                                    delta: 1,
                                })
                            })
                            .collect();
                        for answer in nexus.batch(&ops) {
                            answer.unwrap();
                        }
                    }
                });
            }
        });
        let n = nexus.namespace("app").unwrap().get_value("n").unwrap();
        assert_eq!(n.unwrap(), b"1600");
    }
}
