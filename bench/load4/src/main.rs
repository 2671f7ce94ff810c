//! Load for bench/issue4.py and bench/issue5.py. Each subcommand prints one JSON object on stdout:
//!
//! - `reports BASE KIND USER PASSWORD CONCURRENCY SECS NARRATIVE [RATE]`: incident reports through
//!   the API with a narrative of NARRATIVE bytes, KIND `named` (as USER, each with its own
//!   Idempotency-Key) or `anonymous` (USER is then the facility id); closed loop, or with RATE an
//!   open loop at RATE/s in all. Counts the 201 answers (each durable before it).
//! - `raise BASE USER PASSWORD CONCURRENCY SECS`: closed-loop presses through `POST /api/v1/alarms`
//!   (each one durable before its 201), CONCURRENCY at a time.
//! - `sia ADDR KEYS SECS`: one TCP connection per line `account,ascii-key` of KEYS, each a panel
//!   sending AES-encrypted Contact ID panics and waiting for the ACK before the next.
//! - `sse BASE USERS PER RATE SECS PID`: per line `username,password` of USERS (one facility's
//!   guard), PER consoles on `GET /api/v1/alarms/stream`; then presses at RATE/s through the API,
//!   spread over the facilities, each carrying its send time; consoles time their arrival. PID's
//!   RSS is read before and after the consoles connect.
//! - `mqtt HOST PORT TOPICS PER RATE SECS`: the same topology on an MQTT broker: PER QoS 1
//!   subscribers on each of TOPICS topics, QoS 1 publishes at RATE/s carrying their send time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// p50, p99 and max in milliseconds of latencies in microseconds.
fn summary(mut v: Vec<u64>) -> Value {
    v.sort_unstable();
    let q = |p: f64| {
        if v.is_empty() {
            return Value::Null;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        json!(v[i] as f64 / 1000.0)
    };
    json!({"n": v.len(), "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": q(1.0)})
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn arg<T: std::str::FromStr>(a: &[String], i: usize, name: &str) -> T {
    a.get(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("argument {i}: {name}"))
}

#[tokio::main]
async fn main() -> Res<()> {
    let a: Vec<String> = std::env::args().collect();
    let out = match a.get(1).map(String::as_str) {
        Some("raise") => {
            raise(
                &a[2],
                &a[3],
                &a[4],
                arg(&a, 5, "concurrency"),
                arg(&a, 6, "secs"),
            )
            .await?
        }
        Some("sia") => sia(&a[2], &a[3], arg(&a, 4, "secs")).await?,
        Some("sse") => {
            sse(
                &a[2],
                &a[3],
                arg(&a, 4, "per"),
                arg(&a, 5, "rate"),
                arg(&a, 6, "secs"),
                arg(&a, 7, "pid"),
            )
            .await?
        }
        Some("mqtt") => {
            mqtt(
                &a[2],
                arg(&a, 3, "port"),
                arg(&a, 4, "topics"),
                arg(&a, 5, "per"),
                arg(&a, 6, "rate"),
                arg(&a, 7, "secs"),
            )
            .await?
        }
        Some("reports") => {
            reports(
                &a[2],
                &a[3],
                &a[4],
                &a[5],
                arg(&a, 6, "concurrency"),
                arg(&a, 7, "secs"),
                arg(&a, 8, "narrative bytes"),
                a.get(9).and_then(|r| r.parse().ok()).unwrap_or(0.0),
            )
            .await?
        }
        _ => return Err("usage: see the module documentation".into()),
    };
    println!("{out}");
    Ok(())
}

/// Logs in and returns the session cookie (`name=value`).
async fn login(c: &reqwest::Client, base: &str, user: &str, password: &str) -> Res<String> {
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password, "totp": ""}))
        .send()
        .await?;
    if r.status() != 200 {
        return Err(format!("login {user}: {}", r.status()).into());
    }
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    Ok(cookies.join("; "))
}

