//! Sealed fields: values (a reporter's identity, a panel's key, a webhook secret) that a database
//! dump alone must not reveal. XChaCha20-Poly1305 under the `seal` key kept in the data
//! directory; random 24-byte nonces, so no counter has to survive restarts or be shared between
//! nodes. The purpose is bound in as associated data: a sealed phone number pasted into a
//! name column does not open.
//!
//! Layout: one version byte (1), the nonce, then ciphertext and tag.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const VERSION: u8 = 1;
const NONCE: usize = 24;
/// Bytes a sealed value has beyond its plaintext: version, nonce and tag.
pub const OVERHEAD: usize = 1 + NONCE + 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open with this key and purpose")]
    Open,
}

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Sealer {
        Sealer {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// Loads (or on first start creates) the data directory's seal key.
    pub fn load(data_dir: &std::path::Path) -> Result<Sealer, crate::platform::keys::KeyError> {
        Ok(Sealer::new(&crate::platform::keys::load_or_create(
            data_dir, "seal",
        )?))
    }

    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: purpose.as_bytes(),
                },
            )
            // Encryption fails only for messages longer than 2^38 bytes, which no caller seals.
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + NONCE + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + NONCE + 16 || sealed[0] != VERSION {
            return Err(SealError::Malformed);
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::Malformed)?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ct,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)
    }

    pub fn seal_str(&self, purpose: &str, plaintext: &str) -> Vec<u8> {
        self.seal(purpose, plaintext.as_bytes())
    }

    pub fn open_str(&self, purpose: &str, sealed: &[u8]) -> Result<String, SealError> {
        String::from_utf8(self.open(purpose, sealed)?).map_err(|_| SealError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sealer(b: u8) -> Sealer {
        Sealer::new(&[b; 32])
    }

    #[test]
    fn opens_what_it_sealed_and_nothing_else() {
        let s = sealer(7);
        let a = s.seal_str("report.identity", "Айгүл Серікқызы");
        let b = s.seal_str("report.identity", "Айгүл Серікқызы");
        assert_ne!(
            a, b,
            "random nonces: equal names do not give equal ciphertexts"
        );
        assert_eq!(
            s.open_str("report.identity", &a).unwrap(),
            "Айгүл Серікқызы"
        );
        assert_eq!(s.open("panel.key", &a), Err(SealError::Open));
        assert_eq!(sealer(8).open("report.identity", &a), Err(SealError::Open));
        let mut flipped = a.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(s.open("report.identity", &flipped), Err(SealError::Open));
        assert_eq!(
            s.open("report.identity", &a[..10]),
            Err(SealError::Malformed)
        );
        let mut v2 = a;
        v2[0] = 2;
        assert_eq!(s.open("report.identity", &v2), Err(SealError::Malformed));
    }

    proptest! {
        #[test]
        fn round_trips_any_bytes(msg in proptest::collection::vec(any::<u8>(), 0..512), purpose in ".{0,20}") {
            let s = sealer(1);
            prop_assert_eq!(s.open(&purpose, &s.seal(&purpose, &msg)).unwrap(), msg);
        }

        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = sealer(1).open("x", &bytes);
        }
    }
}
