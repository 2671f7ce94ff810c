//! The platform over HTTP: health, sessions, second factor, throttling, problems in four
//! languages, security headers, CSRF, idempotency, audit chain.

mod common;

use common::{Backend, TestApp, current_totp};
use reqwest::StatusCode;
use serde_json::{Value, json};

both!(health_ready_and_metrics, |app| {
    let c = app.client();
    let r = c.get(app.url("/healthz")).send().await.expect("healthz");
    assert_eq!(r.status(), 200);
    let r = c.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), 200);
    // One request through the app so a route is counted.
    c.get(app.url("/login")).send().await.expect("login page");
    let text = c
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(text.contains("qorgau_http_requests_total"), "{text}");
    assert!(text.contains("qorgau_http_request_duration_seconds_bucket"));
    assert!(text.contains("qorgau_db_pool_connections"));
});

both!(
    login_sets_a_strict_httponly_cookie_and_logout_revokes_it,
    |app| {
        let c = app.client();
        let a = app.account("facility_admin");
        let r = c
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": a.username, "password": a.password}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200);
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let me: Value = c
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("json");
        assert_eq!(me["role"], "facility_admin");
        assert!(
            me["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .any(|a| a == "people.manage")
        );
        let r = c
            .post(app.url("/api/v1/auth/logout"))
            .send()
            .await
            .expect("logout");
        assert_eq!(r.status(), 204);
        let r = c.get(app.url("/api/v1/me")).send().await.expect("me");
        assert_eq!(r.status(), 401);
    }
);

both!(bad_credentials_get_a_translated_problem, |app| {
    let c = app.client();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .header("accept-language", "kk, ru;q=0.5")
        .json(&json!({"username": "nobody", "password": "wrong-password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.expect("json");
    assert_eq!(p["status"], 401);
    assert_eq!(p["type"], "/problems/unauthenticated");
    let title = p["title"].as_str().expect("title");
    assert!(!title.is_empty() && title != "problem-unauthenticated");
    assert!(
        title
            .chars()
            .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
        "Kazakh title in Cyrillic: {title}"
    );
});

both!(second_factor_is_required_and_a_code_works_once, |app| {
    let a = app.account("system_admin");
    let secret = a.totp.clone().expect("admin has totp");
    let c = app.client();
    let login = |totp: String| {
        c.post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": a.username, "password": a.password, "totp": totp}))
            .send()
    };
    assert_eq!(login(String::new()).await.expect("no code").status(), 401);
    assert_eq!(
        login("000000".into()).await.expect("bad code").status(),
        401
    );
    let code = current_totp(&secret);
    assert_eq!(login(code.clone()).await.expect("good code").status(), 200);
    assert_eq!(
        login(code).await.expect("replayed code").status(),
        401,
        "a code is good once"
    );
});

both!(login_failures_are_throttled_per_address, |app| {
    let c = app.client();
    let mut last = StatusCode::OK;
    for _ in 0..11 {
        last = c
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "nobody", "password": "wrong-password"}))
            .send()
            .await
            .expect("login")
            .status();
    }
    assert_eq!(last, 429);
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "nobody", "password": "wrong-password"}))
        .send()
        .await
        .expect("login");
    assert!(r.headers().contains_key("retry-after"));
});

both!(accounts_lock_after_repeated_failures, |app| {
    let a = app.account("worker");
    // Five wrong passwords lock the account, from any address.
    for _ in 0..5 {
        app.client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": a.username, "password": "not-the-password"}))
            .send()
            .await
            .expect("login");
    }
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": a.username, "password": a.password}))
        .send()
        .await
        .expect("login");
    assert_eq!(
        r.status(),
        429,
        "the right password is refused while locked"
    );
});

