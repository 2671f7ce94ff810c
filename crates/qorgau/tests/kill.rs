//! SIGKILL while alarms arrive on all four paths: the real `qorgau serve` binary takes presses
//! from the API (Idempotency-Key), the phone page's request (its client UUID), MQTT QoS 1 buttons
//! and an alarm panel sending encrypted SIA DC-09 frames; it is killed mid-stream and started
//! again on the same data. The senders keep retrying as real ones do (the API client with the same
//! key, the phone with the same UUID, the panel retransmitting the same sequence number and
//! content, the broker redelivering what Qorgau had not acknowledged). Afterwards every press a
//! sender saw acknowledged is stored exactly once, and nothing is stored twice.
//!
//! Incident reports are sent through the same kill: named and confidential ones with an
//! Idempotency-Key, retried with the same key and body until answered, and anonymous ones (not
//! idempotent by design: a stored answer would hold the receipt), each counted once its receipt
//! came back. Afterwards every acknowledged report is stored once, with its fields and its
//! classification, and every receipt still opens its report.
//!
//! Runs on SQLite, and again on PostgreSQL (the same database across the restart) when
//! `QORGAU_TEST_POSTGRES_URL` is set; the MQTT path runs when `QORGAU_TEST_MQTT_URL` is set.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use sia_dc09::{Key, Message, Route, Seal, Timestamp, Token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BIN: &str = env!("CARGO_BIN_EXE_qorgau");
const PASSWORD: &str = "kill-test-demo-password";
const PANEL_KEY: &str = "6b696c6c2d746573742d70616e656c21";
/// Concurrent senders per path.
const SENDERS: usize = 3;
/// How long presses arrive before the kill, and after the restart.
const BEFORE: Duration = Duration::from_millis(1500);
const AFTER: Duration = Duration::from_millis(1500);
/// No sender may still be retrying after this.
const GIVE_UP: Duration = Duration::from_secs(100);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

struct Setup {
    dir: PathBuf,
    http: u16,
    sia: u16,
    database_url: Option<String>,
    mqtt: Option<Mqtt>,
}

#[derive(Clone)]
struct Mqtt {
    url: String,
    client_id: String,
    prefix: String,
}

/// The server process; killed (SIGKILL) when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Setup {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }

    fn spawn(&self, first: bool) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.with_extension("log"))
            .expect("log file");
        let mut c = Command::new(BIN);
        c.args(["serve", "--listen", &format!("127.0.0.1:{}", self.http)])
            .args(["--sia-listen", &format!("127.0.0.1:{}", self.sia)])
            .arg("--data-dir")
            .arg(&self.dir)
            .env("QORGAU_DEMO_PASSWORD", PASSWORD)
            // Dozens of anonymous reports from one address in seconds: no hourly limit here.
            .env("QORGAU_ANONYMOUS_PER_HOUR", "0")
            .env("QORGAU_DEMO_PANEL_KEY", PANEL_KEY)
            .env_remove("QORGAU_DATABASE_URL")
            .env_remove("QORGAU_MQTT_URL")
            .stdout(Stdio::null())
            .stderr(log);
        if first {
            c.arg("--demo");
        }
        if let Some(u) = &self.database_url {
            c.args(["--database-url", u]);
        }
        if let Some(m) = &self.mqtt {
            c.args(["--mqtt-url", &m.url])
                .args(["--mqtt-client-id", &m.client_id])
                .args(["--mqtt-topics", &format!("{}/buttons/+", m.prefix)]);
        }
        Server(c.spawn().expect("spawn qorgau serve"))
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/readyz", self.base())).await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "not ready; log: {}",
            std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default()
        );
    }

    /// Logs in the demo account of `role` (with its second factor, if it has one).
    async fn login(&self, role: &str) -> reqwest::Client {
        let csv = std::fs::read_to_string(self.dir.join("demo-accounts.csv")).expect("accounts");
        let (user, totp) = csv
            .lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f.get(1) == Some(&role))
            .map(|f| (f[0].to_owned(), f.get(3).map(|s| s.to_string())))
            .expect("demo account");
        let totp = totp
            .filter(|t| !t.is_empty())
            .map(|t| common::current_totp(&t))
            .unwrap_or_default();
        let c = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let r = c
            .post(format!("{}/api/v1/auth/login", self.base()))
            .json(&json!({"username": user, "password": PASSWORD, "totp": totp}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200, "login as {role}");
        c
    }
}

