//! Many calls in one trip into the component: [`Nexus::batch`] for
//! operations of any namespaces and kinds, and the rule both it and
//! [`Nexus::handle_http_batch_now`] follow to answer every item of a batch
//! whatever happens to the call.

pub use nexus_store::batch::{
    AckIn, EmitIn, IncrementIn, KeyIn, NackIn, NodeIn, Operation, Outcome, ReceiveIn, SetIn,
};

use crate::bindings::exports::nexus::store::batch as wit;
use crate::{Error, Nexus};

impl Nexus {
    /// Runs `operations` in one call into the component where it can, in
    /// order, as if one after another: each gets its own answer or error
    /// (a [`StoreError`](crate::StoreError) refuses only its own
    /// operation), later operations see earlier ones' writes, and their
    /// storage reads and writes are shared (one `get-many`, one commit: one
    /// fsync, one database transaction). An operation that lost a race to
    /// another writer runs again in a second call, having written nothing.
    /// A `Receive` never waits.
    pub fn batch(&self, operations: &[Operation]) -> Vec<Result<Outcome, Error>> {
        let run = |items: &[&Operation]| {
            let batch: Vec<wit::Operation> = items.iter().map(|&o| o.clone().into()).collect();
            self.pool
                .with(|bindings, store| bindings.nexus_store_batch().call_run(store, &batch))
                .map(|answers| {
                    answers
                        .into_iter()
                        .map(|a| a.map(|r| r.map(Into::into).map_err(|e| Error::Store(e.into()))))
                        .collect()
                })
        };
        answer_all(
            operations,
            run,
            |o| run(&[o]).map(|mut a| a.pop().flatten()),
            |o| matches!(o, Operation::Get(_)),
        )
    }

    /// Applies one write at most once per `idempotency_key` in its
    /// namespace, as the REST header `Idempotency-Key` does: sent again
    /// with the key (say after [`StoreError::OutcomeUnknown`](crate::StoreError),
    /// or from another host after a failover), it answers the first outcome
    /// and writes nothing; the key with another operation is
    /// [`StoreError::IdempotencyKeyReused`](crate::StoreError). Keys last the
    /// namespace's [`Limits::idempotency_window_ms`](crate::types::Limits) (a day by
    /// default). A get or a receive is refused: only writes apply once.
    ///
    /// ```
    /// use nexus_host::Nexus;
    /// use nexus_host::batch::{IncrementIn, Operation, Outcome};
    ///
    /// let nexus = Nexus::memory()?;
    /// let add = Operation::Increment(IncrementIn { ns: "app".into(), key: b"n".to_vec(), delta: 5 });
    /// assert_eq!(nexus.apply_once("order-17", add.clone())?, Outcome::Value(5));
    /// assert_eq!(nexus.apply_once("order-17", add)?, Outcome::Value(5), "applied once");
    /// assert_eq!(nexus.namespace("app")?.get_value("n")?, Some(b"5".to_vec()));
    /// # Ok::<(), nexus_host::Error>(())
    /// ```
    pub fn apply_once(
        &self,
        idempotency_key: &str,
        operation: Operation,
    ) -> Result<Outcome, Error> {
        let operation: wit::Operation = operation.into();
        self.call(Box::new(|b, s| {
            b.nexus_store_batch()
                .call_apply_once(s, idempotency_key, &operation)
        }))
        .map(Into::into)
    }
}

/// Answers every item of `items`: `batch` answers the items given to it
/// (`None` for one to send again, and at least one answered per call);
/// `alone` answers one. A trap of a batch call that wrote nothing runs the
/// items again one by one (so only an item that traps by itself fails);
/// one that trapped after a commit runs the reads (`is_read`) again and
/// fails the others with [`Error::TrapAfterWrite`], as whether they were
/// applied is unknown.
pub(crate) fn answer_all<T, A>(
    items: &[T],
    mut batch: impl FnMut(&[&T]) -> Result<Vec<Option<Result<A, Error>>>, Error>,
    mut alone: impl FnMut(&T) -> Result<Option<Result<A, Error>>, Error>,
    is_read: impl Fn(&T) -> bool,
) -> Vec<Result<A, Error>> {
    let mut answers: Vec<Option<Result<A, Error>>> = items.iter().map(|_| None).collect();
    let mut run_alone = |item: &T| match alone(item) {
        Ok(Some(answer)) => answer,
        Ok(None) => Err(Error::Setup(anyhow::anyhow!(
            "the store answered nothing for a call of one"
        ))),
        Err(e) => Err(e),
    };
    let mut left: Vec<usize> = (0..items.len()).collect();
    while !left.is_empty() {
        let sent: Vec<&T> = left.iter().map(|&i| &items[i]).collect();
        match batch(&sent) {
            Ok(got) if got.len() == left.len() && got.iter().any(Option::is_some) => {
                let mut again = Vec::new();
                for (i, answer) in left.into_iter().zip(got) {
                    match answer {
                        Some(answer) => answers[i] = Some(answer),
                        None => again.push(i),
                    }
                }
                left = again;
            }
            // A trap before any write, or a store that broke the contract:
            // one by one.
            Ok(_) | Err(Error::Trap(_)) => {
                for i in left.drain(..) {
                    answers[i] = Some(run_alone(&items[i]));
                }
            }
            Err(Error::TrapAfterWrite(trap)) => {
                let reason = format!("{trap:#}");
                for i in left.drain(..) {
                    answers[i] = Some(if is_read(&items[i]) {
                        run_alone(&items[i])
                    } else {
                        Err(Error::TrapAfterWrite(wasmtime::Error::msg(reason.clone())))
                    });
                }
            }
            Err(other) => {
                let reason = other.to_string();
                for i in left.drain(..) {
                    answers[i] = Some(Err(Error::Setup(anyhow::anyhow!("{reason}"))));
                }
            }
        }
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(Error::Setup(anyhow::anyhow!("left unanswered")))))
        .collect()
}
