//! Errors of the Rust API.

/// The store's typed refusal: which rule a request broke, and why.
pub use nexus_store::Error as StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store refused the operation and changed nothing; the variant says why.
    #[error("{0}")]
    Store(StoreError),
    /// The guest trapped. Its instance was discarded and storage is as it was
    /// before the call (the store writes only in whole commits).
    #[error("the store component trapped: {0:#}")]
    Trap(wasmtime::Error),
    /// The guest trapped after one of its commits had succeeded (a call
    /// that commits more than once, such as a batch whose first request
    /// ran alone): some of the call's writes may have been applied.
    #[error("the store component trapped after writing; the outcome is unknown: {0:#}")]
    TrapAfterWrite(wasmtime::Error),
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
