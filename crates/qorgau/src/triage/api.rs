//! Triage JSON routes under `/api/v1`: the queue, one report's handling, cases, and the
//! mandatory-notification rules and dashboard.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use uuid::Uuid;

use crate::platform::access::Principal;
use crate::platform::error::{AppError, AppResult, ProblemBody};
use crate::platform::extract::{LateJson, Query};
use crate::platform::state::AppState;
use crate::reports::service::{self as reports, Reader};
use crate::triage::model::*;
use crate::triage::rules::DutyRule;
use crate::triage::service;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(queue, overdue, get_triage, set_status, assign, add_note, merge, open_case, duty_done,
        timeline, list_cases, get_case, get_rules, put_rules),
    components(schemas(Queue, QueueItem, QueueKind, Triage, TimelineEntry, Note, NoteInput,
        StatusInput, AssignInput, MergeInput, CaseInput, CaseSummary, Duty, DutyDoneInput,
        OverdueCount, DutyRules, DutyRule)),
    tags((name = "triage", description = "Handling reports: the queue, assignment, notes, status, merging duplicates, cases, mandatory notifications"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/triage", get(queue))
        .route("/api/v1/triage/overdue", get(overdue))
        .route("/api/v1/reports/{id}/triage", get(get_triage))
        .route("/api/v1/reports/{id}/status", post(set_status))
        .route("/api/v1/reports/{id}/assign", post(assign))
        .route("/api/v1/reports/{id}/notes", post(add_note))
        .route("/api/v1/reports/{id}/merge", post(merge))
        .route("/api/v1/reports/{id}/case", post(open_case))
        .route("/api/v1/reports/{id}/duties/{duty}/done", post(duty_done))
        .route("/api/v1/reports/{id}/timeline", get(timeline))
        .route("/api/v1/cases", get(list_cases))
        .route("/api/v1/cases/{id}", get(get_case))
        .route(
            "/api/v1/duty-rules/{country}",
            get(get_rules).put(put_rules),
        )
}

/// The triage queue: reports in the caller's scope, newest first, without narrative or
/// reporter. Union representatives see the union queue (reports asking for the union's
/// support) unless they ask for `queue=facility`.
#[utoipa::path(get, path = "/api/v1/triage", tag = "triage", params(QueueParams),
    responses((status = 200, body = Queue), (status = 403, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn queue(
    State(st): State<AppState>,
    p: Principal,
    Query(q): Query<QueueParams>,
) -> AppResult<axum::Json<Queue>> {
    Ok(axum::Json(service::queue(&st, &p, &q).await?))
}

/// Mandatory notifications past their deadline, counted per facility: for handlers, and for
/// regional and national bodies (no report content).
#[utoipa::path(get, path = "/api/v1/triage/overdue", tag = "triage",
    responses((status = 200, body = Vec<OverdueCount>), (status = 403, body = ProblemBody)))]
pub async fn overdue(
    State(st): State<AppState>,
    p: Principal,
) -> AppResult<axum::Json<Vec<OverdueCount>>> {
    Ok(axum::Json(service::overdue(&st, &p).await?))
}

/// One report's handling: assignee, notes, duties, duplicates, case, timeline (audited).
#[utoipa::path(get, path = "/api/v1/reports/{id}/triage", tag = "triage", params(("id" = Uuid, Path)),
    responses((status = 200, body = Triage), (status = 404, body = ProblemBody)))]
