//! Backup, restore and copy of a whole store, on any backend: what moves a
//! store from the embedded file to a PostgreSQL cluster and back, and what
//! keeps a copy of either.
//!
//! A backup is the storage's entries (the byte keys and values of
//! `nexus_store`'s layout, everything of every namespace), read from one
//! consistent snapshot ([`Backend::snapshot`]) while writers go on, so it
//! is a state the store was in: every write acknowledged before it began
//! is in it. The format, version 1, all integers little-endian:
//!
//! ```text
//! "NEXUSBAK"  u32 version (1)
//! per entry, in key order:  u32 key length, u32 value length, key, value
//! end:  u32 0xFFFFFFFF, u64 entry count, SHA-256 of every byte before it
//! ```
//!
//! A restore reads the whole file and checks it (the version, the order
//! of the keys, the count, the hash) before it writes anything, so a
//! corrupt or truncated backup is refused and writes nothing; it loads
//! into an empty store unless told to replace what is there. Entries go in
//! commits of at most [`LOAD_ENTRIES`] entries or [`LOAD_BYTES`] bytes.

use std::io::{self, BufReader, BufWriter, Read, Write as _};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::backend::{Backend, Storage, StorageError, Write};

const MAGIC: &[u8; 8] = b"NEXUSBAK";
/// The format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const END: u32 = u32::MAX;
/// Most entries in one commit of a restore or a copy.
pub const LOAD_ENTRIES: usize = 1000;
/// Most key and value bytes in one commit of a restore or a copy.
pub const LOAD_BYTES: usize = 8 * 1024 * 1024;
/// Above every key of the layout (namespace names are ASCII, the registry
/// starts at 0x01): the end of "everything".
const ALL_KEYS_END: &[u8] = &[0xFF];

/// What a backup, restore or copy moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub entries: u64,
    /// Key and value bytes (the file adds 8 per entry and 52 in all).
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The file is not a backup this build can read, or was damaged.
    #[error("not a valid nexus backup: {0}; nothing was written")]
    Corrupt(String),
    #[error(
        "the destination store is not empty: restore or copy into an empty store, or pass --force to replace everything in it"
    )]
    NotEmpty,
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

/// Writes a backup of `backend` to `out`.
pub fn write(backend: &dyn Backend, out: impl io::Write) -> Result<Summary, BackupError> {
    let mut out = Hashing::new(BufWriter::new(out));
    out.put(MAGIC)?;
    out.put(&FORMAT_VERSION.to_le_bytes())?;
    let mut summary = Summary::default();
    let mut failed: Option<io::Error> = None;
    backend
        .snapshot(&mut |key, value| {
            let written = (|| {
                out.put(&len32(key.len())?.to_le_bytes())?;
                out.put(&len32(value.len())?.to_le_bytes())?;
                out.put(key)?;
                out.put(value)
            })();
            match written {
                Ok(()) => {
                    summary.entries += 1;
                    summary.bytes += (key.len() + value.len()) as u64;
                    Ok(())
                }
                Err(e) => {
                    let reason = e.to_string();
                    failed = Some(e);
                    Err(StorageError::Other(reason))
                }
            }
        })
        .map_err(|e| match failed.take() {
            Some(io) => BackupError::Io(io),
            None => BackupError::Storage(e),
        })?;
    out.put(&END.to_le_bytes())?;
    out.put(&summary.entries.to_le_bytes())?;
    let digest = out.hash.clone().finalize();
    out.inner.write_all(&digest)?;
    out.inner.flush()?;
    Ok(summary)
}

/// Writes a backup of `backend` to the file at `path` (created, or
/// truncated), synced to disk before it returns.
pub fn write_file(backend: &dyn Backend, path: &Path) -> Result<Summary, BackupError> {
    let file = std::fs::File::create(path)?;
    let summary = write(backend, &file)?;
    file.sync_all()?;
    Ok(summary)
}

fn len32(len: usize) -> io::Result<u32> {
    u32::try_from(len)
        .ok()
        .filter(|&n| n != END)
        .ok_or_else(|| io::Error::other("an entry of 4 GiB or more cannot be backed up"))
}

/// A writer that hashes what it writes.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
}

impl<W: io::Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.inner.write_all(bytes)
    }
}

