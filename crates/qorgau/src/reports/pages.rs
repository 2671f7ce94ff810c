//! Report pages: the form, her reports and each report's page with its classification and
//! access log, and the calendar an administrator extends.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::platform::access::{Action, Principal, Role};
use crate::platform::error::{AppError, AppResult, FieldError, translate_errors};
use crate::platform::extract::{Form, LateJson, Query};
use crate::platform::i18n::Tr;
use crate::platform::state::AppState;
use crate::platform::web::{Ctx, PageCtx, render};
use uuid::Uuid;

use crate::reports::api;
use crate::reports::calendar::{self, CalendarDayInput};
use crate::reports::classify::DayKind;
use crate::reports::model::{
    AccessEntry, Message, Mode, Relation, Report, ReportInput, TAXONOMY, WISHES,
};
use crate::reports::service::{self, Reader};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list_page))
        .route("/reports/new", get(new_page).post(new_submit))
        .route("/reports/{id}", get(report_page))
        .route("/reports/{id}/messages", post(message_submit))
        .route(
            "/report-anonymously/messages",
            post(anonymous_message_submit),
        )
        .route(
            "/report-anonymously/consent",
            post(anonymous_consent_submit),
        )
        .route(
            "/report-anonymously",
            get(anonymous_page).post(anonymous_submit),
        )
        .route(
            "/report-anonymously/lookup",
            get(lookup_page).post(lookup_submit),
        )
        .route(
            "/admin/calendars/{country}",
            get(calendar_page).post(calendar_put),
        )
        .route(
            "/admin/calendars/{country}/{day}/delete",
            post(calendar_delete),
        )
}

pub fn day_kind_name(k: DayKind, tr: Tr) -> String {
    tr.t(&format!("rep-kind-{}", k.code()))
}

pub struct DayRow {
    pub day: String,
    pub weekday: String,
    pub kind: String,
    pub name: String,
    /// Only an administrator's own entries can be removed.
    pub local: bool,
}

#[derive(Template)]
#[template(path = "reports/calendar.html")]
struct CalendarPage {
    page: PageCtx,
    country: String,
    countries: Vec<(&'static str, String, bool)>,
    year: i16,
    rows: Vec<DayRow>,
    kinds: Vec<(&'static str, String)>,
    input: CalendarDayInput,
    errors: Vec<FieldError>,
}

impl CalendarPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CalendarQuery {
    year: Option<i16>,
    done: String,
}

async fn calendar_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    code: &str,
    year: Option<i16>,
    input: CalendarDayInput,
    errors: Vec<FieldError>,
) -> AppResult<CalendarPage> {
    let list = api::list_calendar(
        State(st.clone()),
        p.clone(),
        Path(code.to_owned()),
        Query(api::YearQuery { year: None }),
    )
    .await?
    .0;
    let year = year.unwrap_or_else(|| jiff::ZonedDateTime::now().year());
    let tr = ctx.tr;
    let country = code.to_ascii_uppercase();
    let rows = list
        .into_iter()
        .filter(|d| d.day.year() == year)
        .map(|d| DayRow {
            day: d.day.to_string(),
            weekday: tr.t(&format!(
                "dir-weekday-{}",
                d.day.weekday().to_monday_one_offset()
            )),
            kind: day_kind_name(d.kind, tr),
            name: d.name,
            local: d.source == "local",
        })
        .collect();
    Ok(CalendarPage {
        page: PageCtx::new(ctx, "rep-calendar-title"),
        countries: calendar::COUNTRIES
            .iter()
            .map(|c| {
                (
                    *c,
                    tr.t(&format!("dir-country-{}", c.to_lowercase())),
                    *c == country,
                )
            })
            .collect(),
        country,
        year,
        rows,
        kinds: DayKind::ALL
            .iter()
            .map(|k| (k.code(), day_kind_name(*k, tr)))
            .collect(),
        input,
        errors,
    })
}

async fn calendar_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(code): Path<String>,
    Query(q): Query<CalendarQuery>,
) -> AppResult<Response> {
    p.require(Action::CalendarManage)?;
    let mut view = calendar_view(&st, &ctx, &p, &code, q.year, Default::default(), vec![]).await?;
    if q.done == "saved" || q.done == "deleted" {
        view.page = view.page.with_flash(&format!("rep-done-{}", q.done));
    }
    Ok(render(&view))
}

