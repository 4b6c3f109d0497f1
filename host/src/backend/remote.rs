//! The storage of a running `nexus serve`, reached over HTTP: what the CLI
//! uses with `--url`. The store logic runs in the calling process, as it
//! does in every host; only its `storage` calls (`get-many`, `scan`,
//! `commit`) go to the server, whose backend answers them as it answers
//! its own guest's — checks, group commit, durability and all — so the
//! caller is one more host sharing that storage, like a second host on one
//! PostgreSQL database. Every command therefore behaves, prints and exits
//! as it does on an embedded store.
//!
//! The routes (`POST /_storage/get-many`, `/_storage/scan`,
//! `/_storage/commit`) read and write raw storage, beneath every
//! namespace's rules, so the server lets through only what may create
//! tokens: an admin token over every namespace (or anyone, while it is
//! open without tokens). They are the hosts' protocol, not part of the
//! REST API (docs/cli.md, "Against a running server").

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Backend, Check, Entries, Storage, StorageError, Write};

/// Where the routes live, under the server's base URL.
pub const STORAGE_PATH: &str = "/_storage/";

/// Bytes as base64 text in the JSON of the wire types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        BASE64.decode(text).map(Bytes).map_err(D::Error::custom)
    }
}

/// `POST /_storage/get-many`.
#[derive(Debug, Serialize, Deserialize)]
pub struct GetMany {
    pub keys: Vec<Bytes>,
}

/// Its answer: one value per key, in order.
#[derive(Debug, Serialize, Deserialize)]
pub struct Values {
    pub values: Vec<Option<Bytes>>,
}

/// `POST /_storage/scan`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Scan {
    pub start: Bytes,
    pub end: Bytes,
    pub limit: u32,
}

/// Its answer, ascending.
#[derive(Debug, Serialize, Deserialize)]
pub struct Scanned {
    pub entries: Vec<(Bytes, Bytes)>,
}

