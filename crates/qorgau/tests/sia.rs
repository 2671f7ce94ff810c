//! Alarm panels over SIA DC-09: the receiver on TCP and UDP, its replies byte for byte (checked
//! with the `sia-dc09` parser and the panel's key), alarms raised once, the panel registry,
//! supervision, slow clients, and two third-party Python implementations as real senders.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Backend, TestApp};
use serde_json::{Value, json};
use sia_dc09::{Header, Key, Message, PadPolicy, Route, Seal, Timestamp, Token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs a test with the SIA receiver on `127.0.0.1:0`, on SQLite and on PostgreSQL when
/// `QORGAU_TEST_POSTGRES_URL` is set (as `both!` does, with the receiver switched on).
macro_rules! sia_test {
    ($name:ident, |$app:ident, $sia:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = start(Backend::Sqlite).await.expect("app");
                let $sia = $app.state.listeners.get("sia").expect("SIA receiver bound");
                $body
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = start(Backend::Postgres).await else {
                    return;
                };
                let $sia = $app.state.listeners.get("sia").expect("SIA receiver bound");
                $body
            }
        }
    };
}

async fn start(backend: Backend) -> Option<TestApp> {
    let pg = std::env::var("QORGAU_TEST_POSTGRES_URL").is_ok_and(|s| !s.is_empty());
    if backend == Backend::Postgres && !pg {
        eprintln!("skipped on PostgreSQL: QORGAU_TEST_POSTGRES_URL is not set (.ci/run sets it)");
        return None;
    }
    Some(
        TestApp::start_with(backend, |c| {
            c.sia_listen = Some("127.0.0.1:0".parse().expect("addr"));
        })
        .await,
    )
}

const DEMO_PANEL: &str = "D001";

fn demo_key(app: &TestApp) -> Key {
    let hex = std::fs::read_to_string(app.data_dir.join("demo-panel-key.txt")).expect("key file");
    Key::from_hex(hex.trim()).expect("hex key")
}

fn now() -> Timestamp {
    Timestamp::from_unix(jiff::Timestamp::now().as_second()).expect("now")
}

fn route(seq: u16, account: &str) -> Route {
    Route {
        seq,
        receiver: Some("12".into()),
        line: Some("3".into()),
        account: Some(account.into()),
    }
}

/// Random pad bytes, letters and digits.
fn pad_source() -> impl FnMut(&mut [u8]) {
    use rand::Rng;
    |b: &mut [u8]| {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut r = rand::rng();
        for x in b.iter_mut() {
            *x = A[r.random_range(0..A.len())];
        }
    }
}

fn sealed(m: Message, key: &Key, pad: PadPolicy) -> Vec<u8> {
    let mut fill = pad_source();
    m.encrypted()
        .encode(Some(Seal::new(key, &mut fill).with_padding(pad)))
        .expect("encode")
}

fn clear(m: Message) -> Vec<u8> {
    m.encode(None).expect("encode")
}

/// Sends one frame over a new TCP connection and reads the reply, or `None` if none came.
async fn tcp(addr: SocketAddr, frame: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(frame).await.expect("write");
    read_reply(&mut s, wait).await
}

async fn read_reply(s: &mut tokio::net::TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + wait;
    let mut buf = vec![];
    let mut chunk = [0u8; 1024];
    while !buf.ends_with(b"\r") {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(buf)
}

async fn udp(addr: SocketAddr, frame: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let s = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    s.send_to(frame, addr).await.expect("send");
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(wait, s.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(n);
    Some(buf)
}

const WAIT: Duration = Duration::from_secs(10);

/// The reply parsed with the crate's parser (and the key, for an encrypted one).
fn parsed(reply: &[u8], key: Option<&Key>) -> Message {
    sia_dc09::parse(reply, key)
        .unwrap_or_else(|e| panic!("reply {:?}: {e}", String::from_utf8_lossy(reply)))
}

fn assert_ack(reply: &[u8], key: Option<&Key>, expected: &Route) {
    let m = parsed(reply, key);
    assert_eq!(
        m.header,
        Header {
            token: Token::Ack,
            encrypted: key.is_some(),
            route: expected.clone()
        },
        "{:?}",
        String::from_utf8_lossy(reply)
    );
    assert_eq!(m.data, "");
    let t = m.timestamp.expect("ACK carries the receiver's time");
    assert!(t.is_within_window(now().to_unix()));
}

async fn alarms_of(app: &TestApp, account: &str) -> Vec<Value> {
    let admin = app.login("system_admin").await;
    let v: Value = admin
        .get(app.url("/api/v1/alarms?limit=200"))
        .send()
        .await
        .expect("alarms")
        .json()
        .await
        .expect("json");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|a| {
            a["source_ref"]
                .as_str()
                .is_some_and(|r| r == account || r.starts_with(&format!("{account} ")))
        })
        .cloned()
        .collect()
}

/// Registers a panel at the demo facility as its administrator.
async fn register(app: &TestApp, body: Value) -> Value {
    let admin = app.login("facility_admin").await;
    let mut body = body;
    body["facility_id"] = json!(app.demo_facility().await);
    let r = admin
        .post(app.url("/api/v1/panels"))
        .json(&body)
        .send()
        .await
        .expect("create panel");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    r.json().await.expect("json")
}

async fn panel_by_account(app: &TestApp, account: &str, unassigned: bool) -> Option<Value> {
    let admin = app.login("system_admin").await;
    let path = if unassigned {
        "/api/v1/panels/unassigned?limit=200"
    } else {
        "/api/v1/panels?limit=200"
    };
    let v: Value = admin
        .get(app.url(path))
        .send()
        .await
        .expect("panels")
        .json()
        .await
        .expect("json");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["account"] == account)
        .cloned()
}