type Values = HashMap<String, String>;

fn value(v: &Values, k: &str) -> String {
    v.get(k).cloned().unwrap_or_default()
}

async fn calendar_put(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(code): Path<String>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = CalendarDayInput {
        day: value(&v, "day"),
        kind: value(&v, "kind"),
        name: value(&v, "name"),
    };
    let r = api::put_calendar_day(
        State(st.clone()),
        p.clone(),
        Path((code.clone(), input.day.clone())),
        LateJson(Ok(input.clone())),
    )
    .await;
    match r {
        Ok(saved) => Ok(Redirect::to(&format!(
            "/admin/calendars/{}?year={}&done=saved",
            saved.0.country,
            saved.0.day.year()
        ))
        .into_response()),
        Err(AppError::Validation(mut errors)) => {
            translate_errors(ctx.tr, &mut errors);
            let year = crate::platform::validate::parse_date(input.day.trim()).map(|d| d.year());
            let view = calendar_view(&st, &ctx, &p, &code, year, input, errors).await?;
            Ok(crate::platform::web::render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &view,
            ))
        }
        Err(e) => Err(e),
    }
}

async fn calendar_delete(
    State(st): State<AppState>,
    p: Principal,
    Path((code, day)): Path<(String, String)>,
) -> AppResult<Response> {
    api::delete_calendar_day(State(st), p, Path((code.clone(), day.clone()))).await?;
    let year = crate::platform::validate::parse_date(day.trim()).map_or(0, |d| d.year());
    Ok(Redirect::to(&format!(
        "/admin/calendars/{}?year={year}&done=deleted",
        code.to_ascii_uppercase()
    ))
    .into_response())
}

// ----------------------------------------------------------------------------------- reports

/// A choice on the form: value, label, chosen.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

