//! The DC-09 frame: reading and writing `<LF><crc><0LLL>"<id>"<seq>R<rcvr>L<line>#<acct>[<data>]..._<time><CR>`.
//!
//! Reading is two steps because the key depends on the account: [`Frame::parse`] checks framing, CRC and
//! length and reads the clear header (token, sequence, receiver, line, account); the caller looks up that
//! account's key; [`Frame::open`] decrypts if needed and reads data, extended data and timestamp into a
//! [`Message`]. [`parse`] does both when the key is already known.
//!
//! The reader is lenient where real panels differ and the meaning stays clear (receiver and line are
//! optional, hex in either case, `A0` in place of `#acct` in a NAK, any pad length) and strict where a guess
//! could misattribute an alarm (the CRC and length must match; the account must be 3 to 16 hex digits).
//! Nothing here panics on input: every index is checked.

use std::ops::Range;

use crate::crc::crc16;
use crate::crypto::{self, Seal};
use crate::error::{Error, Field};
use crate::time::Timestamp;

const LF: u8 = b'\n';
const CR: u8 = b'\r';

/// The largest span the `0LLL` length field can describe.
pub const MAX_SPAN_LEN: usize = 0xFFF;
/// The largest whole frame: `<LF>`, four CRC digits, four length digits, the span and `<CR>`.
pub const MAX_FRAME_LEN: usize = 1 + 4 + 4 + MAX_SPAN_LEN + 1;

/// The ID token: which protocol the data field carries, or which reply this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Token {
    /// `SIA-DCS`: SIA DC-03 event data.
    SiaDcs,
    /// `ADM-CID`: Ademco Contact ID (SIA DC-05) event data.
    AdmCid,
    /// `NULL`: link supervision ("poll"), no event.
    Null,
    /// `XNM`: extended null message, a supervision message carrying extended data (DC-09-2021 and later).
    Xnm,
    /// `ACK`: positive acknowledgement (receiver to panel).
    Ack,
    /// `NAK`: negative acknowledgement, carrying the receiver's time.
    Nak,
    /// `DUH`: the receiver understood the frame but cannot handle its content.
    Duh,
    /// `RSP`: a response carrying data (receiver to panel).
    Rsp,
}

impl Token {
    /// The token as written between the quotes (without `*`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Token::SiaDcs => "SIA-DCS",
            Token::AdmCid => "ADM-CID",
            Token::Null => "NULL",
            Token::Xnm => "XNM",
            Token::Ack => "ACK",
            Token::Nak => "NAK",
            Token::Duh => "DUH",
            Token::Rsp => "RSP",
        }
    }

    /// The token named `name` (case-insensitive), if this crate knows it.
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<Self> {
        [
            Token::SiaDcs,
            Token::AdmCid,
            Token::Null,
            Token::Xnm,
            Token::Ack,
            Token::Nak,
            Token::Duh,
            Token::Rsp,
        ]
        .into_iter()
        .find(|t| t.as_str().as_bytes().eq_ignore_ascii_case(name))
    }

    /// `SIA-DCS` or `ADM-CID`: carries an alarm event.
    #[must_use]
    pub const fn is_event(self) -> bool {
        matches!(self, Token::SiaDcs | Token::AdmCid)
    }

    /// `NULL` or `XNM`: a supervision (keep-alive) message.
    #[must_use]
    pub const fn is_supervision(self) -> bool {
        matches!(self, Token::Null | Token::Xnm)
    }

    /// `ACK`, `NAK`, `DUH` or `RSP`: sent by a receiver.
    #[must_use]
    pub const fn is_reply(self) -> bool {
        matches!(self, Token::Ack | Token::Nak | Token::Duh | Token::Rsp)
    }
}

