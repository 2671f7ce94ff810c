//! Notifications: a facility's escalation policy (edited over the API, snapshotted per alarm),
//! signed webhooks retried through the jobs table with every attempt logged, and Web Push
//! received by a fake push service that checks the VAPID JWT and decrypts the RFC 8291 body.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::{TestApp, wait_for};
use serde_json::{Value, json};

async fn raise(app: &TestApp) -> String {
    let worker = app.login("worker").await;
    let a: Value = worker
        .post(app.url("/api/v1/alarms"))
        .json(&json!({"room": "12"}))
        .send()
        .await
        .expect("raise")
        .json()
        .await
        .expect("json");
    a["id"].as_str().expect("alarm id").to_owned()
}

/// The escalation entries of an alarm's audit trail, oldest first.
async fn escalations(app: &TestApp, id: &str) -> Vec<Value> {
    let log: Value = app
        .login("system_admin")
        .await
        .get(app.url(&format!(
            "/api/v1/audit?action=alarm.escalate&object_id={id}"
        )))
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let mut v: Vec<Value> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| serde_json::from_str(e["detail"].as_str().expect("detail")).expect("json"))
        .collect();
    v.sort_by_key(|d| d["level"].as_i64());
    v
}

both!(
    the_policy_is_validated_and_alarms_keep_the_one_they_started_with,
    |app| {
        let facility = app.demo_facility().await;
        let url = app.url(&format!("/api/v1/facilities/{facility}/escalation-policy"));
        let admin = app.login("facility_admin").await;
        let p: Value = admin
            .get(&url)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(p["custom"], false);
        assert_eq!(
            p["steps"][0],
            json!({"after_secs": 30, "target": "facility_duty_admin"})
        );
        assert_eq!(
            p["steps"][1],
            json!({"after_secs": 60, "target": "regional_duty_officer"})
        );

        let bad = admin
        .put(&url)
        .header("Accept-Language", "ru")
        .json(&json!({"steps": [{"after_secs": 0, "target": "security_post"}, {"after_secs": 10, "target": "janitor"}]}))
        .send()
        .await
        .expect("put");
        assert_eq!(bad.status(), 422);
        let body: Value = bad.json().await.expect("json");
        let errors = body["errors"].as_array().expect("errors");
        let fields: Vec<&str> = errors
            .iter()
            .map(|e| e["field"].as_str().expect("field"))
            .collect();
        assert_eq!(fields, ["steps[0].after_secs", "steps[1].target"]);
        assert!(
            errors
                .iter()
                .all(|e| !e["message"].as_str().expect("message").is_empty())
        );
        let too_many = admin
            .put(&url)
            .json(&json!({"steps": vec![json!({"after_secs": 5, "target": "security_post"}); 7]}))
            .send()
            .await
            .expect("put");
        assert_eq!(too_many.status(), 422);
        let worker = app.login("worker").await;
        assert_eq!(worker.get(&url).send().await.expect("get").status(), 403);

        let two_steps = json!({"steps": [
            {"after_secs": 1, "target": "security_post"},
            {"after_secs": 1, "target": "department_head"}
        ]});
        let ok = admin.put(&url).json(&two_steps).send().await.expect("put");
        assert_eq!(ok.status(), 200);
        let id = raise(&app).await;
        // Changed at once: the alarm just raised still follows the two one-second steps.
        let later = json!({"steps": [{"after_secs": 3600, "target": "facility_duty_admin"}]});
        assert_eq!(
            admin
                .put(&url)
                .json(&later)
                .send()
                .await
                .expect("put")
                .status(),
            200
        );
        let steps = wait_for(15, "two escalations", async || {
            let e = escalations(&app, &id).await;
            (e.len() == 2).then_some(e)
        })
        .await;
        assert_eq!(steps[0]["to"], "security_post");
        assert_eq!(steps[0]["level"], 1);
        assert_eq!(steps[1]["to"], "department_head");
        assert_eq!(steps[1]["level"], 2);
        // The console's feed carries each step.
        let guard = app.login("security_guard").await;
        let a: Value = guard
            .get(app.url(&format!("/api/v1/alarms/{id}")))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(a["escalation_level"], 2);
        assert_eq!(a["escalation_target"], "department_head");
        let list = guard
            .get(app.url("/console/list"))
            .header("accept-language", "en")
            .send()
            .await
            .expect("console")
            .text()
            .await
            .expect("html");
        assert!(
            list.contains("Escalated, level 2: Head of department"),
            "{list}"
        );
        let feed = app.url("/api/v1/alarms/stream");
        let mut r = guard
            .get(&feed)
            .header("Last-Event-ID", "0")
            .send()
            .await
            .expect("stream");
        let mut text = String::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while text.matches("\"escalated\"").count() < 2 && Instant::now() < deadline {
            if let Ok(Ok(Some(b))) =
                tokio::time::timeout(Duration::from_millis(300), r.chunk()).await
            {
                text.push_str(&String::from_utf8_lossy(&b));
            }
        }
        assert!(text.contains("\"to\":\"department_head\""), "feed: {text}");

        // A new alarm follows the new policy: nothing within a few seconds.
        let id2 = raise(&app).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(escalations(&app, &id2).await.is_empty());
    }
);

