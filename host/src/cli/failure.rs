//! Why a command failed, and the exit code that says so.

use nexus_host::{Error, StoreError};

use super::output::Out;

/// Exit code when the thing asked for does not exist.
pub const EXIT_NOT_FOUND: u8 = 1;
/// Exit code when the store refused the operation (its typed error); clap
/// also exits with 2 on a usage error.
pub const EXIT_REFUSED: u8 = 2;
/// Exit code when nexus could not run the command at all: the store could
/// not be opened, the component trapped, or stdout could not be written.
pub const EXIT_FAILED: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NotFound,
    Refused,
    Failed,
}

/// A failed command: `error: <message>` goes to stderr and the process
/// exits with the code of `kind`. Some failures still print something on
/// stdout (`null` for a missing key with `--json`).
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
    pub stdout: Option<Out>,
}

impl Failure {
    /// Worded like the store's own not-found errors: `not found: <what>`.
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self {
            kind: Kind::NotFound,
            message: format!("not found: {what}"),
            stdout: None,
        }
    }

    /// Also prints `out` on stdout.
    pub fn printing(mut self, out: Out) -> Self {
        self.stdout = Some(out);
        self
    }

    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::NotFound => EXIT_NOT_FOUND,
            Kind::Refused => EXIT_REFUSED,
            Kind::Failed => EXIT_FAILED,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Store(StoreError::NotFound(_)) => Kind::NotFound,
            // Not a refusal: the write may have been applied.
            Error::Store(StoreError::OutcomeUnknown(_)) => Kind::Failed,
            Error::Store(_) => Kind::Refused,
            Error::Trap(_) | Error::TrapAfterWrite(_) | Error::Setup(_) => Kind::Failed,
        };
        Self {
            kind,
            message: e.to_string(),
            stdout: None,
        }
    }
}