/// The fields that identify a message and that a reply echoes: sequence number, receiver number, account
/// prefix ("line") and account number.
///
/// Receiver, line and account are kept as the hex digits received (case preserved), so a reply echoes them
/// exactly as the panel sent them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Route {
    /// Sequence number, 0 to 9999 (NULL messages often use 0).
    pub seq: u16,
    /// Receiver number after `R` (1 to 6 hex digits), if present.
    pub receiver: Option<String>,
    /// Account prefix after `L` (1 to 6 hex digits), if present.
    pub line: Option<String>,
    /// Account number after `#` (3 to 16 hex digits), if present. In a NAK it is the digits after `A`.
    pub account: Option<String>,
}

/// The clear part of a frame: token, encryption flag and route.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// The ID token.
    pub token: Token,
    /// Whether the token carried `*`, i.e. everything after `[` is encrypted.
    pub encrypted: bool,
    /// Sequence, receiver, line and account.
    pub route: Route,
}

/// One `[Xvalue]` extended data field: a one-character identifier and its value.
///
/// Common identifiers: `X` longitude, `Y` latitude, `Z` altitude, `M` MAC address, `V` verification URL,
/// `H` time of occurrence, `I` alarm text, `L` location, `K` new key, `P` programming data, `S` site name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtData {
    /// The identifier (a printable ASCII character).
    pub id: char,
    /// The value after the identifier.
    pub value: String,
}

/// A complete, decrypted DC-09 message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Message {
    /// Token, encryption flag and route.
    pub header: Header,
    /// The data field between `[` and `]`, without the pad (for example `#1234|Nri1/BA01` or
    /// `#1234|1130 01 015`). Decoded as UTF-8, or byte-for-byte as Latin-1 when it is not valid UTF-8.
    pub data: String,
    /// Extended data fields, in order.
    pub extended: Vec<ExtData>,
    /// The sender's timestamp (required in encrypted messages, optional otherwise).
    pub timestamp: Option<Timestamp>,
}

