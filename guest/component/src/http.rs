//! The `http-api` export: the REST API lives in `nexus_store::http`; this
//! hands it the request and returns its response (conversions in `convert.rs`).

use crate::bindings::exports::nexus::store::http_api::{self as wit, Request, Response};
use crate::{Component, STORE};

impl wit::Guest for Component {
    fn handle(request: Request) -> Response {
        let request = request.into();
        STORE
            .with_borrow_mut(|store| store.handle_http(&request))
            .into()
    }

    fn handle_batch(requests: Vec<Request>) -> Vec<Option<Response>> {
        let requests: Vec<_> = requests.into_iter().map(Into::into).collect();
        STORE
            .with_borrow_mut(|store| store.handle_http_batch(&requests))
            .into_iter()
            .map(|answer| answer.map(Into::into))
            .collect()
    }

    fn authorize(request: Request) -> Option<Response> {
        let request = request.into();
        STORE
            .with_borrow_mut(|store| store.authorize_http(&request))
            .map(Into::into)
    }
}
