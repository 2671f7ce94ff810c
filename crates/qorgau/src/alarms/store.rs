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
        post_id: r.get("post_id")?,
        escalation_target: r.get("escalation_target")?,
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

/// The answering post: the one covering the alarm's department, else one for the rest of the
/// facility (oldest first), else none.
const INSERT: &str = "INSERT INTO alarms (id, facility_id, department_id, source, source_ref, dedupe_key, kind, state, room, floor, lat, lon, silent, pressed_by, pressed_at, received_at, post_id) VALUES ($1, $2, $3, $4, $5, $6, $7, 'raised', $8, $9, $10, $11, $12, $13, $14, $15, (SELECT p.id FROM security_posts p WHERE p.facility_id = $2 AND p.archived_at IS NULL AND (p.department_id IS NULL OR p.department_id = $3) ORDER BY CASE WHEN p.department_id IS NULL THEN 1 ELSE 0 END, p.created_at, p.id LIMIT 1)) ON CONFLICT (dedupe_key) DO NOTHING";

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

const LIST: &str = "SELECT a.*, f.region_id FROM alarms a JOIN facilities f ON f.id = a.facility_id WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR a.facility_id = $3) AND ($4 IS NULL OR a.department_id = $4) AND ($5 IS NULL OR (a.pressed_by = $5 AND a.kind <> 'duress')) AND ($6 IS NULL OR a.state = $6) AND ($7 IS NULL OR a.facility_id = $7) AND ($8 IS NULL OR a.id < $8) AND ($9 = FALSE OR a.state <> 'resolved') AND ($11 IS NULL OR a.post_id = $11) ORDER BY a.id DESC LIMIT $10";

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub state: Option<State>,
    pub facility: Option<Uuid>,
    /// Only the alarms this security post answers.
    pub post: Option<Uuid>,
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
            limit,
            q.post
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

