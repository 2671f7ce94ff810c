//! Alarm SQL: alarms, their timeline, and durable timers.

use uuid::Uuid;

use crate::alarms::model::*;
use crate::args;
use crate::platform::access::ScopeFilter;
use crate::platform::db::{Backend, Db, DbResult, Row, Tx};
use crate::platform::time::Ts;

fn alarm(r: &Row) -> DbResult<Alarm> {
    Ok(Alarm {
        id: r.get("id")?,
        facility_id: r.get("facility_id")?,
        department_id: r.get("department_id")?,
        source: Source::parse(&r.get::<String>("source")?).unwrap_or(Source::Phone),
        source_ref: r.get("source_ref")?,
        kind: Kind::parse(&r.get::<String>("kind")?).unwrap_or(Kind::Panic),
        state: State::parse(&r.get::<String>("state")?).unwrap_or(State::Raised),
        outcome: r
            .get::<Option<String>>("outcome")?
            .as_deref()
            .and_then(Outcome::parse),
        room: r.get("room")?,
        floor: r.get("floor")?,
        lat: r.get("lat")?,
        lon: r.get("lon")?,
        silent: r.get("silent")?,
        pressed_by: r.get("pressed_by")?,
        pressed_at: r.ts("pressed_at")?,
        received_at: r.ts("received_at")?,
        acked_at: r.opt_ts("acked_at")?,
        on_scene_at: r.opt_ts("on_scene_at")?,
        resolved_at: r.opt_ts("resolved_at")?,
        escalation_level: r.get("escalation_level")?,
        region_id: r.get("region_id")?,
    })
}

/// A press as it arrives, before it is an alarm.
#[derive(Clone, Debug)]
pub struct NewAlarm {
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
    pub source: Source,
    pub source_ref: String,
    /// The same press sent again has the same key.
    pub dedupe_key: String,
    pub kind: Kind,
    pub room: String,
    pub floor: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub silent: bool,
    pub pressed_by: Option<Uuid>,
    pub pressed_at: Ts,
}

const INSERT: &str = "INSERT INTO alarms (id, facility_id, department_id, source, source_ref, dedupe_key, kind, state, room, floor, lat, lon, silent, pressed_by, pressed_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'raised', $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (dedupe_key) DO NOTHING";

/// Inserts unless the same press is already stored; returns the alarm id and whether it is new.
pub async fn insert(tx: &mut Tx, a: &NewAlarm) -> DbResult<(Uuid, bool)> {
    let id = Uuid::now_v7();
    let n = tx
        .execute(
            INSERT,
            args![
                id,
                a.facility_id,
                a.department_id,
                a.source.code(),
                &a.source_ref,
                &a.dedupe_key,
                a.kind.code(),
                &a.room,
                &a.floor,
                a.lat,
                a.lon,
                a.silent,
                a.pressed_by,
                a.pressed_at,
                Ts::now()
            ],
        )
        .await?;
    if n == 1 {
        return Ok((id, true));
    }
    let r = tx
        .fetch_one(
            "SELECT id FROM alarms WHERE dedupe_key = $1",
            args![&a.dedupe_key],
        )
        .await?;
    Ok((r.get("id")?, false))
}

pub async fn get(db: &Db, id: Uuid) -> DbResult<Option<Alarm>> {
    db.fetch_optional(
        "SELECT a.*, f.region_id FROM alarms a JOIN facilities f ON f.id = a.facility_id WHERE a.id = $1",
        args![id],
    )
    .await?
    .as_ref()
    .map(alarm)
    .transpose()
}

pub async fn get_tx(tx: &mut Tx, id: Uuid) -> DbResult<Option<Alarm>> {
    tx.fetch_optional(
        "SELECT a.*, f.region_id FROM alarms a JOIN facilities f ON f.id = a.facility_id WHERE a.id = $1",
        args![id],
    )
    .await?
    .as_ref()
    .map(alarm)
    .transpose()
}

const LIST: &str = "SELECT a.*, f.region_id FROM alarms a JOIN facilities f ON f.id = a.facility_id WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR a.facility_id = $3) AND ($4 IS NULL OR a.department_id = $4) AND ($5 IS NULL OR a.pressed_by = $5) AND ($6 IS NULL OR a.state = $6) AND ($7 IS NULL OR a.facility_id = $7) AND ($8 IS NULL OR a.id < $8) AND ($9 = FALSE OR a.state <> 'resolved') ORDER BY a.id DESC LIMIT $10";

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub state: Option<State>,
    pub facility: Option<Uuid>,
    pub open_only: bool,
    pub before: Option<Uuid>,
}

/// Newest first. `own_user` narrows an own-scope caller to the alarms she raised.
pub async fn list(
    db: &Db,
    scope: &ScopeFilter,
    own_user: Option<Uuid>,
    q: &ListQuery,
    limit: i64,
) -> DbResult<Vec<Alarm>> {
    db.fetch_all(
        LIST,
        args![
            scope.country.as_ref().map(|c| format!("{c}-%")),
            scope.region.clone(),
            scope.facility,
            scope.department,
            own_user,
            q.state.map(State::code),
            q.facility,
            q.before,
            q.open_only,
            limit
        ],
    )
    .await?
    .iter()
    .map(alarm)
    .collect()
}