fn choices<'a>(items: impl Iterator<Item = (&'a str, String)>, chosen: &[String]) -> Vec<Choice> {
    items
        .map(|(v, label)| Choice {
            value: v.to_owned(),
            label,
            checked: chosen.iter().any(|c| c == v),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "reports/new.html")]
struct NewPage {
    page: PageCtx,
    modes: Vec<Choice>,
    types: Vec<Choice>,
    perpetrators: Vec<Choice>,
    severities: Vec<Choice>,
    places: Vec<Choice>,
    wishes: Vec<Choice>,
    input: ReportInput,
    sick_leave: String,
    errors: Vec<FieldError>,
    /// The anonymous form: no mode, a facility to choose, a passphrase, another address.
    anonymous: bool,
    /// Self, witness, and for a union representative, on a member's behalf.
    relations: Vec<Choice>,
    /// The key her autosaved draft is encrypted with on her device (`static/report-draft.js`);
    /// empty on the anonymous form, whose draft lives in the tab only.
    draft_key: String,
    /// Whether a saved draft may fill the form (a fresh form, not the server's answer).
    draft_restore: bool,
    /// This form's Idempotency-Key, sent back with it.
    form_key: String,
    facilities: Vec<Choice>,
}

impl NewPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn new_view(ctx: &Ctx, input: ReportInput, errors: Vec<FieldError>) -> NewPage {
    let tr = ctx.tr;
    let lang = tr.lang;
    let t = &*TAXONOMY;
    let one = |s: &str| vec![s.to_owned()];
    let mode = if input.mode.is_empty() {
        Mode::Named.code().to_owned()
    } else {
        input.mode.clone()
    };
    NewPage {
        page: PageCtx::new(ctx, "rep-new-title"),
        modes: choices(
            [Mode::Named, Mode::Confidential]
                .iter()
                .map(|m| (m.code(), tr.t(&format!("rep-mode-{}", m.code())))),
            &one(&mode),
        ),
        types: choices(
            t.incident_types
                .iter()
                .map(|x| (x.id.as_str(), x.name(lang).to_owned())),
            &input.types,
        ),
        perpetrators: choices(
            t.perpetrators
                .iter()
                .map(|x| (x.id.as_str(), x.name(lang).to_owned())),
            &one(&input.perpetrator),
        ),
        severities: choices(
            t.severities.iter().enumerate().map(|(i, x)| {
                (
                    ["0", "1", "2", "3", "4", "5"]
                        .get(i)
                        .copied()
                        .unwrap_or("0"),
                    x.name(lang).to_owned(),
                )
            }),
            &one(&input.severity.unwrap_or(0).to_string()),
        ),
        places: choices(
            t.places
                .iter()
                .map(|x| (x.id.as_str(), x.name(lang).to_owned())),
            &one(&input.place),
        ),
        wishes: choices(
            WISHES.iter().map(|w| (*w, tr.t(&format!("rep-wish-{w}")))),
            &input.wishes,
        ),
        sick_leave: input
            .sick_leave_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
        relations: choices(
            Relation::ALL
                .iter()
                .filter(|r| {
                    **r != Relation::Representative
                        || ctx.principal().is_some_and(|p| p.role == Role::UnionRep)
                })
                .map(|r| (r.code(), tr.t(&format!("rep-relation-{}", r.code())))),
            &one(if input.relation.is_empty() {
                "self"
            } else {
                &input.relation
            }),
        ),
        draft_restore: errors.is_empty() && input.alarm_id.is_none(),
        form_key: Uuid::new_v4().to_string(),
        draft_key: String::new(),
        input,
        errors,
        anonymous: false,
        facilities: vec![],
    }
}

/// The key of her drafts on her devices: derived from her owner tag (an HMAC of the account
/// under a key in the data directory), so nobody else can compute it, and never stored.
fn draft_key(st: &AppState, p: &Principal) -> AppResult<String> {
    use base64::Engine;
    use sha2::Digest;
    let tag = service::owner_tag(st, p.user_id)?;
    let key = sha2::Sha256::digest(format!("qorgau-draft-v1:{tag}").as_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(key))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    /// A resolved alarm whose draft this report starts from.
    alarm: String,
}

async fn new_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    p.require(Action::ReportSubmit)?;
    let input = match q.alarm.trim() {
        "" => ReportInput::default(),
        id => alarm_draft(&st, &ctx, &p, id).await?,
    };
    let mut view = new_view(&ctx, input, vec![]);
    view.draft_key = draft_key(&st, &p)?;
    Ok(render(&view))
}

/// The alarm, as its presser (or a responder in scope) may see it; 404 otherwise.
async fn visible_alarm(
    st: &AppState,
    p: &Principal,
    id: Uuid,
) -> AppResult<crate::alarms::model::Alarm> {
    let axum::Json(a) = crate::alarms::api::get_one(State(st.clone()), p.clone(), Path(id)).await?;
    Ok(a)
}

/// The draft a resolved alarm leaves: time and place of the press, the link to the alarm, and a
/// first line naming the responders and the outcome, which she may keep, change or delete.
async fn alarm_draft(st: &AppState, ctx: &Ctx, p: &Principal, id: &str) -> AppResult<ReportInput> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let a = visible_alarm(st, p, id).await?;
    let tz = crate::directory::store::facility_by_id(&st.db, a.facility_id)
        .await?
        .map(|f| f.tz)
        .unwrap_or_else(|| "Asia/Almaty".into());
    let mut d = service::draft_from_alarm(&a, &tz);
    let mut guards: Vec<String> = vec![];
    for e in crate::alarms::store::events_for(&st.db, a.id).await? {
        if e.kind == "dispatched"
            && let Some(list) = e.detail["guards"].as_array()
        {
            guards.extend(list.iter().filter_map(|g| g.as_str()).map(str::to_owned));
        }
    }
    let outcome = a
        .outcome
        .map(|o| ctx.tr.t(&format!("alarm-outcome-{}", o.code())))
        .unwrap_or_else(|| "—".into());
    let guards = if guards.is_empty() {
        "—".to_owned()
    } else {
        guards.join(", ")
    };
    d.narrative = ctx.tr.args(
        "rep-draft-from-alarm",
        &[("outcome", outcome.as_str()), ("guards", guards.as_str())],
    );
    Ok(d)
}

