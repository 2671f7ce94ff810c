//! JSON routes: a facility's escalation policy, the push key and subscriptions of the caller's
//! browsers, outgoing webhooks and their delivery log.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::directory::model::Facility;
use crate::notify::model::*;
use crate::notify::store::{self, Attempt, NewWebhook, Webhook};
use crate::platform::access::{Action, Place, Principal};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::error::{AppError, AppResult, FieldError};
use crate::platform::extract::LateJson;
use crate::platform::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(get_policy, put_policy, push_key, subscribe, unsubscribe, list_webhooks, create_webhook,
        delete_webhook, webhook_attempts),
    components(schemas(Policy, PolicyInput, Step, StepInput, Target, PushKey, SubscriptionInput,
        SubscriptionKeys, Webhook, WebhookInput, CreatedWebhook, Attempt)),
    tags((name = "notify", description = "Escalation policies, Web Push subscriptions and outgoing webhooks"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/facilities/{id}/escalation-policy",
            get(get_policy).put(put_policy),
        )
        .route("/api/v1/push/key", get(push_key))
        .route(
            "/api/v1/push/subscriptions",
            axum::routing::post(subscribe).delete(unsubscribe),
        )
        .route("/api/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/api/v1/webhooks/{id}", delete(delete_webhook))
        .route("/api/v1/webhooks/{id}/attempts", get(webhook_attempts))
}

// ------------------------------------------------------------------------------ policy

/// A facility's escalation policy.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Policy {
    pub facility_id: Uuid,
    /// In order; each step's seconds count from the previous step (the first from the press).
    pub steps: Vec<Step>,
    /// False while the facility uses the default (30 s: facility duty administrator, 60 s more:
    /// regional duty officer).
    pub custom: bool,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PolicyInput {
    /// 1 to 6 steps; 0 < after_secs <= 3600; target one of facility_duty_admin,
    /// department_head, security_post, regional_duty_officer.
    pub steps: Vec<StepInput>,
}

/// The facility, checked for `notify.manage` within the caller's scope.
pub async fn managed_facility(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Facility> {
    p.require(Action::NotifyManage)?;
    let f = crate::directory::store::facility_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    p.check(Action::NotifyManage, &f.place())?;
    Ok(f)
}

pub async fn policy_of(st: &AppState, facility: Uuid) -> AppResult<Policy> {
    let own = store::policy(&st.db, facility).await?;
    Ok(Policy {
        facility_id: facility,
        custom: own.is_some(),
        steps: own.unwrap_or_else(|| DEFAULT_POLICY.to_vec()),
    })
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/escalation-policy", tag = "notify",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Policy), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn get_policy(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Policy>> {
    managed_facility(&st, &p, id).await?;
    Ok(axum::Json(policy_of(&st, id).await?))
}

/// Saves the policy for alarms raised from now on; alarms already raised keep the steps they
/// started with.
pub async fn save_policy(
    st: &AppState,
    p: &Principal,
    facility: Uuid,
    steps: &[StepInput],
) -> AppResult<Policy> {
    let steps = validate_policy(steps).map_err(AppError::Validation)?;
    let actor = Actor::of(p);
    let mut tx = st.db.begin().await?;
    store::set_policy(&mut tx, facility, &steps, &actor.label).await?;
    audit::append(
        &mut tx,
        &actor,
        Event::new("notify.policy", "facility", facility)
            .detail(serde_json::json!({"steps": steps})),
    )
    .await?;
    tx.commit().await?;
    policy_of(st, facility).await
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}/escalation-policy", tag = "notify",
    params(("id" = Uuid, Path)), request_body = PolicyInput,
    responses((status = 200, body = Policy), (status = 404, body = crate::platform::error::ProblemBody),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn put_policy(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<PolicyInput>,
) -> AppResult<axum::Json<Policy>> {
    managed_facility(&st, &p, id).await?;
    let input = input.0?;
    Ok(axum::Json(save_policy(&st, &p, id, &input.steps).await?))
}

// ------------------------------------------------------------------------------ push

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PushKey {
    /// The server's VAPID public key (uncompressed P-256 point, base64url): the
    /// `applicationServerKey` for `pushManager.subscribe`.
    pub public_key: String,
}

#[utoipa::path(get, path = "/api/v1/push/key", tag = "notify",
    responses((status = 200, body = PushKey)))]
