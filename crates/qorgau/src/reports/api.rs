//! Report JSON routes under `/api/v1`: filing and reading reports, classification of an
//! incident time, and the calendars.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::Deserialize;
use uuid::Uuid;

use crate::directory::api::facility_for;
use crate::platform::access::{Action, Place, Principal};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::error::{AppError, AppResult};
use crate::platform::extract::{LateJson, Query};
use crate::platform::state::AppState;
use crate::platform::validate::{Check, parse_date};
use crate::reports::calendar::{self, CalendarDay, CalendarDayInput};
use crate::reports::classify::{Classification, DayKind, DayType};
use crate::reports::model::{
    AccessEntry, AnonymousInput, AnonymousMessage, AnonymousView, Message, MessageInput, Mode,
    Receipt, ReceiptLookup, Report, ReportInput, Reporter, SealedIdentity, Status, UnsealInput,
};
use crate::reports::service::{self, When};
use crate::reports::store;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(submit, submit_anonymous, lookup_anonymous, anonymous_message, own_reports,
        list_messages, post_message, get_report, report_access_log, unseal, classify, list_calendar,
        put_calendar_day, delete_calendar_day),
    components(schemas(When, Classification, DayType, DayKind, CalendarDay, CalendarDayInput,
        Report, ReportInput, Mode, Status, Reporter, AccessEntry, SealedIdentity, UnsealInput, AnonymousInput, Receipt, ReceiptLookup,
        Message, MessageInput, AnonymousMessage, AnonymousView)),
    tags((name = "reports", description = "Incident reports, their classification by shift and calendar, and the country calendars"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", post(submit))
        .route("/api/v1/reports/anonymous", post(submit_anonymous))
        .route("/api/v1/reports/anonymous/lookup", post(lookup_anonymous))
        .route(
            "/api/v1/reports/anonymous/messages",
            post(anonymous_message),
        )
        .route(
            "/api/v1/reports/{id}/messages",
            get(list_messages).post(post_message),
        )
        .route("/api/v1/me/reports", get(own_reports))
        .route("/api/v1/reports/{id}", get(get_report))
        .route("/api/v1/reports/{id}/access-log", get(report_access_log))
        .route("/api/v1/reports/{id}/unseal", post(unseal))
        .route("/api/v1/reports/classify", get(classify))
        .route("/api/v1/calendars/{country}", get(list_calendar))
        .route(
            "/api/v1/calendars/{country}/days/{day}",
            put(put_calendar_day).delete(delete_calendar_day),
        )
}

/// Files a named or confidential report. With an `Idempotency-Key`, a retry with the same body
/// returns the first report (200) and the same key with another body gets 422.
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", request_body = ReportInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Report), (status = 200, body = Report), (status = 413, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn submit(
    State(st): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    input: LateJson<ReportInput>,
) -> AppResult<(StatusCode, axum::Json<Report>)> {
    p.require(Action::ReportSubmit)?;
    let input = input.0?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let (r, created) = service::submit(&st, &p, &input, key).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        axum::Json(r),
    ))
}

/// Files a report without an account. Nothing that identifies the sender is kept: no address,
/// user agent or forwarded-address header is read or logged, and the filing time is kept to the
/// day. The 16-digit receipt in the answer is shown this once. `Idempotency-Key` is ignored
/// here, because a stored answer would hold the receipt.
#[utoipa::path(post, path = "/api/v1/reports/anonymous", tag = "reports", request_body = AnonymousInput,
    security(()),
    responses((status = 201, body = Receipt), (status = 413, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody), (status = 429, body = crate::platform::error::ProblemBody)))]
pub async fn submit_anonymous(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    input: LateJson<AnonymousInput>,
) -> AppResult<(StatusCode, axum::Json<Receipt>)> {
    let input = input.0?;
    Ok((
        StatusCode::CREATED,
        axum::Json(service::submit_anonymous(&st, addr.ip(), &input).await?),
    ))
}

