//! Notification SQL: escalation policies, push subscriptions and whom they belong to, webhooks
//! and their delivery attempts. The timers are the alarms capability's jobs table
//! (`alarms::store::{schedule, claim_due, lease_job, finish_job}`).

use uuid::Uuid;

use crate::args;
use crate::notify::model::*;
use crate::platform::db::{Db, DbResult, Row, Tx};
use crate::platform::time::Ts;

// ------------------------------------------------------------------------------ policy

/// The facility's own policy, if its administrator set one.
pub async fn policy(db: &Db, facility: Uuid) -> DbResult<Option<Vec<Step>>> {
    db.fetch_optional(POLICY, args![facility])
        .await?
        .map(|r| policy_row(&r))
        .transpose()
}

const POLICY: &str = "SELECT steps FROM escalation_policies WHERE facility_id = $1";

fn policy_row(r: &Row) -> DbResult<Vec<Step>> {
    // Only validated steps are written; a row that no longer parses falls back to the default.
    Ok(
        serde_json::from_str(&r.get::<String>("steps")?)
            .unwrap_or_else(|_| DEFAULT_POLICY.to_vec()),
    )
}

/// The policy in force, read inside the transaction that raises an alarm.
pub async fn policy_tx(tx: &mut Tx, facility: Uuid) -> DbResult<Vec<Step>> {
    Ok(match tx.fetch_optional(POLICY, args![facility]).await? {
        Some(r) => policy_row(&r)?,
        None => DEFAULT_POLICY.to_vec(),
    })
}

pub async fn set_policy(tx: &mut Tx, facility: Uuid, steps: &[Step], by: &str) -> DbResult<()> {
    tx.execute(
        "INSERT INTO escalation_policies (facility_id, steps, updated_by, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (facility_id) DO UPDATE SET steps = excluded.steps, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        args![
            facility,
            serde_json::to_string(steps).unwrap_or_default(),
            by,
            Ts::now()
        ],
    )
    .await
    .map(|_| ())
}

// ------------------------------------------------------------------------------ push

/// A browser's push subscription.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: Uuid,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// The owner's language, for the text shown.
    pub lang: Option<String>,
    /// The owner's person in the directory, whose roster says when she is on duty.
    pub person_id: Option<Uuid>,
}

fn subscription(r: &Row) -> DbResult<Subscription> {
    Ok(Subscription {
        id: r.get("id")?,
        endpoint: r.get("endpoint")?,
        p256dh: r.get("p256dh")?,
        auth: r.get("auth")?,
        lang: r.get("lang")?,
        person_id: r.get("person_id")?,
    })
}

/// Stores a subscription for `user`; the same endpoint subscribed again (new keys, or another
/// account on the same browser) replaces the old row.
pub async fn save_subscription(
    tx: &mut Tx,
    user: Uuid,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at",
        args![id, user, endpoint, p256dh, auth, Ts::now()],
    )
    .await?;
    tx.fetch_one(
        "SELECT id FROM push_subscriptions WHERE endpoint = $1",
        args![endpoint],
    )
    .await?
    .get("id")
}

/// Removes `user`'s subscription for `endpoint`; returns whether there was one.
pub async fn delete_subscription(tx: &mut Tx, user: Uuid, endpoint: &str) -> DbResult<bool> {
    Ok(tx
        .execute(
            "DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2",
            args![user, endpoint],
        )
        .await?
        > 0)
}

/// Forgets a subscription its push service says is gone (404 or 410).
pub async fn drop_subscription(db: &Db, id: Uuid) -> DbResult<()> {
    db.execute("DELETE FROM push_subscriptions WHERE id = $1", args![id])
        .await
        .map(|_| ())
}

const SUBSCRIPTION: &str = "SELECT s.*, u.lang, u.person_id FROM push_subscriptions s JOIN users u ON u.id = s.user_id WHERE s.id = $1";

pub async fn subscription_by_id(db: &Db, id: Uuid) -> DbResult<Option<Subscription>> {
    db.fetch_optional(SUBSCRIPTION, args![id])
        .await?
        .as_ref()
        .map(subscription)
        .transpose()
}

/// Subscriptions of active accounts with `role` whose scope is exactly (`kind`, `scope_id`).
const BY_ROLE_SCOPE: &str = "SELECT s.*, u.lang, u.person_id FROM push_subscriptions s JOIN users u ON u.id = s.user_id WHERE u.disabled_at IS NULL AND u.role = $1 AND u.scope_kind = $2 AND u.scope_id = $3";

pub async fn subscriptions_of(
    tx: &mut Tx,
    role: &str,
    kind: &str,
    scope_id: &str,
) -> DbResult<Vec<Subscription>> {
    tx.fetch_all(BY_ROLE_SCOPE, args![role, kind, scope_id])
        .await?
        .iter()
        .map(subscription)
        .collect()
}

const ROSTER_AROUND: &str = "SELECT r.person_id, r.day, s.code, s.starts, s.ends FROM roster_entries r JOIN shift_definitions s ON s.id = r.shift_id WHERE s.facility_id = $1 AND r.day IN ($2, $3)";

