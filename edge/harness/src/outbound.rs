//! Outgoing HTTP (`wasi:http/outgoing-handler`): denied, always. Spin
//! allows a request only to hosts listed in the component's
//! `allowed_outbound_hosts`, and the edge app lists none; a component that
//! tried anyway would get `HTTP-request-denied` from Spin, and gets it here.

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// `wasi:http` hooks that refuse every outgoing request and otherwise keep
/// wasmtime's defaults (its forbidden headers, http and https only).
pub(crate) struct DenyOutbound;

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for DenyOutbound {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _response_done: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        Box::new(async { Err(Error::HttpRequestDenied) })
    }
}