/// Reads a backup from `input`, handing each entry to `visit` in order,
/// and checks its end (count and hash). `visit` sees entries before the
/// end is checked: [`restore_file`] reads the file once to check it
/// before it writes.
pub fn read(
    input: impl Read,
    mut visit: impl FnMut(Vec<u8>, Vec<u8>) -> Result<(), BackupError>,
) -> Result<Summary, BackupError> {
    let corrupt = |why: &str| BackupError::Corrupt(why.to_string());
    let mut input = BufReader::new(input);
    let mut hash = Sha256::new();
    // Read as it comes, not allocated from a length first: a damaged
    // length must not ask for gigabytes.
    let mut take = |n: usize, hash: &mut Sha256| -> Result<Vec<u8>, BackupError> {
        let mut bytes = Vec::new();
        (&mut input).take(n as u64).read_to_end(&mut bytes)?;
        if bytes.len() != n {
            return Err(corrupt("it ends early (truncated)"));
        }
        hash.update(&bytes);
        Ok(bytes)
    };
    let u32_of = |b: Vec<u8>| u32::from_le_bytes(b.try_into().expect("4 bytes"));
    if take(8, &mut hash)? != MAGIC {
        return Err(corrupt("it does not start with NEXUSBAK"));
    }
    let version = u32_of(take(4, &mut hash)?);
    if version != FORMAT_VERSION {
        return Err(BackupError::Corrupt(format!(
            "format version {version}; this build reads version {FORMAT_VERSION}"
        )));
    }
    let mut summary = Summary::default();
    let mut previous: Option<Vec<u8>> = None;
    loop {
        let key_len = u32_of(take(4, &mut hash)?);
        if key_len == END {
            break;
        }
        let value_len = u32_of(take(4, &mut hash)?);
        let key = take(key_len as usize, &mut hash)?;
        let value = take(value_len as usize, &mut hash)?;
        if previous.as_ref().is_some_and(|p| *p >= key) {
            return Err(corrupt("its keys are out of order"));
        }
        summary.entries += 1;
        summary.bytes += u64::from(key_len) + u64::from(value_len);
        previous = Some(key.clone());
        visit(key, value)?;
    }
    let count = u64::from_le_bytes(take(8, &mut hash)?.try_into().expect("8 bytes"));
    if count != summary.entries {
        return Err(BackupError::Corrupt(format!(
            "it says {count} entries and holds {}",
            summary.entries
        )));
    }
    let expected = hash.finalize();
    let mut stored = [0; 32];
    input.read_exact(&mut stored).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => corrupt("it ends early (truncated)"),
        _ => BackupError::Io(e),
    })?;
    if stored[..] != expected[..] {
        return Err(corrupt("its SHA-256 does not match its content"));
    }
    if input.read(&mut [0])? != 0 {
        return Err(corrupt("it has bytes after its end"));
    }
    Ok(summary)
}

/// Loads the backup at `path` into `storage`: checked whole first (a bad
/// file writes nothing); into an empty store, or with `replace`, over
/// everything in it (deleted in the first commit of the load).
pub fn restore_file(
    path: &Path,
    storage: &dyn Storage,
    replace: bool,
) -> Result<Summary, BackupError> {
    read(std::fs::File::open(path)?, |_, _| Ok(()))?;
    let mut load = Load::new(storage, replace)?;
    read(std::fs::File::open(path)?, |key, value| {
        load.put(key, value)
    })?;
    load.finish()
}

/// Copies every entry of `from`, from one snapshot, into `to`: into an
/// empty store, or with `replace`, over everything in it.
pub fn copy(from: &dyn Backend, to: &dyn Storage, replace: bool) -> Result<Summary, BackupError> {
    let mut load = Load::new(to, replace)?;
    let mut failed: Option<BackupError> = None;
    from.snapshot(&mut |key, value| {
        load.put(key.to_vec(), value.to_vec()).map_err(|e| {
            let reason = e.to_string();
            failed = Some(e);
            StorageError::Other(reason)
        })
    })
    .map_err(|e| failed.take().unwrap_or(BackupError::Storage(e)))?;
    load.finish()
}