/// The people of `facility` on duty at local time `now`, by its roster: a shift that began
/// yesterday (a night shift) or today and has not ended.
pub async fn on_duty(
    tx: &mut Tx,
    facility: Uuid,
    now: jiff::civil::DateTime,
) -> DbResult<std::collections::HashSet<Uuid>> {
    let today = now.date();
    let yesterday = today.yesterday().unwrap_or(today);
    let rows = tx
        .fetch_all(
            ROSTER_AROUND,
            args![facility, yesterday.to_string(), today.to_string()],
        )
        .await?;
    let mut out = std::collections::HashSet::new();
    for r in &rows {
        let day: String = r.get("day")?;
        let span = crate::reports::classify::ShiftSpan::parse(
            &r.get::<String>("code")?,
            &r.get::<String>("starts")?,
            &r.get::<String>("ends")?,
        );
        if let (Ok(day), Some(span)) = (day.parse::<jiff::civil::Date>(), span)
            && span.covers(day, now)
        {
            out.insert(r.get("person_id")?);
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------ webhooks

/// An outgoing webhook (its secret stays sealed in the database).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub facility_id: Option<Uuid>,
    pub region_id: Option<String>,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[serde(skip)]
    pub secret_sealed: String,
}

fn webhook(r: &Row) -> DbResult<Webhook> {
    Ok(Webhook {
        id: r.get("id")?,
        facility_id: r.get("facility_id")?,
        region_id: r.get("region_id")?,
        url: r.get("url")?,
        events: serde_json::from_str(&r.get::<String>("events")?).unwrap_or_default(),
        active: r.get("active")?,
        created_by: r.get("created_by")?,
        created_at: r.ts("created_at")?,
        secret_sealed: r.get("secret_sealed")?,
    })
}

pub struct NewWebhook<'a> {
    pub facility_id: Option<Uuid>,
    pub region_id: Option<&'a str>,
    pub url: &'a str,
    pub events: &'a [String],
    pub secret_sealed: &'a str,
}

pub async fn insert_webhook(tx: &mut Tx, w: &NewWebhook<'_>, by: &str) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO webhooks (id, facility_id, region_id, url, events, secret_sealed, active, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8)",
        args![
            id,
            w.facility_id,
            w.region_id,
            w.url,
            serde_json::to_string(w.events).unwrap_or_default(),
            w.secret_sealed,
            by,
            Ts::now()
        ],
    )
    .await?;
    Ok(id)
}

pub async fn webhook_by_id(db: &Db, id: Uuid) -> DbResult<Option<Webhook>> {
    db.fetch_optional("SELECT * FROM webhooks WHERE id = $1", args![id])
        .await?
        .as_ref()
        .map(webhook)
        .transpose()
}

/// Switches a webhook off (kept, with its attempts, for the record).
pub async fn deactivate_webhook(tx: &mut Tx, id: Uuid) -> DbResult<()> {
    tx.execute(
        "UPDATE webhooks SET active = FALSE WHERE id = $1",
        args![id],
    )
    .await
    .map(|_| ())
}

const LIST_WEBHOOKS: &str = "SELECT w.* FROM webhooks w LEFT JOIN facilities f ON f.id = w.facility_id WHERE ($1 IS NULL OR COALESCE(f.region_id, w.region_id) LIKE $1) AND ($2 IS NULL OR COALESCE(f.region_id, w.region_id) = $2) AND ($3 IS NULL OR w.facility_id = $3) ORDER BY w.id DESC LIMIT 500";

/// Webhooks within a scope (country pattern, region, facility), newest first.
pub async fn list_webhooks(
    db: &Db,
    country: Option<String>,
    region: Option<String>,
    facility: Option<Uuid>,
) -> DbResult<Vec<Webhook>> {
    db.fetch_all(
        LIST_WEBHOOKS,
        args![country.map(|c| format!("{c}-%")), region, facility],
    )
    .await?
    .iter()
    .map(webhook)
    .collect()
}

/// Active webhooks of a facility or of its region.
pub async fn webhooks_for(tx: &mut Tx, facility: Uuid, region: &str) -> DbResult<Vec<Webhook>> {
    tx.fetch_all(
        "SELECT * FROM webhooks WHERE active = TRUE AND (facility_id = $1 OR region_id = $2)",
        args![facility, region],
    )
    .await?
    .iter()
    .map(webhook)
    .collect()
}

/// One delivery attempt of a webhook.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub id: Uuid,
    pub webhook_id: Uuid,
    /// The same for every retry of one event; sent as `Qorgau-Delivery`.
    pub delivery_id: Uuid,
    pub event: String,
    pub attempt: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Ts,
    /// The HTTP status, or none when no response came.
    pub status: Option<i64>,
    /// Empty on success.
    pub error: String,
    pub duration_ms: i64,
}

pub async fn log_attempt(tx: &mut Tx, a: &Attempt) -> DbResult<()> {
    tx.execute(
        "INSERT INTO webhook_attempts (id, webhook_id, delivery_id, event, attempt, at, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![
            a.id,
            a.webhook_id,
            a.delivery_id,
            &a.event,
            a.attempt,
            a.at,
            a.status,
            &a.error,
            a.duration_ms
        ],
    )
    .await
    .map(|_| ())
}

pub async fn attempts(db: &Db, webhook: Uuid, limit: i64) -> DbResult<Vec<Attempt>> {
    db.fetch_all(
        "SELECT * FROM webhook_attempts WHERE webhook_id = $1 ORDER BY at DESC, attempt DESC LIMIT $2",
        args![webhook, limit],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Attempt {
            id: r.get("id")?,
            webhook_id: r.get("webhook_id")?,
            delivery_id: r.get("delivery_id")?,
            event: r.get("event")?,
            attempt: r.get("attempt")?,
            at: r.ts("at")?,
            status: r.get("status")?,
            error: r.get("error")?,
            duration_ms: r.get("duration_ms")?,
        })
    })
    .collect()
}
