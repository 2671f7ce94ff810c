//! Matching escrow over HTTP: lodging from one's own report (account or receipt), a match between
//! different reporters only, the handler told of it and shown the reports only after two said go
//! on, nothing readable kept, every lodge and match audited without the identifier.

mod common;

use common::{TestApp, get_json};
use serde_json::{Value, json};

fn report_body(mode: &str) -> Value {
    json!({
        "mode": mode,
        "types": ["physical.assault"],
        "perpetrator": "relative_companion",
        "severity": 2,
        "injury": false,
        "sick_leave_days": 0,
        "psychological_harm": true,
        "witnesses": "",
        "place": "emergency_dept",
        "occurred_local": "2024-03-21T03:00",
        "wishes": ["union_support"],
        "narrative": "He threatened me",
    })
}

async fn file(app: &TestApp, c: &reqwest::Client, mode: &str) -> String {
    let r = c
        .post(app.url("/api/v1/reports"))
        .json(&report_body(mode))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.expect("json");
    v["id"].as_str().expect("id").to_owned()
}

/// The request is built before the future, so the future borrows nothing.
fn post(
    c: &reqwest::Client,
    url: String,
    body: Value,
) -> impl std::future::Future<Output = (u16, Value)> + use<> {
    let req = c.post(url).json(&body);
    async move {
        let r = req.send().await.expect("post");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

both!(
    a_match_between_two_reporters_is_disclosed_only_after_both_go_on,
    |app| {
        let worker = app.login("worker").await;
        let guard = app.login("security_guard").await;
        let rep = app.login("union_rep").await;
        let facility = app.demo_facility().await;
        let a = file(&app, &worker, "named").await;
        let a2 = file(&app, &worker, "named").await;
        let b = file(&app, &guard, "confidential").await;
        let lodge = |c: &reqwest::Client, id: &str, kind: &str, value: &str| {
            post(
                c,
                app.url(&format!("/api/v1/reports/{id}/escrow")),
                json!({"kind": kind, "value": value}),
            )
        };

        // Bad identifiers are refused naming the field; nothing is stored for them.
        let (s, p) = lodge(&worker, &a, "iin", "860904350505").await;
        assert_eq!(s, 422);
        assert_eq!(p["errors"][0]["field"], "value");
        let (s, p) = lodge(&worker, &a, "passport", "N123").await;
        assert_eq!(s, 422);
        assert_eq!(p["errors"][0]["field"], "kind");
        // Only from one's own report: someone else's report is 404, even for a handler in scope.
        let (s, _) = lodge(&guard, &a, "phone", "+77011234567").await;
        assert_eq!(s, 404);
        let (s, _) = lodge(&rep, &a, "phone", "+77011234567").await;
        assert_eq!(s, 404);

        let (s, v) = lodge(&worker, &a, "phone", "8 (701) 123-45-67").await;
        assert_eq!(s, 201);
        assert_eq!(v["remaining"], 4);
        // Her second report with the same phone is the same reporter: no match.
        let (s, _) = lodge(&worker, &a2, "phone", "+7 701 123 4567").await;
        assert_eq!(s, 201);
        let (_, n) = get_json(&rep, app.url("/api/v1/escrow/notices")).await;
        assert_eq!(n.as_array().expect("array").len(), 0, "{n}");

        // Another reporter, written another way: a match. The answer is the same as without one.
        let (s, v) = lodge(&guard, &b, "phone", "7011234567").await;
        assert_eq!(s, 201);
        assert_eq!(v, json!({"lodged": true, "remaining": 4}));

        let (s, n) = get_json(&rep, app.url("/api/v1/escrow/notices")).await;
        assert_eq!(s, 200);
        let n = n.as_array().expect("array").clone();
        assert_eq!(n.len(), 1);
        assert_eq!(n[0]["reports"], 3);
        assert_eq!(n[0]["disclosed"], json!([]));
        let m = n[0]["match_id"].as_str().expect("match").to_owned();
        // A worker has no notices at all.
        let (s, _) = get_json(&worker, app.url("/api/v1/escrow/notices")).await;
        assert_eq!(s, 403);

        // Each reporter is asked through her own report.
        let (_, pa) = get_json(&worker, app.url(&format!("/api/v1/reports/{a}/escrow"))).await;
        assert_eq!(pa[0]["match_id"], m.as_str());
        assert_eq!(pa[0]["kind"], "phone");
        assert_eq!(pa[0]["answer"], "pending");
        let (_, pb) = get_json(&guard, app.url(&format!("/api/v1/reports/{b}/escrow"))).await;
        assert_eq!(pb[0]["answer"], "pending");
        // Nobody answers for a report that is not theirs.
        let (s, _) = post(
            &guard,
            app.url(&format!("/api/v1/reports/{a}/escrow/{m}")),
            json!({"answer": "go_on"}),
        )
        .await;
        assert_eq!(s, 404);
        let (s, p) = post(
            &worker,
            app.url(&format!("/api/v1/reports/{a}/escrow/{m}")),
            json!({"answer": "maybe"}),
        )
        .await;
        assert_eq!(s, 422);
        assert_eq!(p["errors"][0]["field"], "answer");

        let answer = |c: &reqwest::Client, id: &str, ans: &str| {
            post(
                c,
                app.url(&format!("/api/v1/reports/{id}/escrow/{m}")),
                json!({"answer": ans}),
            )
        };
        let (s, v) = answer(&worker, &a, "go_on").await;
        assert_eq!(s, 200);
        assert_eq!(v[0]["answer"], "go_on");
        let (_, n) = get_json(&rep, app.url("/api/v1/escrow/notices")).await;
        assert_eq!(n[0]["go_on"], 1);
        assert_eq!(n[0]["disclosed"], json!([]));
        let (_, _) = answer(&guard, &b, "not_now").await;
        let (_, n) = get_json(&rep, app.url("/api/v1/escrow/notices")).await;
        assert_eq!(n[0]["disclosed"], json!([]));
        let (_, _) = answer(&guard, &b, "go_on").await;
        let (_, n) = get_json(&rep, app.url("/api/v1/escrow/notices")).await;
        let mut shown: Vec<String> = n[0]["disclosed"]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v.as_str().expect("id").to_owned())
            .collect();
        shown.sort();
        let mut want = vec![a.clone(), b.clone()];
        want.sort();
        assert_eq!(shown, want, "a2 has not said go on and stays out");

        // The disclosure is in her access log.
        let (_, log) = get_json(&worker, app.url(&format!("/api/v1/reports/{a}/access-log"))).await;
        assert!(
            log.as_array()
                .expect("array")
                .iter()
                .any(|e| e["action"] == "escrow.match.read"),
            "{log}"
        );

        // An investigator of another scope would see nothing; the demo investigator is in scope.
        let inv = app.login("investigator").await;
        let (_, n) = get_json(&inv, app.url("/api/v1/escrow/notices")).await;
        assert_eq!(n.as_array().expect("array").len(), 1);

        // Anonymous, by receipt: her report counts as its own reporter and joins the match.
        let anon = app.client();
        let mut body = report_body("");
        body["facility_id"] = json!(facility);
        let (s, r) = post(&anon, app.url("/api/v1/reports/anonymous"), body).await;
        assert_eq!(s, 201);
        let receipt = r["receipt"].as_str().expect("receipt").to_owned();
        let (s, _) = post(
            &anon,
            app.url("/api/v1/reports/anonymous/escrow"),
            json!({"receipt": "0000000000000000", "kind": "phone", "value": "+77011234567"}),
        )
        .await;
        assert_eq!(s, 404);
        let (s, _) = post(
            &anon,
            app.url("/api/v1/reports/anonymous/escrow"),
            json!({"receipt": receipt, "kind": "phone", "value": "+996 555 123 456"}),
        )
        .await;
        assert_eq!(s, 201);
        let (s, _) = post(
            &anon,
            app.url("/api/v1/reports/anonymous/escrow"),
            json!({"receipt": receipt, "kind": "phone", "value": "+7 701 123 45 67"}),
        )
        .await;
        assert_eq!(s, 201);
        let (s, pr) = post(
            &anon,
            app.url("/api/v1/reports/anonymous/escrow/prompts"),
            json!({"receipt": receipt}),
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(pr.as_array().expect("array").len(), 1);
        assert_eq!(pr[0]["match_id"], m.as_str());
        let (s, pr) = post(
            &anon,
            app.url("/api/v1/reports/anonymous/escrow/answer"),
            json!({"receipt": receipt, "match_id": m, "answer": "not_now"}),
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(pr[0]["answer"], "not_now");
        let (_, n) = get_json(&rep, app.url("/api/v1/escrow/notices")).await;
        assert_eq!(n[0]["reports"], 4);
        assert_eq!(n[0]["disclosed"].as_array().expect("array").len(), 2);

        // The same through the pages: her answer by form, the handler's page lists the match.
        let r = worker
            .post(app.url(&format!("/reports/{a}/protect/escrow/{m}")))
            .form(&[("answer", "go_on")])
            .send()
            .await
            .expect("form");
        assert_eq!(r.status(), 303);
        let html = worker
            .get(app.url(&format!("/reports/{a}/protect")))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(html.contains(&format!("/reports/{a}/protect/escrow/{m}")));
        let r = worker
            .post(app.url(&format!("/reports/{a}/protect/escrow")))
            .form(&[("kind", "iin"), ("value", "123")])
            .send()
            .await
            .expect("form");
        assert_eq!(r.status(), 422);
        assert!(
            r.text()
                .await
                .expect("html")
                .contains("id=\"escrow-value-error\"")
        );
        let html = rep
            .get(app.url("/protect/notices"))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(html.contains(&format!("href=\"/reports/{a}\"")), "{html}");
        let home = rep
            .get(app.url("/"))
            .send()
            .await
            .expect("home")
            .text()
            .await
            .expect("html");
        assert!(home.contains("href=\"/protect/notices\""));

        // Names match across spelling, bound to the facility.
        let (s, _) = lodge(&worker, &a, "name", "Семёнов  Ерлан").await;
        assert_eq!(s, 201);
        let (s, _) = lodge(&guard, &b, "name", "ЕРЛАН семенов").await;
        assert_eq!(s, 201);
        let (_, n) = get_json(&rep, app.url("/api/v1/escrow/notices")).await;
        assert_eq!(n.as_array().expect("array").len(), 2);

        // At most five identifiers per report.
        for v in ["950101400012", "881212500022", "21505199000123"] {
            let kind = if v.len() == 14 { "pin" } else { "iin" };
            let (s, _) = lodge(&worker, &a, kind, v).await;
            assert_eq!(s, 201, "{v}");
        }
        let (s, p) = lodge(&worker, &a, "phone", "+77020000000").await;
        assert_eq!(s, 422);
        assert_eq!(p["errors"][0]["field"], "value");

        // Nothing readable is kept: hashes only, and the key lives in the data directory.
        let rows = app
            .db
            .fetch_all("SELECT kind, hash FROM escrow_entries", vec![])
            .await
            .expect("rows");
        assert_eq!(rows.len(), 10);
        for r in &rows {
            let h: String = r.get("hash").expect("hash");
            assert_eq!(h.len(), 64);
            assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        let key = std::fs::read_to_string(app.data_dir.join("keys/escrow.key")).expect("key");
        assert_eq!(key.trim().len(), 64);
        // Every lodge and match audited, without the identifier.
        let audit = app
            .db
            .fetch_all(
                "SELECT action, object_type, detail FROM audit_log WHERE action LIKE 'escrow.%'",
                vec![],
            )
            .await
            .expect("audit");
        let actions: Vec<String> = audit
            .iter()
            .map(|r| r.get::<String>("action").expect("action"))
            .collect();
        assert_eq!(actions.iter().filter(|a| *a == "escrow.lodge").count(), 10);
        // The phone match opened by the guard's report and joined by the anonymous one, and the name
        // match.
        assert_eq!(actions.iter().filter(|a| *a == "escrow.match").count(), 3);
        assert!(actions.iter().any(|a| a == "escrow.answer"));
        for r in &audit {
            let d: String = r.get("detail").expect("detail");
            for secret in ["7011234567", "555123456", "Ерлан", "ерлан", "950101400012"] {
                assert!(!d.contains(secret), "{d}");
            }
        }
    }
);

both!(concurrent_lodges_do_not_pass_the_limit, |app| {
    let guard = app.login("security_guard").await;
    let r = guard
        .post(app.url("/api/v1/reports"))
        .json(&report_body("named"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let url = app.url(&format!("/api/v1/reports/{id}/escrow"));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            post(
                &guard,
                url.clone(),
                json!({"kind": "phone", "value": format!("+7701000000{i}")}),
            )
        })
        .map(tokio::spawn)
        .collect();
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.expect("join").0);
    }
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [201, 201, 201, 201, 201, 422, 422, 422]);
    // Lodging again an identifier already lodged takes nothing more and is accepted.
    let i = statuses
        .iter()
        .position(|s| *s == 201)
        .expect("one accepted");
    let (s, v) = post(
        &guard,
        url.clone(),
        json!({"kind": "phone", "value": format!("+7701000000{i}")}),
    )
    .await;
    assert_eq!((s, v), (201, json!({"lodged": true, "remaining": 0})));
    let rows = app
        .db
        .fetch_all("SELECT hash FROM escrow_entries", vec![])
        .await
        .expect("rows");
    assert_eq!(rows.len(), 5);
});
