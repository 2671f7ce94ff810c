//! Alarms over HTTP: raising once, responders' actions, escalation, the live feed and its resume,
//! and two nodes on one database.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestApp};
use serde_json::{Value, json};

async fn raise(c: &reqwest::Client, app: &TestApp, body: Value) -> (u16, Value) {
    let r = c
        .post(app.url("/api/v1/alarms"))
        .json(&body)
        .send()
        .await
        .expect("raise");
    let s = r.status().as_u16();
    (s, r.json().await.expect("json"))
}

/// Reads SSE events from a response until `n` `alarm` events arrived or the time is up.
async fn read_events(r: &mut reqwest::Response, n: usize, secs: u64) -> Vec<Value> {
    let mut buf = String::new();
    let mut out = vec![];
    let deadline = Instant::now() + Duration::from_secs(secs);
    while out.len() < n && Instant::now() < deadline {
        let chunk = tokio::time::timeout(Duration::from_millis(500), r.chunk()).await;
        let Ok(Ok(Some(bytes))) = chunk else { continue };
        buf.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(i) = buf.find("\n\n") {
            let block: String = buf.drain(..i + 2).collect();
            if block.lines().any(|l| l == "event: alarm") {
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                let mut v: Value = serde_json::from_str(&data).expect("event json");
                if let Some(id) = block.lines().find_map(|l| l.strip_prefix("id: ")) {
                    v["sse_id"] = json!(id);
                }
                out.push(v);
            }
        }
    }
    out
}

