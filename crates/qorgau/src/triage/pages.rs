//! Triage pages: the queue, one report's handling, the overdue-notification dashboard and a
//! case. The forms call the same functions as the API.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use crate::platform::access::Principal;
use crate::platform::error::{AppError, AppResult, FieldError, translate_errors};
use crate::platform::extract::{Form, Query};
use crate::platform::i18n::Tr;
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::web::{Ctx, PageCtx, render, render_status};
use crate::reports::model::{Mode, Status, TAXONOMY};
use crate::triage::model::*;
use crate::triage::service;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/triage", get(queue_page))
        .route("/triage/overdue", get(overdue_page))
        .route("/triage/{id}", get(show_page))
        .route("/triage/{id}/status", post(status_form))
        .route("/triage/{id}/assign", post(assign_form))
        .route("/triage/{id}/notes", post(note_form))
        .route("/triage/{id}/merge", post(merge_form))
        .route("/triage/{id}/case", post(case_form))
        .route("/triage/{id}/duties/{duty}/done", post(duty_form))
        .route("/cases/{id}", get(case_page))
}

type Values = HashMap<String, String>;

fn value(v: &Values, k: &str) -> String {
    v.get(k).cloned().unwrap_or_default()
}

fn type_name(id: &str, tr: Tr) -> String {
    TAXONOMY
        .incident_types
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.name(tr.lang).to_owned())
        .unwrap_or_else(|| id.to_owned())
}

fn status_name(s: Status, tr: Tr) -> String {
    tr.t(&format!("rep-status-{}", s.code()))
}

pub struct Row {
    pub id: Uuid,
    pub occurred: String,
    pub facility: String,
    pub types: String,
    pub severity: u8,
    pub mode: String,
    pub status: String,
    pub assignee: String,
    pub duties: String,
    pub overdue: bool,
    pub union_support: bool,
    pub withdrawn: bool,
}

#[derive(Template)]
#[template(path = "triage/queue.html")]
struct QueuePage {
    page: PageCtx,
    rows: Vec<Row>,
    queue: String,
    status: String,
    assignee: String,
    mode: String,
    kind: String,
    overdue: bool,
    statuses: Vec<(String, String)>,
    modes: Vec<(String, String)>,
    types: Vec<(String, String)>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QueueForm {
    queue: String,
    status: String,
    assignee: String,
    mode: String,
    r#type: String,
    overdue: String,
    offset: i64,
}

async fn queue_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<QueueForm>,
) -> AppResult<Response> {
    let tr = ctx.tr;
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let params = QueueParams {
        queue: match f.queue.as_str() {
            "facility" => Some(QueueKind::Facility),
            "union" => Some(QueueKind::Union),
            _ => None,
        },
        status: Status::parse(&f.status),
        open: None,
        assignee: nonempty(&f.assignee),
        mode: Mode::parse(&f.mode),
        r#type: nonempty(&f.r#type),
        min_severity: None,
        overdue: Some(f.overdue == "1"),
        facility: None,
        limit: Some(50),
        offset: Some(f.offset.max(0)),
    };
    let q = service::queue(&st, &p, &params).await?;
    let rows = q
        .items
        .iter()
        .map(|i| Row {
            id: i.id,
            occurred: i
                .occurred_local
                .replace('T', " ")
                .chars()
                .take(16)
                .collect(),
            facility: i.facility_name.clone(),
            types: i
                .types
                .iter()
                .map(|t| type_name(t, tr))
                .collect::<Vec<_>>()
                .join(", "),
            severity: i.severity,
            mode: tr.t(&format!("tri-mode-{}", i.mode.code())),
            status: status_name(i.status, tr),
            assignee: i.assignee.clone().unwrap_or_else(|| "—".into()),
            duties: match i.next_due {
                _ if i.overdue => format!("{} · {}", i.duties_overdue, tr.t("tri-overdue")),
                Some(d) => format!("{} · {}", i.duties_open, d.local(&i.tz)),
                None => "—".into(),
            },
            overdue: i.overdue,
            union_support: i.union_support,
            withdrawn: i.escalation_withdrawn,
        })
        .collect::<Vec<_>>();
    let next = (rows.len() as i64 == q.limit).then(|| {
        format!(
            "/triage?queue={}&status={}&assignee={}&mode={}&type={}&overdue={}&offset={}",
            match q.queue {
                QueueKind::Facility => "facility",
                QueueKind::Union => "union",
            },
            f.status,
            f.assignee,
            f.mode,
            f.r#type,
            f.overdue,
            q.offset + q.limit
        )
    });
    Ok(render(&QueuePage {
        page: PageCtx::new(&ctx, "tri-title"),
        rows,
        queue: match q.queue {
            QueueKind::Facility => "facility".into(),
            QueueKind::Union => "union".into(),
        },
        status: f.status,
        assignee: f.assignee,
        mode: f.mode,
        kind: f.r#type,
        overdue: f.overdue == "1",
        statuses: Status::ALL
            .iter()
            .map(|s| (s.code().to_owned(), status_name(*s, tr)))
            .collect(),
        modes: ["named", "confidential", "anonymous"]
            .iter()
            .map(|m| ((*m).to_owned(), tr.t(&format!("tri-mode-{m}"))))
            .collect(),
        types: TAXONOMY
            .incident_types
            .iter()
            .map(|t| (t.id.clone(), t.name(tr.lang).to_owned()))
            .collect(),
        next,
    }))
}

