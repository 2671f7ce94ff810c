//! The MQTT adapter: subscribes to the configured topics on a broker (`--mqtt-url`,
//! `--mqtt-topics`), reads each message with [`mqtt_map`], places it with the device registry
//! ([`devices`]) and raises an alarm for a press.
//!
//! Nothing is lost between a button and the database:
//!
//! - QoS 1 with a persistent session (a fixed client id, clean session off): presses published
//!   while Qorgau is down wait in the broker and arrive when it is back.
//! - Manual acknowledgement: a message is acknowledged to the broker (PUBACK) only after what it
//!   caused is committed, so a crash before that makes the broker deliver it again (with DUP set
//!   after a reconnect); the dedupe keys of [`mqtt_map::keys`] make that copy no second alarm.
//!   Messages are handled one at a time, in order, and acknowledged in the order they came, as
//!   MQTT asks; while the database refuses, the same message is retried with back-off and nothing
//!   after it is acknowledged.
//! - The copy a broker hands over on subscribing (RETAIN set) is an old press: ignored.
//! - Garbage is logged (at most [`LOG_PER_MINUTE`] lines a minute) and counted, never fatal.
//! - A lost connection is retried with back-off from 0.25 s doubling to 30 s.
//!
//! Metrics: `qorgau_mqtt_messages_total{result}` with result `press`, `duplicate`, `retained`,
//! `garbage`, `unknown_device`, `ignored` or `rejected`; `qorgau_mqtt_connected` (0 or 1);
//! `qorgau_mqtt_connection_errors_total`.
//!
//! Several nodes: give each its own `--mqtt-client-id`. Each then receives every message and the
//! dedupe keys make one alarm of it; two nodes sharing one client id would take the session from
//! each other in turn.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, Event as MqttEvent, EventLoop, MqttOptions, Packet, Publish, QoS, SubscribeFilter,
    SubscribeReasonCode,
};
use tokio::sync::{mpsc, watch};

use crate::alarms::devices::{self, Device};
use crate::alarms::model::{Kind, Source};
use crate::alarms::mqtt_map::{self, Identity, Message};
use crate::alarms::service;
use crate::alarms::store::NewAlarm;
use crate::platform::audit::Actor;
use crate::platform::config::Config;
use crate::platform::error::{AppError, AppResult};
use crate::platform::state::AppState;
use crate::platform::time::Ts;

/// Garbage lines logged per minute at most; the rest are only counted.
pub const LOG_PER_MINUTE: u32 = 20;
/// Incoming packets above this size break the connection (the MQTT client cannot skip them):
/// set the broker's `max_packet_size` (Mosquitto) to this or less.
pub const MAX_PACKET: usize = 1024 * 1024;

/// Where the broker is: `mqtt://[user[:password]@]host[:port]` (`tcp://` is the same).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broker {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Reads a broker URL. TLS (`mqtts://`) is not built in: run the broker beside Qorgau or reach it
/// through a TLS tunnel.
pub fn parse_url(url: &str) -> Result<Broker, String> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(|| format!("{url:?}: expected mqtt://[user[:password]@]host[:port]"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (auth, hostport) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{url:?}: unclosed [ in host"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("{url:?}: bad port")),
        };
        (h, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
        return Err(format!("{url:?}: bad host"));
    }
    let port = match port {
        None => 1883,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{url:?}: bad port"))?,
    };
    let (username, password) = match auth {
        None => (None, None),
        Some(a) => match a.split_once(':') {
            Some((u, p)) => (Some(percent_decode(u)?), Some(percent_decode(p)?)),
            None => (Some(percent_decode(a)?), None),
        },
    };
    Ok(Broker {
        host: host.to_owned(),
        port,
        username,
        password,
    })
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("bad percent-encoding in the broker URL")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "broker URL credentials are not UTF-8".to_owned())
}

/// How to reach the broker and what to subscribe to.
#[derive(Clone, Debug)]
pub struct Options {
    pub broker: Broker,
    /// Names the persistent session: keep it the same across restarts.
    pub client_id: String,
    pub topics: Vec<String>,
    /// Acknowledge messages. Only a test turns this off, to act out a crash between storing a
    /// press and acknowledging it.
    #[doc(hidden)]
    pub ack: bool,
}

