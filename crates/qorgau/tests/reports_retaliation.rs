//! Retaliation watch over HTTP: she records adverse treatment; with her consent her roster four
//! weeks before and after the report is compared and the handlers in scope are alerted; the
//! consent is withdrawable and nothing is compared without it.

mod common;

use common::{TestApp, send};
use serde_json::json;

/// Puts her on day shifts on weekdays before the report, then mostly on nights after it.
async fn roster(app: &TestApp, person: uuid::Uuid) {
    let shifts = app
        .db
        .fetch_all(
            "SELECT s.id, s.code FROM shift_definitions s JOIN people p ON p.facility_id = s.facility_id WHERE p.id = $1",
            qorgau::args![person],
        )
        .await
        .expect("shifts");
    let shift = |code: &str| -> uuid::Uuid {
        shifts
            .iter()
            .find(|r| r.get::<String>("code").expect("code") == code)
            .expect("shift")
            .get("id")
            .expect("id")
    };
    let (day, night) = (shift("day"), shift("night"));
    let start = jiff::civil::date(2025, 5, 5);
    let mut weekday = 0;
    for i in 0..56 {
        let d = start.checked_add(jiff::Span::new().days(i)).expect("date");
        if matches!(
            d.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        ) {
            continue;
        }
        weekday += 1;
        // Before (weekdays 1-20): two nights. After (21-40): twelve nights.
        let s = if (i < 28 && weekday > 18) || (i >= 28 && weekday > 28) {
            night
        } else {
            day
        };
        app.db
            .execute(
                "INSERT INTO roster_entries (id, person_id, shift_id, day) VALUES ($1, $2, $3, $4)",
                qorgau::args![uuid::Uuid::now_v7(), person, s, d.to_string()],
            )
            .await
            .expect("roster");
    }
}