pub struct DutyRow {
    pub id: Uuid,
    pub body: String,
    pub due: String,
    pub external: bool,
    pub done: String,
    pub overdue: bool,
    pub held: bool,
}

#[derive(Template)]
#[template(path = "triage/show.html")]
struct ShowPage {
    page: PageCtx,
    id: Uuid,
    status: String,
    status_code: String,
    assignee: String,
    assignee_id: String,
    candidates: Vec<(Uuid, String)>,
    case_id: Option<Uuid>,
    merged_into: Option<Uuid>,
    duplicates: Vec<Uuid>,
    escalation_allowed: bool,
    notes: Vec<(String, String, String)>,
    duties: Vec<DutyRow>,
    timeline: Vec<(String, String)>,
    can_change: bool,
    errors: Vec<FieldError>,
    problem: Option<String>,
}

impl ShowPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

async fn show_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: Uuid,
    errors: Vec<FieldError>,
    problem: Option<String>,
) -> AppResult<ShowPage> {
    let tr = ctx.tr;
    let t = service::view(st, p, id).await?;
    let r = service::staff_report(st, p, id).await?;
    let country = crate::directory::store::facility_by_id(&st.db, r.facility_id)
        .await?
        .map(|f| f.country().to_owned())
        .unwrap_or_default();
    let tz = r.when.tz.clone();
    let now = Ts::now();
    Ok(ShowPage {
        page: PageCtx::new(ctx, "tri-show-title"),
        id,
        status: status_name(t.status, tr),
        status_code: t.status.code().to_owned(),
        assignee: t.assignee.clone().unwrap_or_else(|| "—".into()),
        assignee_id: t.assignee_id.map(|u| u.to_string()).unwrap_or_default(),
        candidates: service::assignable(st, &r).await?,
        case_id: t.case_id,
        merged_into: t.merged_into,
        duplicates: t.duplicates.clone(),
        escalation_allowed: t.escalation_allowed,
        notes: t
            .notes
            .iter()
            .map(|n| (n.author.clone(), n.at.local(&tz), n.body.clone()))
            .collect(),
        duties: t
            .duties
            .iter()
            .map(|d| (d, d.external && !t.escalation_allowed))
            .map(|(d, held)| DutyRow {
                id: d.id,
                body: service::body_name(&country, &d.body, tr.lang.code()),
                due: d.due_at.local(&tz),
                external: d.external,
                done: match (&d.done_at, &d.reference) {
                    (Some(at), Some(r)) => format!("{} · {r}", at.local(&tz)),
                    (Some(at), None) => at.local(&tz),
                    _ => String::new(),
                },
                overdue: d.done_at.is_none() && d.due_at.micros() < now.micros() && !held,
                held: d.done_at.is_none() && held,
            })
            .collect(),
        timeline: t
            .timeline
            .iter()
            .map(|e| (status_name(e.status, tr), e.at.local(&tz)))
            .collect(),
        can_change: crate::triage::rules::open(t.status),
        errors,
        problem,
    })
}

