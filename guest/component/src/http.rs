//! The `http-api` export: the REST API lives in `nexus_store::http`; this
//! moves the request and response records across, field for field.

use nexus_store::http as api;

use crate::bindings::exports::nexus::store::http_api::{self as wit, Request, Response};
use crate::{Component, STORE};

impl wit::Guest for Component {
    fn handle(request: Request) -> Response {
        let request = api::Request {
            method: request.method,
            path: request.path,
            query: request.query,
            headers: request.headers,
            body: request.body,
            started_at_ms: request.started_at_ms,
        };
        let response = STORE.with_borrow_mut(|store| store.handle_http(&request));
        Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        }
    }
}