sia_test!(
    encrypted_and_clear_events_raise_one_alarm_each,
    |app, sia| {
        let key = demo_key(&app);
        // Encrypted Contact ID panic from the demo panel.
        let r = route(1, DEMO_PANEL);
        let m = Message::new(Token::AdmCid, r.clone(), "#D001|1120 01 015")
            .with_extended('X', "76.8897")
            .with_extended('Y', "43.2389")
            .with_timestamp(now());
        let reply = tcp(sia, &sealed(m, &key, PadPolicy::FullBlock), WAIT)
            .await
            .expect("a reply");
        assert!(reply.windows(6).any(|w| w == b"\"*ACK\""));
        assert_ack(&reply, Some(&key), &r);
        let alarms = alarms_of(&app, DEMO_PANEL).await;
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        let a = &alarms[0];
        assert_eq!(a["source"], "panel");
        assert_eq!(a["kind"], "panic");
        assert_eq!(a["source_ref"], "D001 zone 015");
        assert_eq!(a["facility_id"], app.demo_facility().await.as_str());
        assert_eq!(a["lat"], 43.2389);

        // A clear SIA DCS panic from a panel registered without a key.
        let p = register(
            &app,
            json!({"account": "c1ea2", "name": "Приёмный покой", "room": "101", "floor": "1"}),
        )
        .await;
        assert_eq!(p["account"], "C1EA2");
        assert_eq!(p["has_key"], false);
        let r = Route {
            seq: 42,
            receiver: None,
            line: None,
            account: Some("C1EA2".into()),
        };
        let m = Message::new(Token::SiaDcs, r.clone(), "#C1EA2|Nri1/PA05").with_timestamp(now());
        let reply = tcp(sia, &clear(m), WAIT).await.expect("a reply");
        assert_ack(&reply, None, &r);
        assert!(String::from_utf8_lossy(&reply).contains("\"ACK\"0042#C1EA2[]_"));
        let alarms = alarms_of(&app, "C1EA2").await;
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        assert_eq!(alarms[0]["room"], "101");

        // An event that is not a panic is acknowledged and recorded, and raises nothing.
        let r = route(2, DEMO_PANEL);
        let m = Message::new(Token::AdmCid, r.clone(), "#D001|1602 00 000").with_timestamp(now());
        let reply = tcp(sia, &sealed(m, &key, PadPolicy::Minimal), WAIT)
            .await
            .expect("a reply");
        assert_ack(&reply, Some(&key), &r);
        assert_eq!(alarms_of(&app, DEMO_PANEL).await.len(), 1);
        let demo = panel_by_account(&app, DEMO_PANEL, false)
            .await
            .expect("demo panel listed");
        assert_eq!(demo["has_key"], true);
        assert_eq!(demo["key_bits"], 128);
        assert!(demo.get("key_text").is_none() && !demo.to_string().contains("key_text"));
        let events: Value = app
            .login("facility_admin")
            .await
            .get(app.url(&format!(
                "/api/v1/panels/{}/events",
                demo["id"].as_str().expect("id")
            )))
            .send()
            .await
            .expect("events")
            .json()
            .await
            .expect("json");
        let events = events["items"].as_array().expect("items");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["category"], "test");
        assert_eq!(events[0]["panic"], false);
        assert_eq!(events[1]["panic"], true);
        assert!(events[1]["alarm_id"].is_string());
    }
);

