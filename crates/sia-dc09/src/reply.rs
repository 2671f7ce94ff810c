//! Receiver replies: ACK, NAK and DUH.
//!
//! A panel retransmits until it gets an answer, so the receiver answers every frame, and answers ACK only
//! once the event is stored:
//!
//! - **ACK** echoes sequence, receiver, line and account, carries an empty data field and the receiver's
//!   time; it is encrypted (`"*ACK"`, same key) exactly when the message was.
//! - **NAK** is fixed and never encrypted: `"NAK"0000R0L0A0[]_<time>`. It is the answer to a damaged frame, a
//!   timestamp outside the window or a message that cannot be decrypted; its timestamp lets the panel
//!   correct its clock.
//! - **DUH** echoes the route with an empty data field and no timestamp, unencrypted: the frame was fine
//!   but the receiver cannot handle its token or content, so retrying is pointless.

use crate::crypto::Seal;
use crate::error::Error;
use crate::frame::{Header, Message, Route, Token, wrap};
use crate::time::Timestamp;

/// ACK for a message with this header, stamped with the receiver's time `now`.
///
/// When `header.encrypted`, `seal` must hold the same key the message was decrypted with (else
/// [`Error::MissingKey`]); for a clear message `seal` is ignored.
pub fn ack(header: &Header, now: Timestamp, seal: Option<Seal<'_>>) -> Result<Vec<u8>, Error> {
    let mut reply = Message::new(Token::Ack, header.route.clone(), "").with_timestamp(now);
    reply.header.encrypted = header.encrypted;
    reply.encode(if header.encrypted { seal } else { None })
}

/// The fixed NAK, stamped with the receiver's time `now`.
#[must_use]
pub fn nak(now: Timestamp) -> Vec<u8> {
    let span = format!("\"NAK\"0000R0L0A0[]_{now}");
    wrap(span.as_bytes())
}

/// DUH for a message with this route (from [`Header::route`] or [`Error::UnknownToken`]).
pub fn duh(route: &Route) -> Result<Vec<u8>, Error> {
    Message::new(Token::Duh, route.clone(), "").encode(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Key;
    use crate::frame::parse;

    fn route() -> Route {
        Route {
            seq: 42,
            receiver: Some("1a".into()),
            line: Some("F".into()),
            account: Some("12345A".into()),
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse(b"10:10:18,07-30-2024").unwrap()
    }

    #[test]
    fn nak_is_fixed() {
        // Compare with a NAK captured from a real receiver (quoted in msp1974/visonic_proxy's PowerLink 3.1
        // decoder): b'\nE5630025"NAK"0000R0L0A0[]_10:10:18,07-30-2024\r'.
        assert_eq!(
            nak(now()),
            b"\nE5630025\"NAK\"0000R0L0A0[]_10:10:18,07-30-2024\r"
        );
        let parsed = parse(&nak(now()), None).unwrap();
        assert_eq!(parsed.header.token, Token::Nak);
        assert_eq!(parsed.header.route.account.as_deref(), Some("0"));
        assert_eq!(parsed.timestamp, Some(now()));
    }

    #[test]
    fn clear_ack_echoes_route() {
        let header = Header {
            token: Token::SiaDcs,
            encrypted: false,
            route: route(),
        };
        let frame = ack(&header, now(), None).unwrap();
        let text = String::from_utf8(frame.clone()).unwrap();
        assert!(
            text.ends_with("\"ACK\"0042R1aLF#12345A[]_10:10:18,07-30-2024\r"),
            "{text:?}"
        );
        let parsed = parse(&frame, None).unwrap();
        assert_eq!(
            parsed.header,
            Header {
                token: Token::Ack,
                encrypted: false,
                route: route()
            }
        );
        assert_eq!(parsed.data, "");
    }

    #[test]
    fn encrypted_ack_uses_the_same_key() {
        let key = Key::from_ascii("AAAAAAAAAAAAAAAA").unwrap();
        let header = Header {
            token: Token::AdmCid,
            encrypted: true,
            route: route(),
        };
        let mut rng = |b: &mut [u8]| b.fill(7);
        let frame = ack(&header, now(), Some(Seal::new(&key, &mut rng))).unwrap();
        assert!(frame.windows(6).any(|w| w == b"\"*ACK\""));
        let parsed = parse(&frame, Some(&key)).unwrap();
        assert_eq!(
            parsed.header,
            Header {
                token: Token::Ack,
                encrypted: true,
                route: route()
            }
        );
        assert_eq!(parsed.timestamp, Some(now()));
        assert_eq!(parse(&frame, None), Err(Error::MissingKey));
        assert_eq!(ack(&header, now(), None), Err(Error::MissingKey));
    }

    #[test]
    fn duh_is_clear_and_echoes() {
        let frame = duh(&route()).unwrap();
        let text = String::from_utf8(frame).unwrap();
        assert!(text.ends_with("\"DUH\"0042R1aLF#12345A[]\r"), "{text:?}");
    }
}
