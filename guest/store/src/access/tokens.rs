//! Creating, listing, revoking and checking tokens in the storage.

use serde::{Deserialize, Serialize};

use super::grant::{Grant, Scope, validate_pattern};
use super::secret;
use crate::error::{Error, Result};
use crate::keys;
use crate::namespace::MAX_NAME_LEN;
use crate::storage::{Check, GetEach, Storage, StorageError, Write};
use crate::{Clock, MAX_ATTEMPTS, Store};

/// A use is recorded at most this often per token, so that reads do not
/// each turn into a write.
const USE_PRECISION_MS: u64 = 60_000;
/// At most this many tokens are listed (and so may exist usefully).
const MAX_TOKENS: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// None = a generated name.
    pub name: Option<String>,
    pub namespaces: Vec<String>,
    pub scope: Scope,
    pub expires_in_ms: Option<u64>,
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub name: String,
    pub namespaces: Vec<String>,
    pub scope: Scope,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub last_used_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedToken {
    pub info: TokenInfo,
    /// Shown once; the store keeps only its hash.
    pub secret: String,
}

/// Why a request's credentials let it in as no one (HTTP 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    NotBearer,
    /// Not a token of this store: never was, revoked, or mistyped.
    Unknown,
    Expired,
}

impl Denied {
    /// The reason a client sees; never contains what it sent.
    pub fn reason(self) -> &'static str {
        match self {
            Denied::Missing => "authentication required: send Authorization: Bearer <token>",
            Denied::NotBearer => "the Authorization header must be Bearer <token>",
            Denied::Unknown => "unknown or revoked token",
            Denied::Expired => "token expired",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct TokenRecord {
    hash: Vec<u8>,
    scope: Scope,
    namespaces: Vec<String>,
    created_at: u64,
    expires_at: Option<u64>,
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "token name {name:?} must be 1-{MAX_NAME_LEN} ASCII letters, digits, '-' or '_'"
        )))
    }
}

fn decode(raw: &[u8]) -> Result<TokenRecord> {
    postcard::from_bytes(raw).map_err(|e| Error::Storage(format!("corrupt token record: {e}")))
}

fn decode_use(raw: Option<&[u8]>) -> Option<u64> {
    raw.and_then(|b| b.try_into().ok()).map(u64::from_be_bytes)
}

