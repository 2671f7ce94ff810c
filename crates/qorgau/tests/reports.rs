//! Reports over HTTP: classification of an incident time at a real facility, and the calendars an
//! administrator extends.

mod common;

use common::TestApp;
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
