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

    fn authorize(request: Request) -> Option<Response> {
        let request = request.into();
        STORE
            .with_borrow_mut(|store| store.authorize_http(&request))
            .map(Into::into)
    }
}