impl TokenRecord {
    fn info(self, name: String, last_used_at: Option<u64>) -> TokenInfo {
        TokenInfo {
            name,
            namespaces: self.namespaces,
            scope: self.scope,
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at,
        }
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Creates a token and returns its secret, which is not stored.
    /// `condition-failed` if a token of that name exists.
    pub fn create_token(&mut self, spec: &TokenSpec) -> Result<CreatedToken> {
        if spec.namespaces.is_empty() {
            return Err(Error::InvalidArgument(
                "a token needs at least one namespace pattern ('*' for every namespace)".into(),
            ));
        }
        for pattern in &spec.namespaces {
            validate_pattern(pattern)?;
        }
        let name = match &spec.name {
            Some(name) => name.clone(),
            None => generated_name()?,
        };
        validate_name(&name)?;
        let now = self.clock().now_ms();
        let expires_at = match spec.expires_in_ms {
            Some(0) => {
                return Err(Error::InvalidArgument(
                    "expires-in must be more than 0".into(),
                ));
            }
            Some(ms) => Some(now.checked_add(ms).ok_or_else(|| {
                Error::InvalidArgument(format!("expires-in {ms} ms is too far away"))
            })?),
            None => None,
        };
        let secret = secret::generate(&name)?;
        let record = TokenRecord {
            hash: secret::hash(&secret),
            scope: spec.scope,
            namespaces: spec.namespaces.clone(),
            created_at: now,
            expires_at,
        };
        let key = keys::token(&name);
        let checks = vec![Check {
            key: key.clone(),
            expected: None,
        }];
        let value = postcard::to_allocvec(&record).expect("token records always serialize");
        let exists =
            || Error::ConditionFailed(format!("a token named {name:?} exists; revoke it first"));
        for _ in 0..MAX_ATTEMPTS {
            let writes = vec![
                Write::Put(key.clone(), value.clone()),
                Write::Delete(keys::token_use(&name)),
            ];
            match self.storage.commit(checks.clone(), writes) {
                Ok(()) => {
                    return Ok(CreatedToken {
                        info: record.info(name, None),
                        secret,
                    });
                }
                // A conflict is a lost race, not proof that the name is
                // taken: a database may abort a transaction whose check
                // held (PostgreSQL's serialization failures), so look.
                Err(StorageError::Conflict) => {
                    if self.storage.get(&key)?.is_some() {
                        return Err(exists());
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(crate::write::too_much_contention())
    }

    /// Every token, by name.
    pub fn list_tokens(&mut self) -> Result<Vec<TokenInfo>> {
        let (start, end) = keys::token_range();
        let records = self.storage.scan(&start, &end, MAX_TOKENS)?;
        let names: Vec<String> = records
            .iter()
            .filter_map(|(k, _)| keys::token_of_record(k).map(str::to_string))
            .collect();
        let use_keys: Vec<Vec<u8>> = names.iter().map(|n| keys::token_use(n)).collect();
        let uses = self.storage.get_each(&use_keys)?;
        records
            .iter()
            .zip(names)
            .zip(uses)
            .map(
                |(((_, raw), name), used)| Ok(decode(raw)?.info(name, decode_use(used.as_deref()))),
            )
            .collect()
    }

    /// Removes a token: its secret stops working at once, on every host.
    pub fn revoke_token(&mut self, name: &str) -> Result<()> {
        let key = keys::token(name);
        let Some(current) = self.storage.get(&key)? else {
            return Err(Error::NotFound(format!("no token named {name:?}")));
        };
        let checks = vec![Check {
            key: key.clone(),
            expected: Some(current),
        }];
        let writes = vec![Write::Delete(key), Write::Delete(keys::token_use(name))];
        match self.storage.commit(checks, writes) {
            Ok(()) => Ok(()),
            // Revoked (or replaced) meanwhile: either way it is gone or new.
            Err(StorageError::Conflict) => self.revoke_token(name),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether any token exists; with one, the REST API requires a token.
    pub fn has_tokens(&self) -> Result<bool> {
        let (start, end) = keys::token_range();
        Ok(!self.storage.scan(&start, &end, 1)?.is_empty())
    }

    /// The grant of the token whose secret is `secret`, with when it was
    /// last used. Unknown, revoked and wrong secrets are all `Unknown`;
    /// `Expired` is only said of the right secret.
    pub fn authenticate(&self, secret: &str) -> Result<Result<(Grant, Option<u64>), Denied>> {
        let Some(name) = secret::name_of(secret) else {
            return Ok(Err(Denied::Unknown));
        };
        if validate_name(name).is_err() {
            return Ok(Err(Denied::Unknown));
        }
        let [Some(raw), used] = self
            .storage
            .get_array([keys::token(name), keys::token_use(name)])?
        else {
            return Ok(Err(Denied::Unknown));
        };
        let record = decode(&raw)?;
        if !secret::verify(secret, &record.hash) {
            return Ok(Err(Denied::Unknown));
        }
        if record
            .expires_at
            .is_some_and(|at| self.clock().now_ms() >= at)
        {
            return Ok(Err(Denied::Expired));
        }
        let grant = Grant {
            name: name.to_string(),
            scope: record.scope,
            namespaces: record.namespaces,
        };
        Ok(Ok((grant, decode_use(used.as_deref()))))
    }

    /// Records that a token was used now, unless it was within the last
    /// minute. Losing this write to a race is harmless, so it is not retried.
    pub fn note_token_use(&mut self, name: &str, last_used_at: Option<u64>) -> Result<()> {
        let now = self.clock().now_ms();
        if last_used_at.is_some_and(|at| now.saturating_sub(at) < USE_PRECISION_MS) {
            return Ok(());
        }
        // Only while the token exists: a use must not outlive a revoke.
        let key = keys::token(name);
        let Some(current) = self.storage.get(&key)? else {
            return Ok(());
        };
        let checks = vec![Check {
            key,
            expected: Some(current),
        }];
        let writes = vec![Write::Put(
            keys::token_use(name),
            now.to_be_bytes().to_vec(),
        )];
        match self.storage.commit(checks, writes) {
            Ok(()) | Err(StorageError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// `token-` and eight random hex digits.
fn generated_name() -> Result<String> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Storage(format!("no random source for a token name: {e}")))?;
    Ok(format!("token-{:08x}", u32::from_be_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, MemoryStorage};

    fn store() -> (Store<MemoryStorage, ManualClock>, ManualClock) {
        let clock = ManualClock::new(1_000);
        (Store::new(MemoryStorage::new(), clock.clone()), clock)
    }

    fn spec(name: &str, scope: Scope, ns: &[&str]) -> TokenSpec {
        TokenSpec {
            name: Some(name.into()),
            namespaces: ns.iter().map(|s| s.to_string()).collect(),
            scope,
            expires_in_ms: None,
        }
    }

    #[test]
    fn a_created_token_authenticates_until_revoked() {
        let (mut store, _) = store();
        assert!(!store.has_tokens().unwrap());
        let created = store
            .create_token(&spec("app", Scope::Write, &["app1"]))
            .unwrap();
        assert!(store.has_tokens().unwrap());
        let (grant, used) = store.authenticate(&created.secret).unwrap().unwrap();
        assert_eq!(grant.name, "app");
        assert_eq!(used, None);
        store.note_token_use("app", used).unwrap();
        assert_eq!(store.list_tokens().unwrap()[0].last_used_at, Some(1_000));
        store.revoke_token("app").unwrap();
        assert_eq!(
            store.authenticate(&created.secret).unwrap(),
            Err(Denied::Unknown)
        );
        assert!(!store.has_tokens().unwrap());
        assert!(matches!(store.revoke_token("app"), Err(Error::NotFound(_))));
    }

    #[test]
    fn a_token_expires_and_a_name_is_taken_once() {
        let (mut store, clock) = store();
        let created = store
            .create_token(&TokenSpec {
                expires_in_ms: Some(10),
                ..spec("short", Scope::Read, &["*"])
            })
            .unwrap();
        assert_eq!(created.info.expires_at, Some(1_010));
        clock.advance(10);
        assert_eq!(
            store.authenticate(&created.secret).unwrap(),
            Err(Denied::Expired)
        );
        assert!(matches!(
            store.create_token(&spec("short", Scope::Read, &["*"])),
            Err(Error::ConditionFailed(_))
        ));
    }

    #[test]
    fn bad_specs_are_refused_and_write_nothing() {
        let (mut store, _) = store();
        for bad in [
            spec("", Scope::Read, &["a"]),
            spec("a.b", Scope::Read, &["a"]),
            spec("ok", Scope::Read, &[]),
            spec("ok", Scope::Read, &["a/b"]),
            TokenSpec {
                expires_in_ms: Some(0),
                ..spec("ok", Scope::Read, &["a"])
            },
        ] {
            assert!(matches!(
                store.create_token(&bad),
                Err(Error::InvalidArgument(_))
            ));
        }
        assert!(!store.has_tokens().unwrap());
    }

    #[test]
    fn a_generated_name_is_valid() {
        let (mut store, _) = store();
        let mut unnamed = spec("x", Scope::Read, &["a"]);
        unnamed.name = None;
        let created = store.create_token(&unnamed).unwrap();
        assert!(created.info.name.starts_with("token-"));
        assert_eq!(created.info.name.len(), "token-".len() + 8);
    }
}