/// What a fake server received.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// An HTTP server on a random port that records requests and answers with `status(n)` for the
/// n-th request (0-based) to a path.
async fn fake_server(
    status: impl Fn(&str, usize) -> u16 + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Received>>>) {
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let g = got.clone();
    let status = Arc::new(status);
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| {
            let g = g.clone();
            let status = status.clone();
            async move {
                let path = uri.path().to_owned();
                let mut v = g.lock().expect("lock");
                let n = v.iter().filter(|r| r.path == path).count();
                v.push(Received {
                    path: path.clone(),
                    headers,
                    body: body.to_vec(),
                });
                StatusCode::from_u16(status(&path, n)).expect("status")
            }
        },
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (base, got)
}

/// Makes every pending notification job due now (as if its back-off had passed).
async fn hurry(app: &TestApp) {
    app.db
        .execute(
            "UPDATE jobs SET due_at = 0 WHERE kind LIKE 'notify.%' AND done_at IS NULL AND attempts = 0",
            vec![],
        )
        .await
        .expect("hurry");
}

both!(
    a_webhook_is_signed_retried_with_back_off_and_every_attempt_logged,
    |app| {
        let (base, got) = fake_server(|_, n| if n < 2 { 500 } else { 204 }).await;
        let facility = app.demo_facility().await;
        let admin = app.login("facility_admin").await;
        let r = admin
        .post(app.url("/api/v1/webhooks"))
        .json(&json!({"facility_id": facility, "url": format!("{base}/hook"), "events": ["alarm.raised"]}))
        .send()
        .await
        .expect("create");
        assert_eq!(r.status(), 201);
        let hook: Value = r.json().await.expect("json");
        let secret = hook["secret"].as_str().expect("secret").to_owned();
        let hook_id = hook["id"].as_str().expect("id").to_owned();
        // Shown once: the list does not carry it, and the database holds it sealed.
        let list = admin
            .get(app.url("/api/v1/webhooks"))
            .send()
            .await
            .expect("list")
            .text()
            .await
            .expect("text");
        assert!(list.contains(&hook_id) && !list.contains(&secret));
        // Another facility's administrator cannot create one for a region.
        let region = admin
        .post(app.url("/api/v1/webhooks"))
        .json(&json!({"region_id": "KZ-75", "url": format!("{base}/r"), "events": ["alarm.raised"]}))
        .send()
        .await
        .expect("region");
        assert_eq!(region.status(), 404);
        let bad = admin
            .post(app.url("/api/v1/webhooks"))
            .json(&json!({"facility_id": facility, "url": "ftp://x", "events": ["alarm.nope"]}))
            .send()
            .await
            .expect("bad");
        assert_eq!(bad.status(), 422);

        let alarm = raise(&app).await;
        let started = Instant::now();
        let attempts = wait_for(30, "three webhook attempts", async || {
            hurry(&app).await;
            let n = got.lock().expect("lock").len();
            (n >= 3).then_some(n)
        })
        .await;
        assert_eq!(attempts, 3);
        assert!(started.elapsed() < Duration::from_secs(30));
        let got = got.lock().expect("lock").clone();
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
        let mut deliveries = vec![];
        for r in &got {
            let sig = r.headers["qorgau-signature"].to_str().expect("ascii");
            let (t, v1) = sig
                .strip_prefix("t=")
                .and_then(|s| s.split_once(",v1="))
                .expect("t=..,v1=..");
            let now = jiff::Timestamp::now().as_second();
            assert!((now - t.parse::<i64>().expect("t")).abs() < 120);
            let mut signed = format!("{t}.").into_bytes();
            signed.extend_from_slice(&r.body);
            ring::hmac::verify(&key, &signed, &hex::decode(v1).expect("hex"))
                .expect("signature verifies");
            let body: Value = serde_json::from_slice(&r.body).expect("json body");
            assert_eq!(body["event"], "alarm.raised");
            assert_eq!(body["alarm"]["id"], alarm.as_str());
            assert_eq!(body["alarm"]["room"], "12");
            deliveries.push(
                r.headers["qorgau-delivery"]
                    .to_str()
                    .expect("id")
                    .to_owned(),
            );
        }
        deliveries.dedup();
        assert_eq!(deliveries.len(), 1, "one delivery id across retries");

        let log: Value = wait_for(10, "the third attempt logged", async || {
            let v: Value = admin
                .get(app.url(&format!("/api/v1/webhooks/{hook_id}/attempts")))
                .send()
                .await
                .expect("attempts")
                .json()
                .await
                .expect("json");
            (v.as_array().map(Vec::len) == Some(3)).then_some(v)
        })
        .await;
        let mut rows = log.as_array().expect("rows").clone();
        rows.sort_by_key(|r| r["attempt"].as_i64());
        let statuses: Vec<i64> = rows
            .iter()
            .map(|r| r["status"].as_i64().expect("status"))
            .collect();
        assert_eq!(statuses, [500, 500, 204]);
        assert_eq!(rows[0]["error"], "HTTP 500");
        assert_eq!(rows[2]["error"], "");
        assert!(
            rows.iter()
                .all(|r| r["duration_ms"].as_i64().expect("ms") >= 0
                    && r["delivery_id"] == deliveries[0].as_str())
        );
        // The retries waited: the second attempt was scheduled at least 10 s after the first.
        let jobs = app
            .db
            .fetch_all(
                "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'notify.webhook' AND done_at IS NULL",
                vec![],
            )
            .await
            .expect("jobs");
        assert_eq!(
            jobs[0].get::<i64>("n").expect("n"),
            0,
            "delivered: no retry left"
        );
        // Switched off: a new alarm sends nothing.
        let del = admin
            .delete(app.url(&format!("/api/v1/webhooks/{hook_id}")))
            .send()
            .await
            .expect("delete");
        assert_eq!(del.status(), 204);
        let _ = raise(&app).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        hurry(&app).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(got.len(), 3);
    }
);