sia_test!(
    a_retransmission_is_acked_and_raises_nothing_new,
    |app, sia| {
        let key = demo_key(&app);
        let r = route(9, DEMO_PANEL);
        let first = Message::new(Token::AdmCid, r.clone(), "#D001|1121 01 003")
            .with_timestamp(Timestamp::from_unix(now().to_unix() - 5).expect("ts"));
        let reply = tcp(sia, &sealed(first, &key, PadPolicy::FullBlock), WAIT)
            .await
            .expect("reply");
        assert_ack(&reply, Some(&key), &r);
        // The same event again: other pad length, other pad, other time.
        let again =
            Message::new(Token::AdmCid, r.clone(), "#D001|1121 01 003").with_timestamp(now());
        let reply = tcp(sia, &sealed(again, &key, PadPolicy::Minimal), WAIT)
            .await
            .expect("reply");
        assert_ack(&reply, Some(&key), &r);
        let alarms = alarms_of(&app, DEMO_PANEL).await;
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        assert_eq!(alarms[0]["kind"], "duress");
        // A restarted panel reusing the sequence number for a new event: a new alarm.
        let other =
            Message::new(Token::AdmCid, r.clone(), "#D001|1120 01 004").with_timestamp(now());
        let reply = tcp(sia, &sealed(other, &key, PadPolicy::FullBlock), WAIT)
            .await
            .expect("reply");
        assert_ack(&reply, Some(&key), &r);
        assert_eq!(alarms_of(&app, DEMO_PANEL).await.len(), 2);
    }
);

sia_test!(damaged_frames_get_no_reply, |app, sia| {
    let r = route(3, DEMO_PANEL);
    let good = sealed(
        Message::new(Token::AdmCid, r.clone(), "#D001|1120 01 001").with_timestamp(now()),
        &demo_key(&app),
        PadPolicy::FullBlock,
    );
    // One flipped bit in the content: the CRC no longer matches.
    let mut crc_bad = good.clone();
    let i = crc_bad.len() - 5;
    crc_bad[i] ^= 0x01;
    let mut s = tokio::net::TcpStream::connect(sia).await.expect("connect");
    s.write_all(&crc_bad).await.expect("write");
    assert_eq!(read_reply(&mut s, Duration::from_millis(700)).await, None);
    // A length field that does not match (CRC recomputed over the content).
    let text = String::from_utf8(good.clone()).expect("ascii");
    let len_bad = format!("{}{:04X}{}", &text[..5], text.len() - 10 + 1, &text[9..]);
    s.write_all(len_bad.as_bytes()).await.expect("write");
    assert_eq!(read_reply(&mut s, Duration::from_millis(700)).await, None);
    // The connection is still served: a good frame next gets its ACK.
    s.write_all(&good).await.expect("write");
    let reply = read_reply(&mut s, WAIT).await.expect("reply");
    assert_ack(&reply, Some(&demo_key(&app)), &r);
    // Over UDP too.
    assert_eq!(udp(sia, &crc_bad, Duration::from_millis(700)).await, None);
    assert_eq!(alarms_of(&app, DEMO_PANEL).await.len(), 1);
    let metrics = app
        .client()
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("qorgau_sia_dropped_total") && l.contains("reason=\"crc\"")),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("qorgau_sia_dropped_total") && l.contains("reason=\"length\""))
    );
});

sia_test!(
    a_wrong_key_or_an_old_message_gets_the_fixed_nak,
    |app, sia| {
        let wrong = Key::from_hex("000102030405060708090A0B0C0D0E0F").expect("key");
        let m = Message::new(Token::AdmCid, route(4, DEMO_PANEL), "#D001|1120 01 001")
            .with_timestamp(now());
        let reply = tcp(sia, &sealed(m, &wrong, PadPolicy::FullBlock), WAIT)
            .await
            .expect("reply");
        let text = String::from_utf8_lossy(&reply).to_string();
        assert!(text.contains("\"NAK\"0000R0L0A0[]_"), "{text:?}");
        let nak = parsed(&reply, None);
        assert_eq!(nak.header.token, Token::Nak);
        assert!(!nak.header.encrypted);
        let t = nak.timestamp.expect("the receiver's time");
        assert!((t.to_unix() - now().to_unix()).abs() <= 2);
        // The right key, but sent two minutes ago: outside the window.
        let old = Message::new(Token::AdmCid, route(5, DEMO_PANEL), "#D001|1120 01 001")
            .with_timestamp(Timestamp::from_unix(now().to_unix() - 120).expect("ts"));
        let reply = tcp(
            sia,
            &sealed(old, &demo_key(&app), PadPolicy::FullBlock),
            WAIT,
        )
        .await
        .expect("reply");
        assert_eq!(parsed(&reply, None).header.token, Token::Nak);
        // And from the future.
        let ahead = Message::new(Token::AdmCid, route(6, DEMO_PANEL), "#D001|1120 01 001")
            .with_timestamp(Timestamp::from_unix(now().to_unix() + 60).expect("ts"));
        let reply = tcp(
            sia,
            &sealed(ahead, &demo_key(&app), PadPolicy::FullBlock),
            WAIT,
        )
        .await
        .expect("reply");
        assert_eq!(parsed(&reply, None).header.token, Token::Nak);
        assert!(alarms_of(&app, DEMO_PANEL).await.is_empty());
    }
);