/// A frame whose framing, CRC, length and header have been checked, and whose body may still be encrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The clear header: token, encryption flag, route. Use `header.route.account` to find the key.
    pub header: Header,
    body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Body {
    Clear(Content),
    Encrypted(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Content {
    data: String,
    extended: Vec<ExtData>,
    timestamp: Option<Timestamp>,
}

/// Parses a frame and, if it is encrypted, decrypts it with `key`.
///
/// The same as `Frame::parse(input)?.open(key)`. A key given for a clear frame is ignored: whether an account
/// must encrypt is the caller's policy, checked with `message.header.encrypted`.
pub fn parse(input: &[u8], key: Option<&crypto::Key>) -> Result<Message, Error> {
    Frame::parse(input)?.open(key)
}

impl Frame {
    /// Checks framing, CRC and length of one frame (`<LF>` ... `<CR>`, as found by [`next_frame`]) and reads
    /// its header. A clear body is fully parsed here; an encrypted one waits for [`Frame::open`].
    pub fn parse(input: &[u8]) -> Result<Frame, Error> {
        let (&first, rest) = input.split_first().ok_or(Error::Framing("empty"))?;
        let (&last, inner) = rest.split_last().ok_or(Error::Framing("too short"))?;
        if first != LF {
            return Err(Error::Framing("does not start with <LF>"));
        }
        if last != CR {
            return Err(Error::Framing("does not end with <CR>"));
        }
        if inner.len() < 8 + 1 {
            return Err(Error::Framing("too short"));
        }
        let (crc_digits, after_crc) = inner.split_at(4);
        let (len_digits, span) = after_crc.split_at(4);
        let declared_crc = hex_u16(crc_digits).ok_or(Error::Framing("CRC is not 4 hex digits"))?;
        let declared_len =
            hex_u16(len_digits).ok_or(Error::Framing("length is not 4 hex digits"))?;
        if span.first() != Some(&b'"') {
            return Err(Error::Framing("no '\"' after CRC and length"));
        }
        let computed = crc16(span);
        if computed != declared_crc {
            return Err(Error::CrcMismatch {
                declared: declared_crc,
                computed,
            });
        }
        if usize::from(declared_len) != span.len() {
            return Err(Error::LengthMismatch {
                declared: usize::from(declared_len),
                actual: span.len(),
            });
        }

        let (header, body_start) = parse_header(span)?;
        let body = span.get(body_start..).unwrap_or_default();
        let body = if header.encrypted {
            if body.is_empty() || !body.len().is_multiple_of(2 * crypto::BLOCK) {
                return Err(Error::bad(
                    Field::Ciphertext,
                    "must be a non-empty whole number of 16-byte blocks",
                ));
            }
            Body::Encrypted(
                crypto::decode_hex(body).ok_or(Error::bad(Field::Ciphertext, "not hex"))?,
            )
        } else {
            Body::Clear(parse_content(body)?)
        };
        Ok(Frame { header, body })
    }

    /// Whether the body is encrypted and [`Frame::open`] needs a key.
    #[must_use]
    pub fn is_encrypted(&self) -> bool {
        matches!(self.body, Body::Encrypted(_))
    }

    /// Decrypts (when encrypted) and returns the whole message. `key` is ignored for clear frames.
    ///
    /// Fails with [`Error::MissingKey`] if the frame is encrypted and `key` is `None`, and with
    /// [`Error::Decrypt`] if the plaintext is not `<pad>|...]..._<timestamp>` (a wrong key, almost always).
    pub fn open(self, key: Option<&crypto::Key>) -> Result<Message, Error> {
        let content = match self.body {
            Body::Clear(content) => content,
            Body::Encrypted(mut plain) => {
                let key = key.ok_or(Error::MissingKey)?;
                key.decrypt_in_place(&mut plain)?;
                // An encrypted message always ends with its timestamp; garbage from a wrong key does not.
                if !ends_with_timestamp_shape(&plain) {
                    return Err(Error::Decrypt);
                }
                let start = crypto::content_start(&plain).ok_or(Error::Decrypt)?;
                parse_content(plain.get(start..).unwrap_or_default())?
            }
        };
        Ok(Message {
            header: self.header,
            data: content.data,
            extended: content.extended,
            timestamp: content.timestamp,
        })
    }
}

fn ends_with_timestamp_shape(plain: &[u8]) -> bool {
    const SHAPE: &[u8; 20] = b"_99:99:99,99-99-9999";
    let Some(tail) = plain
        .len()
        .checked_sub(SHAPE.len())
        .and_then(|at| plain.get(at..))
    else {
        return false;
    };
    tail.iter().zip(SHAPE).all(|(&b, &s)| {
        if s == b'9' {
            b.is_ascii_digit()
        } else {
            b == s
        }
    })
}

fn hex_u16(digits: &[u8]) -> Option<u16> {
    digits.iter().try_fold(0u16, |acc, &d| {
        Some(acc.checked_mul(16)? + u16::from(crypto::hex_value(d)?))
    })
}

/// Length of the run of hex digits at the start of `bytes`; with `stop_at_a`, the run also ends at `A`/`a`.
fn hex_run(bytes: &[u8], stop_at_a: bool) -> usize {
    bytes
        .iter()
        .take_while(|&&b| b.is_ascii_hexdigit() && !(stop_at_a && b.eq_ignore_ascii_case(&b'A')))
        .count()
}

fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Reads `"[*]TOKEN"SSSS[Rr][Ll][#acct][` and returns the header and the index just after `[`.
fn parse_header(span: &[u8]) -> Result<(Header, usize), Error> {
    let mut at = 1; // span[0] is '"'
    let encrypted = span.get(at) == Some(&b'*');
    if encrypted {
        at += 1;
    }
    let name_len = span
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'"'))
        .ok_or(Error::Framing("ID token has no closing '\"'"))?;
    let name = &span[at..at + name_len];
    at += name_len + 1;

    let seq_digits = span
        .get(at..at + 4)
        .ok_or(Error::bad(Field::Sequence, "expected 4 digits"))?;
    let seq =
        crate::time::decimal(seq_digits).ok_or(Error::bad(Field::Sequence, "expected 4 digits"))?;
    at += 4;

    // In a NAK the account is written `A0` right after the line (`R0L0A0`), so there a hex run must not
    // swallow the `A`.
    let is_nak = name.eq_ignore_ascii_case(b"NAK");
    let mut field =
        |prefix: u8, field: Field, min: usize, max: usize| -> Result<Option<String>, Error> {
            if span.get(at) != Some(&prefix) {
                return Ok(None);
            }
            let rest = span.get(at + 1..).unwrap_or_default();
            let n = hex_run(rest, is_nak && prefix != b'A');
            if n < min || n > max {
                return Err(Error::bad(field, "wrong number of hex digits"));
            }
            at += 1 + n;
            Ok(Some(text(&rest[..n])))
        };
    let receiver = field(b'R', Field::Receiver, 1, 6)?;
    let line = field(b'L', Field::Line, 1, 6)?;
    let mut account = field(b'#', Field::Account, 3, 16)?;
    if account.is_none() && is_nak {
        account = field(b'A', Field::Account, 1, 16)?;
    }
    if span.get(at) != Some(&b'[') {
        return Err(Error::bad(
            Field::Account,
            "expected '#' and hex digits, then '['",
        ));
    }
    at += 1;

    let route = Route {
        seq,
        receiver,
        line,
        account,
    };
    let token = Token::from_name(name).ok_or_else(|| Error::UnknownToken {
        token: text(name),
        route: Box::new(route.clone()),
    })?;
    Ok((
        Header {
            token,
            encrypted,
            route,
        },
        at,
    ))
}