pub async fn set_escalation(tx: &mut Tx, id: Uuid, level: i64, target: &str) -> DbResult<()> {
    tx.execute(
        "UPDATE alarms SET escalation_level = $2, escalation_target = $3 WHERE id = $1",
        args![id, level, target],
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

const EVENTS: &str = "SELECT e.* FROM alarm_events e WHERE e.seq > $1 AND ($2 IS NULL OR e.region_id LIKE $2) AND ($3 IS NULL OR e.region_id = $3) AND ($4 IS NULL OR e.facility_id = $4) AND ($5 IS NULL OR e.alarm_id IN (SELECT id FROM alarms WHERE department_id = $5)) AND ($6 IS NULL OR e.alarm_id IN (SELECT id FROM alarms WHERE pressed_by = $6 AND kind <> 'duress')) ORDER BY e.seq LIMIT $7";

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

/// Holds a claimed job for `secs` while it works outside any transaction (a notification talking
/// to the network): another node, or this one after a crash, takes it again only when the lease
/// runs out.
pub async fn lease_job(tx: &mut Tx, id: Uuid, secs: i64) -> DbResult<()> {
    tx.execute(
        "UPDATE jobs SET due_at = $2, attempts = attempts + 1 WHERE id = $1",
        args![id, Ts::now().add_secs(secs)],
    )
    .await
    .map(|_| ())
}

pub async fn finish_job(tx: &mut Tx, id: Uuid) -> DbResult<()> {
    tx.execute(
        "UPDATE jobs SET done_at = $2, attempts = attempts + 1 WHERE id = $1",
        args![id, Ts::now()],
    )
    .await
    .map(|_| ())
}

// ------------------------------------------------------------------------------------------
// For the pages: one alarm's timeline, the history with its response times, the phone button's
// settings per facility and per person.

fn event(r: &Row) -> DbResult<AlarmEvent> {
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
}

/// Every change of one alarm, oldest first.
pub async fn events_for(db: &Db, alarm_id: Uuid) -> DbResult<Vec<AlarmEvent>> {
    db.fetch_all(
        "SELECT * FROM alarm_events WHERE alarm_id = $1 ORDER BY seq",
        args![alarm_id],
    )
    .await?
    .iter()
    .map(event)
    .collect()
}

/// The newest alarm a person raised that is not resolved yet.
pub async fn last_open_pressed_by(db: &Db, user: Uuid) -> DbResult<Option<Alarm>> {
    db.fetch_optional(
        "SELECT a.*, f.region_id FROM alarms a JOIN facilities f ON f.id = a.facility_id WHERE a.pressed_by = $1 AND a.state <> 'resolved' AND a.kind <> 'duress' ORDER BY a.id DESC LIMIT 1",
        args![user],
    )
    .await?
    .as_ref()
    .map(alarm)
    .transpose()
}

/// Filters of the history page. Dates are instants already placed in the right zone.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    pub state: Option<State>,
    /// Every state but resolved.
    pub open_only: bool,
    pub kind: Option<Kind>,
    pub facility: Option<Uuid>,
    pub from: Option<Ts>,
    pub to: Option<Ts>,
    pub post: Option<Uuid>,
    /// Leaves out duress alarms (for the person who pressed: her phone may be in other hands).
    pub hide_duress: bool,
}

/// The history filters, the same in both queries below.
const HISTORY: &str = "SELECT a.*, f.region_id FROM alarms a JOIN facilities f ON f.id = a.facility_id WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR a.facility_id = $3) AND ($4 IS NULL OR a.department_id = $4) AND ($5 IS NULL OR (a.pressed_by = $5 AND a.kind <> 'duress')) AND ($6 IS NULL OR a.state = $6) AND ($7 = FALSE OR a.state <> 'resolved') AND ($8 IS NULL OR a.kind = $8) AND ($9 IS NULL OR a.facility_id = $9) AND ($10 IS NULL OR a.pressed_at >= $10) AND ($11 IS NULL OR a.pressed_at < $11) AND ($12 = FALSE OR a.kind <> 'duress') AND ($13 IS NULL OR a.post_id = $13) AND ($14 IS NULL OR a.id < $14) ORDER BY a.id DESC LIMIT $15";

const TIMES: &str = "SELECT a.facility_id, a.post_id, a.pressed_at, a.acked_at, a.on_scene_at FROM alarms a JOIN facilities f ON f.id = a.facility_id WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR a.facility_id = $3) AND ($4 IS NULL OR a.department_id = $4) AND ($5 IS NULL OR (a.pressed_by = $5 AND a.kind <> 'duress')) AND ($6 IS NULL OR a.state = $6) AND ($7 = FALSE OR a.state <> 'resolved') AND ($8 IS NULL OR a.kind = $8) AND ($9 IS NULL OR a.facility_id = $9) AND ($10 IS NULL OR a.pressed_at >= $10) AND ($11 IS NULL OR a.pressed_at < $11) AND ($12 = FALSE OR a.kind <> 'duress') AND ($13 IS NULL OR a.post_id = $13) ORDER BY a.id DESC LIMIT $14";

fn history_args(
    scope: &ScopeFilter,
    own_user: Option<Uuid>,
    q: &HistoryQuery,
) -> Vec<crate::platform::db::Arg> {
    args![
        scope.country.as_ref().map(|c| format!("{c}-%")),
        scope.region.clone(),
        scope.facility,
        scope.department,
        own_user,
        q.state.map(State::code),
        q.open_only,
        q.kind.map(Kind::code),
        q.facility,
        q.from,
        q.to,
        q.hide_duress,
        q.post
    ]
}

/// Alarms matching the history filters, newest first, before the cursor.
pub async fn history(
    db: &Db,
    scope: &ScopeFilter,
    own_user: Option<Uuid>,
    q: &HistoryQuery,
    before: Option<Uuid>,
    limit: i64,
) -> DbResult<Vec<Alarm>> {
    let mut a = history_args(scope, own_user, q);
    a.extend(args![before, limit]);
    db.fetch_all(HISTORY, a).await?.iter().map(alarm).collect()
}

/// One alarm's response: where, and seconds from the press to acknowledgement and to arrival.
#[derive(Clone, Debug)]
pub struct Response {
    pub facility: Uuid,
    pub post: Option<Uuid>,
    pub ack_secs: Option<f64>,
    pub on_scene_secs: Option<f64>,
}

/// The responses to the filtered set of alarms (the newest `cap`).
pub async fn response_times(
    db: &Db,
    scope: &ScopeFilter,
    own_user: Option<Uuid>,
    q: &HistoryQuery,
    cap: i64,
) -> DbResult<Vec<Response>> {
    let mut a = history_args(scope, own_user, q);
    a.extend(args![cap]);
    db.fetch_all(TIMES, a)
        .await?
        .iter()
        .map(|r| {
            let pressed: i64 = r.get("pressed_at")?;
            let secs = |t: Option<i64>| t.map(|t| (t - pressed) as f64 / 1e6);
            Ok(Response {
                facility: r.get("facility_id")?,
                post: r.get("post_id")?,
                ack_secs: secs(r.get("acked_at")?),
                on_scene_secs: secs(r.get("on_scene_at")?),
            })
        })
        .collect()
}

/// How long the phone button must be held at a facility, if its administrator chose.
pub async fn hold_ms(db: &Db, facility: Uuid) -> DbResult<Option<i64>> {
    db.fetch_optional(
        "SELECT hold_ms FROM alarm_button_settings WHERE facility_id = $1",
        args![facility],
    )
    .await?
    .map(|r| r.get::<i64>("hold_ms"))
    .transpose()
}

pub async fn set_hold_ms(tx: &mut Tx, facility: Uuid, ms: i64, by: &str) -> DbResult<()> {
    tx.execute(
        "INSERT INTO alarm_button_settings (facility_id, hold_ms, updated_by, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (facility_id) DO UPDATE SET hold_ms = excluded.hold_ms, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        args![facility, ms, by, Ts::now()],
    )
    .await
    .map(|_| ())
}

/// A person's own button: where she usually is and how she wants it to behave.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub room: String,
    pub gps: bool,
    pub silent: bool,
    pub stand_down_pin_hash: Option<String>,
    pub duress_pin_hash: Option<String>,
}

