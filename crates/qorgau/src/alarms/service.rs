//! What happens to an alarm, the same whichever door it came in by: raising (durably, once),
//! responders' actions, and escalation when nobody acknowledges.

use uuid::Uuid;

use crate::alarms::model::*;
use crate::alarms::store::{self, NewAlarm};
use crate::notify::model::{
    DEFAULT_POLICY, EVENT_ESCALATED, EVENT_RAISED, Notice as Notification, Step,
};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::error::{AppError, AppResult};
use crate::platform::events::Notice;
use crate::platform::state::AppState;
use crate::platform::time::Ts;

pub const ESCALATE: &str = "alarm.escalate";

/// Stores the press and its first timeline entry, audit entry and escalation timer in one
/// transaction. Only after it commits may the sender be told the alarm is received. A press sent
/// again (same dedupe key) returns the stored alarm and changes nothing.
pub async fn raise(st: &AppState, new: &NewAlarm, actor: &Actor) -> AppResult<(Alarm, bool)> {
    let (new, actor) = (new.clone(), actor.clone());
    // Presses arriving together share one commit (platform/batch.rs); each is answered only
    // after that commit.
    let (alarm, created) = st
        .batch
        .write(move |tx| Box::pin(async move { raise_in(tx, &new, &actor).await }))
        .await?;
    if created {
        announce(st, &alarm).await;
    }
    Ok((alarm, created))
}

/// What [`raise`] writes, inside a transaction the caller commits (a panel's event row or a
/// timer's completion belongs in the same one). After the commit, call [`announce`] for a new
/// alarm.
pub async fn raise_in(
    tx: &mut crate::platform::db::Tx,
    new: &NewAlarm,
    actor: &Actor,
) -> AppResult<(Alarm, bool)> {
    let (id, created) = match store::insert(tx, new).await {
        Ok(x) => x,
        Err(e) if e.is_foreign_key_violation() => {
            return Err(AppError::field("facility_id", "err-choice"));
        }
        Err(e) => return Err(e.into()),
    };
    let alarm = store::get_tx(tx, id).await?.ok_or(AppError::NotFound)?;
    if !created {
        return Ok((alarm, false));
    }
    audit::append(
        tx,
        actor,
        Event::new("alarm.raise", "alarm", id).detail(serde_json::json!({
            "source": new.source.code(), "kind": new.kind.code(), "ref": new.source_ref
        })),
    )
    .await?;
    let detail = serde_json::json!({
        "source": new.source.code(), "kind": new.kind.code(), "room": new.room, "floor": new.floor,
        "silent": new.silent, "ref": new.source_ref
    });
    store::append_event(tx, &alarm, &actor.label, "raised", &detail).await?;
    // The facility's policy as it is now travels with the alarm's timer: changing the policy
    // later does not change what happens to alarms already raised.
    let steps = crate::notify::store::policy_tx(tx, alarm.facility_id).await?;
    // Duress skips the wait: the first step is due at once.
    let first = if new.kind == Kind::Duress {
        0
    } else {
        steps
            .first()
            .map_or(DEFAULT_POLICY[0].after_secs, |s| s.after_secs)
    };
    store::schedule(
        tx,
        ESCALATE,
        &id.to_string(),
        new.pressed_at.max(Ts::now()).add_secs(first),
        &serde_json::json!({"level": 1, "steps": steps}),
    )
    .await?;
    crate::notify::service::enqueue(tx, &notice(&alarm, EVENT_RAISED, 0, "")).await?;
    Ok((alarm, true))
}

/// What the notification channels say about `alarm`.
fn notice(alarm: &Alarm, event: &str, level: i64, target: &str) -> Notification {
    Notification {
        event: event.to_owned(),
        alarm_id: alarm.id,
        facility_id: alarm.facility_id,
        region_id: alarm.region_id.clone(),
        department_id: alarm.department_id,
        kind: alarm.kind.code().to_owned(),
        room: alarm.room.clone(),
        floor: alarm.floor.clone(),
        level,
        target: target.to_owned(),
        at: Ts::now().micros(),
    }
}

/// Counts a new alarm and tells the consoles; only after its transaction committed.
pub async fn announce(st: &AppState, alarm: &Alarm) {
    metrics::counter!("qorgau_alarms_raised_total", "source" => alarm.source.code()).increment(1);
    st.events.publish(Notice::Alarms(alarm.facility_id)).await;
}

