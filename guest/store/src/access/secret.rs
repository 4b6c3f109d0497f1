//! Token secrets: `nxt_<name>.<64 hex digits>`, kept only as a SHA-256 hash.
//!
//! Why SHA-256 and not a password hash (argon2, bcrypt): a secret is 256
//! random bits, not something a person chose, so no dictionary or brute
//! force can find it from its hash, and a slow hash would only add its cost
//! to every request. The name inside the secret finds the stored hash with
//! one read; the hashes are compared in constant time (`subtle`, RustCrypto's
//! crate for it), so response timing tells nothing about how much matched.
//! The prefix lets secret scanners recognise a leaked token.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

const PREFIX: &str = "nxt_";
const SECRET_BYTES: usize = 32;

/// A new secret for the token `name`, from the platform's random source
/// (`wasi:random` in the component, the OS natively): the one thing the
/// store takes from outside besides storage and clock.
pub fn generate(name: &str) -> Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Storage(format!("no random source for a token secret: {e}")))?;
    let mut secret = String::with_capacity(PREFIX.len() + name.len() + 1 + 2 * SECRET_BYTES);
    secret.push_str(PREFIX);
    secret.push_str(name);
    secret.push('.');
    for b in bytes {
        secret.push_str(&format!("{b:02x}"));
    }
    Ok(secret)
}

/// The token name a secret claims, if it has the shape of one.
pub fn name_of(secret: &str) -> Option<&str> {
    let (name, random) = secret.strip_prefix(PREFIX)?.rsplit_once('.')?;
    let shaped = random.len() == 2 * SECRET_BYTES
        && random.bytes().all(|b| b.is_ascii_hexdigit())
        && !name.is_empty();
    shaped.then_some(name)
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Whether `secret` hashes to `stored`, in time independent of where they differ.
pub fn verify(secret: &str, stored: &[u8]) -> bool {
    hash(secret).ct_eq(stored).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_names_its_token_and_verifies_against_its_hash_only() {
        let secret = generate("ci-bot").unwrap();
        assert_eq!(name_of(&secret), Some("ci-bot"));
        let stored = hash(&secret);
        assert!(verify(&secret, &stored));
        let other = generate("ci-bot").unwrap();
        assert_ne!(secret, other);
        assert!(!verify(&other, &stored));
        assert!(!verify(&secret, &stored[..31]));
    }

    #[test]
    fn malformed_secrets_name_nothing() {
        for bad in ["", "nxt_", "nxt_a.", "xyz_a.00", "nxt_.00", "nxt_a.zz"] {
            assert_eq!(name_of(bad), None, "{bad}");
        }
    }
}