/// The form's fields; repeated names (types, wishes) come as several pairs.
fn form_input(pairs: &[(String, String)]) -> (ReportInput, Vec<FieldError>) {
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let many = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let mut errors = vec![];
    let mut number = |k: &str| -> Option<u32> {
        let v = one(k);
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        let n = v.parse().ok();
        if n.is_none() {
            errors.push(FieldError::new(k, "err-invalid"));
        }
        n
    };
    let severity = number("severity").map(|n| u8::try_from(n).unwrap_or(u8::MAX));
    let sick_leave_days = number("sick_leave_days");
    let input = ReportInput {
        mode: one("mode"),
        types: many("types"),
        perpetrator: one("perpetrator"),
        severity,
        injury: one("injury") == "true",
        sick_leave_days,
        psychological_harm: one("psychological_harm") == "true",
        witnesses: one("witnesses"),
        facility_id: Uuid::parse_str(one("facility_id").trim()).ok(),
        department_id: None,
        place: one("place"),
        occurred_local: one("occurred_local"),
        wishes: many("wishes"),
        narrative: one("narrative"),
        alarm_id: match one("alarm_id").trim() {
            "" => None,
            a => match Uuid::parse_str(a) {
                Ok(a) => Some(a),
                Err(_) => {
                    errors.push(FieldError::new("alarm_id", "err-invalid"));
                    None
                }
            },
        },
        related: vec![],
        relation: one("relation"),
        consent_record: one("consent_record"),
    };
    (input, errors)
}

async fn new_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (input, mut errors) = form_input(&pairs);
    // Only an alarm she may see can be linked (her own press, or one in her scope).
    if let Some(a) = input.alarm_id
        && visible_alarm(&st, &p, a).await.is_err()
    {
        errors.push(FieldError::new("alarm_id", "err-choice"));
    }
    // The form carries its own key: sending it again on a bad network finds the first report.
    let key = pairs
        .iter()
        .find(|(n, _)| n == "idempotency_key")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|k| !k.is_empty() && k.len() <= 100);
    let r = if errors.is_empty() {
        service::submit(&st, &p, &input, key.as_deref()).await
    } else {
        Err(AppError::Validation(errors))
    };
    match r {
        Ok((report, _)) => {
            Ok(Redirect::to(&format!("/reports/{}?done=filed", report.id)).into_response())
        }
        Err(AppError::Validation(mut errors)) => {
            translate_errors(ctx.tr, &mut errors);
            let mut view = new_view(&ctx, input, errors);
            view.draft_key = draft_key(&st, &p)?;
            if let Some(k) = key {
                view.form_key = k;
            }
            Ok(crate::platform::web::render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &view,
            ))
        }
        Err(e) => Err(e),
    }
}

/// A report as pages show it: names instead of ids.
pub struct ReportView {
    pub id: Uuid,
    pub mode: String,
    pub relation: String,
    pub consent_record: Option<String>,
    pub status: String,
    pub reporter: Option<String>,
    pub types: Vec<String>,
    pub perpetrator: String,
    pub severity: String,
    pub injury: bool,
    pub sick_leave_days: u32,
    pub psychological_harm: bool,
    pub witnesses: String,
    pub place: String,
    pub local: String,
    pub tz: String,
    pub shift: String,
    pub shift_start_date: String,
    pub weekend: bool,
    pub day_type: String,
    pub wishes: Vec<String>,
    pub narrative: String,
    pub created: String,
    /// That (and when) she withdrew consent to escalation, if she has.
    pub withdrawn: Option<String>,
}

fn term_name(list: &[crate::reports::model::Term], id: &str, tr: Tr) -> String {
    list.iter()
        .find(|t| t.id == id)
        .map_or_else(|| id.to_owned(), |t| t.name(tr.lang).to_owned())
}