impl Options {
    pub fn new(url: &str, client_id: &str, topics: &[String]) -> Result<Options, String> {
        let broker = parse_url(url)?;
        if client_id.is_empty()
            || client_id.chars().count() > 128
            || client_id.chars().any(|c| c.is_control())
        {
            return Err(format!("bad MQTT client id {client_id:?}"));
        }
        let topics: Vec<String> = topics
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if topics.is_empty() {
            return Err("no MQTT topics to subscribe to".into());
        }
        if let Some(bad) = topics.iter().find(|t| !valid_filter(t)) {
            return Err(format!("bad MQTT topic filter {bad:?}"));
        }
        Ok(Options {
            broker,
            client_id: client_id.to_owned(),
            topics,
            ack: true,
        })
    }

    /// `None` when no broker is configured.
    pub fn from_config(cfg: &Config) -> Result<Option<Options>, String> {
        match cfg.mqtt_url.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(url) => Options::new(url, &cfg.mqtt_client_id, &cfg.mqtt_topics).map(Some),
        }
    }
}

/// An MQTT topic filter: `+` and `#` only as whole levels, `#` only last.
pub fn valid_filter(f: &str) -> bool {
    if f.is_empty() || f.len() > 1024 || f.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = f.split('/').collect();
    levels.iter().enumerate().all(|(i, l)| {
        (*l == "#" && i == levels.len() - 1) || *l == "+" || (!l.contains('+') && !l.contains('#'))
    })
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ignored,
    Retained,
    Garbage,
    UnknownDevice,
    /// A press already stored (a redelivery, a repeated update, the same press on another node).
    Duplicate,
    /// Could not be stored for a reason retrying will not cure (logged).
    Rejected,
    Press,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Ignored => "ignored",
            Outcome::Retained => "retained",
            Outcome::Garbage => "garbage",
            Outcome::UnknownDevice => "unknown_device",
            Outcome::Duplicate => "duplicate",
            Outcome::Rejected => "rejected",
            Outcome::Press => "press",
        }
    }
}

/// Counts for one client, beside the process-wide metrics.
#[derive(Debug, Default)]
pub struct Stats {
    pub received: AtomicU64,
    pub presses: AtomicU64,
    pub duplicates: AtomicU64,
    pub retained: AtomicU64,
    pub garbage: AtomicU64,
    pub unknown: AtomicU64,
    pub ignored: AtomicU64,
    pub rejected: AtomicU64,
    /// Redelivered messages (DUP set) received.
    pub redelivered: AtomicU64,
    /// Messages whose handling finished (acknowledged, unless acknowledging is off).
    pub handled: AtomicU64,
}

