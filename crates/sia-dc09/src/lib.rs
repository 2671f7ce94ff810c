//! ANSI/SIA DC-09 for a monitoring-centre receiver: frames, CRC, AES, replies, and the Contact ID and SIA DCS
//! payloads inside them.
//!
//! DC-09 is how intruder and hold-up alarm panels (Ajax, DSC, Hikvision, Honeywell and most others) report to
//! a monitoring centre over TCP or UDP. A panic button wired to such a panel reaches Qorgau as a DC-09 frame,
//! so this crate is on the path of the most urgent signal the system handles.
//!
//! The crate does no I/O, reads no clock and draws no randomness of its own: the caller passes bytes, the
//! current time and a random source in. That keeps it testable to the byte, fuzzable, and usable from the
//! TCP and UDP listeners, the test panel simulator and benchmarks alike. It never panics on input.
//!
//! A receiver's loop, roughly:
//!
//! ```
//! use sia_dc09::{Frame, Key, Seal, Timestamp, reply};
//!
//! # fn main() -> Result<(), sia_dc09::Error> {
//! // A frame as a Hikvision panel sent it (clear, Contact ID 602 periodic test).
//! let bytes = b"\n99820040\"ADM-CID\"1937R15L1#21401[#21401|1602 00 000]_20:59:59,02-20-2024\r";
//! let frame = Frame::parse(bytes)?; // framing, CRC, length, header
//! let key: Option<Key> = None; // look up frame.header.route.account here
//! let message = frame.open(key.as_ref())?; // decrypt if "*", read data and timestamp
//! let now = Timestamp::parse(b"21:00:05,02-20-2024")?; // the receiver's clock, UTC
//! let in_window = message.timestamp.is_none_or(|t| t.is_within_window(now.to_unix()));
//! let event = message.decode()?;
//! assert!(in_window && !event.is_alarm_panic());
//! // ... store the event durably, then:
//! let mut random = |buf: &mut [u8]| buf.fill(0x5A); // use a real RNG
//! let answer = reply::ack(&message.header, now, key.as_ref().map(|k| Seal::new(k, &mut random)))?;
//! assert!(answer.ends_with(b"\"ACK\"1937R15L1#21401[]_21:00:05,02-20-2024\r"));
//! # Ok(())
//! # }
//! ```

pub mod cid;
pub mod codes;
pub mod crc;
pub mod crypto;
pub mod dcs;
pub mod error;
pub mod frame;
pub mod reply;
pub mod time;

pub use cid::{ContactId, Qualifier};
pub use codes::{Category, EventInfo};
pub use crypto::{Key, PadPolicy, Seal};
pub use dcs::{SiaDcs, SiaEvent};
pub use error::{Error, Field};
pub use frame::{
    ExtData, Frame, Header, MAX_FRAME_LEN, Message, Next, Route, Token, next_frame, parse,
};
pub use time::{Timestamp, within_window};

/// The decoded content of a message, by token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decoded {
    /// `ADM-CID`: one Contact ID event.
    ContactId(ContactId),
    /// `SIA-DCS`: SIA events.
    SiaDcs(SiaDcs),
    /// `NULL` or `XNM`: supervision, no event.
    Supervision,
    /// `ACK`, `NAK`, `DUH`, `RSP`: a receiver's reply (seen by a panel or a simulator).
    Reply,
}

impl Decoded {
    /// Whether this carries a new panic or duress alarm.
    #[must_use]
    pub fn is_alarm_panic(&self) -> bool {
        match self {
            Decoded::ContactId(c) => c.is_alarm_panic(),
            Decoded::SiaDcs(s) => s.is_alarm_panic(),
            Decoded::Supervision | Decoded::Reply => false,
        }
    }
}

impl Message {
    /// Decodes the data field according to the token.
    ///
    /// Fails with [`Error::BadField`] if an event's data field is malformed; the frame itself was fine, so a
    /// receiver can still store the raw message (and answer DUH).
    pub fn decode(&self) -> Result<Decoded, Error> {
        Ok(match self.header.token {
            Token::AdmCid => Decoded::ContactId(ContactId::parse(&self.data)?),
            Token::SiaDcs => Decoded::SiaDcs(SiaDcs::parse(&self.data)?),
            Token::Null | Token::Xnm => Decoded::Supervision,
            Token::Ack | Token::Nak | Token::Duh | Token::Rsp => Decoded::Reply,
        })
    }
}
