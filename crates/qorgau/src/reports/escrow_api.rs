//! Matching escrow over HTTP. The only way in is lodging from one's own report (by account or by
//! receipt); there is no route that lists, searches or tests identifiers. A handler sees that a
//! match exists among reports in their scope, and which reports only after two of their
//! reporters said go on (see `escrow::disclosed`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::access::{Action, Place, Principal};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::error::{AppError, AppResult, ProblemBody};
use crate::platform::extract::LateJson;
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::validate::Check;
use crate::reports::escrow::{self, Answer, Kind};
use crate::reports::escrow_store::{self as store, Prompt};
use crate::reports::model::{Mode, ReceiptLookup, day_of};
use crate::reports::service::{self, Reader};

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(lodge, own_prompts, answer, lodge_anonymous, prompts_anonymous, answer_anonymous, notices),
    components(schemas(LodgeInput, Lodged, Prompt, Kind, Answer, AnswerInput, AnonymousLodge, AnonymousAnswer, Notice)),
    tags((name = "escrow", description = "Matching escrow: identifiers of a perpetrator kept only as keyed hashes"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/{id}/escrow", post(lodge).get(own_prompts))
        .route("/api/v1/reports/{id}/escrow/{match_id}", post(answer))
        .route("/api/v1/reports/anonymous/escrow", post(lodge_anonymous))
        .route(
            "/api/v1/reports/anonymous/escrow/prompts",
            post(prompts_anonymous),
        )
        .route(
            "/api/v1/reports/anonymous/escrow/answer",
            post(answer_anonymous),
        )
        .route("/api/v1/escrow/notices", get(notices))
}

/// One identifier of the perpetrator. `facility_id` binds a name to a facility; it defaults to
/// the report's facility.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct LodgeInput {
    pub kind: String,
    pub value: String,
    pub facility_id: Option<Uuid>,
}

/// Said the same whether or not anything matched, so that lodging is no test of a guess; a match
/// shows up later among her prompts.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Lodged {
    pub lodged: bool,
    /// How many more identifiers this report may lodge.
    pub remaining: i64,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AnswerInput {
    pub answer: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct AnonymousLodge {
    #[serde(flatten)]
    pub receipt: ReceiptLookupBody,
    #[serde(flatten)]
    pub lodge: LodgeInput,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct AnonymousAnswer {
    #[serde(flatten)]
    pub receipt: ReceiptLookupBody,
    pub match_id: Option<Uuid>,
    pub answer: String,
}

/// The receipt and passphrase of an anonymous report, as in its lookup.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ReceiptLookupBody {
    pub receipt: String,
    pub passphrase: String,
}

impl ReceiptLookupBody {
    fn lookup(&self) -> ReceiptLookup {
        ReceiptLookup {
            receipt: self.receipt.clone(),
            passphrase: self.passphrase.clone(),
        }
    }
}

/// What a handler is told of a match in their scope.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Notice {
    pub match_id: Uuid,
    #[schema(value_type = String)]
    pub found_at: Ts,
    /// How many reports, from different reporters, lodged the same identifier.
    pub reports: usize,
    /// How many of their reporters have said go on so far.
    pub go_on: usize,
    /// The reports that match, once two or more of their reporters said go on; empty before.
    pub disclosed: Vec<Uuid>,
}

/// A report its reporter is acting on, and how the audit log names her.
pub struct Own {
    id: Uuid,
    facility_id: Uuid,
    owner_tag: String,
    actor: Actor,
    audited_object: Option<Uuid>,
}

