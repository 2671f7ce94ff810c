//! DC-09 encryption: AES-CBC with a zero IV, and the pad that stands in for a real IV.
//!
//! DC-09 encrypts everything after the `[` of the data field up to and including the timestamp, with AES
//! (128, 192 or 256-bit key) in CBC mode and an all-zero IV, and sends the ciphertext as hex. Because the IV
//! is fixed, the plaintext starts with random pad bytes, ended by `|`, and sized so the plaintext is a
//! multiple of 16 bytes: `<pad>|<data>][<x-data>]_<timestamp>`. When the data field is empty (NULL, ACK) the
//! separator may be absent: `<pad>]_<timestamp>`.
//!
//! The editions differ in how long the pad is. DC-09-2013 senders pad to the next multiple of 16 (0 to 15
//! bytes; some implementations use 1 to 16 or 2 to 17). DC-09-2021 and later require at least a whole block
//! (16 to 31 bytes), so that the first cipher block is random and the zero IV no longer reveals repeated
//! messages. A receiver therefore accepts a pad of any length, made of any bytes other than `[`, `]` and `|`.
//! When building, [`PadPolicy::FullBlock`] (the default) follows the newer rule; pad bytes are drawn from
//! ASCII letters and digits, since some older receivers decode the plaintext as text.
//!
//! Randomness comes from the caller (a `FnMut(&mut [u8])` that fills a buffer), so the crate does no I/O.

use std::fmt;

use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::array::Array;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, BlockSizeUser, KeyIvInit};

use crate::error::{Error, Field};

/// AES block size, and the multiple the DC-09 plaintext is padded to.
pub const BLOCK: usize = 16;

const ZERO_IV: [u8; BLOCK] = [0; BLOCK];

/// An AES key for DC-09 (128, 192 or 256 bits).
///
/// Panels and receivers show keys in one of two forms: as hex (32, 48 or 64 hex digits) or as the ASCII text
/// whose bytes are the key (16, 24 or 32 characters). A 32-character string could be either, so the form is
/// chosen by the constructor, never guessed. `Debug` never prints the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(KeyBytes);

#[derive(Clone, PartialEq, Eq)]
enum KeyBytes {
    Aes128([u8; 16]),
    Aes192([u8; 24]),
    Aes256([u8; 32]),
}

impl Key {
    /// A key from its raw bytes (16, 24 or 32 of them).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let wrong = || Error::bad(Field::Key, "must be 16, 24 or 32 bytes");
        Ok(Key(match bytes.len() {
            16 => KeyBytes::Aes128(bytes.try_into().map_err(|_| wrong())?),
            24 => KeyBytes::Aes192(bytes.try_into().map_err(|_| wrong())?),
            32 => KeyBytes::Aes256(bytes.try_into().map_err(|_| wrong())?),
            _ => return Err(wrong()),
        }))
    }

    /// A key written as 32, 48 or 64 hex digits (either case).
    pub fn from_hex(hex: &str) -> Result<Self, Error> {
        if !matches!(hex.len(), 32 | 48 | 64) {
            return Err(Error::bad(
                Field::Key,
                "hex key must be 32, 48 or 64 hex digits",
            ));
        }
        let bytes = decode_hex(hex.as_bytes()).ok_or(Error::bad(Field::Key, "not hex"))?;
        Key::from_bytes(&bytes)
    }

    /// A key written as 16, 24 or 32 ASCII characters, whose bytes are the key.
    pub fn from_ascii(text: &str) -> Result<Self, Error> {
        if !text.is_ascii() {
            return Err(Error::bad(Field::Key, "ASCII key must be ASCII"));
        }
        Key::from_bytes(text.as_bytes())
            .map_err(|_| Error::bad(Field::Key, "ASCII key must be 16, 24 or 32 characters"))
    }

    /// Key length in bits: 128, 192 or 256.
    #[must_use]
    pub fn bits(&self) -> u16 {
        match self.0 {
            KeyBytes::Aes128(_) => 128,
            KeyBytes::Aes192(_) => 192,
            KeyBytes::Aes256(_) => 256,
        }
    }

    /// Encrypts `buf` in place with AES-CBC and a zero IV. `buf.len()` must be a multiple of 16.
    pub fn encrypt_in_place(&self, buf: &mut [u8]) -> Result<(), Error> {
        match &self.0 {
            KeyBytes::Aes128(k) => encrypt_with::<cbc::Encryptor<Aes128>>(k, buf),
            KeyBytes::Aes192(k) => encrypt_with::<cbc::Encryptor<Aes192>>(k, buf),
            KeyBytes::Aes256(k) => encrypt_with::<cbc::Encryptor<Aes256>>(k, buf),
        }
    }

    /// Decrypts `buf` in place with AES-CBC and a zero IV. `buf.len()` must be a multiple of 16.
    pub fn decrypt_in_place(&self, buf: &mut [u8]) -> Result<(), Error> {
        match &self.0 {
            KeyBytes::Aes128(k) => decrypt_with::<cbc::Decryptor<Aes128>>(k, buf),
            KeyBytes::Aes192(k) => decrypt_with::<cbc::Decryptor<Aes192>>(k, buf),
            KeyBytes::Aes256(k) => decrypt_with::<cbc::Decryptor<Aes256>>(k, buf),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(AES-{}, redacted)", self.bits())
    }
}

