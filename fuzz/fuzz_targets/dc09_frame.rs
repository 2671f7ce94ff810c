//! Arbitrary bytes into the DC-09 receiver's parsing path: frame splitting, header parsing,
//! decryption with a key, payload decoding and the replies built from what was parsed. Nothing
//! may panic, and a frame that parses must re-encode to something that parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = sia_dc09::Key::from_hex("00112233445566778899aabbccddeeff").expect("static key");
    let mut rest = data;
    // The TCP path: split a stream into frames.
    for _ in 0..16 {
        match sia_dc09::next_frame(rest) {
            sia_dc09::Next::Frame(r) => {
                let frame = &rest[r.clone()];
                check(frame, &key);
                rest = &rest[r.end.min(rest.len())..];
            }
            sia_dc09::Next::Partial { skip } => {
                if skip == 0 || skip >= rest.len() {
                    break;
                }
                rest = &rest[skip..];
            }
        }
    }
    // The UDP path: one datagram is one frame.
    check(data, &key);
});

fn check(frame: &[u8], key: &sia_dc09::Key) {
    let Ok(parsed) = sia_dc09::Frame::parse(frame) else { return };
    let header = parsed.header.clone();
    let keyed = if parsed.is_encrypted() { Some(key) } else { None };
    if let Ok(msg) = parsed.open(keyed) {
        let _ = msg.decode();
        if let Some(ts) = msg.timestamp {
            let _ = sia_dc09::reply::nak(ts);
        }
    }
    let _ = sia_dc09::reply::duh(&header.route);
}