/// The report the caller may lodge from: her own named or confidential report.
async fn own(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Own> {
    p.require(Action::ReportSubmit)?;
    let (s, reader) = service::read(st, p, id).await?;
    if !matches!(reader, Reader::Owner) {
        return Err(AppError::NotFound);
    }
    let actor = match s.report.mode {
        Mode::Named => Actor::of(p),
        // The audit log must not name a confidential reporter.
        _ => Actor {
            id: None,
            label: "confidential reporter".into(),
        },
    };
    Ok(Own {
        id,
        facility_id: s.report.facility_id,
        owner_tag: s.owner_tag,
        actor,
        audited_object: Some(id),
    })
}

/// An anonymous report by its receipt, counted against the address like its lookup.
async fn own_anonymous(st: &AppState, addr: SocketAddr, r: &ReceiptLookupBody) -> AppResult<Own> {
    let report = service::by_receipt(st, addr.ip(), &r.lookup()).await?;
    let stored = crate::reports::store::report_by_id(&st.db, report.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Own {
        id: report.id,
        facility_id: report.facility_id,
        owner_tag: stored.owner_tag,
        actor: Actor {
            id: None,
            label: "anonymous reporter".into(),
        },
        // An audit entry naming the report would date her use of the receipt to the second.
        audited_object: None,
    })
}

fn escrow_key(st: &AppState) -> AppResult<[u8; 32]> {
    crate::platform::keys::load_or_create(&st.cfg.data_dir, "escrow")
        .map_err(|e| AppError::Internal(e.to_string()))
}

async fn do_lodge(st: &AppState, own: &Own, input: &LodgeInput) -> AppResult<Lodged> {
    let mut c = Check::new();
    let kind = Kind::parse(&input.kind);
    if kind.is_none() {
        c.fail("kind", "err-choice");
    }
    c.text("value", &input.value, 1, 200);
    c.done()?;
    let kind = kind.ok_or_else(|| AppError::field("kind", "err-choice"))?;
    let facility = input.facility_id.unwrap_or(own.facility_id);
    if kind == Kind::Name
        && crate::directory::store::facility_by_id(&st.db, facility)
            .await?
            .is_none()
    {
        return Err(AppError::field("facility_id", "err-choice"));
    }
    let canonical = escrow::normalise(kind, &input.value, facility)
        .ok_or_else(|| AppError::field("value", "err-escrow-identifier"))?;
    let hash = escrow::tag(&escrow_key(st)?, kind, &canonical);
    let mut tx = st.db.begin().await?;
    let lodged = store::lodge(
        &mut tx,
        own.id,
        &own.owner_tag,
        kind,
        &hash,
        day_of(Ts::now()),
    )
    .await?;
    // Dropping the transaction undoes the entry (and any match it made) when over the limit.
    if lodged.new && !store::take_quota(&mut tx, own.id, escrow::MAX_PER_REPORT).await? {
        return Err(AppError::field("value", "err-escrow-limit"));
    }
    let used = store::used(&mut tx, own.id).await?;
    if lodged.new {
        let ev = match own.audited_object {
            Some(r) => Event::new("escrow.lodge", "report", r),
            None => Event::new("escrow.lodge", "escrow", "anonymous"),
        };
        audit::append(
            &mut tx,
            &own.actor,
            ev.detail(serde_json::json!({ "kind": kind })),
        )
        .await?;
    }
    if let Some(m) = lodged.matched {
        audit::append(
            &mut tx,
            &Actor::system(),
            Event::new("escrow.match", "escrow_match", m)
                .detail(serde_json::json!({ "kind": kind })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Lodged {
        lodged: true,
        remaining: escrow::MAX_PER_REPORT - used,
    })
}

async fn do_answer(st: &AppState, own: &Own, m: Uuid, answer: &str) -> AppResult<Vec<Prompt>> {
    let a = Answer::parse(answer)
        .filter(|a| *a != Answer::Pending)
        .ok_or_else(|| AppError::field("answer", "err-choice"))?;
    let mut tx = st.db.begin().await?;
    if !store::answer(&mut tx, m, own.id, a).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &own.actor,
        Event::new("escrow.answer", "escrow_match", m).detail(serde_json::json!({ "answer": a })),
    )
    .await?;
    tx.commit().await?;
    Ok(store::prompts(&st.db, own.id).await?)
}

/// Lodges one identifier of the perpetrator from the caller's own report: a name (with the
/// facility), a phone, a Kazakh IIN or a Kyrgyz PIN. Only its keyed hash is kept; at most five
/// per report.
#[utoipa::path(post, path = "/api/v1/reports/{id}/escrow", tag = "escrow", params(("id" = Uuid, Path)), request_body = LodgeInput,
    responses((status = 201, body = Lodged), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn lodge(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<LodgeInput>,
) -> AppResult<(StatusCode, Json<Lodged>)> {
    let input = input.0?;
    let own = own(&st, &p, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(do_lodge(&st, &own, &input).await?),
    ))
}

/// The matches the caller's own report is in, each waiting for her answer or with it.
#[utoipa::path(get, path = "/api/v1/reports/{id}/escrow", tag = "escrow", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Prompt>), (status = 404, body = ProblemBody)))]
pub async fn own_prompts(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Vec<Prompt>>> {
    let own = own(&st, &p, id).await?;
    Ok(Json(store::prompts(&st.db, own.id).await?))
}

/// Her answer to a match: `go_on` or `not_now` (which she may change later).
#[utoipa::path(post, path = "/api/v1/reports/{id}/escrow/{match_id}", tag = "escrow",
    params(("id" = Uuid, Path), ("match_id" = Uuid, Path)), request_body = AnswerInput,
    responses((status = 200, body = Vec<Prompt>), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn answer(
    State(st): State<AppState>,
    p: Principal,
    Path((id, m)): Path<(Uuid, Uuid)>,
    input: LateJson<AnswerInput>,
) -> AppResult<Json<Vec<Prompt>>> {
    let input = input.0?;
    let own = own(&st, &p, id).await?;
    Ok(Json(do_answer(&st, &own, m, &input.answer).await?))
}

/// Lodging from an anonymous report, with its receipt (and passphrase) in the body.
#[utoipa::path(post, path = "/api/v1/reports/anonymous/escrow", tag = "escrow", request_body = AnonymousLodge,
    security(()),
    responses((status = 201, body = Lodged), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody), (status = 429, body = ProblemBody)))]
pub async fn lodge_anonymous(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    input: LateJson<AnonymousLodge>,
) -> AppResult<(StatusCode, Json<Lodged>)> {
    let input = input.0?;
    let own = own_anonymous(&st, addr, &input.receipt).await?;
    Ok((
        StatusCode::CREATED,
        Json(do_lodge(&st, &own, &input.lodge).await?),
    ))
}

/// The matches an anonymous report is in, by its receipt.
#[utoipa::path(post, path = "/api/v1/reports/anonymous/escrow/prompts", tag = "escrow", request_body = ReceiptLookupBody,
    security(()),
    responses((status = 200, body = Vec<Prompt>), (status = 404, body = ProblemBody), (status = 429, body = ProblemBody)))]
