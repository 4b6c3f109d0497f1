//! How a stored entry's bytes carry its version, expiry and recency in front
//! of the user's value: a fixed 25-byte header, so reading it costs no parsing.

use crate::error::{Error, Result};

const FORMAT: u8 = 1;
pub(crate) const HEADER_LEN: usize = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub version: u64,
    pub expires_at: Option<u64>,
    /// When the key was last written, if it is in the recency index (only
    /// `evict-lru` namespaces keep one); 0 if it is not.
    pub touched: u64,
}

impl Header {
    pub fn is_live(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

pub(crate) fn encode(h: &Header, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + value.len());
    out.push(FORMAT);
    out.extend_from_slice(&h.version.to_le_bytes());
    out.extend_from_slice(&h.expires_at.unwrap_or(0).to_le_bytes());
    out.extend_from_slice(&h.touched.to_le_bytes());
    out.extend_from_slice(value);
    out
}

pub(crate) fn decode(raw: &[u8]) -> Result<(Header, &[u8])> {
    if raw.len() < HEADER_LEN || raw[0] != FORMAT {
        return Err(Error::Storage("corrupt entry header".into()));
    }
    let word = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().expect("8 bytes"));
    let expires = word(9);
    Ok((
        Header {
            version: word(1),
            expires_at: (expires != 0).then_some(expires),
            touched: word(17),
        },
        &raw[HEADER_LEN..],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = Header {
            version: 7,
            expires_at: Some(99),
            touched: 3,
        };
        let raw = encode(&h, b"val");
        assert_eq!(decode(&raw).unwrap(), (h, &b"val"[..]));
        let h = Header {
            version: 1,
            expires_at: None,
            touched: 0,
        };
        assert_eq!(decode(&encode(&h, b"")).unwrap().0, h);
    }

    #[test]
    fn short_or_unknown_bytes_are_corrupt() {
        assert!(decode(b"x").is_err());
        assert!(decode(&[9u8; 30]).is_err());
    }
}