async fn show_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<Done>,
) -> AppResult<Response> {
    let mut view = show_view(&st, &ctx, &p, id, vec![], None).await?;
    if matches!(
        q.done.as_str(),
        "status" | "assign" | "note" | "merge" | "duty"
    ) {
        view.page = view.page.with_flash(&format!("tri-done-{}", q.done));
    }
    Ok(render(&view))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Done {
    done: String,
}

/// After a form: back to the page with a note of what was done, or the page again with the
/// translated errors (422) or the refusal (409).
async fn after(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: Uuid,
    r: AppResult<()>,
    done: &str,
) -> AppResult<Response> {
    use axum::http::StatusCode;
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/triage/{id}?done={done}")).into_response()),
        Err(AppError::Validation(mut errors)) => {
            translate_errors(ctx.tr, &mut errors);
            let view = show_view(st, ctx, p, id, errors, None).await?;
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Err(AppError::Conflict(kind)) => {
            let problem = Some(ctx.tr.t(&format!("problem-{kind}")));
            let view = show_view(st, ctx, p, id, vec![], problem).await?;
            Ok(render_status(StatusCode::CONFLICT, &view))
        }
        Err(e) => Err(e),
    }
}

async fn status_form(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    service::staff_report(&st, &p, id).await?;
    let r = match Status::parse(&value(&v, "status")) {
        Some(status) => service::set_status(&st, &p, id, &StatusInput { status })
            .await
            .map(|_| ()),
        None => Err(AppError::field("status", "err-choice")),
    };
    after(&st, &ctx, &p, id, r, "status").await
}

async fn assign_form(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    service::staff_report(&st, &p, id).await?;
    let raw = value(&v, "assignee_id");
    let r = match raw.as_str() {
        "" => Ok(None),
        s => Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| AppError::field("assignee_id", "err-choice")),
    };
    let r = match r {
        Ok(assignee_id) => service::assign(&st, &p, id, &AssignInput { assignee_id })
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(&st, &ctx, &p, id, r, "assign").await
}

async fn note_form(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    service::staff_report(&st, &p, id).await?;
    let input = NoteInput {
        body: value(&v, "body"),
    };
    let r = service::add_note(&st, &p, id, &input).await.map(|_| ());
    after(&st, &ctx, &p, id, r, "note").await
}

async fn merge_form(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    service::staff_report(&st, &p, id).await?;
    let into = value(&v, "into");
    let r = match Uuid::parse_str(into.trim()) {
        Ok(into) => {
            let input = MergeInput {
                into: Some(into),
                reason: value(&v, "reason"),
            };
            service::merge(&st, &p, id, &input).await.map(|_| ())
        }
        Err(_) => Err(AppError::field(
            "into",
            if into.trim().is_empty() {
                "err-required"
            } else {
                "err-choice"
            },
        )),
    };
    after(&st, &ctx, &p, id, r, "merge").await
}

async fn case_form(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    service::staff_report(&st, &p, id).await?;
    let input = CaseInput {
        title: value(&v, "title"),
    };
    match service::open_case(&st, &p, id, &input).await {
        Ok(c) => Ok(Redirect::to(&format!("/cases/{}", c.id)).into_response()),
        Err(e) => after(&st, &ctx, &p, id, Err(e), "case").await,
    }
}

async fn duty_form(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path((id, duty)): Path<(Uuid, Uuid)>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    service::staff_report(&st, &p, id).await?;
    let input = DutyDoneInput {
        reference: value(&v, "reference"),
    };
    let r = service::duty_done(&st, &p, id, duty, &input)
        .await
        .map(|_| ());
    after(&st, &ctx, &p, id, r, "duty").await
}

#[derive(Template)]
#[template(path = "triage/overdue.html")]
struct OverduePage {
    page: PageCtx,
    rows: Vec<(String, String, i64, String)>,
}

async fn overdue_page(State(st): State<AppState>, ctx: Ctx, p: Principal) -> AppResult<Response> {
    let list = service::overdue(&st, &p).await?;
    Ok(render(&OverduePage {
        page: PageCtx::new(&ctx, "tri-overdue-title"),
        rows: list
            .into_iter()
            .map(|o| {
                (
                    o.facility_name,
                    o.region_id,
                    o.overdue,
                    o.oldest_due.local("UTC"),
                )
            })
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "triage/case.html")]
struct CasePage {
    page: PageCtx,
    c: CaseSummary,
    created: String,
}

async fn case_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let c = service::case(&st, &p, id).await?;
    Ok(render(&CasePage {
        page: PageCtx::new(&ctx, "tri-case-title"),
        created: c.created_at.local("UTC"),
        c,
    }))
}