pub async fn prompts_anonymous(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    input: LateJson<ReceiptLookupBody>,
) -> AppResult<Json<Vec<Prompt>>> {
    let input = input.0?;
    let own = own_anonymous(&st, addr, &input).await?;
    Ok(Json(store::prompts(&st.db, own.id).await?))
}

/// An anonymous reporter's answer to a match, by her receipt.
#[utoipa::path(post, path = "/api/v1/reports/anonymous/escrow/answer", tag = "escrow", request_body = AnonymousAnswer,
    security(()),
    responses((status = 200, body = Vec<Prompt>), (status = 404, body = ProblemBody), (status = 422, body = ProblemBody), (status = 429, body = ProblemBody)))]
pub async fn answer_anonymous(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    input: LateJson<AnonymousAnswer>,
) -> AppResult<Json<Vec<Prompt>>> {
    let input = input.0?;
    let own = own_anonymous(&st, addr, &input.receipt).await?;
    let m = input
        .match_id
        .ok_or_else(|| AppError::field("match_id", "err-required"))?;
    Ok(Json(do_answer(&st, &own, m, &input.answer).await?))
}

/// The matches among reports in a handler's scope (union representatives and investigators).
/// Disclosing which reports match is audited on each of those reports, so that each reporter
/// sees it in her access log.
pub async fn notices_for(st: &AppState, p: &Principal) -> AppResult<Vec<Notice>> {
    p.require(Action::ReportView)?;
    let mut out = vec![];
    let mut places: std::collections::HashMap<Uuid, Place> = Default::default();
    for m in store::matches(&st.db).await? {
        let members = store::members(&st.db, m.id).await?;
        let mut seen = false;
        for x in &members {
            let place = match places.get(&x.facility_id) {
                Some(place) => place.clone(),
                None => {
                    let Some(f) =
                        crate::directory::store::facility_by_id(&st.db, x.facility_id).await?
                    else {
                        continue;
                    };
                    places.insert(x.facility_id, f.place());
                    f.place()
                }
            };
            seen |= p.sees(&Place {
                department: x.department_id,
                ..place
            });
        }
        if !seen {
            continue;
        }
        let answers: Vec<(Uuid, Answer)> =
            members.iter().map(|x| (x.report_id, x.answer)).collect();
        let disclosed = escrow::disclosed(&answers);
        for r in &disclosed {
            st.audit
                .record(
                    &Actor::of(p),
                    Event::new("escrow.match.read", "report", r)
                        .detail(serde_json::json!({ "match_id": m.id })),
                )
                .await?;
        }
        out.push(Notice {
            match_id: m.id,
            found_at: m.created_at,
            reports: members.len(),
            go_on: answers.iter().filter(|(_, a)| *a == Answer::GoOn).count(),
            disclosed,
        });
    }
    Ok(out)
}

/// Matches in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/escrow/notices", tag = "escrow",
    responses((status = 200, body = Vec<Notice>), (status = 403, body = ProblemBody)))]
pub async fn notices(State(st): State<AppState>, p: Principal) -> AppResult<Json<Vec<Notice>>> {
    Ok(Json(notices_for(&st, &p).await?))
}