/// Writes the timestamps and state an action leaves behind.
pub async fn set_state(
    tx: &mut Tx,
    id: Uuid,
    state: State,
    outcome: Option<Outcome>,
    now: Ts,
) -> DbResult<()> {
    let sql = match state {
        State::Acknowledged => {
            "UPDATE alarms SET state = $2, acked_at = COALESCE(acked_at, $3) WHERE id = $1"
        }
        State::Dispatched => {
            "UPDATE alarms SET state = $2, acked_at = COALESCE(acked_at, $3) WHERE id = $1"
        }
        State::OnScene => {
            "UPDATE alarms SET state = $2, acked_at = COALESCE(acked_at, $3), on_scene_at = COALESCE(on_scene_at, $3) WHERE id = $1"
        }
        State::Resolved => {
            "UPDATE alarms SET state = $2, resolved_at = $3, outcome = $4 WHERE id = $1"
        }
        State::Raised => return Ok(()),
    };
    if state == State::Resolved {
        tx.execute(
            sql,
            args![id, state.code(), now, outcome.map(Outcome::code)],
        )
        .await?;
    } else {
        tx.execute(sql, args![id, state.code(), now]).await?;
    }
    Ok(())
}

pub async fn set_escalation(tx: &mut Tx, id: Uuid, level: i64) -> DbResult<()> {
    tx.execute(
        "UPDATE alarms SET escalation_level = $2 WHERE id = $1",
        args![id, level],
    )
    .await
    .map(|_| ())
}

/// One change in an alarm's life, as the console's live feed shows it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AlarmEvent {
    /// Increasing across all alarms; the SSE event id (`Last-Event-ID` resumes after it).
    pub seq: i64,
    pub alarm_id: Uuid,
    pub facility_id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub at: Ts,
    pub actor: String,
    /// raised, acknowledged, dispatched, on_scene, called, note, escalated, resolved
    pub kind: String,
    /// The action's details as JSON (guards, service, text, outcome, level).
    pub detail: serde_json::Value,
}

/// Appends to the timeline. Called after the audit append in the same transaction: on PostgreSQL
/// the audit lock makes sequence numbers commit in order, so a reader resuming after `seq` never
/// skips an event that commits later with a smaller number.
pub async fn append_event(
    tx: &mut Tx,
    a: &Alarm,
    actor: &str,
    kind: &str,
    detail: &serde_json::Value,
) -> DbResult<()> {
    tx.execute(
        "INSERT INTO alarm_events (alarm_id, facility_id, region_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        args![a.id, a.facility_id, &a.region_id, Ts::now(), actor, kind, detail.to_string()],
    )
    .await
    .map(|_| ())
}

const EVENTS: &str = "SELECT e.* FROM alarm_events e WHERE e.seq > $1 AND ($2 IS NULL OR e.region_id LIKE $2) AND ($3 IS NULL OR e.region_id = $3) AND ($4 IS NULL OR e.facility_id = $4) AND ($5 IS NULL OR e.alarm_id IN (SELECT id FROM alarms WHERE department_id = $5)) AND ($6 IS NULL OR e.alarm_id IN (SELECT id FROM alarms WHERE pressed_by = $6)) ORDER BY e.seq LIMIT $7";

pub async fn events_since(
    db: &Db,
    scope: &ScopeFilter,
    own_user: Option<Uuid>,
    after: i64,
    limit: i64,
) -> DbResult<Vec<AlarmEvent>> {
    db.fetch_all(
        EVENTS,
        args![
            after,
            scope.country.as_ref().map(|c| format!("{c}-%")),
            scope.region.clone(),
            scope.facility,
            scope.department,
            own_user,
            limit
        ],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(AlarmEvent {
            seq: r.get("seq")?,
            alarm_id: r.get("alarm_id")?,
            facility_id: r.get("facility_id")?,
            at: r.ts("at")?,
            actor: r.get("actor")?,
            kind: r.get("kind")?,
            detail: serde_json::from_str(&r.get::<String>("detail")?)
                .unwrap_or(serde_json::Value::Null),
        })
    })
    .collect()
}

pub async fn last_event_seq(db: &Db) -> DbResult<i64> {
    db.fetch_one(
        "SELECT COALESCE(MAX(seq), 0) AS n FROM alarm_events",
        args![],
    )
    .await?
    .get::<i64>("n")
}

/// A durable timer.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub ref_id: String,
    pub payload: serde_json::Value,
}

pub async fn schedule(
    tx: &mut Tx,
    kind: &str,
    ref_id: &str,
    due: Ts,
    payload: &serde_json::Value,
) -> DbResult<()> {
    tx.execute(
        "INSERT INTO jobs (id, kind, ref_id, due_at, payload) VALUES ($1, $2, $3, $4, $5)",
        args![Uuid::now_v7(), kind, ref_id, due, payload.to_string()],
    )
    .await
    .map(|_| ())
}

const CLAIM_PG: &str = "SELECT id, kind, ref_id, payload FROM jobs WHERE done_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED";
const CLAIM_SQLITE: &str = "SELECT id, kind, ref_id, payload FROM jobs WHERE done_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT $2";

/// Takes due jobs inside `tx`: on PostgreSQL the rows stay locked until commit, so two nodes never
/// run the same job; SQLite has one writer, so the transaction alone is enough.
pub async fn claim_due(tx: &mut Tx, now: Ts, limit: i64) -> DbResult<Vec<Job>> {
    let sql = match tx.backend() {
        Backend::Postgres => CLAIM_PG,
        Backend::Sqlite => CLAIM_SQLITE,
    };
    tx.fetch_all(sql, args![now, limit])
        .await?
        .iter()
        .map(|r| {
            Ok(Job {
                id: r.get("id")?,
                kind: r.get("kind")?,
                ref_id: r.get("ref_id")?,
                payload: serde_json::from_str(&r.get::<String>("payload")?)
                    .unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}

pub async fn finish_job(tx: &mut Tx, id: Uuid) -> DbResult<()> {
    tx.execute(
        "UPDATE jobs SET done_at = $2, attempts = attempts + 1 WHERE id = $1",
        args![id, Ts::now()],
    )
    .await
    .map(|_| ())
}
