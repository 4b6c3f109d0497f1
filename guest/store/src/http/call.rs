//! One matched request as handlers read it: path parameters, query
//! parameters and the JSON body, each with the API's error for bad input;
//! who is asking; and the namespace a key-value route acts on, which the
//! handlers and access control (auth.rs) must both resolve the same way.

use std::str::FromStr;

use serde::de::DeserializeOwned;

use super::{Problem, Request};
use crate::DEFAULT_NAMESPACE;
use crate::access::{Grant, Scope};

/// Who is asking, as handlers that list across namespaces see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Viewer {
    /// No token needed (an open server, or an open route).
    #[default]
    Everyone,
    /// A token, and the scope the route needs on each namespace it shows.
    Token { grant: Grant, need: Scope },
}

impl Viewer {
    /// Whether a listing may show `ns`.
    pub fn sees(&self, ns: &str) -> bool {
        match self {
            Viewer::Everyone => true,
            Viewer::Token { grant, need } => grant.allows(ns, *need),
        }
    }
}

pub struct Call<'r> {
    params: &'r [(&'static str, String)],
    headers: &'r [(String, String)],
    query: Vec<(String, String)>,
    body: &'r [u8],
    pub started_at_ms: Option<u64>,
    /// Who is asking: listings across namespaces show only what it sees.
    pub viewer: Viewer,
}

impl<'r> Call<'r> {
    pub fn new(request: &'r Request, params: &'r [(&'static str, String)]) -> Self {
        Self {
            params,
            headers: &request.headers,
            query: form_urlencoded::parse(request.query.as_bytes())
                .into_owned()
                .collect(),
            body: &request.body,
            started_at_ms: request.started_at_ms,
            viewer: Viewer::Everyone,
        }
    }

    /// A path parameter; the router only matches when all are present.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The `{ns}` path parameter.
    pub fn ns(&self) -> &str {
        self.param("ns")
    }

    /// The namespace a key-value route acts on (access control checks the
    /// same one): `?ns=` wins over a `namespace` in the body; neither means
    /// `default`.
    pub fn kv_namespace<'a>(&'a self, from_body: Option<&'a str>) -> &'a str {
        self.query("ns")
            .or(from_body.filter(|ns| !ns.is_empty()))
            .unwrap_or(DEFAULT_NAMESPACE)
    }

    /// The last value of a query parameter; an empty value counts as absent
    /// (`?ns=` is the default namespace, as in PyKV).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of a repeated query parameter (`?key=a&key=b`),
    /// in order.
    pub fn query_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A request header (names compare ignoring case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter parsed as a number (or anything `FromStr`). Unlike
    /// a text parameter, an empty value (`?limit=`) is not a number: 400.
    pub fn query_parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, Problem> {
        self.query
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, raw)| {
                raw.parse().map_err(|_| {
                    Problem::bad_request(format!("query parameter {name}={raw:?} is not valid"))
                })
            })
            .transpose()
    }

    /// The body as `T`. Not JSON, or not `T`'s shape, is a 422 whose detail
    /// says where.
    ///
    /// Every body is a JSON object: serde would also read a struct from an
    /// array of its fields in order (`[null, null]`), which no client means.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        let first = self.body.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b == b'[') {
            return Err(Problem::unprocessable(
                "invalid request body: expected a JSON object, got an array",
            ));
        }
        serde_json::from_slice(self.body)
            .map_err(|e| Problem::unprocessable(format!("invalid request body: {e}")))
    }

    /// Like [`Call::json`], but an empty body is `T::default()`: for
    /// requests whose fields are all optional.
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, Problem> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        self.json()
    }
}