/// An anonymous report by its receipt (in the body, never in a URL that could be logged). A
/// wrong or malformed receipt or passphrase answers 404 alike; after 10 failures from one
/// address in 10 minutes the next answer 429 with Retry-After. Addresses are counted in memory
/// only.
#[utoipa::path(post, path = "/api/v1/reports/anonymous/lookup", tag = "reports", request_body = ReceiptLookup,
    security(()),
    responses((status = 200, body = AnonymousView), (status = 404, body = crate::platform::error::ProblemBody), (status = 429, body = crate::platform::error::ProblemBody)))]
pub async fn lookup_anonymous(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    input: LateJson<ReceiptLookup>,
) -> AppResult<axum::Json<AnonymousView>> {
    let q = input.0?;
    let report = service::by_receipt(&st, addr.ip(), &q).await?;
    Ok(axum::Json(service::anonymous_view(&st, report).await?))
}

/// An anonymous reporter's message to the handlers, with her receipt; answers her view. Counts
/// against the same lookup limit.
#[utoipa::path(post, path = "/api/v1/reports/anonymous/messages", tag = "reports", request_body = AnonymousMessage,
    security(()),
    responses((status = 200, body = AnonymousView), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody), (status = 429, body = crate::platform::error::ProblemBody)))]
pub async fn anonymous_message(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    input: LateJson<AnonymousMessage>,
) -> AppResult<axum::Json<AnonymousView>> {
    let m = input.0?;
    Ok(axum::Json(
        service::post_anonymous_message(&st, addr.ip(), &m).await?,
    ))
}

/// The messages between the reporter and the handlers (a handler's read is audited).
#[utoipa::path(get, path = "/api/v1/reports/{id}/messages", tag = "reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Message>), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn list_messages(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Vec<Message>>> {
    service::read(&st, &p, id).await?;
    Ok(axum::Json(store::messages(&st.db, id).await?))
}

/// A message to the other side: from the reporter to the handlers, or from a handler in scope
/// to the reporter. Answers all messages.
#[utoipa::path(post, path = "/api/v1/reports/{id}/messages", tag = "reports", params(("id" = Uuid, Path)), request_body = MessageInput,
    responses((status = 200, body = Vec<Message>), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn post_message(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<MessageInput>,
) -> AppResult<axum::Json<Vec<Message>>> {
    let input = input.0?;
    Ok(axum::Json(
        service::post_message(&st, &p, id, &input).await?,
    ))
}

/// The reports the caller filed, named and confidential, newest first.
#[utoipa::path(get, path = "/api/v1/me/reports", tag = "reports", responses((status = 200, body = Vec<Report>)))]
pub async fn own_reports(
    State(st): State<AppState>,
    p: Principal,
) -> AppResult<axum::Json<Vec<Report>>> {
    p.require(Action::ReportSubmit)?;
    let tag = service::owner_tag(&st, p.user_id)?;
    Ok(axum::Json(store::own_reports(&st.db, &tag).await?))
}

/// One report, for its reporter or a handler in scope; a handler's read is audited and shown
/// to the reporter.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = Report), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn get_report(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Report>> {
    Ok(axum::Json(service::read(&st, &p, id).await?.0.report))
}

/// Who among the staff read or acted on the caller's own report, when and why.
#[utoipa::path(get, path = "/api/v1/reports/{id}/access-log", tag = "reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<AccessEntry>), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn report_access_log(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Vec<AccessEntry>>> {
    Ok(axum::Json(service::access_log(&st, &p, id).await?))
}

