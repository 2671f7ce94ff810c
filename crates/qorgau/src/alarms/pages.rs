//! Alarm pages: the phone button (an installable web app whose presses wait in a service worker
//! until the server has them), the security console, the history with response times, one
//! alarm's timeline, and the two settings pages (a person's PINs, a facility's hold time).
//!
//! Every page works as plain HTML forms; the scripts under `static/` only add to them (hold to
//! confirm, the offline queue, live updates and sound). Writes go through the JSON handlers in
//! [`api`] (`api::raise`, `api::act`), so a form and a JSON body are judged by the same access
//! rules and the same state machine, and recorded with the same timeline and audit entries.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use crate::alarms::api::{self, RaiseInput};
use crate::alarms::model::*;
use crate::alarms::store::{self, AlarmEvent, HistoryQuery, ListQuery};
use crate::directory::model::{Department, Facility};
use crate::platform::access::{Action, Principal, Scope, ScopeFilter};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::auth::password;
use crate::platform::error::{AppError, AppResult, FieldError, translate_errors};
use crate::platform::extract::{Form, LateJson, Query};
use crate::platform::i18n::{I18n, Lang, Tr};
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::validate::parse_date;
use crate::platform::web::{Ctx, PageCtx, render, render_status, safe_next, urlencode};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alarm", get(button_page).post(button_press))
        .route("/alarm/choices", post(button_choices))
        .route("/alarm/safe", post(stand_down))
        .route(
            "/alarm/settings",
            get(my_settings_page).post(my_settings_save),
        )
        .route("/console", get(console_page))
        .route("/console/list", get(console_fragment))
        .route("/console/settings", get(button_settings_page))
        .route("/console/settings/{facility}", post(button_settings_save))
        .route("/console/settings/{facility}/policy", post(policy_save))
        .route("/alarms", get(history_page))
        .route("/alarms/{id}", get(alarm_page))
        .route("/alarms/{id}/act", post(act_submit))
        .route("/sw.js", get(service_worker))
        .route("/manifest.webmanifest", get(manifest))
}

/// Hold-to-confirm when a facility's administrator has not chosen: long enough that a phone in a
/// pocket does not raise an alarm, short enough not to cost time.
pub const DEFAULT_HOLD_MS: i64 = 1000;
/// The hold times an administrator may choose from.
pub const HOLD_CHOICES: [i64; 3] = [0, 1000, 2000];

/// Facility kinds whose staff ride in ambulances: their button sends the position by default.
const AMBULANCE_FACILITIES: &[&str] =
    &["ambulance_station", "ambulance_substation", "air_ambulance"];

/// Rows on one page of the history.
const HISTORY_PAGE: i64 = 50;
/// The most alarms the response-time summary reads.
const STATS_CAP: i64 = 20_000;

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `path` with `key=value` added to its query, before any fragment.
fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let (base, frag) = match path.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (path, None),
    };
    let mut out = base.to_owned();
    for (k, v) in pairs {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(k);
        out.push('=');
        out.push_str(&urlencode(v));
    }
    if let Some(f) = frag {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// A message id passed back in a redirect, shown only if it is one of ours.
fn known_message(tr: Tr, id: &str) -> Option<String> {
    let ours = id.starts_with("err-") || id.starts_with("problem-") || id.starts_with("alarm-");
    (ours && I18n::has(Lang::En, id)).then(|| tr.t(id))
}

fn opt_uuid(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s.trim()).ok()
}

// ---------------------------------------------------------------------------------- places

/// Facility and department names for the alarms on a page, read once.
#[derive(Default)]
struct Names {
    facilities: HashMap<Uuid, Facility>,
    departments: HashMap<Uuid, Option<Department>>,
}

impl Names {
    async fn facility(&mut self, st: &AppState, id: Uuid) -> AppResult<Option<&Facility>> {
        if !self.facilities.contains_key(&id)
            && let Some(f) = crate::directory::store::facility_by_id(&st.db, id).await?
        {
            self.facilities.insert(id, f);
        }
        Ok(self.facilities.get(&id))
    }
    async fn department(&mut self, st: &AppState, id: Uuid) -> AppResult<Option<&Department>> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.departments.entry(id) {
            e.insert(crate::directory::store::department_by_id(&st.db, id).await?);
        }
        Ok(self.departments.get(&id).and_then(Option::as_ref))
    }
}

