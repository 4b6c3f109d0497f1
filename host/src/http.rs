//! The guest's REST API as a Rust call: [`Nexus::handle_http`] hands a
//! plain request to the component and returns its plain response. `nexus
//! serve` is this behind axum; another server (hyper, actix, a test) can
//! put it behind its own.

pub use crate::bindings::exports::nexus::store::http_api::{
    Request as HttpRequest, Response as HttpResponse,
};
use crate::{Error, Nexus};

/// The response header in which the guest names the matched route
/// template; servers use it as a metrics label.
pub use nexus_store::http::ROUTE_HEADER;

impl Nexus {
    /// Answers one REST request (see `docs/openapi.json`). Every API-level
    /// failure is a response with a status and a reason; `Err` means the
    /// component itself failed (a trap, such as running over the call time
    /// budget) and nothing was written.
    ///
    /// `GET /stats` first writes every idle instance's pending hit and miss
    /// counts, so statistics include every request answered before it.
    pub fn handle_http(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        if flushes_first(&request) {
            self.flush()?;
        }
        self.pool
            .with(|bindings, store| bindings.nexus_store_http_api().call_handle(store, &request))
    }
}

/// Whether [`Nexus::handle_http`] writes pending statistics before
/// answering (`GET /stats`): then the call commits, which a server may not
/// want to run on a thread that must not wait.
pub fn flushes_first(request: &HttpRequest) -> bool {
    request.method.eq_ignore_ascii_case("GET") && request.path == "/stats"
}
