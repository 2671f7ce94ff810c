//! MQTT messages to button events: pure functions, no I/O. [`map`] is the entry point (and the
//! fuzz target's); [`is_press`] and [`keys`] decide, with what the registry and the database know
//! about a device, whether an event is a press and which stored alarm it would be.
//!
//! # The formats
//!
//! The format is told by the topic's shape first, then by the payload; the topic's prefix does
//! not matter, so a broker shared by several sites can put each under its own prefix.
//!
//! | mapping | topic | payload | device id |
//! |---|---|---|---|
//! | `shelly_gen1` | `.../<id>/input_event/<n>` (`shellies/shellybutton1-A4CF12F45301/input_event/0`) | `{"event":"S","event_cnt":73}`; events `S`, `SS`, `SSS`, `L`, `SL`, `LS`, `""` before the first press | `<id>` |
//! | `shelly_gen2` | `<prefix>/events/rpc` | JSON-RPC `{"src":"shellyplusi4-a8032ab12345","method":"NotifyEvent","params":{"ts":1700000000.5,"events":[{"component":"input:0","id":0,"event":"single_push","ts":1700000000.49}]}}`; other methods (`NotifyStatus`, `NotifyFullStatus`) are not events | `src`, else `<prefix>` |
//! | `zigbee2mqtt` | `<base>/<friendly name>` (`zigbee2mqtt/sos-er-1`) | the device's state, with `action` when a button was used: `{"action":"emergency","battery":100,"linkquality":87}`; a state without `action` (or with `""`/`null`) is not an event | the last topic segment, so friendly names must not contain `/` |
//! | `generic` | any (`qorgau/buttons/<device>` by default) | `{"device":"er-desk-2","event":"press","id":"<unique per press>","ts":"2025-03-01T08:00:00Z"}`; `device` defaults to the last topic segment, `id` and `ts` are optional | `device` |
//!
//! An empty payload (how a retained message is cleared) is nothing; anything else that is not one
//! of the above is [`Garbage`].
//!
//! # Which stored alarm a press is
//!
//! A press is stored once under a key built from the device and the press's own identity:
//!
//! - Shelly Gen1 counts events (`event_cnt`) and republishes the last one with every periodic
//!   update (30 s by default), and the counter restarts at a reboot. A press is therefore a *change*
//!   of the counter, and its key names the change (`12>13`): a periodic update or a redelivery
//!   repeats the stored counter and is no press; a counter that restarted makes a change never
//!   seen before.
//! - Shelly Gen2 events carry the device's time to the millisecond, generic presses may carry an
//!   `id`, and Zigbee2MQTT adds `last_seen` when its `advanced.last_seen` option is on: each names
//!   the press exactly, for good.
//! - A Zigbee2MQTT message without `last_seen` (the default) has no identity of its own: the key
//!   is a hash of topic and payload and a [`BUCKET_SECS`] time bucket of when it arrived, and the
//!   bucket before is checked too, so the same message twice within 30 to 60 s is one press. A
//!   redelivery (DUP) looks back [`DUP_LOOKBACK_BUCKETS`] buckets (10 minutes), since it is by
//!   definition a copy of something sent before. Identical presses further apart are two alarms:
//!   when in doubt a second alarm is raised, because a lost press is the failure this system
//!   exists to prevent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Larger payloads are garbage (no button sends more than a few hundred bytes).
pub const MAX_PAYLOAD: usize = 64 * 1024;
pub const MAX_DEVICE_ID: usize = 128;
/// Longest event name, input name or press id kept.
pub const MAX_NAME: usize = 64;
/// Most events in one Shelly Gen2 notification.
pub const MAX_EVENTS: usize = 32;
/// Width of the time bucket for presses without an identity of their own.
pub const BUCKET_SECS: i64 = 30;
/// How far a redelivered (DUP) press without an identity looks back, in buckets.
pub const DUP_LOOKBACK_BUCKETS: i64 = 20;

/// How a device's messages are read; also what the registry says a device speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mapping {
    Zigbee2mqtt,
    ShellyGen1,
    ShellyGen2,
    Generic,
}