both!(consent_compares_her_roster_and_alerts_the_handlers, |app| {
    let worker = app.login("worker").await;
    let rep = app.login("union_rep").await;
    let (_, me) = send(worker.get(app.url("/api/v1/me"))).await;
    let person = uuid::Uuid::parse_str(me["person_id"].as_str().expect("person")).expect("uuid");
    roster(&app, person).await;
    let (s, r) = send(worker.post(app.url("/api/v1/reports")).json(&json!({
        "mode": "confidential",
        "types": ["psychological.verbal_abuse"],
        "perpetrator": "patient",
        "occurred_local": "2025-06-02T10:00",
        "narrative": "My head of department shouted at me",
    })))
    .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().expect("id").to_owned();
    let base = app.url(&format!("/api/v1/reports/{id}/retaliation"));

    // Without consent: nothing compared, nothing sent.
    let (s, w) = send(worker.get(&base)).await;
    assert_eq!(s, 200);
    assert!(w["consent"].is_null() && w["comparison"].is_null(), "{w}");
    let (s, e) = send(worker.post(format!("{base}/events")).json(&json!({
        "kind": "promotion", "happened_on": "10.06.2025", "text": ""
    })))
    .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["kind", "happened_on", "text"]);
    let (s, w) = send(worker.post(format!("{base}/events")).json(&json!({
        "kind": "shift_change", "happened_on": "2025-06-09", "text": "Moved to nights <b>without asking</b>"
    })))
    .await;
    assert_eq!(s, 201);
    assert_eq!(w["events"][0]["kind"], "shift_change");
    assert_eq!(
        w["events"][0]["text"],
        "Moved to nights <b>without asking</b>"
    );
    assert!(w["comparison"].is_null());
    let (_, a) = send(rep.get(app.url("/api/v1/retaliation/alerts"))).await;
    assert_eq!(a, json!([]));

    // Nobody else sees or changes her watch.
    for role in ["security_guard", "union_rep", "facility_admin"] {
        let c = app.login(role).await;
        let (s, _) = send(c.get(&base)).await;
        assert_eq!(s, 404, "{role}");
        let (s, _) = send(
            c.put(format!("{base}/consent"))
                .json(&json!({"consent": true})),
        )
        .await;
        assert_eq!(s, 404, "{role}");
    }

    // With consent: compared at once, the nights flagged, the handlers alerted.
    let (s, w) = send(
        worker
            .put(format!("{base}/consent"))
            .json(&json!({"consent": true})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(w["consent"]["given_at"].is_string());
    assert!(w["consent"]["withdrawn_at"].is_null());
    let cmp = &w["comparison"];
    assert_eq!(cmp["report_day"], "2025-06-02");
    assert_eq!(
        cmp["before"],
        json!({"total": 20, "nights": 2, "weekends": 0})
    );
    assert_eq!(
        cmp["after"],
        json!({"total": 20, "nights": 12, "weekends": 0})
    );
    assert_eq!(cmp["flagged"], json!(["nights"]));
    // Nobody else in her department worked in those weeks, so nothing explains it.
    assert_eq!(cmp["explained"], json!([]));
    let (s, a) = send(rep.get(app.url("/api/v1/retaliation/alerts"))).await;
    assert_eq!(s, 200);
    assert_eq!(a.as_array().expect("array").len(), 1);
    assert_eq!(a[0]["report_id"], id.as_str());
    assert_eq!(a[0]["comparison"]["flagged"], json!(["nights"]));
    // The same finding is not sent twice.
    let (_, _) = send(
        worker
            .put(format!("{base}/consent"))
            .json(&json!({"consent": true})),
    )
    .await;
    let (_, a) = send(rep.get(app.url("/api/v1/retaliation/alerts"))).await;
    assert_eq!(a.as_array().expect("array").len(), 1);
    // The representative's reading is in her access log.
    let (_, log) = send(worker.get(app.url(&format!("/api/v1/reports/{id}/access-log")))).await;
    assert!(
        log.as_array()
            .expect("log")
            .iter()
            .any(|e| e["action"] == "retaliation.alert.read"),
        "{log}"
    );
    // Workers and managers get no alerts.
    for role in ["worker", "department_head", "facility_admin"] {
        let (s, _) = send(
            app.login(role)
                .await
                .get(app.url("/api/v1/retaliation/alerts")),
        )
        .await;
        assert_eq!(s, 403, "{role}");
    }

    // Her page shows what she recorded as text, and the comparison; the handlers' page the alert.
    let html = worker
        .get(app.url(&format!("/reports/{id}/protect")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Moved to nights &#60;b&#62;without asking&#60;/b&#62;")
            && !html.contains("<b>without"),
        "{html}"
    );
    assert!(html.contains("<td>12</td>"));
    let r = worker
        .post(app.url(&format!("/reports/{id}/protect/events")))
        .form(&[("kind", "other"), ("happened_on", ""), ("text", "x")])
        .send()
        .await
        .expect("form");
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .expect("html")
            .contains("id=\"event-on-error\"")
    );
    let html = rep
        .get(app.url("/protect/notices"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains(&format!("/reports/{id}")), "{html}");

    // Two colleagues in her department moved onto nights the same way: explained, no new alert.
    let peers = app
        .db
        .fetch_all(
            "SELECT id FROM people WHERE department_id = (SELECT department_id FROM people WHERE id = $1) AND id <> $1 ORDER BY id LIMIT 2",
            qorgau::args![person],
        )
        .await
        .expect("peers");
    assert_eq!(peers.len(), 2);
    for r in &peers {
        roster(&app, r.get("id").expect("id")).await;
    }
    let (_, w) = send(worker.get(&base)).await;
    assert_eq!(w["comparison"]["flagged"], json!([]));
    assert_eq!(w["comparison"]["explained"], json!(["nights"]));
    let (_, a) = send(rep.get(app.url("/api/v1/retaliation/alerts"))).await;
    assert_eq!(a.as_array().expect("array").len(), 1);

    // Withdrawn: recorded, and no comparison any more.
    let (s, w) = send(
        worker
            .put(format!("{base}/consent"))
            .json(&json!({"consent": false})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(w["consent"]["withdrawn_at"].is_string());
    assert!(w["comparison"].is_null());
    let audit = app
        .db
        .fetch_all(
            "SELECT action, actor FROM audit_log WHERE action LIKE 'retaliation.%' ORDER BY seq",
            vec![],
        )
        .await
        .expect("audit");
    let actions: Vec<String> = audit
        .iter()
        .map(|r| r.get::<String>("action").expect("action"))
        .collect();
    for want in [
        "retaliation.record",
        "retaliation.consent",
        "retaliation.alert",
        "retaliation.withdraw",
    ] {
        assert!(actions.iter().any(|a| a == want), "{want}: {actions:?}");
    }
    // A confidential reporter is not named in the audit log.
    for r in &audit {
        let actor: String = r.get("actor").expect("actor");
        assert!(!actor.contains("worker"), "{actor}");
    }
});
