//! Her consent to escalation (ILO C190 survivor-centred handling): the reporter may withdraw it
//! at any time and give it again, through her account or her receipt. While it is withdrawn
//! nothing about her report may be referred outside the facility; every such step asks
//! [`escalation_allowed`] first, and handlers see the withdrawal on the report.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use uuid::Uuid;

use crate::platform::access::Principal;
use crate::platform::audit::{self, Actor, Event};
use crate::platform::error::{AppError, AppResult};
use crate::platform::extract::LateJson;
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::reports::model::{
    AnonymousConsent, AnonymousView, ConsentInput, Mode, ReceiptLookup, Report, day_of,
};
use crate::reports::service::{self, Reader};
use crate::reports::store;

/// Whether the report may be referred outside the facility (to a higher authority, the
/// police, a prosecutor, a case shared with other bodies).
pub fn escalation_allowed(r: &Report) -> bool {
    r.escalation_withdrawn_at.is_none()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(set_own, set_anonymous),
    components(schemas(ConsentInput, AnonymousConsent))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/{id}/consent", post(set_own))
        .route("/api/v1/reports/anonymous/consent", post(set_anonymous))
        .route("/reports/{id}/consent", post(own_page))
}

/// Withdraws (`escalation: false`) or gives again (`true`) the reporter's consent to escalating
/// her own report. Only she may; anyone else gets 404.
#[utoipa::path(post, path = "/api/v1/reports/{id}/consent", tag = "reports", params(("id" = Uuid, Path)),
    request_body = ConsentInput,
    responses((status = 200, body = Report), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn set_own(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<ConsentInput>,
) -> AppResult<axum::Json<Report>> {
    // Whose report it is comes first: anyone else learns nothing from the body's checks.
    let report = own_report(&st, &p, id).await?;
    let input = input.0?;
    Ok(axum::Json(
        change_own(&st, &p, report, input.escalation).await?,
    ))
}

/// The same for an anonymous report, with its receipt; answers her view. Counts against the
/// receipt lookup limit, and keeps only the day.
#[utoipa::path(post, path = "/api/v1/reports/anonymous/consent", tag = "reports", request_body = AnonymousConsent,
    security(()),
    responses((status = 200, body = AnonymousView), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody), (status = 429, body = crate::platform::error::ProblemBody)))]
pub async fn set_anonymous(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    input: LateJson<AnonymousConsent>,
) -> AppResult<axum::Json<AnonymousView>> {
    let input = input.0?;
    Ok(axum::Json(change_anonymous(&st, addr, &input).await?))
}

#[derive(serde::Deserialize)]
struct ConsentForm {
    escalation: String,
}

async fn own_page(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    axum::Form(f): axum::Form<ConsentForm>,
) -> AppResult<Response> {
    let report = own_report(&st, &p, id).await?;
    change_own(&st, &p, report, f.escalation == "1").await?;
    Ok(Redirect::to(&format!("/reports/{id}")).into_response())
}

/// The caller's own report; 404 for anyone else, handlers included.
async fn own_report(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Report> {
    match service::read(st, p, id).await? {
        (s, Reader::Owner) => Ok(s.report),
        _ => Err(AppError::NotFound),
    }
}

async fn change_own(
    st: &AppState,
    p: &Principal,
    report: Report,
    escalation: bool,
) -> AppResult<Report> {
    let id = report.id;
    let actor = if report.mode == Mode::Confidential {
        // The audit log must not name a confidential reporter.
        service::confidential_actor()
    } else {
        Actor::of(p)
    };
    let at = (!escalation).then(Ts::now);
    let mut tx = st.db.begin().await?;
    store::set_escalation_withdrawn(&mut tx, id, at).await?;
    if escalation {
        crate::triage::service::resume_duties(&mut tx, id).await?;
    }
    audit::append(
        &mut tx,
        &actor,
        Event::new(
            if escalation {
                "report.consent.give"
            } else {
                "report.consent.withdraw"
            },
            "report",
            id,
        ),
    )
    .await?;
    tx.commit().await?;
    let stored = store::report_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(stored.report)
}

pub async fn change_anonymous(
    st: &AppState,
    addr: SocketAddr,
    input: &AnonymousConsent,
) -> AppResult<AnonymousView> {
    let q = ReceiptLookup {
        receipt: input.receipt.clone(),
        passphrase: input.passphrase.clone(),
    };
    let report = service::by_receipt(st, addr.ip(), &q).await?;
    // The day only, and no audit entry: a time would help tell who she is.
    let at = (!input.escalation).then(|| day_of(Ts::now()));
    let mut tx = st.db.begin().await?;
    store::set_escalation_withdrawn(&mut tx, report.id, at).await?;
    if input.escalation {
        crate::triage::service::resume_duties(&mut tx, report.id).await?;
    }
    tx.commit().await?;
    let report = store::report_by_id(&st.db, report.id)
        .await?
        .ok_or(AppError::NotFound)?;
    service::anonymous_view(st, report.report).await
}