/// Reads `data]` `[Xext]`* `[_HH:MM:SS,MM-DD-YYYY]` to the end of `body`.
fn parse_content(body: &[u8]) -> Result<Content, Error> {
    let close = body
        .iter()
        .position(|&b| b == b']')
        .ok_or(Error::bad(Field::Data, "no closing ']'"))?;
    let data = &body[..close];
    if data.iter().any(|&b| matches!(b, b'[' | CR | LF)) {
        return Err(Error::bad(Field::Data, "contains '[', <CR> or <LF>"));
    }
    let mut rest = &body[close + 1..];

    let mut extended = Vec::new();
    while let Some(inner) = rest.strip_prefix(b"[") {
        let end = inner
            .iter()
            .position(|&b| b == b']')
            .ok_or(Error::bad(Field::ExtendedData, "no closing ']'"))?;
        let field = &inner[..end];
        let (&id, value) = field
            .split_first()
            .ok_or(Error::bad(Field::ExtendedData, "empty"))?;
        if !is_ext_id(id) {
            return Err(Error::bad(
                Field::ExtendedData,
                "identifier is not a printable ASCII character",
            ));
        }
        if value.iter().any(|&b| matches!(b, b'[' | CR | LF)) {
            return Err(Error::bad(
                Field::ExtendedData,
                "contains '[', <CR> or <LF>",
            ));
        }
        extended.push(ExtData {
            id: char::from(id),
            value: text(value),
        });
        rest = &inner[end + 1..];
    }

    let timestamp = match rest.split_first() {
        None => None,
        Some((b'_', stamp)) => Some(Timestamp::parse(stamp)?),
        Some(_) => return Err(Error::bad(Field::Data, "unexpected bytes after the data")),
    };
    Ok(Content {
        data: text(data),
        extended,
        timestamp,
    })
}

fn is_ext_id(id: u8) -> bool {
    id.is_ascii_graphic() && !matches!(id, b'[' | b']')
}

fn check_hex(value: &str, field: Field, min: usize, max: usize) -> Result<(), Error> {
    let ok = (min..=max).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(Error::bad(field, "wrong number of hex digits, or not hex"))
    }
}

fn check_text(value: &str, field: Field) -> Result<(), Error> {
    if value.bytes().any(|b| matches!(b, b'[' | b']' | CR | LF)) {
        Err(Error::bad(field, "contains '[', ']', <CR> or <LF>"))
    } else {
        Ok(())
    }
}