pub async fn profile(db: &Db, user: Uuid) -> DbResult<Option<Profile>> {
    db.fetch_optional(
        "SELECT * FROM alarm_profiles WHERE user_id = $1",
        args![user],
    )
    .await?
    .map(|r| {
        Ok(Profile {
            room: r.get("room")?,
            gps: r.get("gps")?,
            silent: r.get("silent")?,
            stand_down_pin_hash: r.get("stand_down_pin_hash")?,
            duress_pin_hash: r.get("duress_pin_hash")?,
        })
    })
    .transpose()
}

/// Keeps the room, position and silent choices of the last press for the next one.
pub async fn save_button_choices(
    db: &Db,
    user: Uuid,
    room: &str,
    gps: bool,
    silent: bool,
) -> DbResult<()> {
    let mut tx = db.begin().await?;
    tx.execute(
        "INSERT INTO alarm_profiles (user_id, room, gps, silent, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET room = excluded.room, gps = excluded.gps, silent = excluded.silent, updated_at = excluded.updated_at",
        args![user, room, gps, silent, Ts::now()],
    )
    .await?;
    tx.commit().await
}

/// Sets (Some(hash)) or removes (None) one of the two PINs.
pub async fn set_pin(tx: &mut Tx, user: Uuid, duress: bool, hash: Option<String>) -> DbResult<()> {
    let sql = if duress {
        "INSERT INTO alarm_profiles (user_id, duress_pin_hash, updated_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET duress_pin_hash = excluded.duress_pin_hash, updated_at = excluded.updated_at"
    } else {
        "INSERT INTO alarm_profiles (user_id, stand_down_pin_hash, updated_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET stand_down_pin_hash = excluded.stand_down_pin_hash, updated_at = excluded.updated_at"
    };
    tx.execute(sql, args![user, hash, Ts::now()])
        .await
        .map(|_| ())
}
