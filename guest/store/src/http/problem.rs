//! Errors as the API reports them: a status and `{"detail": reason}`.

use serde_json::{Value, json};

use crate::Error;

/// A failed request: nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    /// A body that is not JSON or not the expected shape (FastAPI's 422).
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(422, detail)
    }

    /// A query parameter that does not parse.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, detail)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(405, "Method Not Allowed")
    }

    pub fn body(&self) -> Value {
        json!({ "detail": self.detail })
    }
}

/// The store's typed errors, by what the client can do about them.
impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::InvalidNamespace(_)
            | Error::InvalidKey(_)
            | Error::InvalidArgument(_)
            | Error::InvalidMetadata(_) => 400,
            Error::NotFound(_) => 404,
            // The request was fine; the data it met was not.
            Error::NotAnInteger(_) | Error::ConditionFailed(_) | Error::QuotaExceeded(_) => 409,
            Error::KeyTooLarge(_) | Error::ValueTooLarge(_) => 413,
            // As Stripe answers a key reused with other parameters.
            Error::IdempotencyKeyReused(_) => 422,
            Error::Storage(_) | Error::OutcomeUnknown(_) => 503,
        };
        Self::new(status, e.to_string())
    }
}