/// Opens the sealed identity of a confidential report, stating why; the reporter is shown who,
/// when and why.
#[utoipa::path(post, path = "/api/v1/reports/{id}/unseal", tag = "reports", params(("id" = Uuid, Path)), request_body = UnsealInput,
    responses((status = 200, body = SealedIdentity), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn unseal(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<UnsealInput>,
) -> AppResult<axum::Json<SealedIdentity>> {
    p.require(Action::IdentityUnseal)?;
    let input = input.0?;
    Ok(axum::Json(service::unseal(&st, &p, id, &input).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClassifyQuery {
    pub facility: Uuid,
    /// Local wall-clock date-time at the facility, `YYYY-MM-DDTHH:MM`.
    pub at: String,
}

/// Classifies a local time at a facility by its shifts and its country's calendar, as a report
/// filed for that time would be.
#[utoipa::path(get, path = "/api/v1/reports/classify", tag = "reports", params(ClassifyQuery),
    responses((status = 200, body = When), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn classify(
    State(st): State<AppState>,
    p: Principal,
    Query(q): Query<ClassifyQuery>,
) -> AppResult<axum::Json<When>> {
    let f = facility_for(&st, &p, q.facility, Action::DirectoryView).await?;
    let local =
        q.at.trim()
            .parse()
            .map_err(|_| AppError::field("at", "err-datetime"))?;
    Ok(axum::Json(service::when_at(&st.db, &f, local).await?))
}

fn country(code: &str) -> AppResult<String> {
    let c = code.to_ascii_uppercase();
    if calendar::is_country(&c) {
        Ok(c)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Only this year; all years when absent.
    pub year: Option<i16>,
}

/// The days of a country's calendar that differ from the plain Monday-to-Friday week: the
/// compiled reference days and an administrator's additions, which win on the same date.
#[utoipa::path(get, path = "/api/v1/calendars/{country}", tag = "reports",
    params(("country" = String, Path, description = "KZ or KG"), YearQuery),
    responses((status = 200, body = Vec<CalendarDay>), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn list_calendar(
    State(st): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
    Query(q): Query<YearQuery>,
) -> AppResult<axum::Json<Vec<CalendarDay>>> {
    p.require(Action::DirectoryView)?;
    let c = country(&code)?;
    let local = store::local_days(&st.db, &c).await?;
    Ok(axum::Json(
        calendar::listing(&c, &local)
            .into_iter()
            .filter(|d| q.year.is_none_or(|y| d.day.year() == y))
            .collect(),
    ))
}

/// The calendar's place for scope checks: a whole country.
fn country_place(c: &str) -> Place {
    Place {
        country: c.to_owned(),
        ..Place::default()
    }
}

/// Adds or corrects a day; it replaces a reference day on the same date.
#[utoipa::path(put, path = "/api/v1/calendars/{country}/days/{day}", tag = "reports",
    params(("country" = String, Path), ("day" = String, Path, description = "YYYY-MM-DD")), request_body = CalendarDayInput,
    responses((status = 200, body = CalendarDay), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn put_calendar_day(
    State(st): State<AppState>,
    p: Principal,
    Path((code, day)): Path<(String, String)>,
    input: LateJson<CalendarDayInput>,
) -> AppResult<axum::Json<CalendarDay>> {
    p.require(Action::CalendarManage)?;
    let c = country(&code)?;
    p.check(Action::CalendarManage, &country_place(&c))?;
    let mut input = input.0?;
    input.day = day;
    let mut check = Check::new();
    let d = input.check(&mut check);
    check.done()?;
    let d = d.ok_or(AppError::field("day", "err-date"))?;
    let mut tx = st.db.begin().await?;
    store::put_day(&mut tx, &c, &d).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("calendar.day.put", "calendar_day", format!("{c}/{}", d.day))
            .detail(serde_json::json!({"kind": d.kind, "name": d.name})),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(CalendarDay {
        country: c,
        day: d.day,
        kind: d.kind,
        name: d.name,
        source: "local".into(),
    }))
}

/// Removes an administrator's entry (the reference day, if any, applies again). Idempotent.
#[utoipa::path(delete, path = "/api/v1/calendars/{country}/days/{day}", tag = "reports",
    params(("country" = String, Path), ("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn delete_calendar_day(
    State(st): State<AppState>,
    p: Principal,
    Path((code, day)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    p.require(Action::CalendarManage)?;
    let c = country(&code)?;
    p.check(Action::CalendarManage, &country_place(&c))?;
    let d = parse_date(day.trim()).ok_or(AppError::field("day", "err-date"))?;
    let mut tx = st.db.begin().await?;
    if store::delete_day(&mut tx, &c, &d.to_string()).await? {
        audit::append(
            &mut tx,
            &Actor::of(&p),
            Event::new("calendar.day.delete", "calendar_day", format!("{c}/{d}")),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
