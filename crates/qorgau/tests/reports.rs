//! Reports over HTTP: classification of an incident time at a real facility, and the calendars an
//! administrator extends.

mod common;

use common::{TestApp, get_json, send};
use serde_json::{Value, json};

async fn classify(app: &TestApp, c: &reqwest::Client, facility: &str, at: &str) -> Value {
    let r = c
        .get(app.url(&format!(
            "/api/v1/reports/classify?facility={facility}&at={at}"
        )))
        .send()
        .await
        .expect("classify");
    assert_eq!(r.status(), 200, "{at}");
    r.json().await.expect("json")
}

both!(classifies_by_the_facilitys_shifts_and_calendar, |app| {
    let worker = app.login("worker").await;
    let facility = app.demo_facility().await;
    // The demo facility is in Almaty (UTC+5) with a night shift 22:00-08:00.
    let w = classify(&app, &worker, &facility, "2024-03-21T03:00").await;
    assert_eq!(w["at"], "2024-03-20T22:00:00Z");
    assert_eq!(w["tz"], "Asia/Almaty");
    assert_eq!(w["local"], "2024-03-21T03:00:00");
    let c = &w["classification"];
    assert_eq!(c["shift"], "night");
    assert_eq!(c["shift_start_date"], "2024-03-20");
    assert_eq!(c["weekend"], false);
    assert_eq!(c["day_type"], "public_holiday");

    let c = classify(&app, &worker, &facility, "2024-03-20T23:30").await;
    assert_eq!(c["classification"]["shift"], "night");
    assert_eq!(c["classification"]["shift_start_date"], "2024-03-20");
    assert_eq!(c["classification"]["day_type"], "pre_holiday");

    let c = classify(&app, &worker, &facility, "2024-03-23T12:00").await;
    assert_eq!(c["classification"]["weekend"], true);
    assert_eq!(c["classification"]["day_type"], "public_holiday");

    // Malformed time and unknown facility.
    let r = worker
        .get(app.url(&format!(
            "/api/v1/reports/classify?facility={facility}&at=21.03.2024"
        )))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.expect("problem");
    assert_eq!(p["errors"][0]["field"], "at");
    let r = worker
        .get(app.url(&format!(
            "/api/v1/reports/classify?facility={}&at=2024-03-21T03:00",
            uuid::Uuid::now_v7()
        )))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
});