fn report_view(r: &Report, tr: Tr) -> ReportView {
    let t = &*TAXONOMY;
    let c = &r.when.classification;
    ReportView {
        id: r.id,
        mode: tr.t(&format!("rep-mode-{}", r.mode.code())),
        relation: tr.t(&format!("rep-relation-{}", r.relation.code())),
        consent_record: r.consent_record.clone(),
        status: tr.t(&format!("rep-status-{}", r.status.code())),
        reporter: r.reporter.as_ref().map(|x| x.username.clone()),
        types: r
            .types
            .iter()
            .map(|x| term_name(&t.incident_types, x, tr))
            .collect(),
        perpetrator: term_name(&t.perpetrators, &r.perpetrator, tr),
        severity: t
            .severities
            .get(usize::from(r.severity))
            .map(|x| x.name(tr.lang).to_owned())
            .unwrap_or_default(),
        injury: r.injury,
        sick_leave_days: r.sick_leave_days,
        psychological_harm: r.psychological_harm,
        witnesses: r.witnesses.clone(),
        place: if r.place.is_empty() {
            String::new()
        } else {
            term_name(&t.places, &r.place, tr)
        },
        local: r.when.local.strftime("%Y-%m-%d %H:%M").to_string(),
        tz: r.when.tz.clone(),
        shift: c.shift.clone().unwrap_or_default(),
        shift_start_date: c.shift_start_date.to_string(),
        weekend: c.weekend,
        day_type: tr.t(&format!("rep-day-{}", c.day_type.code())),
        wishes: r
            .wishes
            .iter()
            .map(|w| tr.t(&format!("rep-wish-{w}")))
            .collect(),
        narrative: r.narrative.clone(),
        created: r.created_at.local(&r.when.tz),
        withdrawn: r.escalation_withdrawn_at.map(|t| {
            tr.args(
                "rep-escalation-withdrawn",
                &[("date", t.local(&r.when.tz).as_str())],
            )
        }),
    }
}

#[derive(Template)]
#[template(path = "reports/list.html")]
struct ListPage {
    page: PageCtx,
    reports: Vec<ReportView>,
}

async fn list_page(State(st): State<AppState>, ctx: Ctx, p: Principal) -> AppResult<Response> {
    let reports = api::own_reports(State(st), p).await?.0;
    Ok(render(&ListPage {
        page: PageCtx::new(&ctx, "rep-list-title"),
        reports: reports.iter().map(|r| report_view(r, ctx.tr)).collect(),
    }))
}

pub struct LogRow {
    pub at: String,
    pub who: String,
    pub action: String,
    pub reason: String,
}

