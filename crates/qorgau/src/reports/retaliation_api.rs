//! Retaliation watch over HTTP: after a named or confidential report its reporter records
//! adverse treatment, gives or withdraws consent to the roster comparison, and the handlers in
//! scope of the report see the alerts it raises.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::access::{Action, Place, Principal};
use crate::platform::audit::{self, Actor, Event as AuditEvent};
use crate::platform::error::{AppError, AppResult, ProblemBody};
use crate::platform::extract::LateJson;
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::validate::{Check, parse_date};
use crate::reports::model::{Mode, Report};
use crate::reports::retaliation::{self, Comparison, Counts, Measure};
use crate::reports::retaliation_store::{self as store, Consent, Event};
use crate::reports::service::{self, Reader};

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(watch, record, consent, alerts),
    components(schemas(Watch, Event, Consent, Comparison, Counts, Measure, EventInput, ConsentInput, Alert)),
    tags((name = "retaliation", description = "Retaliation watch after a named or confidential report"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/{id}/retaliation", get(watch))
        .route("/api/v1/reports/{id}/retaliation/events", post(record))
        .route("/api/v1/reports/{id}/retaliation/consent", put(consent))
        .route("/api/v1/retaliation/alerts", get(alerts))
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct EventInput {
    /// shift_change | disciplinary | dismissal_threat | other
    pub kind: String,
    /// YYYY-MM-DD
    pub happened_on: String,
    pub text: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ConsentInput {
    pub consent: bool,
}

/// Her watch: what she recorded, her consent, and, while it stands, the comparison.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Watch {
    pub events: Vec<Event>,
    pub consent: Option<Consent>,
    pub comparison: Option<Comparison>,
}

/// An unexplained roster change, for the handlers in scope of the report.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Alert {
    pub id: Uuid,
    pub report_id: Uuid,
    #[schema(value_type = String)]
    pub created_at: Ts,
    pub comparison: Comparison,
}

/// Her own named or confidential report, with how the audit log names her.
async fn own(st: &AppState, p: &Principal, id: Uuid) -> AppResult<(Report, Actor)> {
    p.require(Action::ReportSubmit)?;
    let (s, reader) = service::read(st, p, id).await?;
    if !matches!(reader, Reader::Owner) {
        return Err(AppError::NotFound);
    }
    let actor = match s.report.mode {
        Mode::Named => Actor::of(p),
        Mode::Confidential => Actor {
            id: None,
            label: "confidential reporter".into(),
        },
        // An anonymous report has no account to own it, so it never gets here.
        Mode::Anonymous => return Err(AppError::NotFound),
    };
    Ok((s.report, actor))
}

/// The comparison for her report, if she consents and her account is linked to a person.
async fn comparison(
    st: &AppState,
    p: &Principal,
    r: &Report,
    c: Option<&Consent>,
) -> AppResult<Option<Comparison>> {
    let (Some(person), Some(_)) = (p.person_id, c.filter(|c| c.standing())) else {
        return Ok(None);
    };
    let day = r.when.classification.shift_start_date;
    let Some(((from, _), (_, to))) = retaliation::windows(day) else {
        return Ok(None);
    };
    let roster = store::roster_of(&st.db, person, from, to).await?;
    // Her department's other staff, to set aside rota changes they all went through.
    let mut peers: std::collections::BTreeMap<Uuid, Vec<(jiff::civil::Date, String)>> =
        Default::default();
    if let Some(me) = crate::directory::store::person_by_id(&st.db, person).await?
        && let Some(dept) = me.department_id
    {
        let all = crate::directory::store::roster(
            &st.db,
            me.facility_id,
            Some(dept),
            &from.to_string(),
            &to.to_string(),
        )
        .await?;
        for e in all.into_iter().filter(|e| e.person_id != person) {
            if let Some(d) = parse_date(&e.day) {
                peers.entry(e.person_id).or_default().push((d, e.shift));
            }
        }
    }
    let peers: Vec<_> = peers.into_values().collect();
    Ok(retaliation::compare(&roster, &peers, day))
}

/// Runs the comparison after a change and alerts the handlers when something stands out.
async fn check(st: &AppState, p: &Principal, r: &Report) -> AppResult<Option<Comparison>> {
    let c = store::consent(&st.db, r.id).await?;
    let cmp = comparison(st, p, r, c.as_ref()).await?;
    if let Some(cmp) = cmp.as_ref().filter(|c| !c.flagged.is_empty()) {
        let summary = serde_json::to_string(cmp).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut tx = st.db.begin().await?;
        if store::alert(&mut tx, r.id, r.facility_id, &summary).await? {
            audit::append(
                &mut tx,
                &Actor::system(),
                AuditEvent::new("retaliation.alert", "report", r.id)
                    .detail(serde_json::json!({ "flagged": cmp.flagged })),
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(cmp)
}

async fn watch_of(st: &AppState, p: &Principal, r: &Report) -> AppResult<Watch> {
    let c = store::consent(&st.db, r.id).await?;
    Ok(Watch {
        events: store::events(&st.db, r.id).await?,
        comparison: comparison(st, p, r, c.as_ref()).await?,
        consent: c,
    })
}

/// Her watch for one of her reports.
#[utoipa::path(get, path = "/api/v1/reports/{id}/retaliation", tag = "retaliation", params(("id" = Uuid, Path)),
    responses((status = 200, body = Watch), (status = 404, body = ProblemBody)))]
pub async fn watch(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Watch>> {
    let (r, _) = own(&st, &p, id).await?;
    Ok(Json(watch_of(&st, &p, &r).await?))
}

/// Records adverse treatment after her report: a kind, the date and what happened.
#[utoipa::path(post, path = "/api/v1/reports/{id}/retaliation/events", tag = "retaliation", params(("id" = Uuid, Path)),
    request_body = EventInput,
    responses((status = 201, body = Watch), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn record(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<EventInput>,
) -> AppResult<(StatusCode, Json<Watch>)> {
    let input = input.0?;
    let (r, actor) = own(&st, &p, id).await?;
    let mut c = Check::new();
    let kind = c.choice("kind", &input.kind, &retaliation::KINDS);
    if parse_date(&input.happened_on).is_none() {
        c.fail("happened_on", "err-date");
    }
    let text = c.text("text", &input.text, 1, 5000);
    c.done()?;
    let e = Event {
        id: Uuid::now_v7(),
        kind,
        happened_on: input.happened_on.clone(),
        text,
        recorded_at: Ts::now(),
    };
    let mut tx = st.db.begin().await?;
    store::insert_event(&mut tx, r.id, &e).await?;
    audit::append(
        &mut tx,
        &actor,
        AuditEvent::new("retaliation.record", "report", r.id)
            .detail(serde_json::json!({ "kind": e.kind })),
    )
    .await?;
    tx.commit().await?;
    check(&st, &p, &r).await?;
    Ok((StatusCode::CREATED, Json(watch_of(&st, &p, &r).await?)))
}

/// Gives (`true`) or withdraws (`false`) her consent to the roster comparison. Giving it runs the
/// comparison at once; withdrawing stops it (alerts already sent stay with the handlers).
#[utoipa::path(put, path = "/api/v1/reports/{id}/retaliation/consent", tag = "retaliation", params(("id" = Uuid, Path)),
    request_body = ConsentInput,
    responses((status = 200, body = Watch), (status = 404, body = ProblemBody)))]
pub async fn consent(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<ConsentInput>,
) -> AppResult<Json<Watch>> {
    let input = input.0?;
    let (r, actor) = own(&st, &p, id).await?;
    let mut tx = st.db.begin().await?;
    if store::set_consent(&mut tx, r.id, input.consent).await? > 0 {
        audit::append(
            &mut tx,
            &actor,
            AuditEvent::new(
                if input.consent {
                    "retaliation.consent"
                } else {
                    "retaliation.withdraw"
                },
                "report",
                r.id,
            ),
        )
        .await?;
    }
    tx.commit().await?;
    check(&st, &p, &r).await?;
    Ok(Json(watch_of(&st, &p, &r).await?))
}

/// Alerts on reports in the caller's scope (report handlers: union representatives and
/// investigators). Each alert shown is an audited read of the report, listed to her.
#[utoipa::path(get, path = "/api/v1/retaliation/alerts", tag = "retaliation",
    responses((status = 200, body = Vec<Alert>), (status = 403, body = ProblemBody)))]
pub async fn alerts(State(st): State<AppState>, p: Principal) -> AppResult<Json<Vec<Alert>>> {
    p.require(Action::ReportView)?;
    let mut out = vec![];
    for a in store::alerts(&st.db).await? {
        let Some(f) = crate::directory::store::facility_by_id(&st.db, a.facility_id).await? else {
            continue;
        };
        let Some(r) = crate::reports::store::report_by_id(&st.db, a.report_id).await? else {
            continue;
        };
        let place = Place {
            department: r.report.department_id,
            ..f.place()
        };
        if !p.sees(&place) {
            continue;
        }
        let Ok(comparison) = serde_json::from_str::<Comparison>(&a.summary) else {
            continue;
        };
        st.audit
            .record(
                &Actor::of(&p),
                AuditEvent::new("retaliation.alert.read", "report", a.report_id),
            )
            .await?;
        out.push(Alert {
            id: a.id,
            report_id: a.report_id,
            created_at: a.created_at,
            comparison,
        });
    }
    Ok(Json(out))
}
