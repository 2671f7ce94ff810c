//! MQTT panic buttons against a real broker (Mosquitto): a press makes one alarm at the device's
//! place, retained copies and garbage are not presses, a press sent while Qorgau was away arrives
//! when it is back, a redelivered press makes no second alarm, unknown devices are listed. The
//! broker tests need `QORGAU_TEST_MQTT_URL` (`.ci/run` sets it to `mqtt://127.0.0.1:1883`) and
//! say that they skipped without it. Each test has its own topic prefix and client ids, so tests
//! running side by side on one broker never see each other's messages.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::TestApp;
use qorgau::alarms::mqtt::{self, Handle, Options};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

fn broker(test: &str) -> Option<String> {
    let url = std::env::var("QORGAU_TEST_MQTT_URL")
        .ok()
        .filter(|s| !s.is_empty());
    if url.is_none() {
        eprintln!(
            "skipped {test}: QORGAU_TEST_MQTT_URL is not set (.ci/run sets it to mqtt://127.0.0.1:1883 for the PostgreSQL and Mosquitto run)"
        );
    }
    url
}

fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// A publisher that waits for the broker's PUBACK of each message, so that messages published one
/// after another reach subscribers in that order.
struct Publisher {
    client: AsyncClient,
    el: EventLoop,
}

impl Publisher {
    async fn connect(url: &str) -> Publisher {
        let b = mqtt::parse_url(url).expect("broker url");
        let mut mo = MqttOptions::new(format!("qorgau-test-pub-{}", unique()), b.host, b.port);
        mo.set_clean_session(true)
            .set_keep_alive(Duration::from_secs(10))
            .set_max_packet_size(1 << 20, 1 << 20);
        let (client, el) = AsyncClient::new(mo, 16);
        Publisher { client, el }
    }

    async fn send(&mut self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
            .expect("publish");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.el.poll()).await {
                Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => return,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("publishing to {topic}: {e}"),
                Err(_) => panic!("no PUBACK for {topic}"),
            }
        }
    }

    async fn json(&mut self, topic: &str, v: Value) {
        self.send(topic, v.to_string(), false).await;
    }
}

/// Ends a test's persistent session on the broker, so that nothing is queued for it any more.
async fn forget_session(url: &str, client_id: &str) {
    let b = mqtt::parse_url(url).expect("broker url");
    let mut mo = MqttOptions::new(client_id, b.host, b.port);
    mo.set_clean_session(true);
    let (client, mut el) = AsyncClient::new(mo, 4);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match el.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => break,
                Ok(_) => {}
                Err(_) => return,
            }
        }
        let _ = client.disconnect().await;
        let _ = el.poll().await;
    })
    .await;
}

/// The topic filters of one test, under its own prefix.
fn topics(prefix: &str) -> Vec<String> {
    vec![
        format!("{prefix}/zigbee2mqtt/+"),
        format!("{prefix}/shellies/+/input_event/+"),
        format!("{prefix}/+/events/rpc"),
        format!("{prefix}/buttons/+"),
    ]
}

/// Starts a client on the test server's database, as `qorgau serve --mqtt-url` would, and waits
/// until the broker has taken its subscriptions.
async fn client(app: &TestApp, url: &str, client_id: &str, prefix: &str, ack: bool) -> Handle {
    let st = qorgau::app::state(app.db.clone(), app.cfg.clone()).expect("state");
    let mut opts = Options::new(url, client_id, &topics(prefix)).expect("options");
    opts.ack = ack;
    let h = mqtt::spawn(st, opts);
    assert!(
        h.subscribed(Duration::from_secs(15)).await,
        "the client did not subscribe"
    );
    h
}