impl Mapping {
    pub const ALL: [Mapping; 4] = [
        Mapping::Zigbee2mqtt,
        Mapping::ShellyGen1,
        Mapping::ShellyGen2,
        Mapping::Generic,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Mapping::Zigbee2mqtt => "zigbee2mqtt",
            Mapping::ShellyGen1 => "shelly_gen1",
            Mapping::ShellyGen2 => "shelly_gen2",
            Mapping::Generic => "generic",
        }
    }
    pub fn parse(s: &str) -> Option<Mapping> {
        Mapping::ALL.into_iter().find(|m| m.code() == s)
    }
    /// The events that count as a press when the registry names none. Shelly Gen2's `btn_down`
    /// and `btn_up` are left out: they come with every push, beside `single_push` and the like.
    pub fn default_press_events(self) -> &'static [&'static str] {
        match self {
            // Tuya TS0215A_sos sends `emergency`, Heiman HS1EB `single`/`double`/`hold`.
            Mapping::Zigbee2mqtt => &["emergency", "sos", "single"],
            Mapping::ShellyGen1 => &["S", "SS", "SSS", "L", "SL", "LS"],
            Mapping::ShellyGen2 => &["single_push", "double_push", "triple_push", "long_push"],
            Mapping::Generic => &["press"],
        }
    }
}

/// One message from one device.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub mapping: Mapping,
    pub device: String,
    /// One event, or several in a Shelly Gen2 notification.
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// As the device names it: `emergency`, `S`, `single_push`, `press`. Empty for a Shelly Gen1
    /// update before any press (which still carries the counter).
    pub name: String,
    /// Which input of a device with several (`0`, `input:1`); empty if it has one.
    pub input: String,
    pub identity: Identity,
    /// When the device says it happened, in microseconds since the epoch.
    pub at: Option<i64>,
}

/// What tells this press from another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// Shelly Gen1's `event_cnt`.
    Counter(u64),
    /// A value naming this press exactly: a Gen2 event time, a generic `id`, Z2M `last_seen`.
    Exact(String),
    /// Only the content: a hash of topic and payload.
    Content(String),
}

/// Why a message was not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Garbage {
    #[error("payload larger than 64 KiB")]
    TooLarge,
    #[error("topic not understood")]
    Topic,
    #[error("payload is not UTF-8 JSON")]
    NotJson,
    #[error("payload is not a JSON object")]
    NotObject,
    #[error("field `{0}` missing, of the wrong type or too long")]
    Field(&'static str),
    #[error(
        "device id missing, longer than 128 characters, or with control or wildcard characters"
    )]
    Device,
}

impl Garbage {
    /// A short stable name, for logs.
    pub fn code(self) -> &'static str {
        match self {
            Garbage::TooLarge => "too_large",
            Garbage::Topic => "topic",
            Garbage::NotJson => "not_json",
            Garbage::NotObject => "not_object",
            Garbage::Field(_) => "field",
            Garbage::Device => "device",
        }
    }
}

/// Reads one message. `Ok(None)`: nothing a button did (a state report, a status notification, an
/// empty payload clearing a retained message).
pub fn map(topic: &str, payload: &[u8]) -> Result<Option<Message>, Garbage> {
    if payload.len() > MAX_PAYLOAD {
        return Err(Garbage::TooLarge);
    }
    if topic.is_empty() || topic.len() > 1024 || topic.contains(['+', '#', '\0']) {
        return Err(Garbage::Topic);
    }
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let segs: Vec<&str> = topic.split('/').collect();
    let n = segs.len();
    if n >= 3 && segs[n - 2] == "input_event" {
        return shelly_gen1(segs[n - 3], segs[n - 1], payload).map(Some);
    }
    if n >= 3 && segs[n - 2] == "events" && segs[n - 1] == "rpc" {
        return shelly_gen2(&segs[..n - 2].join("/"), topic, payload);
    }
    let obj = object(payload)?;
    let last = segs[n - 1];
    if obj.contains_key("action") && !obj.contains_key("device") {
        zigbee2mqtt(last, topic, payload, &obj)
    } else if obj.contains_key("event") {
        generic(last, topic, payload, &obj).map(Some)
    } else {
        Ok(None)
    }
}

fn object(payload: &[u8]) -> Result<Map<String, Value>, Garbage> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Garbage::NotObject),
        Err(_) => Err(Garbage::NotJson),
    }
}

/// A device id as the registry stores it.
pub fn valid_device_id(s: &str) -> bool {
    let n = s.chars().count();
    (1..=MAX_DEVICE_ID).contains(&n)
        && s.trim() == s
        && !s.chars().any(|c| c.is_control() || c == '+' || c == '#')
}