sia_test!(
    key_policy_mismatches_get_duh_and_a_security_event,
    |app, sia| {
        // Clear from an account that has a key.
        let r = route(7, DEMO_PANEL);
        let m = Message::new(Token::AdmCid, r.clone(), "#D001|1120 01 001").with_timestamp(now());
        let reply = tcp(sia, &clear(m), WAIT).await.expect("reply");
        let duh = parsed(&reply, None);
        assert_eq!(
            duh.header,
            Header {
                token: Token::Duh,
                encrypted: false,
                route: r
            }
        );
        // Encrypted from a registered account without a key.
        register(&app, json!({"account": "ABC123"})).await;
        let key = demo_key(&app);
        let m = Message::new(Token::AdmCid, route(8, "ABC123"), "#ABC123|1120 01 001")
            .with_timestamp(now());
        let reply = tcp(sia, &sealed(m, &key, PadPolicy::FullBlock), WAIT)
            .await
            .expect("reply");
        assert_eq!(parsed(&reply, None).header.token, Token::Duh);
        // Encrypted from an account nobody registered.
        let m = Message::new(Token::AdmCid, route(9, "FACE01"), "#FACE01|1120 01 001")
            .with_timestamp(now());
        let reply = tcp(sia, &sealed(m, &key, PadPolicy::FullBlock), WAIT)
            .await
            .expect("reply");
        assert_eq!(parsed(&reply, None).header.token, Token::Duh);
        assert!(alarms_of(&app, DEMO_PANEL).await.is_empty());
        assert!(alarms_of(&app, "ABC123").await.is_empty());
        assert!(panel_by_account(&app, "FACE01", true).await.is_none());
        // Each is a security event in the audit log.
        let audit: Value = app
            .login("system_admin")
            .await
            .get(app.url("/api/v1/audit?action=panel.security&limit=50"))
            .send()
            .await
            .expect("audit")
            .json()
            .await
            .expect("json");
        let reasons: Vec<String> = audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["detail"].as_str().unwrap_or("").to_owned())
            .collect();
        for want in ["clear_from_keyed_account", "encrypted_without_key"] {
            assert!(reasons.iter().any(|r| r.contains(want)), "{reasons:?}");
        }
        // An unknown token is well formed but cannot be handled: DUH too.
        let span = "\"XYZ\"0011#D001[]";
        let frame = format!(
            "\n{:04X}{:04X}{span}\r",
            sia_dc09::crc::crc16(span.as_bytes()),
            span.len()
        );
        let reply = tcp(sia, frame.as_bytes(), WAIT).await.expect("reply");
        assert_eq!(parsed(&reply, None).header.token, Token::Duh);
    }
);

sia_test!(
    an_unknown_clear_account_is_acked_and_listed_for_placing,
    |app, sia| {
        let r = route(11, "BEEF01");
        let m = Message::new(Token::AdmCid, r.clone(), "#BEEF01|1120 01 002").with_timestamp(now());
        let reply = tcp(sia, &clear(m), WAIT).await.expect("reply");
        assert_ack(&reply, None, &r);
        let p = panel_by_account(&app, "BEEF01", true)
            .await
            .expect("listed as unassigned");
        assert!(p["facility_id"].is_null());
        assert!(
            p["last_addr"]
                .as_str()
                .is_some_and(|a| a.starts_with("127.0.0.1:"))
        );
        assert!(
            alarms_of(&app, "BEEF01").await.is_empty(),
            "no place, no alarm"
        );
        // Every panel administrator sees it (it has no place yet); a guard does not.
        let guard = app.login("security_guard").await;
        assert_eq!(
            guard
                .get(app.url("/api/v1/panels/unassigned"))
                .send()
                .await
                .expect("list")
                .status(),
            403
        );
        let id = p["id"].as_str().expect("id");
        let fa = app.login("facility_admin").await;
        assert_eq!(
            fa.get(app.url(&format!("/api/v1/panels/{id}")))
                .send()
                .await
                .expect("get")
                .status(),
            200
        );
        // Placing it in a facility outside one's scope is refused.
        let elsewhere: Value = fa
            .get(app.url("/api/v1/facilities?limit=50"))
            .send()
            .await
            .expect("facilities")
            .json()
            .await
            .expect("json");
        let home = app.demo_facility().await;
        let other = elsewhere["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|f| f["id"] != home.as_str())
            .expect("another facility")["id"]
            .clone();
        let r = fa
            .post(app.url(&format!("/api/v1/panels/{id}/assign")))
            .json(&json!({"facility_id": other}))
            .send()
            .await
            .expect("assign");
        assert_eq!(r.status(), 422);
        // Its events are there to look at before placing it.
        let admin = app.login("system_admin").await;
        let events: Value = admin
            .get(app.url(&format!("/api/v1/panels/{id}/events")))
            .send()
            .await
            .expect("events")
            .json()
            .await
            .expect("json");
        assert_eq!(events["items"][0]["panic"], true);
        let facility = app.demo_facility().await;
        let placed = admin
            .post(app.url(&format!("/api/v1/panels/{id}/assign")))
            .json(&json!({"facility_id": facility, "room": "Регистратура", "floor": "1"}))
            .send()
            .await
            .expect("assign");
        assert_eq!(placed.status(), 200);
        assert!(panel_by_account(&app, "BEEF01", true).await.is_none());
        // From now on its panics are alarms there.
        let r = route(12, "BEEF01");
        let m = Message::new(Token::AdmCid, r.clone(), "#BEEF01|1120 01 002").with_timestamp(now());
        let reply = tcp(sia, &clear(m), WAIT).await.expect("reply");
        assert_ack(&reply, None, &r);
        let alarms = alarms_of(&app, "BEEF01").await;
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0]["room"], "Регистратура");
        assert_eq!(alarms[0]["facility_id"], facility.as_str());
    }
);