fn log_rows(log: Vec<AccessEntry>, tz: &str, tr: Tr) -> Vec<LogRow> {
    log.into_iter()
        .map(|e| LogRow {
            at: e.at.local(tz),
            action: tr.t(&format!("rep-log-{}", e.action.replace('.', "-"))),
            who: e.who,
            reason: e.reason.unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "reports/show.html")]
pub(crate) struct ShowPage {
    pub(crate) page: PageCtx,
    r: ReportView,
    owner: bool,
    sealed: bool,
    log: Vec<LogRow>,
    messages: Vec<MessageRow>,
    /// Where the message form posts, and what it carries hidden (an anonymous receipt).
    message_action: String,
    hidden: Vec<(&'static str, String)>,
    /// Where her consent form posts (with the same hidden fields).
    consent_action: String,
    /// Status and when, for her; empty for a handler (who has the triage page).
    timeline: Vec<(String, String)>,
    /// Name, size, and a link when the reader may download (not with a receipt: the file is hers).
    attachments: Vec<(String, String, Option<String>)>,
    /// Where her upload form posts (with the same hidden fields).
    attach_action: String,
    /// Just filed: her autosaved draft on this device can go.
    clear_draft: bool,
}

fn attachment_rows(
    list: Vec<crate::reports::attachments::Attachment>,
    report: Uuid,
    links: bool,
) -> Vec<(String, String, Option<String>)> {
    list.into_iter()
        .map(|a| {
            (
                a.name,
                format!("{} KiB", (a.size + 1023) / 1024),
                links.then(|| format!("/api/v1/reports/{report}/attachments/{}", a.id)),
            )
        })
        .collect()
}

fn timeline_rows(
    t: Vec<crate::triage::model::TimelineEntry>,
    tz: &str,
    tr: Tr,
) -> Vec<(String, String)> {
    t.into_iter()
        .map(|e| {
            (
                tr.t(&format!("rep-status-{}", e.status.code())),
                e.at.local(tz),
            )
        })
        .collect()
}

pub struct MessageRow {
    pub from_reporter: bool,
    pub author: String,
    pub at: String,
    pub body: String,
}

fn message_rows(m: Vec<Message>, tz: &str, tr: Tr) -> Vec<MessageRow> {
    m.into_iter()
        .map(|m| MessageRow {
            from_reporter: m.from_reporter,
            author: m.author.unwrap_or_else(|| tr.t("rep-msg-reporter")),
            at: m.at.local(tz),
            body: m.body,
        })
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ShowQuery {
    done: String,
}

async fn report_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<ShowQuery>,
) -> AppResult<Response> {
    let (s, reader) = service::read(&st, &p, id).await?;
    let owner = matches!(reader, Reader::Owner);
    let tz = s.report.when.tz.clone();
    let log: Vec<AccessEntry> = if owner {
        service::access_log(&st, &p, id).await?
    } else {
        vec![]
    };
    let tr = ctx.tr;
    let mut page = PageCtx::new(&ctx, "rep-show-title");
    if matches!(
        q.done.as_str(),
        "filed" | "attached" | "attach-type" | "attach-damaged" | "attach-limit" | "attach-none"
    ) {
        page = page.with_flash(&format!("rep-done-{}", q.done));
    }
    let messages = crate::reports::store::messages(&st.db, id).await?;
    let timeline = if owner {
        crate::triage::service::timeline(&st, &s.report).await?
    } else {
        vec![]
    };
    let files = crate::reports::attachments::attachments(&st.db, id).await?;
    Ok(render(&ShowPage {
        timeline: timeline_rows(timeline, &tz, tr),
        attachments: attachment_rows(files, id, true),
        attach_action: format!("/reports/{id}/attachments"),
        clear_draft: owner && q.done == "filed",
        page,
        sealed: s.report.mode == Mode::Confidential,
        r: report_view(&s.report, tr),
        owner,
        log: log_rows(log, &tz, tr),
        messages: message_rows(messages, &tz, tr),
        message_action: format!("/reports/{id}/messages"),
        hidden: vec![],
        consent_action: format!("/reports/{id}/consent"),
    }))
}

// ------------------------------------------------------------------------- anonymous reports

async fn anonymous_view(
    st: &AppState,
    ctx: &Ctx,
    input: ReportInput,
    errors: Vec<FieldError>,
) -> AppResult<NewPage> {
    let mut view = new_view(ctx, input, errors);
    view.page = PageCtx::new(ctx, "rep-anon-title");
    view.anonymous = true;
    view.relations.retain(|c| c.value != "representative");
    let chosen = view
        .input
        .facility_id
        .map(|f| vec![f.to_string()])
        .unwrap_or_default();
    let list = crate::directory::store::facilities(&st.db, None, None, None, false, 2000).await?;
    view.facilities = list
        .iter()
        .map(|f| Choice {
            value: f.id.to_string(),
            label: f.name.clone(),
            checked: chosen.contains(&f.id.to_string()),
        })
        .collect();
    Ok(view)
}

/// Pages an anonymous reporter sees must not stay in a shared browser's cache.
fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

async fn anonymous_page(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    Ok(no_store(render(
        &anonymous_view(&st, &ctx, ReportInput::default(), vec![]).await?,
    )))
}

#[derive(Template)]
#[template(path = "reports/receipt.html")]
struct ReceiptPage {
    page: PageCtx,
    receipt: String,
}

async fn anonymous_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (input, errors) = form_input(&pairs);
    let passphrase = pairs
        .iter()
        .find(|(n, _)| n == "passphrase")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let r = if errors.is_empty() {
        service::submit_anonymous(
            &st,
            addr.ip(),
            &crate::reports::model::AnonymousInput {
                report: input.clone(),
                passphrase,
            },
        )
        .await
    } else {
        Err(AppError::Validation(errors))
    };
    match r {
        Ok(receipt) => Ok(no_store(render(&ReceiptPage {
            page: PageCtx::new(&ctx, "rep-anon-title"),
            receipt: crate::reports::model::format_receipt(&receipt.receipt),
        }))),
        Err(AppError::Validation(mut errors)) => {
            translate_errors(ctx.tr, &mut errors);
            Ok(no_store(crate::platform::web::render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &anonymous_view(&st, &ctx, input, errors).await?,
            )))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "reports/lookup.html")]
struct LookupPage {
    page: PageCtx,
    not_found: bool,
}

async fn lookup_page(ctx: Ctx) -> Response {
    no_store(render(&LookupPage {
        page: PageCtx::new(&ctx, "rep-lookup-title"),
        not_found: false,
    }))
}

async fn lookup_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Form(q): Form<crate::reports::model::ReceiptLookup>,
) -> AppResult<Response> {
    match service::by_receipt(&st, addr.ip(), &q).await {
        Ok(report) => {
            let view = service::anonymous_view(&st, report).await?;
            Ok(no_store(render(&anonymous_show(&ctx, view, &q))))
        }
        Err(AppError::NotFound) => Ok(no_store(crate::platform::web::render_status(
            axum::http::StatusCode::NOT_FOUND,
            &LookupPage {
                page: PageCtx::new(&ctx, "rep-lookup-title"),
                not_found: true,
            },
        ))),
        Err(e) => Err(e),
    }
}

