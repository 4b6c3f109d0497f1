//! The `Idempotency-Key` header: a write sent again with the same key gets
//! the first answer, applied once (`crate::idempotency`). The key is scoped
//! to the namespace the request acts on; the request's fingerprint is its
//! method, path, query and body, so a retry must send the same bytes. The
//! recorded answer is the whole response; a replay carries
//! `idempotent-replayed: true`. Reads (GET) ignore the header: they apply
//! nothing.

use super::auth::namespace_of;
use super::call::Call;
use super::router::RouteId;
use super::{Problem, Request, Response, respond};
use crate::error::{Error, Result};
use crate::idempotency::{Idempotent, fingerprint, validate_key};
use crate::storage::Storage;
use crate::{Clock, Store, namespace};

/// The request header that carries the key (Stripe's and the IETF draft's name).
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The response header of an answer given again.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A request being answered under its key.
struct Keyed<'c, 'r> {
    id: RouteId,
    template: &'static str,
    call: &'c Call<'r>,
}

impl Idempotent for Keyed<'_, '_> {
    type Answer = Response;

    fn run<S: Storage, C: Clock>(&self, store: &mut Store<S, C>) -> Response {
        respond(store.dispatch(self.id, self.call), self.template)
    }

    /// `status u16, header count u16, (name len u16, name, value len u32,
    /// value)*, body`, little-endian.
    fn encode(response: &Response) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(64 + response.body.len());
        out.extend_from_slice(&response.status.to_le_bytes());
        out.extend_from_slice(&(response.headers.len() as u16).to_le_bytes());
        for (name, value) in &response.headers {
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(&response.body);
        Some(out)
    }

    fn decode(recorded: &[u8]) -> Result<Response> {
        let corrupt = || Error::Storage("corrupt recorded response".into());
        let mut rest = recorded;
        let mut take = |n: usize| -> Result<&[u8]> {
            let (head, tail) = rest.split_at_checked(n).ok_or_else(corrupt)?;
            rest = tail;
            Ok(head)
        };
        let u16_of = |b: &[u8]| u16::from_le_bytes(b.try_into().expect("2 bytes"));
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| corrupt());
        let status = u16_of(take(2)?);
        let count = u16_of(take(2)?);
        let mut headers = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let name_len = u16_of(take(2)?) as usize;
            let name = text(take(name_len)?)?;
            let value_len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
            let value = text(take(value_len)?)?;
            headers.push((name, value));
        }
        Ok(Response {
            status,
            headers,
            body: rest.to_vec(),
        })
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// The answer to a write that carries an idempotency key, or `None`
    /// for a request without one (or a read): answer it as usual.
    pub(super) fn answer_keyed(
        &mut self,
        id: RouteId,
        template: &'static str,
        request: &Request,
        call: &Call,
    ) -> Option<Response> {
        if matches!(request.method.as_str(), "GET" | "HEAD") {
            return None;
        }
        let key = call.header(IDEMPOTENCY_HEADER)?;
        let keyed = Keyed { id, template, call };
        let answered = (|| -> std::result::Result<_, Problem> {
            validate_key(key)?;
            let ns = namespace_of(id, call)?.ok_or_else(|| {
                Problem::bad_request(format!(
                    "{} {template} acts on the whole store; an Idempotency-Key applies to \
                     requests on one namespace",
                    request.method
                ))
            })?;
            namespace::validate(&ns)?;
            let print = fingerprint(&[
                request.method.as_bytes(),
                request.path.as_bytes(),
                request.query.as_bytes(),
                &request.body,
            ]);
            Ok(self.run_idempotent(&ns, key, &print, &keyed)?)
        })();
        Some(match answered {
            Ok(answered) => {
                let mut response = answered.answer;
                if answered.replayed {
                    response
                        .headers
                        .push((REPLAYED_HEADER.into(), "true".into()));
                }
                response
            }
            Err(problem) => respond(Err(problem), template),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_response_round_trips_and_garbage_is_refused() {
        let response = Response {
            status: 201,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"id":"x"}"#.to_vec(),
        };
        let recorded = Keyed::encode(&response).unwrap();
        assert_eq!(Keyed::decode(&recorded).unwrap(), response);
        assert!(Keyed::decode(&recorded[..7]).is_err());
        assert!(Keyed::decode(&[1]).is_err());
    }
}