both!(a_failed_webhook_waits_before_its_retry, |app| {
    let (base, got) = fake_server(|_, _| 503).await;
    let facility = app.demo_facility().await;
    let admin = app.login("facility_admin").await;
    let hook: Value = admin
        .post(app.url("/api/v1/webhooks"))
        .json(&json!({"facility_id": facility, "url": format!("{base}/slow"), "events": ["alarm.raised", "alarm.escalated"]}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let _ = raise(&app).await;
    wait_for(10, "the first attempt", async || {
        (!got.lock().expect("lock").is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(
        got.lock().expect("lock").len(),
        1,
        "no retry before the back-off"
    );
    let row = app
        .db
        .fetch_one(
            "SELECT due_at, payload FROM jobs WHERE kind = 'notify.webhook' AND done_at IS NULL",
            vec![],
        )
        .await
        .expect("retry job");
    let due = row.get::<i64>("due_at").expect("due");
    let wait = due - jiff::Timestamp::now().as_microsecond();
    assert!(
        wait > 5_000_000 && wait <= 10_000_000,
        "retry due in {wait} µs"
    );
    let payload: Value =
        serde_json::from_str(&row.get::<String>("payload").expect("p")).expect("json");
    assert_eq!(payload["attempt"], 2);
    assert_eq!(payload["webhook_id"], hook["id"]);
});

/// A browser's side of a subscription: its ECDH key (ring keeps it until used once) and secret.
struct Browser {
    key: ring::agreement::EphemeralPrivateKey,
    public: Vec<u8>,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Browser {
        let rng = ring::rand::SystemRandom::new();
        let key = ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng)
            .expect("key");
        let public = key.compute_public_key().expect("public").as_ref().to_vec();
        let mut auth = [0u8; 16];
        ring::rand::SecureRandom::fill(&rng, &mut auth).expect("rand");
        Browser { key, public, auth }
    }

    /// Decrypts an aes128gcm body per RFC 8291 and RFC 8188 (one record).
    fn decrypt(self, body: &[u8]) -> Vec<u8> {
        struct Len(usize);
        impl ring::hkdf::KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        let expand = |salt: &[u8], ikm: &[u8], info: &[&[u8]], n: usize| {
            let mut out = vec![0u8; n];
            ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt)
                .extract(ikm)
                .expand(info, Len(n))
                .expect("expand")
                .fill(&mut out)
                .expect("fill");
            out
        };
        let salt = &body[..16];
        let rs = u32::from_be_bytes(body[16..20].try_into().expect("rs")) as usize;
        let idlen = body[20] as usize;
        assert_eq!(idlen, 65, "keyid is the sender's public key");
        let as_public = &body[21..21 + idlen];
        let record = &body[21 + idlen..];
        assert!(record.len() <= rs, "one record");
        let peer = ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, as_public);
        let ecdh = ring::agreement::agree_ephemeral(self.key, &peer, |s| s.to_vec()).expect("ecdh");
        let ikm = expand(
            &self.auth,
            &ecdh,
            &[b"WebPush: info\0", &self.public, as_public],
            32,
        );
        let cek = expand(salt, &ikm, &[b"Content-Encoding: aes128gcm\0"], 16);
        let nonce = expand(salt, &ikm, &[b"Content-Encoding: nonce\0"], 12);
        let key = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, &cek).expect("cek"),
        );
        let mut buf = record.to_vec();
        let plain = key
            .open_in_place(
                ring::aead::Nonce::try_assume_unique_for_key(&nonce).expect("nonce"),
                ring::aead::Aad::empty(),
                &mut buf,
            )
            .expect("decrypts");
        // Padding ends at the last record's 0x02 delimiter.
        let end = plain.iter().rposition(|b| *b == 2).expect("delimiter");
        assert!(plain[end + 1..].iter().all(|b| *b == 0));
        plain[..end].to_vec()
    }
}

