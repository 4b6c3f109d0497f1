//! The HTTP suite's harness (`tests/tests/http.rs` holds the walks): every
//! host of the REST API on a free port, each on a manual clock starting at
//! [`T0`] — `nexus serve`'s server (axum, the guest `.wasm` in the wasmtime
//! host) on the memory, the file and the PostgreSQL backend (a fresh table
//! per walk, from `NEXUS_TEST_DATABASE_URL`, failing under `CI` without
//! it), the Spin edge component (`edge/`) in the Spin-compatible harness
//! over SQLite, and the browser host (`web/`: the guest through jco,
//! storage in JavaScript) behind node:http — and a blocking client that
//! moves the clock through `POST /_test/clock`, so no walk sleeps.

mod client;
mod servers;

pub use client::{Answer, Event, Stream, agent, events};
pub use servers::{Host, Server};

/// Where every host's manual clock starts.
pub const T0: u64 = 1_700_000_000_000;

/// How each host runs one walk on a server of its own (`name`, the walk's,
/// names its PostgreSQL table).
pub mod run {
    use super::Server;

    type Walk = fn(&Server);

    pub fn memory(_: &str, walk: Walk) {
        walk(&Server::memory());
    }

    pub fn file(_: &str, walk: Walk) {
        let dir = tempfile::TempDir::new().expect("a temporary directory");
        walk(&Server::file(dir.path()));
    }

    pub fn postgres(name: &str, walk: Walk) {
        if let Some(server) = Server::postgres(name) {
            walk(&server);
        }
    }

    pub fn edge(_: &str, walk: Walk) {
        let dir = tempfile::TempDir::new().expect("a temporary directory");
        walk(&Server::edge(dir.path()));
    }

    pub fn web(_: &str, walk: Walk) {
        walk(&Server::web());
    }
}

/// How each durable host runs a walk that restarts its server: the walk
/// gets a function that starts a server on the same data every time it is
/// called.
pub mod run_restarting {
    use super::Server;

    type Walk = fn(&dyn Fn() -> Server);

    pub fn file(_: &str, walk: Walk) {
        let dir = tempfile::TempDir::new().expect("a temporary directory");
        walk(&|| Server::file(dir.path()));
    }

    pub fn postgres(name: &str, walk: Walk) {
        if let Some((url, table)) = Server::postgres_table(name) {
            walk(&|| Server::postgres_on(&url, &table));
        }
    }

    pub fn edge(_: &str, walk: Walk) {
        let dir = tempfile::TempDir::new().expect("a temporary directory");
        walk(&|| Server::edge(dir.path()));
    }
}

/// Runs walks through the API on the hosts listed:
/// `on_hosts!([memory, file]: walk)` is `mod walk { fn memory(); fn file(); }`,
/// each a test that runs the walk `walk` of the calling file as
/// [`http::run`](crate::http::run) says.
#[macro_export]
macro_rules! on_hosts {
    ($hosts:tt: $($walk:ident),* $(,)?) => {
        $($crate::on_hosts!(@walk run $walk $hosts);)*
    };
    (@walk $run:ident $walk:ident [$($host:ident),*]) => {
        mod $walk {
            $(
                #[test]
                fn $host() {
                    $crate::http::$run::$host(stringify!($walk), super::$walk);
                }
            )*
        }
    };
}

/// Runs a walk through the API on every host.
#[macro_export]
macro_rules! on_every_host {
    ($($walk:ident),* $(,)?) => {
        $crate::on_hosts!([memory, file, postgres, edge, web]: $($walk),*);
    };
}

/// Like `on_every_host`, for walks that restart their server, on every
/// host that keeps its data (see [`http::run_restarting`](crate::http::run_restarting)).
#[macro_export]
macro_rules! on_every_durable_host {
    ($($walk:ident),* $(,)?) => {
        $($crate::on_hosts!(@walk run_restarting $walk [file, postgres, edge]);)*
    };
}

/// Runs a walk on every host that holds receives open (all but the edge,
/// where each request is an instance of its own that nothing can wake).
#[macro_export]
macro_rules! on_every_waiting_host {
    ($($walk:ident),* $(,)?) => {
        $crate::on_hosts!([memory, file, postgres, web]: $($walk),*);
    };
}
