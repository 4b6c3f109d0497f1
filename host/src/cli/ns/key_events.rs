//! `nexus ns key-events`.

use clap::Args;
use nexus_store::http::json;

use super::NsName;
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, pairs};

/// Print whether a namespace's key changes are events, or turn them on or
/// off: with them on, every set, delete, expiry, eviction and clear is an
/// event (`kv.set`, `kv.deleted`, …) in the namespace's queues.
#[derive(Debug, Args)]
pub struct KeyEvents {
    #[command(flatten)]
    ns: NsName,
    /// Turn key-change events on.
    #[arg(long, conflicts_with = "off")]
    on: bool,
    /// Turn key-change events off.
    #[arg(long)]
    off: bool,
    /// `kv.set` events carry the value written (up to 64 KiB).
    #[arg(long, conflicts_with = "no_values")]
    values: bool,
    /// `kv.set` events leave the value out.
    #[arg(long)]
    no_values: bool,
}

impl KeyEvents {
    /// Prints the setting; with changes, applies them first.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let mut setting = ns.key_events()?;
        let before = setting;
        if self.on || self.off {
            setting.enabled = self.on;
        }
        if self.values || self.no_values {
            setting.include_values = self.values;
        }
        if setting != before {
            ns.set_key_events(setting)?;
            setting = ns.key_events()?;
        }
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        Ok(Out::new(
            json::key_events(ns.name(), &setting),
            pairs(&[
                ("enabled", yes_no(setting.enabled)),
                ("include-values", yes_no(setting.include_values)),
            ]),
        ))
    }
}