async fn subscribe(app: &TestApp, c: &reqwest::Client, endpoint: &str, b: &Browser) {
    let r = c
        .post(app.url("/api/v1/push/subscriptions"))
        .json(&json!({"endpoint": endpoint, "keys": {"p256dh": B64.encode(&b.public), "auth": B64.encode(b.auth)}}))
        .send()
        .await
        .expect("subscribe");
    assert_eq!(r.status(), 201);
}

both!(
    web_push_reaches_the_guard_with_vapid_and_an_rfc_8291_body,
    |app| {
        let (base, got) = fake_server(|path, _| if path == "/gone" { 410 } else { 201 }).await;
        let guard = app.login("security_guard").await;
        let key: Value = guard
            .get(app.url("/api/v1/push/key"))
            .send()
            .await
            .expect("key")
            .json()
            .await
            .expect("json");
        let server_key = key["public_key"].as_str().expect("key").to_owned();
        assert_eq!(B64.decode(&server_key).expect("b64").len(), 65);
        let browser = Browser::new();
        subscribe(&app, &guard, &format!("{base}/push/guard-phone"), &browser).await;
        // The facility administrator's old phone: its push service says it is gone.
        let admin = app.login("facility_admin").await;
        subscribe(&app, &admin, &format!("{base}/gone"), &Browser::new()).await;
        // A worker's phone is not told about other people's alarms.
        let worker = app.login("worker").await;
        subscribe(
            &app,
            &worker,
            &format!("{base}/push/worker"),
            &Browser::new(),
        )
        .await;
        let bad = worker
            .post(app.url("/api/v1/push/subscriptions"))
            .json(&json!({"endpoint": "nope", "keys": {"p256dh": "AAAA", "auth": ""}}))
            .send()
            .await
            .expect("bad");
        assert_eq!(bad.status(), 422);

        let alarm = raise(&app).await;
        let (req, gone_seen) = wait_for(15, "the push", async || {
            let v = got.lock().expect("lock").clone();
            let phone = v.iter().find(|r| r.path == "/push/guard-phone").cloned();
            let gone = v.iter().any(|r| r.path == "/gone");
            phone.filter(|_| gone).map(|p| (p, gone))
        })
        .await;
        assert!(gone_seen);
        assert_eq!(req.headers["content-encoding"], "aes128gcm");
        assert!(req.headers.contains_key("ttl"));
        let auth = req.headers["authorization"].to_str().expect("ascii");
        let rest = auth.strip_prefix("vapid t=").expect("vapid scheme");
        let (jwt, k) = rest.split_once(", k=").expect("t and k");
        assert_eq!(k, server_key);
        let (signing_input, sig) = jwt.rsplit_once('.').expect("jwt");
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            B64.decode(k).expect("k"),
        )
        .verify(signing_input.as_bytes(), &B64.decode(sig).expect("sig"))
        .expect("JWT verifies with the VAPID public key");
        let (header, claims) = signing_input.split_once('.').expect("parts");
        let header: Value =
            serde_json::from_slice(&B64.decode(header).expect("b64")).expect("json");
        assert_eq!(header["alg"], "ES256");
        let claims: Value =
            serde_json::from_slice(&B64.decode(claims).expect("b64")).expect("json");
        assert_eq!(claims["aud"], base.as_str());
        let exp = claims["exp"].as_i64().expect("exp");
        let now = jiff::Timestamp::now().as_second();
        assert!(exp > now && exp <= now + 24 * 3600, "exp {exp} now {now}");
        assert!(claims["sub"].as_str().expect("sub").starts_with("mailto:"));

        let plain = browser.decrypt(&req.body);
        let msg: Value = serde_json::from_slice(&plain).expect("json message");
        assert_eq!(msg["alarm_id"], alarm.as_str());
        assert_eq!(msg["event"], "alarm.raised");
        assert!(!msg["title"].as_str().expect("title").is_empty());

        // Gone (410): the subscription is deleted; the worker's phone got nothing.
        wait_for(10, "the gone subscription deleted", async || {
            let rows = app
                .db
                .fetch_all(
                    "SELECT COUNT(*) AS n FROM push_subscriptions WHERE endpoint LIKE '%/gone'",
                    vec![],
                )
                .await
                .expect("count");
            (rows[0].get::<i64>("n").expect("n") == 0).then_some(())
        })
        .await;
        assert!(
            !got.lock()
                .expect("lock")
                .iter()
                .any(|r| r.path == "/push/worker")
        );
        // Unsubscribing removes it; a second time there is nothing to remove.
        let del = |c: reqwest::Client, e: String| {
            let url = app.url("/api/v1/push/subscriptions");
            async move {
                c.delete(url)
                    .json(&json!({"endpoint": e}))
                    .send()
                    .await
                    .expect("delete")
                    .status()
            }
        };
        let ep = format!("{base}/push/guard-phone");
        assert_eq!(del(guard.clone(), ep.clone()).await, 204);
        assert_eq!(del(guard.clone(), ep).await, 404);
    }
);