both!(a_press_sent_twice_is_one_alarm, |app| {
    let worker = app.login("worker").await;
    let client_id = uuid::Uuid::new_v4();
    let (s1, a1) = raise(
        &worker,
        &app,
        json!({"client_id": client_id, "room": "Палата 4", "floor": "2"}),
    )
    .await;
    assert_eq!(s1, 201, "{a1}");
    let (s2, a2) = raise(
        &worker,
        &app,
        json!({"client_id": client_id, "room": "Палата 4", "floor": "2"}),
    )
    .await;
    assert_eq!(s2, 200);
    assert_eq!(a1["id"], a2["id"]);
    // The Idempotency-Key header does the same.
    let r1 = worker
        .post(app.url("/api/v1/alarms"))
        .header("idempotency-key", "press-77")
        .json(&json!({}))
        .send()
        .await
        .expect("raise");
    let r2 = worker
        .post(app.url("/api/v1/alarms"))
        .header("idempotency-key", "press-77")
        .json(&json!({}))
        .send()
        .await
        .expect("raise");
    assert_eq!((r1.status().as_u16(), r2.status().as_u16()), (201, 200));
    let r2_headers = r2.headers().clone();
    let (b1, b2): (Value, Value) = (
        r1.json().await.expect("json"),
        r2.json().await.expect("json"),
    );
    assert_eq!(b1["id"], b2["id"]);
    // A retry is answered from the alarm itself, not from a generic record of the first answer
    // that a server killed mid-request would leave claimed ("in progress") for a minute.
    assert!(r2_headers.get("idempotent-replayed").is_none());
    let mine: Value = worker
        .get(app.url("/api/v1/alarms"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(
        mine["items"].as_array().expect("items").len(),
        2,
        "the worker sees her own two alarms"
    );
});

both!(responders_act_and_every_step_is_on_the_timeline, |app| {
    let worker = app.login("worker").await;
    let (_, a) = raise(&worker, &app, json!({"room": "Приёмный покой"})).await;
    let id = a["id"].as_str().expect("id").to_owned();
    assert_eq!(a["state"], "raised");
    let guard = app.login("security_guard").await;
    let act = |body: Value| {
        guard
            .post(app.url(&format!("/api/v1/alarms/{id}/actions")))
            .json(&body)
            .send()
    };
    assert_eq!(
        act(json!({"action": "acknowledge"}))
            .await
            .expect("ack")
            .status(),
        200
    );
    assert_eq!(
        act(json!({"action": "acknowledge"}))
            .await
            .expect("again")
            .status(),
        409
    );
    assert_eq!(
        act(json!({"action": "dispatch", "guards": ["Ерлан Серіков"]}))
            .await
            .expect("dispatch")
            .status(),
        200
    );
    assert_eq!(
        act(json!({"action": "called", "service": "102"}))
            .await
            .expect("called")
            .status(),
        200
    );
    assert_eq!(
        act(json!({"action": "called", "service": "911"}))
            .await
            .expect("bad call")
            .status(),
        422
    );
    assert_eq!(
        act(json!({"action": "on_scene"}))
            .await
            .expect("on scene")
            .status(),
        200
    );
    let r = act(json!({"action": "resolve", "outcome": "removed_by_security", "note": "Родственник удалён"})).await.expect("resolve");
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.expect("json");
    assert_eq!(done["state"], "resolved");
    assert_eq!(done["outcome"], "removed_by_security");
    assert!(done["acked_at"].is_string() && done["on_scene_at"].is_string());
    assert_eq!(
        act(json!({"action": "note", "text": "later"}))
            .await
            .expect("closed")
            .status(),
        409
    );
    // A worker cannot act on someone else's alarm, and a union rep cannot see it.
    let union = app.login("union_rep").await;
    assert_eq!(
        union
            .get(app.url(&format!("/api/v1/alarms/{id}")))
            .send()
            .await
            .expect("get")
            .status(),
        403
    );
    let v = qorgau::platform::audit::verify(&app.db)
        .await
        .expect("verify");
    assert!(v.breaks.is_empty());
});

both!(the_person_who_pressed_can_stand_down, |app| {
    let worker = app.login("worker").await;
    let (_, a) = raise(&worker, &app, json!({})).await;
    let id = a["id"].as_str().expect("id");
    let r = worker
        .post(app.url(&format!("/api/v1/alarms/{id}/actions")))
        .json(&json!({"action": "acknowledge"}))
        .send()
        .await
        .expect("ack");
    assert_eq!(r.status(), 403, "she cannot acknowledge her own alarm");
    let r = worker
        .post(app.url(&format!("/api/v1/alarms/{id}/actions")))
        .json(&json!({"action": "resolve", "outcome": "stood_down"}))
        .send()
        .await
        .expect("safe");
    assert_eq!(r.status(), 200);
});

both!(an_unacknowledged_duress_alarm_escalates, |app| {
    let worker = app.login("worker").await;
    let (_, a) = raise(&worker, &app, json!({"kind": "duress"})).await;
    let id = a["id"].as_str().expect("id").to_owned();
    let admin = app.login("facility_admin").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a: Value = admin
            .get(app.url(&format!("/api/v1/alarms/{id}")))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if a["escalation_level"] == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no escalation: {a}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Once, not once per tick.
    tokio::time::sleep(Duration::from_millis(1200)).await;
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
    assert_eq!(log["items"].as_array().expect("items").len(), 1);
});

both!(the_live_feed_delivers_and_resumes_without_a_gap, |app| {
    let guard = app.login("security_guard").await;
    let mut feed = guard
        .get(app.url("/api/v1/alarms/stream"))
        .send()
        .await
        .expect("stream");
    assert_eq!(feed.status(), 200);
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/event-stream")
    );
    let worker = app.login("worker").await;
    for room in ["1", "2", "3"] {
        raise(&worker, &app, json!({"room": room})).await;
    }
    let got = read_events(&mut feed, 3, 10).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|e| e["kind"] == "raised"));
    let first_id = got[0]["sse_id"].as_str().expect("id").to_owned();
    drop(feed);
    // Reconnect as a browser would, after the first event: the other two come again, nothing lost.
    let mut again = guard
        .get(app.url("/api/v1/alarms/stream"))
        .header("last-event-id", first_id)
        .send()
        .await
        .expect("stream");
    let resumed = read_events(&mut again, 2, 10).await;
    assert_eq!(resumed.len(), 2);
    assert_eq!(resumed[0]["seq"], got[1]["seq"]);
    assert_eq!(resumed[1]["seq"], got[2]["seq"]);
});

both!(the_feed_is_scoped, |app| {
    // An alarm in another facility does not reach this facility's guard.
    let admin = app.login("system_admin").await;
    let all: Value = admin
        .get(app.url("/api/v1/facilities?limit=200"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let mine = app.demo_facility().await;
    let other = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|f| f["id"] != mine.as_str())
        .expect("other")["id"]
        .clone();
    let guard = app.login("security_guard").await;
    let mut feed = guard
        .get(app.url("/api/v1/alarms/stream"))
        .send()
        .await
        .expect("stream");
    let (s, _) = raise(&admin, &app, json!({"facility_id": other})).await;
    assert_eq!(s, 201);
    let worker = app.login("worker").await;
    raise(&worker, &app, json!({"room": "here"})).await;
    let got = read_events(&mut feed, 2, 3).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["detail"]["room"], "here");
});

both!(bad_presses_are_refused_with_reasons, |app| {
    let worker = app.login("worker").await;
    let (s, p) = raise(
        &worker,
        &app,
        json!({"lat": 200.0, "pressed_at": "tomorrow", "room": "x".repeat(101)}),
    )
    .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, vec!["room", "pressed_at", "lat"]);
    let (s, _) = raise(&worker, &app, json!({"facility_id": uuid::Uuid::new_v4()})).await;
    assert_eq!(s, 422);
});