pub async fn get_triage(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Triage>> {
    Ok(axum::Json(service::view(&st, &p, id).await?))
}

/// Moves the report to `in_triage` or `closed` (409 for a change the rules refuse). The
/// reporter sees it on her timeline.
#[utoipa::path(post, path = "/api/v1/reports/{id}/status", tag = "triage", params(("id" = Uuid, Path)), request_body = StatusInput,
    responses((status = 200, body = Triage), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn set_status(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<StatusInput>,
) -> AppResult<axum::Json<Triage>> {
    service::staff_report(&st, &p, id).await?;
    Ok(axum::Json(
        service::set_status(&st, &p, id, &input.0?).await?,
    ))
}

/// Assigns the report to a handler whose role and scope reach it (or unassigns with null).
#[utoipa::path(post, path = "/api/v1/reports/{id}/assign", tag = "triage", params(("id" = Uuid, Path)), request_body = AssignInput,
    responses((status = 200, body = Triage), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn assign(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<AssignInput>,
) -> AppResult<axum::Json<Triage>> {
    service::staff_report(&st, &p, id).await?;
    Ok(axum::Json(service::assign(&st, &p, id, &input.0?).await?))
}

/// An internal note: handlers read it, the reporter never does.
#[utoipa::path(post, path = "/api/v1/reports/{id}/notes", tag = "triage", params(("id" = Uuid, Path)), request_body = NoteInput,
    responses((status = 200, body = Triage), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn add_note(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<NoteInput>,
) -> AppResult<axum::Json<Triage>> {
    service::staff_report(&st, &p, id).await?;
    Ok(axum::Json(service::add_note(&st, &p, id, &input.0?).await?))
}

/// Merges this report, a duplicate, into another open report in scope, stating why.
#[utoipa::path(post, path = "/api/v1/reports/{id}/merge", tag = "triage", params(("id" = Uuid, Path)), request_body = MergeInput,
    responses((status = 200, body = Triage), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn merge(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<MergeInput>,
) -> AppResult<axum::Json<Triage>> {
    service::staff_report(&st, &p, id).await?;
    Ok(axum::Json(service::merge(&st, &p, id, &input.0?).await?))
}

/// Opens a case from the report.
#[utoipa::path(post, path = "/api/v1/reports/{id}/case", tag = "triage", params(("id" = Uuid, Path)), request_body = CaseInput,
    responses((status = 201, body = CaseSummary), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn open_case(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<CaseInput>,
) -> AppResult<(axum::http::StatusCode, axum::Json<CaseSummary>)> {
    service::staff_report(&st, &p, id).await?;
    let c = service::open_case(&st, &p, id, &input.0?).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(c)))
}

/// Records that a mandatory notification was made, with its reference. 409 when the body is
/// outside the facility and the reporter has withdrawn her consent to escalation.
#[utoipa::path(post, path = "/api/v1/reports/{id}/duties/{duty}/done", tag = "triage",
    params(("id" = Uuid, Path), ("duty" = Uuid, Path)), request_body = DutyDoneInput,
    responses((status = 200, body = Triage), (status = 404, body = ProblemBody), (status = 409, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn duty_done(
    State(st): State<AppState>,
    p: Principal,
    Path((id, duty)): Path<(Uuid, Uuid)>,
    input: LateJson<DutyDoneInput>,
) -> AppResult<axum::Json<Triage>> {
    service::staff_report(&st, &p, id).await?;
    Ok(axum::Json(
        service::duty_done(&st, &p, id, duty, &input.0?).await?,
    ))
}

/// The report's status timeline, for its reporter (or a handler in scope, audited).
#[utoipa::path(get, path = "/api/v1/reports/{id}/timeline", tag = "triage", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<TimelineEntry>), (status = 404, body = ProblemBody)))]
pub async fn timeline(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Vec<TimelineEntry>>> {
    let (s, _reader): (_, Reader) = reports::read(&st, &p, id).await?;
    Ok(axum::Json(service::timeline(&st, &s.report).await?))
}

/// Cases in the caller's scope.
#[utoipa::path(get, path = "/api/v1/cases", tag = "triage",
    responses((status = 200, body = Vec<CaseSummary>), (status = 403, body = ProblemBody)))]
pub async fn list_cases(
    State(st): State<AppState>,
    p: Principal,
) -> AppResult<axum::Json<Vec<CaseSummary>>> {
    Ok(axum::Json(service::cases(&st, &p).await?))
}

/// One case in scope (audited).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "triage", params(("id" = Uuid, Path)),
    responses((status = 200, body = CaseSummary), (status = 404, body = ProblemBody)))]
pub async fn get_case(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<CaseSummary>> {
    Ok(axum::Json(service::case(&st, &p, id).await?))
}

/// A country's mandatory-notification rules (anyone with an account: no personal data).
#[utoipa::path(get, path = "/api/v1/duty-rules/{country}", tag = "triage", params(("country" = String, Path)),
    responses((status = 200, body = DutyRules), (status = 404, body = ProblemBody)))]
pub async fn get_rules(
    State(st): State<AppState>,
    _p: Principal,
    Path(country): Path<String>,
) -> AppResult<axum::Json<DutyRules>> {
    if !matches!(country.as_str(), "KZ" | "KG") {
        return Err(AppError::NotFound);
    }
    Ok(axum::Json(service::rules_for(&st.db, &country).await?))
}

/// Replaces a country's rules (country administrators: `calendar.manage` and a country scope).
/// New reports follow them; duties already started keep their deadlines.
#[utoipa::path(put, path = "/api/v1/duty-rules/{country}", tag = "triage", params(("country" = String, Path)), request_body = Vec<DutyRule>,
    responses((status = 200, body = DutyRules), (status = 403, body = ProblemBody), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn put_rules(
    State(st): State<AppState>,
    p: Principal,
    Path(country): Path<String>,
    input: LateJson<Vec<DutyRule>>,
) -> AppResult<axum::Json<DutyRules>> {
    p.require(crate::platform::access::Action::CalendarManage)?;
    Ok(axum::Json(
        service::put_rules(&st, &p, &country, input.0?).await?,
    ))
}