both!(
    the_settings_page_edits_the_policy_and_the_webhooks_page_shows_attempts,
    |app| {
        let facility = app.demo_facility().await;
        let admin = app.login("facility_admin").await;
        let get = |c: reqwest::Client, path: &'static str| {
            let url = app.url(path);
            async move {
                let r = c
                    .get(url)
                    .header("accept-language", "kk")
                    .send()
                    .await
                    .expect("get");
                (r.status().as_u16(), r.text().await.expect("body"))
            }
        };
        let (s, body) = get(admin.clone(), "/console/settings").await;
        assert_eq!(s, 200);
        assert!(body.contains(&format!("/console/settings/{facility}/policy")));
        assert!(body.contains("Күзет бекеті"), "targets are named in Kazakh");
        // A line with seconds out of range: 422, the message next to that line, in the caller's language.
        let form = [
            ("after_secs_0", "20"),
            ("target_0", "security_post"),
            ("after_secs_1", ""),
            ("target_1", ""),
            ("after_secs_2", "9999"),
            ("target_2", "regional_duty_officer"),
        ];
        let r = admin
            .post(app.url(&format!("/console/settings/{facility}/policy")))
            .header("accept-language", "ru")
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        let body = r.text().await.expect("body");
        assert!(
            body.contains("Укажите число секунд от 1 до 3600."),
            "{body}"
        );
        assert!(
            body.contains(&format!("id=\"step-err-{facility}-3\"")),
            "the error is on line 3"
        );
        assert!(body.contains("value=\"9999\""), "what was typed stays");
        let mut form = form;
        form[4].1 = "90";
        let r = admin
            .post(app.url(&format!("/console/settings/{facility}/policy")))
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 303);
        let p: Value = admin
            .get(app.url(&format!("/api/v1/facilities/{facility}/escalation-policy")))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(
            p["steps"],
            json!([{"after_secs": 20, "target": "security_post"}, {"after_secs": 90, "target": "regional_duty_officer"}])
        );
        let guard = app.login("security_guard").await;
        let r = guard
            .post(app.url(&format!("/console/settings/{facility}/policy")))
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403);

        // Webhooks: the form shows the secret once; the attempts appear in the table.
        let (base, _got) = fake_server(|_, _| 502).await;
        let url = format!("{base}/sms");
        let r = admin
            .post(app.url("/admin/webhooks"))
            .header("accept-language", "en")
            .form(&[
                ("url", url.as_str()),
                ("facility_id", facility.as_str()),
                ("events", "alarm.raised"),
            ])
            .send()
            .await
            .expect("add");
        assert_eq!(r.status(), 201);
        let body = r.text().await.expect("body");
        assert!(body.contains("whsec_"), "the secret is shown");
        let _ = raise(&app).await;
        let body = wait_for(15, "an attempt on the page", async || {
            let (_, body) = get(admin.clone(), "/admin/webhooks").await;
            body.contains("HTTP 502").then_some(body)
        })
        .await;
        assert!(!body.contains("whsec_"), "shown once only");
        let (s, _) = get(guard.clone(), "/admin/webhooks").await;
        assert_eq!(s, 403);
        let (s, body) = get(app.login("worker").await, "/alarm/settings").await;
        assert_eq!(s, 200);
        assert!(body.contains("id=\"push\"") && body.contains("/static/notify-push.js"));
    }
);