/// `"*NULL"` whose plaintext is `<pad>|]_<time>` (what my-dc09-spt sends), built by hand.
fn null_with_bar(key: &Key, seq: u16, account: &str) -> Vec<u8> {
    let tail = format!("|]_{}", now());
    let pad = 16 - tail.len() % 16 + 16;
    let mut plain = vec![b'x'; pad];
    plain.extend_from_slice(tail.as_bytes());
    key.encrypt_in_place(&mut plain).expect("encrypt");
    let hex: String = plain.iter().map(|b| format!("{b:02X}")).collect();
    let span = format!("\"*NULL\"{seq:04}#{account}[{hex}");
    format!(
        "\n{:04X}{:04X}{span}\r",
        sia_dc09::crc::crc16(span.as_bytes()),
        span.len()
    )
    .into_bytes()
}

/// The same frame with its ciphertext in lower-case hex (CRC recomputed).
fn lower_hex(frame: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(frame.to_vec()).expect("ascii");
    let span = &text[9..text.len() - 1];
    let open = span.find('[').expect("[");
    let span = format!(
        "{}{}",
        &span[..=open],
        span[open + 1..].to_ascii_lowercase()
    );
    format!(
        "\n{:04X}{:04X}{span}\r",
        sia_dc09::crc::crc16(span.as_bytes()),
        span.len()
    )
    .into_bytes()
}

sia_test!(supervision_messages_in_every_form_are_acked, |app, sia| {
    let key = demo_key(&app);
    let plain_route = Route {
        seq: 0,
        receiver: None,
        line: None,
        account: Some(DEMO_PANEL.into()),
    };
    // `<pad>]`: no separator when the data field is empty.
    let m = Message::new(Token::Null, plain_route.clone(), "").with_timestamp(now());
    let frame = sealed(m, &key, PadPolicy::Minimal);
    assert_ack(
        &tcp(sia, &frame, WAIT).await.expect("reply"),
        Some(&key),
        &plain_route,
    );
    // `<pad>|]`, and in lower-case hex.
    let frame = null_with_bar(&key, 0, DEMO_PANEL);
    assert_ack(
        &tcp(sia, &frame, WAIT).await.expect("reply"),
        Some(&key),
        &plain_route,
    );
    assert_ack(
        &tcp(sia, &lower_hex(&frame), WAIT).await.expect("reply"),
        Some(&key),
        &plain_route,
    );
    // A clear NULL from a clear panel.
    register(&app, json!({"account": "A0A0"})).await;
    let r = route(0, "A0A0");
    let reply = tcp(sia, &clear(Message::new(Token::Null, r.clone(), "")), WAIT)
        .await
        .expect("reply");
    assert_ack(&reply, None, &r);
    let p = panel_by_account(&app, "A0A0", false).await.expect("panel");
    assert!(p["last_seen_at"].is_string());
    assert!(alarms_of(&app, DEMO_PANEL).await.is_empty());
});

sia_test!(the_udp_path_works_like_tcp, |app, sia| {
    let key = demo_key(&app);
    let r = route(21, DEMO_PANEL);
    let m = Message::new(Token::SiaDcs, r.clone(), "#D001|Nri1/HA01").with_timestamp(now());
    let frame = sealed(m, &key, PadPolicy::FullBlock);
    let reply = udp(sia, &frame, WAIT).await.expect("reply");
    assert_ack(&reply, Some(&key), &r);
    // A retransmission over TCP of what came by UDP is still one alarm.
    let reply = tcp(sia, &frame, WAIT).await.expect("reply");
    assert_ack(&reply, Some(&key), &r);
    let alarms = alarms_of(&app, DEMO_PANEL).await;
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0]["kind"], "duress");
    // A CRC error over UDP: nothing back.
    let mut bad = frame.clone();
    bad[12] ^= 1;
    assert_eq!(udp(sia, &bad, Duration::from_millis(700)).await, None);
});

