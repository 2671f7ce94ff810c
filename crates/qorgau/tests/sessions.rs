//! The session cache (platform/auth/cache.rs) never keeps an ended session alive on this node,
//! and another node sharing the database sees the end within the cache's lifetime. Each test
//! uses the credential once or twice right before ending it, so that it is in the cache.

mod common;

use common::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Logs in through the API and returns the raw session cookie value.
async fn session_of(app: &TestApp, role: &str) -> String {
    let a = app.account(role);
    let totp = a
        .totp
        .as_deref()
        .map(common::current_totp)
        .unwrap_or_default();
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": a.username, "password": a.password, "totp": totp}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let set = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    set.split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("qorgau_session="))
        .expect("session cookie")
        .to_owned()
}

/// `GET /api/v1/me` with the cookie sent by hand (a jar would drop it on logout).
async fn me(base: &str, cookie: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .header("cookie", format!("qorgau_session={cookie}"))
        .send()
        .await
        .expect("me");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Twice: the second answer comes from the cache.
async fn warm(base: &str, cookie: &str) -> Value {
    let (s, body) = me(base, cookie).await;
    assert_eq!(s, 200);
    assert_eq!(me(base, cookie).await.0, 200);
    body
}

both!(logout_ends_a_cached_session_at_once, |app| {
    let cookie = session_of(&app, "facility_admin").await;
    warm(&app.base, &cookie).await;
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", format!("qorgau_session={cookie}"))
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 204);
    assert_eq!(me(&app.base, &cookie).await.0, 401);
});

both!(
    disabling_an_account_ends_its_cached_sessions_at_once,
    |app| {
        let cookie = session_of(&app, "facility_admin").await;
        let who = warm(&app.base, &cookie).await;
        let id = who["id"].as_str().expect("id");
        let admin = app.login("system_admin").await;
        let r = admin
            .post(app.url(&format!("/api/v1/users/{id}/disable")))
            .json(&json!({"disabled": true}))
            .send()
            .await
            .expect("disable");
        assert_eq!(r.status(), 204);
        assert_eq!(me(&app.base, &cookie).await.0, 401);
    }
);

both!(a_new_password_ends_cached_sessions_at_once, |app| {
    let cookie = session_of(&app, "facility_admin").await;
    let who = warm(&app.base, &cookie).await;
    let id = who["id"].as_str().expect("id");
    let admin = app.login("system_admin").await;
    let link: Value = admin
        .post(app.url(&format!("/api/v1/users/{id}/reset-link")))
        .send()
        .await
        .expect("link")
        .json()
        .await
        .expect("json");
    let path = link["path"].as_str().expect("path");
    // The session is still good until the link is used.
    assert_eq!(me(&app.base, &cookie).await.0, 200);
    let r = app
        .client()
        .post(app.url(path))
        .form(&[
            ("password", "a long new password"),
            ("confirm", "a long new password"),
        ])
        .send()
        .await
        .expect("reset");
    assert_eq!(r.status(), 303);
    assert_eq!(me(&app.base, &cookie).await.0, 401);
});

both!(
    another_node_sees_a_logout_within_the_cache_lifetime,
    |app| {
        let cookie = session_of(&app, "facility_admin").await;
        let (other, node) = app.second_node().await;
        warm(&other, &cookie).await;
        let r = reqwest::Client::new()
            .post(app.url("/api/v1/auth/logout"))
            .header("cookie", format!("qorgau_session={cookie}"))
            .send()
            .await
            .expect("logout");
        assert_eq!(r.status(), 204);
        assert_eq!(me(&app.base, &cookie).await.0, 401);
        tokio::time::sleep(
            qorgau::platform::auth::cache::TTL + std::time::Duration::from_millis(200),
        )
        .await;
        assert_eq!(me(&other, &cookie).await.0, 401);
        node.abort();
    }
);

async fn idle_session_expires(backend: Backend) {
    let app = TestApp::start_with(backend, |cfg| cfg.session_idle_minutes = 0).await;
    let cookie = session_of(&app, "facility_admin").await;
    assert_eq!(me(&app.base, &cookie).await.0, 401);
    assert_eq!(me(&app.base, &cookie).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_sqlite() {
    idle_session_expires(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_postgres() {
    if std::env::var("QORGAU_TEST_POSTGRES_URL").is_err() {
        eprintln!("skipped on PostgreSQL: QORGAU_TEST_POSTGRES_URL is not set");
        return;
    }
    idle_session_expires(Backend::Postgres).await;
}

both!(a_language_switch_applies_to_the_very_next_page, |app| {
    // The switch is a plain GET link that saves the choice in the account, where it wins over
    // the cookie; cached credentials carrying the old choice must not outlive the switch.
    let c = app.fresh_login("facility_admin").await;
    let lang_of = |html: &str| {
        html.split("<html lang=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("")
            .to_owned()
    };
    let switch = |lang: &'static str| {
        let req = c.get(app.url(&format!("/prefs/lang/{lang}?next=/")));
        async move {
            let r = req.send().await.expect("switch");
            assert_eq!(r.status(), 303);
        }
    };
    let home = || {
        let req = c.get(app.url("/"));
        async move { req.send().await.expect("home").text().await.expect("body") }
    };
    switch("kk").await;
    // Past the cache's lifetime, so that the next read caches the account's choice (kk).
    tokio::time::sleep(qorgau::platform::auth::cache::TTL + std::time::Duration::from_millis(200))
        .await;
    assert_eq!(lang_of(&home().await), "kk");
    for lang in ["en", "ky", "ru"] {
        switch(lang).await;
        assert_eq!(lang_of(&home().await), lang);
    }
});