impl Message {
    /// A clear message with empty extended data and no timestamp; chain the `with_*` methods to add more.
    #[must_use]
    pub fn new(token: Token, route: Route, data: impl Into<String>) -> Self {
        Message {
            header: Header {
                token,
                encrypted: false,
                route,
            },
            data: data.into(),
            extended: Vec::new(),
            timestamp: None,
        }
    }

    /// The same message with a timestamp.
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// The same message marked for encryption (then [`Message::encode`] needs a [`Seal`]).
    #[must_use]
    pub fn encrypted(mut self) -> Self {
        self.header.encrypted = true;
        self
    }

    /// The same message with one more extended data field.
    #[must_use]
    pub fn with_extended(mut self, id: char, value: impl Into<String>) -> Self {
        self.extended.push(ExtData {
            id,
            value: value.into(),
        });
        self
    }

    /// Writes the message as a frame: `<LF>`, CRC, length, content, `<CR>`.
    ///
    /// A message with `header.encrypted` needs `seal` (and a timestamp); a clear one must get `None`.
    pub fn encode(&self, seal: Option<Seal<'_>>) -> Result<Vec<u8>, Error> {
        let route = &self.header.route;
        if route.seq > 9999 {
            return Err(Error::bad(Field::Sequence, "above 9999"));
        }
        if let Some(r) = &route.receiver {
            check_hex(r, Field::Receiver, 1, 6)?;
        }
        if let Some(l) = &route.line {
            check_hex(l, Field::Line, 1, 6)?;
        }
        let nak = self.header.token == Token::Nak;
        let has_a = |v: &Option<String>| {
            v.as_deref()
                .is_some_and(|v| v.bytes().any(|b| b.eq_ignore_ascii_case(&b'A')))
        };
        if nak && (has_a(&route.receiver) || has_a(&route.line)) {
            return Err(Error::bad(
                Field::Line,
                "in a NAK, receiver and line cannot contain 'A'",
            ));
        }
        if let Some(a) = &route.account {
            check_hex(a, Field::Account, if nak { 1 } else { 3 }, 16)?;
        }

        let mut span = Vec::with_capacity(64 + 4 * self.data.len());
        span.push(b'"');
        if self.header.encrypted {
            span.push(b'*');
        }
        span.extend_from_slice(self.header.token.as_str().as_bytes());
        span.push(b'"');
        span.extend_from_slice(format!("{:04}", route.seq).as_bytes());
        if let Some(r) = &route.receiver {
            span.push(b'R');
            span.extend_from_slice(r.as_bytes());
        }
        if let Some(l) = &route.line {
            span.push(b'L');
            span.extend_from_slice(l.as_bytes());
        }
        if let Some(a) = &route.account {
            span.push(if nak { b'A' } else { b'#' });
            span.extend_from_slice(a.as_bytes());
        }
        span.push(b'[');

        let content = self.content_bytes()?;
        match (self.header.encrypted, seal) {
            (false, None) => span.extend_from_slice(&content),
            (true, Some(mut seal)) => {
                if self.timestamp.is_none() {
                    return Err(Error::bad(
                        Field::Timestamp,
                        "required in an encrypted message",
                    ));
                }
                let cipher = seal.seal(!self.data.is_empty(), &content)?;
                crypto::encode_hex_upper(&cipher, &mut span);
            }
            (true, None) => return Err(Error::MissingKey),
            (false, Some(_)) => {
                return Err(Error::bad(
                    Field::Token,
                    "a key was given for a message not marked encrypted",
                ));
            }
        }
        if span.len() > MAX_SPAN_LEN {
            return Err(Error::bad(
                Field::Frame,
                "longer than the 4095 bytes the length field allows",
            ));
        }
        Ok(wrap(&span))
    }

