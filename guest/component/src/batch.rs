//! The `batch` export: operations of any namespaces and kinds in one call,
//! run by `Store::batch` (conversions in `convert.rs`).

use crate::bindings::exports::nexus::store::batch::{self as wit, Error, Operation, Outcome};
use crate::{Component, STORE, all_into};

impl wit::Guest for Component {
    fn run(operations: Vec<Operation>) -> Vec<Option<Result<Outcome, Error>>> {
        let operations: Vec<nexus_store::batch::Operation> = all_into(operations);
        STORE
            .with_borrow_mut(|store| store.batch(&operations))
            .into_iter()
            .map(|answer| answer.map(|result| result.map(Into::into).map_err(Into::into)))
            .collect()
    }

    fn apply_once(idempotency_key: String, operation: Operation) -> Result<Outcome, Error> {
        let operation: nexus_store::batch::Operation = operation.into();
        STORE
            .with_borrow_mut(|store| store.apply_once(&idempotency_key, &operation))
            .map(Into::into)
            .map_err(Into::into)
    }
}