sia_test!(
    a_panel_that_stops_talking_raises_panel_silent,
    |app, sia| {
        let p = register(
            &app,
            json!({"account": "5111E0", "supervision_secs": 2, "room": "Щитовая"}),
        )
        .await;
        assert_eq!(p["supervision_secs"], 2);
        let null = || clear(Message::new(Token::Null, route(0, "5111E0"), ""));
        // Talking every second keeps it supervised without an alarm.
        for _ in 0..4 {
            assert!(tcp(sia, &null(), WAIT).await.is_some());
            tokio::time::sleep(Duration::from_millis(1000)).await;
        }
        assert!(alarms_of(&app, "5111E0").await.is_empty());
        // Then it goes quiet: a panel-silent alarm within the interval and a tick or two.
        let deadline = Instant::now() + Duration::from_secs(10);
        let alarms = loop {
            let a = alarms_of(&app, "5111E0").await;
            if !a.is_empty() || Instant::now() > deadline {
                break a;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        assert_eq!(alarms[0]["kind"], "panel_silent");
        assert_eq!(alarms[0]["source"], "system");
        assert_eq!(alarms[0]["room"], "Щитовая");
        let id = p["id"].as_str().expect("id");
        let admin = app.login("facility_admin").await;
        let now_p: Value = admin
            .get(app.url(&format!("/api/v1/panels/{id}")))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(now_p["silent"], true);
        // No second alarm for the same silence; speaking again clears it.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(alarms_of(&app, "5111E0").await.len(), 1);
        assert!(tcp(sia, &null(), WAIT).await.is_some());
        let back: Value = admin
            .get(app.url(&format!("/api/v1/panels/{id}")))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(back["silent"], false);
    }
);

sia_test!(slow_clients_do_not_hold_up_others, |app, sia| {
    // Half-open and dribbling connections: a frame begun and never finished, and silence.
    let mut slow = vec![];
    for _ in 0..5 {
        let mut s = tokio::net::TcpStream::connect(sia).await.expect("connect");
        s.write_all(b"\n1234005A\"ADM-CID\"00")
            .await
            .expect("write");
        slow.push(s);
        slow.push(tokio::net::TcpStream::connect(sia).await.expect("connect"));
    }
    let key = demo_key(&app);
    let r = route(31, DEMO_PANEL);
    let m = Message::new(Token::AdmCid, r.clone(), "#D001|1120 01 001").with_timestamp(now());
    let t0 = Instant::now();
    let reply = tcp(
        sia,
        &sealed(m, &key, PadPolicy::FullBlock),
        Duration::from_secs(3),
    )
    .await
    .expect("answered while others dawdle");
    assert_ack(&reply, Some(&key), &r);
    assert!(t0.elapsed() < Duration::from_secs(3));
    // A dribbler still gets nothing (its frame is incomplete), and an oversized one is cut off.
    let mut big = tokio::net::TcpStream::connect(sia).await.expect("connect");
    let junk = vec![b'A'; sia_dc09::MAX_FRAME_LEN + 100];
    let mut with_lf = vec![b'\n'];
    with_lf.extend_from_slice(&junk);
    let _ = big.write_all(&with_lf).await;
    let mut buf = [0u8; 16];
    let closed = tokio::time::timeout(Duration::from_secs(5), big.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "an oversized frame closes the connection"
    );
    drop(slow);
});

fn python() -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv-test/bin/python");
    p.exists().then_some(p)
}

sia_test!(third_party_python_senders_interoperate, |app, sia| {
    let Some(py) = python() else {
        eprintln!("skipped: .venv-test/bin/python is absent (run scripts/install-test-tools.sh)");
        return;
    };
    let probe = std::process::Command::new(&py)
        .args(["-c", "import my_dc09_spt, siadc09"])
        .output()
        .expect("run python");
    if !probe.status.success() {
        eprintln!(
            "skipped: my-dc09-spt or siadc09 is not installed in .venv-test (pip install -r scripts/requirements-test.txt)"
        );
        return;
    }
    let key = std::fs::read_to_string(app.data_dir.join("demo-panel-key.txt")).expect("key");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dc09_sender.py");
    let out = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new(&py)
            .arg(&script)
            .args([
                sia.ip().to_string(),
                sia.port().to_string(),
                DEMO_PANEL.to_owned(),
                key.trim().to_owned(),
                "AB12C".to_owned(),
            ])
            .output(),
    )
    .await
    .expect("the senders finish")
    .expect("run the senders");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).expect("json");
    assert_eq!(v["spt_tcp_panic"], "ACK", "{v}");
    assert_eq!(v["spt_udp_holdup"], "ACK", "{v}");
    assert_eq!(v["spt_poll"], "ACK", "{v}");
    assert_eq!(v["spt_retransmit"], json!(["ACK", "ACK"]), "{v}");
    assert_eq!(v["spt_clear_test"], "ACK", "{v}");
    assert_eq!(v["siadc09_lowercase"], true, "{v}");
    assert_eq!(v["siadc09_event"], json!(["ACK", 42, true]), "{v}");
    assert_eq!(v["siadc09_null"], json!(["AckMessage", true]), "{v}");
    // Panic 120 (TCP), hold-up HA (UDP), duress 121 (sent twice), silent panic 122.
    let alarms = alarms_of(&app, DEMO_PANEL).await;
    let mut kinds: Vec<&str> = alarms.iter().filter_map(|a| a["kind"].as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["duress", "duress", "panic", "panic"], "{alarms:?}");
    assert!(
        alarms
            .iter()
            .any(|a| a["silent"] == true && a["kind"] == "panic")
    );
    assert!(
        alarms
            .iter()
            .any(|a| a["lat"] == 43.2389 && a["lon"] == 76.8897)
    );
    // The clear sender's account waits to be placed.
    assert!(panel_by_account(&app, "AB12C", true).await.is_some());
});