/// Entries into a storage, a commit per batch.
struct Load<'s> {
    storage: &'s dyn Storage,
    writes: Vec<Write>,
    bytes: usize,
    summary: Summary,
}

impl<'s> Load<'s> {
    fn new(storage: &'s dyn Storage, replace: bool) -> Result<Self, BackupError> {
        let mut writes = Vec::new();
        if replace {
            writes.push(Write::DeleteRange(Vec::new(), ALL_KEYS_END.to_vec()));
        } else if !storage.scan(&[], ALL_KEYS_END, 1)?.is_empty() {
            return Err(BackupError::NotEmpty);
        }
        Ok(Self {
            storage,
            writes,
            bytes: 0,
            summary: Summary::default(),
        })
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), BackupError> {
        self.summary.entries += 1;
        self.summary.bytes += (key.len() + value.len()) as u64;
        self.bytes += key.len() + value.len();
        self.writes.push(Write::Put(key, value));
        if self.writes.len() >= LOAD_ENTRIES || self.bytes >= LOAD_BYTES {
            self.commit()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<(), BackupError> {
        self.bytes = 0;
        let writes = std::mem::take(&mut self.writes);
        if writes.is_empty() {
            return Ok(());
        }
        Ok(self.storage.commit(Vec::new(), writes)?)
    }

    fn finish(mut self) -> Result<Summary, BackupError> {
        self.commit()?;
        Ok(self.summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::MemoryBackend;

    fn store(entries: &[(&[u8], &[u8])]) -> MemoryBackend {
        let store = MemoryBackend::new();
        let writes = entries
            .iter()
            .map(|(k, v)| Write::Put(k.to_vec(), v.to_vec()))
            .collect();
        store.commit(Vec::new(), writes).unwrap();
        store
    }

    fn backup_of(store: &MemoryBackend) -> Vec<u8> {
        let mut bytes = Vec::new();
        write(store, &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_backup_reads_back_entry_for_entry() {
        let source = store(&[(b"a", b"1"), (b"b\0x", b""), (b"\x01Nns", b"record")]);
        let bytes = backup_of(&source);
        let mut seen = Vec::new();
        let summary = read(&bytes[..], |k, v| {
            seen.push((k, v));
            Ok(())
        })
        .unwrap();
        assert_eq!(summary.entries, 3);
        assert_eq!(
            seen.into_iter()
                .collect::<std::collections::BTreeMap<_, _>>(),
            source.snapshot()
        );
    }

    #[test]
    fn every_damage_is_refused() {
        let bytes = backup_of(&store(&[(b"a", b"1"), (b"b", b"2")]));
        let refused = |bytes: &[u8]| read(bytes, |_, _| Ok(())).unwrap_err().to_string();
        for cut in [0, 5, 12, 20, bytes.len() - 33, bytes.len() - 1] {
            assert!(
                refused(&bytes[..cut]).contains("not a valid nexus backup"),
                "cut at {cut}"
            );
        }
        for at in 12..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x40;
            assert!(
                read(&flipped[..], |_, _| Ok(())).is_err(),
                "a flip at byte {at} went unseen"
            );
        }
        let mut newer = bytes.clone();
        newer[8] = 2;
        assert!(refused(&newer).contains("format version 2"));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(refused(&longer).contains("after its end"));
    }

    #[test]
    fn a_load_needs_an_empty_store_unless_it_replaces() {
        let target = store(&[(b"old", b"x")]);
        let source = store(&[(b"new", b"y")]);
        assert!(matches!(
            copy(&source, &target, false),
            Err(BackupError::NotEmpty)
        ));
        assert_eq!(target.snapshot().len(), 1, "nothing written");
        copy(&source, &target, true).unwrap();
        assert_eq!(target.snapshot(), source.snapshot());
    }

    #[test]
    fn large_loads_go_in_several_commits() {
        let source = MemoryBackend::new();
        let writes = (0..2500u32)
            .map(|i| Write::Put(i.to_be_bytes().to_vec(), vec![7; 10]))
            .collect();
        source.commit(Vec::new(), writes).unwrap();
        let target = MemoryBackend::new();
        let summary = copy(&source, &target, false).unwrap();
        assert_eq!(summary.entries, 2500);
        assert_eq!(target.snapshot(), source.snapshot());
    }
}
