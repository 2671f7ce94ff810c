//! One error type for the whole crate.
//!
//! A receiver answers differently depending on what went wrong: a frame that fails its CRC or length is
//! answered with NAK (the sender retries), an unknown token with DUH (retrying will not help), a message that
//! cannot be decrypted with NAK and an alert (a wrong key is a configuration fault or an attack). The variants
//! keep those cases apart so the caller can choose.

use std::fmt;

use crate::frame::Route;

/// Which part of a frame or payload a [`Error::BadField`] refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The whole frame (for example: longer than the length field can express).
    Frame,
    /// The quoted ID token.
    Token,
    /// The four-digit sequence number.
    Sequence,
    /// The `R` receiver number.
    Receiver,
    /// The `L` account prefix ("line").
    Line,
    /// The `#` account number.
    Account,
    /// The `[...]` data field.
    Data,
    /// An `[X...]` extended data field.
    ExtendedData,
    /// The `_HH:MM:SS,MM-DD-YYYY` timestamp.
    Timestamp,
    /// The hex-encoded ciphertext of an encrypted frame.
    Ciphertext,
    /// An AES key.
    Key,
    /// An ADM-CID (Contact ID) payload.
    ContactId,
    /// A SIA DCS payload.
    SiaDcs,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Frame => "frame",
            Field::Token => "ID token",
            Field::Sequence => "sequence number",
            Field::Receiver => "receiver number",
            Field::Line => "account prefix",
            Field::Account => "account number",
            Field::Data => "data",
            Field::ExtendedData => "extended data",
            Field::Timestamp => "timestamp",
            Field::Ciphertext => "ciphertext",
            Field::Key => "key",
            Field::ContactId => "Contact ID payload",
            Field::SiaDcs => "SIA DCS payload",
        })
    }
}

/// Everything that can go wrong when reading or writing DC-09 frames.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a frame at all: no `<LF>` or `<CR>`, too short, header not hex, no quoted token.
    #[error("framing: {0}")]
    Framing(&'static str),

    /// The CRC in the frame does not match the CRC of its content (damaged in transit).
    #[error("CRC mismatch: frame says {declared:04X}, content gives {computed:04X}")]
    CrcMismatch {
        /// The CRC written in the frame.
        declared: u16,
        /// The CRC computed over the received content.
        computed: u16,
    },

    /// The length in the frame does not match the length of its content (truncated or padded in transit).
    #[error("length mismatch: frame says {declared} bytes, content has {actual}")]
    LengthMismatch {
        /// The length written in the frame.
        declared: usize,
        /// The length actually received.
        actual: usize,
    },

    /// The ID token is not one this crate understands. The frame was otherwise intact, so `route` holds what
    /// a `DUH` reply echoes (see [`crate::reply::duh`]).
    #[error("unknown ID token {token:?}")]
    UnknownToken {
        /// The token as received (lossily decoded).
        token: String,
        /// Sequence, receiver, line and account of the frame, for the `DUH` reply.
        route: Box<Route>,
    },

    /// A field is present but malformed, or a value given to a builder cannot be written.
    #[error("bad {field}: {reason}")]
    BadField {
        /// Which field.
        field: Field,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The frame is encrypted (`"*..."`) and no key was supplied, or a message marked encrypted was built
    /// without a key.
    #[error("encrypted message but no key")]
    MissingKey,

    /// Decryption produced no valid DC-09 plaintext: the key is wrong, or the ciphertext was altered.
    #[error("cannot decrypt: wrong key or altered ciphertext")]
    Decrypt,
}

impl Error {
    pub(crate) const fn bad(field: Field, reason: &'static str) -> Self {
        Error::BadField { field, reason }
    }
}
