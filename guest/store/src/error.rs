//! The one error type of the store. It mirrors the WIT `error` variant case
//! for case, so the component glue converts it without losing information.

use crate::storage::StorageError;

/// Why an operation failed. An operation that returns an error has written
/// nothing — except [`Error::OutcomeUnknown`], which says it may have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid namespace: {0}")]
    InvalidNamespace(String),
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("key too large: {0}")]
    KeyTooLarge(String),
    #[error("value too large: {0}")]
    ValueTooLarge(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("not an integer: {0}")]
    NotAnInteger(String),
    #[error("invalid metadata: {0}")]
    InvalidMetadata(String),
    #[error("condition failed: {0}")]
    ConditionFailed(String),
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("storage: {0}")]
    Storage(String),
    /// The write's commit was sent but its answer lost (the connection to
    /// the storage broke while it committed): it may have been applied.
    #[error(
        "outcome unknown: {0}; the write may or may not have been applied: retry it with the \
         same idempotency key, which applies it at most once, or read before retrying"
    )]
    OutcomeUnknown(String),
    /// The idempotency key was used for another request within its window.
    #[error("idempotency key reused: {0}")]
    IdempotencyKeyReused(String),
}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::OutcomeUnknown(why) => Error::OutcomeUnknown(why),
            e => Error::Storage(e.to_string()),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