impl Stats {
    fn count(&self, o: Outcome) {
        let c = match o {
            Outcome::Ignored => &self.ignored,
            Outcome::Retained => &self.retained,
            Outcome::Garbage => &self.garbage,
            Outcome::UnknownDevice => &self.unknown,
            Outcome::Duplicate => &self.duplicates,
            Outcome::Rejected => &self.rejected,
            Outcome::Press => &self.presses,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Connecting,
    Connected,
    /// The broker accepted every subscription.
    Subscribed,
}

/// A running client. Dropping the handle leaves it running; [`Handle::stop`] ends it as a crash
/// would (no DISCONNECT, so the broker keeps the session and queues for it).
pub struct Handle {
    tasks: Vec<tokio::task::AbortHandle>,
    status: watch::Receiver<Status>,
    stats: Arc<Stats>,
}

impl Handle {
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    pub fn status(&self) -> Status {
        *self.status.borrow()
    }
    /// Waits until the broker accepted the subscriptions; false if it did not within `limit`.
    pub async fn subscribed(&self, limit: Duration) -> bool {
        let mut rx = self.status.clone();
        tokio::time::timeout(limit, rx.wait_for(|s| *s == Status::Subscribed))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Starts the client the configuration asks for, if any.
pub fn start(st: &AppState) -> Result<Option<Handle>, String> {
    let Some(opts) = Options::from_config(&st.cfg)? else {
        return Ok(None);
    };
    tracing::info!(
        host = %opts.broker.host, port = opts.broker.port, client_id = %opts.client_id,
        topics = ?opts.topics, "MQTT buttons: subscribing"
    );
    Ok(Some(spawn(st.clone(), opts)))
}

/// Starts a client: one task polls the connection, one handles messages in order.
pub fn spawn(st: AppState, opts: Options) -> Handle {
    let mut mo = MqttOptions::new(&opts.client_id, &opts.broker.host, opts.broker.port);
    mo.set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(MAX_PACKET, 64 * 1024);
    if let Some(u) = &opts.broker.username {
        mo.set_credentials(u, opts.broker.password.clone().unwrap_or_default());
    }
    let (client, eventloop) = AsyncClient::new(mo, 256);
    let (tx, rx) = mpsc::channel::<Publish>(256);
    let (status_tx, status_rx) = watch::channel(Status::Connecting);
    let stats = Arc::new(Stats::default());
    let worker = tokio::spawn(work(st, client.clone(), rx, Arc::clone(&stats), opts.ack));
    let poller = tokio::spawn(poll(eventloop, client, opts.topics, tx, status_tx));
    Handle {
        tasks: vec![worker.abort_handle(), poller.abort_handle()],
        status: status_rx,
        stats,
    }
}

async fn poll(
    mut el: EventLoop,
    client: AsyncClient,
    topics: Vec<String>,
    tx: mpsc::Sender<Publish>,
    status: watch::Sender<Status>,
) {
    const FIRST: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(30);
    let mut backoff = FIRST;
    loop {
        match el.poll().await {
            Ok(MqttEvent::Incoming(Packet::ConnAck(ack))) => {
                backoff = FIRST;
                metrics::gauge!("qorgau_mqtt_connected").set(1.0);
                tracing::info!(
                    session_present = ack.session_present,
                    "connected to the MQTT broker"
                );
                status.send_replace(Status::Connected);
                // Subscribing again to a kept session changes nothing but makes the broker hand
                // over retained copies, which are ignored; a new session needs it.
                let c = client.clone();
                let filters: Vec<SubscribeFilter> = topics
                    .iter()
                    .map(|t| SubscribeFilter::new(t.clone(), QoS::AtLeastOnce))
                    .collect();
                tokio::spawn(async move {
                    if let Err(e) = c.subscribe_many(filters).await {
                        tracing::error!(error = %e, "MQTT subscribe");
                    }
                });
            }
            Ok(MqttEvent::Incoming(Packet::SubAck(ack))) => {
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, SubscribeReasonCode::Failure))
                {
                    tracing::error!(
                        codes = ?ack.return_codes,
                        "the MQTT broker refused a subscription (check its ACL)"
                    );
                } else {
                    status.send_replace(Status::Subscribed);
                }
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                if p.qos == QoS::AtMostOnce {
                    // Not acknowledged, so not held back: dropped when the queue is full.
                    let _ = tx.try_send(p);
                } else if tx.send(p).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                metrics::gauge!("qorgau_mqtt_connected").set(0.0);
                metrics::counter!("qorgau_mqtt_connection_errors_total").increment(1);
                status.send_replace(Status::Connecting);
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "MQTT connection");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX);
            }
        }
    }
}

async fn work(
    st: AppState,
    client: AsyncClient,
    mut rx: mpsc::Receiver<Publish>,
    stats: Arc<Stats>,
    ack: bool,
) {
    let mut log = Limiter::default();
    while let Some(p) = rx.recv().await {
        stats.received.fetch_add(1, Ordering::Relaxed);
        if p.dup {
            stats.redelivered.fetch_add(1, Ordering::Relaxed);
        }
        let outcome = handle_durably(&st, &p.topic, &p.payload, p.retain, p.dup, &mut log).await;
        stats.count(outcome);
        metrics::counter!("qorgau_mqtt_messages_total", "result" => outcome.code()).increment(1);
        if ack && let Err(e) = client.ack(&p).await {
            tracing::warn!(error = %e, "MQTT acknowledgement");
        }
        stats.handled.fetch_add(1, Ordering::Relaxed);
    }
}