both!(two_nodes_deliver_each_webhook_event_once, |app| {
    let (_second, node) = app.second_node().await;
    let (base, got) = fake_server(|_, _| 200).await;
    let facility = app.demo_facility().await;
    let admin = app.login("facility_admin").await;
    let r = admin
        .post(app.url("/api/v1/webhooks"))
        .json(&json!({"facility_id": facility, "url": format!("{base}/once"), "events": ["alarm.raised"]}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);
    let mut alarms = vec![];
    for _ in 0..5 {
        alarms.push(raise(&app).await);
    }
    wait_for(15, "five deliveries", async || {
        (got.lock().expect("lock").len() >= 5).then_some(())
    })
    .await;
    // Both nodes run the timer loop: give a duplicate time to show up.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got = got.lock().expect("lock").clone();
    let mut ids: Vec<String> = got
        .iter()
        .map(|r| {
            let b: Value = serde_json::from_slice(&r.body).expect("json");
            b["alarm"]["id"].as_str().expect("id").to_owned()
        })
        .collect();
    ids.sort();
    alarms.sort();
    assert_eq!(ids, alarms, "each alarm delivered exactly once");
    node.abort();
});

/// Without the operator's allow list, webhooks reach public addresses only: an address in the
/// URL is refused when the webhook is registered, and a name that resolves to a private or
/// loopback address is refused when it is delivered (logged, nothing sent). Delivery does not
/// depend on the database, so SQLite is enough here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_do_not_reach_private_addresses_unless_allowed() {
    let app = TestApp::start_with(common::Backend::Sqlite, |cfg| cfg.webhook_allow.clear()).await;
    let (base, got) = fake_server(|_, _| 204).await;
    let port = base.rsplit(':').next().expect("port").to_owned();
    let facility = app.demo_facility().await;
    let admin = app.login("facility_admin").await;
    for url in [
        format!("{base}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]:5432/".to_owned(),
        "http://10.0.0.5/sms".to_owned(),
    ] {
        let r = admin
            .post(app.url("/api/v1/webhooks"))
            .header("accept-language", "en")
            .json(&json!({"facility_id": facility, "url": url, "events": ["alarm.raised"]}))
            .send()
            .await
            .expect("create");
        assert_eq!(r.status(), 422, "{url}");
        let p: Value = r.json().await.expect("problem");
        assert_eq!(p["errors"][0]["field"], "url", "{url}");
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("private or local network")),
            "{p}"
        );
    }
    // A name is accepted, and refused when it resolves to loopback.
    let r = admin
        .post(app.url("/api/v1/webhooks"))
        .json(&json!({"facility_id": facility, "url": format!("http://localhost:{port}/hook"), "events": ["alarm.raised"]}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);
    let hook: Value = r.json().await.expect("json");
    let hook_id = hook["id"].as_str().expect("id").to_owned();
    raise(&app).await;
    let error = wait_for(30, "a refused attempt", async || {
        hurry(&app).await;
        let log: Value = admin
            .get(app.url(&format!("/api/v1/webhooks/{hook_id}/attempts")))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        log.as_array()?
            .first()
            .and_then(|a| a["error"].as_str())
            .map(str::to_owned)
    })
    .await;
    assert!(error.contains("not a public address"), "{error}");
    assert!(
        got.lock().expect("lock").is_empty(),
        "nothing reached the server"
    );
}

