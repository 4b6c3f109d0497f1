//! The `http-api` export: the REST API lives in `nexus_store::http`; this
//! moves the request and response records across, field for field.

use nexus_store::http as api;

use crate::bindings::exports::nexus::store::http_api::{self as wit, Request, Response};
use crate::{Component, STORE};

impl wit::Guest for Component {
    fn handle(request: Request) -> Response {
        let request = store_request(request);
        wit_response(STORE.with_borrow_mut(|store| store.handle_http(&request)))
    }

    fn authorize(request: Request) -> Option<Response> {
        let request = store_request(request);
        STORE
            .with_borrow_mut(|store| store.authorize_http(&request))
            .map(wit_response)
    }
}

fn store_request(request: Request) -> api::Request {
    api::Request {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: request.headers,
        body: request.body,
        started_at_ms: request.started_at_ms,
        access: api::AccessPolicy {
            open_without_tokens: request.access.open_without_tokens,
            public_stats: request.access.public_stats,
        },
    }
}

fn wit_response(response: api::Response) -> Response {
    Response {
        status: response.status,
        headers: response.headers,
        body: response.body,
    }
}
