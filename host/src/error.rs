//! Errors of the Rust API.

pub use crate::bindings::nexus::store::types::Error as StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store refused the operation and changed nothing; the variant says why.
    #[error("{}", describe(.0))]
    Store(StoreError),
    /// The guest trapped. Its instance was discarded and storage is as it was
    /// before the call (the store writes only in whole commits).
    #[error("the store component trapped: {0:#}")]
    Trap(wasmtime::Error),
    /// The engine, component or backend could not be set up.
    #[error("setting up nexus failed: {0:#}")]
    Setup(anyhow::Error),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl Error {
    /// The store's typed error, if this is one.
    pub fn store_error(&self) -> Option<&StoreError> {
        match self {
            Error::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// "kind: reason", e.g. `invalid namespace: "a b" ...`.
pub fn describe(e: &StoreError) -> String {
    let (kind, reason) = match e {
        StoreError::InvalidNamespace(r) => ("invalid namespace", r),
        StoreError::InvalidKey(r) => ("invalid key", r),
        StoreError::KeyTooLarge(r) => ("key too large", r),
        StoreError::ValueTooLarge(r) => ("value too large", r),
        StoreError::InvalidArgument(r) => ("invalid argument", r),
        StoreError::NotAnInteger(r) => ("not an integer", r),
        StoreError::InvalidMetadata(r) => ("invalid metadata", r),
        StoreError::ConditionFailed(r) => ("condition failed", r),
        StoreError::QuotaExceeded(r) => ("quota exceeded", r),
        StoreError::NotFound(r) => ("not found", r),
        StoreError::Storage(r) => ("storage", r),
    };
    format!("{kind}: {reason}")
}