async fn raise(base: &str, user: &str, password: &str, conc: usize, secs: u64) -> Res<Value> {
    let c = reqwest::Client::new();
    let cookie = Arc::new(login(&c, base, user, password).await?);
    let url = Arc::new(format!("{base}/api/v1/alarms"));
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![];
    for _ in 0..conc {
        let (c, cookie, url, errors) = (c.clone(), cookie.clone(), url.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            while Instant::now() < end {
                let t = Instant::now();
                let r = c
                    .post(url.as_str())
                    .header("cookie", cookie.as_str())
                    .json(&json!({"room": "bench", "floor": "1"}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 201 => lat.push(t.elapsed().as_micros() as u64),
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(
        json!({"alarms": all.len(), "per_sec": all.len() as f64 / secs,
        "errors": errors.load(Ordering::Relaxed), "latency": summary(all)}),
    )
}

/// Reports through the API from `conc` clients, each sending its next as soon as the last was
/// answered. `kind` is `named` (logged in as `user`, each with its own Idempotency-Key) or
/// `anonymous` (no account; `user` is the facility, `password` unused). Counts only 201 answers.
async fn reports(
    base: &str,
    kind: &str,
    user: &str,
    password: &str,
    conc: usize,
    secs: u64,
    narrative: usize,
    rate: f64,
) -> Res<Value> {
    // One connection per client, as 500 phones would have.
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(conc)
        .build()?;
    let anonymous = kind == "anonymous";
    let cookie = Arc::new(if anonymous {
        String::new()
    } else {
        login(&c, base, user, password).await?
    });
    let url = Arc::new(if anonymous {
        format!("{base}/api/v1/reports/anonymous")
    } else {
        format!("{base}/api/v1/reports")
    });
    // Ordinary words, so the body is the size a real narrative of that length would be.
    let text: String = "A relative shouted at me and pushed me against the wall. "
        .chars()
        .cycle()
        .take(narrative)
        .collect();
    let mut body = json!({
        "mode": if anonymous { "" } else { "named" },
        "types": ["physical.assault", "psychological.verbal_abuse"],
        "perpetrator": "relative_companion",
        "severity": 2,
        "injury": true,
        "sick_leave_days": 3,
        "psychological_harm": true,
        "witnesses": "Nurse on duty",
        "place": "emergency_dept",
        "occurred_local": "2026-03-21T03:00",
        "wishes": ["police", "union_support"],
        "narrative": text,
    });
    if anonymous {
        // Anonymous reports name their facility: given in place of the user name.
        body["facility_id"] = json!(user);
    }
    let body = Arc::new(serde_json::to_vec(&body)?);
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(String::new()));
    let mut tasks = vec![];
    for w in 0..conc {
        let (c, cookie, url, body, errors, first_error) = (
            c.clone(),
            cookie.clone(),
            url.clone(),
            body.clone(),
            errors.clone(),
            first_error.clone(),
        );
        // Open loop when a rate is given: client `w` sends on its own schedule, every `conc /
        // rate` seconds, staggered, and latency counts from the scheduled time, so a slow answer
        // is charged for the sends it delayed (no coordinated omission).
        let interval = (rate > 0.0).then(|| Duration::from_secs_f64(conc as f64 / rate));
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let mut i = 0u64;
            while Instant::now() < end {
                i += 1;
                let t = match interval {
                    Some(iv) => {
                        let at = start + iv.mul_f64(w as f64 / conc as f64 + (i - 1) as f64);
                        if at >= end {
                            break;
                        }
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    None => Instant::now(),
                };
                let mut req = c
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .body(body.as_ref().clone());
                if !cookie.is_empty() {
                    req = req
                        .header("cookie", cookie.as_str())
                        .header("idempotency-key", format!("bench-{w}-{i}-{}", now_us()));
                }
                match req.send().await {
                    Ok(r) if r.status() == 201 => lat.push(t.elapsed().as_micros() as u64),
                    Ok(r) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let s = r.status();
                        let text = r.text().await.unwrap_or_default();
                        let mut f = first_error.lock().expect("lock");
                        if f.is_empty() {
                            *f = format!("{s}: {}", &text[..text.len().min(300)]);
                        }
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let mut f = first_error.lock().expect("lock");
                        if f.is_empty() {
                            *f = e.to_string();
                        }
                    }
                }
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    let first_error = first_error.lock().expect("lock").clone();
    Ok(json!({"reports": all.len(), "per_sec": all.len() as f64 / secs,
        "errors": errors.load(Ordering::Relaxed), "first_error": first_error,
        "body_bytes": body.len(), "latency": summary(all)}))
}

async fn sia(addr: &str, keys: &str, secs: u64) -> Res<Value> {
    let panels: Vec<(String, String)> = std::fs::read_to_string(keys)?
        .lines()
        .filter_map(|l| {
            let (a, k) = l.split_once(',')?;
            Some((a.to_owned(), k.to_owned()))
        })
        .collect();
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let bad = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![];
    for (account, key) in panels {
        let (addr, bad) = (addr.to_owned(), bad.clone());
        tasks.push(tokio::spawn(async move {
            let key = sia_dc09::Key::from_ascii(&key).expect("ASCII key");
            let mut lat = vec![];
            let mut s = match TcpStream::connect(&addr).await {
                Ok(s) => s,
                Err(_) => {
                    bad.fetch_add(1, Ordering::Relaxed);
                    return lat;
                }
            };
            let _ = s.set_nodelay(true);
            let mut i: u64 = 0;
            let mut buf = vec![0u8; 1024];
            while Instant::now() < end {
                let seq = (i % 9999) as u16 + 1;
                let zone = i % 999 + 1;
                i += 1;
                let ts =
                    sia_dc09::Timestamp::from_unix((now_us() / 1_000_000) as i64).expect("time");
                let m = sia_dc09::Message::new(
                    sia_dc09::Token::AdmCid,
                    sia_dc09::Route {
                        seq,
                        receiver: Some("1".into()),
                        line: Some("1".into()),
                        account: Some(account.clone()),
                    },
                    format!("#{account}|1120 01 {zone:03}"),
                )
                .with_timestamp(ts);
                let mut fill = |b: &mut [u8]| b.fill(b'0');
                let frame = m
                    .encrypted()
                    .encode(Some(sia_dc09::Seal::new(&key, &mut fill)))
                    .expect("encode");
                let t = Instant::now();
                if s.write_all(&frame).await.is_err() {
                    bad.fetch_add(1, Ordering::Relaxed);
                    return lat;
                }
                let mut got = 0;
                let ok = loop {
                    match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf[got..]))
                        .await
                    {
                        Ok(Ok(n)) if n > 0 => {
                            got += n;
                            if buf[..got].ends_with(b"\r") || got == buf.len() {
                                break true;
                            }
                        }
                        _ => break false,
                    }
                };
                // The token is in clear in the header: `"*ACK"` or `"ACK"`.
                if ok && buf[..got].windows(4).any(|w| w == b"ACK\"") {
                    lat.push(t.elapsed().as_micros() as u64);
                } else {
                    bad.fetch_add(1, Ordering::Relaxed);
                    if !ok {
                        return lat;
                    }
                }
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await?);
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(
        json!({"events": all.len(), "per_sec": all.len() as f64 / secs,
        "not_acked": bad.load(Ordering::Relaxed), "ack": summary(all)}),
    )
}

/// Reads an HTTP/1.1 chunked body, handing each chunk's bytes to `f`.
struct Chunked {
    buf: Vec<u8>,
    left: usize,
}

impl Chunked {
    /// Feeds raw bytes; returns body bytes.
    fn feed(&mut self, raw: &[u8], body: &mut Vec<u8>) {
        self.buf.extend_from_slice(raw);
        loop {
            if self.left > 0 {
                let n = self.left.min(self.buf.len());
                body.extend_from_slice(&self.buf[..n]);
                self.buf.drain(..n);
                self.left -= n;
                if self.left > 0 {
                    return;
                }
                // The CRLF after the chunk is skipped with the next size line.
            }
            let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                return;
            };
            let line = String::from_utf8_lossy(&self.buf[..i]).trim().to_owned();
            self.buf.drain(..i + 2);
            if line.is_empty() {
                continue;
            }
            self.left =
                usize::from_str_radix(line.split(';').next().unwrap_or(""), 16).unwrap_or(0);
        }
    }
}

async fn open_stream(addr: &str, host: &str, cookie: &str) -> Res<(TcpStream, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    s.write_all(
        format!(
            "GET /api/v1/alarms/stream HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .as_bytes(),
    )
    .await?;
    let mut head = vec![];
    let mut b = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(60), s.read(&mut b)).await??;
        if n == 0 {
            return Err("closed before the headers".into());
        }
        head.extend_from_slice(&b[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            if !head.starts_with(b"HTTP/1.1 200") {
                return Err(format!("stream: {}", String::from_utf8_lossy(&head[..i])).into());
            }
            let rest = head[i + 4..].to_vec();
            return Ok((s, rest));
        }
    }
}

/// One console: times every `raised` event by the send time its press carried in `room`.
async fn console(
    mut s: TcpStream,
    first: Vec<u8>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<u64> {
    let mut lat = vec![];
    let mut ch = Chunked {
        buf: vec![],
        left: 0,
    };
    let mut body = vec![];
    let mut text = String::new();
    let mut b = vec![0u8; 16384];
    let mut raw = first;
    loop {
        ch.feed(&raw, &mut body);
        let arrived = now_us();
        text.push_str(&String::from_utf8_lossy(&body));
        body.clear();
        while let Some(i) = text.find("\n\n") {
            let block: String = text.drain(..i + 2).collect();
            for l in block.lines() {
                if let Some(d) = l.strip_prefix("data: ")
                    && let Ok(v) = serde_json::from_str::<Value>(d)
                    && v["kind"] == "raised"
                    && let Some(t) = v["detail"]["room"]
                        .as_str()
                        .and_then(|r| r.parse::<u64>().ok())
                {
                    lat.push(arrived.saturating_sub(t));
                }
            }
        }
        tokio::select! {
            r = s.read(&mut b) => match r {
                Ok(n) if n > 0 => raw = b[..n].to_vec(),
                _ => return lat,
            },
            _ = stop.changed() => return lat,
        }
    }
}

async fn sse(base: &str, users: &str, per: usize, rate: u64, secs: u64, pid: u32) -> Res<Value> {
    let host = base.trim_start_matches("http://").to_owned();
    let accounts: Vec<(String, String)> = std::fs::read_to_string(users)?
        .lines()
        .filter_map(|l| {
            let (u, p) = l.split_once(',')?;
            Some((u.to_owned(), p.to_owned()))
        })
        .collect();
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    // Logins, a few at a time (each is an argon2 check on the server).
    let t0 = Instant::now();
    let gate = Arc::new(Semaphore::new(4));
    let mut ls = vec![];
    for (u, p) in accounts {
        let (c, base, gate) = (c.clone(), base.to_owned(), gate.clone());
        ls.push(tokio::spawn(async move {
            let _g = gate.acquire().await;
            login(&c, &base, &u, &p).await.map_err(|e| e.to_string())
        }));
    }
    let mut cookies = vec![];
    for l in ls {
        cookies.push(l.await??);
    }
    let login_secs = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = rss_kib(pid);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let gate = Arc::new(Semaphore::new(200));
    let mut opens = vec![];
    for cookie in &cookies {
        for _ in 0..per {
            let (host, cookie, gate) = (host.clone(), cookie.clone(), gate.clone());
            opens.push(tokio::spawn(async move {
                let _g = gate.acquire().await;
                open_stream(&host, &host, &cookie)
                    .await
                    .map_err(|e| e.to_string())
            }));
        }
    }
    let mut consoles = vec![];
    for o in opens {
        let (s, first) = o.await??;
        consoles.push(tokio::spawn(console(s, first, stop_rx.clone())));
    }
    let connected = consoles.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_with = rss_kib(pid);

    // Presses at `rate`, open loop, round-robin over the facilities.
    let url = Arc::new(format!("{base}/api/v1/alarms"));
    let sent = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let total = rate * secs;
    let start = Instant::now();
    let mut posts = vec![];
    for i in 0..total {
        let due = start + Duration::from_micros(i * 1_000_000 / rate);
        tokio::time::sleep_until(due.into()).await;
        let cookie = cookies[(i as usize) % cookies.len()].clone();
        let (c, url, sent, failed) = (c.clone(), url.clone(), sent.clone(), failed.clone());
        posts.push(tokio::spawn(async move {
            let r = c
                .post(url.as_str())
                .header("cookie", cookie)
                .json(&json!({"room": now_us().to_string(), "floor": "1"}))
                .send()
                .await;
            match r {
                Ok(r) if r.status() == 201 => sent.fetch_add(1, Ordering::Relaxed),
                _ => failed.fetch_add(1, Ordering::Relaxed),
            };
        }));
    }
    for p in posts {
        p.await?;
    }
    let press_secs = start.elapsed().as_secs_f64();
    // Let the last presses arrive, then close the consoles.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = rss_kib(pid);
    let _ = stop_tx.send(true);
    let mut lat = vec![];
    for c in consoles {
        if let Ok(v) = c.await {
            lat.extend(v);
        }
    }
    Ok(json!({
        "consoles": connected, "facilities": cookies.len(), "login_secs": login_secs,
        "rss_before_kib": rss_before, "rss_with_kib": rss_with, "rss_after_kib": rss_after,
        "kib_per_console": (rss_with as f64 - rss_before as f64) / connected.max(1) as f64,
        "alarms": sent.load(Ordering::Relaxed), "failed": failed.load(Ordering::Relaxed),
        "press_secs": press_secs,
        "expected_deliveries": sent.load(Ordering::Relaxed) * per as u64,
        "delivery": summary(lat),
    }))
}

async fn mqtt(
    host: &str,
    port: u16,
    topics: usize,
    per: usize,
    rate: u64,
    secs: u64,
) -> Res<Value> {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let run = now_us();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u64>>();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let stop = Arc::new(tokio::sync::Notify::new());
    let gate = Arc::new(Semaphore::new(100));
    for t in 0..topics {
        for k in 0..per {
            let (host, done_tx, ready_tx, stop, gate) = (
                host.to_owned(),
                done_tx.clone(),
                ready_tx.clone(),
                stop.clone(),
                gate.clone(),
            );
            tokio::spawn(async move {
                let permit = gate.acquire_owned().await;
                let mut mo = MqttOptions::new(format!("b4-{run}-{t}-{k}"), host, port);
                mo.set_clean_session(true)
                    .set_keep_alive(Duration::from_secs(60));
                let (client, mut el) = AsyncClient::new(mo, 10);
                let topic = format!("bench4/{run}/t{t}");
                let _ = client.subscribe(topic, QoS::AtLeastOnce).await;
                let mut lat = vec![];
                let mut permit = Some(permit);
                let stopped = stop.notified();
                tokio::pin!(stopped);
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        ev = el.poll() => match ev {
                            Ok(Event::Incoming(Packet::SubAck(_))) => {
                                permit.take();
                                let _ = ready_tx.send(());
                            }
                            Ok(Event::Incoming(Packet::Publish(p))) => {
                                let now = now_us();
                                if let Some(t) = std::str::from_utf8(&p.payload).ok().and_then(|s| s.parse::<u64>().ok()) {
                                    lat.push(now.saturating_sub(t));
                                }
                            }
                            Ok(_) => {}
                            Err(_) => {
                                tokio::time::sleep(Duration::from_millis(200)).await;
                            }
                        }
                    }
                }
                let _ = done_tx.send(lat);
            });
        }
    }
    drop(ready_tx);
    let n = topics * per;
    let t0 = Instant::now();
    for _ in 0..n {
        if tokio::time::timeout(Duration::from_secs(120), ready_rx.recv())
            .await
            .ok()
            .flatten()
            .is_none()
        {
            return Err("subscribers did not all subscribe".into());
        }
    }
    let subscribe_secs = t0.elapsed().as_secs_f64();
    let mut mo = MqttOptions::new(format!("b4-{run}-pub"), host, port);
    mo.set_clean_session(true).set_inflight(1000);
    let (client, mut el) = AsyncClient::new(mo, 1000);
    let acked = Arc::new(AtomicU64::new(0));
    let a2 = acked.clone();
    let poller = tokio::spawn(async move {
        loop {
            match el.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    a2.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    let total = rate * secs;
    let start = Instant::now();
    for i in 0..total {
        let due = start + Duration::from_micros(i * 1_000_000 / rate);
        tokio::time::sleep_until(due.into()).await;
        let topic = format!("bench4/{run}/t{}", i as usize % topics);
        client
            .publish(topic, QoS::AtLeastOnce, false, now_us().to_string())
            .await?;
    }
    let publish_secs = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.notify_waiters();
    drop(done_tx);
    let mut lat = vec![];
    while let Some(v) = done_rx.recv().await {
        lat.extend(v);
    }
    poller.abort();
    Ok(
        json!({"subscribers": n, "topics": topics, "subscribe_secs": subscribe_secs,
        "published": total, "pubacks": acked.load(Ordering::Relaxed), "publish_secs": publish_secs,
        "expected_deliveries": total * per as u64, "delivery": summary(lat)}),
    )
}