both!(security_headers_on_every_response, |app| {
    for path in [
        "/login",
        "/api/v1/regions",
        "/static/app.css",
        "/nope",
        "/api/v1/nope",
    ] {
        let r = app.client().get(app.url(path)).send().await.expect("get");
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
});

both!(cross_site_posts_are_refused, |app| {
    let c = app.login("facility_admin").await;
    let r = c
        .post(app.url("/api/v1/me/tokens"))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .json(&json!({"name": "x", "scopes": ["read"]}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 403);
    let r = c
        .post(app.url("/api/v1/me/tokens"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", app.base.clone())
        .json(&json!({"name": "x", "scopes": ["read"]}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
});

both!(unknown_routes_and_methods_are_problems, |app| {
    let c = app.login("facility_admin").await;
    let r = c
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = c
        .delete(app.url("/api/v1/regions"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = c
        .get(app.url("/api/v1/people/not-a-uuid"))
        .send()
        .await
        .expect("get");
    assert!(r.status().is_client_error());
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // Pages answer HTML, never a bare status.
    let r = c.get(app.url("/no-such-page")).send().await.expect("get");
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
});

both!(bad_input_names_each_field_in_the_callers_language, |app| {
    let c = app.login("system_admin").await;
    let r = c
        .post(app.url("/api/v1/facilities"))
        .header("accept-language", "ru")
        .json(&json!({"region_id": "KZ-99", "kind": "castle", "name": "", "phone": "call me"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.expect("json");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, vec!["region_id", "kind", "name", "phone"]);
    for e in p["errors"].as_array().expect("errors") {
        let m = e["message"].as_str().expect("message");
        assert!(
            m.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)),
            "Russian message: {m}"
        );
    }
    // Malformed JSON and a wrong type are 400/422 problems too.
    let r = c
        .post(app.url("/api/v1/facilities"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = c
        .post(app.url("/api/v1/facilities"))
        .json(&json!({"name": 5}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.expect("json");
    assert_eq!(p["errors"][0]["field"], "name");
});

both!(oversized_bodies_get_413_as_a_problem, |app| {
    let c = app.login("system_admin").await;
    let big = "x".repeat(2 * 1024 * 1024 + 64 * 1024);
    let r = c
        .post(app.url("/api/v1/facilities"))
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{big}\"}}"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
});

both!(idempotency_key_replays_the_first_answer, |app| {
    let c = app.login("system_admin").await;
    let body = json!({"region_id": "KG-O", "kind": "family_medicine_center", "name": "Ош шаардык үй-бүлөлүк медицина борбору"});
    let send = |b: Value| {
        c.post(app.url("/api/v1/facilities"))
            .header("idempotency-key", "abc-123")
            .json(&b)
            .send()
    };
    let first = send(body.clone()).await.expect("first");
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    let again = send(body.clone()).await.expect("again");
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(first["id"], again["id"], "no second facility");
    let other = send(json!({"region_id": "KG-O", "kind": "polyclinic", "name": "Other"}))
        .await
        .expect("other");
    assert_eq!(other.status(), 422);
    let p: Value = other.json().await.expect("json");
    assert_eq!(p["type"], "/problems/idempotency-mismatch");
    let list: Value = c
        .get(app.url("/api/v1/facilities?region=KG-O"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
});

both!(records_outside_scope_answer_404, |app| {
    let admin = app.login("system_admin").await;
    let facility = app.demo_facility().await;
    let all: Value = admin
        .get(app.url("/api/v1/facilities?limit=200"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let other = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|f| f["id"] != facility.as_str())
        .expect("another facility")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let people: Value = admin
        .get(app.url(&format!("/api/v1/people?facility={other}&limit=1")))
        .send()
        .await
        .expect("people")
        .json()
        .await
        .expect("json");
    let stranger = people["items"][0]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    let fa = app.login("facility_admin").await;
    assert_eq!(
        fa.get(app.url(&format!("/api/v1/people/{stranger}")))
            .send()
            .await
            .expect("get")
            .status(),
        404
    );
    assert_eq!(
        fa.put(app.url(&format!("/api/v1/facilities/{other}")))
            .json(&json!({}))
            .send()
            .await
            .expect("put")
            .status(),
        404
    );
    // Within scope the list holds only the admin's facility.
    let mine: Value = fa
        .get(app.url("/api/v1/people?limit=200"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(
        mine["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|p| p["facility_id"] == facility.as_str())
    );
});

both!(
    reading_a_person_is_audited_and_shown_to_that_person,
    |app| {
        let worker = app.login("worker").await;
        let me: Value = worker
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("json");
        let person = me["person_id"]
            .as_str()
            .expect("worker has a staff record")
            .to_owned();
        let head = app.login("department_head").await;
        let r = head
            .get(app.url(&format!("/api/v1/people/{person}")))
            .send()
            .await
            .expect("read");
        assert_eq!(r.status(), 200);
        let log: Value = worker
            .get(app.url("/api/v1/me/access-log"))
            .send()
            .await
            .expect("log")
            .json()
            .await
            .expect("json");
        let entries = log["items"].as_array().expect("items");
        assert!(
            entries.iter().any(|e| e["action"] == "person.read"
                && e["actor"]
                    .as_str()
                    .is_some_and(|a| a.contains("demo.department_head"))),
            "{entries:?}"
        );
    }
);

both!(audit_chain_verifies_after_activity, |app| {
    let c = app.login("system_admin").await;
    c.post(app.url("/api/v1/facilities"))
        .json(&json!({"region_id": "KZ-11", "kind": "polyclinic", "name": "Кокшетау емханасы"}))
        .send()
        .await
        .expect("create");
    let v = qorgau::platform::audit::verify(&app.db)
        .await
        .expect("verify");
    assert!(
        v.entries >= 3,
        "demo load, login and the new facility: {}",
        v.entries
    );
    assert!(v.breaks.is_empty(), "{:?}", v.breaks);
    // Tamper with one entry behind the application's back.
    app.db
        .execute(
            "UPDATE audit_log SET actor = 'someone else' WHERE seq = 2",
            vec![],
        )
        .await
        .expect("tamper");
    let v = qorgau::platform::audit::verify(&app.db)
        .await
        .expect("verify");
    assert_eq!(
        v.breaks,
        vec![qorgau::platform::audit::Break::Edited { seq: 2 }]
    );
});

both!(audit_page_and_export_for_the_administrator, |app| {
    let c = app.login("system_admin").await;
    let r = c
        .get(app.url("/api/v1/audit?action=login&limit=5"))
        .send()
        .await
        .expect("audit");
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.expect("json");
    assert!(
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["action"].as_str().expect("a").contains("login"))
    );
    let csv = c
        .get(app.url("/api/v1/audit/export.csv"))
        .send()
        .await
        .expect("export");
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    assert!(
        csv.text()
            .await
            .expect("text")
            .starts_with("seq,at,actor,action")
    );
    let r = c
        .get(app.url("/admin/audit?action=login"))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
});

both!(cursor_pagination_walks_every_person_once, |app| {
    let c = app.login("facility_admin").await;
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cur) => format!("/api/v1/people?limit=25&cursor={cur}"),
            None => "/api/v1/people?limit=25".to_owned(),
        };
        let page: Value = c
            .get(app.url(&url))
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        for p in page["items"].as_array().expect("items") {
            assert!(
                seen.insert(p["id"].as_str().expect("id").to_owned()),
                "no repeats"
            );
        }
        match page["next_cursor"].as_str() {
            Some(n) => cursor = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 90, "the demo facility has 90 staff");
    let r = c
        .get(app.url("/api/v1/people?limit=501"))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 422, "500 is the largest page");
    let r = c
        .get(app.url("/api/v1/people?cursor=%%%"))
        .send()
        .await
        .expect("page");
    assert!(r.status().is_client_error());
});

both!(csv_import_reports_bad_rows_and_imports_nothing, |app| {
    let c = app.login("facility_admin").await;
    let f = app.demo_facility().await;
    let bad = "employee_no,full_name,profession,department,phone,email\nN1,Әсел Нұрланқызы,nurse,Приёмное отделение,,\nN2,,nurse,,,\nN3,Test Person,wizard,,,\n";
    let r = c
        .post(app.url(&format!("/api/v1/facilities/{f}/import/staff")))
        .header("content-type", "text/csv")
        .body(bad)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let rep: Value = r.json().await.expect("json");
    let lines: Vec<i64> = rep["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["line"].as_i64().expect("line"))
        .collect();
    assert_eq!(lines, vec![3, 4]);
    let found: Value = c
        .get(app.url("/api/v1/people?q=N1"))
        .send()
        .await
        .expect("q")
        .json()
        .await
        .expect("json");
    assert!(
        found["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|p| p["employee_no"] != "N1"),
        "nothing imported"
    );
    let good = "employee_no,full_name,profession,department,phone,email\nN1,Әсел Нұрланқызы,nurse,Приёмное отделение,+7 701 111 22 33,\n";
    let r = c
        .post(app.url(&format!("/api/v1/facilities/{f}/import/staff")))
        .body(good)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), 200);
    let roster = "employee_no,date,shift\nN1,2026-12-31,night\nN1,2027-01-01,day\n";
    let r = c
        .post(app.url(&format!("/api/v1/facilities/{f}/import/roster")))
        .body(roster)
        .send()
        .await
        .expect("roster");
    assert_eq!(r.status(), 200);
    let week: Value = c
        .get(app.url(&format!(
            "/api/v1/facilities/{f}/roster?from=2026-12-31&to=2027-01-01"
        )))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let mine: Vec<&Value> = week
        .as_array()
        .expect("list")
        .iter()
        .filter(|e| e["employee_no"] == "N1")
        .collect();
    assert_eq!(mine.len(), 2);
});

both!(reset_link_sets_a_password_once, |app| {
    let admin = app.login("system_admin").await;
    let r = admin
        .post(app.url("/api/v1/users"))
        .json(&json!({"username": "nurse.aigul", "role": "union_rep", "scope_kind": "facility", "scope_id": app.demo_facility().await}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.expect("json");
    let link = created["reset_link"].as_str().expect("link").to_owned();
    let c = app.client();
    assert_eq!(
        c.get(app.url(&link)).send().await.expect("page").status(),
        200
    );
    let r = c
        .post(app.url(&link))
        .form(&[
            ("password", "a long new password"),
            ("confirm", "a long new password"),
        ])
        .send()
        .await
        .expect("set");
    assert_eq!(r.status(), 303);
    let r = c
        .post(app.url(&link))
        .form(&[
            ("password", "another password 2"),
            ("confirm", "another password 2"),
        ])
        .send()
        .await
        .expect("again");
    assert_eq!(r.status(), 404, "a link works once");
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "nurse.aigul", "password": "a long new password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
});

both!(read_only_tokens_cannot_write, |app| {
    let c = app.login("facility_admin").await;
    let t: Value = c
        .post(app.url("/api/v1/me/tokens"))
        .json(&json!({"name": "dashboard", "scopes": ["read"]}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = t["token"].as_str().expect("token").to_owned();
    let api = app.client();
    let r = api
        .get(app.url("/api/v1/people?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 200);
    let f = app.demo_facility().await;
    let r = api
        .post(app.url(&format!("/api/v1/facilities/{f}/posts")))
        .bearer_auth(&token)
        .json(&json!({"name": "Пост № 9", "hours": "24/7"}))
        .send()
        .await
        .expect("write");
    assert_eq!(r.status(), 403);
    let id = t["id"].as_str().expect("id");
    assert_eq!(
        c.delete(app.url(&format!("/api/v1/me/tokens/{id}")))
            .send()
            .await
            .expect("revoke")
            .status(),
        204
    );
    let r = api
        .get(app.url("/api/v1/people?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), 401);
});

both!(roles_that_need_a_second_factor_must_enrol_first, |app| {
    let admin = app.login("system_admin").await;
    let r = admin
        .post(app.url("/api/v1/users"))
        .json(&json!({"username": "inv.two", "role": "investigator", "scope_kind": "facility", "scope_id": app.demo_facility().await}))
        .send()
        .await
        .expect("create");
    let link = r.json::<Value>().await.expect("json")["reset_link"]
        .as_str()
        .expect("link")
        .to_owned();
    let c = app.client();
    c.post(app.url(&link))
        .form(&[
            ("password", "investigator password"),
            ("confirm", "investigator password"),
        ])
        .send()
        .await
        .expect("set");
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "inv.two", "password": "investigator password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let r = c
        .get(app.url("/api/v1/people"))
        .send()
        .await
        .expect("people");
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.expect("json")["type"],
        "/problems/totp-required"
    );
    let r = c.get(app.url("/people")).send().await.expect("page");
    assert_eq!(r.headers()["location"], "/account/totp");
    let page = c
        .get(app.url("/account/totp"))
        .send()
        .await
        .expect("totp page")
        .text()
        .await
        .expect("html");
    let secret = page
        .split("<code>")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("secret on page")
        .to_owned();
    let r = c
        .post(app.url("/account/totp"))
        .form(&[("totp", current_totp(&secret))])
        .send()
        .await
        .expect("confirm");
    assert_eq!(r.status(), 303);
    assert_eq!(
        c.get(app.url("/api/v1/people?limit=1"))
            .send()
            .await
            .expect("people")
            .status(),
        200
    );
});

#[tokio::test]
async fn idle_sessions_expire() {
    let app = TestApp::start_with(Backend::Sqlite, |cfg| cfg.session_idle_minutes = 0).await;
    let c = app.login("facility_admin").await;
    assert_eq!(
        c.get(app.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .status(),
        401
    );
}

both!(pages_render_in_four_languages_for_every_role, |app| {
    for role in [
        "worker",
        "department_head",
        "facility_admin",
        "system_admin",
    ] {
        let c = app.login(role).await;
        for lang in ["kk", "ru", "ky", "en"] {
            // The header's language link saves the choice on the account.
            let r = c
                .get(app.url(&format!("/prefs/lang/{lang}?next=/account")))
                .send()
                .await
                .expect("switch");
            assert_eq!(r.status(), 303);
            assert_eq!(r.headers()["location"], "/account");
            for path in ["/", "/account"] {
                let r = c.get(app.url(path)).send().await.expect("page");
                assert_eq!(r.status(), 200, "{role} {lang} {path}");
                let html = r.text().await.expect("html");
                assert!(
                    html.contains(&format!("<html lang=\"{lang}\"")),
                    "{role} {lang} {path}"
                );
            }
        }
    }
});

both!(html_payloads_are_shown_as_text, |app| {
    let c = app.login("system_admin").await;
    let evil = "<script>alert(1)</script>";
    let r = c
        .post(app.url("/api/v1/users"))
        .json(&json!({"username": "x", "role": "worker", "scope_kind": "own"}))
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 422);
    let page = c
        .get(app.url(&format!(
            "/admin/audit?actor={}",
            evil.replace('<', "%3C").replace('>', "%3E")
        )))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(!page.contains(evil));
    assert!(
        page.contains("&lt;script&gt;")
            || page.contains("&#60;script&#62;")
            || page.contains("&#x3c;script"),
        "escaped"
    );
});

#[tokio::test]
async fn language_comes_from_cookie_then_accept_language() {
    let app = TestApp::start(Backend::Sqlite).await;
    let c = app.client();
    let html = |r: reqwest::Response| async move { r.text().await.expect("html") };
    let r = c
        .get(app.url("/login"))
        .header("accept-language", "ky-KG,ru;q=0.8")
        .send()
        .await
        .expect("page");
    assert!(html(r).await.contains("<html lang=\"ky\""));
    let r = c
        .get(app.url("/login"))
        .header("accept-language", "ky")
        .header("cookie", "qorgau_lang=en")
        .send()
        .await
        .expect("page");
    assert!(html(r).await.contains("<html lang=\"en\""));
    let r = c
        .get(app.url("/login"))
        .header("accept-language", "de")
        .send()
        .await
        .expect("page");
    assert!(
        html(r).await.contains("<html lang=\"ru\""),
        "Russian when nothing matches"
    );
}

#[tokio::test]
async fn accessible_mode_is_remembered_in_a_cookie() {
    let app = TestApp::start(Backend::Sqlite).await;
    let c = app.client();
    for (link, class) in [
        ("/prefs/size/3", "fs-3"),
        ("/prefs/scheme/wb", "scheme-wb"),
        ("/prefs/images/off", "img-off"),
    ] {
        let r = c
            .get(app.url(&format!("{link}?next=/login")))
            .send()
            .await
            .expect("switch");
        assert_eq!(r.status(), 303);
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_owned();
        let (kv, _) = cookie.split_once(';').expect("cookie attrs");
        let page = c
            .get(app.url("/login"))
            .header("cookie", kv)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        assert!(page.contains(class), "{link} gives {class}");
    }
    let r = c
        .get(app.url("/prefs/scheme/neon?next=/login"))
        .send()
        .await
        .expect("bad");
    assert_eq!(r.status(), 404);
    let r = c
        .get(app.url("/prefs/size/2?next=//evil.example"))
        .send()
        .await
        .expect("open redirect");
    assert_eq!(r.headers()["location"], "/");
}

both!(
    concurrent_reads_are_each_recorded_and_the_chain_holds,
    |app| {
        let c = app.login("facility_admin").await;
        let page: Value = c
            .get(app.url("/api/v1/people?limit=1"))
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        let person = page["items"][0]["id"].as_str().expect("id").to_owned();
        let reads = (0..64).map(|_| {
            let c = c.clone();
            let url = app.url(&format!("/api/v1/people/{person}"));
            tokio::spawn(async move { c.get(url).send().await.map(|r| r.status().as_u16()) })
        });
        for r in futures_join(reads).await {
            assert_eq!(r, 200);
        }
        let log: Value = app
            .login("system_admin")
            .await
            .get(app.url(&format!(
                "/api/v1/audit?action=person.read&object_id={person}&limit=200"
            )))
            .send()
            .await
            .expect("audit")
            .json()
            .await
            .expect("json");
        assert_eq!(
            log["items"].as_array().expect("items").len(),
            64,
            "one entry per read"
        );
        let v = qorgau::platform::audit::verify(&app.db)
            .await
            .expect("verify");
        assert!(v.breaks.is_empty(), "{:?}", v.breaks);
    }
);

async fn futures_join(
    handles: impl Iterator<Item = tokio::task::JoinHandle<Result<u16, reqwest::Error>>>,
) -> Vec<u16> {
    let mut out = vec![];
    for h in handles {
        out.push(h.await.expect("join").expect("request"));
    }
    out
}

both!(group_commit_keeps_each_write_whole_and_apart, |app| {
    use qorgau::platform::db::Arg;
    use qorgau::platform::error::AppError;
    // Writes sent together share transactions on SQLite: each is still all or nothing, a failing
    // one takes none of the others with it, and each answer comes after its commit.
    let mut tasks = vec![];
    for i in 0..60i64 {
        let batch = app.state.batch.clone();
        tasks.push(tokio::spawn(async move {
            batch
                .write(move |tx| {
                    Box::pin(async move {
                        tx.execute(
                            "INSERT INTO idempotency (scope, key, request_hash, status, content_type, body, created_at) VALUES ('batch-test', $1, '', 200, '', $2, 0)",
                            vec![Arg::from(format!("k{i}")), Arg::from(Vec::<u8>::new())],
                        )
                        .await?;
                        if i % 5 == 0 {
                            // Its own row was written: it must be rolled back alone.
                            return Err(AppError::field("x", "err-invalid"));
                        }
                        Ok(i)
                    })
                })
                .await
        }));
    }
    let mut ok = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.expect("task") {
            Ok(v) => {
                assert_eq!(v, i as i64);
                ok += 1;
            }
            Err(e) => {
                assert_eq!(i % 5, 0, "write {i} failed: {e}");
            }
        }
    }
    assert_eq!(ok, 48);
    let rows = app
        .db
        .fetch_all(
            "SELECT key FROM idempotency WHERE scope = 'batch-test' ORDER BY key",
            vec![],
        )
        .await
        .expect("rows");
    let mut keys: Vec<String> = rows.iter().map(|r| r.get("key").expect("key")).collect();
    keys.sort();
    let mut want: Vec<String> = (0..60)
        .filter(|i| i % 5 != 0)
        .map(|i| format!("k{i}"))
        .collect();
    want.sort();
    assert_eq!(keys, want);
    if app.backend == Backend::Sqlite {
        // And they did share: fewer commits than writes.
        let text = app
            .client()
            .get(app.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} missing from /metrics"))
        };
        let (writes, commits) = (
            value("qorgau_group_commit_size_sum"),
            value("qorgau_group_commit_size_count"),
        );
        assert!(commits < writes, "{commits} commits for {writes} writes");
    }
});

// A batched write that fails is rolled back to its savepoint, and the audit entries it appended
// go with it; the others' entries are chained at the end of their batch.
both!(a_failed_batched_write_leaves_no_audit_entry, |app| {
    use qorgau::platform::audit::{Actor, Event, append};
    use qorgau::platform::error::AppError;
    let batch = qorgau::platform::batch::Batcher::start(app.db.clone());
    let mut writes = Vec::new();
    for i in 0..90u32 {
        let batch = batch.clone();
        writes.push(tokio::spawn(async move {
            batch
                .write(move |tx| {
                    Box::pin(async move {
                        append(tx, &Actor::system(), Event::new("test.batch", "test", i)).await?;
                        if i % 3 == 0 {
                            return Err(AppError::NotFound);
                        }
                        Ok(i)
                    })
                })
                .await
        }));
    }
    let mut ok = std::collections::BTreeSet::new();
    for w in writes {
        if let Ok(i) = w.await.expect("join") {
            ok.insert(i.to_string());
        }
    }
    assert_eq!(ok.len(), 60);
    let rows = app
        .db
        .fetch_all(
            "SELECT object_id FROM audit_log WHERE action = 'test.batch'",
            vec![],
        )
        .await
        .expect("entries");
    let logged: std::collections::BTreeSet<String> = rows
        .iter()
        .map(|r| r.get::<String>("object_id").expect("object_id"))
        .collect();
    assert_eq!(rows.len(), 60);
    assert_eq!(logged, ok);
    let v = qorgau::platform::audit::verify(&app.db)
        .await
        .expect("verify");
    assert!(v.breaks.is_empty(), "{:?}", v.breaks);
});
