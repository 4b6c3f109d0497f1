//! `nexus events config`.

use clap::Args;
use nexus_host::events::EventsConfig;
use nexus_store::http::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, pairs};
use crate::cli::{Ctx, NsArg};

/// Print the namespace's events settings, or change the ones given (the rest stay).
#[derive(Debug, Args)]
pub struct Config {
    #[command(flatten)]
    ns: NsArg,
    /// Deliveries of a message before it is dead-lettered (1-100).
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
    /// The wait after the first nack; it doubles with each further attempt.
    #[arg(long, value_name = "N")]
    base_delay_ms: Option<u64>,
    /// The longest wait after a nack.
    #[arg(long, value_name = "N")]
    max_delay_ms: Option<u64>,
    /// A node with no heartbeat for this long is listed as stale.
    #[arg(long, value_name = "N")]
    node_stale_after_ms: Option<u64>,
    /// `nexus tick` removes log entries older than this.
    #[arg(long, value_name = "N")]
    log_retention_ms: Option<u64>,
}

impl Config {
    /// Prints the settings; with changes, applies them to the current
    /// settings first and prints the result.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let mut config = ns.events_config()?;
        if self.apply(&mut config) {
            ns.set_events_config(&config)?;
            config = ns.events_config()?;
        }
        let rows = [
            ("max-attempts", config.max_attempts.to_string()),
            ("base-delay-ms", config.base_delay_ms.to_string()),
            ("max-delay-ms", config.max_delay_ms.to_string()),
            (
                "node-stale-after-ms",
                config.node_stale_after_ms.to_string(),
            ),
            ("log-retention-ms", config.log_retention_ms.to_string()),
        ];
        Ok(Out::new(
            json::events_config(ns.name(), &config),
            pairs(&rows),
        ))
    }

    /// Changes the settings given; says whether any was.
    fn apply(&self, config: &mut EventsConfig) -> bool {
        let mut changed = false;
        let mut set = |field: &mut u64, value: Option<u64>| {
            if let Some(v) = value {
                *field = v;
                changed = true;
            }
        };
        set(&mut config.base_delay_ms, self.base_delay_ms);
        set(&mut config.max_delay_ms, self.max_delay_ms);
        set(&mut config.node_stale_after_ms, self.node_stale_after_ms);
        set(&mut config.log_retention_ms, self.log_retention_ms);
        if let Some(n) = self.max_attempts {
            config.max_attempts = n;
            changed = true;
        }
        changed
    }
}