/// `POST /_storage/commit`: a 200 when it committed, a 409 on a failed
/// check (nothing written), a 503 with the reason otherwise.
#[derive(Debug, Serialize, Deserialize)]
pub struct Commit {
    pub checks: Vec<WireCheck>,
    pub writes: Vec<WireWrite>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct WireCheck {
    pub key: Bytes,
    pub expected: Option<Bytes>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireWrite {
    Put(Bytes, Bytes),
    Delete(Bytes),
    DeleteRange(Bytes, Bytes),
    Add(Bytes, i64),
    Notify(String),
}

impl From<Check> for WireCheck {
    fn from(c: Check) -> Self {
        Self {
            key: Bytes(c.key),
            expected: c.expected.map(Bytes),
        }
    }
}

impl From<WireCheck> for Check {
    fn from(c: WireCheck) -> Self {
        Self {
            key: c.key.0,
            expected: c.expected.map(|b| b.0),
        }
    }
}

impl From<Write> for WireWrite {
    fn from(w: Write) -> Self {
        match w {
            Write::Put(k, v) => Self::Put(Bytes(k), Bytes(v)),
            Write::Delete(k) => Self::Delete(Bytes(k)),
            Write::DeleteRange(s, e) => Self::DeleteRange(Bytes(s), Bytes(e)),
            Write::Add(k, d) => Self::Add(Bytes(k), d),
            Write::Notify(ns) => Self::Notify(ns),
        }
    }
}

impl From<WireWrite> for Write {
    fn from(w: WireWrite) -> Self {
        match w {
            WireWrite::Put(k, v) => Self::Put(k.0, v.0),
            WireWrite::Delete(k) => Self::Delete(k.0),
            WireWrite::DeleteRange(s, e) => Self::DeleteRange(s.0, e.0),
            WireWrite::Add(k, d) => Self::Add(k.0, d),
            WireWrite::Notify(ns) => Self::Notify(ns),
        }
    }
}

/// The storage of the server at a base URL (`http://host:port`).
#[derive(Debug)]
pub struct RemoteBackend {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl RemoteBackend {
    /// `token` is sent as `Authorization: Bearer`; it must be an admin
    /// token over every namespace once the server has tokens.
    pub fn new(base: &str, token: Option<&str>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.map(str::to_string),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn post<T: Serialize, R: DeserializeOwned>(
        &self,
        op: &str,
        body: &T,
    ) -> Result<R, StorageError> {
        let unreachable = |e: &dyn std::fmt::Display| {
            StorageError::Unavailable(format!("no answer from the server at {}: {e}", self.base))
        };
        // A commit sent whose answer is lost may have been applied; one
        // that never left (no connection) was not.
        let lost = |e: &ureq::Error| match e {
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => unreachable(e),
            _ if op == "commit" => StorageError::OutcomeUnknown(format!(
                "the server at {} did not answer the commit: {e}",
                self.base
            )),
            _ => unreachable(e),
        };
        let body = serde_json::to_vec(body).map_err(|e| StorageError::Other(e.to_string()))?;
        let mut request = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}{STORAGE_PATH}{op}", self.base))
            .header("content-type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(body).map_err(|e| unreachable(&e))?;
        let mut response = self.agent.run(request).map_err(|e| lost(&e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_string()
            .map_err(|e| lost(&e))?;
        match status {
            200 => serde_json::from_str(&text).map_err(|e| {
                StorageError::Other(format!("the server at {} answered {e}", self.base))
            }),
            409 => Err(StorageError::Conflict),
            _ => {
                let body = serde_json::from_str::<serde_json::Value>(&text).ok();
                let unknown = body
                    .as_ref()
                    .is_some_and(|b| b["outcome_unknown"] == serde_json::Value::Bool(true));
                let detail = body
                    .and_then(|v| v["detail"].as_str().map(str::to_string))
                    .unwrap_or(text);
                let why = format!("the server at {} answered {status}: {detail}", self.base);
                Err(if unknown {
                    StorageError::OutcomeUnknown(why)
                } else {
                    StorageError::Unavailable(why)
                })
            }
        }
    }
}

impl Storage for RemoteBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.get_many(&[key.to_vec()])?.pop().flatten())
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let request = GetMany {
            keys: keys.iter().cloned().map(Bytes).collect(),
        };
        let answer: Values = self.post("get-many", &request)?;
        if answer.values.len() != keys.len() {
            return Err(StorageError::Other(format!(
                "the server at {} answered {} values for {} keys",
                self.base,
                answer.values.len(),
                keys.len()
            )));
        }
        Ok(answer.values.into_iter().map(|v| v.map(|b| b.0)).collect())
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        let request = Scan {
            start: Bytes(start.to_vec()),
            end: Bytes(end.to_vec()),
            limit,
        };
        let answer: Scanned = self.post("scan", &request)?;
        Ok(answer
            .entries
            .into_iter()
            .map(|(k, v)| (k.0, v.0))
            .collect())
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        let request = Commit {
            checks: checks.into_iter().map(Into::into).collect(),
            writes: writes.into_iter().map(Into::into).collect(),
        };
        let _: serde_json::Value = self.post("commit", &request)?;
        Ok(())
    }
}

/// Hears no notifies: a watch through `--url` reads the server's own
/// stream (`GET /namespaces/{ns}/watch`) instead.
/// `nexus --url … backup` and `copy`: the server streams a backup of its
/// store (`POST /_storage/snapshot`, taken from one snapshot on its side)
/// and this reads it back, checked, entry by entry.
impl Backend for RemoteBackend {
    fn snapshot(&self, visit: super::Visit<'_>) -> Result<(), StorageError> {
        let unreachable = |e: &dyn std::fmt::Display| {
            StorageError::Unavailable(format!("no answer from the server at {}: {e}", self.base))
        };
        let mut request = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}{STORAGE_PATH}snapshot", self.base));
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(()).map_err(|e| unreachable(&e))?;
        let mut response = self.agent.run(request).map_err(|e| unreachable(&e))?;
        if response.status() != 200 {
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            return Err(StorageError::Unavailable(format!(
                "the server at {} answered {status}: {text}",
                self.base
            )));
        }
        let reader = response.body_mut().with_config().limit(u64::MAX).reader();
        let mut failed = None;
        crate::backup::read(reader, |key, value| {
            visit(&key, &value).map_err(|e| {
                failed = Some(e.clone());
                crate::backup::BackupError::Storage(e)
            })
        })
        .map_err(|e| {
            failed.take().unwrap_or_else(|| {
                StorageError::Unavailable(format!("the snapshot from {}: {e}", self.base))
            })
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_checks_cross_the_wire_unchanged() {
        let writes = vec![
            Write::Put(vec![0, 255], b"v".to_vec()),
            Write::Delete(vec![1]),
            Write::DeleteRange(vec![2], vec![3]),
            Write::Add(vec![4], -5),
            Write::Notify("app:keys".into()),
        ];
        let wire: Vec<WireWrite> = writes.clone().into_iter().map(Into::into).collect();
        let text = serde_json::to_string(&wire).unwrap();
        let back: Vec<WireWrite> = serde_json::from_str(&text).unwrap();
        let back: Vec<Write> = back.into_iter().map(Into::into).collect();
        assert_eq!(back, writes);
        let check = Check {
            key: vec![9],
            expected: None,
        };
        let wire: WireCheck = check.clone().into();
        let back: WireCheck = serde_json::from_str(&serde_json::to_string(&wire).unwrap()).unwrap();
        assert_eq!(Check::from(back), check);
        assert!(serde_json::from_str::<Bytes>("\"not base64!\"").is_err());
    }
}
