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