/// A responder's action, checked by the state machine, recorded with who and when.
pub async fn act(st: &AppState, alarm_id: Uuid, act: &Act, actor: &Actor) -> AppResult<Alarm> {
    let mut tx = st.db.begin().await?;
    let alarm = store::get_tx(&mut tx, alarm_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let next = match next_state(alarm.state, act) {
        Ok(s) => s,
        Err(Refused::Field(f, code)) => return Err(AppError::field(f, code)),
        Err(Refused::Closed) => return Err(AppError::Conflict("alarm-closed")),
        Err(Refused::WrongState) => return Err(AppError::Conflict("alarm-wrong-state")),
    };
    let now = Ts::now();
    let outcome = match act {
        Act::Resolve { outcome, .. } => Some(*outcome),
        _ => None,
    };
    store::set_state(&mut tx, alarm_id, next, outcome, now).await?;
    let detail = serde_json::to_value(act).unwrap_or(serde_json::Value::Null);
    audit::append(
        &mut tx,
        actor,
        Event::new("alarm.act", "alarm", alarm_id).detail(detail.clone()),
    )
    .await?;
    store::append_event(&mut tx, &alarm, &actor.label, act.code(), &detail).await?;
    tx.commit().await?;
    st.events.publish(Notice::Alarms(alarm.facility_id)).await;
    store::get(&st.db, alarm_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Runs due timers every second on every node; each job runs once.
pub fn start_timers(st: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_due(&st).await {
                tracing::warn!(error = %e, "running timers");
            }
        }
    });
}

/// Claims due jobs and runs them, each in the transaction that claims it.
pub async fn run_due(st: &AppState) -> AppResult<usize> {
    let mut ran = 0;
    loop {
        let mut tx = st.db.begin().await?;
        let jobs = store::claim_due(&mut tx, Ts::now(), 1).await?;
        let Some(job) = jobs.into_iter().next() else {
            return Ok(ran);
        };
        let mut notify = None;
        let mut delivery = None;
        if job.kind == ESCALATE {
            notify = escalate(&mut tx, &job).await?;
            store::finish_job(&mut tx, job.id).await?;
        } else if job.kind == crate::alarms::panels::SUPERVISE {
            notify = crate::alarms::panels::supervise(&mut tx, &job).await?;
            store::finish_job(&mut tx, job.id).await?;
        } else if job.kind == crate::triage::service::DUTY_DUE {
            crate::triage::service::duty_due(&mut tx, &job).await?;
            store::finish_job(&mut tx, job.id).await?;
        } else if crate::notify::service::is_notify_job(&job.kind) {
            delivery = crate::notify::service::run_job(&st.db, &mut tx, job).await?;
        } else {
            store::finish_job(&mut tx, job.id).await?;
        }
        tx.commit().await?;
        if let Some(f) = notify {
            st.events.publish(Notice::Alarms(f)).await;
        }
        // Sending waits on the network: never in the timer loop, so escalations stay on time.
        if let Some(d) = delivery {
            tokio::spawn(crate::notify::service::deliver(st.clone(), d));
        }
        ran += 1;
    }
}

async fn escalate(tx: &mut crate::platform::db::Tx, job: &store::Job) -> AppResult<Option<Uuid>> {
    let Ok(id) = Uuid::parse_str(&job.ref_id) else {
        return Ok(None);
    };
    let Some(alarm) = store::get_tx(tx, id).await? else {
        return Ok(None);
    };
    // Acknowledged (or further) in time: nothing to do.
    if alarm.state != State::Raised {
        return Ok(None);
    }
    let level = job.payload["level"].as_i64().unwrap_or(1);
    // Timers scheduled before policies were stored carry no steps: they follow the default.
    let steps: Vec<Step> = serde_json::from_value(job.payload["steps"].clone())
        .unwrap_or_else(|_| DEFAULT_POLICY.to_vec());
    let Some(step) = usize::try_from(level - 1).ok().and_then(|i| steps.get(i)) else {
        return Ok(None);
    };
    store::set_escalation(tx, id, level, step.target.code()).await?;
    let detail = serde_json::json!({
        "level": level, "to": step.target.code(), "after_secs": step.after_secs,
        "steps": steps.len()
    });
    audit::append(
        tx,
        &Actor::system(),
        Event::new("alarm.escalate", "alarm", id).detail(detail.clone()),
    )
    .await?;
    store::append_event(tx, &alarm, "system", "escalated", &detail).await?;
    crate::notify::service::enqueue(
        tx,
        &notice(&alarm, EVENT_ESCALATED, level, step.target.code()),
    )
    .await?;
    if let Some(next) = usize::try_from(level).ok().and_then(|i| steps.get(i)) {
        store::schedule(
            tx,
            ESCALATE,
            &job.ref_id,
            Ts::now().add_secs(next.after_secs),
            &serde_json::json!({"level": level + 1, "steps": steps}),
        )
        .await?;
    }
    Ok(Some(alarm.facility_id))
}