/// Kills the server when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_the_demo_panel_key_from_the_environment_and_serves_panels() {
    use std::io::BufRead;
    const BIN: &str = env!("CARGO_BIN_EXE_qorgau");
    let tmp = tempfile::tempdir().expect("tmp");
    let run = |args: &[&str], key: Option<&str>| {
        let mut c = std::process::Command::new(BIN);
        c.args(args)
            .env("QORGAU_DATA_DIR", tmp.path())
            .env("QORGAU_DEMO_PASSWORD", "sia-demo-password")
            .env_remove("QORGAU_DATABASE_URL")
            .env_remove("QORGAU_SIA_LISTEN");
        match key {
            Some(k) => c.env("QORGAU_DEMO_PANEL_KEY", k),
            None => c.env_remove("QORGAU_DEMO_PANEL_KEY"),
        };
        c
    };
    let want = "00112233445566778899AABBCCDDEEFF";
    let out = run(&["demo"], Some(&want.to_ascii_lowercase()))
        .output()
        .expect("demo");
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("demo alarm panel D001: AES-128 key {want}")),
        "{said}"
    );
    let file = std::fs::read_to_string(tmp.path().join("demo-panel-key.txt")).expect("key file");
    assert_eq!(file.trim(), want);
    // Without the variable, the stored key stays (a malformed one is ignored with a warning).
    for key in [None, Some("not-a-key")] {
        let out = run(&["demo"], key).output().expect("demo");
        assert!(String::from_utf8_lossy(&out.stdout).contains(want));
    }
    // `serve --sia-listen 127.0.0.1:0` prints where the receiver is, and panels are served there.
    let mut child = Child(
        run(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--sia-listen",
                "127.0.0.1:0",
            ],
            None,
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(a) = line.strip_prefix("qorgau SIA receiver on tcp+udp ") {
                let _ = tx.send(a.to_owned());
            }
        }
    });
    let addr: SocketAddr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the receiver's address")
        .parse()
        .expect("addr");
    let key = Key::from_hex(want).expect("key");
    let r = route(0, DEMO_PANEL);
    let null = Message::new(Token::Null, r.clone(), "").with_timestamp(now());
    let reply = tcp(addr, &sealed(null, &key, PadPolicy::FullBlock), WAIT)
        .await
        .expect("reply");
    assert_ack(&reply, Some(&key), &r);
    let reply = udp(
        addr,
        &sealed(
            Message::new(Token::Null, r.clone(), "").with_timestamp(now()),
            &key,
            PadPolicy::Minimal,
        ),
        WAIT,
    )
    .await
    .expect("udp reply");
    assert_ack(&reply, Some(&key), &r);
    drop(child);
}

