//! Properties: what is built parses back to the same message, and no input makes the parser panic.

use proptest::prelude::*;
use sia_dc09::crc::crc16;
use sia_dc09::{
    ContactId, ExtData, Frame, Key, Message, PadPolicy, Qualifier, Route, Seal, SiaDcs, Timestamp,
    Token, parse,
};

fn hex_string(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9A-Fa-f]{{{min},{max}}}")).expect("valid regex")
}

fn hex_without_a(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9B-Fb-f]{{{min},{max}}}")).expect("valid regex")
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        Just(Token::SiaDcs),
        Just(Token::AdmCid),
        Just(Token::Null),
        Just(Token::Xnm),
        Just(Token::Ack),
        Just(Token::Nak),
        Just(Token::Duh),
        Just(Token::Rsp),
    ]
}

/// Text that may appear in a data or extended data field: anything but brackets, CR and LF.
fn field_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        any::<char>().prop_filter("delimiter", |c| !matches!(c, '[' | ']' | '\r' | '\n')),
        0..max,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    // Years 0000 to 9999.
    (-62_167_219_200i64..=253_402_300_799).prop_map(|s| Timestamp::from_unix(s).expect("in range"))
}

fn message() -> impl Strategy<Value = Message> {
    (
        token(),
        0u16..=9999,
        proptest::option::of(hex_without_a(1, 6)),
        proptest::option::of(hex_without_a(1, 6)),
        proptest::option::of(hex_string(3, 16)),
        field_text(60),
        proptest::collection::vec(
            (
                proptest::char::range('!', '~').prop_filter("bracket", |c| !matches!(c, '[' | ']')),
                field_text(20),
            ),
            0..3,
        ),
        proptest::option::of(timestamp()),
    )
        .prop_map(
            |(token, seq, receiver, line, account, data, ext, timestamp)| Message {
                header: sia_dc09::Header {
                    token,
                    encrypted: false,
                    route: Route {
                        seq,
                        receiver,
                        line,
                        account,
                    },
                },
                data,
                extended: ext
                    .into_iter()
                    .map(|(id, value)| ExtData { id, value })
                    .collect(),
                timestamp,
            },
        )
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 16),
        proptest::collection::vec(any::<u8>(), 24),
        proptest::collection::vec(any::<u8>(), 32),
    ]
    .prop_map(|bytes| Key::from_bytes(&bytes).expect("valid length"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn clear_round_trip(msg in message()) {
        let frame = msg.encode(None).unwrap();
        prop_assert_eq!(parse(&frame, None).unwrap(), msg);
    }

    #[test]
    fn encrypted_round_trip(
        msg in message(),
        ts in timestamp(),
        key in key(),
        seed in any::<u64>(),
        full_block in any::<bool>(),
    ) {
        let mut msg = msg.encrypted();
        msg.timestamp = Some(ts);
        let mut state = seed;
        let mut random = |buf: &mut [u8]| {
            for b in buf {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                *b = (state >> 56) as u8;
            }
        };
        let padding = if full_block { PadPolicy::FullBlock } else { PadPolicy::Minimal };
        let frame = msg.encode(Some(Seal::new(&key, &mut random).with_padding(padding))).unwrap();
        prop_assert_eq!(parse(&frame, Some(&key)).unwrap(), msg);
    }

    #[test]
    fn contact_id_round_trip(
        account in proptest::option::of(hex_string(1, 16)),
        q in prop_oneof![Just(Qualifier::New), Just(Qualifier::Restore), Just(Qualifier::Previous)],
        code in 0u16..1000,
        partition in 0u8..100,
        zone in 0u16..1000,
    ) {
        let cid = ContactId { account, qualifier: q, code, partition, zone };
        prop_assert_eq!(ContactId::parse(&cid.to_data()).unwrap(), cid);
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse(&bytes, None);
        let _ = sia_dc09::next_frame(&bytes);
    }

    /// Arbitrary content behind a correct CRC and length, so the parser gets past the checksum.
    #[test]
    fn parse_never_panics_past_the_crc(
        encrypted in any::<bool>(),
        token in prop_oneof![Just("SIA-DCS"), Just("ADM-CID"), Just("NULL"), Just("NAK"), Just("X")],
        rest in proptest::collection::vec(
            prop_oneof![
                3 => any::<u8>(),
                5 => proptest::sample::select(b"0123456789ABCDEFabcdefRL#A[]|_:,-/^Nri ".to_vec()),
            ],
            0..200,
        ),
        key in key(),
    ) {
        let mut span = format!("\"{}{token}\"", if encrypted { "*" } else { "" }).into_bytes();
        span.extend_from_slice(&rest);
        let mut frame = format!("\n{:04X}{:04X}", crc16(&span), span.len()).into_bytes();
        frame.extend_from_slice(&span);
        frame.push(b'\r');
        if let Ok(m) = Frame::parse(&frame).and_then(|f| f.open(Some(&key))) {
            let _ = m.decode();
        }
    }

    /// Random ciphertext under a valid header: decrypts to garbage, which must be refused, not panic.
    #[test]
    fn random_ciphertext_never_panics(blocks in 1usize..8, bytes in proptest::collection::vec(any::<u8>(), 128), key in key()) {
        let hex: String = bytes[..blocks * 16].iter().map(|b| format!("{b:02x}")).collect();
        let span = format!("\"*SIA-DCS\"0001L0#1234[{hex}");
        let frame = format!("\n{:04X}{:04X}{span}\r", crc16(span.as_bytes()), span.len());
        let _ = parse(frame.as_bytes(), Some(&key));
    }

    #[test]
    fn payload_decoders_never_panic(data in "\\PC{0,80}") {
        let _ = SiaDcs::parse(&data);
        let _ = ContactId::parse(&data);
        if let Ok(d) = SiaDcs::parse(&data) {
            let _ = d.to_data();
            let _ = d.is_alarm_panic();
        }
    }

    #[test]
    fn timestamp_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..25), secs in any::<i64>()) {
        let _ = Timestamp::parse(&bytes);
        if let Some(t) = Timestamp::from_unix(secs) {
            prop_assert_eq!(t.to_unix(), secs);
            prop_assert_eq!(Timestamp::parse(t.to_string().as_bytes()).unwrap(), t);
        }
    }
}