#[tokio::test]
async fn two_nodes_share_alarms_through_postgresql() {
    let Some(app) = TestApp::start_postgres().await else {
        return;
    };
    let (second, _h) = app.second_node().await;
    let guard = app.login("security_guard").await;
    // The guard's console is on the second node; the press arrives at the first.
    let mut feed = guard
        .get(format!("{second}/api/v1/alarms/stream"))
        .send()
        .await
        .expect("stream");
    assert_eq!(feed.status(), 200);
    let worker = app.login("worker").await;
    let (s, a) = raise(&worker, &app, json!({"room": "node one"})).await;
    assert_eq!(s, 201);
    let got = read_events(&mut feed, 1, 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["alarm_id"], a["id"]);
    let _ = Backend::Sqlite;
}

async fn get_json(c: &reqwest::Client, app: &TestApp, path: &str) -> Value {
    let r = c.get(app.url(path)).send().await.expect("get");
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("json")
}

both!(
    each_alarm_is_answered_by_the_post_covering_its_place,
    |app| {
        let fac = app.demo_facility().await;
        let admin = app.login("facility_admin").await;
        let depts = get_json(
            &admin,
            &app,
            &format!("/api/v1/facilities/{fac}/departments"),
        )
        .await;
        let er = depts
            .as_array()
            .expect("departments")
            .iter()
            .find(|d| d["kind"] == "emergency")
            .expect("an emergency department")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let posts = get_json(&admin, &app, &format!("/api/v1/facilities/{fac}/posts")).await;
        let posts = posts.as_array().expect("posts");
        let er_post = posts
            .iter()
            .find(|x| x["department_id"] == er.as_str())
            .expect("the demo's emergency post");
        let main_post = posts
            .iter()
            .find(|x| x["department_id"].is_null())
            .expect("the demo's main post");
        let (er_post_id, main_post_id) = (
            er_post["id"].as_str().expect("id").to_owned(),
            main_post["id"].as_str().expect("id").to_owned(),
        );

        let worker = app.login("worker").await;
        let (s, in_er) = raise(&worker, &app, json!({"department_id": er, "room": "1"})).await;
        assert_eq!(s, 201, "{in_er}");
        assert_eq!(in_er["post_id"], er_post_id.as_str());
        let (s, elsewhere) = raise(
            &app.fresh_login("department_head").await,
            &app,
            json!({"room": "Склад"}),
        )
        .await;
        assert_eq!(s, 201, "{elsewhere}");
        assert_eq!(elsewhere["post_id"], main_post_id.as_str());

        // The post's list and console show only what it answers.
        let guard = app.login("security_guard").await;
        let mine = get_json(&guard, &app, &format!("/api/v1/alarms?post={er_post_id}")).await;
        let ids: Vec<&str> = mine["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        assert_eq!(ids, [in_er["id"].as_str().expect("id")]);
        let console = guard
            .get(app.url(&format!("/console?post={er_post_id}")))
            .send()
            .await
            .expect("console")
            .text()
            .await
            .expect("body");
        assert!(console.contains(in_er["id"].as_str().expect("id")));
        assert!(!console.contains(elsewhere["id"].as_str().expect("id")));
        let r = guard
            .get(app.url("/console?post=nonsense"))
            .send()
            .await
            .expect("console");
        assert_eq!(r.status(), 422);

        // Response times are counted per post.
        let history = guard
            .get(app.url("/alarms"))
            .header("accept-language", "en")
            .send()
            .await
            .expect("history")
            .text()
            .await
            .expect("body");
        for name in [&er_post["name"], &main_post["name"]] {
            let name = name.as_str().expect("name");
            assert!(history.contains(name), "{name} missing from the history");
        }
        assert!(history.contains(&format!("/alarms?post={er_post_id}")));

        // A post may only cover a department of its own facility.
        let other = get_json(&app.login("system_admin").await, &app, "/api/v1/facilities").await;
        let other_fac = other["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|f| f["id"] != fac.as_str())
            .expect("another facility")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let sys = app.login("system_admin").await;
        let their = get_json(
            &sys,
            &app,
            &format!("/api/v1/facilities/{other_fac}/departments"),
        )
        .await;
        let their_dept = their[0]["id"].as_str().expect("a department").to_owned();
        let r = admin
            .put(app.url(&format!("/api/v1/posts/{main_post_id}")))
            .json(&json!({"name": "Пост 1", "hours": "24/7", "department_id": their_dept}))
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.expect("problem");
        assert_eq!(body["errors"][0]["field"], "department_id", "{body}");
    }
);
