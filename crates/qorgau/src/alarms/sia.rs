//! The SIA DC-09 receiver: alarm panels (Ajax, DSC, Hikvision, Honeywell ...) report here over
//! TCP and UDP on one address (`--sia-listen`). This is the I/O adapter around the pure
//! `sia-dc09` crate; what a message means for an alarm is decided here, what it says there.
//!
//! Every frame gets the reply the standard sets, and an ACK only after the event is durable:
//!
//! | what arrived | reply |
//! |---|---|
//! | bad CRC or length, no frame at all, or a reply token (`ACK` ...) | none (counted in `qorgau_sia_dropped_total`) |
//! | damaged header, ciphertext that is not hex blocks, a key that does not decrypt it, an encrypted timestamp outside +20/-40 s | the fixed `NAK` with the receiver's time |
//! | unknown token, content that cannot be read, encrypted from an account without a key, clear from an account with a key, no account | `DUH` (the last three also a security event: warning, counter, audit entry) |
//! | anything else, once stored | `ACK` echoing sequence, receiver, line and account, encrypted when the message was |
//!
//! **What is stored.** Every event message (`SIA-DCS`, `ADM-CID`) is a row in `panel_events`
//! (what it said, its category, the alarm it raised); panic and duress events (see
//! [`sia_dc09::Decoded::is_alarm_panic`]) from a placed panel also raise an alarm, in the same
//! transaction. Other events (burglary, fire, trouble, tests, restores) are acknowledged and kept
//! there only, with a debug log and the `qorgau_sia_events_total` counter by category: the
//! console is for people in danger, not for every low battery. Supervision messages (`NULL`,
//! `XNM`) only move the panel's "last seen".
//!
//! **Retransmissions.** A panel that got no ACK sends the same event again, re-encrypted with a
//! new pad and time. A message is the same event when account, sequence number, token, data and
//! extended data match (the fingerprint leaves out pad and timestamp) and it arrives within
//! [`RETRANSMIT_WINDOW_SECS`] of the first copy: it is acknowledged and makes nothing new. The
//! window runs from the first copy's arrival rather than from a rounded time bucket, so two
//! copies a second apart never fall on either side of a bucket edge. A restarted panel that
//! reuses a sequence number for a new event differs in content, so it is a new alarm; one that
//! sends the very same content (the same button, the same zone) more than ten minutes later is
//! also a new alarm. A panel that keeps retrying for longer than that without any reply of ours
//! arriving would make a second alarm, the lesser fault next to merging a real second press.
//!
//! **Unknown accounts.** A clear message from an account nobody registered is acknowledged and
//! stored under an unassigned panel (at most [`MAX_UNASSIGNED`] of them, so a flood of invented
//! accounts cannot fill the registry); its events wait in the unassigned list for an
//! administrator to place it. A panic from it is logged as a warning; it cannot reach a console
//! before someone says where the panel is.
//!
//! **Slow and half-open clients.** Each TCP connection is its own task, at most
//! [`MAX_CONNECTIONS`] at once (more are closed at once). A frame must be complete within
//! [`FRAME_TIMEOUT`] of its first byte and no frame may exceed the largest one the length field
//! allows; an idle connection is closed after [`IDLE_TIMEOUT`]; a reply that cannot be written
//! within [`WRITE_TIMEOUT`] closes the connection. UDP datagrams are handled concurrently, at
//! most [`UDP_IN_FLIGHT`] at once (a panel retransmits what we drop).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sia_dc09::{Decoded, Error as DcError, Field, Frame, Header, Key, Message, Next, Route};
use sia_dc09::{Seal, Timestamp, reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

use crate::alarms::model::{Kind, Source};
use crate::alarms::panels::{self, NewEvent, Panel};
use crate::alarms::service;
use crate::alarms::store::NewAlarm;
use crate::platform::audit::{self, Actor, Event};
use crate::platform::error::AppResult;
use crate::platform::state::AppState;
use crate::platform::time::Ts;

/// TCP connections served at once; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 1024;
/// From the first byte of a frame to its `<CR>`.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Between frames on a connection the panel keeps open.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// For writing one reply.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// UDP datagrams handled at once; more are dropped (the panel retransmits).
pub const UDP_IN_FLIGHT: usize = 256;
/// A copy of a message arriving this long after the first is a retransmission.
pub const RETRANSMIT_WINDOW_SECS: i64 = 600;
/// Unassigned panels kept at most; clear messages from further unknown accounts get DUH.
pub const MAX_UNASSIGNED: i64 = 1000;
/// Security events written to the audit log per minute at most (all accounts together); the
/// warning and the counter see every one.
const AUDITED_PER_MINUTE: u32 = 30;

/// Binds TCP and UDP on one address and starts serving; returns the bound address (with port 0,
/// one free for both).
pub fn start(st: &AppState, addr: SocketAddr) -> io::Result<SocketAddr> {
    let (tcp, udp) = bind(addr)?;
    let bound = tcp.local_addr()?;
    let tcp = TcpListener::from_std(tcp)?;
    let udp = UdpSocket::from_std(udp)?;
    let rx = Arc::new(Receiver::new(st.clone()));
    tokio::spawn(accept_loop(rx.clone(), tcp));
    tokio::spawn(udp_loop(rx, udp));
    Ok(bound)
}

/// TCP first, then UDP on the port TCP got; with port 0, try again if that UDP port is taken.
fn bind(addr: SocketAddr) -> io::Result<(std::net::TcpListener, std::net::UdpSocket)> {
    let tries = if addr.port() == 0 { 20 } else { 1 };
    let mut last = io::Error::other("no free port for both TCP and UDP");
    for _ in 0..tries {
        let tcp = std::net::TcpListener::bind(addr)?;
        match std::net::UdpSocket::bind(tcp.local_addr()?) {
            Ok(udp) => {
                tcp.set_nonblocking(true)?;
                udp.set_nonblocking(true)?;
                return Ok((tcp, udp));
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn accept_loop(rx: Arc<Receiver>, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "SIA accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            dropped("tcp", "connection_cap");
            drop(stream);
            continue;
        };
        let rx = rx.clone();
        tokio::spawn(async move {
            rx.connection(stream, peer).await;
            drop(permit);
        });
    }
}

async fn udp_loop(rx: Arc<Receiver>, sock: UdpSocket) {
    let sock = Arc::new(sock);
    let slots = Arc::new(Semaphore::new(UDP_IN_FLIGHT));
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                // An ICMP error for an earlier reply can surface here; the socket is still fine.
                tracing::debug!(error = %e, "SIA UDP receive");
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            dropped("udp", "busy");
            continue;
        };
        let datagram = buf.get(..n).unwrap_or_default().to_vec();
        let (rx, sock) = (rx.clone(), sock.clone());
        tokio::spawn(async move {
            let remote = peer.to_string();
            let mut rest: &[u8] = &datagram;
            while let Next::Frame(r) = sia_dc09::next_frame(rest) {
                let Some(frame) = rest.get(r.clone()) else {
                    break;
                };
                if let Some(answer) = rx.handle(frame, &remote, "udp").await {
                    let _ = sock.send_to(&answer, peer).await;
                }
                rest = rest.get(r.end..).unwrap_or_default();
            }
            drop(permit);
        });
    }
}

fn dropped(transport: &'static str, reason: &'static str) {
    metrics::counter!("qorgau_sia_dropped_total", "transport" => transport, "reason" => reason)
        .increment(1);
}

/// What to answer one frame with.
enum Answer {
    /// No reply at all.
    Silent(&'static str),
    Ack(Vec<u8>),
    Nak(&'static str),
    Duh(Route, &'static str),
}

struct Receiver {
    st: AppState,
    audited: Mutex<Throttle>,
}

/// Which security events were audited lately: one entry per account and reason per minute, and
/// a ceiling for all together, so invented accounts cannot flood the audit log.
#[derive(Default)]
struct Throttle {
    seen: HashMap<(String, &'static str), Instant>,
    window: Option<Instant>,
    in_window: u32,
}

impl Throttle {
    fn allow(&mut self, account: &str, reason: &'static str) -> bool {
        let now = Instant::now();
        let minute = Duration::from_secs(60);
        if self.window.is_none_or(|w| now.duration_since(w) >= minute) {
            self.window = Some(now);
            self.in_window = 0;
            self.seen.retain(|_, t| now.duration_since(*t) < minute);
        }
        if self.in_window >= AUDITED_PER_MINUTE {
            return false;
        }
        let key = (account.to_owned(), reason);
        if self
            .seen
            .get(&key)
            .is_some_and(|t| now.duration_since(*t) < minute)
        {
            return false;
        }
        self.seen.insert(key, now);
        self.in_window += 1;
        true
    }
}

impl Receiver {
    fn new(st: AppState) -> Receiver {
        Receiver {
            st,
            audited: Mutex::new(Throttle::default()),
        }
    }

    /// Reads frames from one TCP connection and answers each, in order.
    async fn connection(&self, mut stream: TcpStream, peer: SocketAddr) {
        let _ = stream.set_nodelay(true);
        let remote = peer.to_string();
        let mut buf: Vec<u8> = Vec::with_capacity(512);
        let mut chunk = [0u8; 4096];
        // When the frame now in the buffer began arriving (None: between frames).
        let mut started: Option<Instant> = None;
        loop {
            while let Next::Frame(r) = sia_dc09::next_frame(&buf) {
                let answer = match buf.get(r.clone()) {
                    Some(frame) => self.handle(frame, &remote, "tcp").await,
                    None => None,
                };
                buf.drain(..r.end.min(buf.len()));
                started = None;
                if let Some(a) = answer {
                    match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&a)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return,
                        Err(_) => {
                            dropped("tcp", "write_timeout");
                            return;
                        }
                    }
                }
            }
            if let Next::Partial { skip } = sia_dc09::next_frame(&buf) {
                buf.drain(..skip.min(buf.len()));
            }
            if buf.len() > sia_dc09::MAX_FRAME_LEN {
                dropped("tcp", "oversize");
                return;
            }
            if buf.is_empty() {
                started = None;
            } else if started.is_none() {
                started = Some(Instant::now());
            }
            let wait = match started {
                Some(t) => FRAME_TIMEOUT.saturating_sub(t.elapsed()),
                None => IDLE_TIMEOUT,
            };
            match tokio::time::timeout(wait, stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(_) => {
                    if started.is_some() {
                        dropped("tcp", "frame_timeout");
                    }
                    return;
                }
            }
        }
    }

    /// The reply to one frame (`<LF>` to `<CR>`), or `None` for no reply.
    async fn handle(&self, bytes: &[u8], remote: &str, transport: &'static str) -> Option<Vec<u8>> {
        let t0 = Instant::now();
        let now = Timestamp::from_unix(jiff::Timestamp::now().as_second())?;
        let (kind, reason, out) = match self.answer(bytes, remote, now).await {
            Answer::Silent(reason) => {
                dropped(transport, reason);
                return None;
            }
            Answer::Ack(b) => ("ack", "ok", Some(b)),
            Answer::Nak(reason) => ("nak", reason, Some(reply::nak(now))),
            Answer::Duh(route, reason) => ("duh", reason, reply::duh(&route).ok()),
        };
        metrics::counter!("qorgau_sia_replies_total", "transport" => transport, "reply" => kind, "reason" => reason)
            .increment(1);
        metrics::histogram!("qorgau_sia_reply_seconds", "reply" => kind)
            .record(t0.elapsed().as_secs_f64());
        if kind != "ack" {
            tracing::debug!(remote, reply = kind, reason, "SIA DC-09 frame refused");
        }
        out
    }

    async fn answer(&self, bytes: &[u8], remote: &str, now: Timestamp) -> Answer {
        let frame = match Frame::parse(bytes) {
            Ok(f) => f,
            Err(DcError::CrcMismatch { .. }) => return Answer::Silent("crc"),
            Err(DcError::LengthMismatch { .. }) => return Answer::Silent("length"),
            Err(DcError::Framing(_)) => return Answer::Silent("framing"),
            Err(DcError::UnknownToken { route, .. }) => {
                return Answer::Duh(*route, "unknown_token");
            }
            Err(DcError::BadField {
                field: Field::Ciphertext,
                ..
            }) => return Answer::Nak("ciphertext"),
            Err(_) => return Answer::Nak("header"),
        };
        let header = frame.header.clone();
        if header.token.is_reply() {
            // A panel does not send replies; answering one could start a loop.
            return Answer::Silent("reply_token");
        }
        let Some(account) = header.route.account.as_deref().map(str::to_ascii_uppercase) else {
            return Answer::Duh(header.route, "no_account");
        };
        let panel = match panels::by_account(&self.st.db, &account).await {
            Ok(p) => p,
            Err(e) => {
                // No reply: the panel retries, and by then the database may be back.
                tracing::error!(error = %e, "SIA: reading the panel registry");
                return Answer::Silent("database");
            }
        };
        let key = panel.as_ref().and_then(|p| p.key(&self.st.sealer));
        match (frame.is_encrypted(), &key) {
            (true, None) => {
                self.security(&account, remote, "encrypted_without_key")
                    .await;
                return Answer::Duh(header.route, "encrypted_without_key");
            }
            (false, Some(_)) => {
                self.security(&account, remote, "clear_from_keyed_account")
                    .await;
                return Answer::Duh(header.route, "clear_from_keyed_account");
            }
            _ => {}
        }
        let msg = match frame.open(key.as_ref()) {
            Ok(m) => m,
            Err(DcError::Decrypt | DcError::MissingKey) => {
                self.security(&account, remote, "decrypt").await;
                return Answer::Nak("decrypt");
            }
            Err(_) => return Answer::Duh(header.route, "content"),
        };
        if msg.header.encrypted
            && !msg
                .timestamp
                .is_some_and(|t| t.is_within_window(now.to_unix()))
        {
            return Answer::Nak("window");
        }
        let decoded = match msg.decode() {
            Ok(d) => d,
            Err(_) => return Answer::Duh(header.route, "undecodable"),
        };
        if panel.is_none() {
            match panels::unassigned_count(&self.st.db).await {
                Ok(n) if n >= MAX_UNASSIGNED => {
                    tracing::warn!(
                        account,
                        remote,
                        "SIA: too many unassigned panels; refusing another"
                    );
                    return Answer::Duh(header.route, "unassigned_full");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "SIA: counting unassigned panels");
                    return Answer::Silent("database");
                }
            }
        }
        let stored = match &decoded {
            Decoded::Supervision => self.supervision(panel, &account, remote).await,
            Decoded::ContactId(_) | Decoded::SiaDcs(_) => {
                self.event(panel, &account, &msg, &decoded, remote).await
            }
            _ => return Answer::Duh(header.route, "unexpected_token"),
        };
        if let Err(e) = stored {
            // No ACK before the event is durable; the panel will send it again.
            tracing::error!(error = %e, account, "SIA: storing a panel message");
            return Answer::Silent("storage");
        }
        ack(&msg.header, now, key.as_ref())
    }

    /// A supervision message: the panel is alive.
    async fn supervision(
        &self,
        known: Option<Panel>,
        account: &str,
        remote: &str,
    ) -> AppResult<()> {
        let (account, remote) = (account.to_owned(), remote.to_owned());
        self.st
            .batch
            .write(move |tx| {
                Box::pin(async move {
                    let panel = match known {
                        Some(p) => p,
                        None => panels::ensure_unassigned(tx, &account).await?,
                    };
                    panels::touch(tx, &panel, Ts::now(), &remote).await?;
                    Ok(())
                })
            })
            .await?;
        metrics::counter!("qorgau_sia_events_total", "category" => "supervision").increment(1);
        Ok(())
    }

    /// An event message: stored once, and an alarm when it is a panic or duress from a placed
    /// panel, all in one transaction (shared with other panels' events: platform/batch.rs).
    async fn event(
        &self,
        known: Option<Panel>,
        account: &str,
        msg: &Message,
        decoded: &Decoded,
        remote: &str,
    ) -> AppResult<()> {
        let fp = fingerprint(account, msg);
        let what = describe(msg, decoded);
        let category = what.category.clone();
        let now = Ts::now();
        let seq = msg.header.route.seq;
        let token = msg.header.token.as_str();
        let encrypted = msg.header.encrypted;
        let data = msg.data.clone();
        let (lat, lon) = position(msg);
        let sent_at = msg
            .timestamp
            .map(|t| Ts::from_micros(t.to_unix().saturating_mul(1_000_000)));
        let extended = serde_json::Value::Array(
            msg.extended
                .iter()
                .map(|x| serde_json::json!([x.id.to_string(), x.value]))
                .collect(),
        );
        let (account, remote) = (account.to_owned(), remote.to_owned());
        let raised = self
            .st
            .batch
            .write(move |tx| {
                Box::pin(async move {
                    let panel = match known {
                        Some(p) => p,
                        None => panels::ensure_unassigned(tx, &account).await?,
                    };
                    panels::touch(tx, &panel, now, &remote).await?;
                    let since = now.add_secs(-RETRANSMIT_WINDOW_SECS);
                    if let Some(first) = panels::recent_event(tx, panel.id, &fp, since).await? {
                        tracing::debug!(account, seq, key = %first.dedupe_key, alarm = ?first.alarm_id, "SIA retransmission");
                        return Ok(Err(()));
                    }
                    let dedupe_key = format!(
                        "sia:{account}:{seq:04}:{}:{}",
                        fp.get(..16).unwrap_or(&fp),
                        now.micros()
                    );
                    let mut raised = None;
                    if what.panic {
                        match panel.facility_id {
                            Some(facility_id) => {
                                let new = NewAlarm {
                                    facility_id,
                                    department_id: panel.department_id,
                                    source: Source::Panel,
                                    source_ref: match &what.zone {
                                        Some(z) => format!("{account} zone {z}"),
                                        None => account.clone(),
                                    },
                                    dedupe_key: dedupe_key.clone(),
                                    kind: what.kind,
                                    room: panel.room.clone(),
                                    floor: panel.floor.clone(),
                                    lat,
                                    lon,
                                    silent: what.silent,
                                    pressed_by: None,
                                    // The panel's clock, unless it is far off (a buffered event
                                    // may be old).
                                    pressed_at: sent_at
                                        .filter(|t| {
                                            *t <= now.add_secs(60) && *t >= now.add_secs(-86_400)
                                        })
                                        .unwrap_or(now),
                                };
                                let actor = Actor {
                                    id: None,
                                    label: format!("panel {account}"),
                                };
                                raised = Some(service::raise_in(tx, &new, &actor).await?);
                            }
                            None => {
                                tracing::warn!(account, remote, summary = %what.summary, "SIA: panic from an unassigned panel; place it to receive its alarms");
                                metrics::counter!("qorgau_sia_unassigned_panic_total").increment(1);
                            }
                        }
                    }
                    panels::insert_event(
                        tx,
                        &NewEvent {
                            panel_id: panel.id,
                            dedupe_key: &dedupe_key,
                            fingerprint: &fp,
                            seq,
                            token,
                            encrypted,
                            data: &data,
                            extended: &extended,
                            summary: &what.summary,
                            category: &what.category,
                            panic: what.panic,
                            alarm_id: raised.as_ref().map(|(a, _)| a.id),
                            sent_at,
                            received_at: now,
                            remote: &remote,
                        },
                    )
                    .await?;
                    Ok(Ok(raised))
                })
            })
            .await?;
        match raised {
            Err(()) => {
                metrics::counter!("qorgau_sia_events_total", "category" => "retransmission")
                    .increment(1);
            }
            Ok(raised) => {
                if let Some((alarm, true)) = &raised {
                    service::announce(&self.st, alarm).await;
                }
                metrics::counter!("qorgau_sia_events_total", "category" => category).increment(1);
                tracing::debug!("SIA event stored");
            }
        }
        Ok(())
    }

    /// Logs and counts a message refused for a security reason, and audits it (throttled).
    async fn security(&self, account: &str, remote: &str, reason: &'static str) {
        metrics::counter!("qorgau_sia_security_events_total", "reason" => reason).increment(1);
        tracing::warn!(account, remote, reason, "SIA DC-09 security event");
        let allowed = self
            .audited
            .lock()
            .map(|mut t| t.allow(account, reason))
            .unwrap_or(false);
        if !allowed {
            return;
        }
        let actor = Actor {
            id: None,
            label: format!("panel {account}"),
        };
        let event = Event::new("panel.security", "panel", account)
            .detail(serde_json::json!({"reason": reason, "remote": remote}));
        let written = async {
            let mut tx = self.st.db.begin().await?;
            audit::append(&mut tx, &actor, event).await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "SIA: auditing a security event");
        }
    }
}

/// The ACK, encrypted with the panel's key when the message was encrypted.
fn ack(header: &Header, now: Timestamp, key: Option<&Key>) -> Answer {
    use rand::RngCore;
    let mut rng = rand::rng();
    let mut fill = |b: &mut [u8]| rng.fill_bytes(b);
    match reply::ack(header, now, key.map(|k| Seal::new(k, &mut fill))) {
        Ok(b) => Answer::Ack(b),
        Err(e) => {
            tracing::error!(error = %e, "SIA: building an ACK");
            Answer::Silent("encode")
        }
    }
}

/// What identifies one event across retransmissions: everything but pad and timestamp.
fn fingerprint(account: &str, msg: &Message) -> String {
    let mut h = Sha256::new();
    for part in [
        account.as_bytes(),
        format!("{:04}", msg.header.route.seq).as_bytes(),
        msg.header.token.as_str().as_bytes(),
        msg.data.as_bytes(),
    ] {
        h.update(part);
        h.update([0]);
    }
    for x in &msg.extended {
        h.update(x.id.to_string().as_bytes());
        h.update(x.value.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// An event in the words the registry and the console use.
struct Described {
    summary: String,
    category: String,
    panic: bool,
    kind: Kind,
    silent: bool,
    zone: Option<String>,
}

fn category_code(c: sia_dc09::Category) -> String {
    format!("{c:?}").to_ascii_lowercase()
}

fn describe(msg: &Message, decoded: &Decoded) -> Described {
    let token = msg.header.token.as_str();
    match decoded {
        Decoded::ContactId(c) => {
            let category = c.category();
            Described {
                summary: format!(
                    "{token} {}{:03} {:02} {:03} {}",
                    c.qualifier.digit(),
                    c.code,
                    c.partition,
                    c.zone,
                    c.info().map_or("unknown code", |i| i.name)
                ),
                category: category_code(category),
                panic: decoded.is_alarm_panic(),
                kind: if category == sia_dc09::Category::Duress {
                    Kind::Duress
                } else {
                    Kind::Panic
                },
                // Contact ID 122: silent panic.
                silent: c.code == 122,
                zone: Some(format!("{:03}", c.zone)),
            }
        }
        Decoded::SiaDcs(s) => {
            let names: Vec<String> = s
                .events
                .iter()
                .map(|e| {
                    format!(
                        "{}{} {}",
                        e.code,
                        e.address.as_deref().unwrap_or(""),
                        e.info().map_or("unknown code", |i| i.name)
                    )
                })
                .collect();
            let first_panic = s.events.iter().find(|e| e.is_alarm_panic());
            let main = first_panic.or(s.events.first());
            let duress = s
                .events
                .iter()
                .any(|e| e.is_alarm_panic() && e.category() == sia_dc09::Category::Duress);
            Described {
                summary: format!("{token} {}", names.join(", ")),
                category: main.map_or("other".into(), |e| category_code(e.category())),
                panic: decoded.is_alarm_panic(),
                kind: if duress { Kind::Duress } else { Kind::Panic },
                silent: false,
                zone: main.and_then(|e| e.address.clone()),
            }
        }
        _ => Described {
            summary: token.to_owned(),
            category: "other".into(),
            panic: false,
            kind: Kind::Panic,
            silent: false,
            zone: None,
        },
    }
}

/// Latitude and longitude from the extended data `[Y...]` and `[X...]`, when both are numbers.
fn position(msg: &Message) -> (Option<f64>, Option<f64>) {
    let num = |id: char, limit: f64| {
        msg.extended
            .iter()
            .find(|x| x.id == id)
            .and_then(|x| x.value.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && v.abs() <= limit)
    };
    match (num('Y', 90.0), num('X', 180.0)) {
        (Some(lat), Some(lon)) => (Some(lat), Some(lon)),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(data: &str) -> Message {
        sia_dc09::parse(
            &Message::new(
                sia_dc09::Token::AdmCid,
                Route {
                    seq: 7,
                    receiver: None,
                    line: None,
                    account: Some("1234".into()),
                },
                data,
            )
            .encode(None)
            .expect("encode"),
            None,
        )
        .expect("parse")
    }

    #[test]
    fn fingerprint_ignores_timestamp_but_not_content() {
        let a = msg("#1234|1120 01 015");
        let b = a
            .clone()
            .with_timestamp(Timestamp::from_unix(1_700_000_000).expect("ts"));
        let c = msg("#1234|1120 01 016");
        assert_eq!(fingerprint("1234", &a), fingerprint("1234", &b));
        assert_ne!(fingerprint("1234", &a), fingerprint("1234", &c));
        let mut d = a.clone();
        d.header.route.seq = 8;
        assert_ne!(fingerprint("1234", &a), fingerprint("1234", &d));
    }

    #[test]
    fn describes_contact_id_panic_and_duress() {
        let m = msg("#1234|1121 01 003");
        let d = describe(&m, &m.decode().expect("decode"));
        assert!(d.panic);
        assert_eq!(d.kind, Kind::Duress);
        assert_eq!(d.category, "duress");
        let m = msg("#1234|1602 00 000");
        let d = describe(&m, &m.decode().expect("decode"));
        assert!(!d.panic);
        assert_eq!(d.category, "test");
    }

    #[test]
    fn throttle_limits_per_account_and_overall() {
        let mut t = Throttle::default();
        assert!(t.allow("1234", "decrypt"));
        assert!(!t.allow("1234", "decrypt"));
        assert!(t.allow("1234", "clear_from_keyed_account"));
        let mut n = 2;
        for i in 0..100 {
            if t.allow(&format!("{i:04}"), "decrypt") {
                n += 1;
            }
        }
        assert_eq!(n, AUDITED_PER_MINUTE);
    }
}