/// Handles one message, retrying while the database fails: it returns only once the outcome is
/// durable (or cannot be made so), when the message may be acknowledged.
pub async fn handle_durably(
    st: &AppState,
    topic: &str,
    payload: &[u8],
    retain: bool,
    dup: bool,
    log: &mut Limiter,
) -> Outcome {
    let mut wait = Duration::from_millis(100);
    loop {
        match handle(st, topic, payload, retain, dup, log).await {
            Ok(o) => return o,
            Err(AppError::Db(e)) => {
                tracing::warn!(error = %e, topic, retry_in_ms = wait.as_millis() as u64, "storing an MQTT press");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            Err(e) => {
                tracing::error!(error = %e, topic, "an MQTT press could not be stored");
                return Outcome::Rejected;
            }
        }
    }
}

/// Logs garbage at most [`LOG_PER_MINUTE`] times a minute.
#[derive(Debug)]
pub struct Limiter {
    window: Instant,
    logged: u32,
    suppressed: u64,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            window: Instant::now(),
            logged: 0,
            suppressed: 0,
        }
    }
}

impl Limiter {
    fn allow(&mut self) -> bool {
        if self.window.elapsed() >= Duration::from_secs(60) {
            if self.suppressed > 0 {
                tracing::warn!(
                    suppressed = self.suppressed,
                    "MQTT garbage not logged in the last minute"
                );
            }
            self.window = Instant::now();
            self.logged = 0;
            self.suppressed = 0;
        }
        if self.logged < LOG_PER_MINUTE {
            self.logged += 1;
            true
        } else {
            self.suppressed += 1;
            false
        }
    }
}

/// One attempt at one message.
pub async fn handle(
    st: &AppState,
    topic: &str,
    payload: &[u8],
    retain: bool,
    dup: bool,
    log: &mut Limiter,
) -> AppResult<Outcome> {
    if retain {
        return Ok(Outcome::Retained);
    }
    let msg = match mqtt_map::map(topic, payload) {
        Ok(Some(m)) => m,
        Ok(None) => return Ok(Outcome::Ignored),
        Err(g) => {
            if log.allow() {
                let shown: String = String::from_utf8_lossy(&payload[..payload.len().min(200)])
                    .chars()
                    .collect();
                tracing::warn!(topic, reason = %g, code = g.code(), payload = ?shown, "MQTT garbage");
            }
            return Ok(Outcome::Garbage);
        }
    };
    let Some(dev) = devices::find(&st.db, &msg.device).await? else {
        return unknown(st, &msg, topic, payload).await;
    };
    if dev.mapping != msg.mapping {
        tracing::warn!(
            device = %dev.id, registered = dev.mapping.code(), heard = msg.mapping.code(), topic,
            "an MQTT device speaks another mapping than registered"
        );
        return Ok(Outcome::Ignored);
    }
    let received = Ts::now();
    let mut outcome = Outcome::Ignored;
    for ev in &msg.events {
        outcome = outcome.max(event(st, &dev, &msg, ev, received, dup).await?);
    }
    Ok(outcome)
}

async fn unknown(st: &AppState, msg: &Message, topic: &str, payload: &[u8]) -> AppResult<Outcome> {
    for ev in &msg.events {
        if let Identity::Counter(c) = ev.identity {
            devices::note_counter(&st.db, &msg.device, &ev.input, c).await?;
        }
    }
    if msg.events.iter().all(|e| e.name.is_empty()) {
        return Ok(Outcome::Ignored);
    }
    devices::note_unknown(&st.db, msg, topic, payload).await?;
    tracing::info!(device = %msg.device, mapping = msg.mapping.code(), topic, "MQTT event from an unknown device");
    Ok(Outcome::UnknownDevice)
}

