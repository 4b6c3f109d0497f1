//! What a token allows: a scope over a set of namespace patterns.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::namespace::MAX_NAME_LEN;

/// Each scope includes the ones before it (the order is the derive's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// The GET routes.
    Read,
    /// Reads, writes and events.
    Write,
    /// Everything on its namespaces; on `*`, the whole store.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            other => Err(Error::InvalidArgument(format!(
                "scope {other:?} is not one of read, write, admin"
            ))),
        }
    }
}

/// Every namespace.
pub const ANY_NAMESPACE: &str = "*";

/// A namespace pattern is an exact name, a prefix followed by `*`
/// (`tenant-a-*`), or `*` alone. Patterns are not checked against the
/// reserved names: a reserved name can never be used, so matching it grants
/// nothing.
pub fn validate_pattern(pattern: &str) -> Result<()> {
    let stem = pattern.strip_suffix('*').unwrap_or(pattern);
    let bad = |why: &str| {
        Err(Error::InvalidArgument(format!(
            "namespace pattern {pattern:?} {why}; use a name, a prefix followed by '*', or '*'"
        )))
    };
    if pattern.is_empty() {
        return bad("is empty");
    }
    if stem.len() > MAX_NAME_LEN {
        return bad("is longer than a namespace name can be");
    }
    if !stem
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return bad("has a character no namespace name has");
    }
    Ok(())
}

fn matches(pattern: &str, ns: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => ns.starts_with(prefix),
        None => pattern == ns,
    }
}

/// An authenticated token's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub name: String,
    pub scope: Scope,
    pub namespaces: Vec<String>,
}

impl Grant {
    /// Whether it may act on `ns` with `need`.
    pub fn allows(&self, ns: &str, need: Scope) -> bool {
        self.scope >= need && self.covers(ns)
    }

    /// Whether `ns` is one of its namespaces, whatever the scope.
    pub fn covers(&self, ns: &str) -> bool {
        self.namespaces.iter().any(|p| matches(p, ns))
    }

    /// Admin over every namespace: tokens, ticks and host metrics.
    pub fn whole_store(&self) -> bool {
        self.scope == Scope::Admin && self.namespaces.iter().any(|p| p == ANY_NAMESPACE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scope: Scope, namespaces: &[&str]) -> Grant {
        Grant {
            name: "t".into(),
            scope,
            namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn patterns_match_names_prefixes_or_everything() {
        let g = grant(Scope::Write, &["app1", "tenant-a-*"]);
        assert!(g.allows("app1", Scope::Write));
        assert!(g.allows("tenant-a-x", Scope::Read));
        assert!(!g.allows("app10", Scope::Read));
        assert!(!g.allows("tenant-b", Scope::Read));
        assert!(!g.allows("app1", Scope::Admin));
        assert!(!g.whole_store());
        assert!(grant(Scope::Admin, &["*"]).whole_store());
        assert!(!grant(Scope::Write, &["*"]).whole_store());
    }

    #[test]
    fn patterns_are_checked() {
        for ok in ["*", "a", "tenant-a-*", "a_b"] {
            validate_pattern(ok).unwrap();
        }
        for bad in ["", "a*b", "a/b*", "**", "a b"] {
            assert!(validate_pattern(bad).is_err(), "{bad}");
        }
    }
}
