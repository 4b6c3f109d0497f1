//! `nexus events ...`: emit, receive, ack and nack; the event log, metrics,
//! consumer groups (subscriptions) and the namespace's events settings. One
//! module per command, or per small group (`subscriptions`).

mod ack;
mod config;
mod emit;
mod log;
mod metrics;
mod nack;
mod receive;
mod subscriptions;
mod tail;

use clap::{Args, Subcommand};

use super::failure::Failure;
use super::output::Out;
use super::{Ctx, NsArg};

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    Emit(emit::Emit),
    Receive(receive::Receive),
    Ack(ack::Ack),
    Nack(nack::Nack),
    Tail(tail::Tail),
    Log(log::Log),
    Metrics(metrics::Metrics),
    Subscribe(subscriptions::Subscribe),
    Unsubscribe(subscriptions::Unsubscribe),
    Subscriptions(subscriptions::Subscriptions),
    Config(config::Config),
}

impl EventsCommand {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        match self {
            Self::Emit(cmd) => cmd.run(ctx),
            Self::Receive(cmd) => cmd.run(ctx),
            Self::Ack(cmd) => cmd.run(ctx),
            Self::Nack(cmd) => cmd.run(ctx),
            Self::Tail(cmd) => cmd.run(ctx),
            Self::Log(cmd) => cmd.run(ctx),
            Self::Metrics(cmd) => cmd.run(ctx),
            Self::Subscribe(cmd) => cmd.run(ctx),
            Self::Unsubscribe(cmd) => cmd.run(ctx),
            Self::Subscriptions(cmd) => cmd.run(ctx),
            Self::Config(cmd) => cmd.run(ctx),
        }
    }
}

/// The queue a consumer works on, and who it is.
#[derive(Debug, Args)]
struct ConsumerArgs {
    /// Consumer group (a subscription); the namespace queue if omitted.
    #[arg(long, value_name = "G")]
    group: Option<String>,
    /// The consumer's name; ack and nack must come from the consumer that received.
    #[arg(long, value_name = "NAME", default_value = "cli")]
    consumer: String,
}

/// The entries of the event log that `log` and `tail` read.
#[derive(Debug, Args)]
struct LogFilter {
    #[command(flatten)]
    ns: NsArg,
    /// Only events of this type.
    #[arg(long = "type", value_name = "T")]
    event_type: Option<String>,
    /// Only events emitted at or after this time (ms since the epoch).
    #[arg(long, value_name = "MS")]
    since: Option<u64>,
}