pub async fn push_key(State(st): State<AppState>, _p: Principal) -> AppResult<axum::Json<PushKey>> {
    let v = crate::notify::push::Vapid::load(&st.cfg.data_dir)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(axum::Json(PushKey {
        public_key: v.public_key(),
    }))
}

/// A `PushSubscription` as the browser's `toJSON()` gives it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SubscriptionInput {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

fn b64_len(s: &str) -> Option<usize> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
        .map(|b| b.len())
}

fn check_endpoint(endpoint: &str, errors: &mut Vec<FieldError>) {
    if endpoint.len() > 2000 || crate::notify::push::origin(endpoint).is_none() {
        errors.push(FieldError::new("endpoint", "err-invalid"));
    }
}

/// Stores the caller's subscription (201; the same endpoint again replaces it).
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "notify",
    request_body = SubscriptionInput,
    responses((status = 201), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn subscribe(
    State(st): State<AppState>,
    p: Principal,
    input: LateJson<SubscriptionInput>,
) -> AppResult<StatusCode> {
    let input = input.0?;
    let mut errors = vec![];
    check_endpoint(&input.endpoint, &mut errors);
    if b64_len(&input.keys.p256dh) != Some(65) {
        errors.push(FieldError::new("keys.p256dh", "err-invalid"));
    }
    if b64_len(&input.keys.auth) != Some(16) {
        errors.push(FieldError::new("keys.auth", "err-invalid"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let actor = Actor::of(&p);
    let mut tx = st.db.begin().await?;
    let id = store::save_subscription(
        &mut tx,
        p.user_id,
        &input.endpoint,
        &input.keys.p256dh,
        &input.keys.auth,
    )
    .await?;
    audit::append(
        &mut tx,
        &actor,
        Event::new("push.subscribe", "push_subscription", id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::CREATED)
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EndpointInput {
    pub endpoint: String,
}

/// Removes the caller's subscription for `endpoint` (204, or 404 when there was none).
#[utoipa::path(delete, path = "/api/v1/push/subscriptions", tag = "notify",
    request_body = inline(EndpointInput),
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn unsubscribe(
    State(st): State<AppState>,
    p: Principal,
    input: LateJson<EndpointInput>,
) -> AppResult<StatusCode> {
    let input = input.0?;
    let mut errors = vec![];
    check_endpoint(&input.endpoint, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = st.db.begin().await?;
    if !store::delete_subscription(&mut tx, p.user_id, &input.endpoint).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("push.unsubscribe", "user", p.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------------------ webhooks

fn webhook_place(st_region: &str, facility: Option<Uuid>) -> Place {
    Place {
        country: st_region.split('-').next().unwrap_or("").to_owned(),
        region: st_region.to_owned(),
        facility,
        department: None,
        person: None,
    }
}

/// Where a webhook sits, for the scope check.
async fn place_of(st: &AppState, w: &Webhook) -> AppResult<Place> {
    Ok(match (w.facility_id, &w.region_id) {
        (Some(f), _) => crate::directory::store::facility_by_id(&st.db, f)
            .await?
            .map(|f| f.place())
            .ok_or(AppError::NotFound)?,
        (None, Some(r)) => webhook_place(r, None),
        (None, None) => return Err(AppError::NotFound),
    })
}

pub async fn managed_webhook(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Webhook> {
    p.require(Action::NotifyManage)?;
    let w = store::webhook_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    p.check(Action::NotifyManage, &place_of(st, &w).await?)?;
    Ok(w)
}

pub async fn webhooks_in_scope(st: &AppState, p: &Principal) -> AppResult<Vec<Webhook>> {
    p.require(Action::NotifyManage)?;
    let f = p.filter();
    if f.department.is_some() || f.person.is_some() {
        return Ok(vec![]);
    }
    Ok(store::list_webhooks(&st.db, f.country, f.region, f.facility).await?)
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "notify",
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = crate::platform::error::ProblemBody)))]
pub async fn list_webhooks(
    State(st): State<AppState>,
    p: Principal,
) -> AppResult<axum::Json<Vec<Webhook>>> {
    Ok(axum::Json(webhooks_in_scope(&st, &p).await?))
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct WebhookInput {
    /// One of facility_id and region_id.
    pub facility_id: Option<Uuid>,
    pub region_id: Option<String>,
    /// http or https.
    pub url: String,
    /// Any of alarm.raised, alarm.escalated.
    pub events: Vec<String>,
}

/// A new webhook with its secret, shown this once.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The HMAC key of `Qorgau-Signature`; stored sealed and never shown again.
    pub secret: String,
}

/// Adds a webhook; returns it with its secret (shown once).
pub async fn add_webhook(
    st: &AppState,
    p: &Principal,
    input: &WebhookInput,
) -> AppResult<CreatedWebhook> {
    p.require(Action::NotifyManage)?;
    let mut errors = vec![];
    let region = input
        .region_id
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let place = match (input.facility_id, region) {
        (Some(f), None) => match crate::directory::store::facility_by_id(&st.db, f).await? {
            Some(f) => Some(f.place()),
            None => {
                errors.push(FieldError::new("facility_id", "err-choice"));
                None
            }
        },
        (None, Some(r)) if r.len() <= 10 && r.contains('-') => Some(webhook_place(r, None)),
        (None, Some(_)) => {
            errors.push(FieldError::new("region_id", "err-choice"));
            None
        }
        _ => {
            errors.push(FieldError::new("facility_id", "notify-err-webhook-place"));
            None
        }
    };
    let url = input.url.trim();
    let ok_url = reqwest::Url::parse(url)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !ok_url || url.len() > 2000 {
        errors.push(FieldError::new("url", "err-invalid"));
    } else if crate::notify::ssrf::Allow::parse(&st.cfg.webhook_allow)
        .unwrap_or_default()
        .check_url(url)
        .is_err()
    {
        errors.push(FieldError::new("url", "notify-err-webhook-private"));
    }
    let mut events: Vec<String> = input.events.iter().map(|e| e.trim().to_owned()).collect();
    events.sort();
    events.dedup();
    if events.is_empty() || events.iter().any(|e| !EVENTS.contains(&e.as_str())) {
        errors.push(FieldError::new("events", "err-choice"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if let Some(place) = &place {
        p.check(Action::NotifyManage, place)?;
    }
    let mut raw = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    let secret = format!("whsec_{}", hex::encode(raw));
    let sealed = base64::engine::general_purpose::STANDARD
        .encode(st.sealer.seal("webhook.secret", secret.as_bytes()));
    let actor = Actor::of(p);
    let mut tx = st.db.begin().await?;
    let id = store::insert_webhook(
        &mut tx,
        &NewWebhook {
            facility_id: input.facility_id,
            region_id: if input.facility_id.is_some() {
                None
            } else {
                region
            },
            url,
            events: &events,
            secret_sealed: &sealed,
        },
        &actor.label,
    )
    .await?;
    audit::append(
        &mut tx,
        &actor,
        Event::new("notify.webhook_add", "webhook", id).detail(serde_json::json!({
            "url": url, "events": events, "facility_id": input.facility_id, "region_id": region
        })),
    )
    .await?;
    tx.commit().await?;
    let webhook = store::webhook_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(CreatedWebhook { webhook, secret })
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "notify", request_body = WebhookInput,
    responses((status = 201, body = CreatedWebhook), (status = 403, body = crate::platform::error::ProblemBody),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn create_webhook(
    State(st): State<AppState>,
    p: Principal,
    input: LateJson<WebhookInput>,
) -> AppResult<(StatusCode, axum::Json<CreatedWebhook>)> {
    p.require(Action::NotifyManage)?;
    let input = input.0?;
    Ok((
        StatusCode::CREATED,
        axum::Json(add_webhook(&st, &p, &input).await?),
    ))
}

/// Switches a webhook off; it and its log stay for the record.
pub async fn remove_webhook(st: &AppState, p: &Principal, id: Uuid) -> AppResult<()> {
    managed_webhook(st, p, id).await?;
    let mut tx = st.db.begin().await?;
    store::deactivate_webhook(&mut tx, id).await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("notify.webhook_remove", "webhook", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "notify", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn delete_webhook(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    remove_webhook(&st, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The newest 200 delivery attempts, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/attempts", tag = "notify", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Attempt>), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn webhook_attempts(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Vec<Attempt>>> {
    managed_webhook(&st, &p, id).await?;
    Ok(axum::Json(store::attempts(&st.db, id, 200).await?))
}