fn encrypt_with<M: KeyIvInit + BlockModeEncrypt>(key: &[u8], buf: &mut [u8]) -> Result<(), Error> {
    if !buf.len().is_multiple_of(BLOCK) || <M as BlockSizeUser>::block_size() != BLOCK {
        return Err(Error::bad(
            Field::Ciphertext,
            "plaintext is not a whole number of blocks",
        ));
    }
    let mut mode =
        M::new_from_slices(key, &ZERO_IV).map_err(|_| Error::bad(Field::Key, "invalid length"))?;
    for chunk in buf.chunks_exact_mut(BLOCK) {
        let block = <&mut Array<u8, M::BlockSize>>::try_from(chunk)
            .map_err(|_| Error::bad(Field::Ciphertext, "not a whole block"))?;
        mode.encrypt_block(block);
    }
    Ok(())
}

fn decrypt_with<M: KeyIvInit + BlockModeDecrypt>(key: &[u8], buf: &mut [u8]) -> Result<(), Error> {
    if !buf.len().is_multiple_of(BLOCK) || <M as BlockSizeUser>::block_size() != BLOCK {
        return Err(Error::bad(
            Field::Ciphertext,
            "ciphertext is not a whole number of blocks",
        ));
    }
    let mut mode =
        M::new_from_slices(key, &ZERO_IV).map_err(|_| Error::bad(Field::Key, "invalid length"))?;
    for chunk in buf.chunks_exact_mut(BLOCK) {
        let block = <&mut Array<u8, M::BlockSize>>::try_from(chunk)
            .map_err(|_| Error::bad(Field::Ciphertext, "not a whole block"))?;
        mode.decrypt_block(block);
    }
    Ok(())
}

/// How long a pad to put in front of the plaintext when encrypting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PadPolicy {
    /// The shortest pad that makes the plaintext a multiple of 16 bytes: 0 to 15 bytes (DC-09-2013).
    Minimal,
    /// 16 to 31 bytes, so the whole first block is random (DC-09-2021 and later).
    #[default]
    FullBlock,
}

impl PadPolicy {
    /// Pad length for a plaintext of `rest` bytes after the pad.
    #[must_use]
    pub fn pad_len(self, rest: usize) -> usize {
        let minimal = (BLOCK - rest % BLOCK) % BLOCK;
        match self {
            PadPolicy::Minimal => minimal,
            PadPolicy::FullBlock => minimal + BLOCK,
        }
    }
}

/// What encrypting a frame needs: the key, the pad policy, and a source of random bytes for the pad.
///
/// `random` fills its argument with random bytes (for example `|b| getrandom::fill(b).expect(..)` or
/// `|b| rng.fill_bytes(b)` in the application); tests can pass a deterministic closure.
pub struct Seal<'a> {
    /// The account's key.
    pub key: &'a Key,
    /// How long the pad is.
    pub padding: PadPolicy,
    /// Fills a buffer with random bytes.
    pub random: &'a mut dyn FnMut(&mut [u8]),
}

impl<'a> Seal<'a> {
    /// Encryption with `key`, pad bytes from `random`, and the DC-09-2021 pad length.
    pub fn new(key: &'a Key, random: &'a mut dyn FnMut(&mut [u8])) -> Self {
        Seal {
            key,
            padding: PadPolicy::default(),
            random,
        }
    }

    /// The same, with another pad policy.
    #[must_use]
    pub fn with_padding(mut self, padding: PadPolicy) -> Self {
        self.padding = padding;
        self
    }

    /// Builds the padded plaintext `<pad>[|]<content>` and encrypts it; returns the ciphertext.
    /// The `|` separator is written only when `separator` is set (a non-empty data field).
    pub(crate) fn seal(&mut self, separator: bool, content: &[u8]) -> Result<Vec<u8>, Error> {
        let rest = content.len() + usize::from(separator);
        let pad_len = self.padding.pad_len(rest);
        let mut plain = vec![0u8; pad_len];
        (self.random)(&mut plain);
        for byte in &mut plain {
            *byte = PAD_ALPHABET[usize::from(*byte) % PAD_ALPHABET.len()];
        }
        if separator {
            plain.push(b'|');
        }
        plain.extend_from_slice(content);
        self.key.encrypt_in_place(&mut plain)?;
        Ok(plain)
    }
}

const PAD_ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Where the content starts in a decrypted plaintext: after the pad and its `|`, or at the `]` that closes an
/// empty data field when the separator was left out. Pad bytes are anything but `[`, `]` and `|`.
pub(crate) fn content_start(plain: &[u8]) -> Option<usize> {
    let at = plain.iter().position(|b| matches!(b, b'|' | b']' | b'['))?;
    match plain[at] {
        b'|' => Some(at + 1),
        b']' => Some(at),
        _ => None,
    }
}

