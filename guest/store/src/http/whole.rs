//! Integers in request bodies, written either way JSON allows: `65` and
//! `65.0` are the same number, and JSON Schema's `integer` (the OpenAPI
//! document's) accepts both; Python's `json` writes a float-typed whole
//! number as `65.0`. serde's integer types refuse the second form, so
//! integer fields deserialize through these.

use serde::{Deserialize, Deserializer};
use serde_json::Number;

/// Whole numbers up to this magnitude convert exactly from a float.
const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53

fn convert<T: TryFrom<i128>, E: serde::de::Error>(n: &Number) -> Result<T, E> {
    let value = if let Some(u) = n.as_u64() {
        Some(i128::from(u))
    } else if let Some(i) = n.as_i64() {
        Some(i128::from(i))
    } else {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
            .map(|f| f as i128)
    };
    value
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| E::custom(format!("{n} is not a whole number in range")))
}

/// A required (or `#[serde(default)]`) integer field.
pub fn de<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    convert(&Number::deserialize(d)?)
}

/// An optional integer field (`#[serde(default, deserialize_with = ...)]`);
/// `null` is absent.
pub fn optional<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<Number>::deserialize(d)?
        .map(|n| convert(&n))
        .transpose()
}

/// A field where present-and-null (no limit) differs from absent
/// (unchanged): use with `#[serde(default)]`.
pub fn present<'de, D: Deserializer<'de>, T: TryFrom<i128>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    optional(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "super::de")]
        n: u32,
        #[serde(default, deserialize_with = "super::optional")]
        o: Option<i64>,
    }

    fn parse(text: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn whole_numbers_in_either_notation_and_nothing_else() {
        assert_eq!(parse(r#"{"n": 65}"#).unwrap(), Body { n: 65, o: None });
        assert_eq!(
            parse(r#"{"n": 65.0, "o": -3.0}"#).unwrap(),
            Body { n: 65, o: Some(-3) }
        );
        assert_eq!(
            parse(r#"{"n": 1e2, "o": null}"#).unwrap(),
            Body { n: 100, o: None }
        );
        for bad in [
            r#"{"n": 6.5}"#,
            r#"{"n": -1}"#,
            r#"{"n": 4294967296}"#,
            r#"{"n": "5"}"#,
            r#"{"n": 1e300}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