// Push goes to the guards on shift by the facility's roster, and to every guard when the roster
// has nobody on shift: someone is always told.
both!(push_goes_to_the_guards_on_shift_by_the_roster, |app| {
    use qorgau::platform::db::Arg;
    let (base, got) = fake_server(|_, _| 201).await;
    let facility = uuid::Uuid::parse_str(&app.demo_facility().await).expect("facility");
    let people = app
        .db
        .fetch_all(
            "SELECT id FROM people WHERE facility_id = $1 ORDER BY id LIMIT 2",
            vec![Arg::from(facility)],
        )
        .await
        .expect("people");
    let on: uuid::Uuid = people[0].get("id").expect("id");
    let off: uuid::Uuid = people[1].get("id").expect("id");
    app.db
        .execute(
            "DELETE FROM roster_entries WHERE person_id IN ($1, $2)",
            vec![Arg::from(on), Arg::from(off)],
        )
        .await
        .expect("clear roster");
    let guard = app.account("security_guard");
    app.db
        .execute(
            "UPDATE users SET person_id = $1 WHERE username = $2",
            vec![Arg::from(on), Arg::from(guard.username.clone())],
        )
        .await
        .expect("link guard");
    // A second guard at the same post, off shift: a copy of the demo guard's account.
    app.db
        .execute(
            "INSERT INTO users (id, username, password_hash, role, scope_kind, scope_id, person_id, totp_secret, totp_enrolled, created_at) SELECT $1, 'guard.two', password_hash, role, scope_kind, scope_id, $2, totp_secret, totp_enrolled, created_at FROM users WHERE username = $3",
            vec![
                Arg::from(uuid::Uuid::new_v4()),
                Arg::from(off),
                Arg::from(guard.username.clone()),
            ],
        )
        .await
        .expect("second guard");
    // A 24-hour duty starting at midnight, on the days around today in any time zone.
    let shift = uuid::Uuid::new_v4();
    app.db
        .execute(
            "INSERT INTO shift_definitions (id, facility_id, code, starts, ends) VALUES ($1, $2, 'duty24', '00:00', '00:00')",
            vec![Arg::from(shift), Arg::from(facility)],
        )
        .await
        .expect("shift");
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    for d in [-1i64, 0, 1] {
        let day = today
            .checked_add(jiff::Span::new().days(d))
            .expect("day")
            .to_string();
        app.db
            .execute(
                "INSERT INTO roster_entries (id, person_id, shift_id, day) VALUES ($1, $2, $3, $4)",
                vec![
                    Arg::from(uuid::Uuid::new_v4()),
                    Arg::from(on),
                    Arg::from(shift),
                    Arg::from(day),
                ],
            )
            .await
            .expect("roster");
    }
    let first = app.login("security_guard").await;
    subscribe(
        &app,
        &first,
        &format!("{base}/push/on-shift"),
        &Browser::new(),
    )
    .await;
    let second = app.client();
    let r = second
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "guard.two", "password": guard.password,
            "totp": guard.totp.as_deref().map(common::current_totp).unwrap_or_default()}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    subscribe(
        &app,
        &second,
        &format!("{base}/push/off-shift"),
        &Browser::new(),
    )
    .await;

    raise(&app).await;
    wait_for(15, "the push to the guard on shift", async || {
        let v = got.lock().expect("lock").clone();
        v.iter().any(|r| r.path == "/push/on-shift").then_some(())
    })
    .await;
    // Both pushes would have been queued by the same fan-out job, in one transaction.
    let off_sub = app
        .db
        .fetch_one(
            "SELECT id FROM push_subscriptions WHERE endpoint LIKE '%/push/off-shift'",
            vec![],
        )
        .await
        .expect("subscription")
        .get::<uuid::Uuid>("id")
        .expect("id");
    let queued = app
        .db
        .fetch_one(
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'notify.push' AND ref_id = $1",
            vec![Arg::from(off_sub.to_string())],
        )
        .await
        .expect("count")
        .get::<i64>("n")
        .expect("n");
    assert_eq!(queued, 0, "the guard off shift is not woken");

    // Nobody on shift: every guard is told.
    app.db
        .execute(
            "DELETE FROM roster_entries WHERE shift_id = $1",
            vec![Arg::from(shift)],
        )
        .await
        .expect("clear");
    raise(&app).await;
    wait_for(15, "the push to the guard off shift", async || {
        let v = got.lock().expect("lock").clone();
        v.iter().any(|r| r.path == "/push/off-shift").then_some(())
    })
    .await;
});
