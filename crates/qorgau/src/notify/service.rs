//! Sending notifications, always from durable jobs after the caller's transaction committed: the
//! alarm path only inserts one job row. That job fans out into one job per webhook and per push
//! subscription; each of those is leased, sent outside any transaction (so a slow gateway never
//! holds the database), then finished or scheduled again with back-off.

use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::alarms::store::{Job, finish_job, lease_job, schedule};
use crate::notify::model::*;
use crate::notify::push::Vapid;
use crate::notify::store::{self, Attempt};
use crate::platform::db::{Db, Tx};
use crate::platform::error::AppResult;
use crate::platform::i18n::{Lang, Tr};
use crate::platform::state::AppState;
use crate::platform::time::Ts;

pub const FANOUT: &str = "notify.fanout";
pub const WEBHOOK: &str = "notify.webhook";
pub const PUSH: &str = "notify.push";

/// Every outgoing request gives up after this long.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A delivery job's lease: longer than a send can take.
const LEASE_SECS: i64 = 60;
/// Push messages are retried a few times on server errors, then dropped (the console and the
/// webhooks still carry the alarm).
const PUSH_ATTEMPTS: i64 = 3;

pub fn is_notify_job(kind: &str) -> bool {
    matches!(kind, FANOUT | WEBHOOK | PUSH)
}

/// Queues `notice` for every channel, inside the caller's transaction.
pub async fn enqueue(tx: &mut Tx, notice: &Notice) -> AppResult<()> {
    let payload = serde_json::to_value(notice).unwrap_or(serde_json::Value::Null);
    schedule(
        tx,
        FANOUT,
        &notice.alarm_id.to_string(),
        Ts::now(),
        &payload,
    )
    .await?;
    Ok(())
}

/// A job leased for sending after its claiming transaction commits.
pub struct Delivery(Job);

/// Runs a claimed notify job inside its claiming transaction: a fan-out is done here and
/// finished; a delivery is leased and returned, to be sent by [`deliver`] after the commit.
pub async fn run_job(db: &Db, tx: &mut Tx, job: Job) -> AppResult<Option<Delivery>> {
    if job.kind == FANOUT {
        if let Ok(n) = serde_json::from_value::<Notice>(job.payload.clone()) {
            fan_out(db, tx, &n).await?;
        }
        finish_job(tx, job.id).await?;
        return Ok(None);
    }
    lease_job(tx, job.id, LEASE_SECS).await?;
    Ok(Some(Delivery(job)))
}

async fn fan_out(db: &Db, tx: &mut Tx, n: &Notice) -> AppResult<()> {
    for w in store::webhooks_for(tx, n.facility_id, &n.region_id).await? {
        if !w.events.iter().any(|e| e == &n.event) {
            continue;
        }
        let body = webhook_body(n);
        schedule(
            tx,
            WEBHOOK,
            &w.id.to_string(),
            Ts::now(),
            &serde_json::json!({
                "webhook_id": w.id, "delivery_id": Uuid::now_v7(), "event": n.event,
                "attempt": 1, "body": body
            }),
        )
        .await?;
    }
    let mut subs = vec![];
    let facility = n.facility_id.to_string();
    let target = if n.event == EVENT_RAISED {
        None
    } else {
        Target::parse(&n.target)
    };
    match target {
        // A new alarm: the people at the facility's consoles.
        None => {
            subs.extend(
                store::subscriptions_of(tx, "security_guard", "facility", &facility).await?,
            );
            subs.extend(
                store::subscriptions_of(tx, "facility_admin", "facility", &facility).await?,
            );
        }
        Some(Target::FacilityDutyAdmin) => {
            subs.extend(
                store::subscriptions_of(tx, "facility_admin", "facility", &facility).await?,
            );
        }
        Some(Target::SecurityPost) => {
            subs.extend(
                store::subscriptions_of(tx, "security_guard", "facility", &facility).await?,
            );
        }
        Some(Target::DepartmentHead) => {
            let depts = match n.department_id {
                Some(d) => vec![d],
                None => crate::directory::store::departments(db, n.facility_id, false)
                    .await?
                    .into_iter()
                    .map(|d| d.id)
                    .collect(),
            };
            for d in depts {
                subs.extend(
                    store::subscriptions_of(tx, "department_head", "department", &d.to_string())
                        .await?,
                );
            }
        }
        Some(Target::RegionalDutyOfficer) => {
            subs.extend(
                store::subscriptions_of(tx, "regional_health", "region", &n.region_id).await?,
            );
        }
    }
    // Facility roles hear about their facility's alarms while on shift (the regional officer
    // keeps no facility roster).
    if target != Some(Target::RegionalDutyOfficer)
        && let Some(f) = crate::directory::store::facility_by_id(db, n.facility_id).await?
        && let Ok(zone) = jiff::tz::TimeZone::get(&f.tz)
    {
        let now = crate::reports::classify::local_of(jiff::Timestamp::now(), &zone);
        let on_duty = store::on_duty(tx, n.facility_id, now).await?;
        subs = on_duty_first(subs, |s| s.person_id, &on_duty);
    }
    for s in subs {
        let tr = Tr::new(s.lang.as_deref().and_then(Lang::parse).unwrap_or(Lang::Ru));
        let message = push_message(tr, n);
        schedule(
            tx,
            PUSH,
            &s.id.to_string(),
            Ts::now(),
            &serde_json::json!({"subscription_id": s.id, "attempt": 1, "message": message}),
        )
        .await?;
    }
    Ok(())
}