/// Her anonymous report as she sees it; the message form carries her receipt back.
pub(crate) fn anonymous_show(
    ctx: &Ctx,
    v: crate::reports::model::AnonymousView,
    q: &crate::reports::model::ReceiptLookup,
) -> ShowPage {
    let tr = ctx.tr;
    let tz = v.report.when.tz.clone();
    ShowPage {
        page: PageCtx::new(ctx, "rep-show-title"),
        sealed: false,
        r: report_view(&v.report, tr),
        owner: true,
        log: log_rows(v.access_log, &tz, tr),
        messages: message_rows(v.messages, &tz, tr),
        message_action: "/report-anonymously/messages".into(),
        hidden: vec![
            ("receipt", q.receipt.clone()),
            ("passphrase", q.passphrase.clone()),
        ],
        consent_action: "/report-anonymously/consent".into(),
        attachments: attachment_rows(v.attachments, v.report.id, false),
        attach_action: "/report-anonymously/attachments".into(),
        clear_draft: false,
        timeline: timeline_rows(v.timeline, &tz, tr),
    }
}

async fn anonymous_consent_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Form(f): Form<AnonymousConsentForm>,
) -> AppResult<Response> {
    let input = crate::reports::model::AnonymousConsent {
        receipt: f.receipt,
        passphrase: f.passphrase,
        escalation: f.escalation == "1",
    };
    let q = crate::reports::model::ReceiptLookup {
        receipt: input.receipt.clone(),
        passphrase: input.passphrase.clone(),
    };
    let view = crate::reports::consent::change_anonymous(&st, addr, &input).await?;
    Ok(no_store(render(&anonymous_show(&ctx, view, &q))))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AnonymousConsentForm {
    receipt: String,
    passphrase: String,
    escalation: String,
}

async fn message_submit(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(m): Form<crate::reports::model::MessageInput>,
) -> AppResult<Response> {
    match service::post_message(&st, &p, id, &m).await {
        Ok(_) | Err(AppError::Validation(_)) => {
            Ok(Redirect::to(&format!("/reports/{id}")).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn anonymous_message_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    Form(m): Form<crate::reports::model::AnonymousMessage>,
) -> AppResult<Response> {
    let q = crate::reports::model::ReceiptLookup {
        receipt: m.receipt.clone(),
        passphrase: m.passphrase.clone(),
    };
    let view = match service::post_anonymous_message(&st, addr.ip(), &m).await {
        Ok(v) => v,
        // An empty message: show her report again as it is.
        Err(AppError::Validation(_)) => {
            let report = service::by_receipt(&st, addr.ip(), &q).await?;
            service::anonymous_view(&st, report).await?
        }
        Err(e) => return Err(e),
    };
    Ok(no_store(render(&anonymous_show(&ctx, view, &q))))
}