fn device_id(s: &str) -> Result<String, Garbage> {
    if valid_device_id(s) {
        Ok(s.to_owned())
    } else {
        Err(Garbage::Device)
    }
}

/// An event or input name: at most [`MAX_NAME`] characters, no control characters (may be empty).
fn name(s: &str, field: &'static str) -> Result<String, Garbage> {
    let s = s.trim();
    if s.chars().count() > MAX_NAME || s.chars().any(char::is_control) {
        return Err(Garbage::Field(field));
    }
    Ok(s.to_owned())
}

fn content_hash(topic: &str, payload: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(topic.as_bytes());
    h.update([0u8]);
    h.update(payload);
    hex::encode(h.finalize())[..16].to_owned()
}

/// RFC 3339 with an offset, in microseconds.
fn parse_time(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_microsecond())
}

/// Seconds since the epoch, if plausibly a real clock's (2001 to 5138).
fn epoch_secs(v: f64) -> Option<i64> {
    (v.is_finite() && (1e9..1e11).contains(&v)).then_some((v * 1e6) as i64)
}

fn shelly_gen1(id: &str, input: &str, payload: &[u8]) -> Result<Message, Garbage> {
    let device = device_id(id)?;
    if input.is_empty() || input.len() > 3 || !input.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Garbage::Topic);
    }
    let obj = object(payload)?;
    let event = match obj.get("event") {
        Some(Value::String(s)) => name(s, "event")?,
        _ => return Err(Garbage::Field("event")),
    };
    let count = obj
        .get("event_cnt")
        .and_then(Value::as_u64)
        .filter(|c| i64::try_from(*c).is_ok())
        .ok_or(Garbage::Field("event_cnt"))?;
    Ok(Message {
        mapping: Mapping::ShellyGen1,
        device,
        events: vec![Event {
            name: event,
            input: input.to_owned(),
            identity: Identity::Counter(count),
            at: None,
        }],
    })
}

fn shelly_gen2(prefix: &str, topic: &str, payload: &[u8]) -> Result<Option<Message>, Garbage> {
    let obj = object(payload)?;
    let method = obj
        .get("method")
        .and_then(Value::as_str)
        .ok_or(Garbage::Field("method"))?;
    if method != "NotifyEvent" {
        return Ok(None);
    }
    let device = match obj.get("src") {
        Some(Value::String(s)) => device_id(s)?,
        None => device_id(prefix)?,
        Some(_) => return Err(Garbage::Field("src")),
    };
    let params = obj
        .get("params")
        .and_then(Value::as_object)
        .ok_or(Garbage::Field("params"))?;
    let list = params
        .get("events")
        .and_then(Value::as_array)
        .filter(|l| l.len() <= MAX_EVENTS)
        .ok_or(Garbage::Field("params.events"))?;
    let outer_ts = params
        .get("ts")
        .and_then(Value::as_f64)
        .and_then(epoch_secs);
    let mut events = vec![];
    for (i, e) in list.iter().enumerate() {
        let e = e.as_object().ok_or(Garbage::Field("params.events"))?;
        let event = match e.get("event") {
            Some(Value::String(s)) => name(s, "params.events.event")?,
            _ => return Err(Garbage::Field("params.events.event")),
        };
        let input = match e.get("component") {
            Some(Value::String(s)) => name(s, "params.events.component")?,
            None => String::new(),
            Some(_) => return Err(Garbage::Field("params.events.component")),
        };
        let own_ts = e.get("ts").and_then(Value::as_f64).and_then(epoch_secs);
        let identity = match own_ts {
            // Milliseconds: the device's clock names the push.
            Some(us) => Identity::Exact(format!("{}", us / 1000)),
            None => Identity::Content(format!("{}.{i}", content_hash(topic, payload))),
        };
        if event.is_empty() {
            continue;
        }
        events.push(Event {
            name: event,
            input,
            identity,
            at: own_ts.or(outer_ts),
        });
    }
    if events.is_empty() {
        return Ok(None);
    }
    Ok(Some(Message {
        mapping: Mapping::ShellyGen2,
        device,
        events,
    }))
}

