//! The alarm pages over HTTP: the phone button without JavaScript, the console's forms, the duress
//! PIN, the history and its response times, the settings, and the files of the installable app.

mod common;

use common::TestApp;
use serde_json::Value;

const LANGS: [(&str, &str); 4] = [
    ("kk", "Дабыл түймесі"),
    ("ru", "Тревожная кнопка"),
    ("ky", "Коркунуч баскычы"),
    ("en", "Panic button"),
];

async fn page(c: &reqwest::Client, app: &TestApp, path: &str, lang: &str) -> (u16, String) {
    let r = c
        .get(app.url(path))
        .header("accept-language", lang)
        .send()
        .await
        .expect("get page");
    let s = r.status().as_u16();
    (s, r.text().await.expect("body"))
}

/// The value of the first `<input name="NAME" value="...">` on a page.
fn input_value(html: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let start = html.find(&key).unwrap_or_else(|| panic!("no input {name}")) + key.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn api_get(c: &reqwest::Client, app: &TestApp, path: &str) -> Value {
    let r = c.get(app.url(path)).send().await.expect("get");
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("json")
}

/// Presses the button as a browser without JavaScript would: the form as the page offers it.
async fn press_plain(c: &reqwest::Client, app: &TestApp, room: &str) -> reqwest::Response {
    let (s, html) = page(c, app, "/alarm", "en").await;
    assert_eq!(s, 200);
    let form = [
        ("client_id", input_value(&html, "client_id")),
        ("facility_id", input_value(&html, "facility_id")),
        ("department_id", input_value(&html, "department_id")),
        ("floor", input_value(&html, "floor")),
        ("room", room.to_owned()),
        ("silent", String::new()),
    ];
    c.post(app.url("/alarm"))
        .header("accept-language", "en")
        .form(&form)
        .send()
        .await
        .expect("press")
}

async fn act(
    c: &reqwest::Client,
    app: &TestApp,
    id: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(app.url(&format!("/alarms/{id}/act")))
        .header("accept-language", "en")
        .form(form)
        .send()
        .await
        .expect("act")
}

both!(pages_render_for_their_roles_in_four_languages, |app| {
    let allowed: &[(&str, &[&str])] = &[
        ("worker", &["/alarm", "/alarm/settings", "/alarms"]),
        (
            "security_guard",
            &["/alarm", "/console", "/console/list", "/alarms"],
        ),
        (
            "facility_admin",
            &["/console", "/console/settings", "/alarms", "/alarm"],
        ),
        ("department_head", &["/console", "/alarms"]),
        ("regional_health", &["/console", "/alarms", "/alarm"]),
        (
            "system_admin",
            &["/alarm", "/console", "/console/settings", "/alarms"],
        ),
    ];
    for (role, paths) in allowed {
        let c = app.login(role).await;
        for (lang, _) in LANGS {
            for path in *paths {
                let (s, body) = page(&c, &app, path, lang).await;
                assert_eq!(s, 200, "{role} {path} {lang}: {body}");
                if !path.ends_with("/list") {
                    assert!(
                        body.contains(&format!("<html lang=\"{lang}\"")),
                        "{role} {path} {lang}"
                    );
                }
            }
        }
    }
    // The button's title, in each language.
    let worker = app.login("worker").await;
    for (lang, title) in LANGS {
        let (_, body) = page(&worker, &app, "/alarm", lang).await;
        assert!(body.contains(title), "{lang}: {title}");
        assert!(body.contains("rel=\"manifest\""), "the app is installable");
    }
    // Refusals: no console for a worker, no hold-time settings for a guard.
    for (role, path) in [
        ("worker", "/console"),
        ("worker", "/console/list"),
        ("union_rep", "/console"),
        ("union_rep", "/alarms"),
        ("security_guard", "/console/settings"),
        ("worker", "/console/settings"),
    ] {
        let (s, _) = page(&app.login(role).await, &app, path, "en").await;
        assert_eq!(s, 403, "{role} {path}");
    }
    // Without an account, the pages ask to log in.
    let anon = app.client();
    let r = anon.get(app.url("/alarm")).send().await.expect("get");
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login"));
});

both!(a_plain_form_press_raises_an_alarm_and_says_sent, |app| {
    let worker = app.login("worker").await;
    let r = press_plain(&worker, &app, "Палата 7").await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let to = location(&r);
    let id = to
        .strip_prefix("/alarm?sent=")
        .unwrap_or_else(|| panic!("redirect {to}"))
        .to_owned();
    // The answer comes from the server, after the alarm is stored.
    let (s, body) = page(&worker, &app, &to, "en").await;
    assert_eq!(s, 200);
    assert!(
        body.contains("Sent. Security received your alarm at"),
        "{body}"
    );
    let a = api_get(&worker, &app, &format!("/api/v1/alarms/{id}")).await;
    assert_eq!(a["room"], "Палата 7");
    assert_eq!(a["state"], "raised");
    assert_eq!(a["source"], "phone");
    assert!(a["department_id"].is_string(), "the registered department");
    // The room is kept for the next press.
    let (_, again) = page(&worker, &app, "/alarm", "en").await;
    assert!(again.contains("value=\"Палата 7\""));

    // The same form sent twice (a double tap, a reload) is one alarm.
    let (_, html) = page(&worker, &app, "/alarm", "en").await;
    let form = [
        ("client_id", input_value(&html, "client_id")),
        ("facility_id", input_value(&html, "facility_id")),
        ("room", "Процедурная".to_owned()),
    ];
    let mut ids = vec![];
    for _ in 0..2 {
        let r = worker
            .post(app.url("/alarm"))
            .form(&form)
            .send()
            .await
            .expect("press");
        assert_eq!(r.status(), 303);
        ids.push(location(&r));
    }
    assert_eq!(ids[0], ids[1]);

    // A room too long is refused on the page itself, with nothing raised.
    let before = api_get(&worker, &app, "/api/v1/alarms?limit=200").await["items"]
        .as_array()
        .map(Vec::len);
    let r = press_plain(&worker, &app, &"x".repeat(101)).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.expect("body");
    assert!(body.contains("The alarm was not sent"), "{body}");
    assert!(body.contains("field-error"));
    let after = api_get(&worker, &app, "/api/v1/alarms?limit=200").await["items"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after);

    // An account without a registered place chooses the facility.
    let admin = app.login("system_admin").await;
    let (s, html) = page(&admin, &app, "/alarm", "en").await;
    assert_eq!(s, 200);
    assert!(html.contains("<select id=\"alarm-facility\" name=\"facility_id\""));
    let facility = app.demo_facility().await;
    let r = admin
        .post(app.url("/alarm"))
        .form(&[
            ("client_id", input_value(&html, "client_id")),
            ("facility_id", facility.clone()),
            ("room", "Холл".to_owned()),
        ])
        .send()
        .await
        .expect("press");
    assert_eq!(r.status(), 303);
    let r = admin
        .post(app.url("/alarm"))
        .form(&[("facility_id", "not-an-id"), ("room", "Холл")])
        .send()
        .await
        .expect("press");
    assert_eq!(r.status(), 422);
});

both!(console_forms_act_on_alarms, |app| {
    let worker = app.login("worker").await;
    let r = press_plain(&worker, &app, "Кабинет 12").await;
    let id = location(&r).trim_start_matches("/alarm?sent=").to_owned();
    let guard = app.login("security_guard").await;

    // The console lists it, unacknowledged, with its place.
    let (s, body) = page(&guard, &app, "/console", "en").await;
    assert_eq!(s, 200);
    assert!(body.contains(&format!("id=\"alarm-{id}\"")), "{body}");
    assert!(body.contains("Кабинет 12"));
    assert!(body.contains("waiting for acknowledgement"));
    assert!(body.contains("data-seq=\""));
    let (_, fragment) = page(&guard, &app, "/console/list", "en").await;
    assert!(fragment.contains(&format!("id=\"alarm-{id}\"")));
    assert!(!fragment.contains("<html"), "a fragment, not a page");

    // Acknowledge, as a plain form post.
    let r = act(
        &guard,
        &app,
        &id,
        &[("action", "acknowledge"), ("back", "/console")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert_eq!(to, format!("/console?done=1&alarm={id}#alarm-{id}"));
    let a = api_get(&guard, &app, &format!("/api/v1/alarms/{id}")).await;
    assert_eq!(a["state"], "acknowledged");
    assert!(a["acked_at"].is_string());
    let (_, body) = page(&guard, &app, &to, "en").await;
    assert!(body.contains("Recorded."));

    // Acknowledging again is refused, and the console says why, next to the alarm.
    let r = act(
        &guard,
        &app,
        &id,
        &[("action", "acknowledge"), ("back", "/console")],
    )
    .await;
    let to = location(&r);
    assert!(to.contains("err=problem-alarm-wrong-state"), "{to}");
    let (_, body) = page(&guard, &app, &to, "en").await;
    assert!(body.contains("This alarm has already moved past that step"));

    // Dispatch named guards, record a call, a note, arrival; an empty dispatch is refused.
    let r = act(
        &guard,
        &app,
        &id,
        &[
            ("action", "dispatch"),
            ("guards", " , "),
            ("back", "/console"),
        ],
    )
    .await;
    assert!(location(&r).contains("err=err-guards"));
    for form in [
        &[("action", "dispatch"), ("guards", "Ерлан, Бакыт")][..],
        &[("action", "called"), ("service", "102")][..],
        &[("action", "note"), ("text", "Посетитель агрессивен")][..],
        &[("action", "on_scene")][..],
    ] {
        let mut f = form.to_vec();
        f.push(("back", "/console"));
        let r = act(&guard, &app, &id, &f).await;
        assert!(
            location(&r).contains("done=1"),
            "{form:?}: {}",
            location(&r)
        );
    }
    // The alarm's page shows the timeline, attributed; it is the `back` of its own forms.
    let (s, body) = page(&guard, &app, &format!("/alarms/{id}"), "en").await;
    assert_eq!(s, 200);
    for text in [
        "Alarm raised",
        "Acknowledged",
        "Ерлан, Бакыт",
        "102 Police",
        "Посетитель агрессивен",
        "Guards on the scene",
        "demo.security_guard",
    ] {
        assert!(body.contains(text), "{text}: {body}");
    }
    let r = act(
        &guard,
        &app,
        &id,
        &[
            ("action", "resolve"),
            ("outcome", "de_escalated"),
            ("note", "Ушёл сам"),
            ("back", &format!("/alarms/{id}")),
        ],
    )
    .await;
    assert_eq!(
        location(&r),
        format!("/alarms/{id}?done=1&alarm={id}#alarm-{id}")
    );
    let a = api_get(&guard, &app, &format!("/api/v1/alarms/{id}")).await;
    assert_eq!(a["state"], "resolved");
    assert_eq!(a["outcome"], "de_escalated");
    // Gone from the console.
    let (_, body) = page(&guard, &app, "/console", "en").await;
    assert!(!body.contains(&format!("id=\"alarm-{id}\"")));

    // `back` never leads off the site.
    let r = press_plain(&worker, &app, "1").await;
    let other = location(&r).trim_start_matches("/alarm?sent=").to_owned();
    let r = act(
        &guard,
        &app,
        &other,
        &[("action", "acknowledge"), ("back", "//evil.example/")],
    )
    .await;
    assert!(location(&r).starts_with("/?done=1"), "{}", location(&r));

    // Those who may only look get no forms and cannot act.
    let head = app.login("department_head").await;
    let (s, body) = page(&head, &app, &format!("/alarms/{other}"), "en").await;
    assert_eq!(s, 200);
    assert!(!body.contains("name=\"action\""));
    let r = act(&head, &app, &other, &[("action", "on_scene")]).await;
    assert_eq!(r.status(), 403);
    // Nor may those who do not see alarms, whatever they send.
    let union = app.login("union_rep").await;
    let r = act(&union, &app, &other, &[("action", "bogus")]).await;
    assert_eq!(r.status(), 403);
});

both!(
    the_duress_pin_looks_like_a_cancel_but_raises_duress,
    |app| {
        let worker = app.login("worker").await;
        for (which, pin) in [("stand_down", "1234"), ("duress", "9911")] {
            let r = worker
                .post(app.url("/alarm/settings"))
                .form(&[("which", which), ("op", "set"), ("pin", pin)])
                .send()
                .await
                .expect("set pin");
            assert_eq!(r.status(), 303, "{which}");
        }
        // The duress PIN must differ from the stand-down PIN, and PINs are digits.
        for pin in ["1234", "12a4", "12"] {
            let r = worker
                .post(app.url("/alarm/settings"))
                .header("accept-language", "en")
                .form(&[("which", "duress"), ("op", "set"), ("pin", pin)])
                .send()
                .await
                .expect("set pin");
            assert_eq!(r.status(), 422, "{pin}");
        }

        let r = press_plain(&worker, &app, "Палата 3").await;
        let id = location(&r).trim_start_matches("/alarm?sent=").to_owned();
        let (_, html) = page(&worker, &app, "/alarm", "en").await;
        assert!(
            html.contains("name=\"pin\""),
            "the cancel form asks for a PIN"
        );

        // A wrong PIN cancels nothing, and says so.
        let r = worker
            .post(app.url("/alarm/safe"))
            .header("accept-language", "en")
            .form(&[("pin", "0000")])
            .send()
            .await
            .expect("safe");
        assert_eq!(r.status(), 422);
        assert!(
            r.text()
                .await
                .expect("body")
                .contains("This PIN is not right")
        );

        // The duress PIN: the same answer as a real stand-down...
        let r = worker
            .post(app.url("/alarm/safe"))
            .form(&[("pin", "9911")])
            .send()
            .await
            .expect("safe");
        assert_eq!(r.status(), 303);
        let duress_answer = location(&r);
        assert_eq!(duress_answer, "/alarm?safe=1");
        let (_, body) = page(&worker, &app, &duress_answer, "en").await;
        assert!(body.contains("Your alarm is stood down"));
        // ...but the alarm stays open and a silent duress alarm is raised at the same place.
        let a = api_get(&worker, &app, &format!("/api/v1/alarms/{id}")).await;
        assert_eq!(a["state"], "raised", "nothing was resolved");
        let guard = app.login("security_guard").await;
        let open = api_get(&guard, &app, "/api/v1/alarms?open=true").await;
        let duress: Vec<&Value> = open["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|x| x["kind"] == "duress")
            .collect();
        assert_eq!(duress.len(), 1, "{open}");
        assert_eq!(duress[0]["room"], "Палата 3");
        assert_eq!(duress[0]["silent"], true);
        assert_eq!(duress[0]["department_id"], a["department_id"]);
        let (_, console) = page(&guard, &app, "/console", "en").await;
        assert!(console.contains("Duress alarm"));
        // Her own history does not show the duress alarm to whoever holds her phone.
        let (_, mine) = page(&worker, &app, "/alarms", "en").await;
        assert!(mine.contains(&id));
        let did = duress[0]["id"].as_str().expect("id");
        assert!(!mine.contains(did));
        let (s, _) = page(&worker, &app, &format!("/alarms/{did}"), "en").await;
        assert_eq!(s, 404);
        // Nor does her API: not in her list, not by id.
        let mine = api_get(&worker, &app, "/api/v1/alarms").await;
        assert!(
            mine.to_string().contains(&id) && !mine.to_string().contains(did),
            "{mine}"
        );
        let r = worker
            .get(app.url(&format!("/api/v1/alarms/{did}")))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 404);

        // The real PIN stands the alarm down; then there is nothing left to stand down.
        let r = worker
            .post(app.url("/alarm/safe"))
            .form(&[("pin", "1234")])
            .send()
            .await
            .expect("safe");
        assert_eq!(location(&r), "/alarm?safe=1");
        let a = api_get(&worker, &app, &format!("/api/v1/alarms/{id}")).await;
        assert_eq!(a["state"], "resolved");
        assert_eq!(a["outcome"], "stood_down");
        let r = worker
            .post(app.url("/alarm/safe"))
            .form(&[("pin", "1234")])
            .send()
            .await
            .expect("safe");
        assert_eq!(location(&r), "/alarm?safe=0");
        // The duress alarm is not hers to stand down.
        let d = api_get(&guard, &app, &format!("/api/v1/alarms/{did}")).await;
        assert_eq!(d["state"], "raised");

        // Without PINs, "I am safe" needs none.
        for which in ["stand_down", "duress"] {
            worker
                .post(app.url("/alarm/settings"))
                .form(&[("which", which), ("op", "remove")])
                .send()
                .await
                .expect("remove");
        }
        let r = press_plain(&worker, &app, "Палата 4").await;
        let id = location(&r).trim_start_matches("/alarm?sent=").to_owned();
        let (_, html) = page(&worker, &app, "/alarm", "en").await;
        assert!(!html.contains("name=\"pin\""));
        let r = worker
            .post(app.url("/alarm/safe"))
            .form(&[("pin", "")])
            .send()
            .await
            .expect("safe");
        assert_eq!(location(&r), "/alarm?safe=1");
        let a = api_get(&worker, &app, &format!("/api/v1/alarms/{id}")).await;
        assert_eq!(a["outcome"], "stood_down");
    }
);

both!(history_shows_response_times_and_filters, |app| {
    let worker = app.login("worker").await;
    let guard = app.login("security_guard").await;
    let mut ids = vec![];
    for room in ["A", "B", "C"] {
        let r = press_plain(&worker, &app, room).await;
        ids.push(location(&r).trim_start_matches("/alarm?sent=").to_owned());
    }
    for id in &ids[..2] {
        act(&guard, &app, id, &[("action", "acknowledge")]).await;
    }
    act(&guard, &app, &ids[0], &[("action", "on_scene")]).await;

    let (s, body) = page(&guard, &app, "/alarms", "en").await;
    assert_eq!(s, 200);
    for id in &ids {
        assert!(body.contains(&format!("/alarms/{id}")), "{id}");
    }
    assert!(body.contains("Response times"));
    assert!(body.contains("To acknowledgement, median"));

    let (_, acked) = page(&guard, &app, "/alarms?state=acknowledged", "en").await;
    assert!(acked.contains(&ids[1]) && !acked.contains(&ids[2]) && !acked.contains(&ids[0]));
    let (_, open) = page(&guard, &app, "/alarms?state=open", "en").await;
    assert!(open.contains(&ids[2]));
    // Around today, whatever the zone of the machine running the test.
    let today = jiff::ZonedDateTime::now().date();
    let (from, to) = (
        today.yesterday().expect("date"),
        today.tomorrow().expect("date"),
    );
    let (s, dated) = page(&guard, &app, &format!("/alarms?from={from}&to={to}"), "en").await;
    assert_eq!(s, 200);
    assert!(dated.contains(&ids[0]));
    let (_, past) = page(&guard, &app, "/alarms?from=2020-01-01&to=2020-01-31", "en").await;
    assert!(!past.contains(&ids[0]));
    let (s, bad) = page(&guard, &app, "/alarms?from=2020-13-01&state=nope", "en").await;
    assert_eq!(s, 422);
    assert!(bad.contains("field-error"));
    let (s, _) = page(&guard, &app, "/alarms?from=2021-02-01&to=2021-01-01", "en").await;
    assert_eq!(s, 422);
});

both!(a_facility_chooses_its_hold_time, |app| {
    let facility = app.demo_facility().await;
    let worker = app.login("worker").await;
    let (_, html) = page(&worker, &app, "/alarm", "en").await;
    assert!(html.contains("data-hold-ms=\"1000\""), "the default");

    let admin = app.login("facility_admin").await;
    let r = admin
        .post(app.url(&format!("/console/settings/{facility}")))
        .form(&[("hold_ms", "2000")])
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), 303);
    let (_, html) = page(&worker, &app, "/alarm", "en").await;
    assert!(html.contains("data-hold-ms=\"2000\""));
    assert!(html.contains("Hold the button for 2 seconds"));
    let (_, settings) = page(&admin, &app, "/console/settings?done=1", "en").await;
    assert!(settings.contains("The hold time is saved"));

    let r = admin
        .post(app.url(&format!("/console/settings/{facility}")))
        .form(&[("hold_ms", "5000")])
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), 422);
    let guard = app.login("security_guard").await;
    let r = guard
        .post(app.url(&format!("/console/settings/{facility}")))
        .form(&[("hold_ms", "0")])
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), 403);
    // Another facility is outside a facility administrator's scope.
    let all: Value = api_get(
        &app.login("system_admin").await,
        &app,
        "/api/v1/facilities?limit=50",
    )
    .await;
    let other = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .find(|id| *id != facility)
        .expect("another facility");
    let r = admin
        .post(app.url(&format!("/console/settings/{other}")))
        .form(&[("hold_ms", "0")])
        .send()
        .await
        .expect("save");
    assert_eq!(r.status(), 404);
    // The change is audited.
    let audit = api_get(
        &app.login("system_admin").await,
        &app,
        "/api/v1/audit?limit=200",
    )
    .await;
    assert!(audit.to_string().contains("alarm.button_settings"));
});

