//! Pages for what protects the reporter: on her own report, lodging identifiers in the escrow,
//! answering matches, recording retaliation and her consent to the roster comparison; for
//! handlers, the escrow matches and retaliation alerts in their scope.

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
use crate::platform::extract::{Form, LateJson, Query};
use crate::platform::i18n::Tr;
use crate::platform::state::AppState;
use crate::platform::web::{Ctx, PageCtx, render, render_status};
use crate::reports::escrow::{Answer, Kind};
use crate::reports::escrow_api::{self, AnswerInput, LodgeInput};
use crate::reports::retaliation::{Comparison, KINDS, Measure};
use crate::reports::retaliation_api::{self, ConsentInput, EventInput};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/{id}/protect", get(protect_page))
        .route("/reports/{id}/protect/escrow", post(lodge))
        .route("/reports/{id}/protect/escrow/{match_id}", post(answer))
        .route("/reports/{id}/protect/events", post(record))
        .route("/reports/{id}/protect/consent", post(consent))
        .route("/protect/notices", get(notices_page))
}

type Values = HashMap<String, String>;

fn value(v: &Values, k: &str) -> String {
    v.get(k).cloned().unwrap_or_default()
}

pub struct PromptRow {
    pub match_id: Uuid,
    pub kind: String,
    pub found: String,
    pub answer: String,
    pub pending: bool,
}

pub struct EventRow {
    pub kind: String,
    pub on: String,
    pub text: String,
}

pub struct CompareView {
    pub day: String,
    /// Measure, before, after, and whether the change is flagged or explained.
    pub rows: Vec<(String, u32, u32, String)>,
}

fn compare_view(c: &Comparison, tr: Tr) -> CompareView {
    let note = |m: Measure| {
        if c.flagged.contains(&m) {
            tr.t("prot-flagged")
        } else if c.explained.contains(&m) {
            tr.t("prot-explained")
        } else {
            "—".to_owned()
        }
    };
    CompareView {
        day: c.report_day.to_string(),
        rows: vec![
            (
                tr.t("prot-measure-total"),
                c.before.total,
                c.after.total,
                note(Measure::Total),
            ),
            (
                tr.t("prot-measure-nights"),
                c.before.nights,
                c.after.nights,
                note(Measure::Nights),
            ),
            (
                tr.t("prot-measure-weekends"),
                c.before.weekends,
                c.after.weekends,
                note(Measure::Weekends),
            ),
        ],
    }
}

#[derive(Template)]
#[template(path = "reports/escrow_protect.html")]
struct ProtectPage {
    page: PageCtx,
    id: Uuid,
    errors: Vec<FieldError>,
    kinds: Vec<(String, String)>,
    event_kinds: Vec<(String, String)>,
    prompts: Vec<PromptRow>,
    events: Vec<EventRow>,
    consent: bool,
    comparison: Option<CompareView>,
}

impl ProtectPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DoneQuery {
    done: String,
}

fn kind_name(k: Kind, tr: Tr) -> String {
    tr.t(&format!("prot-kind-{}", k.code()))
}

async fn protect_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: Uuid,
    errors: Vec<FieldError>,
) -> AppResult<ProtectPage> {
    let tr = ctx.tr;
    let prompts = escrow_api::own_prompts(State(st.clone()), p.clone(), Path(id))
        .await?
        .0;
    let watch = retaliation_api::watch(State(st.clone()), p.clone(), Path(id))
        .await?
        .0;
    Ok(ProtectPage {
        page: PageCtx::new(ctx, "prot-title"),
        id,
        errors,
        kinds: [Kind::Name, Kind::Phone, Kind::Iin, Kind::Pin]
            .into_iter()
            .map(|k| (k.code().to_owned(), kind_name(k, tr)))
            .collect(),
        event_kinds: KINDS
            .iter()
            .map(|k| ((*k).to_owned(), tr.t(&format!("prot-event-{k}"))))
            .collect(),
        prompts: prompts
            .iter()
            .map(|x| PromptRow {
                match_id: x.match_id,
                kind: kind_name(x.kind, tr),
                found: x.found_at.local("UTC"),
                answer: tr.t(&format!("prot-answer-{}", x.answer.code())),
                pending: x.answer == Answer::Pending,
            })
            .collect(),
        events: watch
            .events
            .iter()
            .map(|e| EventRow {
                kind: tr.t(&format!("prot-event-{}", e.kind)),
                on: e.happened_on.clone(),
                text: e.text.clone(),
            })
            .collect(),
        consent: watch.consent.as_ref().is_some_and(|c| c.standing()),
        comparison: watch.comparison.as_ref().map(|c| compare_view(c, tr)),
    })
}