fn zigbee2mqtt(
    last: &str,
    topic: &str,
    payload: &[u8],
    obj: &Map<String, Value>,
) -> Result<Option<Message>, Garbage> {
    let action = match obj.get("action") {
        Some(Value::String(s)) => name(s, "action")?,
        Some(Value::Null) | None => return Ok(None),
        Some(_) => return Err(Garbage::Field("action")),
    };
    if action.is_empty() {
        return Ok(None);
    }
    let device = device_id(last)?;
    let (identity, at) = match obj.get("last_seen") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_NAME => {
            (Identity::Exact(s.clone()), parse_time(s))
        }
        // `advanced.last_seen: epoch` gives milliseconds.
        Some(Value::Number(n)) => (
            Identity::Exact(n.to_string()),
            n.as_f64().and_then(|ms| epoch_secs(ms / 1000.0)),
        ),
        _ => (Identity::Content(content_hash(topic, payload)), None),
    };
    Ok(Some(Message {
        mapping: Mapping::Zigbee2mqtt,
        device,
        events: vec![Event {
            name: action,
            input: String::new(),
            identity,
            at,
        }],
    }))
}

fn generic(
    last: &str,
    topic: &str,
    payload: &[u8],
    obj: &Map<String, Value>,
) -> Result<Message, Garbage> {
    let device = match obj.get("device") {
        Some(Value::String(s)) => device_id(s)?,
        None | Some(Value::Null) => device_id(last)?,
        Some(_) => return Err(Garbage::Field("device")),
    };
    let event = match obj.get("event") {
        Some(Value::String(s)) if !s.trim().is_empty() => name(s, "event")?,
        _ => return Err(Garbage::Field("event")),
    };
    let identity = match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_NAME => {
            Identity::Exact(s.clone())
        }
        Some(Value::Number(n)) => Identity::Exact(n.to_string()),
        None | Some(Value::Null) => Identity::Content(content_hash(topic, payload)),
        Some(_) => return Err(Garbage::Field("id")),
    };
    let at = match obj.get("ts") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_time(s).ok_or(Garbage::Field("ts"))?),
        Some(Value::Number(n)) => Some(
            n.as_f64()
                .and_then(epoch_secs)
                .ok_or(Garbage::Field("ts"))?,
        ),
        Some(_) => return Err(Garbage::Field("ts")),
    };
    Ok(Message {
        mapping: Mapping::Generic,
        device,
        events: vec![Event {
            name: event,
            input: String::new(),
            identity,
            at,
        }],
    })
}

/// Whether the registry counts this event as a press (names compared without regard to ASCII
/// case, so `s` matches Shelly's `S`).
pub fn is_press(press_events: &[String], ev: &Event) -> bool {
    !ev.name.is_empty()
        && press_events
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&ev.name))
}

/// A Shelly Gen1 update that repeats the counter already stored: a periodic update or a
/// redelivery, never a press.
pub fn repeats_counter(prev: Option<u64>, ev: &Event) -> bool {
    matches!(ev.identity, Identity::Counter(c) if prev == Some(c))
}

/// The dedupe key a press is stored under, and the keys of earlier buckets that would make it a
/// press already stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    pub key: String,
    pub earlier: Vec<String>,
}

/// See the module documentation. `prev_counter` is the Shelly Gen1 counter stored before this
/// message; `received_secs` when it arrived; `dup` the MQTT DUP flag (a redelivery).
pub fn keys(
    mapping: Mapping,
    device: &str,
    ev: &Event,
    prev_counter: Option<u64>,
    received_secs: i64,
    dup: bool,
) -> Keys {
    let base = format!("mqtt:{}:{device}:{}", mapping.code(), ev.input);
    match &ev.identity {
        Identity::Counter(c) => {
            let prev = prev_counter.map_or_else(|| "-".to_owned(), |p| p.to_string());
            Keys {
                key: format!("{base}:cnt:{prev}>{c}"),
                earlier: vec![],
            }
        }
        Identity::Exact(v) => {
            let h = hex::encode(Sha256::digest(v.as_bytes()));
            Keys {
                key: format!("{base}:{}:id:{}", ev.name, &h[..24]),
                earlier: vec![],
            }
        }
        Identity::Content(h) => {
            let bucket = received_secs.div_euclid(BUCKET_SECS);
            let back = if dup { DUP_LOOKBACK_BUCKETS } else { 1 };
            let at = |b: i64| format!("{base}:{}:h:{h}:{b}", ev.name);
            Keys {
                key: at(bucket),
                earlier: (1..=back).map(|i| at(bucket - i)).collect(),
            }
        }
    }
}

