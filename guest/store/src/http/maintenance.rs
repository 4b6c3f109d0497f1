//! `POST /tick`: the periodic maintenance on demand, for hosts with no
//! process of their own to run it (the edge) and for external schedulers.

use super::call::Call;
use super::{Handled, Problem, Reply, json};
use crate::storage::Storage;
use crate::{Clock, Store};

const DEFAULT_BUDGET: u32 = 1000;
const MAX_BUDGET: u32 = 100_000;

pub fn tick<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let budget = call
        .query_parsed::<u32>("budget")?
        .unwrap_or(DEFAULT_BUDGET);
    if !(1..=MAX_BUDGET).contains(&budget) {
        return Err(Problem::bad_request(format!(
            "budget must be between 1 and {MAX_BUDGET}"
        )));
    }
    Ok(Reply::ok(json::tick_report(&store.tick(budget)?)))
}
