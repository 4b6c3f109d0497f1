//! `nexus backup`, `nexus restore` and `nexus copy` (the format and what
//! each promises: `nexus_host::backup`).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use nexus_host::backend::{Backend, FileBackend, PostgresBackend, PostgresOptions};
use nexus_host::backup::{self, BackupError, Summary};
use serde_json::json;

use super::Ctx;
use super::failure::{Failure, Kind};
use super::output::Out;

/// Write a consistent snapshot of the whole store to FILE while writers go
/// on (every write acknowledged before it began is in it), in nexus's
/// versioned, checksummed backup format.
#[derive(Debug, Args)]
pub struct Backup {
    /// The backup file (created, or replaced).
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
}

impl Backup {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let summary = backup::write_file(&**ctx.nexus.backend(), &self.to).map_err(failure)?;
        Ok(done("backed up", &summary, json!({ "to": self.to })))
    }
}

/// Load a backup into the store: refused (exit 2) unless the store is
/// empty or --force is given; a corrupt or truncated file is refused and
/// writes nothing.
#[derive(Debug, Args)]
pub struct Restore {
    /// The backup file.
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Replace everything in a store that is not empty.
    #[arg(long)]
    force: bool,
}

impl Restore {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let summary = backup::restore_file(&self.from, &**ctx.nexus.backend(), self.force)
            .map_err(failure)?;
        Ok(done("restored", &summary, json!({ "from": self.from })))
    }
}

/// Copy a whole store from one backend to another (one snapshot of the
/// source, written into an empty destination, or over it with --force).
/// A store is a data directory (the file store) or a `postgres://` URL
/// (several hosts and `target_session_attrs=read-write` for a cluster).
#[derive(Debug, Args)]
pub struct Copy {
    /// The store to copy.
    #[arg(long, value_name = "DIR|URL")]
    from: String,
    /// The store to copy into.
    #[arg(long, value_name = "DIR|URL")]
    to: String,
    /// The PostgreSQL table of a `postgres://` store (both sides).
    #[arg(long, value_name = "TABLE", default_value = PostgresOptions::DEFAULT_TABLE)]
    table: String,
    /// Replace everything in a destination that is not empty.
    #[arg(long)]
    force: bool,
}

impl Copy {
    /// Opens both stores itself (the global store options do not apply).
    pub fn run(&self) -> Result<Out, Failure> {
        let from = self.open(&self.from)?;
        let to = self.open(&self.to)?;
        let summary = backup::copy(&*from, &*to, self.force).map_err(failure)?;
        Ok(done(
            "copied",
            &summary,
            json!({ "from": redacted(&self.from), "to": redacted(&self.to) }),
        ))
    }

    fn open(&self, spec: &str) -> Result<Arc<dyn Backend>, Failure> {
        let opened: Result<Arc<dyn Backend>, _> = if is_url(spec) {
            PostgresBackend::open(&PostgresOptions {
                table: self.table.clone(),
                ..PostgresOptions::new(spec)
            })
            .map(|b| Arc::new(b) as Arc<dyn Backend>)
        } else {
            FileBackend::open(spec).map(|b| Arc::new(b) as Arc<dyn Backend>)
        };
        opened.map_err(|e| Failure {
            kind: Kind::Failed,
            message: format!("cannot open {}: {e}", redacted(spec)),
            stdout: None,
        })
    }
}

fn is_url(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// A URL without its password, for output.
fn redacted(spec: &str) -> String {
    match (is_url(spec), spec.split_once('@')) {
        (true, Some((_, rest))) => format!("postgres://…@{rest}"),
        _ => spec.to_string(),
    }
}

fn done(what: &str, summary: &Summary, mut json: serde_json::Value) -> Out {
    json["entries"] = summary.entries.into();
    json["bytes"] = summary.bytes.into();
    Out::new(
        json,
        format!(
            "{what} {} entries ({} bytes of keys and values)",
            summary.entries, summary.bytes
        ),
    )
}

/// A refusal (a bad file, a store that is not empty) is exit 2, as the
/// store's own refusals; a failing storage or file system is exit 3.
fn failure(e: BackupError) -> Failure {
    let kind = match e {
        BackupError::Corrupt(_) | BackupError::NotEmpty => Kind::Refused,
        BackupError::Io(_) | BackupError::Storage(_) => Kind::Failed,
    };
    Failure {
        kind,
        message: e.to_string(),
        stdout: None,
    }
}
