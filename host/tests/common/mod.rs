//! `nexus serve` as a process, for the tests of the binary's server. Each
//! test binary compiles this module on its own and uses only part of it.
//! (The PostgreSQL test database is `nexus_host::testing`.)
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};

/// The `nexus` binary this package built, without `NEXUS_ADDR` from the
/// environment: a test says where its server listens.
pub fn nexus() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nexus"));
    command.env_remove("NEXUS_ADDR");
    command
}

/// A running `nexus serve`; killed (SIGKILL) and waited for when dropped.
pub struct ServeProcess {
    pub child: Child,
    /// Where it listens, from its first line; an unspecified address
    /// (`0.0.0.0`) is reached on the loopback address.
    pub addr: SocketAddr,
}

impl ServeProcess {
    /// Spawns `command` (`nexus … serve --addr … …`, from [`nexus`], with
    /// what the test needs: options, environment, where stderr goes) with
    /// stdout piped, and reads the address from its first line, `nexus
    /// listening on http://ADDR`.
    pub fn start(command: &mut Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("nexus serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("nexus serve prints its address");
        let mut addr: SocketAddr = line
            .trim()
            .strip_prefix("nexus listening on http://")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        if addr.ip().is_unspecified() {
            addr.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        Self { child, addr }
    }

    /// `http://ADDR`, where requests go.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client that hands back 4xx and 5xx answers instead of failing on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}