/// The JSON a webhook receives (documented in docs/api.md).
pub fn webhook_body(n: &Notice) -> String {
    serde_json::json!({
        "event": n.event,
        "alarm": {
            "id": n.alarm_id, "facility_id": n.facility_id, "region_id": n.region_id,
            "department_id": n.department_id, "kind": n.kind, "room": n.room, "floor": n.floor
        },
        "level": n.level,
        "target": n.target,
        "occurred_at": Ts::from_micros(n.at).rfc3339(),
    })
    .to_string()
}

/// What the service worker shows: a title, a line, and where a tap leads.
fn push_message(tr: Tr, n: &Notice) -> serde_json::Value {
    let title = if n.event == EVENT_RAISED {
        tr.t("notify-push-raised")
    } else {
        tr.t("notify-push-escalated")
    };
    let mut body = [n.room.as_str(), n.floor.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(t) = Target::parse(&n.target) {
        if !body.is_empty() {
            body.push_str(" · ");
        }
        body.push_str(&tr.t(t.label_id()));
    }
    serde_json::json!({
        "alarm_id": n.alarm_id, "event": n.event, "level": n.level,
        "title": title, "body": body, "url": format!("/alarms/{}", n.alarm_id)
    })
}

/// The client for webhooks and push, reaching only public addresses and the operator's
/// listed networks; one per allow list (tests run servers with different lists in one process).
fn client(st: &AppState) -> (reqwest::Client, crate::notify::ssrf::Allow) {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CLIENTS: Mutex<Option<HashMap<Vec<String>, reqwest::Client>>> = Mutex::new(None);
    let allow = crate::notify::ssrf::Allow::parse(&st.cfg.webhook_allow).unwrap_or_default();
    let mut map = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    let c = map
        .get_or_insert_with(HashMap::new)
        .entry(st.cfg.webhook_allow.clone())
        .or_insert_with(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            crate::notify::ssrf::client(
                &allow,
                reqwest::Client::builder()
                    .timeout(SEND_TIMEOUT)
                    .connect_timeout(Duration::from_secs(5))
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent("Qorgau"),
            )
        })
        .clone();
    (c, allow)
}

/// Sends a leased delivery, then records the outcome in a new transaction.
pub async fn deliver(st: AppState, d: Delivery) {
    let job = d.0;
    let r = if job.kind == WEBHOOK {
        deliver_webhook(&st, &job).await
    } else {
        deliver_push(&st, &job).await
    };
    if let Err(e) = r {
        tracing::warn!(error = %e, job = %job.id, kind = %job.kind, "notification delivery");
    }
}