/// What the senders saw: presses acknowledged, attempts that failed and were retried.
#[derive(Default)]
struct Tally {
    acked: std::sync::Mutex<Vec<(&'static str, String)>>,
    failures: AtomicU64,
    acked_before_kill: AtomicU64,
    in_progress: AtomicU64,
}

struct Shared {
    tally: Tally,
    stop: AtomicBool,
    killed: AtomicBool,
    started: Instant,
}

impl Shared {
    fn ack(&self, path: &'static str, tag: String) {
        if !self.killed.load(Ordering::SeqCst) {
            self.tally.acked_before_kill.fetch_add(1, Ordering::Relaxed);
        }
        self.tally.acked.lock().expect("lock").push((path, tag));
    }
    fn failed(&self) {
        self.tally.failures.fetch_add(1, Ordering::Relaxed);
        assert!(
            self.started.elapsed() < GIVE_UP,
            "a sender was still retrying after {GIVE_UP:?}"
        );
    }
}

/// An HTTP sender: each press is posted until the server answers 201 or 200 (already stored),
/// always with the same key. `phone` sends the PWA's body with its client UUID; otherwise the
/// press carries an Idempotency-Key header.
async fn http_sender(base: String, c: reqwest::Client, sh: Arc<Shared>, phone: bool, n: usize) {
    let path = if phone { "phone" } else { "api" };
    let mut i = 0;
    while !sh.stop.load(Ordering::SeqCst) {
        let tag = format!("kill-{path}-{n}-{i}");
        let key = uuid::Uuid::new_v4();
        loop {
            let mut req = c.post(format!("{base}/api/v1/alarms"));
            req = if phone {
                req.json(&json!({
                    "client_id": key, "pressed_at": jiff::Timestamp::now().to_string(),
                    "kind": "panic", "room": tag, "floor": "", "silent": false
                }))
            } else {
                req.header("Idempotency-Key", key.to_string())
                    .json(&json!({"room": tag, "floor": "1"}))
            };
            match req.send().await {
                Ok(r) if r.status() == 201 || r.status() == 200 => {
                    sh.ack(path, tag);
                    break;
                }
                // A generic Idempotency-Key claim left "in progress" by the killed process would
                // hold retries off; the alarm route deduplicates by itself, so none may appear.
                Ok(r) if r.status() == 409 => {
                    sh.tally.in_progress.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(r) if r.status().is_client_error() => {
                    panic!(
                        "{path} press refused: {}",
                        r.text().await.unwrap_or_default()
                    )
                }
                _ => {
                    sh.failed();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        i += 1;
    }
}

fn report_body(mode: &str, tag: &str) -> Value {
    json!({
        "mode": mode,
        "types": ["physical.assault"],
        "perpetrator": "patient",
        "severity": 2,
        "place": "emergency_dept",
        "occurred_local": "2024-03-21T03:00",
        "wishes": ["union_support"],
        "narrative": format!("{tag}: pushed at the triage desk"),
    })
}

/// A reporter on a bad network: each report is sent until answered 201 (or 200, already
/// stored), named and confidential ones always with the same Idempotency-Key and body;
/// anonymous ones record their receipt (`tag receipt`).
async fn report_sender(
    base: String,
    c: reqwest::Client,
    sh: Arc<Shared>,
    mode: &'static str,
    facility: String,
    n: usize,
) {
    let mut i = 0;
    while !sh.stop.load(Ordering::SeqCst) {
        let tag = format!("kill-report-{mode}-{n}-{i}");
        let key = uuid::Uuid::new_v4().to_string();
        loop {
            let mut body = report_body(if mode == "anonymous" { "" } else { mode }, &tag);
            let url = if mode == "anonymous" {
                body["facility_id"] = json!(facility);
                format!("{base}/api/v1/reports/anonymous")
            } else {
                format!("{base}/api/v1/reports")
            };
            let mut req = c.post(url).json(&body);
            if mode != "anonymous" {
                req = req.header("Idempotency-Key", &key);
            }
            match req.send().await {
                Ok(r) if r.status() == 201 || r.status() == 200 => {
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    let ack = match v["receipt"].as_str() {
                        Some(receipt) => format!("{tag} {receipt}"),
                        None => tag.clone(),
                    };
                    sh.ack(mode, ack);
                    // Paced, so that her own list (its latest 200) holds all of them.
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    break;
                }
                Ok(r) if r.status() == 409 => {
                    sh.tally.in_progress.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(r) if r.status().is_client_error() => {
                    panic!(
                        "{mode} report refused: {}",
                        r.text().await.unwrap_or_default()
                    )
                }
                _ => {
                    sh.failed();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        i += 1;
    }
}

/// Checks every acknowledged report after the restart: the reporter's own ones once each, with
/// their fields and classification; each anonymous receipt opening its own report.
async fn check_reports(base: &str, worker: &reqwest::Client, acked: &[(&'static str, String)]) {
    let mine: Value = worker
        .get(format!("{base}/api/v1/me/reports"))
        .send()
        .await
        .expect("own reports")
        .json()
        .await
        .expect("json");
    let mine = mine.as_array().cloned().unwrap_or_default();
    let anon = reqwest::Client::new();
    for (mode, ack) in acked
        .iter()
        .filter(|(m, _)| ["named", "confidential", "anonymous"].contains(m))
    {
        let report = if *mode == "anonymous" {
            let (tag, receipt) = ack.split_once(' ').expect("tag and receipt");
            let r = anon
                .post(format!("{base}/api/v1/reports/anonymous/lookup"))
                .json(&json!({"receipt": receipt}))
                .send()
                .await
                .expect("lookup");
            assert_eq!(r.status(), 200, "receipt of {tag} does not open");
            let v: Value = r.json().await.expect("json");
            assert_eq!(
                v["report"]["narrative"],
                format!("{tag}: pushed at the triage desk")
            );
            v["report"].clone()
        } else {
            let found: Vec<_> = mine
                .iter()
                .filter(|r| {
                    r["narrative"]
                        .as_str()
                        .is_some_and(|t| t.starts_with(&format!("{ack}:")))
                })
                .collect();
            assert_eq!(
                found.len(),
                1,
                "{mode} report {ack} stored {} times",
                found.len()
            );
            found[0].clone()
        };
        assert_eq!(report["mode"], *mode);
        assert_eq!(report["types"], json!(["physical.assault"]));
        assert_eq!(report["when"]["classification"]["shift"], "night");
    }
    // Nothing of hers stored twice, acknowledged or not.
    let mut seen = HashMap::new();
    for r in &mine {
        if let Some(t) = r["narrative"]
            .as_str()
            .filter(|t| t.starts_with("kill-report-"))
        {
            *seen.entry(t.to_owned()).or_insert(0) += 1;
        }
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "a report stored twice: {seen:?}"
    );
}

/// An alarm panel on TCP: one encrypted Contact ID panic per zone, retransmitted with the same
/// sequence number and content (newly encrypted, with a new time) until it is acknowledged.
async fn panel(sia: u16, sh: Arc<Shared>, n: usize) {
    let key = Key::from_hex(PANEL_KEY).expect("key");
    let mut conn: Option<tokio::net::TcpStream> = None;
    let mut i = 0;
    while !sh.stop.load(Ordering::SeqCst) {
        // Zones 1..=999, a range of its own for each panel sender.
        let zone = n * 300 + i + 1;
        assert!(zone < (n + 1) * 300, "panel sender {n} ran out of zones");
        let seq = zone as u16;
        loop {
            let now = Timestamp::from_unix(jiff::Timestamp::now().as_second()).expect("now");
            let m = Message::new(
                Token::AdmCid,
                Route {
                    seq,
                    receiver: Some("1".into()),
                    line: Some("1".into()),
                    account: Some("D001".into()),
                },
                format!("#D001|1120 01 {zone:03}"),
            )
            .with_timestamp(now);
            let mut fill = |b: &mut [u8]| b.fill(b'x');
            let frame = m
                .encrypted()
                .encode(Some(Seal::new(&key, &mut fill)))
                .expect("encode");
            if conn.is_none() {
                conn = tokio::net::TcpStream::connect(("127.0.0.1", sia))
                    .await
                    .ok();
            }
            let reply = match conn.as_mut() {
                Some(s) => exchange(s, &frame).await,
                None => None,
            };
            match reply.and_then(|r| sia_dc09::parse(&r, Some(&key)).ok()) {
                Some(r) if r.header.token == Token::Ack && r.header.route.seq == seq => {
                    sh.ack("panel", format!("D001 zone {zone:03}"));
                    // Panels report events one after another, not as fast as a socket allows.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    break;
                }
                _ => {
                    conn = None;
                    sh.failed();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        i += 1;
    }
}

async fn exchange(s: &mut tokio::net::TcpStream, frame: &[u8]) -> Option<Vec<u8>> {
    s.write_all(frame).await.ok()?;
    let mut buf = vec![];
    let mut chunk = [0u8; 512];
    while !buf.ends_with(b"\r") {
        match tokio::time::timeout(Duration::from_secs(3), s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
    Some(buf)
}

/// A button's publisher: each press is published QoS 1 and counts as acknowledged when the broker
/// answers PUBACK (the broker is not killed; it holds the press for Qorgau's session).
async fn button(m: Mqtt, device: String, sh: Arc<Shared>, n: usize, once: bool) {
    let b = qorgau::alarms::mqtt::parse_url(&m.url).expect("broker url");
    let mut mo = MqttOptions::new(
        format!("kill-pub-{}", uuid::Uuid::now_v7().simple()),
        b.host,
        b.port,
    );
    mo.set_clean_session(true);
    let (client, mut el) = AsyncClient::new(mo, 16);
    let topic = format!("{}/buttons/{device}", m.prefix);
    let mut i = 0;
    while !sh.stop.load(Ordering::SeqCst) {
        let id = format!("kill-mqtt-{n}-{i}");
        client
            .publish(
                &topic,
                QoS::AtLeastOnce,
                false,
                json!({"event": "press", "id": id}).to_string(),
            )
            .await
            .expect("publish");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, el.poll()).await {
                Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("publishing: {e}"),
                Err(_) => panic!("no PUBACK"),
            }
        }
        sh.ack("mqtt", id);
        if once {
            break;
        }
        // A press every few milliseconds, as a busy floor of buttons would.
        tokio::time::sleep(Duration::from_millis(20)).await;
        i += 1;
    }
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_secs(1), el.poll()).await;
}

/// Every alarm of the facility, through the API.
async fn all_alarms(base: &str, c: &reqwest::Client) -> Vec<Value> {
    let mut out = vec![];
    let mut cursor = String::new();
    loop {
        let v: Value = c
            .get(format!("{base}/api/v1/alarms?limit=200{cursor}"))
            .send()
            .await
            .expect("alarms")
            .json()
            .await
            .expect("json");
        out.extend(v["items"].as_array().expect("items").iter().cloned());
        match v["next_cursor"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => return out,
        }
    }
}

fn mqtt_broker() -> Option<String> {
    let url = std::env::var("QORGAU_TEST_MQTT_URL")
        .ok()
        .filter(|s| !s.is_empty());
    if url.is_none() {
        eprintln!(
            "kill test: the MQTT path is skipped: QORGAU_TEST_MQTT_URL is not set (.ci/run sets it to mqtt://127.0.0.1:1883)"
        );
    }
    url
}

/// Ends the server's persistent session on the broker, so nothing is queued for it any more.
async fn forget_session(m: &Mqtt) {
    let b = qorgau::alarms::mqtt::parse_url(&m.url).expect("broker url");
    let mut mo = MqttOptions::new(&m.client_id, b.host, b.port);
    mo.set_clean_session(true);
    let (client, mut el) = AsyncClient::new(mo, 4);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(ev) = el.poll().await {
            if let Event::Incoming(Packet::ConnAck(_)) = ev {
                let _ = client.disconnect().await;
                let _ = el.poll().await;
                return;
            }
        }
    })
    .await;
}

async fn run(dir: &Path, database_url: Option<String>) {
    let mqtt = mqtt_broker().map(|url| Mqtt {
        url,
        client_id: format!("qorgau-kill-{}", uuid::Uuid::now_v7().simple()),
        prefix: format!("kill{}", uuid::Uuid::now_v7().simple()),
    });
    let setup = Setup {
        dir: dir.join("data"),
        http: free_port(),
        sia: free_port(),
        database_url,
        mqtt: mqtt.clone(),
    };
    let mut server = setup.spawn(true);
    setup.wait_ready().await;
    let base = setup.base();
    let worker = setup.login("worker").await;
    let admin = setup.login("facility_admin").await;
    let sysadmin = setup.login("system_admin").await;

    let device = format!("kill-{}", uuid::Uuid::now_v7().simple());
    if let Some(m) = &mqtt {
        let me: Value = admin
            .get(format!("{base}/api/v1/me"))
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("json");
        let facility = me["scope_id"].as_str().expect("facility").to_owned();
        let r = admin
            .put(format!("{base}/api/v1/mqtt/devices/{device}"))
            .json(
                &json!({"mapping": "generic", "label": "SOS", "facility_id": facility,
                "room": "ER", "floor": "1"}),
            )
            .send()
            .await
            .expect("register device");
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        // Qorgau's session exists once it has subscribed: until then the broker keeps nothing
        // for it. A first press that becomes an alarm shows it has.
        let warm = Arc::new(Shared {
            tally: Tally::default(),
            stop: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            started: Instant::now(),
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        for k in 0.. {
            button(m.clone(), device.clone(), Arc::clone(&warm), 1000 + k, true).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let stored = all_alarms(&base, &sysadmin)
                .await
                .iter()
                .any(|a| a["source"] == "mqtt" && a["source_ref"] == device.as_str());
            if stored {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the MQTT client never subscribed"
            );
        }
        // A warm-up press still on its way is counted below.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let me: Value = admin
        .get(format!("{base}/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let facility = me["scope_id"].as_str().expect("facility").to_owned();
    let before: usize = all_alarms(&base, &sysadmin)
        .await
        .iter()
        .filter(|a| a["source"] == "mqtt" && a["source_ref"] == device.as_str())
        .count();

    let sh = Arc::new(Shared {
        tally: Tally::default(),
        stop: AtomicBool::new(false),
        killed: AtomicBool::new(false),
        started: Instant::now(),
    });
    let mut tasks = vec![];
    for n in 0..SENDERS {
        let (b, s) = (base.clone(), Arc::clone(&sh));
        tasks.push(tokio::spawn(http_sender(b, admin.clone(), s, false, n)));
        let (b, s) = (base.clone(), Arc::clone(&sh));
        tasks.push(tokio::spawn(http_sender(b, worker.clone(), s, true, n)));
        tasks.push(tokio::spawn(panel(setup.sia, Arc::clone(&sh), n)));
        if let Some(m) = &mqtt {
            let s = Arc::clone(&sh);
            tasks.push(tokio::spawn(button(m.clone(), device.clone(), s, n, false)));
        }
        for mode in ["named", "confidential", "anonymous"]
            .into_iter()
            .filter(|_| n == 0)
        {
            let (b, s) = (base.clone(), Arc::clone(&sh));
            let c = if mode == "anonymous" {
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("client")
            } else {
                worker.clone()
            };
            tasks.push(tokio::spawn(report_sender(
                b,
                c,
                s,
                mode,
                facility.clone(),
                n,
            )));
        }
    }
    tokio::time::sleep(BEFORE).await;
    sh.killed.store(true, Ordering::SeqCst);
    // SIGKILL: no shutdown, no flush, whatever was in flight is cut off.
    server.0.kill().expect("SIGKILL");
    server.0.wait().expect("wait");
    drop(server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = setup.spawn(false);
    setup.wait_ready().await;
    tokio::time::sleep(AFTER).await;
    sh.stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.expect("sender");
    }

    let acked = std::mem::take(&mut *sh.tally.acked.lock().expect("lock"));
    let count = |p: &str| acked.iter().filter(|(q, _)| *q == p).count();
    eprintln!(
        "kill test: acknowledged api {} phone {} panel {} mqtt {} ({} before the kill), {} failed attempts retried, {} answers 409 (a cut-off request's Idempotency-Key claim)",
        count("api"),
        count("phone"),
        count("panel"),
        count("mqtt"),
        sh.tally.acked_before_kill.load(Ordering::Relaxed),
        sh.tally.failures.load(Ordering::Relaxed),
        sh.tally.in_progress.load(Ordering::Relaxed)
    );
    eprintln!(
        "kill test: acknowledged reports named {} confidential {} anonymous {}",
        count("named"),
        count("confidential"),
        count("anonymous")
    );
    for p in [
        "api",
        "phone",
        "panel",
        "named",
        "confidential",
        "anonymous",
    ] {
        assert!(count(p) > 0, "no {p} press or report was acknowledged");
    }
    check_reports(&base, &worker, &acked).await;
    assert_eq!(
        sh.tally.in_progress.load(Ordering::Relaxed),
        0,
        "a retried press was held off by a stale claim"
    );
    assert!(
        sh.tally.acked_before_kill.load(Ordering::Relaxed) > 0,
        "nothing was acknowledged before the kill"
    );
    assert!(
        sh.tally.failures.load(Ordering::Relaxed) > 0,
        "the kill cut nothing off: no sender had to retry"
    );

    // The broker hands Qorgau's session what it had not acknowledged; wait for all of it.
    let expected_mqtt = before + count("mqtt");
    let deadline = Instant::now() + Duration::from_secs(20);
    let alarms = loop {
        let all = all_alarms(&base, &sysadmin).await;
        let mqtt_n = all
            .iter()
            .filter(|a| a["source"] == "mqtt" && a["source_ref"] == device.as_str())
            .count();
        if mqtt_n >= expected_mqtt || Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    drop(server);

    // Each HTTP press carries its tag in `room`, each panel event its zone in `source_ref`.
    let mut stored: HashMap<(String, String), usize> = HashMap::new();
    for a in &alarms {
        let source = a["source"].as_str().expect("source").to_owned();
        let tag = match source.as_str() {
            "phone" => a["room"].as_str().expect("room").to_owned(),
            _ => a["source_ref"].as_str().expect("source_ref").to_owned(),
        };
        *stored.entry((source, tag)).or_default() += 1;
    }
    let mut missing = vec![];
    for (path, tag) in acked
        .iter()
        .filter(|(p, _)| ["api", "phone", "panel"].contains(p))
    {
        let source = if *path == "panel" { "panel" } else { "phone" };
        match stored.get(&(source.to_owned(), tag.clone())) {
            Some(1) => {}
            Some(n) => panic!("{path} press {tag} stored {n} times"),
            None => missing.push(tag.clone()),
        }
    }
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    // Nothing stored twice, acknowledged or not.
    let dup: Vec<_> = stored
        .iter()
        .filter(|((s, t), n)| **n > 1 && s != "mqtt" && (t.starts_with("kill-") || s == "panel"))
        .collect();
    assert!(dup.is_empty(), "stored more than once: {dup:?}");
    if mqtt.is_some() {
        // Each press has its own id, so its own dedupe key: one alarm each, no more, no fewer.
        let n = stored
            .get(&("mqtt".to_owned(), device.clone()))
            .copied()
            .unwrap_or(0);
        assert_eq!(n, expected_mqtt, "MQTT presses acknowledged by the broker");
    }
    if let Some(m) = &mqtt {
        forget_session(m).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_and_duplicates_nothing_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    run(tmp.path(), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_and_duplicates_nothing_postgres() {
    let Some(url) = std::env::var("QORGAU_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        eprintln!("skipped on PostgreSQL: QORGAU_TEST_POSTGRES_URL is not set (.ci/run sets it)");
        return;
    };
    let name = format!("qorgau_t_kill_{}", uuid::Uuid::now_v7().simple());
    let admin = qorgau::platform::db::Db::connect(&url)
        .await
        .expect("connect to postgres");
    let create: &'static str = Box::leak(format!("CREATE DATABASE {name}").into_boxed_str());
    admin
        .conn()
        .await
        .expect("conn")
        .execute(create, vec![])
        .await
        .expect("create database");
    let (prefix, _) = url.rsplit_once('/').expect("database url");
    let tmp = tempfile::tempdir().expect("tmp");
    run(tmp.path(), Some(format!("{prefix}/{name}"))).await;
    let drop_db: &'static str =
        Box::leak(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").into_boxed_str());
    if let Ok(mut c) = admin.conn().await {
        let _ = c.execute(drop_db, vec![]).await;
    }
    admin.close().await;
}
