//! The hosts of a multi-host URL, tried in turn from the one that last
//! worked. libpq's rule (the first host in the URL's order that takes
//! writes) finds a new primary after a failover, but also finds a primary
//! orphaned by one first, for ever: an orphan still takes connections and
//! says it takes writes, though its commits never return. So each host is
//! a config of its own, a connection knows its host, and a host whose
//! statement ran past the bound is passed over by the next connections
//! (from the host after it), until it is the last one left.

use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

pub(super) struct Hosts {
    configs: Vec<Config>,
    /// Where the next connection starts trying.
    first: AtomicUsize,
}

impl Hosts {
    pub(super) fn new(config: &Config) -> Self {
        let hosts = config.get_hosts();
        let configs = if hosts.len() <= 1 {
            vec![config.clone()]
        } else {
            (0..hosts.len()).map(|i| one_host(config, i)).collect()
        };
        Self {
            configs,
            first: AtomicUsize::new(0),
        }
    }

    /// A connection to the first host, from where the last one worked,
    /// that accepts it (with `target_session_attrs=read-write`, one that
    /// takes writes); the host's index with it. The error is the last
    /// host's.
    pub(super) fn connect(&self) -> Result<(Client, usize), postgres::Error> {
        let n = self.configs.len();
        let start = self.first.load(Ordering::Relaxed) % n;
        let mut last = None;
        for k in 0..n {
            let i = (start + k) % n;
            match self.configs[i].connect(NoTls) {
                Ok(client) => {
                    if k > 0 {
                        self.first.store(i, Ordering::Relaxed);
                    }
                    return Ok((client, i));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("at least one host"))
    }

    /// Whether new connections now start at another host than `host`
    /// (the listener then moves there).
    pub(super) fn passed_over(&self, host: usize) -> bool {
        let n = self.configs.len();
        n > 1 && self.first.load(Ordering::Relaxed) % n != host
    }

    /// `host` held a statement past the bound: connections start at the
    /// next one (unless another connection already moved on).
    pub(super) fn pass_over(&self, host: usize) {
        let n = self.configs.len();
        if n > 1 {
            let _ = self.first.compare_exchange(
                host,
                (host + 1) % n,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }
}

/// `config` with its `i`-th host (and port, and address) only.
fn one_host(config: &Config, i: usize) -> Config {
    let mut one = Config::new();
    if let Some(user) = config.get_user() {
        one.user(user);
    }
    if let Some(password) = config.get_password() {
        one.password(password);
    }
    if let Some(dbname) = config.get_dbname() {
        one.dbname(dbname);
    }
    if let Some(options) = config.get_options() {
        one.options(options);
    }
    if let Some(name) = config.get_application_name() {
        one.application_name(name);
    }
    if let Some(timeout) = config.get_connect_timeout() {
        one.connect_timeout(*timeout);
    }
    if let Some(timeout) = config.get_tcp_user_timeout() {
        one.tcp_user_timeout(*timeout);
    }
    one.ssl_mode(config.get_ssl_mode())
        .keepalives(config.get_keepalives())
        .keepalives_idle(config.get_keepalives_idle())
        .target_session_attrs(config.get_target_session_attrs())
        .channel_binding(config.get_channel_binding());
    if let Some(interval) = config.get_keepalives_interval() {
        one.keepalives_interval(interval);
    }
    if let Some(retries) = config.get_keepalives_retries() {
        one.keepalives_retries(retries);
    }
    match &config.get_hosts()[i] {
        Host::Tcp(name) => one.host(name),
        Host::Unix(path) => one.host_path(path),
    };
    if let Some(addr) = config.get_hostaddrs().get(i) {
        one.hostaddr(*addr);
    }
    // One port for all hosts, or one each.
    let ports = config.get_ports();
    if let Some(port) = ports.get(i).or_else(|| ports.first()) {
        one.port(*port);
    }
    one
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn each_host_keeps_everything_but_the_other_hosts() {
        let config = Config::from_str(
            "postgres://u:pw@a:5001,b:5002/db?target_session_attrs=read-write&application_name=x&connect_timeout=3",
        )
        .unwrap();
        let hosts = Hosts::new(&config);
        assert_eq!(hosts.configs.len(), 2);
        let b = &hosts.configs[1];
        assert!(matches!(b.get_hosts(), [Host::Tcp(h)] if h == "b"));
        assert_eq!(b.get_ports(), [5002]);
        assert_eq!(b.get_user(), Some("u"));
        assert_eq!(b.get_password(), Some(&b"pw"[..]));
        assert_eq!(b.get_dbname(), Some("db"));
        assert_eq!(b.get_application_name(), Some("x"));
        assert_eq!(
            b.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
        assert_eq!(
            b.get_target_session_attrs(),
            config.get_target_session_attrs()
        );
        // One port for two hosts applies to both.
        let shared = Config::from_str("host=a,b port=7 user=u").unwrap();
        assert_eq!(Hosts::new(&shared).configs[1].get_ports(), [7]);
    }

    #[test]
    fn a_host_passed_over_is_tried_last() {
        let config = Config::from_str("postgres://u@a,b,c/db").unwrap();
        let hosts = Hosts::new(&config);
        hosts.pass_over(0);
        assert_eq!(hosts.first.load(Ordering::Relaxed), 1);
        hosts.pass_over(0);
        assert_eq!(hosts.first.load(Ordering::Relaxed), 1, "already moved on");
        hosts.pass_over(1);
        assert_eq!(hosts.first.load(Ordering::Relaxed), 2);
    }
}