/// The facilities an account's scope reaches, by name (for filters and names).
pub(crate) async fn facilities_in_scope(st: &AppState, p: &Principal) -> AppResult<Vec<Facility>> {
    let dir = crate::directory::store::facilities;
    let mut out = match &p.scope {
        Scope::Facility(f) => crate::directory::store::facility_by_id(&st.db, *f)
            .await?
            .into_iter()
            .collect(),
        Scope::Department(d) => {
            match crate::directory::store::department_by_id(&st.db, *d).await? {
                Some(d) => crate::directory::store::facility_by_id(&st.db, d.facility_id)
                    .await?
                    .into_iter()
                    .collect(),
                None => vec![],
            }
        }
        Scope::Region(r) => dir(&st.db, Some(r), None, None, false, 500).await?,
        Scope::Country(c) => dir(&st.db, None, c.as_deref(), None, false, 500).await?,
        Scope::Own => match p.person_id {
            Some(person) => match crate::directory::store::person_by_id(&st.db, person).await? {
                Some(x) => crate::directory::store::facility_by_id(&st.db, x.facility_id)
                    .await?
                    .into_iter()
                    .collect(),
                None => vec![],
            },
            None => vec![],
        },
    };
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Where a person's button says she is: her staff record's facility and department, else the
/// facility or department of her account's scope.
struct MyPlace {
    facility: Option<Facility>,
    department: Option<Department>,
    /// Ambulance crews send their position by default.
    ambulance: bool,
}

async fn my_place(st: &AppState, p: &Principal) -> AppResult<MyPlace> {
    let person = match p.person_id {
        Some(id) => crate::directory::store::person_by_id(&st.db, id).await?,
        None => None,
    };
    let department_id = person
        .as_ref()
        .and_then(|x| x.department_id)
        .or(match p.scope {
            Scope::Department(d) => Some(d),
            _ => None,
        });
    let department = match department_id {
        Some(d) => crate::directory::store::department_by_id(&st.db, d).await?,
        None => None,
    };
    let facility_id = person
        .as_ref()
        .map(|x| x.facility_id)
        .or(department.as_ref().map(|d| d.facility_id))
        .or(match p.scope {
            Scope::Facility(f) => Some(f),
            _ => None,
        });
    let facility = match facility_id {
        Some(f) => crate::directory::store::facility_by_id(&st.db, f).await?,
        None => None,
    };
    let ambulance = department
        .as_ref()
        .is_some_and(|d| d.kind == "ambulance_crew")
        || facility
            .as_ref()
            .is_some_and(|f| AMBULANCE_FACILITIES.contains(&f.kind.as_str()));
    Ok(MyPlace {
        facility,
        department,
        ambulance,
    })
}

async fn hold_ms_for(st: &AppState, facility: Option<Uuid>) -> AppResult<i64> {
    Ok(match facility {
        Some(f) => store::hold_ms(&st.db, f).await?.unwrap_or(DEFAULT_HOLD_MS),
        None => DEFAULT_HOLD_MS,
    })
}

fn hold_label(tr: Tr, ms: i64) -> String {
    if ms <= 0 {
        tr.t("alarm-hold-none")
    } else {
        tr.args("alarm-hold", &[("s", &(ms / 1000).to_string())])
    }
}

// ---------------------------------------------------------------------------------- the button

pub struct PostPhone {
    pub name: String,
    pub phone: String,
    pub tel: String,
}

#[derive(Template)]
#[template(path = "alarms/button.html")]
struct ButtonPage {
    page: PageCtx,
    client_id: String,
    facility_id: String,
    facility_name: String,
    department_id: String,
    department_name: String,
    floor: String,
    /// Offered when the account has no registered place.
    facility_options: Vec<Opt>,
    room: String,
    gps: bool,
    ambulance: bool,
    silent: bool,
    hold_ms: i64,
    hold_text: String,
    posts: Vec<PostPhone>,
    /// What the server last said about a press (no-JS path), and its class (`ok`, `error`).
    status: String,
    status_class: &'static str,
    errors: Vec<FieldError>,
    has_pin: bool,
    safe_error: Option<String>,
    /// Texts the script shows, as `data-msg-*` attributes.
    msgs: Vec<(&'static str, String)>,
}

impl ButtonPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ButtonQuery {
    sent: String,
    safe: String,
}

/// What the button page shows besides the person's place.
#[derive(Default)]
struct ButtonState {
    room: Option<String>,
    silent: Option<bool>,
    gps: Option<bool>,
    facility: Option<String>,
    status: String,
    status_class: &'static str,
    errors: Vec<FieldError>,
    safe_error: Option<String>,
    flash: Option<&'static str>,
}

async fn button_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    s: ButtonState,
) -> AppResult<ButtonPage> {
    let tr = ctx.tr;
    let place = my_place(st, p).await?;
    let profile = store::profile(&st.db, p.user_id).await?.unwrap_or_default();
    let facility_options = if place.facility.is_none() {
        let chosen = s.facility.clone().unwrap_or_default();
        let mut opts = vec![Opt {
            value: String::new(),
            label: tr.t("alarm-choose-facility"),
            selected: chosen.is_empty(),
        }];
        opts.extend(facilities_in_scope(st, p).await?.into_iter().map(|f| Opt {
            selected: f.id.to_string() == chosen,
            value: f.id.to_string(),
            label: f.name,
        }));
        opts
    } else {
        vec![]
    };
    let facility_id = place.facility.as_ref().map(|f| f.id);
    let hold_ms = hold_ms_for(st, facility_id).await?;
    let posts = match facility_id {
        Some(f) => crate::directory::store::posts(&st.db, f, false)
            .await?
            .into_iter()
            .filter(|x| !x.phone.trim().is_empty())
            .map(|x| PostPhone {
                tel: format!(
                    "tel:{}",
                    x.phone
                        .chars()
                        .filter(|c| c.is_ascii_digit() || *c == '+')
                        .collect::<String>()
                ),
                name: x.name,
                phone: x.phone,
            })
            .collect(),
        None => vec![],
    };
    let t = |id: &str| tr.t(id);
    let msgs = vec![
        ("saved", t("alarm-js-saved")),
        ("waiting", t("alarm-js-waiting")),
        ("sent", tr.args("alarm-sent-at", &[("time", "{time}")])),
        ("auth", t("alarm-js-auth")),
        (
            "refused",
            tr.args("alarm-js-refused", &[("reason", "{reason}")]),
        ),
        ("holding", t("alarm-js-holding")),
        ("released", hold_label(tr, hold_ms)),
        ("confirm", t("alarm-js-confirm")),
        ("acknowledged", t("alarm-state-now-acknowledged")),
        ("dispatched", t("alarm-state-now-dispatched")),
        ("on_scene", t("alarm-state-now-on_scene")),
        ("resolved", t("alarm-state-now-resolved")),
        ("gps-failed", t("alarm-js-gps-failed")),
    ];
    let mut page = PageCtx::new(ctx, "alarm-title");
    if let Some(f) = s.flash {
        page = page.with_flash(f);
    }
    Ok(ButtonPage {
        page,
        client_id: Uuid::new_v4().to_string(),
        facility_id: facility_id.map(|f| f.to_string()).unwrap_or_default(),
        facility_name: place
            .facility
            .as_ref()
            .map(|f| f.name.clone())
            .unwrap_or_default(),
        department_id: place
            .department
            .as_ref()
            .map(|d| d.id.to_string())
            .unwrap_or_default(),
        department_name: place
            .department
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        floor: place
            .department
            .as_ref()
            .map(|d| d.floor.clone())
            .filter(|f| f.trim() != "—")
            .unwrap_or_default(),
        facility_options,
        room: s.room.unwrap_or(profile.room),
        gps: s.gps.unwrap_or(profile.gps || place.ambulance),
        ambulance: place.ambulance,
        silent: s.silent.unwrap_or(profile.silent),
        hold_ms,
        hold_text: hold_label(tr, hold_ms),
        posts,
        status: s.status,
        status_class: s.status_class,
        errors: s.errors,
        has_pin: profile.stand_down_pin_hash.is_some() || profile.duress_pin_hash.is_some(),
        safe_error: s.safe_error,
        msgs,
    })
}

async fn button_page(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<ButtonQuery>,
) -> AppResult<Response> {
    p.require(Action::AlarmRaise)?;
    let mut s = ButtonState::default();
    // After a press sent without the script: the server's own answer.
    if let Some(id) = opt_uuid(&q.sent)
        && let Some(a) = store::get(&st.db, id).await?
        && a.pressed_by == Some(p.user_id)
    {
        let tz = crate::directory::store::facility_by_id(&st.db, a.facility_id)
            .await?
            .map(|f| f.tz)
            .unwrap_or_else(|| "Asia/Almaty".into());
        let time = a.received_at.local(&tz);
        let time = time.split(' ').nth(1).unwrap_or(&time).to_owned();
        s.status = ctx.tr.args("alarm-sent-at", &[("time", &time)]);
        s.status_class = "ok";
    }
    s.flash = match q.safe.as_str() {
        "1" => Some("alarm-safe-done"),
        "0" => Some("alarm-safe-nothing"),
        _ => None,
    };
    Ok(render(&button_view(&st, &ctx, &p, s).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PressForm {
    client_id: String,
    facility_id: String,
    department_id: String,
    floor: String,
    room: String,
    silent: String,
    gps: String,
    lat: String,
    lon: String,
}

/// The button without the script: a plain form post. The answer says "sent" only because the
/// alarm is stored by then.
async fn button_press(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(f): Form<PressForm>,
) -> AppResult<Response> {
    p.require(Action::AlarmRaise)?;
    let silent = f.silent == "true";
    let gps = f.gps == "true";
    let mut errors = vec![];
    let facility_id = if f.facility_id.trim().is_empty() {
        None
    } else {
        let id = opt_uuid(&f.facility_id);
        if id.is_none() {
            errors.push(FieldError::new("facility_id", "err-choice"));
        }
        id
    };
    let num = |s: &str| s.trim().parse::<f64>().ok();
    let input = RaiseInput {
        client_id: opt_uuid(&f.client_id),
        facility_id,
        department_id: opt_uuid(&f.department_id),
        room: f.room.clone(),
        floor: f.floor.clone(),
        lat: num(&f.lat),
        lon: num(&f.lon),
        silent,
        kind: None,
        pressed_at: None,
    };
    let result = if errors.is_empty() {
        api::raise(
            AxState(st.clone()),
            p.clone(),
            HeaderMap::new(),
            LateJson(Ok(input)),
        )
        .await
    } else {
        Err(AppError::Validation(errors))
    };
    match result {
        Ok((_, axum::Json(a))) => {
            if let Err(e) =
                store::save_button_choices(&st.db, p.user_id, f.room.trim(), gps, silent).await
            {
                tracing::warn!(error = %e, "saving the button's choices");
            }
            Ok(see_other(&format!("/alarm?sent={}", a.id)))
        }
        Err(AppError::Validation(mut errs)) => {
            translate_errors(ctx.tr, &mut errs);
            let s = ButtonState {
                room: Some(f.room),
                silent: Some(silent),
                gps: Some(gps),
                facility: Some(f.facility_id),
                status: ctx.tr.t("alarm-not-sent"),
                status_class: "error",
                errors: errs,
                ..Default::default()
            };
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &button_view(&st, &ctx, &p, s).await?,
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChoicesForm {
    room: String,
    silent: String,
    gps: String,
}

/// The script keeps the room, position and silent choices as they are changed.
async fn button_choices(
    AxState(st): AxState<AppState>,
    p: Principal,
    Form(f): Form<ChoicesForm>,
) -> AppResult<Response> {
    p.require(Action::AlarmRaise)?;
    if f.room.chars().count() > 100 {
        return Err(AppError::field("room", "err-too-long"));
    }
    store::save_button_choices(
        &st.db,
        p.user_id,
        f.room.trim(),
        f.gps == "true",
        f.silent == "true",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SafeForm {
    pin: String,
}

/// "I am safe": stands down the person's last open alarm. Her duress PIN instead raises a duress
/// alarm and leaves everything open, and the answer looks exactly like a stand-down.
async fn stand_down(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(f): Form<SafeForm>,
) -> AppResult<Response> {
    p.require(Action::AlarmRaise)?;
    let profile = store::profile(&st.db, p.user_id).await?.unwrap_or_default();
    let pin = f.pin.trim();
    let open = store::last_open_pressed_by(&st.db, p.user_id).await?;
    // What a stand-down would answer; a duress PIN answers the same.
    let answer = if open.is_some() {
        "/alarm?safe=1"
    } else {
        "/alarm?safe=0"
    };
    let duress = !pin.is_empty()
        && profile
            .duress_pin_hash
            .as_deref()
            .is_some_and(|h| password::verify(pin, h));
    if duress {
        // Whatever happens, the answer must look like a stand-down.
        if let Err(e) = raise_duress(&st, &p, open.as_ref()).await {
            tracing::error!(error = %e, "raising a duress alarm");
        }
        return Ok(see_other(answer));
    }
    if let Some(h) = profile.stand_down_pin_hash.as_deref()
        && !password::verify(pin, h)
    {
        let s = ButtonState {
            safe_error: Some(ctx.tr.t("alarm-err-pin-wrong")),
            ..Default::default()
        };
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &button_view(&st, &ctx, &p, s).await?,
        ));
    }
    // Her own alarm (found by who pressed it): the person who pressed may always stand it down,
    // whatever her role may do to other alarms.
    if let Some(a) = open {
        let act = Act::Resolve {
            outcome: Outcome::StoodDown,
            note: String::new(),
        };
        match crate::alarms::service::act(&st, a.id, &act, &Actor::of(&p)).await {
            // Resolved meanwhile by security: she is safe either way.
            Ok(_) | Err(AppError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(see_other(answer))
}

/// A silent duress alarm at the place of the open alarm, or of the person's registered place.
async fn raise_duress(st: &AppState, p: &Principal, open: Option<&Alarm>) -> AppResult<Alarm> {
    let input = match open {
        Some(a) => RaiseInput {
            facility_id: Some(a.facility_id),
            department_id: a.department_id,
            room: a.room.clone(),
            floor: a.floor.clone(),
            lat: a.lat,
            lon: a.lon,
            silent: true,
            kind: Some(Kind::Duress),
            ..Default::default()
        },
        None => {
            let place = my_place(st, p).await?;
            let profile = store::profile(&st.db, p.user_id).await?.unwrap_or_default();
            RaiseInput {
                facility_id: place.facility.as_ref().map(|f| f.id),
                department_id: place.department.as_ref().map(|d| d.id),
                room: profile.room,
                floor: place
                    .department
                    .as_ref()
                    .map(|d| d.floor.clone())
                    .unwrap_or_default(),
                silent: true,
                kind: Some(Kind::Duress),
                ..Default::default()
            }
        }
    };
    let (_, axum::Json(a)) = api::raise(
        AxState(st.clone()),
        p.clone(),
        HeaderMap::new(),
        LateJson(Ok(input)),
    )
    .await?;
    Ok(a)
}

// ---------------------------------------------------------------------------------- PINs

#[derive(Template)]
#[template(path = "alarms/my_settings.html")]
struct MySettingsPage {
    page: PageCtx,
    has_stand_down: bool,
    has_duress: bool,
    /// Which form was refused, and why.
    refused: String,
    error: Option<String>,
}

async fn my_settings_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    flash: Option<&str>,
    refused: &str,
    error: Option<String>,
) -> AppResult<MySettingsPage> {
    let profile = store::profile(&st.db, p.user_id).await?.unwrap_or_default();
    let mut page = PageCtx::new(ctx, "alarm-settings-title");
    if let Some(f) = flash {
        page = page.with_flash(f);
    }
    Ok(MySettingsPage {
        page,
        has_stand_down: profile.stand_down_pin_hash.is_some(),
        has_duress: profile.duress_pin_hash.is_some(),
        refused: refused.to_owned(),
        error,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DoneQuery {
    done: String,
}

async fn my_settings_page(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    p.require(Action::AlarmRaise)?;
    let flash = (q.done == "1").then_some("alarm-pin-saved");
    Ok(render(
        &my_settings_view(&st, &ctx, &p, flash, "", None).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PinForm {
    /// `stand_down` or `duress`.
    which: String,
    /// `set` or `remove`.
    op: String,
    pin: String,
}

/// A PIN is 4 to 8 digits.
fn valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

async fn my_settings_save(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(f): Form<PinForm>,
) -> AppResult<Response> {
    p.require(Action::AlarmRaise)?;
    let duress = match f.which.as_str() {
        "duress" => true,
        "stand_down" => false,
        _ => return Err(AppError::field("which", "err-choice")),
    };
    let profile = store::profile(&st.db, p.user_id).await?.unwrap_or_default();
    let hash = match f.op.as_str() {
        "remove" => None,
        "set" => {
            let pin = f.pin.trim();
            let other = if duress {
                profile.stand_down_pin_hash.as_deref()
            } else {
                profile.duress_pin_hash.as_deref()
            };
            let err = if !valid_pin(pin) {
                Some("alarm-err-pin")
            } else if other.is_some_and(|h| password::verify(pin, h)) {
                Some("alarm-err-pin-same")
            } else {
                None
            };
            if let Some(e) = err {
                let view =
                    my_settings_view(&st, &ctx, &p, None, &f.which, Some(ctx.tr.t(e))).await?;
                return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view));
            }
            Some(password::hash(pin)?)
        }
        _ => return Err(AppError::field("op", "err-choice")),
    };
    let mut tx = st.db.begin().await?;
    store::set_pin(&mut tx, p.user_id, duress, hash).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("alarm.pin", "user", p.user_id)
            .detail(serde_json::json!({"pin": f.which, "op": f.op})),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other("/alarm/settings?done=1"))
}

// ---------------------------------------------------------------------------------- one alarm, as shown

/// An alarm with everything a page shows about it, in the reader's language.
pub struct AlarmView {
    pub id: String,
    pub kind_code: &'static str,
    pub kind: String,
    pub state_code: &'static str,
    pub state: String,
    pub open: bool,
    pub raised: bool,
    pub facility: String,
    pub department: String,
    pub floor: String,
    pub room: String,
    /// Department and room, as one line.
    pub place: String,
    pub who: String,
    pub pressed_local: String,
    pub pressed_iso: String,
    pub ago: String,
    pub map: Option<String>,
    pub coords: String,
    pub escalation: Option<String>,
    pub silent: bool,
    pub ack: String,
    pub scene: String,
    pub outcome: String,
    /// Why the last action on this alarm was refused.
    pub error: Option<String>,
    pub can_act: bool,
    pub can_scene: bool,
    pub police: String,
}

/// `1 min 05 s`, or `—`.
fn duration(tr: Tr, secs: Option<f64>) -> String {
    match secs {
        None => "—".into(),
        Some(s) => {
            let s = s.max(0.0).round() as i64;
            if s < 60 {
                tr.args("alarm-secs", &[("s", &s.to_string())])
            } else {
                tr.args(
                    "alarm-min-secs",
                    &[
                        ("m", &(s / 60).to_string()),
                        ("s", &format!("{:02}", s % 60)),
                    ],
                )
            }
        }
    }
}

/// How long ago, as the page is rendered; the console's script keeps it current.
fn ago(tr: Tr, t: Ts) -> String {
    let s = ((Ts::now().micros() - t.micros()) / 1_000_000).max(0);
    if s < 60 {
        tr.args("alarm-ago-s", &[("n", &s.to_string())])
    } else if s < 3600 {
        tr.args("alarm-ago-m", &[("n", &(s / 60).to_string())])
    } else {
        tr.args(
            "alarm-ago-h",
            &[
                ("h", &(s / 3600).to_string()),
                ("m", &(s % 3600 / 60).to_string()),
            ],
        )
    }
}

fn source_label(tr: Tr, a: &Alarm) -> String {
    tr.args(
        &format!("alarm-source-{}", a.source.code()),
        &[("ref", &a.source_ref)],
    )
}

async fn view(
    st: &AppState,
    tr: Tr,
    p: &Principal,
    names: &mut Names,
    a: Alarm,
    error: Option<String>,
) -> AppResult<AlarmView> {
    let (facility, tz) = match names.facility(st, a.facility_id).await? {
        Some(f) => (f.name.clone(), f.tz.clone()),
        None => (a.facility_id.to_string(), "Asia/Almaty".into()),
    };
    let department = match a.department_id {
        Some(d) => names
            .department(st, d)
            .await?
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        None => String::new(),
    };
    let (ack, scene) = a.response_secs();
    let can_act = a.state.is_open() && p.can(Action::AlarmRespond) && p.scope != Scope::Own;
    let kg = a.region_id.starts_with("KG");
    let place = {
        let parts: Vec<&str> = [department.as_str(), a.room.as_str()]
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            "—".to_owned()
        } else {
            parts.join(", ")
        }
    };
    Ok(AlarmView {
        id: a.id.to_string(),
        kind_code: a.kind.code(),
        kind: tr.t(&format!("alarm-kind-{}", a.kind.code())),
        state_code: a.state.code(),
        state: tr.t(&format!("alarm-state-{}", a.state.code())),
        open: a.state.is_open(),
        raised: a.state == State::Raised,
        facility,
        department,
        floor: a.floor.clone(),
        room: a.room.clone(),
        place,
        who: source_label(tr, &a),
        pressed_local: a.pressed_at.local(&tz),
        pressed_iso: a.pressed_at.rfc3339(),
        ago: ago(tr, a.pressed_at),
        map: match (a.lat, a.lon) {
            (Some(lat), Some(lon)) => Some(format!(
                "https://www.openstreetmap.org/?mlat={lat:.6}&mlon={lon:.6}#map=18/{lat:.6}/{lon:.6}"
            )),
            _ => None,
        },
        coords: match (a.lat, a.lon) {
            (Some(lat), Some(lon)) => format!("{lat:.5}, {lon:.5}"),
            _ => String::new(),
        },
        escalation: (a.escalation_level > 0).then(|| {
            let n = a.escalation_level.to_string();
            match crate::notify::model::Target::parse(&a.escalation_target) {
                Some(t) => tr.args(
                    "alarm-escalated-to",
                    &[("n", &n), ("to", &tr.t(t.label_id()))],
                ),
                None => tr.args("alarm-escalation-level", &[("n", &n)]),
            }
        }),
        silent: a.silent,
        ack: duration(tr, ack),
        scene: duration(tr, scene),
        outcome: a
            .outcome
            .map(|o| tr.t(&format!("alarm-outcome-{}", o.code())))
            .unwrap_or_default(),
        error,
        can_act,
        can_scene: can_act && a.state != State::OnScene,
        police: tr.t(if kg {
            "alarm-service-102-kg"
        } else {
            "alarm-service-102"
        }),
    })
}

fn outcome_options(tr: Tr) -> Vec<Opt> {
    Outcome::ALL
        .iter()
        .map(|o| Opt {
            value: o.code().into(),
            label: tr.t(&format!("alarm-outcome-{}", o.code())),
            selected: false,
        })
        .collect()
}

// ---------------------------------------------------------------------------------- console

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConsoleQuery {
    facility: String,
    /// A security post's id: the console of that post (the alarms it answers).
    post: String,
    /// After an action: which alarm, and the message id of what went wrong (if anything).
    alarm: String,
    err: String,
    done: String,
}

/// The open alarms a console shows: unacknowledged first, then newest first.
struct ConsoleList {
    alarms: Vec<AlarmView>,
    unacked: usize,
    /// "3 alarms wait for acknowledgement".
    banner: String,
    /// Where the action forms come back to.
    back: String,
    done: Option<String>,
    outcomes: Vec<Opt>,
}

async fn console_list(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    q: &ConsoleQuery,
    back: String,
) -> AppResult<ConsoleList> {
    p.require(Action::AlarmView)?;
    let facility = if q.facility.trim().is_empty() {
        None
    } else {
        Some(opt_uuid(&q.facility).ok_or_else(|| AppError::field("facility", "err-invalid"))?)
    };
    let post = if q.post.trim().is_empty() {
        None
    } else {
        Some(opt_uuid(&q.post).ok_or_else(|| AppError::field("post", "err-invalid"))?)
    };
    let lq = ListQuery {
        facility,
        post,
        open_only: true,
        ..Default::default()
    };
    let mut alarms = store::list(&st.db, &p.filter(), None, &lq, 200).await?;
    alarms.sort_by_key(|a| (a.state != State::Raised, std::cmp::Reverse(a.id)));
    let err_for = opt_uuid(&q.alarm);
    let mut names = Names::default();
    let mut out = vec![];
    for a in alarms {
        let error = if Some(a.id) == err_for {
            known_message(ctx.tr, &q.err)
        } else {
            None
        };
        out.push(view(st, ctx.tr, p, &mut names, a, error).await?);
    }
    let unacked = out.iter().filter(|a| a.raised).count();
    Ok(ConsoleList {
        unacked,
        banner: ctx.tr.args("alarm-unacked", &[("n", &unacked.to_string())]),
        alarms: out,
        back,
        done: (q.done == "1").then(|| ctx.tr.t("alarm-act-done")),
        outcomes: outcome_options(ctx.tr),
    })
}

#[derive(Template)]
#[template(path = "alarms/console.html")]
struct ConsolePage {
    page: PageCtx,
    tr: Tr,
    list: ConsoleList,
    facility_options: Vec<Opt>,
    facility: String,
    /// The post whose console this is, if one was chosen.
    post: String,
    post_options: Vec<Opt>,
    /// The feed position the list was read at: the script's stream starts after it.
    seq: i64,
    can_manage: bool,
    msgs: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "alarms/console_list.html")]
struct ConsoleFragment {
    tr: Tr,
    list: ConsoleList,
}

fn console_back(q: &ConsoleQuery) -> String {
    let pairs: Vec<(&str, &str)> = [("facility", q.facility.trim()), ("post", q.post.trim())]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    with_query("/console", &pairs)
}

async fn console_page(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<ConsoleQuery>,
) -> AppResult<Response> {
    p.require(Action::AlarmView)?;
    // Read the position first: anything after it reaches the script's stream.
    let seq = store::last_event_seq(&st.db).await?;
    let list = console_list(&st, &ctx, &p, &q, console_back(&q)).await?;
    let facilities = facilities_in_scope(&st, &p).await?;
    // The posts of the chosen facility (or of the only one): each has a console of its own.
    let post_facility = opt_uuid(&q.facility).or(match facilities.as_slice() {
        [only] => Some(only.id),
        _ => None,
    });
    let mut post_options = vec![];
    if let Some(fid) = post_facility.filter(|f| facilities.iter().any(|x| x.id == *f)) {
        let posts = crate::directory::store::posts(&st.db, fid, false).await?;
        if !posts.is_empty() {
            post_options.push(Opt {
                value: String::new(),
                label: ctx.tr.t("alarm-all-posts"),
                selected: q.post.trim().is_empty(),
            });
            post_options.extend(posts.into_iter().map(|x| Opt {
                selected: x.id.to_string() == q.post.trim(),
                value: x.id.to_string(),
                label: x.name,
            }));
        }
    }
    let facility_options = if facilities.len() > 1 {
        let mut opts = vec![Opt {
            value: String::new(),
            label: ctx.tr.t("alarm-all-facilities"),
            selected: q.facility.is_empty(),
        }];
        opts.extend(facilities.into_iter().map(|f| Opt {
            selected: f.id.to_string() == q.facility.trim(),
            value: f.id.to_string(),
            label: f.name,
        }));
        opts
    } else {
        vec![]
    };
    let t = |id: &str| ctx.tr.t(id);
    let msgs = vec![
        ("live", t("alarm-console-live")),
        ("offline", t("alarm-console-offline")),
        ("new", t("alarm-console-new")),
        ("sound-on", t("alarm-sound-on")),
        ("sound-off", t("alarm-sound-muted")),
        ("ago-s", ctx.tr.args("alarm-ago-s", &[("n", "{n}")])),
        ("ago-m", ctx.tr.args("alarm-ago-m", &[("n", "{n}")])),
        (
            "ago-h",
            ctx.tr.args("alarm-ago-h", &[("h", "{h}"), ("m", "{m}")]),
        ),
    ];
    Ok(render(&ConsolePage {
        page: PageCtx::new(&ctx, "alarm-console-title"),
        tr: ctx.tr,
        list,
        facility_options,
        facility: q.facility.trim().to_owned(),
        post: q.post.trim().to_owned(),
        post_options,
        seq,
        can_manage: p.can(Action::DirectoryManage),
        msgs,
    }))
}

/// The console's list alone, for the script to swap in after each event.
async fn console_fragment(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<ConsoleQuery>,
) -> AppResult<Response> {
    let back = console_back(&q);
    let list = console_list(&st, &ctx, &p, &q, back).await?;
    Ok(render(&ConsoleFragment { tr: ctx.tr, list }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ActForm {
    action: String,
    guards: String,
    service: String,
    text: String,
    outcome: String,
    note: String,
    back: String,
}

/// One responder action from a console or an alarm's page; back to where it came from, with
/// the refusal's message id if it was refused.
async fn act_submit(
    AxState(st): AxState<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(f): Form<ActForm>,
) -> AppResult<Response> {
    let act = match f.action.as_str() {
        "acknowledge" => Ok(Act::Acknowledge),
        "dispatch" => Ok(Act::Dispatch {
            guards: f
                .guards
                .split([',', ';', '\n'])
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
        }),
        "on_scene" => Ok(Act::OnScene),
        "called" => Ok(Act::Called { service: f.service }),
        "note" => Ok(Act::Note { text: f.text }),
        "resolve" => Outcome::parse(&f.outcome)
            .map(|outcome| Act::Resolve {
                outcome,
                note: f.note,
            })
            .ok_or_else(|| AppError::field("outcome", "err-choice")),
        _ => Err(AppError::field("action", "err-choice")),
    };
    let back = safe_next(Some(&f.back));
    let anchor = format!("#alarm-{id}");
    let idtext = id.to_string();
    let result = match act {
        Ok(act) => api::act(AxState(st), p, Path(id), LateJson(Ok(act)))
            .await
            .map(|_| ()),
        Err(e) => {
            // Access first, as the JSON route does: a refusal never hints at the input.
            let _ = api::get_one(AxState(st), p.clone(), Path(id)).await?;
            p.require(Action::AlarmRespond)?;
            Err(e)
        }
    };
    let to = match result {
        Ok(()) => with_query(&back, &[("done", "1"), ("alarm", &idtext)]),
        Err(AppError::Validation(errs)) => {
            let code = errs
                .first()
                .map(|e| e.code.clone())
                .unwrap_or_else(|| "err-invalid".into());
            with_query(&back, &[("err", &code), ("alarm", &idtext)])
        }
        Err(AppError::Conflict(kind)) => with_query(
            &back,
            &[("err", &format!("problem-{kind}")), ("alarm", &idtext)],
        ),
        Err(e) => return Err(e),
    };
    Ok(see_other(&format!("{to}{anchor}")))
}

// ---------------------------------------------------------------------------------- history

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct HistoryForm {
    state: String,
    kind: String,
    facility: String,
    /// A security post's id: only the alarms it answers.
    post: String,
    from: String,
    to: String,
    cursor: String,
}

pub struct StatRow {
    pub name: String,
    /// The history of this post alone.
    pub href: Option<String>,
    pub count: usize,
    pub acked: usize,
    pub ack_median: String,
    pub ack_p90: String,
    pub scene_median: String,
    pub scene_p90: String,
}

#[derive(Template)]
#[template(path = "alarms/history.html")]
struct HistoryPage {
    page: PageCtx,
    f: HistoryForm,
    states: Vec<Opt>,
    kinds: Vec<Opt>,
    facilities: Vec<Opt>,
    errors: Vec<FieldError>,
    rows: Vec<AlarmView>,
    stats: Vec<StatRow>,
    /// The summary read only the newest alarms of a larger set.
    capped: bool,
    next_page: Option<String>,
    first_page: Option<String>,
    /// The zone the dates are read in.
    dates_hint: String,
}

impl HistoryPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// The value at quantile `q` (0..=1) of sorted `v`, by the nearest-rank method.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Seconds from the press to acknowledgement and to arrival, when they happened.
type Times = (Option<f64>, Option<f64>);

fn stat_row(tr: Tr, name: String, times: &[Times]) -> StatRow {
    let acks = sorted(times.iter().filter_map(|t| t.0).collect());
    let scenes = sorted(times.iter().filter_map(|t| t.1).collect());
    StatRow {
        name,
        href: None,
        count: times.len(),
        acked: acks.len(),
        ack_median: duration(tr, percentile(&acks, 0.5)),
        ack_p90: duration(tr, percentile(&acks, 0.9)),
        scene_median: duration(tr, percentile(&scenes, 0.5)),
        scene_p90: duration(tr, percentile(&scenes, 0.9)),
    }
}

/// The zone the history's dates are read in: the chosen facility's, else the one all the
/// facilities in scope share, else the first one's.
fn history_zone(facilities: &[Facility], chosen: Option<Uuid>) -> String {
    if let Some(f) = chosen.and_then(|c| facilities.iter().find(|f| f.id == c)) {
        return f.tz.clone();
    }
    facilities
        .first()
        .map(|f| f.tz.clone())
        .unwrap_or_else(|| "Asia/Almaty".into())
}

fn day_start(date: jiff::civil::Date, tz: &str) -> Option<Ts> {
    let zone = jiff::tz::TimeZone::get(tz).ok()?;
    let z = date.to_zoned_datetime(zone).ok()?;
    Some(Ts::from_micros(z.timestamp().as_microsecond()))
}

async fn history_page(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<HistoryForm>,
) -> AppResult<Response> {
    let tr = ctx.tr;
    // An own-scope account sees only her own presses, as the JSON list does.
    let (scope, own) = if p.scope == Scope::Own {
        (ScopeFilter::default(), Some(p.user_id))
    } else {
        p.require(Action::AlarmView)?;
        (p.filter(), None)
    };
    let facilities = facilities_in_scope(&st, &p).await?;
    let mut errors = vec![];
    let mut q = HistoryQuery {
        hide_duress: own.is_some(),
        ..Default::default()
    };
    match f.state.as_str() {
        "" => {}
        "open" => q.open_only = true,
        s => match State::parse(s) {
            Some(s) => q.state = Some(s),
            None => errors.push(FieldError::new("state", "err-choice")),
        },
    }
    match f.kind.as_str() {
        "" => {}
        k => match Kind::parse(k) {
            Some(k) => q.kind = Some(k),
            None => errors.push(FieldError::new("kind", "err-choice")),
        },
    }
    if !f.facility.trim().is_empty() {
        match opt_uuid(&f.facility) {
            Some(id) => q.facility = Some(id),
            None => errors.push(FieldError::new("facility", "err-choice")),
        }
    }
    if !f.post.trim().is_empty() {
        match opt_uuid(&f.post) {
            Some(id) => q.post = Some(id),
            None => errors.push(FieldError::new("post", "err-choice")),
        }
    }
    let zone = history_zone(&facilities, q.facility);
    for (field, value) in [("from", &f.from), ("to", &f.to)] {
        if value.trim().is_empty() {
            continue;
        }
        match parse_date(value.trim()) {
            Some(d) => {
                let d = if field == "to" {
                    d.tomorrow().ok()
                } else {
                    Some(d)
                };
                let t = d.and_then(|d| day_start(d, &zone));
                if field == "from" {
                    q.from = t;
                } else {
                    q.to = t;
                }
            }
            None => errors.push(FieldError::new(field, "err-date")),
        }
    }
    if let (Some(a), Some(b)) = (q.from, q.to)
        && b <= a
    {
        errors.push(FieldError::new("to", "alarm-err-range"));
    }
    let before = match f.cursor.trim() {
        "" => None,
        c => match Uuid::parse_str(c) {
            Ok(u) => Some(u),
            Err(_) => {
                errors.push(FieldError::new("cursor", "err-invalid"));
                None
            }
        },
    };
    let states = {
        let mut v = vec![
            (String::new(), tr.t("alarm-any")),
            ("open".to_owned(), tr.t("alarm-state-open")),
        ];
        v.extend(
            [
                State::Raised,
                State::Acknowledged,
                State::Dispatched,
                State::OnScene,
                State::Resolved,
            ]
            .iter()
            .map(|s| {
                (
                    s.code().to_owned(),
                    tr.t(&format!("alarm-state-{}", s.code())),
                )
            }),
        );
        v.into_iter()
            .map(|(value, label)| Opt {
                selected: value == f.state,
                value,
                label,
            })
            .collect()
    };
    let kinds = {
        let mut v = vec![(String::new(), tr.t("alarm-any"))];
        v.extend(
            [Kind::Panic, Kind::Duress, Kind::PanelSilent]
                .iter()
                .filter(|k| own.is_none() || **k != Kind::Duress)
                .map(|k| {
                    (
                        k.code().to_owned(),
                        tr.t(&format!("alarm-kind-{}", k.code())),
                    )
                }),
        );
        v.into_iter()
            .map(|(value, label)| Opt {
                selected: value == f.kind,
                value,
                label,
            })
            .collect()
    };
    let facility_opts = if facilities.len() > 1 {
        let mut v = vec![Opt {
            value: String::new(),
            label: tr.t("alarm-all-facilities"),
            selected: f.facility.is_empty(),
        }];
        v.extend(facilities.iter().map(|x| Opt {
            value: x.id.to_string(),
            label: x.name.clone(),
            selected: x.id.to_string() == f.facility.trim(),
        }));
        v
    } else {
        vec![]
    };
    let mut page = HistoryPage {
        page: PageCtx::new(&ctx, "alarm-history-title"),
        f: f.clone(),
        states,
        kinds,
        facilities: facility_opts,
        errors: vec![],
        rows: vec![],
        stats: vec![],
        capped: false,
        next_page: None,
        first_page: None,
        dates_hint: tr.args("alarm-dates-hint", &[("zone", &zone)]),
    };
    if !errors.is_empty() {
        translate_errors(tr, &mut errors);
        page.errors = errors;
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let mut alarms = store::history(&st.db, &scope, own, &q, before, HISTORY_PAGE + 1).await?;
    let more = alarms.len() as i64 > HISTORY_PAGE;
    alarms.truncate(HISTORY_PAGE as usize);
    let link = |cursor: Option<Uuid>| {
        let mut pairs: Vec<(&str, String)> = vec![];
        for (k, v) in [
            ("state", &f.state),
            ("kind", &f.kind),
            ("facility", &f.facility),
            ("from", &f.from),
            ("to", &f.to),
        ] {
            if !v.trim().is_empty() {
                pairs.push((k, v.trim().to_owned()));
            }
        }
        if let Some(c) = cursor {
            pairs.push(("cursor", c.to_string()));
        }
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        with_query("/alarms", &refs)
    };
    if more {
        page.next_page = alarms.last().map(|a| link(Some(a.id)));
    }
    if before.is_some() {
        page.first_page = Some(link(None));
    }
    let mut names = Names::default();
    for x in &facilities {
        names.facilities.insert(x.id, x.clone());
    }
    for a in alarms {
        page.rows
            .push(view(&st, tr, &p, &mut names, a, None).await?);
    }
    // Response times over the whole filtered set, per security post and in all.
    let times = store::response_times(&st.db, &scope, own, &q, STATS_CAP + 1).await?;
    page.capped = times.len() as i64 > STATS_CAP;
    let times = &times[..times.len().min(STATS_CAP as usize)];
    if !times.is_empty() {
        let mut by: HashMap<(Uuid, Option<Uuid>), Vec<Times>> = HashMap::new();
        for r in times {
            by.entry((r.facility, r.post))
                .or_default()
                .push((r.ack_secs, r.on_scene_secs));
        }
        let mut rows = vec![];
        for ((fac, post), t) in by {
            let facility = match names.facility(&st, fac).await? {
                Some(x) => x.name.clone(),
                None => fac.to_string(),
            };
            let post_name = match post {
                Some(id) => crate::directory::store::post_by_id(&st.db, id)
                    .await?
                    .map(|x| x.name),
                None => None,
            }
            .unwrap_or_else(|| tr.t("alarm-no-post"));
            let mut row = stat_row(tr, format!("{post_name} — {facility}"), &t);
            row.href = post.map(|id| with_query("/alarms", &[("post", &id.to_string())]));
            rows.push(row);
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        if rows.len() > 1 {
            let all: Vec<_> = times
                .iter()
                .map(|r| (r.ack_secs, r.on_scene_secs))
                .collect();
            rows.push(stat_row(tr, tr.t("alarm-all-posts"), &all));
        }
        page.stats = rows;
    }
    Ok(render(&page))
}

// ---------------------------------------------------------------------------------- one alarm

pub struct EventView {
    pub at: String,
    pub actor: String,
    pub what: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "alarms/alarm.html")]
struct AlarmPage {
    page: PageCtx,
    tr: Tr,
    v: AlarmView,
    events: Vec<EventView>,
    back: String,
    outcomes: Vec<Opt>,
    done: Option<String>,
    /// For the person who pressed, after the alarm is resolved: the report it drafts.
    report_draft: Option<String>,
}

fn event_view(tr: Tr, e: &AlarmEvent, tz: &str, kg: bool) -> EventView {
    let d = &e.detail;
    let text = |k: &str| d[k].as_str().unwrap_or("").to_owned();
    let id = format!("alarm-event-{}", e.kind);
    let what = if I18n::has(Lang::En, &id) {
        tr.t(&id)
    } else {
        e.kind.clone()
    };
    let detail = match e.kind.as_str() {
        "raised" => {
            let mut parts = vec![];
            if let Some(k) = d["kind"].as_str().and_then(Kind::parse) {
                parts.push(tr.t(&format!("alarm-kind-{}", k.code())));
            }
            if d["silent"].as_bool() == Some(true) {
                parts.push(tr.t("alarm-silent"));
            }
            parts.join(", ")
        }
        "dispatched" => d["guards"]
            .as_array()
            .map(|g| {
                g.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        "called" => match text("service").as_str() {
            "102" if kg => tr.t("alarm-service-102-kg"),
            "102" => tr.t("alarm-service-102"),
            "103" => tr.t("alarm-service-103"),
            "112" => tr.t("alarm-service-112"),
            other => other.to_owned(),
        },
        "note" => text("text"),
        "resolved" => {
            let outcome = Outcome::parse(&text("outcome"))
                .map(|o| tr.t(&format!("alarm-outcome-{}", o.code())))
                .unwrap_or_default();
            let note = text("note");
            if note.trim().is_empty() {
                outcome
            } else {
                format!("{outcome}: {note}")
            }
        }
        "escalated" => {
            let n = d["level"].as_i64().unwrap_or(0).to_string();
            match d["to"]
                .as_str()
                .and_then(crate::notify::model::Target::parse)
            {
                Some(t) => tr.args(
                    "alarm-escalated-to",
                    &[("n", &n), ("to", &tr.t(t.label_id()))],
                ),
                None => tr.args("alarm-escalation-level", &[("n", &n)]),
            }
        }
        _ => String::new(),
    };
    EventView {
        at: e.at.local(tz),
        actor: e.actor.clone(),
        what,
        detail,
    }
}

async fn alarm_page(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<ConsoleQuery>,
) -> AppResult<Response> {
    // The same rule as the JSON route: the responders in scope, or the person who pressed.
    let axum::Json(a) = api::get_one(AxState(st.clone()), p.clone(), Path(id)).await?;
    if p.scope == Scope::Own && a.kind == Kind::Duress {
        return Err(AppError::NotFound);
    }
    let mut names = Names::default();
    let tz = names
        .facility(&st, a.facility_id)
        .await?
        .map(|f| f.tz.clone())
        .unwrap_or_else(|| "Asia/Almaty".into());
    let kg = a.region_id.starts_with("KG");
    let events = store::events_for(&st.db, a.id)
        .await?
        .iter()
        .map(|e| event_view(ctx.tr, e, &tz, kg))
        .collect();
    let error = if opt_uuid(&q.alarm) == Some(a.id) {
        known_message(ctx.tr, &q.err)
    } else {
        None
    };
    // Once resolved, the person who pressed is offered the report it leaves as a draft.
    let report_draft = (a.pressed_by == Some(p.user_id)
        && a.state == State::Resolved
        && a.kind != Kind::Duress
        && p.can(Action::ReportSubmit))
    .then(|| format!("/reports/new?alarm={}", a.id));
    let v = view(&st, ctx.tr, &p, &mut names, a, error).await?;
    Ok(render(&AlarmPage {
        page: PageCtx::new(&ctx, "alarm-one-title"),
        tr: ctx.tr,
        report_draft,
        back: format!("/alarms/{}", v.id),
        v,
        events,
        outcomes: outcome_options(ctx.tr),
        done: (q.done == "1").then(|| ctx.tr.t("alarm-act-done")),
    }))
}

// ---------------------------------------------------------------------------------- hold time per facility

pub struct HoldRow {
    pub id: String,
    pub name: String,
    pub current: String,
    pub options: Vec<Opt>,
    /// Whether the facility set its own escalation steps.
    pub custom_policy: bool,
    pub steps: Vec<StepRow>,
    /// Errors about the policy as a whole (the number of steps).
    pub policy_errors: Vec<String>,
}

/// One line of the escalation form: there are always six, unused ones left blank.
pub struct StepRow {
    pub n: usize,
    pub after_secs: String,
    pub targets: Vec<Opt>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "alarms/button_settings.html")]
struct ButtonSettingsPage {
    page: PageCtx,
    rows: Vec<HoldRow>,
}

fn step_rows(tr: Tr, entered: &[(String, String)]) -> Vec<StepRow> {
    use crate::notify::model::{MAX_STEPS, Target};
    (0..MAX_STEPS)
        .map(|i| {
            let (secs, target) = entered.get(i).cloned().unwrap_or_default();
            let mut targets = vec![Opt {
                value: String::new(),
                label: tr.t("notify-policy-no-step"),
                selected: target.is_empty(),
            }];
            targets.extend(Target::ALL.iter().map(|t| Opt {
                value: t.code().to_owned(),
                label: tr.t(t.label_id()),
                selected: t.code() == target,
            }));
            StepRow {
                n: i + 1,
                after_secs: secs,
                targets,
                errors: vec![],
            }
        })
        .collect()
}

/// A facility's escalation form as sent (seconds and target per line) and its translated errors.
struct RefusedPolicy {
    facility: Uuid,
    entered: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

/// The settings page; `refused` carries a facility's form as sent and its translated errors.
async fn button_settings_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    page: PageCtx,
    refused: Option<RefusedPolicy>,
) -> AppResult<ButtonSettingsPage> {
    let mut rows = vec![];
    for f in facilities_in_scope(st, p).await? {
        let ms = hold_ms_for(st, Some(f.id)).await?;
        let policy = crate::notify::api::policy_of(st, f.id).await?;
        let mut policy_errors = vec![];
        let steps = match &refused {
            Some(r) if r.facility == f.id => {
                let mut rows = step_rows(ctx.tr, &r.entered);
                for e in &r.errors {
                    let row = e
                        .field
                        .strip_prefix("steps[")
                        .and_then(|r| r.split(']').next())
                        .and_then(|i| i.parse::<usize>().ok());
                    match row.and_then(|i| rows.get_mut(i)) {
                        Some(r) => r.errors.push(e.message.clone()),
                        None => policy_errors.push(e.message.clone()),
                    }
                }
                rows
            }
            _ => {
                let entered: Vec<(String, String)> = policy
                    .steps
                    .iter()
                    .map(|s| (s.after_secs.to_string(), s.target.code().to_owned()))
                    .collect();
                step_rows(ctx.tr, &entered)
            }
        };
        rows.push(HoldRow {
            id: f.id.to_string(),
            name: f.name,
            current: hold_label(ctx.tr, ms),
            options: HOLD_CHOICES
                .iter()
                .map(|c| Opt {
                    value: c.to_string(),
                    label: hold_label(ctx.tr, *c),
                    selected: *c == ms,
                })
                .collect(),
            custom_policy: policy.custom,
            steps,
            policy_errors,
        });
    }
    Ok(ButtonSettingsPage { page, rows })
}

async fn button_settings_page(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    p.require(Action::DirectoryManage)?;
    let mut page = PageCtx::new(&ctx, "alarm-hold-title");
    if q.done == "1" {
        page = page.with_flash("alarm-hold-saved");
    } else if q.done == "policy" {
        page = page.with_flash("notify-policy-saved");
    }
    Ok(render(
        &button_settings_view(&st, &ctx, &p, page, None).await?,
    ))
}

/// Saves a facility's escalation steps from the settings form: six lines, blank ones skipped.
async fn policy_save(
    AxState(st): AxState<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(facility): Path<Uuid>,
    Form(f): Form<HashMap<String, String>>,
) -> AppResult<Response> {
    crate::notify::api::managed_facility(&st, &p, facility).await?;
    let entered: Vec<(String, String)> = (0..crate::notify::model::MAX_STEPS)
        .map(|i| {
            let get = |k: &str| f.get(&format!("{k}_{i}")).cloned().unwrap_or_default();
            (get("after_secs").trim().to_owned(), get("target"))
        })
        .collect();
    // Validation numbers the steps sent; remember which form line each one was.
    let used: Vec<usize> = (0..entered.len())
        .filter(|i| !entered[*i].1.is_empty() || !entered[*i].0.is_empty())
        .collect();
    let steps: Vec<crate::notify::model::StepInput> = used
        .iter()
        .map(|i| crate::notify::model::StepInput {
            after_secs: entered[*i].0.parse().unwrap_or(0),
            target: entered[*i].1.clone(),
        })
        .collect();
    match crate::notify::api::save_policy(&st, &p, facility, &steps).await {
        Ok(_) => Ok(see_other(&format!(
            "/console/settings?done=policy#policy-h-{facility}"
        ))),
        Err(AppError::Validation(mut errors)) => {
            translate_errors(ctx.tr, &mut errors);
            for e in &mut errors {
                if let Some(rest) = e.field.strip_prefix("steps[")
                    && let Some((i, tail)) = rest.split_once(']')
                    && let Some(line) = i.parse::<usize>().ok().and_then(|i| used.get(i))
                {
                    e.field = format!("steps[{line}]{tail}");
                }
            }
            let page = PageCtx::new(&ctx, "alarm-hold-title");
            let view = button_settings_view(
                &st,
                &ctx,
                &p,
                page,
                Some(RefusedPolicy {
                    facility,
                    entered,
                    errors,
                }),
            )
            .await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HoldForm {
    hold_ms: String,
}

async fn button_settings_save(
    AxState(st): AxState<AppState>,
    p: Principal,
    Path(facility): Path<Uuid>,
    Form(f): Form<HoldForm>,
) -> AppResult<Response> {
    p.require(Action::DirectoryManage)?;
    let fac = crate::directory::store::facility_by_id(&st.db, facility)
        .await?
        .ok_or(AppError::NotFound)?;
    p.check(Action::DirectoryManage, &fac.place())?;
    let ms = f
        .hold_ms
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|m| HOLD_CHOICES.contains(m))
        .ok_or_else(|| AppError::field("hold_ms", "err-choice"))?;
    let actor = Actor::of(&p);
    let mut tx = st.db.begin().await?;
    store::set_hold_ms(&mut tx, facility, ms, &actor.label).await?;
    audit::append(
        &mut tx,
        &actor,
        Event::new("alarm.button_settings", "facility", facility)
            .detail(serde_json::json!({"hold_ms": ms})),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other("/console/settings?done=1"))
}

// ---------------------------------------------------------------------------------- the installable app

const SERVICE_WORKER: &str = include_str!("../../static/sw.js");

/// The service worker, served from the root so that its scope is the whole site.
async fn service_worker() -> Response {
    let mut r = SERVICE_WORKER.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LangQuery {
    lang: String,
}

/// The web app manifest, in the language asked for (a manifest is fetched without cookies).
async fn manifest(ctx: Ctx, Query(q): Query<LangQuery>) -> Response {
    let tr = Lang::parse(&q.lang).map(Tr::new).unwrap_or(ctx.tr);
    let body = serde_json::json!({
        "name": tr.t("alarm-app-name"),
        "short_name": tr.t("app-name"),
        "description": tr.t("alarm-app-description"),
        "lang": tr.code(),
        "id": "/alarm",
        "start_url": "/alarm",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#b42318",
        "icons": [
            {"src": "/static/alarm-icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
            {"src": "/static/alarm-icon-maskable.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "maskable"}
        ]
    });
    let mut r = body.to_string().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/manifest+json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&v, 1.0), Some(10.0));
        assert_eq!(percentile(&[7.0], 0.9), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1.0, 2.0], 0.0), Some(1.0));
    }

    #[test]
    fn query_is_added_before_the_fragment() {
        assert_eq!(with_query("/console", &[("a", "1")]), "/console?a=1");
        assert_eq!(
            with_query("/console?facility=x#top", &[("err", "err-x y")]),
            "/console?facility=x&err=err-x%20y#top"
        );
    }

    #[test]
    fn pins_are_four_to_eight_digits() {
        assert!(valid_pin("1234"));
        assert!(valid_pin("12345678"));
        assert!(!valid_pin("123"));
        assert!(!valid_pin("123456789"));
        assert!(!valid_pin("12a4"));
        assert!(!valid_pin("١٢٣٤"));
    }

    #[test]
    fn only_our_messages_come_back_from_a_redirect() {
        let tr = Tr::new(Lang::En);
        assert!(known_message(tr, "err-required").is_some());
        assert!(known_message(tr, "<script>").is_none());
        assert!(known_message(tr, "nav-home").is_none());
    }
}