sia_test!(keys_in_ascii_form_and_longer_keys_work, |app, sia| {
    // 16 ASCII characters whose bytes are the key, as some receivers take it.
    let p = register(
        &app,
        json!({"account": "A5C11", "key": "Qorgau-Panel-K3y", "key_format": "ascii"}),
    )
    .await;
    assert_eq!(
        (p["key_format"].as_str(), p["key_bits"].as_i64()),
        (Some("ascii"), Some(128))
    );
    let key = Key::from_ascii("Qorgau-Panel-K3y").expect("key");
    let r = route(1, "A5C11");
    let m = Message::new(Token::AdmCid, r.clone(), "#A5C11|1120 01 001").with_timestamp(now());
    let reply = tcp(sia, &sealed(m, &key, PadPolicy::FullBlock), WAIT)
        .await
        .expect("reply");
    assert_ack(&reply, Some(&key), &r);
    // AES-256 written as 64 hex digits, set later with PUT.
    let hex256 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let id = p["id"].as_str().expect("id");
    let r2 = app
        .login("facility_admin")
        .await
        .put(app.url(&format!("/api/v1/panels/{id}")))
        .json(&json!({"account": "A5C11", "key": hex256}))
        .send()
        .await
        .expect("put");
    assert_eq!(r2.status(), 200);
    let p2: Value = r2.json().await.expect("json");
    assert_eq!(p2["key_bits"], 256);
    assert_eq!(
        p2["facility_id"], p["facility_id"],
        "an omitted facility stays"
    );
    let key = Key::from_hex(hex256).expect("key");
    let r = route(2, "A5C11");
    let m = Message::new(Token::AdmCid, r.clone(), "#A5C11|1120 01 002").with_timestamp(now());
    let reply = tcp(sia, &sealed(m, &key, PadPolicy::Minimal), WAIT)
        .await
        .expect("reply");
    assert_ack(&reply, Some(&key), &r);
    assert_eq!(alarms_of(&app, "A5C11").await.len(), 2);
    // Bad input is refused field by field.
    let bad = app
        .login("facility_admin")
        .await
        .post(app.url("/api/v1/panels"))
        .json(
            &json!({"account": "XYZ", "key": "short", "supervision_secs": -1,
            "facility_id": app.demo_facility().await}),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.expect("json");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["account", "key", "supervision_secs"]);
    // The same account twice is a conflict.
    let dup = app
        .login("facility_admin")
        .await
        .post(app.url("/api/v1/panels"))
        .json(&json!({"account": "a5c11", "facility_id": app.demo_facility().await}))
        .send()
        .await
        .expect("post");
    assert_eq!(dup.status(), 409);
});

sia_test!(the_panels_page_lists_and_places_panels, |app, sia| {
    let r = route(0, "F00D");
    let reply = tcp(sia, &clear(Message::new(Token::Null, r.clone(), "")), WAIT)
        .await
        .expect("reply");
    assert_ack(&reply, None, &r);
    let fa = app.login("facility_admin").await;
    let html = fa
        .get(app.url("/admin/panels"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("<code>F00D</code>") && html.contains("<code>D001</code>"));
    let id = panel_by_account(&app, "F00D", true)
        .await
        .expect("unassigned")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let facility = app.demo_facility().await;
    let r = fa
        .post(app.url(&format!("/admin/panels/{id}/assign")))
        .form(&[
            ("facility_id", facility.as_str()),
            ("room", "Пост 2"),
            ("floor", "1"),
        ])
        .send()
        .await
        .expect("assign");
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    assert!(panel_by_account(&app, "F00D", true).await.is_none());
    let placed = panel_by_account(&app, "F00D", false).await.expect("placed");
    assert_eq!(placed["room"], "Пост 2");
    // Without a facility the form comes back with the error.
    let r = fa
        .post(app.url(&format!("/admin/panels/{id}/assign")))
        .form(&[("facility_id", ""), ("room", "")])
        .send()
        .await
        .expect("assign");
    assert_eq!(r.status(), 422);
    let worker = app.login("worker").await;
    assert_eq!(
        worker
            .get(app.url("/admin/panels"))
            .send()
            .await
            .expect("page")
            .status(),
        403
    );
});

sia_test!(panel_keys_are_sealed_at_rest, |app, sia| {
    use qorgau::platform::db::Arg;
    let key = demo_key(&app);
    let hex = std::fs::read_to_string(app.data_dir.join("demo-panel-key.txt")).expect("key file");
    let hex = hex.trim().to_owned();
    let stored = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            db.fetch_one(
                "SELECT key_text FROM panels WHERE account = $1",
                vec![Arg::from(DEMO_PANEL)],
            )
            .await
            .expect("panel row")
            .get::<String>("key_text")
            .expect("key_text")
        }
    };
    let at_rest = stored(&app).await;
    assert!(at_rest.starts_with("sealed:"), "{at_rest}");
    assert!(
        !at_rest
            .to_ascii_uppercase()
            .contains(&hex.to_ascii_uppercase())
    );

    // A key an earlier version stored in clear is sealed at the next start, and still works.
    app.db
        .execute(
            "UPDATE panels SET key_text = $1 WHERE account = $2",
            vec![Arg::from(hex.as_str()), Arg::from(DEMO_PANEL)],
        )
        .await
        .expect("store in clear");
    let n = qorgau::alarms::panels::seal_clear_keys(&app.db, &app.state.sealer)
        .await
        .expect("seal");
    assert_eq!(n, 1);
    let resealed = stored(&app).await;
    assert!(resealed.starts_with("sealed:") && !resealed.contains(&hex));
    let r = route(7, DEMO_PANEL);
    let m = Message::new(Token::AdmCid, r.clone(), "#D001|1120 01 015").with_timestamp(now());
    let reply = tcp(sia, &sealed(m, &key, PadPolicy::FullBlock), WAIT)
        .await
        .expect("a reply");
    assert_ack(&reply, Some(&key), &r);
});