/// Waits until the client finished handling `n` messages.
async fn handled(h: &Handle, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while h.stats().handled.load(Ordering::Relaxed) < n {
        assert!(
            Instant::now() < deadline,
            "handled {} of {n} messages",
            h.stats().handled.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn emergency_department(app: &TestApp) -> (String, String) {
    let facility = app.demo_facility().await;
    let depts: Value = app
        .login("facility_admin")
        .await
        .get(app.url(&format!("/api/v1/facilities/{facility}/departments")))
        .send()
        .await
        .expect("departments")
        .json()
        .await
        .expect("json");
    let d = depts
        .as_array()
        .expect("list")
        .iter()
        .find(|d| d["kind"] == "emergency")
        .expect("an emergency department")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (facility, d)
}

/// Registers a device in the demo facility's emergency department, as its administrator.
async fn register(app: &TestApp, id: &str, mapping: &str, room: &str) -> Value {
    let (facility, department) = emergency_department(app).await;
    let r = app
        .login("facility_admin")
        .await
        .put(app.url(&format!("/api/v1/mqtt/devices/{id}")))
        .json(
            &json!({"mapping": mapping, "label": "SOS", "facility_id": facility,
            "department_id": department, "room": room, "floor": "1"}),
        )
        .send()
        .await
        .expect("register");
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    body
}

/// The MQTT alarms of one device, newest first.
async fn alarms_of(app: &TestApp, device: &str) -> Vec<Value> {
    let list: Value = app
        .login("system_admin")
        .await
        .get(app.url("/api/v1/alarms?limit=200"))
        .send()
        .await
        .expect("alarms")
        .json()
        .await
        .expect("json");
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|a| a["source"] == "mqtt" && a["source_ref"] == device)
        .cloned()
        .collect()
}

async fn wait_alarms(app: &TestApp, device: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let a = alarms_of(app, device).await;
        if a.len() >= n || Instant::now() > deadline {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

both!(a_press_makes_one_alarm_at_the_devices_place, |app| {
    let Some(url) = broker("a_press_makes_one_alarm_at_the_devices_place") else {
        return;
    };
    let (u, prefix, id) = (
        unique(),
        format!("t{}", unique()),
        format!("qorgau-t-{}", unique()),
    );
    let (z, s1, s2, g) = (
        format!("z-{u}"),
        format!("s1-{u}"),
        format!("s2-{u}"),
        format!("g-{u}"),
    );
    let dev = register(&app, &z, "zigbee2mqtt", "Смотровая 2").await;
    register(&app, &s1, "shelly_gen1", "Палата 1").await;
    register(&app, &s2, "shelly_gen2", "Палата 2").await;
    register(&app, &g, "generic", "Регистратура").await;
    let h = client(&app, &url, &id, &prefix, true).await;
    let mut p = Publisher::connect(&url).await;

    // Zigbee2MQTT: the SOS button's action.
    p.json(
        &format!("{prefix}/zigbee2mqtt/{z}"),
        json!({"action": "emergency", "battery": 100, "linkquality": 87}),
    )
    .await;
    // Shelly Gen1: a short push, the same event again in the next periodic update, a new push.
    let gen1 = format!("{prefix}/shellies/{s1}/input_event/0");
    p.json(&gen1, json!({"event": "S", "event_cnt": 5})).await;
    p.json(&gen1, json!({"event": "S", "event_cnt": 5})).await;
    // Shelly Gen2: button down, single push, button up in one notification (the device's clock
    // says the push was 5 s ago); a status after it.
    let rpc = format!("{prefix}/{s2}/events/rpc");
    let t = (jiff::Timestamp::now().as_second() - 5) as f64;
    p.json(
        &rpc,
        json!({"src": s2, "dst": format!("{s2}/events"), "method": "NotifyEvent",
        "params": {"ts": t + 0.25, "events": [
            {"component": "input:0", "id": 0, "event": "btn_down", "ts": t + 0.01},
            {"component": "input:0", "id": 0, "event": "single_push", "ts": t + 0.25},
            {"component": "input:0", "id": 0, "event": "btn_up", "ts": t + 0.26}]}}),
    )
    .await;
    p.json(
        &rpc,
        json!({"src": s2, "method": "NotifyStatus",
        "params": {"ts": t + 1.0, "input:0": {"id": 0, "state": false}}}),
    )
    .await;
    // The generic form, sent twice by its publisher.
    let generic = format!("{prefix}/buttons/{g}");
    p.json(&generic, json!({"event": "press", "id": "p-1"}))
        .await;
    p.json(&generic, json!({"event": "press", "id": "p-1"}))
        .await;
    handled(&h, 7).await;

    for device in [&z, &s1, &s2, &g] {
        let a = alarms_of(&app, device).await;
        assert_eq!(a.len(), 1, "{device}: {a:?}");
    }
    let a = &alarms_of(&app, &z).await[0];
    assert_eq!(a["facility_id"], dev["facility_id"]);
    assert_eq!(a["department_id"], dev["department_id"]);
    assert_eq!(a["room"], "Смотровая 2");
    assert_eq!(a["floor"], "1");
    assert_eq!(a["kind"], "panic");
    assert_eq!(a["state"], "raised");
    // The Gen2 press keeps the device's time.
    let pressed: jiff::Timestamp = alarms_of(&app, &s2).await[0]["pressed_at"]
        .as_str()
        .expect("pressed_at")
        .parse()
        .expect("time");
    assert_eq!(pressed.as_millisecond(), (t * 1000.0) as i64 + 250);
    // A new Shelly count is a new press.
    p.json(&gen1, json!({"event": "S", "event_cnt": 6})).await;
    assert_eq!(wait_alarms(&app, &s1, 2).await.len(), 2);
    handled(&h, 8).await;
    let stats = h.stats();
    assert_eq!(stats.presses.load(Ordering::Relaxed), 5);
    assert_eq!(stats.duplicates.load(Ordering::Relaxed), 2);
    // The registry shows when each device was last pressed.
    let shown: Value = app
        .login("facility_admin")
        .await
        .get(app.url(&format!("/api/v1/mqtt/devices/{z}")))
        .send()
        .await
        .expect("device")
        .json()
        .await
        .expect("json");
    assert!(shown["last_press_at"].is_string(), "{shown}");
    h.stop();
    forget_session(&url, &id).await;
});

both!(a_retained_copy_is_not_a_press, |app| {
    let Some(url) = broker("a_retained_copy_is_not_a_press") else {
        return;
    };
    let (u, prefix, id) = (
        unique(),
        format!("t{}", unique()),
        format!("qorgau-t-{}", unique()),
    );
    let (old, marker) = (format!("r-{u}"), format!("m-{u}"));
    register(&app, &old, "zigbee2mqtt", "1").await;
    register(&app, &marker, "generic", "2").await;
    let mut p = Publisher::connect(&url).await;
    let topic = format!("{prefix}/zigbee2mqtt/{old}");
    // A press retained by the broker before Qorgau subscribed.
    p.send(&topic, r#"{"action":"emergency"}"#, true).await;
    let h = client(&app, &url, &id, &prefix, true).await;
    p.json(
        &format!("{prefix}/buttons/{marker}"),
        json!({"event": "press", "id": "m"}),
    )
    .await;
    assert_eq!(wait_alarms(&app, &marker, 1).await.len(), 1);
    handled(&h, 2).await;
    assert_eq!(h.stats().retained.load(Ordering::Relaxed), 1);
    assert!(alarms_of(&app, &old).await.is_empty());
    // The same device pressed now is a press.
    p.send(&topic, r#"{"action":"emergency","battery":90}"#, false)
        .await;
    assert_eq!(wait_alarms(&app, &old, 1).await.len(), 1);
    // Clearing the retained message (an empty payload) is nothing.
    p.send(&topic, "", true).await;
    handled(&h, 4).await;
    assert_eq!(alarms_of(&app, &old).await.len(), 1);
    assert_eq!(h.stats().garbage.load(Ordering::Relaxed), 0);
    h.stop();
    forget_session(&url, &id).await;
});

both!(garbage_is_counted_and_the_next_press_still_works, |app| {
    let Some(url) = broker("garbage_is_counted_and_the_next_press_still_works") else {
        return;
    };
    let (u, prefix, id) = (
        unique(),
        format!("t{}", unique()),
        format!("qorgau-t-{}", unique()),
    );
    let g = format!("g-{u}");
    register(&app, &g, "generic", "Регистратура").await;
    let h = client(&app, &url, &id, &prefix, true).await;
    let mut p = Publisher::connect(&url).await;
    let garbage: [(String, Vec<u8>); 5] = [
        (
            format!("{prefix}/buttons/{g}"),
            b"\xff\xfe\x00garbage".to_vec(),
        ),
        (format!("{prefix}/zigbee2mqtt/x"), b"[1,2,3]".to_vec()),
        (format!("{prefix}/buttons/{g}"), br#"{"event": 7}"#.to_vec()),
        (
            format!("{prefix}/shellies/s/input_event/0"),
            br#"{"event":"S"}"#.to_vec(),
        ),
        (format!("{prefix}/x/events/rpc"), vec![b'{'; 70_000]),
    ];
    for (t, body) in &garbage {
        p.send(t, body.clone(), false).await;
    }
    p.json(
        &format!("{prefix}/buttons/{g}"),
        json!({"event": "press", "id": "after-garbage"}),
    )
    .await;
    assert_eq!(wait_alarms(&app, &g, 1).await.len(), 1);
    handled(&h, 6).await;
    assert_eq!(h.stats().garbage.load(Ordering::Relaxed), 5);
    assert_eq!(h.status(), mqtt::Status::Subscribed, "still connected");
    let metrics = app
        .client()
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let line = metrics
        .lines()
        .find(|l| l.starts_with("qorgau_mqtt_messages_total{result=\"garbage\"}"))
        .unwrap_or_else(|| panic!("no garbage counter in\n{metrics}"));
    let n: f64 = line
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("value");
    assert!(n >= 5.0, "{line}");
    h.stop();
    forget_session(&url, &id).await;
});

both!(
    a_press_sent_while_qorgau_was_away_arrives_when_it_is_back,
    |app| {
        let Some(url) = broker("a_press_sent_while_qorgau_was_away_arrives_when_it_is_back") else {
            return;
        };
        let (u, prefix, id) = (
            unique(),
            format!("t{}", unique()),
            format!("qorgau-t-{}", unique()),
        );
        let z = format!("z-{u}");
        register(&app, &z, "zigbee2mqtt", "Смотровая 3").await;
        // The first start makes the broker keep a session under this client id.
        let first = client(&app, &url, &id, &prefix, true).await;
        first.stop();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut p = Publisher::connect(&url).await;
        p.json(
            &format!("{prefix}/zigbee2mqtt/{z}"),
            json!({"action": "emergency", "battery": 80}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(alarms_of(&app, &z).await.is_empty(), "nobody was listening");
        // Started again with the same client id, Qorgau gets the press the broker kept for it.
        let second = client(&app, &url, &id, &prefix, true).await;
        let a = wait_alarms(&app, &z, 1).await;
        assert_eq!(a.len(), 1);
        assert_eq!(a[0]["room"], "Смотровая 3");
        handled(&second, 1).await;
        second.stop();
        forget_session(&url, &id).await;
    }
);

both!(a_redelivered_press_makes_no_second_alarm, |app| {
    let Some(url) = broker("a_redelivered_press_makes_no_second_alarm") else {
        return;
    };
    let (u, prefix, id) = (
        unique(),
        format!("t{}", unique()),
        format!("qorgau-t-{}", unique()),
    );
    let (z, s) = (format!("z-{u}"), format!("s-{u}"));
    register(&app, &z, "zigbee2mqtt", "1").await;
    register(&app, &s, "shelly_gen1", "2").await;
    // A client that stores presses but never acknowledges them: as if it crashed in between.
    let crashing = client(&app, &url, &id, &prefix, false).await;
    let mut p = Publisher::connect(&url).await;
    p.json(
        &format!("{prefix}/zigbee2mqtt/{z}"),
        json!({"action": "emergency", "linkquality": 40}),
    )
    .await;
    p.json(
        &format!("{prefix}/shellies/{s}/input_event/0"),
        json!({"event": "L", "event_cnt": 41}),
    )
    .await;
    handled(&crashing, 2).await;
    assert_eq!(crashing.stats().presses.load(Ordering::Relaxed), 2);
    crashing.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The broker delivers both again, marked DUP; they are the presses already stored.
    let again = client(&app, &url, &id, &prefix, true).await;
    handled(&again, 2).await;
    assert_eq!(again.stats().redelivered.load(Ordering::Relaxed), 2);
    assert_eq!(again.stats().duplicates.load(Ordering::Relaxed), 2);
    assert_eq!(again.stats().presses.load(Ordering::Relaxed), 0);
    assert_eq!(alarms_of(&app, &z).await.len(), 1);
    assert_eq!(alarms_of(&app, &s).await.len(), 1);
    // Acknowledged this time (give the acknowledgements a moment to leave): a third start gets
    // nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    again.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let third = client(&app, &url, &id, &prefix, true).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(third.stats().received.load(Ordering::Relaxed), 0);
    third.stop();
    forget_session(&url, &id).await;
});

both!(unknown_devices_are_listed_until_registered, |app| {
    let Some(url) = broker("unknown_devices_are_listed_until_registered") else {
        return;
    };
    let (u, prefix, id) = (
        unique(),
        format!("t{}", unique()),
        format!("qorgau-t-{}", unique()),
    );
    let (z, s) = (format!("u-{u}"), format!("us-{u}"));
    let h = client(&app, &url, &id, &prefix, true).await;
    let mut p = Publisher::connect(&url).await;
    let ztopic = format!("{prefix}/zigbee2mqtt/{z}");
    p.json(&ztopic, json!({"action": "emergency"})).await;
    let stopic = format!("{prefix}/shellies/{s}/input_event/0");
    p.json(&stopic, json!({"event": "S", "event_cnt": 9})).await;
    handled(&h, 2).await;
    assert_eq!(h.stats().unknown.load(Ordering::Relaxed), 2);
    let admin = app.login("facility_admin").await;
    let list: Value = admin
        .get(app.url("/api/v1/mqtt/unknown-devices"))
        .send()
        .await
        .expect("unknown")
        .json()
        .await
        .expect("json");
    let items = list["items"].as_array().expect("items");
    let seen = items
        .iter()
        .find(|d| d["device_id"] == z.as_str())
        .unwrap_or_else(|| panic!("{z} not listed: {list}"));
    assert_eq!(seen["mapping"], "zigbee2mqtt");
    assert_eq!(seen["last_event"], "emergency");
    assert_eq!(seen["topic"], ztopic.as_str());
    assert!(items.iter().any(|d| d["device_id"] == s.as_str()));
    assert!(alarms_of(&app, &z).await.is_empty());
    // Registered, it leaves the list; the Shelly's next periodic update repeats the counter heard
    // before it was registered, which is no press; its next push is.
    register(&app, &z, "zigbee2mqtt", "1").await;
    register(&app, &s, "shelly_gen1", "2").await;
    let list: Value = admin
        .get(app.url("/api/v1/mqtt/unknown-devices"))
        .send()
        .await
        .expect("unknown")
        .json()
        .await
        .expect("json");
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|d| d["device_id"] != z.as_str() && d["device_id"] != s.as_str()),
        "{list}"
    );
    p.json(&stopic, json!({"event": "S", "event_cnt": 9})).await;
    p.json(&stopic, json!({"event": "S", "event_cnt": 10}))
        .await;
    handled(&h, 4).await;
    assert_eq!(alarms_of(&app, &s).await.len(), 1);
    h.stop();
    forget_session(&url, &id).await;
});

both!(the_server_subscribes_when_given_a_broker, |app| {
    let Some(url) = broker("the_server_subscribes_when_given_a_broker") else {
        return;
    };
    let (u, prefix, id) = (
        unique(),
        format!("t{}", unique()),
        format!("qorgau-t-{}", unique()),
    );
    let g = format!("g-{u}");
    // A second server on the same database, started the way `qorgau serve --mqtt-url` is.
    let mut cfg = app.cfg.clone();
    cfg.mqtt_url = Some(url.clone());
    cfg.mqtt_client_id = id.clone();
    cfg.mqtt_topics = vec![format!("{prefix}/buttons/+")];
    register(&app, &g, "generic", "1").await;
    let st = qorgau::app::state(app.db.clone(), cfg).expect("state");
    qorgau::app::try_start_background(&st).expect("background");
    // Its subscription is not observable from here: publish the same press until it arrives.
    let mut p = Publisher::connect(&url).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while alarms_of(&app, &g).await.is_empty() {
        assert!(Instant::now() < deadline, "no alarm");
        p.json(
            &format!("{prefix}/buttons/{g}"),
            json!({"device": g, "event": "press", "id": "w-1"}),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        alarms_of(&app, &g).await.len(),
        1,
        "one press, however often sent"
    );
    // A bad broker URL stops the server from starting.
    let mut bad = app.cfg.clone();
    bad.mqtt_url = Some("mqtts://broker:8883".into());
    let st = qorgau::app::state(app.db.clone(), bad).expect("state");
    assert!(qorgau::app::try_start_background(&st).is_err());
});

both!(the_device_registry_checks_input_and_scope, |app| {
    let admin = app.login("facility_admin").await;
    let sys = app.login("system_admin").await;
    let (facility, department) = emergency_department(&app).await;
    let u = unique();
    let put = |c: &reqwest::Client, id: &str, body: Value| {
        c.put(app.url(&format!("/api/v1/mqtt/devices/{id}")))
            .json(&body)
            .send()
    };
    let fields = |v: &Value| -> Vec<String> {
        v["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .map(|x| x["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Required fields, and a press list that is not empty.
    let r = put(&admin, &format!("a-{u}"), json!({"press_events": []}))
        .await
        .expect("put");
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.expect("json");
    let f = fields(&body);
    for want in ["mapping", "facility_id", "press_events"] {
        assert!(f.iter().any(|x| x == want), "{want} in {body}");
    }
    // A device id with a wildcard is refused.
    let r = put(
        &admin,
        "bad+id",
        json!({"mapping": "generic", "facility_id": facility}),
    )
    .await
    .expect("put");
    assert_eq!(r.status(), 422);
    // Another facility: not the facility administrator's to use; its department is not hers.
    let all: Value = sys
        .get(app.url("/api/v1/facilities?limit=200"))
        .send()
        .await
        .expect("facilities")
        .json()
        .await
        .expect("json");
    let items = all["items"].as_array().expect("facility list");
    let other = items
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .find(|id| *id != facility)
        .expect("another facility");
    let other_dept: Value = sys
        .get(app.url(&format!("/api/v1/facilities/{other}/departments")))
        .send()
        .await
        .expect("departments")
        .json()
        .await
        .expect("json");
    let other_dept = other_dept[0]["id"].as_str().expect("dept").to_owned();
    let r = put(
        &admin,
        &format!("b-{u}"),
        json!({"mapping": "generic", "facility_id": other}),
    )
    .await
    .expect("put");
    assert_eq!(r.status(), 422);
    assert_eq!(fields(&r.json().await.expect("json")), vec!["facility_id"]);
    let r = put(
        &admin,
        &format!("b-{u}"),
        json!({"mapping": "generic", "facility_id": facility, "department_id": other_dept}),
    )
    .await
    .expect("put");
    assert_eq!(r.status(), 422);
    assert_eq!(
        fields(&r.json().await.expect("json")),
        vec!["department_id"]
    );
    // Defaults: the mapping's usual press events.
    let mine = format!("c-{u}");
    let r = put(
        &admin,
        &mine,
        json!({"mapping": "shelly_gen1", "facility_id": facility, "department_id": department, "room": "7"}),
    )
    .await
    .expect("put");
    assert_eq!(r.status(), 201);
    let d: Value = r.json().await.expect("json");
    assert_eq!(
        d["press_events"],
        json!(["S", "SS", "SSS", "L", "SL", "LS"])
    );
    let r = put(
        &admin,
        &mine,
        json!({"mapping": "shelly_gen1", "press_events": ["L"], "facility_id": facility, "room": "8"}),
    )
    .await
    .expect("put");
    assert_eq!(r.status(), 200, "replaced");
    let d: Value = r.json().await.expect("json");
    assert_eq!(
        (d["room"].as_str(), d["press_events"].clone()),
        (Some("8"), json!(["L"]))
    );
    // A device of another facility is invisible to this facility's administrator.
    let theirs = format!("d-{u}");
    let r = put(
        &sys,
        &theirs,
        json!({"mapping": "zigbee2mqtt", "facility_id": other}),
    )
    .await
    .expect("put");
    assert_eq!(r.status(), 201);
    let get = |c: &reqwest::Client, id: &str| {
        c.get(app.url(&format!("/api/v1/mqtt/devices/{id}"))).send()
    };
    assert_eq!(get(&admin, &theirs).await.expect("get").status(), 404);
    assert_eq!(get(&sys, &theirs).await.expect("get").status(), 200);
    assert_eq!(
        put(
            &admin,
            &theirs,
            json!({"mapping": "generic", "facility_id": facility})
        )
        .await
        .expect("put")
        .status(),
        404,
        "not hers to take over"
    );
    let list_url = app.url("/api/v1/mqtt/devices");
    let listed = |c: reqwest::Client| {
        let list_url = list_url.clone();
        async move {
            let v: Value = c
                .get(list_url)
                .send()
                .await
                .expect("list")
                .json()
                .await
                .expect("json");
            v["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|d| d["id"].as_str().expect("id").to_owned())
                .collect::<Vec<_>>()
        }
    };
    let hers = listed(admin.clone()).await;
    assert!(hers.contains(&mine) && !hers.contains(&theirs), "{hers:?}");
    let all = listed(sys.clone()).await;
    assert!(all.contains(&mine) && all.contains(&theirs));
    // A worker may not see the registry at all.
    let worker = app.login("worker").await;
    assert_eq!(get(&worker, &mine).await.expect("get").status(), 403);
    // Removed, it is gone.
    let r = admin
        .delete(app.url(&format!("/api/v1/mqtt/devices/{mine}")))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 204);
    assert_eq!(get(&admin, &mine).await.expect("get").status(), 404);
    // The demo has one button in the emergency department.
    let demo: Value = sys
        .get(app.url("/api/v1/mqtt/devices/demo-sos-button"))
        .send()
        .await
        .expect("demo device")
        .json()
        .await
        .expect("json");
    assert_eq!(demo["mapping"], "zigbee2mqtt");
    assert_eq!(demo["department_id"], department.as_str());
});

/// A broker of this test's own (Mosquitto on a free port, no persistence), killed on drop.
async fn own_broker(port: u16) -> Option<tokio::process::Child> {
    let child = tokio::process::Command::new("mosquitto")
        .args(["-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "mosquitto did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reconnects_when_the_broker_comes_back() {
    if broker("the_client_reconnects_when_the_broker_comes_back").is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let Some(mut first) = own_broker(port).await else {
        eprintln!("skipped the_client_reconnects_when_the_broker_comes_back: no mosquitto binary");
        return;
    };
    let app = TestApp::start(common::Backend::Sqlite).await;
    let url = format!("mqtt://127.0.0.1:{port}");
    let (u, prefix, id) = (
        unique(),
        format!("t{}", unique()),
        format!("qorgau-t-{}", unique()),
    );
    let g = format!("g-{u}");
    register(&app, &g, "generic", "1").await;
    let h = client(&app, &url, &id, &prefix, true).await;
    // The broker goes away: the client notices and keeps trying.
    first.kill().await.expect("kill");
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.status() == mqtt::Status::Subscribed {
        assert!(Instant::now() < deadline, "the lost broker went unnoticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Back (without the old session, as after a broker's data loss): it connects and subscribes
    // again by itself, and presses work.
    let _second = own_broker(port).await.expect("restart mosquitto");
    assert!(h.subscribed(Duration::from_secs(30)).await, "no reconnect");
    let mut p = Publisher::connect(&url).await;
    p.json(
        &format!("{prefix}/buttons/{g}"),
        json!({"event": "press", "id": "after-restart"}),
    )
    .await;
    assert_eq!(wait_alarms(&app, &g, 1).await.len(), 1);
    h.stop();
}