/// When the press happened: the device's own time if it is plausible (not more than a day
/// before it arrived, nor more than a minute after), else when it arrived.
pub fn pressed_at(ev: &Event, received_micros: i64) -> i64 {
    match ev.at {
        Some(t)
            if t <= received_micros.saturating_add(60_000_000)
                && t >= received_micros.saturating_sub(86_400_000_000) =>
        {
            t
        }
        _ => received_micros,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(topic: &str, payload: &str) -> Message {
        map(topic, payload.as_bytes())
            .expect("understood")
            .expect("an event")
    }

    #[test]
    fn shelly_gen1_button() {
        let m = one(
            "shellies/shellybutton1-A4CF12F45301/input_event/0",
            r#"{"event":"S","event_cnt":73}"#,
        );
        assert_eq!(m.mapping, Mapping::ShellyGen1);
        assert_eq!(m.device, "shellybutton1-A4CF12F45301");
        assert_eq!(m.events[0].name, "S");
        assert_eq!(m.events[0].input, "0");
        assert_eq!(m.events[0].identity, Identity::Counter(73));
        // Before the first press the device reports an empty event, still with its counter.
        let m = one(
            "site-a/shellies/shellyix3-10521CF2C2C2/input_event/2",
            r#"{"event":"","event_cnt":0}"#,
        );
        assert_eq!(m.events[0].name, "");
        assert_eq!(m.events[0].input, "2");
        for bad in [
            r#"{"event":"S"}"#,
            r#"{"event":"S","event_cnt":-1}"#,
            r#"{"event":5,"event_cnt":1}"#,
            "S",
        ] {
            assert!(
                map("shellies/x/input_event/0", bad.as_bytes()).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            map(
                "shellies/x/input_event/zero",
                br#"{"event":"S","event_cnt":1}"#
            ),
            Err(Garbage::Topic)
        );
    }

    #[test]
    fn shelly_gen2_notify_event() {
        let m = one(
            "shellyplusi4-a8032ab12345/events/rpc",
            r#"{"src":"shellyplusi4-a8032ab12345","dst":"shellyplusi4-a8032ab12345/events","method":"NotifyEvent",
               "params":{"ts":1631266595.43,"events":[{"component":"input:0","id":0,"event":"btn_down","ts":1631266595.41},
                                                      {"component":"input:0","id":0,"event":"single_push","ts":1631266595.43}]}}"#,
        );
        assert_eq!(m.mapping, Mapping::ShellyGen2);
        assert_eq!(m.device, "shellyplusi4-a8032ab12345");
        assert_eq!(m.events.len(), 2);
        assert_eq!(m.events[1].name, "single_push");
        assert_eq!(m.events[1].input, "input:0");
        assert_eq!(
            m.events[1].identity,
            Identity::Exact("1631266595430".into())
        );
        assert_eq!(m.events[1].at, Some(1_631_266_595_430_000));
        // Status notifications on the same topic are not events.
        assert_eq!(
            map(
                "shellyplusi4-a8032ab12345/events/rpc",
                br#"{"src":"x","method":"NotifyStatus","params":{"ts":1,"input:0":{"id":0,"state":true}}}"#
            ),
            Ok(None)
        );
        // Without `src`, the topic prefix names the device.
        let m = one(
            "office/button-2/events/rpc",
            r#"{"method":"NotifyEvent","params":{"events":[{"component":"input:1","event":"long_push"}]}}"#,
        );
        assert_eq!(m.device, "office/button-2");
        assert!(matches!(m.events[0].identity, Identity::Content(_)));
        assert!(map("x/events/rpc", br#"{"method":"NotifyEvent","params":{}}"#).is_err());
        assert!(map("x/events/rpc", br#"{"params":{"events":[]}}"#).is_err());
    }

    #[test]
    fn zigbee2mqtt_actions() {
        let m = one(
            "zigbee2mqtt/sos-er-1",
            r#"{"action":"emergency","battery":100,"linkquality":87,"voltage":3000}"#,
        );
        assert_eq!(m.mapping, Mapping::Zigbee2mqtt);
        assert_eq!(m.device, "sos-er-1");
        assert_eq!(m.events[0].name, "emergency");
        assert!(matches!(m.events[0].identity, Identity::Content(_)));
        let m = one(
            "zigbee2mqtt/0x00158d0001234567",
            r#"{"action":"single","last_seen":"2025-03-01T13:00:00+05:00"}"#,
        );
        assert_eq!(
            m.events[0].identity,
            Identity::Exact("2025-03-01T13:00:00+05:00".into())
        );
        assert_eq!(
            m.events[0].at,
            Some(
                "2025-03-01T08:00:00Z"
                    .parse::<jiff::Timestamp>()
                    .expect("time")
                    .as_microsecond()
            )
        );
        let m = one(
            "zigbee2mqtt/b",
            r#"{"action":"sos","last_seen":1740819600000}"#,
        );
        assert_eq!(m.events[0].at, Some(1_740_819_600_000_000));
        // A state report, or the action cleared, is no event.
        for none in [
            r#"{"battery":97,"linkquality":60}"#,
            r#"{"action":""}"#,
            r#"{"action":null}"#,
            "",
        ] {
            assert_eq!(map("zigbee2mqtt/b", none.as_bytes()), Ok(None), "{none}");
        }
        assert_eq!(
            map("zigbee2mqtt/b", br#"{"action":5}"#),
            Err(Garbage::Field("action"))
        );
    }

    #[test]
    fn generic_form() {
        let m = one(
            "qorgau/buttons/er-desk-2",
            r#"{"event":"press","id":"a1","ts":"2025-03-01T08:00:00Z"}"#,
        );
        assert_eq!(m.mapping, Mapping::Generic);
        assert_eq!(m.device, "er-desk-2");
        assert_eq!(m.events[0].identity, Identity::Exact("a1".into()));
        let m = one(
            "qorgau/buttons/ignored",
            r#"{"device":"ward-3","event":"press"}"#,
        );
        assert_eq!(m.device, "ward-3");
        assert!(matches!(m.events[0].identity, Identity::Content(_)));
        for bad in [
            r#"{"event":""}"#,
            r#"{"event":"press","device":7}"#,
            r#"{"event":"press","device":""}"#,
            r#"{"event":"press","ts":"yesterday"}"#,
            r#"{"event":"press","id":{"a":1}}"#,
        ] {
            assert!(map("qorgau/buttons/x", bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_is_told_apart() {
        assert_eq!(map("zigbee2mqtt/b", b"\xff\xfe"), Err(Garbage::NotJson));
        assert_eq!(map("zigbee2mqtt/b", b"not json"), Err(Garbage::NotJson));
        assert_eq!(map("zigbee2mqtt/b", b"[1,2]"), Err(Garbage::NotObject));
        assert_eq!(
            map("zigbee2mqtt/b", &vec![b' '; MAX_PAYLOAD + 1]),
            Err(Garbage::TooLarge)
        );
        assert_eq!(map("a/+/b", b"{}"), Err(Garbage::Topic));
        let long = "x".repeat(MAX_DEVICE_ID + 1);
        assert_eq!(
            map(&format!("zigbee2mqtt/{long}"), br#"{"action":"sos"}"#),
            Err(Garbage::Device)
        );
    }

    fn ev(name: &str, identity: Identity) -> Event {
        Event {
            name: name.into(),
            input: String::new(),
            identity,
            at: None,
        }
    }

    #[test]
    fn presses_by_the_registry() {
        let list: Vec<String> = Mapping::ShellyGen1
            .default_press_events()
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert!(is_press(&list, &ev("S", Identity::Counter(1))));
        assert!(is_press(&["s".to_owned()], &ev("S", Identity::Counter(1))));
        assert!(!is_press(&list, &ev("", Identity::Counter(1))));
        assert!(!is_press(
            &["single_push".into()],
            &ev("btn_down", Identity::Counter(1))
        ));
    }

    #[test]
    fn counter_keys_name_the_change() {
        let e = ev("S", Identity::Counter(13));
        assert!(repeats_counter(Some(13), &e));
        assert!(!repeats_counter(Some(12), &e));
        assert!(!repeats_counter(None, &e));
        let k = keys(Mapping::ShellyGen1, "b1", &e, Some(12), 0, false);
        assert_eq!(k.key, "mqtt:shelly_gen1:b1::cnt:12>13");
        assert!(k.earlier.is_empty());
        // A redelivery before the counter was stored finds the same key; a restarted counter
        // that comes back to 13 later is another change.
        assert_eq!(keys(Mapping::ShellyGen1, "b1", &e, Some(12), 999, true), k);
        assert_ne!(keys(Mapping::ShellyGen1, "b1", &e, Some(40), 0, false), k);
    }

    #[test]
    fn content_keys_use_time_buckets() {
        let e = ev("emergency", Identity::Content("abcd".into()));
        let k = keys(Mapping::Zigbee2mqtt, "b", &e, None, 65, false);
        assert_eq!(k.key, "mqtt:zigbee2mqtt:b::emergency:h:abcd:2");
        assert_eq!(k.earlier, vec!["mqtt:zigbee2mqtt:b::emergency:h:abcd:1"]);
        // Same bucket: same key. Next bucket: a new key whose look-back finds the old one.
        assert_eq!(
            keys(Mapping::Zigbee2mqtt, "b", &e, None, 89, false).key,
            k.key
        );
        assert!(
            keys(Mapping::Zigbee2mqtt, "b", &e, None, 95, false)
                .earlier
                .contains(&k.key)
        );
        let dup = keys(Mapping::Zigbee2mqtt, "b", &e, None, 65 + 9 * 60, true);
        assert!(dup.earlier.contains(&k.key));
        assert_eq!(dup.earlier.len() as i64, DUP_LOOKBACK_BUCKETS);
        // Exact identities are the same whenever they arrive.
        let x = ev("press", Identity::Exact("id-1".into()));
        assert_eq!(
            keys(Mapping::Generic, "g", &x, None, 0, false),
            keys(Mapping::Generic, "g", &x, None, 1_000_000, true)
        );
    }

    #[test]
    fn device_time_only_when_plausible() {
        let now = 1_700_000_000_000_000;
        let mut e = ev("x", Identity::Counter(1));
        assert_eq!(pressed_at(&e, now), now);
        e.at = Some(now - 5_000_000);
        assert_eq!(pressed_at(&e, now), now - 5_000_000);
        e.at = Some(now + 3_600_000_000);
        assert_eq!(pressed_at(&e, now), now);
        e.at = Some(now - 2 * 86_400_000_000);
        assert_eq!(pressed_at(&e, now), now);
    }

    fn topics() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("zigbee2mqtt/b".to_owned()),
            Just("shellies/s1/input_event/0".to_owned()),
            Just("dev/events/rpc".to_owned()),
            Just("qorgau/buttons/x".to_owned()),
            "[a-z/+#]{0,20}",
            ".{0,40}",
        ]
    }

    /// JSON-ish text built from the fields the mappers look at, to reach past the parser.
    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        let key = prop_oneof![
            Just("action"),
            Just("event"),
            Just("event_cnt"),
            Just("device"),
            Just("id"),
            Just("ts"),
            Just("last_seen"),
            Just("method"),
            Just("src"),
            Just("params"),
            Just("events"),
            Just("component"),
        ];
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("\"NotifyEvent\"".to_owned()),
            Just("[]".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| format!("{f:e}")),
            "\"[^\"\\\\]{0,80}\"".prop_map(|s| s),
        ];
        let value = leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(
                    (
                        prop_oneof![Just("event"), Just("ts"), Just("component"), Just("events")],
                        inner
                    ),
                    0..4
                )
                .prop_map(|kv| format!(
                    "{{{}}}",
                    kv.iter()
                        .map(|(k, v)| format!("\"{k}\":{v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                )),
            ]
        });
        prop::collection::vec((key, value), 0..6).prop_map(|kv| {
            format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
            .into_bytes()
        })
    }

    proptest! {
        /// No payload, however broken, makes a mapper panic; whatever it returns is bounded.
        #[test]
        fn never_panics_on_bytes(topic in topics(), payload in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(Some(m)) = map(&topic, &payload) {
                prop_assert!(valid_device_id(&m.device));
                for e in &m.events {
                    let k = keys(m.mapping, &m.device, e, Some(1), 1_700_000_000, true);
                    prop_assert!(k.key.len() < 600);
                }
            }
        }

        #[test]
        fn never_panics_on_json(topic in topics(), payload in jsonish(), dup in any::<bool>(), secs in any::<i64>()) {
            if let Ok(Some(m)) = map(&topic, &payload) {
                prop_assert!(valid_device_id(&m.device));
                prop_assert!(m.events.len() <= MAX_EVENTS);
                for e in &m.events {
                    prop_assert!(e.name.chars().count() <= MAX_NAME);
                    let k = keys(m.mapping, &m.device, e, None, secs, dup);
                    prop_assert!(k.key.len() < 600);
                    let _ = pressed_at(e, secs);
                }
            }
        }
    }
}
