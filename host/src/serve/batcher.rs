//! Requests that arrive while the guest is busy share one guest call.
//!
//! Every request joins a queue, then waits for a turn to call the guest
//! (a permit: at most `concurrency` calls at once). Whoever gets a turn
//! takes up to `max_requests` from the head of the queue, its own or not,
//! and answers them all with one `handle-batch` call
//! ([`Nexus::handle_http_batch_now`]); the others are woken with their
//! answers. Before taking a turn a request lets the other tasks ready on
//! its thread run once, so that the requests read from the same wake-up
//! of the sockets join it; `max_wait` may hold a short batch open longer.
//! Under light load a request finds a free turn and an empty queue and
//! goes alone, as without batching.
//!
//! Order: a connection's next request is read only once its previous one
//! is answered, so one connection never has two requests in a batch; and
//! a batch answers its requests as if one after another, in the order
//! they arrived.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use prometheus_client::metrics::histogram::Histogram;
use tokio::sync::{Semaphore, oneshot};

use crate::http::{HttpRequest, HttpResponse, is_read};
use crate::{Error, Nexus};

/// How `nexus serve` gathers requests into guest calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// The most requests one guest call answers; 1 turns batching off.
    pub max_requests: usize,
    /// How long a call may wait for more requests when it has fewer than
    /// `max_requests`; zero: take what is there.
    pub max_wait: Duration,
}

impl BatchOptions {
    /// Batching off: one request per guest call.
    pub const OFF: BatchOptions = BatchOptions {
        max_requests: 1,
        max_wait: Duration::ZERO,
    };

    /// Up to 64 requests per call, without waiting for more.
    pub const ON: BatchOptions = BatchOptions {
        max_requests: 64,
        max_wait: Duration::ZERO,
    };

    /// The default for a backend, chosen by measurement (docs/benchmarks.md,
    /// "Batched guest calls"): on where a commit waits on a disk or a
    /// database (one commit then serves the whole batch: durable SETs took
    /// 44 % less CPU and ran 32 % faster), off on the memory backend, where
    /// a request waits on nothing and batching only adds instructions.
    pub fn default_for(backend: &super::BackendKind) -> BatchOptions {
        match backend {
            super::BackendKind::Memory => Self::OFF,
            _ => Self::ON,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=1024).contains(&self.max_requests),
            "--batch-max must be between 1 and 1024, got {}",
            self.max_requests
        );
        anyhow::ensure!(
            self.max_wait <= Duration::from_millis(100),
            "--batch-wait-us must be at most 100000 (100 ms), got {}",
            self.max_wait.as_micros()
        );
        Ok(())
    }
}

pub(super) type Answer = Result<HttpResponse, Error>;

struct Waiting {
    request: Arc<HttpRequest>,
    reply: oneshot::Sender<Answer>,
}

/// Where a batch runs: on the server's async thread, or on a blocking one.
#[derive(Debug, Clone, Copy)]
pub(super) struct Placement {
    /// The memory backend: no call waits on a disk.
    pub never_waits_on_io: bool,
    /// Reads may run on the server's async threads.
    pub reads_inline: bool,
}

pub(super) struct Batcher {
    nexus: Nexus,
    options: BatchOptions,
    placement: Placement,
    queue: Mutex<VecDeque<Waiting>>,
    turns: Arc<Semaphore>,
    /// Requests per guest call, for `/metrics`.
    sizes: Histogram,
}

impl Batcher {
    pub fn new(
        nexus: Nexus,
        options: BatchOptions,
        placement: Placement,
        sizes: Histogram,
    ) -> Self {
        // Two calls per core keep the cores busy while one call waits for
        // its commit; more would only make batches smaller.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            nexus,
            options,
            placement,
            queue: Mutex::new(VecDeque::new()),
            turns: Arc::new(Semaphore::new(2 * cores)),
            sizes,
        }
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<Waiting>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The guest's answer to `request`, alone or in a batch.
    pub async fn answer(self: &Arc<Self>, request: Arc<HttpRequest>) -> Answer {
        if self.options.max_requests == 1 {
            return self.run(vec![request]).await.pop().unwrap_or_else(lost);
        }
        let (reply, mut answered) = oneshot::channel();
        self.queue().push_back(Waiting { request, reply });
        tokio::task::yield_now().await;
        loop {
            tokio::select! {
                biased;
                answer = &mut answered => return answer.unwrap_or_else(|_| lost()),
                turn = self.turns.clone().acquire_owned() => {
                    let Ok(turn) = turn else { return lost() };
                    if !self.options.max_wait.is_zero() && self.queue().len() < self.options.max_requests {
                        tokio::time::sleep(self.options.max_wait).await;
                    }
                    let batch: Vec<Waiting> = {
                        let mut queue = self.queue();
                        let take = queue.len().min(self.options.max_requests);
                        queue.drain(..take).collect()
                    };
                    if batch.is_empty() {
                        // Someone took ours: its answer is on the way.
                        drop(turn);
                        return answered.await.unwrap_or_else(|_| lost());
                    }
                    // Answered by a task of its own, so that the batch is
                    // answered even if this request's connection goes away.
                    let this = self.clone();
                    let run = tokio::spawn(async move {
                        let requests = batch.iter().map(|w| w.request.clone()).collect();
                        let answers = this.run(requests).await;
                        for (waiting, answer) in batch.into_iter().zip(answers) {
                            let _ = waiting.reply.send(answer);
                        }
                        drop(turn);
                    });
                    let _ = run.await;
                }
            }
        }
    }

    /// One guest call for `requests`: on this thread when none of them can
    /// wait on a disk, else on a blocking thread (where a durable write
    /// waits for its fsync while other calls join the same group).
    async fn run(&self, requests: Vec<Arc<HttpRequest>>) -> Vec<Answer> {
        let inline = self.placement.never_waits_on_io
            || (self.placement.reads_inline && requests.iter().all(|r| is_read(r)));
        let count = requests.len();
        self.sizes.observe(count as f64);
        let nexus = self.nexus.clone();
        let call = move || match requests.as_slice() {
            [request] => vec![nexus.handle_http_now(request)],
            _ => nexus.handle_http_batch_now(&requests),
        };
        if inline {
            call()
        } else {
            tokio::task::spawn_blocking(call)
                .await
                .unwrap_or_else(|_| (0..count).map(|_| lost()).collect())
        }
    }
}

fn lost() -> Answer {
    Err(Error::Setup(anyhow::anyhow!(
        "the request's guest call failed before answering"
    )))
}