/// Hex digits (either case) to bytes; `None` on odd length or a non-hex digit.
pub(crate) fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks_exact(2)
        .map(|pair| Some(hex_value(pair[0])? << 4 | hex_value(pair[1])?))
        .collect()
}

/// Bytes to upper-case hex digits, appended to `out`.
pub(crate) fn encode_hex_upper(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0x0F)]);
    }
}

pub(crate) fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_forms() {
        assert_eq!(Key::from_hex(&"aB".repeat(16)).unwrap().bits(), 128);
        assert_eq!(Key::from_hex(&"00".repeat(24)).unwrap().bits(), 192);
        assert_eq!(Key::from_hex(&"ff".repeat(32)).unwrap().bits(), 256);
        assert_eq!(Key::from_ascii("AAAAAAAAAAAAAAAA").unwrap().bits(), 128);
        assert_eq!(Key::from_ascii(&"x".repeat(24)).unwrap().bits(), 192);
        assert_eq!(Key::from_ascii(&"x".repeat(32)).unwrap().bits(), 256);
        // The same text read both ways gives different keys.
        let text = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_ne!(Key::from_hex(text).unwrap(), Key::from_ascii(text).unwrap());
        assert_eq!(
            Key::from_hex(text).unwrap(),
            Key::from_bytes(&[0xAA; 16]).unwrap()
        );
        for bad in ["", "00", &"0".repeat(31), &"0".repeat(33), &"zz".repeat(16)] {
            assert!(Key::from_hex(bad).is_err(), "{bad}");
        }
        for bad in ["", "short", &"x".repeat(17), &"é".repeat(8)] {
            assert!(Key::from_ascii(bad).is_err(), "{bad}");
        }
        assert!(Key::from_bytes(&[0; 15]).is_err());
    }

    #[test]
    fn debug_hides_key() {
        let shown = format!("{:?}", Key::from_ascii("SECRETSECRETSECR").unwrap());
        assert!(!shown.contains("SECRET"));
        assert!(shown.contains("128"));
    }

    #[test]
    fn fips_197_aes128_block() {
        // FIPS-197 appendix C.1: AES-128 of 00112233..ff under key 00010203..0f. With a zero IV, CBC on one
        // block is plain AES, so this pins the cipher and the key wiring.
        let key = Key::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
        let mut block = decode_hex(b"00112233445566778899aabbccddeeff").unwrap();
        key.encrypt_in_place(&mut block).unwrap();
        assert_eq!(
            block,
            decode_hex(b"69c4e0d86a7b0430d8cdb78070b4c55a").unwrap()
        );
        key.decrypt_in_place(&mut block).unwrap();
        assert_eq!(
            block,
            decode_hex(b"00112233445566778899aabbccddeeff").unwrap()
        );
    }

    #[test]
    fn fips_197_aes192_and_256_blocks() {
        // FIPS-197 appendix C.2 and C.3.
        let plain = decode_hex(b"00112233445566778899aabbccddeeff").unwrap();
        let k192 = Key::from_hex("000102030405060708090a0b0c0d0e0f1011121314151617").unwrap();
        let mut b = plain.clone();
        k192.encrypt_in_place(&mut b).unwrap();
        assert_eq!(b, decode_hex(b"dda97ca4864cdfe06eaf70a0ec0d7191").unwrap());
        let k256 =
            Key::from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
                .unwrap();
        let mut b = plain;
        k256.encrypt_in_place(&mut b).unwrap();
        assert_eq!(b, decode_hex(b"8ea2b7ca516745bfeafc49904b496089").unwrap());
    }

    #[test]
    fn partial_blocks_are_refused() {
        let key = Key::from_bytes(&[1; 16]).unwrap();
        assert!(key.encrypt_in_place(&mut [0; 15]).is_err());
        assert!(key.decrypt_in_place(&mut [0; 17]).is_err());
        assert!(key.decrypt_in_place(&mut []).is_ok());
    }

    #[test]
    fn pad_lengths() {
        for rest in 0..100 {
            let min = PadPolicy::Minimal.pad_len(rest);
            let full = PadPolicy::FullBlock.pad_len(rest);
            assert!(min < 16 && (rest + min).is_multiple_of(16));
            assert!((16..32).contains(&full) && (rest + full).is_multiple_of(16));
        }
    }

    #[test]
    fn content_start_forms() {
        assert_eq!(content_start(b"abc|#12|N]"), Some(4));
        assert_eq!(content_start(b"|N]"), Some(1));
        assert_eq!(content_start(b"abc]_x"), Some(3));
        assert_eq!(content_start(b"abc|]_x"), Some(4));
        assert_eq!(content_start(b"abc[x]"), None);
        assert_eq!(content_start(b"abc"), None);
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(decode_hex(b"00fFaA"), Some(vec![0, 0xFF, 0xAA]));
        assert_eq!(decode_hex(b"0"), None);
        assert_eq!(decode_hex(b"0g"), None);
        let mut out = Vec::new();
        encode_hex_upper(&[0x00, 0xAB, 0x7f], &mut out);
        assert_eq!(out, b"00AB7F");
    }
}