async fn deliver_webhook(st: &AppState, job: &Job) -> AppResult<()> {
    let p = &job.payload;
    let parse = |k: &str| p[k].as_str().and_then(|s| Uuid::parse_str(s).ok());
    let (Some(hook_id), Some(delivery_id)) = (parse("webhook_id"), parse("delivery_id")) else {
        return finish(st, job.id).await;
    };
    let attempt = p["attempt"].as_i64().unwrap_or(1);
    let event = p["event"].as_str().unwrap_or("").to_owned();
    let body = p["body"].as_str().unwrap_or("{}").to_owned();
    let hook = match store::webhook_by_id(&st.db, hook_id).await? {
        Some(h) if h.active => h,
        _ => return finish(st, job.id).await,
    };
    let secret = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &hook.secret_sealed,
    )
    .ok()
    .and_then(|b| st.sealer.open("webhook.secret", &b).ok());
    let Some(secret) = secret else {
        tracing::error!(webhook = %hook_id, "webhook secret does not open with this seal key");
        return finish(st, job.id).await;
    };
    let at = Ts::now();
    let started = Instant::now();
    let sig = signature(&secret, at.micros() / 1_000_000, body.as_bytes());
    let (http, allow) = client(st);
    let (status, error) = match allow.check_url(&hook.url) {
        Err(why) => (None, why),
        Ok(()) => {
            let res = http
                .post(&hook.url)
                .header("Content-Type", "application/json")
                .header("Qorgau-Signature", sig)
                .header("Qorgau-Event", &event)
                .header("Qorgau-Delivery", delivery_id.to_string())
                .body(body.clone())
                .send()
                .await;
            match &res {
                Ok(r) if r.status().is_success() => {
                    (Some(i64::from(r.status().as_u16())), String::new())
                }
                Ok(r) => (
                    Some(i64::from(r.status().as_u16())),
                    format!("HTTP {}", r.status().as_u16()),
                ),
                Err(e) => (None, error_text(e)),
            }
        }
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    metrics::counter!("qorgau_webhook_attempts_total", "ok" => if error.is_empty() { "true" } else { "false" }).increment(1);
    let mut tx = st.db.begin().await?;
    store::log_attempt(
        &mut tx,
        &Attempt {
            id: Uuid::now_v7(),
            webhook_id: hook_id,
            delivery_id,
            event: event.clone(),
            attempt,
            at,
            status,
            error: error.clone(),
            duration_ms,
        },
    )
    .await?;
    finish_job(&mut tx, job.id).await?;
    if !error.is_empty() && attempt < MAX_ATTEMPTS {
        schedule(
            &mut tx,
            WEBHOOK,
            &job.ref_id,
            Ts::now().add_secs(backoff_secs(attempt)),
            &serde_json::json!({
                "webhook_id": hook_id, "delivery_id": delivery_id, "event": event,
                "attempt": attempt + 1, "body": body
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The error without the URL (which may carry a gateway's token in its query).
fn error_text(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "request"
    };
    // The causes say why (a refused address, a reset connection), not only "error sending".
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    let detail = match e.url() {
        Some(u) => text.replace(u.as_str(), ""),
        None => text,
    };
    format!("{kind}: {}", detail.chars().take(300).collect::<String>())
}

async fn deliver_push(st: &AppState, job: &Job) -> AppResult<()> {
    let p = &job.payload;
    let Some(sub_id) = p["subscription_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
    else {
        return finish(st, job.id).await;
    };
    let attempt = p["attempt"].as_i64().unwrap_or(1);
    let Some(sub) = store::subscription_by_id(&st.db, sub_id).await? else {
        return finish(st, job.id).await;
    };
    let vapid = Vapid::load(&st.cfg.data_dir)
        .map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))?;
    let message = p["message"].to_string();
    let sent = match (
        crate::notify::push::encrypt(&sub.p256dh, &sub.auth, message.as_bytes()),
        vapid.authorization(&sub.endpoint, Ts::now().micros() / 1_000_000),
    ) {
        (Ok(body), Ok(auth)) if client(st).1.check_url(&sub.endpoint).is_ok() => Some(
            client(st)
                .0
                .post(&sub.endpoint)
                .header("Authorization", auth)
                .header("Content-Encoding", "aes128gcm")
                .header("Content-Type", "application/octet-stream")
                .header("TTL", "3600")
                .header("Urgency", "high")
                .body(body)
                .send()
                .await,
        ),
        // A subscription that cannot be encrypted for or addressed never will be.
        _ => None,
    };
    let status = match &sent {
        Some(Ok(r)) => Some(r.status().as_u16()),
        _ => None,
    };
    metrics::counter!("qorgau_push_sent_total", "status" => status.map(|s| s.to_string()).unwrap_or_else(|| "error".into())).increment(1);
    match (sent, status) {
        (None, _) | (_, Some(404 | 410)) => {
            store::drop_subscription(&st.db, sub.id).await?;
            finish(st, job.id).await
        }
        (_, Some(s)) if (200..300).contains(&s) => finish(st, job.id).await,
        _ if attempt < PUSH_ATTEMPTS => {
            let mut tx = st.db.begin().await?;
            finish_job(&mut tx, job.id).await?;
            let mut next = p.clone();
            next["attempt"] = serde_json::json!(attempt + 1);
            schedule(
                &mut tx,
                PUSH,
                &job.ref_id,
                Ts::now().add_secs(backoff_secs(attempt)),
                &next,
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        _ => finish(st, job.id).await,
    }
}

async fn finish(st: &AppState, job: Uuid) -> AppResult<()> {
    let mut tx = st.db.begin().await?;
    finish_job(&mut tx, job).await?;
    tx.commit().await?;
    Ok(())
}