/// One event of a registered device, in one transaction: the Shelly counter it moves and the
/// alarm it raises are stored together.
async fn event(
    st: &AppState,
    dev: &Device,
    msg: &Message,
    ev: &mqtt_map::Event,
    received: Ts,
    dup: bool,
) -> AppResult<Outcome> {
    let counter = match ev.identity {
        Identity::Counter(c) => Some(c),
        _ => None,
    };
    let press = mqtt_map::is_press(&dev.press_events, ev);
    if !press && counter.is_none() {
        return Ok(Outcome::Ignored);
    }
    let mut tx = st.db.begin().await?;
    let prev = match counter {
        Some(_) => devices::counter(&mut tx, &dev.id, &ev.input).await?,
        None => None,
    };
    if mqtt_map::repeats_counter(prev, ev) {
        return Ok(if press {
            Outcome::Duplicate
        } else {
            Outcome::Ignored
        });
    }
    if !press {
        if let Some(c) = counter {
            devices::set_counter(&mut tx, &dev.id, &ev.input, c).await?;
            tx.commit().await?;
        }
        return Ok(Outcome::Ignored);
    }
    let keys = mqtt_map::keys(
        msg.mapping,
        &dev.id,
        ev,
        prev,
        received.micros().div_euclid(1_000_000),
        dup,
    );
    if devices::any_alarm_with(&mut tx, &keys.earlier).await? {
        if let Some(c) = counter {
            devices::set_counter(&mut tx, &dev.id, &ev.input, c).await?;
            tx.commit().await?;
        }
        return Ok(Outcome::Duplicate);
    }
    let new = NewAlarm {
        facility_id: dev.facility_id,
        department_id: dev.department_id,
        source: Source::Mqtt,
        source_ref: dev.id.clone(),
        dedupe_key: keys.key,
        kind: Kind::Panic,
        room: dev.room.clone(),
        floor: dev.floor.clone(),
        lat: None,
        lon: None,
        silent: false,
        pressed_by: None,
        pressed_at: Ts::from_micros(mqtt_map::pressed_at(ev, received.micros())),
    };
    let actor = Actor {
        id: None,
        label: format!("mqtt:{}", dev.id),
    };
    let (alarm, created) = service::raise_in(&mut tx, &new, &actor).await?;
    if let Some(c) = counter {
        devices::set_counter(&mut tx, &dev.id, &ev.input, c).await?;
    }
    if created {
        devices::touch_press(&mut tx, &dev.id, received).await?;
    }
    tx.commit().await?;
    if !created {
        return Ok(Outcome::Duplicate);
    }
    service::announce(st, &alarm).await;
    tracing::info!(alarm = %alarm.id, device = %dev.id, event = %ev.name, "MQTT press raised an alarm");
    Ok(Outcome::Press)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1883"),
            Ok(Broker {
                host: "127.0.0.1".into(),
                port: 1883,
                username: None,
                password: None
            })
        );
        assert_eq!(parse_url("tcp://broker.local").map(|b| b.port), Ok(1883));
        let b = parse_url("mqtt://qorgau:p%40ss%3Aword@[::1]:1884/").expect("url");
        assert_eq!((b.host.as_str(), b.port), ("::1", 1884), "IPv6 in brackets");
        assert_eq!(b.username.as_deref(), Some("qorgau"));
        assert_eq!(b.password.as_deref(), Some("p@ss:word"));
        for bad in [
            "mqtts://h",
            "http://h",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:99999",
            "mqtt://h:x",
            "mqtt://u:%zz@h",
            "mqtt://[::1",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn topic_filters_and_options() {
        for ok in [
            "zigbee2mqtt/+",
            "shellies/+/input_event/+",
            "+/events/rpc",
            "#",
            "a/#",
        ] {
            assert!(valid_filter(ok), "{ok}");
        }
        for bad in ["", "a/#/b", "a+/b", "a/b#"] {
            assert!(!valid_filter(bad), "{bad}");
        }
        let t = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(Options::new("mqtt://h", "qorgau", &t(&["a/+", " "])).is_ok());
        assert!(Options::new("mqtt://h", "", &t(&["a/+"])).is_err());
        assert!(Options::new("mqtt://h", "q", &t(&[" "])).is_err());
        assert!(Options::new("mqtt://h", "q", &t(&["a/#/b"])).is_err());
    }

    #[test]
    fn garbage_logging_is_limited() {
        let mut l = Limiter::default();
        let allowed = (0..100).filter(|_| l.allow()).count();
        assert_eq!(allowed, LOG_PER_MINUTE as usize);
        assert_eq!(l.suppressed, 100 - u64::from(LOG_PER_MINUTE));
    }
}