    fn content_bytes(&self) -> Result<Vec<u8>, Error> {
        check_text(&self.data, Field::Data)?;
        let mut out = Vec::with_capacity(self.data.len() + 24);
        out.extend_from_slice(self.data.as_bytes());
        out.push(b']');
        for ext in &self.extended {
            let id = u8::try_from(ext.id)
                .ok()
                .filter(|&b| is_ext_id(b))
                .ok_or(Error::bad(
                    Field::ExtendedData,
                    "identifier must be a printable ASCII character",
                ))?;
            check_text(&ext.value, Field::ExtendedData)?;
            out.push(b'[');
            out.push(id);
            out.extend_from_slice(ext.value.as_bytes());
            out.push(b']');
        }
        if let Some(ts) = self.timestamp {
            out.push(b'_');
            out.extend_from_slice(ts.to_string().as_bytes());
        }
        Ok(out)
    }
}

/// Puts `<LF>`, CRC, `0LLL` and `<CR>` around a span of at most [`MAX_SPAN_LEN`] bytes.
pub(crate) fn wrap(span: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(span.len() + 10);
    frame.push(LF);
    frame.extend_from_slice(
        format!("{:04X}{:04X}", crc16(span), span.len() & MAX_SPAN_LEN).as_bytes(),
    );
    frame.extend_from_slice(span);
    frame.push(CR);
    frame
}

/// What [`next_frame`] found in a receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// A candidate frame, `<LF>` to `<CR>` inclusive, at this range; bytes before it are noise to drop.
    /// Pass `&buf[range]` to [`Frame::parse`] and drop `..range.end`.
    Frame(Range<usize>),
    /// No complete frame yet. The first `skip` bytes can never be part of one and may be dropped; read more.
    /// If the rest grows past [`MAX_FRAME_LEN`] without a `<CR>`, drop it too.
    Partial {
        /// Bytes at the front of the buffer that can be discarded.
        skip: usize,
    },
}

/// Finds the next frame in a TCP receive buffer: the last `<LF>` before the first `<CR>`.
///
/// Panels may send several frames in one segment, split one across segments, or prefix noise; this finds
/// frame boundaries without interpreting the content.
#[must_use]
pub fn next_frame(buf: &[u8]) -> Next {
    match buf.iter().position(|&b| b == CR) {
        Some(cr) => match buf[..cr].iter().rposition(|&b| b == LF) {
            Some(lf) => Next::Frame(lf..cr + 1),
            // A <CR> with no <LF> before it: everything up to and including it is noise.
            None => Next::Partial { skip: cr + 1 },
        },
        None => Next::Partial {
            skip: buf.iter().rposition(|&b| b == LF).unwrap_or(buf.len()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_frame_boundaries() {
        assert_eq!(next_frame(b""), Next::Partial { skip: 0 });
        assert_eq!(next_frame(b"noise"), Next::Partial { skip: 5 });
        assert_eq!(next_frame(b"no\nise"), Next::Partial { skip: 2 });
        assert_eq!(next_frame(b"x\r\nab\r"), Next::Partial { skip: 2 });
        assert_eq!(next_frame(b"xx\nab\r\ncd\r"), Next::Frame(2..6));
        assert_eq!(next_frame(b"\nold\nab\r"), Next::Frame(4..8));
    }

    #[test]
    fn token_names() {
        for t in [
            Token::SiaDcs,
            Token::AdmCid,
            Token::Null,
            Token::Xnm,
            Token::Ack,
            Token::Nak,
            Token::Duh,
        ] {
            assert_eq!(Token::from_name(t.as_str().as_bytes()), Some(t));
        }
        assert_eq!(Token::from_name(b"null"), Some(Token::Null));
        assert_eq!(Token::from_name(b"SIA-DC"), None);
        assert!(Token::AdmCid.is_event() && Token::Null.is_supervision() && Token::Nak.is_reply());
    }

    #[test]
    fn timestamp_shape() {
        assert!(ends_with_timestamp_shape(b"pad|]_01:02:03,04-05-2006"));
        assert!(!ends_with_timestamp_shape(b"_01:02:03,04-05-200"));
        assert!(!ends_with_timestamp_shape(b"pad|]_01:02:03;04-05-2006"));
    }
}