both!(an_administrator_extends_the_calendar, |app| {
    let admin = app.login("system_admin").await;
    let worker = app.login("worker").await;
    let facility = app.demo_facility().await;
    let day_url = app.url("/api/v1/calendars/KZ/days/2027-11-10");
    let body = json!({"kind": "holiday", "name": "New holiday"});

    let r = worker.put(&day_url).json(&body).send().await.expect("put");
    assert_eq!(r.status(), 403);
    let before = classify(&app, &worker, &facility, "2027-11-09T10:00").await;
    assert_eq!(before["classification"]["day_type"], "working_day");

    let r = admin.put(&day_url).json(&body).send().await.expect("put");
    assert_eq!(r.status(), 200);
    let saved: Value = r.json().await.expect("json");
    assert_eq!(saved["source"], "local");
    assert_eq!(saved["day"], "2027-11-10");

    let c = classify(&app, &worker, &facility, "2027-11-10T10:00").await;
    assert_eq!(c["classification"]["day_type"], "public_holiday");
    let c = classify(&app, &worker, &facility, "2027-11-09T10:00").await;
    assert_eq!(c["classification"]["day_type"], "pre_holiday");

    let list: Value = worker
        .get(app.url("/api/v1/calendars/KZ?year=2027"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let list = list.as_array().expect("array");
    assert!(
        list.iter()
            .all(|d| d["day"].as_str().is_some_and(|s| s.starts_with("2027-")))
    );
    assert!(
        list.iter()
            .any(|d| d["day"] == "2027-03-22" && d["source"] == "reference")
    );
    assert!(
        list.iter()
            .any(|d| d["day"] == "2027-11-10" && d["source"] == "local")
    );
    // The Kyrgyz calendar is not touched.
    let kg: Value = worker
        .get(app.url("/api/v1/calendars/kg?year=2027"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(
        kg.as_array()
            .expect("array")
            .iter()
            .all(|d| d["source"] == "reference" && d["country"] == "KG")
    );
    let r = worker
        .get(app.url("/api/v1/calendars/RU"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);

    // Bad input names every field.
    let r = admin
        .put(app.url("/api/v1/calendars/KZ/days/2027-02-30"))
        .json(&json!({"kind": "party", "name": ""}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.expect("problem");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["day", "kind", "name"]);

    // Both writes are audited.
    let r = admin.delete(&day_url).send().await.expect("delete");
    assert_eq!(r.status(), 204);
    let c = classify(&app, &worker, &facility, "2027-11-10T10:00").await;
    assert_eq!(c["classification"]["day_type"], "working_day");
    let audit: Value = admin
        .get(app.url("/api/v1/audit?object_id=KZ/2027-11-10"))
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"calendar.day.put"), "{actions:?}");
    assert!(actions.contains(&"calendar.day.delete"), "{actions:?}");
});

async fn follow(app: &TestApp, c: &reqwest::Client, r: &reqwest::Response) -> String {
    let to = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_owned();
    assert!(to.starts_with("/admin/calendars/KZ?year=2028"), "{to}");
    c.get(app.url(&to))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body")
}

both!(the_calendar_page_adds_days_and_shows_names_as_text, |app| {
    let admin = app.login("system_admin").await;
    let r = admin
        .post(app.url("/admin/calendars/KZ"))
        .form(&[
            ("day", "2028-03-21"),
            ("kind", "holiday"),
            ("name", "<script>alert(1)</script>"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let html = follow(&app, &admin, &r).await;
    assert!(html.contains("class=\"flash ok\""), "a saved message");
    assert!(html.contains("2028-03-21"));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"));

    let r = admin
        .post(app.url("/admin/calendars/KZ"))
        .header("accept-language", "en")
        .form(&[("day", "tomorrow"), ("kind", "holiday"), ("name", "x")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("id=\"day-error\""),
        "the error names the field"
    );

    let r = admin
        .post(app.url("/admin/calendars/KZ/2028-03-21/delete"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 303);
    let html = follow(&app, &admin, &r).await;
    assert!(!html.contains("alert(1)"));

    for lang in ["kk", "ru", "ky", "en"] {
        let r = admin
            .get(app.url("/admin/calendars/KG?year=2025"))
            .header("accept-language", lang)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200);
        let html = r.text().await.expect("body");
        assert!(html.contains("2025-03-21"), "{lang}: Nooruz listed");
    }
    let worker = app.login("worker").await;
    let r = worker
        .get(app.url("/admin/calendars/KZ"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 403);
});

fn report_body(mode: &str, narrative: &str) -> Value {
    json!({
        "mode": mode,
        "types": ["physical.assault", "psychological.verbal_abuse"],
        "perpetrator": "relative_companion",
        "severity": 2,
        "injury": true,
        "sick_leave_days": 3,
        "psychological_harm": true,
        "witnesses": "Nurse on duty",
        "place": "emergency_dept",
        "occurred_local": "2024-03-21T03:00",
        "wishes": ["police", "union_support"],
        "narrative": narrative,
    })
}

both!(
    a_named_report_is_filed_once_and_its_reads_are_shown_to_her,
    |app| {
        let worker = app.login("worker").await;
        let body = report_body("named", "He pushed me <script>alert(1)</script>");
        let send = |b: Value, key: &'static str| {
            let worker = worker.clone();
            let url = app.url("/api/v1/reports");
            async move {
                worker
                    .post(url)
                    .header("idempotency-key", key)
                    .json(&b)
                    .send()
                    .await
                    .expect("post")
            }
        };
        let r = send(body.clone(), "rep-1").await;
        assert_eq!(r.status(), 201);
        let first: Value = r.json().await.expect("json");
        let id = first["id"].as_str().expect("id").to_owned();
        assert_eq!(first["mode"], "named");
        assert_eq!(first["status"], "received");
        assert_eq!(
            first["reporter"]["username"],
            app.account("worker").username
        );
        assert_eq!(
            first["types"],
            json!(["physical.assault", "psychological.verbal_abuse"])
        );
        assert_eq!(first["narrative"], "He pushed me <script>alert(1)</script>");
        let c = &first["when"]["classification"];
        assert_eq!(c["shift"], "night");
        assert_eq!(c["shift_start_date"], "2024-03-20");
        assert_eq!(c["day_type"], "public_holiday");
        assert_eq!(first["when"]["at"], "2024-03-20T22:00:00Z");
        assert_eq!(first["facility_id"], app.demo_facility().await.as_str());

        // A retry gets the first answer; the same key with another body is refused.
        let r = send(body.clone(), "rep-1").await;
        assert!(matches!(r.status().as_u16(), 200 | 201));
        let again: Value = r.json().await.expect("json");
        assert_eq!(again["id"], id.as_str());
        let r = send(report_body("named", "Something else"), "rep-1").await;
        assert_eq!(r.status(), 422);
        let (_, mine) = get_json(&worker, app.url("/api/v1/me/reports")).await;
        assert_eq!(
            mine.as_array()
                .expect("list")
                .iter()
                .filter(|r| r["id"] == id.as_str())
                .count(),
            1
        );

        // Handlers in scope read it; managers, administrators and other workers get 404.
        let investigator = app.login("investigator").await;
        let (s, seen) = get_json(&investigator, app.url(&format!("/api/v1/reports/{id}"))).await;
        assert_eq!(s, 200);
        assert_eq!(seen["narrative"], first["narrative"]);
        for role in [
            "facility_admin",
            "department_head",
            "security_guard",
            "system_admin",
        ] {
            let c = app.login(role).await;
            let (s, _) = get_json(&c, app.url(&format!("/api/v1/reports/{id}"))).await;
            assert_eq!(s, 404, "{role}");
        }

        // Her access log names the investigator's read, and not her own.
        let (s, log) = get_json(
            &worker,
            app.url(&format!("/api/v1/reports/{id}/access-log")),
        )
        .await;
        assert_eq!(s, 200);
        let log = log.as_array().expect("log");
        let inv = app.account("investigator").username;
        assert!(
            log.iter().any(|e| e["action"] == "report.read"
                && e["who"]
                    .as_str()
                    .is_some_and(|w| w.contains(&inv) && w.contains("investigator"))),
            "{log:?}"
        );
        assert!(log.iter().all(|e| {
            !e["who"]
                .as_str()
                .unwrap_or("")
                .contains(&app.account("worker").username)
        }));
        // Only she reads the access log.
        let (s, _) = get_json(
            &investigator,
            app.url(&format!("/api/v1/reports/{id}/access-log")),
        )
        .await;
        assert_eq!(s, 404);
    }
);

both!(
    a_confidential_report_names_nobody_until_unsealed_with_a_reason,
    |app| {
        let worker = app.login("worker").await;
        let r = worker
            .post(app.url("/api/v1/reports"))
            .json(&report_body(
                "confidential",
                "My head of department threatens me",
            ))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
        let rep: Value = r.json().await.expect("json");
        let id = rep["id"].as_str().expect("id").to_owned();
        assert_eq!(rep["mode"], "confidential");
        assert!(rep["reporter"].is_null());
        let me = app.account("worker").username;

        let investigator = app.login("investigator").await;
        let (_, seen) = get_json(&investigator, app.url(&format!("/api/v1/reports/{id}"))).await;
        assert!(seen["reporter"].is_null());
        assert!(!seen.to_string().contains(&me));
        // The audit log does not name her for the filing.
        let admin = app.login("system_admin").await;
        let (_, audit) = get_json(&admin, app.url(&format!("/api/v1/audit?object_id={id}"))).await;
        let submit = audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|e| e["action"] == "report.submit")
            .expect("submission audited")
            .clone();
        assert!(submit["actor_id"].is_null());
        assert!(!submit.to_string().contains(&me));
        assert!(submit["subject"].is_null());

        // Unsealing needs the action and a reason.
        let union_rep = app.login("union_rep").await;
        let r = union_rep
            .post(app.url(&format!("/api/v1/reports/{id}/unseal")))
            .json(&json!({"reason": "I want to know who it is"}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403);
        let r = investigator
            .post(app.url(&format!("/api/v1/reports/{id}/unseal")))
            .json(&json!({"reason": "short"}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        let why = "Interview needed before the disciplinary hearing";
        let r = investigator
            .post(app.url(&format!("/api/v1/reports/{id}/unseal")))
            .json(&json!({"reason": why}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 200);
        let who: Value = r.json().await.expect("json");
        assert_eq!(who["username"], me.as_str());

        // She sees who, when and why; and still finds the report as hers.
        let (_, log) = get_json(
            &worker,
            app.url(&format!("/api/v1/reports/{id}/access-log")),
        )
        .await;
        let unsealed = log
            .as_array()
            .expect("log")
            .iter()
            .find(|e| e["action"] == "report.identity.unseal")
            .expect("unseal listed")
            .clone();
        assert_eq!(unsealed["reason"], why);
        assert!(
            unsealed["who"]
                .as_str()
                .is_some_and(|w| w.contains(&app.account("investigator").username))
        );
        assert!(unsealed["at"].is_string());
        let (_, mine) = get_json(&worker, app.url("/api/v1/me/reports")).await;
        assert!(
            mine.as_array()
                .expect("list")
                .iter()
                .any(|r| r["id"] == id.as_str())
        );
        let other = app.login("department_head").await;
        let (_, theirs) = get_json(&other, app.url("/api/v1/me/reports")).await;
        assert!(
            theirs
                .as_array()
                .expect("list")
                .iter()
                .all(|r| r["id"] != id.as_str())
        );
    }
);

both!(bad_reports_are_refused_naming_each_field, |app| {
    let worker = app.login("worker").await;
    let mut b = report_body("named", &"x".repeat(20_001));
    b["types"] = json!([]);
    b["facility_id"] = json!(uuid::Uuid::now_v7());
    let r = worker
        .post(app.url("/api/v1/reports"))
        .json(&b)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.expect("problem");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["types", "narrative"]);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    // A facility that does not exist.
    let b = json!({"types": ["psychological.threat"], "perpetrator": "patient",
        "occurred_local": "2025-01-01T10:00", "narrative": "x", "facility_id": uuid::Uuid::now_v7()});
    let r = worker
        .post(app.url("/api/v1/reports"))
        .json(&b)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    // Over the request limit: 413 as problem+json.
    let b = report_body("named", &"x".repeat(2 * 1024 * 1024 + 64 * 1024));
    let r = worker
        .post(app.url("/api/v1/reports"))
        .json(&b)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 413);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .contains("problem+json")
    );
});

const PAYLOAD: &str = "<script>alert('x')</script><img src=x onerror=alert(1)>";

fn escaped(html: &str) {
    assert!(!html.contains("<script>alert"), "raw script on the page");
    assert!(!html.contains("<img src=x"), "raw tag on the page");
    assert!(html.contains("&#60;script&#62;alert("), "shown as text");
}

both!(the_report_pages_file_show_and_escape, |app| {
    let worker = app.login("worker").await;
    for (lang, word) in [
        ("kk", "Оқиға"),
        ("ru", "инцидент"),
        ("ky", "Окуя"),
        ("en", "Report an incident"),
    ] {
        let r = worker
            .get(app.url("/reports/new"))
            .header("accept-language", lang)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200);
        let html = r.text().await.expect("body");
        assert!(html.contains(word), "{lang}");
        assert!(html.contains("name=\"narrative\""));
    }
    // Errors name their fields.
    let r = worker
        .post(app.url("/reports/new"))
        .form(&[("mode", "named"), ("narrative", "")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("body");
    for f in [
        "types-error",
        "perpetrator-error",
        "occurred_local-error",
        "narrative-error",
    ] {
        assert!(html.contains(f), "{f}");
    }
    let r = worker
        .post(app.url("/reports/new"))
        .form(&[
            ("mode", "named"),
            ("types", "physical.assault"),
            ("types", "psychological.threat"),
            ("perpetrator", "patient"),
            ("occurred_local", "2024-03-23T12:00"),
            ("narrative", PAYLOAD),
            ("witnesses", PAYLOAD),
            ("severity", "1"),
            ("wishes", "police"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        to.starts_with("/reports/") && to.ends_with("?done=filed"),
        "{to}"
    );
    let id = to
        .trim_start_matches("/reports/")
        .trim_end_matches("?done=filed")
        .to_owned();

    let page = |c: reqwest::Client, path: String| {
        let url = app.url(&path);
        async move {
            let r = c
                .get(url)
                .header("accept-language", "en")
                .send()
                .await
                .expect("get");
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.expect("body")
        }
    };
    let html = page(worker.clone(), format!("/reports/{id}")).await;
    escaped(&html);
    assert!(html.contains("Public holiday"), "Nauryz on a Saturday");
    assert!(html.contains("<code>day</code>"));
    assert!(html.contains("No staff member has read this report yet."));

    let investigator = app.login("investigator").await;
    let staff = page(investigator.clone(), format!("/reports/{id}")).await;
    escaped(&staff);
    assert!(staff.contains(&app.account("worker").username));
    assert!(!staff.contains("Who has looked at this report"));

    let html = page(worker.clone(), format!("/reports/{id}")).await;
    assert!(html.contains("Read the report"));
    assert!(html.contains(&app.account("investigator").username));

    let list = page(worker.clone(), "/reports".into()).await;
    assert!(list.contains(&format!("/reports/{id}")));
    let home = page(worker.clone(), "/".into()).await;
    assert!(home.contains("href=\"/reports\""));

    // Handling: a note and a case title carrying the payload, on the triage, queue and case
    // pages.
    let (s, _) = send(
        investigator
            .post(app.url(&format!("/api/v1/reports/{id}/notes")))
            .json(&json!({"body": PAYLOAD})),
    )
    .await;
    assert_eq!(s, 200);
    let triage = page(investigator.clone(), format!("/triage/{id}")).await;
    escaped(&triage);
    let queue = page(investigator.clone(), "/triage".into()).await;
    assert!(!queue.contains("<script>alert") && !queue.contains("<img src=x"));
    let (s, case) = send(
        investigator
            .post(app.url(&format!("/api/v1/reports/{id}/case")))
            .json(&json!({"title": PAYLOAD})),
    )
    .await;
    assert_eq!(s, 201, "{case}");
    let case_page = page(
        investigator.clone(),
        format!("/cases/{}", case["id"].as_str().expect("case id")),
    )
    .await;
    escaped(&case_page);
    // A representative's record of the member's consent.
    let union = app.login("union_rep").await;
    let mut b = report_body("named", "On behalf of a member");
    b["relation"] = json!("representative");
    b["consent_record"] = json!(PAYLOAD);
    let (s, r) = send(union.post(app.url("/api/v1/reports")).json(&b)).await;
    assert_eq!(s, 201, "{r}");
    let rep = page(
        union.clone(),
        format!("/reports/{}", r["id"].as_str().expect("id")),
    )
    .await;
    escaped(&rep);

    let other = app.login("security_guard").await;
    let r = other
        .get(app.url(&format!("/reports/{id}")))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
});

fn anonymous_body(facility: &str, passphrase: &str) -> Value {
    let mut b = report_body("", "A visitor grabbed me in the corridor");
    b["facility_id"] = json!(facility);
    b["passphrase"] = json!(passphrase);
    b
}

both!(
    an_anonymous_report_keeps_nothing_that_identifies_her,
    |app| {
        let facility = app.demo_facility().await;
        let anon = app.client();
        let r = anon
            .post(app.url("/api/v1/reports/anonymous"))
            .header("user-agent", "UA-CANARY-7731")
            .header("x-forwarded-for", "203.0.113.77")
            .header("x-real-ip", "198.51.100.23")
            .header("idempotency-key", "anon-1")
            .json(&anonymous_body(&facility, ""))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
        let receipt: Value = r.json().await.expect("json");
        let receipt = receipt["receipt"].as_str().expect("receipt").to_owned();
        assert_eq!(receipt.len(), 16);
        assert!(receipt.bytes().all(|b| b.is_ascii_digit()));

        // Back with the receipt, typed in groups.
        let grouped = format!(
            "{} {} {} {}",
            &receipt[..4],
            &receipt[4..8],
            &receipt[8..12],
            &receipt[12..]
        );
        let r = anon
            .post(app.url("/api/v1/reports/anonymous/lookup"))
            .json(&json!({"receipt": grouped}))
            .send()
            .await
            .expect("lookup");
        assert_eq!(r.status(), 200);
        let view: Value = r.json().await.expect("json");
        let rep = view["report"].clone();
        assert_eq!(rep["mode"], "anonymous");
        assert!(rep["reporter"].is_null());
        assert_eq!(rep["when"]["classification"]["day_type"], "public_holiday");
        let created = rep["created_at"].as_str().expect("created");
        assert!(
            created.ends_with("T00:00:00Z"),
            "kept to the day: {created}"
        );
        let id = rep["id"].as_str().expect("id").to_owned();
        // The id holds the day and nothing finer: its high 48 bits are the day's start.
        let uid = uuid::Uuid::parse_str(&id).expect("uuid");
        assert_eq!(uid.get_version_num(), 8);
        let day: jiff::Timestamp = created.parse().expect("created");
        let ms = u64::try_from(day.as_millisecond()).expect("ms");
        assert_eq!(
            uid.as_bytes()[..6],
            ms.to_be_bytes()[2..],
            "only the day in the id"
        );

        // Nothing in any table holds the receipt, the address, the user agent or forwarded headers,
        // and the idempotency store kept no answer with the receipt.
        let dump = dump_text(&app).await;
        for canary in [
            receipt.as_str(),
            "UA-CANARY-7731",
            "203.0.113.77",
            "198.51.100.23",
            "127.0.0.1",
        ] {
            // PostgreSQL prints BYTEA columns as hex.
            let hex: String = canary.bytes().map(|b| format!("{b:02x}")).collect();
            assert!(
                !dump.contains(canary) && !dump.contains(&hex),
                "{canary} stored"
            );
        }

        // Handlers in scope see it and nobody behind it.
        let investigator = app.login("investigator").await;
        let (s, seen) = get_json(&investigator, app.url(&format!("/api/v1/reports/{id}"))).await;
        assert_eq!(s, 200);
        assert!(seen["reporter"].is_null());
    }
);

/// Everything the server stored: on SQLite every file in the data directory (database, WAL and
/// anything else written there, free pages included); on PostgreSQL every row of every table.
async fn dump_text(app: &TestApp) -> String {
    use qorgau::platform::db::Backend;
    let mut out = String::new();
    if app.db.backend() == Backend::Sqlite {
        fn walk(dir: &std::path::Path, out: &mut String) {
            for e in std::fs::read_dir(dir).expect("dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(bytes) = std::fs::read(&p) {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
        }
        walk(&app.data_dir, &mut out);
        assert!(
            out.contains("A visitor grabbed me"),
            "the dump sees the report"
        );
        return out;
    }
    let tables = app
        .db
        .fetch_all(
            "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema()",
            vec![],
        )
        .await
        .expect("tables");
    for row in tables {
        let t: String = row.get("t").expect("name");
        let sql: &'static str =
            Box::leak(format!("SELECT CAST(x AS TEXT) AS j FROM \"{t}\" x").into_boxed_str());
        for r in app.db.fetch_all(sql, vec![]).await.expect("rows") {
            out.push_str(&r.get::<String>("j").expect("text"));
            out.push('\n');
        }
    }
    assert!(
        out.contains("A visitor grabbed me"),
        "the dump sees the report"
    );
    out
}

both!(wrong_receipts_answer_404_alike_then_429, |app| {
    let facility = app.demo_facility().await;
    let anon = app.client();
    let r = anon
        .post(app.url("/api/v1/reports/anonymous"))
        .json(&anonymous_body(&facility, "blue heron at dawn"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.expect("json");
    let receipt = receipt["receipt"].as_str().expect("receipt").to_owned();
    let lookup = |receipt: String, passphrase: &'static str| {
        let anon = anon.clone();
        let url = app.url("/api/v1/reports/anonymous/lookup");
        async move {
            anon.post(url)
                .json(&json!({"receipt": receipt, "passphrase": passphrase}))
                .send()
                .await
                .expect("lookup")
        }
    };
    // With its passphrase it opens.
    assert_eq!(
        lookup(receipt.clone(), "blue heron at dawn").await.status(),
        200
    );
    // Malformed, wrong, and right-without-passphrase all look the same.
    let wrong = if receipt.starts_with('9') { "1" } else { "9" }.to_owned() + &receipt[1..];
    let mut bodies = vec![];
    for (rc, pass) in [
        ("12".to_owned(), ""),
        ("abcdabcdabcdabcd".to_owned(), ""),
        (wrong.clone(), "blue heron at dawn"),
        (receipt.clone(), ""),
        (receipt.clone(), "grey heron"),
    ] {
        let r = lookup(rc, pass).await;
        assert_eq!(r.status(), 404);
        let mut b: Value = r.json().await.expect("problem");
        b.as_object_mut().map(|o| o.remove("instance"));
        bodies.push(b);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    // Ten failures in all from this address; the next is refused even with the right receipt.
    for _ in 0..5 {
        assert_eq!(lookup(wrong.clone(), "").await.status(), 404);
    }
    let r = lookup(receipt.clone(), "blue heron at dawn").await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=600).contains(&wait));
});

both!(
    the_anonymous_pages_file_and_reopen_without_an_account,
    |app| {
        let facility = app.demo_facility().await;
        let anon = app.client();
        for lang in ["kk", "ru", "ky", "en"] {
            let r = anon
                .get(app.url("/report-anonymously"))
                .header("accept-language", lang)
                .send()
                .await
                .expect("get");
            assert_eq!(r.status(), 200, "{lang}");
            assert_eq!(r.headers()["cache-control"], "no-store");
            let html = r.text().await.expect("body");
            assert!(
                html.contains(&format!("value=\"{facility}\"")),
                "facilities offered"
            );
            assert!(!html.contains("name=\"mode\""));
        }
        let r = anon
            .post(app.url("/report-anonymously"))
            .header("accept-language", "en")
            .form(&[
                ("facility_id", facility.as_str()),
                ("types", "psychological.sexual_harassment"),
                ("perpetrator", "colleague"),
                ("occurred_local", "2025-03-20T10:00"),
                ("narrative", PAYLOAD),
                ("witnesses", PAYLOAD),
                ("passphrase", "river stones"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let html = r.text().await.expect("body");
        let start = html.find("<code>").expect("receipt shown") + 6;
        let receipt: String = html[start..start + 19].to_owned();
        assert_eq!(receipt.replace(' ', "").len(), 16, "{receipt}");

        let r = anon
            .post(app.url("/report-anonymously/lookup"))
            .header("accept-language", "en")
            .form(&[
                ("receipt", receipt.as_str()),
                ("passphrase", "river stones"),
            ])
            .send()
            .await
            .expect("lookup");
        assert_eq!(r.status(), 200);
        let html = r.text().await.expect("body");
        escaped(&html);
        assert!(
            html.contains("Pre-holiday day"),
            "20 March 2025, the eve of Nauryz"
        );
        assert!(html.contains("Who has looked at this report"));

        let r = anon
            .post(app.url("/report-anonymously/lookup"))
            .form(&[("receipt", receipt.as_str()), ("passphrase", "")])
            .send()
            .await
            .expect("lookup");
        assert_eq!(r.status(), 404);
        let r = anon
            .post(app.url("/report-anonymously"))
            .form(&[("facility_id", ""), ("narrative", "x")])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 422);
        let html = r.text().await.expect("body");
        assert!(html.contains("facility_id-error"));
    }
);

both!(messages_go_both_ways_named_and_anonymous, |app| {
    let worker = app.login("worker").await;
    let investigator = app.login("investigator").await;
    let r = worker
        .post(app.url("/api/v1/reports"))
        .json(&report_body(
            "confidential",
            "He waits for me after the night shift",
        ))
        .send()
        .await
        .expect("post");
    let id = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let url = app.url(&format!("/api/v1/reports/{id}/messages"));
    let r = investigator
        .post(&url)
        .json(&json!({"body": "Can you tell us which days he came?"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let r = worker
        .post(&url)
        .json(&json!({"body": "Mondays and <b>Thursdays</b>"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let r = worker
        .post(&url)
        .json(&json!({"body": ""}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let (_, msgs) = get_json(&investigator, url.clone()).await;
    let msgs = msgs.as_array().expect("list").clone();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["seq"], 1);
    assert_eq!(msgs[0]["from_reporter"], false);
    assert!(
        msgs[0]["author"]
            .as_str()
            .is_some_and(|a| a.contains("investigator"))
    );
    assert_eq!(msgs[1]["from_reporter"], true);
    assert!(
        msgs[1]["author"].is_null(),
        "a confidential reporter's message names nobody"
    );
    // Outside the report's handlers and reporter: 404.
    let guard = app.login("security_guard").await;
    let r = guard
        .post(&url)
        .json(&json!({"body": "hi"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404);

    // Anonymous: both ways with the receipt.
    let facility = app.demo_facility().await;
    let anon = app.client();
    let r = anon
        .post(app.url("/api/v1/reports/anonymous"))
        .json(&anonymous_body(&facility, ""))
        .send()
        .await
        .expect("post");
    let receipt = r.json::<Value>().await.expect("json")["receipt"]
        .as_str()
        .expect("r")
        .to_owned();
    let view: Value = anon
        .post(app.url("/api/v1/reports/anonymous/messages"))
        .json(&json!({"receipt": receipt, "body": "I can describe him"}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let aid = view["report"]["id"].as_str().expect("id").to_owned();
    let at = view["messages"][0]["at"].as_str().expect("at");
    assert!(at.ends_with("T00:00:00Z"), "kept to the day: {at}");
    let r = investigator
        .post(app.url(&format!("/api/v1/reports/{aid}/messages")))
        .json(&json!({"body": "Please do, we are listening."}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let view: Value = anon
        .post(app.url("/api/v1/reports/anonymous/lookup"))
        .json(&json!({"receipt": receipt}))
        .send()
        .await
        .expect("lookup")
        .json()
        .await
        .expect("json");
    assert_eq!(view["messages"].as_array().expect("list").len(), 2);
    assert_eq!(view["messages"][1]["body"], "Please do, we are listening.");
    assert!(
        view["access_log"]
            .as_array()
            .expect("log")
            .iter()
            .any(|e| e["action"] == "report.read")
    );
    let r = anon
        .post(app.url("/api/v1/reports/anonymous/messages"))
        .json(&json!({"receipt": "0000000000000000", "body": "x"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404);
});

both!(messages_on_the_pages_are_text, |app| {
    let worker = app.login("worker").await;
    let r = worker
        .post(app.url("/api/v1/reports"))
        .json(&report_body("named", "Pushed"))
        .send()
        .await
        .expect("post");
    let id = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let r = worker
        .post(app.url(&format!("/reports/{id}/messages")))
        .form(&[("body", PAYLOAD)])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let investigator = app.login("investigator").await;
    let html = investigator
        .get(app.url(&format!("/reports/{id}")))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    escaped(&html);

    let facility = app.demo_facility().await;
    let anon = app.client();
    let receipt = anon
        .post(app.url("/api/v1/reports/anonymous"))
        .json(&anonymous_body(&facility, ""))
        .send()
        .await
        .expect("post")
        .json::<Value>()
        .await
        .expect("json")["receipt"]
        .as_str()
        .expect("receipt")
        .to_owned();
    let r = anon
        .post(app.url("/report-anonymously/messages"))
        .form(&[
            ("receipt", receipt.as_str()),
            ("passphrase", ""),
            ("body", PAYLOAD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("body");
    escaped(&html);
    let r = anon
        .post(app.url("/report-anonymously/messages"))
        .form(&[
            ("receipt", "1111222233334444"),
            ("passphrase", ""),
            ("body", "x"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404);
});

both!(the_demo_has_reports_to_show, |app| {
    let worker = app.login("worker").await;
    let (_, mine) = get_json(&worker, app.url("/api/v1/me/reports")).await;
    let mine = mine.as_array().expect("list").clone();
    let modes: Vec<&str> = mine.iter().filter_map(|r| r["mode"].as_str()).collect();
    assert!(
        modes.contains(&"named") && modes.contains(&"confidential"),
        "{modes:?}"
    );
    let named = mine.iter().find(|r| r["mode"] == "named").expect("named");
    assert_eq!(named["when"]["classification"]["shift"], "night");
    assert_eq!(
        named["when"]["classification"]["day_type"],
        "public_holiday"
    );
    let confidential = mine
        .iter()
        .find(|r| r["mode"] == "confidential")
        .expect("c");
    let investigator = app.login("investigator").await;
    let r = investigator
        .post(app.url(&format!(
            "/api/v1/reports/{}/unseal",
            confidential["id"].as_str().expect("id")
        )))
        .json(&json!({"reason": "Checking the demo data opens as filed"}))
        .send()
        .await
        .expect("unseal");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json")["username"],
        app.account("worker").username
    );
});

both!(a_resolved_alarm_offers_its_presser_a_report_draft, |app| {
    let worker = app.login("worker").await;
    let r = worker
        .post(app.url("/api/v1/alarms"))
        .json(&json!({"room": "Палата 7"}))
        .send()
        .await
        .expect("raise");
    assert_eq!(r.status(), 201);
    let alarm: Value = r.json().await.expect("alarm");
    let id = alarm["id"].as_str().expect("id").to_owned();
    let guard = app.login("security_guard").await;
    for body in [
        json!({"action": "acknowledge"}),
        json!({"action": "dispatch", "guards": ["Ерлан Серіков"]}),
        json!({"action": "resolve", "outcome": "de_escalated"}),
    ] {
        let r = guard
            .post(app.url(&format!("/api/v1/alarms/{id}/actions")))
            .json(&body)
            .send()
            .await
            .expect("act");
        assert_eq!(r.status(), 200, "{body}");
    }
    let page = |c: &reqwest::Client, path: String| {
        let req = c.get(app.url(&path)).header("accept-language", "en");
        async move {
            let r = req.send().await.expect("get");
            (r.status().as_u16(), r.text().await.expect("body"))
        }
    };
    // Her alarm's page offers the draft; the guard's does not.
    let (s, mine) = page(&worker, format!("/alarms/{id}")).await;
    assert_eq!(s, 200);
    let link = format!("/reports/new?alarm={id}");
    assert!(mine.contains(&link), "no draft offered");
    let (_, theirs) = page(&guard, format!("/alarms/{id}")).await;
    assert!(!theirs.contains(&link));
    // The draft: the alarm linked, the time of the press, responders and outcome.
    let (s, draft) = page(&worker, link.clone()).await;
    assert_eq!(s, 200);
    assert!(draft.contains(&format!("name=\"alarm_id\" value=\"{id}\"")));
    assert!(
        draft.contains("Ерлан Серіков") && draft.contains("De-escalated"),
        "{draft}"
    );
    // Someone who may not see the alarm gets no draft of it, and cannot link it.
    let other = app.fresh_login("department_head").await;
    let (s, _) = page(&other, link.clone()).await;
    assert_eq!(s, 404);
    let r = other
        .post(app.url("/reports/new"))
        .form(&[
            ("mode", "named"),
            ("types", "physical.assault"),
            ("perpetrator", "patient"),
            ("occurred_local", "2024-03-23T12:00"),
            ("narrative", "Толкнул"),
            ("alarm_id", id.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("id=\"alarm_id-error\"")
    );
    // She files it: the report keeps the link to the alarm.
    let r = worker
        .post(app.url("/reports/new"))
        .form(&[
            ("mode", "named"),
            ("types", "physical.assault"),
            ("perpetrator", "relative_companion"),
            ("occurred_local", "2024-03-23T12:00"),
            ("narrative", "Родственник пациента толкнул меня."),
            ("alarm_id", id.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let report_id = to
        .trim_start_matches("/reports/")
        .split('?')
        .next()
        .expect("id")
        .to_owned();
    let report: Value = worker
        .get(app.url(&format!("/api/v1/reports/{report_id}")))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(report["alarm_id"], id.as_str(), "{report}");
});

both!(an_oversized_report_form_gets_a_readable_413_page, |app| {
    let worker = app.login("worker").await;
    // A browser form post over the request limit: the reporter gets a page in her language
    // saying the request was too large, not a bare error.
    // Just over the 2 MiB limit: the server answers before reading the rest, and a body far larger
    // would still be in flight when it closes the connection.
    let narrative = "x".repeat(2 * 1024 * 1024 + 64 * 1024);
    for (lang, title) in [
        ("en", "The request is too large"),
        ("ru", "Запрос слишком большой"),
    ] {
        let r = worker
            .post(app.url("/reports/new"))
            .header("accept-language", lang)
            .header("accept", "text/html")
            .form(&[
                ("mode", "named"),
                ("perpetrator", "patient"),
                ("occurred_local", "2025-01-01T10:00"),
                ("narrative", narrative.as_str()),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 413, "{lang}");
        let ct = r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .to_owned();
        assert!(ct.starts_with("text/html"), "{lang}: {ct}");
        let html = r.text().await.expect("text");
        assert!(
            html.contains(title),
            "{lang}: no translated title in the page"
        );
        assert!(
            html.contains(&format!("lang=\"{lang}\"")),
            "{lang}: page language"
        );
    }
});

both!(
    she_can_withdraw_consent_to_escalation_and_give_it_again,
    |app| {
        let worker = app.login("worker").await;
        let r = worker
            .post(app.url("/api/v1/reports"))
            .json(&report_body("confidential", "The relative threatened me"))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
        let id = r.json::<Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        assert!(
            get_json(&worker, app.url(&format!("/api/v1/reports/{id}")))
                .await
                .1["escalation_withdrawn_at"]
                .is_null()
        );
        let consent = app.url(&format!("/api/v1/reports/{id}/consent"));
        // Nobody else may change it, not even a handler who may read the report.
        let inv = app.login("investigator").await;
        let (s, _) = send(inv.post(&consent).json(&json!({"escalation": false}))).await;
        assert_eq!(s, 404);
        let (s, _) = send(worker.post(&consent).json(&json!({"escalation": "no"}))).await;
        assert_eq!(s, 422);

        let (s, rep) = send(worker.post(&consent).json(&json!({"escalation": false}))).await;
        assert_eq!(s, 200);
        assert!(rep["escalation_withdrawn_at"].is_string());
        // The handler sees the withdrawal on the report, and on its page.
        let (_, seen) = get_json(&inv, app.url(&format!("/api/v1/reports/{id}"))).await;
        assert!(seen["escalation_withdrawn_at"].is_string());
        let page = inv
            .get(app.url(&format!("/reports/{id}")))
            .header("accept-language", "en")
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("text");
        assert!(page.contains("nothing may be referred outside the facility"));
        // The audit entry does not name a confidential reporter.
        let admin = app.login("system_admin").await;
        let (_, audit) = get_json(
            &admin,
            app.url("/api/v1/audit?action=report.consent.withdraw"),
        )
        .await;
        let entries = audit["items"].as_array().cloned().unwrap_or_default();
        assert!(!entries.is_empty(), "withdrawal audited: {audit}");
        let who = app.account("worker").username;
        assert!(
            entries.iter().all(|e| !e.to_string().contains(&who)),
            "the audit names her"
        );

        // Her own page offers to give it again; the form does.
        let page = worker
            .get(app.url(&format!("/reports/{id}")))
            .header("accept-language", "en")
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("text");
        assert!(page.contains("Give consent to escalation again"));
        let r = worker
            .post(app.url(&format!("/reports/{id}/consent")))
            .form(&[("escalation", "1")])
            .send()
            .await
            .expect("form");
        assert_eq!(r.status(), 303);
        let (_, rep) = get_json(&worker, app.url(&format!("/api/v1/reports/{id}"))).await;
        assert!(rep["escalation_withdrawn_at"].is_null());
    }
);

both!(
    an_anonymous_reporter_withdraws_consent_with_her_receipt,
    |app| {
        let facility = app.demo_facility().await;
        let anon = app.client();
        let (s, receipt) = send(
            anon.post(app.url("/api/v1/reports/anonymous"))
                .json(&anonymous_body(&facility, "")),
        )
        .await;
        assert_eq!(s, 201);
        let receipt = receipt["receipt"].as_str().expect("receipt").to_owned();
        let url = app.url("/api/v1/reports/anonymous/consent");
        let (s, _) = send(
            anon.post(&url)
                .json(&json!({"receipt": "0000000000000000", "escalation": false})),
        )
        .await;
        assert_eq!(s, 404, "a wrong receipt");
        let (s, view) = send(
            anon.post(&url)
                .json(&json!({"receipt": receipt, "escalation": false})),
        )
        .await;
        assert_eq!(s, 200);
        // The day only: nothing finer that could date her.
        let at = view["report"]["escalation_withdrawn_at"]
            .as_str()
            .expect("withdrawn")
            .to_owned();
        let at: jiff::Timestamp = at.parse().expect("timestamp");
        assert_eq!(at.as_second() % 86_400, 0, "{at}");
        // Through the page, with the receipt carried in the form.
        let r = anon
            .post(app.url("/report-anonymously/consent"))
            .header("accept-language", "en")
            .form(&[
                ("receipt", receipt.as_str()),
                ("passphrase", ""),
                ("escalation", "1"),
            ])
            .send()
            .await
            .expect("form");
        assert_eq!(r.status(), 200);
        let page = r.text().await.expect("text");
        assert!(page.contains("Withdraw consent to escalation"));
        let (_, view) = send(
            anon.post(app.url("/api/v1/reports/anonymous/lookup"))
                .json(&json!({"receipt": receipt})),
        )
        .await;
        assert!(view["report"]["escalation_withdrawn_at"].is_null());
    }
);

both!(
    witnesses_and_union_representatives_report_for_others,
    |app| {
        let worker = app.login("worker").await;
        let union = app.login("union_rep").await;
        let investigator = app.login("investigator").await;
        let with = |relation: &str, record: &str| {
            let mut b = report_body("named", "Saw a relative hit the nurse on duty");
            b["relation"] = json!(relation);
            b["consent_record"] = json!(record);
            b
        };
        // A witness reports what she saw.
        let (s, r) = send(
            worker
                .post(app.url("/api/v1/reports"))
                .json(&with("witness", "")),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["relation"], "witness");
        assert!(r["consent_record"].is_null());
        // Only a union representative reports on a member's behalf, and only with her consent recorded.
        let (s, p) = send(
            worker
                .post(app.url("/api/v1/reports"))
                .json(&with("representative", "Written consent, 12 March")),
        )
        .await;
        assert_eq!(s, 422, "{p}");
        assert_eq!(p["errors"][0]["field"], "relation");
        let (s, p) = send(
            union
                .post(app.url("/api/v1/reports"))
                .json(&with("representative", "")),
        )
        .await;
        assert_eq!(s, 422, "{p}");
        assert_eq!(p["errors"][0]["field"], "consent_record");
        let (s, p) = send(
            union
                .post(app.url("/api/v1/reports"))
                .json(&with("cousin", "")),
        )
        .await;
        assert_eq!(s, 422);
        assert_eq!(p["errors"][0]["field"], "relation");
        let record = "Written consent of 12 March, kept by the union committee";
        let (s, r) = send(
            union
                .post(app.url("/api/v1/reports"))
                .json(&with("representative", record)),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        let id = r["id"].as_str().expect("id").to_owned();
        let (_, seen) = get_json(&investigator, app.url(&format!("/api/v1/reports/{id}"))).await;
        assert_eq!(seen["relation"], "representative");
        assert_eq!(seen["consent_record"], record);
        // Not anonymously: the representative answers for the consent.
        let mut anon = anonymous_body(&app.demo_facility().await, "");
        anon["relation"] = json!("representative");
        anon["consent_record"] = json!(record);
        let (s, p) = send(
            app.client()
                .post(app.url("/api/v1/reports/anonymous"))
                .json(&anon),
        )
        .await;
        assert_eq!(s, 422);
        assert_eq!(p["errors"][0]["field"], "relation");
        // The form offers it to union representatives only.
        let form = |c: &reqwest::Client| {
            let c = c.clone();
            let url = app.url("/reports/new");
            async move {
                c.get(url)
                    .header("accept-language", "en")
                    .send()
                    .await
                    .expect("form")
                    .text()
                    .await
                    .expect("text")
            }
        };
        assert!(form(&union).await.contains("value=\"representative\""));
        let w = form(&worker).await;
        assert!(w.contains("value=\"witness\"") && !w.contains("value=\"representative\""));
    }
);

both!(the_report_form_sent_twice_makes_one_report, |app| {
    let worker = app.login("worker").await;
    let page = worker
        .get(app.url("/reports/new"))
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("text");
    let key = page
        .split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the form carries its key")
        .to_owned();
    assert!(page.contains("data-draft=\"report-new\"") && page.contains("data-draft-key=\""));
    let fields = [
        ("idempotency_key", key.as_str()),
        ("types", "psychological.threat"),
        ("perpetrator", "patient"),
        ("occurred_local", "2026-03-21T03:00"),
        (
            "narrative",
            "Threatened at the desk; the connection dropped as I sent it",
        ),
    ];
    let send_form = || async {
        let r = worker
            .post(app.url("/reports/new"))
            .form(&fields)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 303);
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    };
    let first = send_form().await;
    let again = send_form().await;
    assert_eq!(first, again, "the retry found the first report");
    let (_, mine) = get_json(&worker, app.url("/api/v1/me/reports")).await;
    let same = mine
        .as_array()
        .expect("list")
        .iter()
        .filter(|r| {
            r["narrative"]
                .as_str()
                .is_some_and(|n| n.contains("connection dropped"))
        })
        .count();
    assert_eq!(same, 1);
});

/// Anonymous reports are held back per address (in memory only), not by anything that
/// identifies the reporter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_reports_are_limited_per_address() {
    let app =
        common::TestApp::start_with(common::Backend::Sqlite, |cfg| cfg.anonymous_per_hour = 2)
            .await;
    let facility = app.demo_facility().await;
    let anon = app.client();
    // A refused body does not count.
    let (s, _) = send(
        anon.post(app.url("/api/v1/reports/anonymous"))
            .json(&json!({"narrative": ""})),
    )
    .await;
    assert_eq!(s, 422);
    for i in 0..2 {
        let (s, r) = send(
            anon.post(app.url("/api/v1/reports/anonymous"))
                .json(&anonymous_body(&facility, "")),
        )
        .await;
        assert_eq!(s, 201, "report {i}: {r}");
    }
    // The third stored one is over the limit.
    let r = anon
        .post(app.url("/api/v1/reports/anonymous"))
        .json(&anonymous_body(&facility, ""))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&wait), "{wait}");
    // Nothing about the address was written anywhere.
    let dump = dump_text(&app).await;
    assert!(!dump.contains("127.0.0.1"));
}

// Concurrent submissions share batches (several at once on PostgreSQL) whose audit entries are
// chained at the end of each batch: every report is stored once with its one entry, the chain
// has no gap or fork, and a retry racing its first attempt still makes one report.
both!(
    concurrent_reports_each_get_one_entry_in_an_intact_chain,
    |app| {
        let worker = app.login("worker").await;
        let before = qorgau::platform::audit::verify(&app.db)
            .await
            .expect("verify")
            .entries;
        let mut sends = Vec::new();
        for i in 0..120 {
            let worker = worker.clone();
            let url = app.url("/api/v1/reports");
            // The first 40 come in pairs with the same key, sent at once.
            let key = format!("concurrent-{}", if i < 40 { i / 2 } else { i });
            sends.push(tokio::spawn(async move {
                let r = worker
                    .post(url)
                    .header("idempotency-key", key)
                    .json(&report_body("named", "Concurrent"))
                    .send()
                    .await
                    .expect("post");
                let status = r.status().as_u16();
                let v: Value = r.json().await.expect("json");
                (status, v["id"].as_str().unwrap_or_default().to_owned())
            }));
        }
        let mut ids = std::collections::HashSet::new();
        for s in sends {
            let (status, id) = s.await.expect("join");
            assert!(status == 201 || status == 200, "{status}");
            ids.insert(id);
        }
        let keys: std::collections::HashSet<String> = (0..120)
            .map(|i| format!("concurrent-{}", if i < 40 { i / 2 } else { i }))
            .collect();
        assert_eq!(ids.len(), keys.len(), "one report per key");
        let v = qorgau::platform::audit::verify(&app.db)
            .await
            .expect("verify");
        assert!(v.breaks.is_empty(), "{:?}", v.breaks);
        let rows = app
            .db
            .fetch_all(
                "SELECT object_id FROM audit_log WHERE action = 'report.submit'",
                vec![],
            )
            .await
            .expect("entries");
        // The demo's own reports have entries too.
        let ours: Vec<String> = rows
            .iter()
            .map(|r| r.get::<String>("object_id").expect("object_id"))
            .filter(|id| ids.contains(id))
            .collect();
        assert_eq!(ours.len(), ids.len(), "one entry per report");
        assert!(v.entries >= before + keys.len() as i64);
    }
);