both!(the_installable_app_files_have_their_types, |app| {
    let anon = app.client();
    for (path, ct, contains) in [
        ("/static/alarm.js", "text/javascript", "QorgauOutbox"),
        ("/static/alarm-outbox.js", "text/javascript", "indexedDB"),
        ("/static/console.js", "text/javascript", "EventSource"),
        ("/static/alarm.css", "text/css", ".alarm-button"),
        ("/static/alarm-icon.svg", "image/svg+xml", "<svg"),
        ("/sw.js", "text/javascript", "importScripts"),
        ("/static/sw.js", "text/javascript", "importScripts"),
    ] {
        let r = anon.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), 200, "{path}");
        let got = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(got.starts_with(ct), "{path}: {got}");
        assert!(r.text().await.expect("body").contains(contains), "{path}");
    }
    let r = anon
        .get(app.url("/manifest.webmanifest?lang=kk"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/manifest+json")
    );
    let m: Value = r.json().await.expect("json");
    assert_eq!(m["lang"], "kk");
    assert_eq!(m["start_url"], "/alarm");
    assert_eq!(m["scope"], "/");
    assert_eq!(m["display"], "standalone");
    assert_eq!(m["name"], "Qorgau дабыл түймесі");
    assert!(m["icons"].as_array().is_some_and(|i| !i.is_empty()));
    // The scripts run under the site's strict policy: no inline script anywhere on the pages.
    let worker = app.login("worker").await;
    let (_, html) = page(&worker, &app, "/alarm", "en").await;
    assert!(!html.contains("<script>") && !html.contains(" style=\""));
});