async fn protect_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    let mut view = protect_view(&st, &ctx, &p, id, vec![]).await?;
    if matches!(
        q.done.as_str(),
        "lodged" | "answered" | "recorded" | "consent"
    ) {
        view.page = view.page.with_flash(&format!("prot-done-{}", q.done));
    }
    Ok(render(&view))
}

/// After a form: back to the page, or the page again with the translated errors.
async fn after(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: Uuid,
    r: AppResult<()>,
    done: &str,
) -> AppResult<Response> {
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}/protect?done={done}")).into_response()),
        Err(AppError::Validation(mut errors)) => {
            translate_errors(ctx.tr, &mut errors);
            let view = protect_view(st, ctx, p, id, errors).await?;
            Ok(render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &view,
            ))
        }
        Err(e) => Err(e),
    }
}

async fn lodge(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = LodgeInput {
        kind: value(&v, "kind"),
        value: value(&v, "value"),
        facility_id: None,
    };
    let r = escrow_api::lodge(State(st.clone()), p.clone(), Path(id), LateJson(Ok(input)))
        .await
        .map(|_| ());
    after(&st, &ctx, &p, id, r, "lodged").await
}

async fn answer(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path((id, m)): Path<(Uuid, Uuid)>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = AnswerInput {
        answer: value(&v, "answer"),
    };
    let r = escrow_api::answer(
        State(st.clone()),
        p.clone(),
        Path((id, m)),
        LateJson(Ok(input)),
    )
    .await
    .map(|_| ());
    after(&st, &ctx, &p, id, r, "answered").await
}

async fn record(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = EventInput {
        kind: value(&v, "kind"),
        happened_on: value(&v, "happened_on"),
        text: value(&v, "text"),
    };
    let r = retaliation_api::record(State(st.clone()), p.clone(), Path(id), LateJson(Ok(input)))
        .await
        .map(|_| ());
    after(&st, &ctx, &p, id, r, "recorded").await
}

async fn consent(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = ConsentInput {
        consent: value(&v, "consent") == "yes",
    };
    let r = retaliation_api::consent(State(st.clone()), p.clone(), Path(id), LateJson(Ok(input)))
        .await
        .map(|_| ());
    after(&st, &ctx, &p, id, r, "consent").await
}

pub struct NoticeRow {
    pub found: String,
    pub reports: usize,
    pub go_on: usize,
    pub disclosed: Vec<Uuid>,
}

pub struct AlertRow {
    pub report_id: Uuid,
    pub at: String,
    pub compare: CompareView,
}

#[derive(Template)]
#[template(path = "reports/escrow_notices.html")]
struct NoticesPage {
    page: PageCtx,
    notices: Vec<NoticeRow>,
    alerts: Vec<AlertRow>,
}

async fn notices_page(State(st): State<AppState>, ctx: Ctx, p: Principal) -> AppResult<Response> {
    let tr = ctx.tr;
    let notices = escrow_api::notices_for(&st, &p).await?;
    let alerts = retaliation_api::alerts(State(st.clone()), p.clone())
        .await?
        .0;
    Ok(render(&NoticesPage {
        page: PageCtx::new(&ctx, "prot-notices-title"),
        notices: notices
            .into_iter()
            .map(|n| NoticeRow {
                found: n.found_at.local("UTC"),
                reports: n.reports,
                go_on: n.go_on,
                disclosed: n.disclosed,
            })
            .collect(),
        alerts: alerts
            .iter()
            .map(|a| AlertRow {
                report_id: a.report_id,
                at: a.created_at.local("UTC"),
                compare: compare_view(&a.comparison, tr),
            })
            .collect(),
    }))
}
