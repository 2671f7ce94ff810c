//! Handling reports over HTTP: the queue per facility and per union, assignment, internal notes,
//! status changes on the reporter's timeline, merging duplicates, cases, and mandatory
//! notifications with their deadlines, escalation and the reporter's consent.

mod common;

use common::{TestApp, get_json, send, wait_for};
use serde_json::{Value, json};

fn body(mode: &str, types: &[&str], severity: u8, injury: bool, wishes: &[&str]) -> Value {
    json!({
        "mode": mode,
        "types": types,
        "perpetrator": "relative_companion",
        "severity": severity,
        "injury": injury,
        "place": "emergency_dept",
        "occurred_local": "2026-03-21T03:00",
        "wishes": wishes,
        "narrative": "He shouted and pushed me <b>hard</b>",
    })
}

async fn file(app: &TestApp, c: &reqwest::Client, b: Value) -> String {
    let (s, r) = send(c.post(app.url("/api/v1/reports")).json(&b)).await;
    assert_eq!(s, 201, "{r}");
    r["id"].as_str().expect("id").to_owned()
}

fn ids(queue: &Value) -> Vec<String> {
    queue["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Moves a report's open deadlines into the past, as if a day had gone by, and lets the timers
/// run.
async fn time_passes(app: &TestApp, report: &str) {
    let past = qorgau::platform::time::Ts::now().add_secs(-3600);
    let report = uuid::Uuid::parse_str(report).expect("report id");
    let duties = app
        .db
        .fetch_all(
            "SELECT id FROM report_duties WHERE report_id = $1 AND done_at IS NULL",
            qorgau::args![report],
        )
        .await
        .expect("duties");
    for d in &duties {
        let id: uuid::Uuid = d.get("id").expect("id");
        app.db
            .execute(
                "UPDATE jobs SET due_at = $1 WHERE kind = 'report.duty.due' AND done_at IS NULL AND ref_id = $2",
                qorgau::args![past, id.to_string()],
            )
            .await
            .expect("jobs");
    }
    app.db
        .execute(
            "UPDATE report_duties SET due_at = $1 WHERE done_at IS NULL AND report_id = $2",
            qorgau::args![past, report],
        )
        .await
        .expect("duties");
}

both!(
    the_queue_shows_reports_in_scope_without_who_or_what,
    |app| {
        let worker = app.login("worker").await;
        let investigator = app.login("investigator").await;
        let union = app.login("union_rep").await;
        let named = file(
            &app,
            &worker,
            body("named", &["physical.assault"], 3, true, &["union_support"]),
        )
        .await;
        let conf = file(
            &app,
            &worker,
            body(
                "confidential",
                &["psychological.verbal_abuse"],
                0,
                false,
                &[],
            ),
        )
        .await;

        let (s, q) = get_json(&investigator, app.url("/api/v1/triage")).await;
        assert_eq!(s, 200, "{q}");
        assert_eq!(q["queue"], "facility");
        let listed = ids(&q);
        assert!(listed.contains(&named) && listed.contains(&conf), "{q}");
        // The queue never carries the narrative or the reporter: opening a report is the audited read.
        let text = q.to_string();
        assert!(!text.contains("pushed me") && !text.contains("narrative"));
        assert!(!text.contains(&app.account("worker").username));
        let item = q["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["id"] == named.as_str())
            .expect("named in queue");
        assert_eq!(item["union_support"], true);
        assert_eq!(item["duties_open"], 2, "facility head and police: {item}");
        assert_eq!(item["overdue"], false);

        // The union representative's own queue: reports asking for the union's support.
        let (s, q) = get_json(&union, app.url("/api/v1/triage")).await;
        assert_eq!(s, 200);
        assert_eq!(q["queue"], "union");
        let listed = ids(&q);
        assert!(listed.contains(&named) && !listed.contains(&conf), "{q}");
        let (_, q) = get_json(&union, app.url("/api/v1/triage?queue=facility")).await;
        assert!(ids(&q).contains(&conf));

        // Filters: mode, a parent type finds its children, severity.
        let (_, q) = get_json(&investigator, app.url("/api/v1/triage?mode=confidential")).await;
        assert!(ids(&q).contains(&conf) && !ids(&q).contains(&named));
        let (_, q) = get_json(&investigator, app.url("/api/v1/triage?type=physical")).await;
        assert!(ids(&q).contains(&named) && !ids(&q).contains(&conf));
        let (_, q) = get_json(&investigator, app.url("/api/v1/triage?min_severity=3")).await;
        assert!(ids(&q).contains(&named) && !ids(&q).contains(&conf));
        let (_, q) = get_json(
            &investigator,
            app.url("/api/v1/triage?assignee=none&open=true"),
        )
        .await;
        assert!(ids(&q).contains(&named));

        // Bad filters name the field.
        for (url, field) in [
            ("/api/v1/triage?type=nonsense", "type"),
            ("/api/v1/triage?limit=0", "limit"),
            ("/api/v1/triage?assignee=somebody", "assignee"),
            ("/api/v1/triage?min_severity=9", "min_severity"),
        ] {
            let (s, p) = get_json(&investigator, app.url(url)).await;
            assert_eq!(s, 422, "{url}: {p}");
            assert_eq!(p["errors"][0]["field"], field, "{url}");
        }
        let (s, _) = get_json(&investigator, app.url("/api/v1/triage?status=lost")).await;
        assert!(s == 400 || s == 422, "{s}");

        // Not handlers: 403.
        for role in ["worker", "security_guard", "facility_admin", "system_admin"] {
            let c = app.login(role).await;
            let (s, _) = get_json(&c, app.url("/api/v1/triage")).await;
            assert_eq!(s, 403, "{role}");
        }
    }
);

both!(
    assignment_notes_and_status_reach_her_timeline_not_her_eyes,
    |app| {
        let worker = app.login("worker").await;
        let investigator = app.login("investigator").await;
        let union = app.login("union_rep").await;
        let id = file(
            &app,
            &worker,
            body("named", &["psychological.threat"], 1, false, &[]),
        )
        .await;
        let (_, me) = get_json(&union, app.url("/api/v1/me")).await;
        let union_id = me["id"].as_str().expect("union id").to_owned();
        let (_, wme) = get_json(&worker, app.url("/api/v1/me")).await;
        let worker_id = wme["id"].as_str().expect("worker id").to_owned();
        let url = |p: &str| app.url(&format!("/api/v1/reports/{id}/{p}"));

        // Only an account that may handle the report can be assigned.
        let (s, p) = send(
            investigator
                .post(url("assign"))
                .json(&json!({"assignee_id": worker_id})),
        )
        .await;
        assert_eq!(s, 422, "{p}");
        assert_eq!(p["errors"][0]["field"], "assignee_id");
        let (s, t) = send(
            investigator
                .post(url("assign"))
                .json(&json!({"assignee_id": union_id})),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["assignee_id"], union_id.as_str());
        assert_eq!(
            t["status"], "in_triage",
            "taking a report on starts its triage"
        );
        let (_, q) = get_json(&union, app.url("/api/v1/triage?queue=facility&assignee=me")).await;
        assert!(ids(&q).contains(&id));

        // An internal note, with markup kept as text.
        let (s, p) = send(investigator.post(url("notes")).json(&json!({"body": ""}))).await;
        assert_eq!(s, 422);
        assert_eq!(p["errors"][0]["field"], "body");
        let note = "Called the ward <script>alert(1)</script>";
        let (s, t) = send(investigator.post(url("notes")).json(&json!({"body": note}))).await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["notes"][0]["body"], note);
        assert!(
            t["notes"][0]["author"]
                .as_str()
                .is_some_and(|a| a.contains("investigator"))
        );

        // Status changes: allowed ones, then refused ones.
        let (s, t) = send(
            investigator
                .post(url("status"))
                .json(&json!({"status": "closed"})),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        for bad in ["closed", "merged", "case_opened", "received"] {
            let (s, p) = send(
                investigator
                    .post(url("status"))
                    .json(&json!({"status": bad})),
            )
            .await;
            assert_eq!(s, 409, "{bad}: {p}");
            assert_eq!(p["type"], "/problems/report-status");
        }
        let (s, _) = send(
            investigator
                .post(url("status"))
                .json(&json!({"status": "in_triage"})),
        )
        .await;
        assert_eq!(s, 200);

        // She sees the timeline and who acted, never the notes.
        let (s, tl) = get_json(&worker, url("timeline")).await;
        assert_eq!(s, 200);
        let statuses: Vec<&str> = tl
            .as_array()
            .expect("timeline")
            .iter()
            .map(|e| e["status"].as_str().expect("status"))
            .collect();
        assert_eq!(statuses, ["received", "in_triage", "closed", "in_triage"]);
        let (_, mine) = get_json(&worker, app.url(&format!("/api/v1/reports/{id}"))).await;
        assert!(!mine.to_string().contains("Called the ward"));
        let (s, _) = get_json(&worker, url("triage")).await;
        assert_eq!(s, 403, "the triage view is for handlers");
        let (_, log) = get_json(&worker, url("access-log")).await;
        let actions: Vec<&str> = log
            .as_array()
            .expect("log")
            .iter()
            .map(|e| e["action"].as_str().expect("action"))
            .collect();
        for a in ["report.assign", "report.note", "report.status"] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        let page = worker
            .get(app.url(&format!("/reports/{id}")))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("text");
        assert!(
            // The demo worker's account is in Russian.
            page.contains("Ход рассмотрения") && page.contains("Рассматривается"),
            "{}",
            &page[page.len().saturating_sub(3000)..]
        );
        assert!(!page.contains("Called the ward"));

        // A handler who filed a report does not triage it.
        let own = file(
            &app,
            &investigator,
            body("named", &["psychological.threat"], 1, false, &[]),
        )
        .await;
        let (s, _) = get_json(
            &investigator,
            app.url(&format!("/api/v1/reports/{own}/triage")),
        )
        .await;
        assert_eq!(s, 404);
    }
);

both!(duplicates_merge_and_a_case_opens, |app| {
    let worker = app.login("worker").await;
    let investigator = app.login("investigator").await;
    let a = file(
        &app,
        &worker,
        body("named", &["physical.assault"], 2, false, &[]),
    )
    .await;
    let b = file(
        &app,
        &worker,
        body("confidential", &["physical.assault"], 2, false, &[]),
    )
    .await;
    let merge = |id: &str| app.url(&format!("/api/v1/reports/{id}/merge"));

    let (s, p) = send(
        investigator
            .post(merge(&b))
            .json(&json!({"into": a, "reason": "short"})),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(p["errors"][0]["field"], "reason");
    let reason = "Same night, same relative, same ward";
    let (s, p) = send(
        investigator
            .post(merge(&b))
            .json(&json!({"into": b, "reason": reason})),
    )
    .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "into");
    let nowhere = uuid::Uuid::now_v7().to_string();
    let (s, _) = send(
        investigator
            .post(merge(&b))
            .json(&json!({"into": nowhere, "reason": reason})),
    )
    .await;
    assert_eq!(s, 422);
    let (s, t) = send(
        investigator
            .post(merge(&b))
            .json(&json!({"into": a, "reason": reason})),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["status"], "merged");
    assert_eq!(t["merged_into"], a.as_str());
    let (s, _) = send(
        investigator
            .post(merge(&b))
            .json(&json!({"into": a, "reason": reason})),
    )
    .await;
    assert_eq!(s, 409, "a merged report is not merged again");
    let (_, ta) = get_json(
        &investigator,
        app.url(&format!("/api/v1/reports/{a}/triage")),
    )
    .await;
    assert_eq!(ta["duplicates"], json!([b]));
    // Her merged report says so, without naming the other one.
    let (_, rb) = get_json(&worker, app.url(&format!("/api/v1/reports/{b}"))).await;
    assert_eq!(rb["status"], "merged");
    assert!(!rb.to_string().contains(&a));

    // A case from the report that carries on.
    let case = app.url(&format!("/api/v1/reports/{a}/case"));
    let (s, p) = send(investigator.post(&case).json(&json!({"title": ""}))).await;
    assert_eq!(s, 422);
    assert_eq!(p["errors"][0]["field"], "title");
    let (s, c) = send(
        investigator
            .post(&case)
            .json(&json!({"title": "Assault in the ER, night of 21 March"})),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let case_id = c["id"].as_str().expect("case").to_owned();
    assert_eq!(c["reports"], json!([a]));
    assert_eq!(c["status"], "open");
    let (s, _) = send(investigator.post(&case).json(&json!({"title": "Again"}))).await;
    assert_eq!(s, 409);
    let (_, list) = get_json(&investigator, app.url("/api/v1/cases")).await;
    assert!(list.to_string().contains(&case_id));
    let union = app.login("union_rep").await;
    let (s, _) = get_json(&union, app.url(&format!("/api/v1/cases/{case_id}"))).await;
    assert_eq!(s, 200);
    let (s, _) = get_json(&worker, app.url(&format!("/api/v1/cases/{case_id}"))).await;
    assert_eq!(s, 403);
    let (_, tl) = get_json(&worker, app.url(&format!("/api/v1/reports/{a}/timeline"))).await;
    assert_eq!(
        tl.as_array()
            .and_then(|t| t.last())
            .map(|e| e["status"].clone()),
        Some(json!("case_opened"))
    );
    let (s, _) = send(
        investigator
            .post(app.url(&format!("/api/v1/reports/{a}/status")))
            .json(&json!({"status": "closed"})),
    )
    .await;
    assert_eq!(s, 409, "the case carries it on");
});

both!(
    mandatory_notifications_fall_due_escalate_and_respect_consent,
    |app| {
        let worker = app.login("worker").await;
        let investigator = app.login("investigator").await;
        let regional = app.login("regional_health").await;
        // Severity 4 with an injury: facility head, police, regional health, labour inspection.
        let id = file(
            &app,
            &worker,
            body("named", &["physical.assault"], 4, true, &[]),
        )
        .await;
        let (s, t) = get_json(
            &investigator,
            app.url(&format!("/api/v1/reports/{id}/triage")),
        )
        .await;
        assert_eq!(s, 200);
        let duties = t["duties"].as_array().expect("duties").clone();
        let bodies: std::collections::BTreeSet<&str> = duties
            .iter()
            .map(|d| d["body"].as_str().expect("body"))
            .collect();
        assert_eq!(
            bodies,
            [
                "facility_head",
                "labour_inspection",
                "police",
                "regional_health_dept"
            ]
            .into()
        );
        let (_, report) = get_json(&worker, app.url(&format!("/api/v1/reports/{id}"))).await;
        let created: jiff::Timestamp = report["created_at"]
            .as_str()
            .expect("created_at")
            .parse()
            .expect("created_at");
        let duty = |body: &str| {
            duties
                .iter()
                .find(|d| d["body"] == body)
                .expect("duty")
                .clone()
        };
        let police = duty("police");
        let due: jiff::Timestamp = police["due_at"]
            .as_str()
            .expect("due")
            .parse()
            .expect("due");
        assert_eq!(
            due.as_second() - created.as_second(),
            24 * 3600,
            "police within 24 hours"
        );
        let head = duty("facility_head");
        let regional_duty = duty("regional_health_dept");

        // She withdraws consent: nothing may be recorded as sent outside the facility.
        let (s, _) = send(
            worker
                .post(app.url(&format!("/api/v1/reports/{id}/consent")))
                .json(&json!({"escalation": false})),
        )
        .await;
        assert_eq!(s, 200);
        let done = |d: &Value| {
            app.url(&format!(
                "/api/v1/reports/{id}/duties/{}/done",
                d["id"].as_str().expect("id")
            ))
        };
        let (s, p) = send(
            investigator
                .post(done(&police))
                .json(&json!({"reference": "No. 12/345"})),
        )
        .await;
        assert_eq!(s, 409, "{p}");
        assert_eq!(p["type"], "/problems/consent-withdrawn");
        let (s, p) = send(
            investigator
                .post(done(&head))
                .json(&json!({"reference": ""})),
        )
        .await;
        assert_eq!(s, 422);
        assert_eq!(p["errors"][0]["field"], "reference");
        let (s, t) = send(
            investigator
                .post(done(&head))
                .json(&json!({"reference": "Told the chief physician"})),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        let (s, _) = send(
            investigator
                .post(done(&head))
                .json(&json!({"reference": "again"})),
        )
        .await;
        assert_eq!(s, 409);

        // A day passes. Held duties (her consent) are not overdue; she gives it again, so the
        // others are, and the timers escalate them.
        time_passes(&app, &id).await;
        let (_, dash) = get_json(&regional, app.url("/api/v1/triage/overdue")).await;
        assert_eq!(dash, json!([]), "held by her withdrawal: {dash}");
        wait_for(10, "held duties audited", async || {
        let (_, t) = get_json(&investigator, app.url(&format!("/api/v1/reports/{id}/triage"))).await;
        let escalated = t["duties"].as_array()?.iter().filter(|d| !d["escalated_at"].is_null()).count();
        // Nothing is escalated while held; the jobs ran once each.
        let pending: i64 = app
            .db
            .fetch_one("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'report.duty.due' AND done_at IS NULL AND due_at < $1", qorgau::args![qorgau::platform::time::Ts::now()])
            .await
            .ok()?
            .get("n")
            .ok()?;
        (pending == 0 && escalated == 0).then_some(())
    })
    .await;

        let (s, _) = send(
            worker
                .post(app.url(&format!("/api/v1/reports/{id}/consent")))
                .json(&json!({"escalation": true})),
        )
        .await;
        assert_eq!(s, 200);
        // Given again, what was held falls due at once and escalates.
        wait_for(10, "held duties escalated", async || {
            let (_, t) = get_json(
                &investigator,
                app.url(&format!("/api/v1/reports/{id}/triage")),
            )
            .await;
            let open: Vec<&Value> = t["duties"]
                .as_array()?
                .iter()
                .filter(|d| d["done_at"].is_null())
                .collect();
            (open.len() == 3 && open.iter().all(|d| !d["escalated_at"].is_null())).then_some(())
        })
        .await;
        let (s, dash) = get_json(&regional, app.url("/api/v1/triage/overdue")).await;
        assert_eq!(s, 200);
        assert_eq!(dash[0]["overdue"], 3, "{dash}");
        assert!(!dash.to_string().contains("pushed"), "counts only");
        let (_, q) = get_json(&investigator, app.url("/api/v1/triage?overdue=true")).await;
        assert!(ids(&q).contains(&id));
        let (s, t) = send(
            investigator
                .post(done(&regional_duty))
                .json(&json!({"reference": "Letter 7-2/118"})),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        let (_, dash) = get_json(&regional, app.url("/api/v1/triage/overdue")).await;
        assert_eq!(dash[0]["overdue"], 2);

        // A new duty that falls due while consent stands is escalated by its timer.
        let later = file(
            &app,
            &worker,
            body("named", &["physical.weapon"], 1, false, &[]),
        )
        .await;
        time_passes(&app, &later).await;
        wait_for(10, "escalated", async || {
            let (_, t) = get_json(
                &investigator,
                app.url(&format!("/api/v1/reports/{later}/triage")),
            )
            .await;
            t["duties"]
                .as_array()?
                .iter()
                .all(|d| !d["escalated_at"].is_null())
                .then_some(())
        })
        .await;

        // Who may see the dashboard.
        for (role, want) in [
            ("worker", 403),
            ("facility_admin", 403),
            ("labour_inspector", 200),
            ("ministry_analyst", 200),
        ] {
            let c = app.login(role).await;
            let (s, _) = get_json(&c, app.url("/api/v1/triage/overdue")).await;
            assert_eq!(s, want, "{role}");
        }
    }
);

both!(an_administrator_replaces_a_countrys_rules, |app| {
    let admin = app.login("system_admin").await;
    let worker = app.login("worker").await;
    let investigator = app.login("investigator").await;
    let (s, r) = get_json(&worker, app.url("/api/v1/duty-rules/KZ")).await;
    assert_eq!(s, 200);
    assert_eq!(r["defaults"], true);
    assert_eq!(r["rules"].as_array().map(Vec::len), Some(4));
    let (s, _) = get_json(&worker, app.url("/api/v1/duty-rules/XX")).await;
    assert_eq!(s, 404);

    let one =
        json!([{"id": "all_reports", "body": "facility_head", "hours": 48, "external": false}]);
    let (s, _) = send(worker.put(app.url("/api/v1/duty-rules/KZ")).json(&one)).await;
    assert_eq!(s, 403);
    let bad = json!([{"id": "Bad Id", "body": "mars", "hours": 0, "external": false, "types": ["nonsense"]}]);
    let (s, p) = send(admin.put(app.url("/api/v1/duty-rules/KZ")).json(&bad)).await;
    assert_eq!(s, 422, "{p}");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    for f in [
        "rules[0].id",
        "rules[0].body",
        "rules[0].hours",
        "rules[0].types",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let (s, r) = send(admin.put(app.url("/api/v1/duty-rules/KZ")).json(&one)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["defaults"], false);

    // New reports follow the new rules, even one that started nothing before.
    let id = file(
        &app,
        &worker,
        body(
            "confidential",
            &["psychological.verbal_abuse"],
            0,
            false,
            &[],
        ),
    )
    .await;
    let (_, t) = get_json(
        &investigator,
        app.url(&format!("/api/v1/reports/{id}/triage")),
    )
    .await;
    let duties = t["duties"].as_array().expect("duties");
    assert_eq!(duties.len(), 1, "{t}");
    assert_eq!(duties[0]["body"], "facility_head");
    assert_eq!(duties[0]["external"], false);
});

both!(anonymous_reports_start_duties_from_the_day_only, |app| {
    let facility = app.demo_facility().await;
    let investigator = app.login("investigator").await;
    let mut b = body("", &["physical.weapon"], 4, true, &[]);
    b["facility_id"] = json!(facility);
    let (s, r) = send(
        app.client()
            .post(app.url("/api/v1/reports/anonymous"))
            .json(&b),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let receipt = r["receipt"].as_str().expect("receipt").to_owned();
    let (_, q) = get_json(
        &investigator,
        app.url("/api/v1/triage?mode=anonymous&type=physical.weapon&min_severity=4"),
    )
    .await;
    assert_eq!(q["items"].as_array().map(Vec::len), Some(1), "{q}");
    let item = &q["items"][0];
    let id = item["id"].as_str().expect("id").to_owned();
    let (_, t) = get_json(
        &investigator,
        app.url(&format!("/api/v1/reports/{id}/triage")),
    )
    .await;
    // Deadlines count from the start of the day, so they tell no time of filing.
    for d in t["duties"].as_array().expect("duties") {
        let due: jiff::Timestamp = d["due_at"].as_str().expect("due").parse().expect("ts");
        assert_eq!(due.as_second() % 3600, 0, "{d}");
    }
    let (s, _) = send(
        investigator
            .post(app.url(&format!("/api/v1/reports/{id}/status")))
            .json(&json!({"status": "in_triage"})),
    )
    .await;
    assert_eq!(s, 200);
    // She reads the timeline with her receipt.
    let (s, v) = send(
        app.client()
            .post(app.url("/api/v1/reports/anonymous/lookup"))
            .json(&json!({"receipt": receipt})),
    )
    .await;
    assert_eq!(s, 200);
    let tl: Vec<&str> = v["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["status"].as_str().expect("status"))
        .collect();
    assert_eq!(tl, ["received", "in_triage"]);
});

both!(triage_pages_work_and_show_text_as_text, |app| {
    let worker = app.login("worker").await;
    let investigator = app.login("investigator").await;
    let id = file(
        &app,
        &worker,
        body("named", &["physical.assault"], 3, true, &["union_support"]),
    )
    .await;
    let page = |c: &reqwest::Client, p: String| {
        let c = c.clone();
        let url = app.url(&p);
        async move {
            let r = c
                .get(url)
                .header("accept-language", "en")
                .send()
                .await
                .expect("get");
            let s = r.status().as_u16();
            (s, r.text().await.expect("text"))
        }
    };
    let (s, html) = page(&investigator, "/triage".into()).await;
    assert_eq!(s, 200);
    assert!(html.contains(&format!("/triage/{id}")));
    let (s, html) = page(&investigator, "/triage?queue=union&overdue=1".into()).await;
    assert_eq!(s, 200);
    assert!(
        !html.contains(&format!("/triage/{id}")),
        "nothing overdue yet"
    );
    let (s, html) = page(&investigator, format!("/triage/{id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("Mandatory notifications") && html.contains("Police"));

    // An empty note: the page again, 422, with the message by the field.
    let r = investigator
        .post(app.url(&format!("/triage/{id}/notes")))
        .form(&[("body", "")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("text");
    assert!(html.contains("aria-invalid=\"true\""));
    let r = investigator
        .post(app.url(&format!("/triage/{id}/notes")))
        .form(&[("body", "<img src=x onerror=alert(1)>")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let (_, html) = page(&investigator, format!("/triage/{id}?done=note")).await;
    assert!(html.contains("The note was added."));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") || html.contains("&#60;img"));
    assert!(!html.contains("<img src=x"));

    // A refused change: 409, the page again with the reason.
    let r = investigator
        .post(app.url(&format!("/triage/{id}/status")))
        .header("accept-language", "en")
        .form(&[("status", "merged")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 409);
    let html = r.text().await.expect("text");
    assert!(html.contains("does not allow this change"));

    let r = investigator
        .post(app.url(&format!("/triage/{id}/case")))
        .form(&[("title", "Assault in the ER")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let to = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("location")
        .to_owned();
    assert!(to.starts_with("/cases/"), "{to}");
    let (s, html) = page(&investigator, to).await;
    assert_eq!(s, 200);
    assert!(html.contains("Assault in the ER"));

    let (s, _) = page(&worker, "/triage".into()).await;
    assert_eq!(s, 403);
    let regional = app.login("regional_health").await;
    let (s, html) = page(&regional, "/triage/overdue".into()).await;
    assert_eq!(s, 200);
    assert!(html.contains("No notification is overdue"));
    let (_, home) = page(&investigator, "/".into()).await;
    assert!(home.contains("href=\"/triage\""));
});
