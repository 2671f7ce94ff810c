//! Walks every route of `docs/access.md` as every demo role and compares with the table.

mod common;

use std::collections::BTreeSet;

use common::TestApp;

const DOC: &str = include_str!("../../../docs/access.md");

struct RouteRow {
    method: String,
    path: String,
    allowed: Vec<(String, bool)>,
}

fn rows() -> Vec<RouteRow> {
    let header: Vec<String> = DOC
        .lines()
        .find(|l| l.starts_with("| route |"))
        .expect("routes table")
        .split('|')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    DOC.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let route = cells[0].trim_matches('`');
            let (method, path) = route.split_once(' ').expect("METHOD path");
            RouteRow {
                method: method.to_owned(),
                path: path.to_owned(),
                allowed: cells[2..]
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (header[i + 2].clone(), *c == "✓"))
                    .collect(),
            }
        })
        .collect()
}

async fn fill(app: &TestApp, path: &str) -> String {
    let admin = app.login("system_admin").await;
    let get = |p: String| {
        let admin = admin.clone();
        async move {
            admin
                .get(app.url(&p))
                .send()
                .await
                .expect("get")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    let facility = app.demo_facility().await;
    let depts = get(format!("/api/v1/facilities/{facility}/departments")).await;
    let head: serde_json::Value = app
        .login("department_head")
        .await
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let department = head["scope_id"].as_str().expect("dept").to_owned();
    assert!(
        depts
            .as_array()
            .expect("list")
            .iter()
            .any(|d| d["id"] == department.as_str())
    );
    let people = get(format!("/api/v1/people?department={department}&limit=1")).await;
    let person = people["items"][0]["id"]
        .as_str()
        .expect("person")
        .to_owned();
    let posts = get(format!("/api/v1/facilities/{facility}/posts")).await;
    let post = posts[0]["id"].as_str().expect("post").to_owned();
    let users = get("/api/v1/users?q=demo.worker".into()).await;
    let user = users["items"][0]["id"].as_str().expect("user").to_owned();
    let worker = app.login("worker").await;
    let alarm: serde_json::Value = worker
        .post(app.url("/api/v1/alarms"))
        .json(&serde_json::json!({"department_id": department, "room": "112"}))
        .send()
        .await
        .expect("raise")
        .json()
        .await
        .expect("json");
    let alarm = alarm["id"].as_str().expect("alarm id").to_owned();
    let report: serde_json::Value = worker
        .post(app.url("/api/v1/reports"))
        .json(
            &serde_json::json!({"types": ["psychological.verbal_abuse"], "perpetrator": "patient",
            "occurred_local": "2026-01-05T10:00", "narrative": "Shouted at me."}),
        )
        .send()
        .await
        .expect("report")
        .json()
        .await
        .expect("json");
    let report = report["id"].as_str().expect("report id").to_owned();
    let today = jiff::ZonedDateTime::now().date();
    path.replace("{facility}", &facility)
        .replace("{department}", &department)
        .replace("{person}", &person)
        .replace("{post}", &post)
        .replace("{user}", &user)
        .replace("{alarm}", &alarm)
        .replace("{report}", &report)
        .replace("{country}", "KZ")
        .replace("{day}", "2099-01-02")
        .replace("{none}", &uuid::Uuid::now_v7().to_string())
        .replace("{monday}", &today.to_string())
        .replace("{sunday}", &today.to_string())
}

both!(every_role_on_every_route, |app| {
    let rows = rows();
    assert!(rows.len() > 30);
    let mut clients = std::collections::HashMap::new();
    for (role, _) in &rows[0].allowed {
        clients.insert(role.clone(), app.login(role).await);
    }
    let mut failures = vec![];
    for row in &rows {
        let path = fill(&app, &row.path).await;
        for (role, allowed) in &row.allowed {
            let c = &clients[role];
            let req = match row.method.as_str() {
                "GET" => c.get(app.url(&path)),
                "POST" => c.post(app.url(&path)).json(&serde_json::json!({})),
                "PUT" => c.put(app.url(&path)).json(&serde_json::json!({})),
                "DELETE" => c.delete(app.url(&path)),
                m => panic!("method {m}"),
            };
            let status = req.send().await.expect("send").status().as_u16();
            let ok = if *allowed {
                !matches!(status, 401 | 403) && (status != 404 || row.path.contains("{none}"))
            } else {
                matches!(status, 403 | 404)
            };
            assert_ne!(status, 500, "{} {path} as {role}", row.method);
            if !ok {
                failures.push(format!(
                    "{} {} as {role}: {status}, table says {}",
                    row.method,
                    row.path,
                    if *allowed { "✓" } else { "✗" }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "access differs from docs/access.md:\n{}",
        failures.join("\n")
    );
});

both!(openapi_routes_are_all_in_the_table, |app| {
    let spec: serde_json::Value = app
        .client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("spec")
        .json()
        .await
        .expect("json");
    let documented: BTreeSet<(String, String)> = rows()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path.split('?').next().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let public = [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/reports/anonymous",
        "/api/v1/reports/anonymous/lookup",
        "/api/v1/reports/anonymous/messages",
        "/api/v1/reports/anonymous/consent",
        "/api/v1/reports/anonymous/attachments",
        "/api/v1/reports/anonymous/escrow",
        "/api/v1/reports/anonymous/escrow/prompts",
        "/api/v1/reports/anonymous/escrow/answer",
        "/healthz",
        "/readyz",
    ];
    let mut missing = vec![];
    for (path, ops) in spec["paths"].as_object().expect("paths") {
        if public.contains(&path.as_str()) {
            continue;
        }
        for method in ops.as_object().expect("ops").keys() {
            let m = method.to_uppercase();
            // The table's placeholders name the record; the spec's name the parameter.
            let found = documented.iter().any(|(dm, dp)| {
                dm == &m && {
                    let a: Vec<&str> = dp.split('/').collect();
                    let b: Vec<&str> = path.split('/').collect();
                    a.len() == b.len()
                        && a.iter()
                            .zip(&b)
                            .all(|(x, y)| x == y || (x.starts_with('{') && y.starts_with('{')))
                }
            });
            if !found {
                missing.push(format!("{m} {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from docs/access.md: {missing:?}"
    );
});
