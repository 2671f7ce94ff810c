//! The alarm panel registry: which SIA DC-09 account sits where, its AES key, its supervision
//! interval, and what it sent. The receiver (`alarms::sia`) reads this; administrators edit it
//! over the API; a durable timer per supervised panel raises a "panel silent" alarm when the
//! panel stops talking.
//!
//! A panel that sends in clear from an account nobody registered is stored as *unassigned*
//! (no facility) and listed for an administrator to place. Keys are never returned by the API:
//! a panel shows whether it has one, of which form and size.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::alarms::model::{Kind, Source};
use crate::alarms::service;
use crate::alarms::store::{self as alarm_store, Job, NewAlarm};
use crate::args;
use crate::platform::access::{Action, Place, Principal};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::crypto::Sealer;
use crate::platform::db::{Db, DbResult, Row, Tx};
use crate::platform::error::{AppError, AppResult};
use crate::platform::extract::{LateJson, PageQuery, Paged, Query};
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::validate::Check;

/// The durable timer that checks one panel's supervision (`ref_id` is the panel id).
pub const SUPERVISE: &str = "panel.supervise";
/// The longest supervision interval accepted: a week.
pub const MAX_SUPERVISION_SECS: i64 = 7 * 86_400;

/// How the key was written. A 32-character string could be either, so the form is chosen, never
/// guessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyFormat {
    /// 32, 48 or 64 hex digits (AES-128, -192, -256).
    Hex,
    /// 16, 24 or 32 ASCII characters whose bytes are the key, as some receivers take it.
    Ascii,
}

impl KeyFormat {
    pub fn code(self) -> &'static str {
        match self {
            KeyFormat::Hex => "hex",
            KeyFormat::Ascii => "ascii",
        }
    }
    pub fn parse(s: &str) -> Option<KeyFormat> {
        [KeyFormat::Hex, KeyFormat::Ascii]
            .into_iter()
            .find(|k| k.code() == s)
    }
    /// The key `text` written in this form.
    pub fn key(self, text: &str) -> Option<sia_dc09::Key> {
        match self {
            KeyFormat::Hex => sia_dc09::Key::from_hex(text).ok(),
            KeyFormat::Ascii => sia_dc09::Key::from_ascii(text).ok(),
        }
    }
}

/// An alarm panel: one DC-09 account.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Panel {
    pub id: Uuid,
    /// The account number the panel sends after `#` (hex digits, upper-case).
    pub account: String,
    pub name: String,
    /// `null`: unassigned, waiting for an administrator to place it.
    pub facility_id: Option<Uuid>,
    pub facility_name: Option<String>,
    pub department_id: Option<Uuid>,
    pub room: String,
    pub floor: String,
    /// Whether the panel must encrypt (it has a key).
    pub has_key: bool,
    pub key_format: Option<KeyFormat>,
    /// 128, 192 or 256.
    pub key_bits: Option<u16>,
    /// Seconds without any message after which a "panel silent" alarm is raised; `null`: none.
    pub supervision_secs: Option<i64>,
    /// A "panel silent" alarm was raised and the panel has not spoken since.
    pub silent: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen_at: Option<Ts>,
    /// The address its last message came from.
    pub last_addr: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[serde(skip)]
    pub region_id: Option<String>,
    /// The key as entered, sealed (platform/crypto.rs): a database dump alone cannot forge
    /// messages from the panel.
    #[serde(skip)]
    pub sealed_key: Option<Vec<u8>>,
    #[serde(skip)]
    pub watch_from: Option<Ts>,
}

impl Panel {
    /// The AES key the panel encrypts with, if it has one.
    pub fn key(&self, sealer: &Sealer) -> Option<sia_dc09::Key> {
        self.key_format?.key(&self.key_text(sealer)?)
    }
    fn key_text(&self, sealer: &Sealer) -> Option<String> {
        sealer
            .open_str(KEY_PURPOSE, self.sealed_key.as_deref()?)
            .ok()
    }
    pub fn place(&self) -> Place {
        let region = self.region_id.clone().unwrap_or_default();
        Place {
            country: region.split('-').next().unwrap_or("").to_owned(),
            region,
            facility: self.facility_id,
            department: self.department_id,
            person: None,
        }
    }
}

const KEY_PURPOSE: &str = "panel.key";
/// Marks a sealed key in `key_text`; a value without it is a key stored in clear by an earlier
/// version, sealed at start by [`seal_clear_keys`].
const SEALED: &str = "sealed:";

fn seal_key(sealer: &Sealer, text: &str) -> String {
    format!(
        "{SEALED}{}",
        hex::encode(sealer.seal_str(KEY_PURPOSE, text))
    )
}

/// The sealed key's size gives the key's without opening it: hex keys are 32/48/64 digits,
/// ASCII keys 16/24/32 characters, and sealing adds a fixed overhead.
fn sealed_bits(format: KeyFormat, sealed: &[u8]) -> Option<u16> {
    let len = sealed
        .len()
        .checked_sub(crate::platform::crypto::OVERHEAD)?;
    let bytes = match format {
        KeyFormat::Hex => len / 2,
        KeyFormat::Ascii => len,
    };
    match bytes {
        16 => Some(128),
        24 => Some(192),
        32 => Some(256),
        _ => None,
    }
}

fn panel(r: &Row) -> DbResult<Panel> {
    let sealed_key: Option<Vec<u8>> = r
        .get::<Option<String>>("key_text")?
        .and_then(|t| hex::decode(t.strip_prefix(SEALED)?).ok());
    let key_format = r
        .get::<Option<String>>("key_format")?
        .as_deref()
        .and_then(KeyFormat::parse);
    let key_bits = key_format
        .zip(sealed_key.as_deref())
        .and_then(|(f, k)| sealed_bits(f, k));
    Ok(Panel {
        id: r.get("id")?,
        account: r.get("account")?,
        name: r.get("name")?,
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        department_id: r.get("department_id")?,
        room: r.get("room")?,
        floor: r.get("floor")?,
        has_key: key_bits.is_some(),
        key_format: key_format.filter(|_| key_bits.is_some()),
        key_bits,
        supervision_secs: r.get("supervision_secs")?,
        silent: r.get("silent")?,
        last_seen_at: r.opt_ts("last_seen_at")?,
        last_addr: r.get("last_addr")?,
        created_at: r.ts("created_at")?,
        region_id: r.get("region_id")?,
        sealed_key,
        watch_from: r.opt_ts("watch_from")?,
    })
}

/// One stored event a panel sent (supervision messages are not stored, only counted as seen).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PanelEvent {
    pub id: Uuid,
    pub panel_id: Uuid,
    pub seq: i64,
    /// `SIA-DCS` or `ADM-CID`.
    pub token: String,
    pub encrypted: bool,
    /// The data field as sent, without pad and timestamp.
    pub data: String,
    /// Extended data fields as `[id, value]` pairs.
    pub extended: serde_json::Value,
    /// What the event is, in a line: `ADM-CID 1120 01 015 Panic alarm`.
    pub summary: String,
    /// panic, duress, burglary, fire, trouble, test, ... or other.
    pub category: String,
    /// Whether it was a panic or duress event (and raised an alarm if the panel was placed).
    pub panic: bool,
    pub alarm_id: Option<Uuid>,
    /// The panel's own timestamp, when it sent one.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Ts>,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Ts,
    pub remote: String,
}

fn panel_event(r: &Row) -> DbResult<PanelEvent> {
    Ok(PanelEvent {
        id: r.get("id")?,
        panel_id: r.get("panel_id")?,
        seq: r.get("seq")?,
        token: r.get("token")?,
        encrypted: r.get("encrypted")?,
        data: r.get("data")?,
        extended: serde_json::from_str(&r.get::<String>("extended")?)
            .unwrap_or(serde_json::Value::Null),
        summary: r.get("summary")?,
        category: r.get("category")?,
        panic: r.get("panic")?,
        alarm_id: r.get("alarm_id")?,
        sent_at: r.opt_ts("sent_at")?,
        received_at: r.ts("received_at")?,
        remote: r.get("remote")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Store

const BY_ACCOUNT: &str = "SELECT p.*, f.region_id, f.name AS facility_name FROM panels p LEFT JOIN facilities f ON f.id = p.facility_id WHERE p.account = $1";
const BY_ID: &str = "SELECT p.*, f.region_id, f.name AS facility_name FROM panels p LEFT JOIN facilities f ON f.id = p.facility_id WHERE p.id = $1";

pub async fn by_account(db: &Db, account: &str) -> DbResult<Option<Panel>> {
    db.fetch_optional(BY_ACCOUNT, args![account])
        .await?
        .as_ref()
        .map(panel)
        .transpose()
}

pub async fn by_id(db: &Db, id: Uuid) -> DbResult<Option<Panel>> {
    db.fetch_optional(BY_ID, args![id])
        .await?
        .as_ref()
        .map(panel)
        .transpose()
}

async fn by_id_tx(tx: &mut Tx, id: Uuid) -> DbResult<Option<Panel>> {
    tx.fetch_optional(BY_ID, args![id])
        .await?
        .as_ref()
        .map(panel)
        .transpose()
}

const LIST: &str = "SELECT p.*, f.region_id, f.name AS facility_name FROM panels p LEFT JOIN facilities f ON f.id = p.facility_id WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR p.facility_id = $3) AND ($4 IS NULL OR p.department_id = $4) AND ($5 IS NULL OR p.facility_id = $5) AND (($6 = TRUE AND p.facility_id IS NULL) OR ($6 = FALSE AND p.facility_id IS NOT NULL)) AND ($7 IS NULL OR p.id < $7) ORDER BY p.id DESC LIMIT $8";

/// Newest first; `unassigned` lists only panels nobody has placed (the scope does not apply to
/// them: they have no place yet).
pub async fn list_panels(
    db: &Db,
    scope: &crate::platform::access::ScopeFilter,
    facility: Option<Uuid>,
    unassigned: bool,
    before: Option<Uuid>,
    limit: i64,
) -> DbResult<Vec<Panel>> {
    db.fetch_all(
        LIST,
        args![
            scope.country.as_ref().map(|c| format!("{c}-%")),
            scope.region.clone(),
            scope.facility,
            scope.department,
            facility,
            unassigned,
            before,
            limit
        ],
    )
    .await?
    .iter()
    .map(panel)
    .collect()
}

/// Settings as checked from an input.
struct Settings {
    account: String,
    name: String,
    facility_id: Option<Uuid>,
    department_id: Option<Uuid>,
    room: String,
    floor: String,
    key: KeyChange,
    supervision_secs: Option<i64>,
}

enum KeyChange {
    Keep,
    Remove,
    Set(String, KeyFormat),
}

const INSERT_PANEL: &str = "INSERT INTO panels (id, account, name, facility_id, department_id, room, floor, key_text, key_format, supervision_secs, watch_from, silent, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, FALSE, $11, $11)";

async fn insert(tx: &mut Tx, sealer: &Sealer, s: &Settings) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    let (key, format) = match &s.key {
        KeyChange::Set(k, f) => (Some(seal_key(sealer, k)), Some(f.code())),
        KeyChange::Keep | KeyChange::Remove => (None, None),
    };
    tx.execute(
        INSERT_PANEL,
        args![
            id,
            &s.account,
            &s.name,
            s.facility_id,
            s.department_id,
            &s.room,
            &s.floor,
            key,
            format,
            s.supervision_secs,
            Ts::now()
        ],
    )
    .await?;
    Ok(id)
}

async fn update(tx: &mut Tx, sealer: &Sealer, id: Uuid, s: &Settings) -> DbResult<()> {
    tx.execute(
        "UPDATE panels SET account = $2, name = $3, facility_id = $4, department_id = $5, room = $6, floor = $7, supervision_secs = $8, updated_at = $9 WHERE id = $1",
        args![
            id,
            &s.account,
            &s.name,
            s.facility_id,
            s.department_id,
            &s.room,
            &s.floor,
            s.supervision_secs,
            Ts::now()
        ],
    )
    .await?;
    match &s.key {
        KeyChange::Keep => {}
        KeyChange::Remove => {
            tx.execute(
                "UPDATE panels SET key_text = NULL, key_format = NULL WHERE id = $1",
                args![id],
            )
            .await?;
        }
        KeyChange::Set(k, f) => {
            tx.execute(
                "UPDATE panels SET key_text = $2, key_format = $3 WHERE id = $1",
                args![id, seal_key(sealer, k), f.code()],
            )
            .await?;
        }
    }
    Ok(())
}

/// The panel for `account`, created unassigned if nobody registered it.
pub async fn ensure_unassigned(tx: &mut Tx, account: &str) -> DbResult<Panel> {
    let now = Ts::now();
    tx.execute(
        "INSERT INTO panels (id, account, name, room, floor, silent, created_at, updated_at) VALUES ($1, $2, '', '', '', FALSE, $3, $3) ON CONFLICT (account) DO NOTHING",
        args![Uuid::now_v7(), account, now],
    )
    .await?;
    tx.fetch_one(BY_ACCOUNT, args![account])
        .await
        .and_then(|r| panel(&r))
}

pub async fn unassigned_count(db: &Db) -> DbResult<i64> {
    db.fetch_one(
        "SELECT COUNT(*) AS n FROM panels WHERE facility_id IS NULL",
        args![],
    )
    .await?
    .get("n")
}

/// Notes that the panel spoke. The first statement of the receiver's transaction: on PostgreSQL
/// it locks the panel's row, so two copies of one message (TCP and UDP at once) are handled one
/// after the other and the second finds the first. A panel that was reported silent is watched
/// again from now.
pub async fn touch(tx: &mut Tx, p: &Panel, now: Ts, remote: &str) -> DbResult<()> {
    tx.execute(
        "UPDATE panels SET last_seen_at = $2, last_addr = $3, silent = FALSE WHERE id = $1",
        args![p.id, now, remote],
    )
    .await?;
    if p.silent
        && let Some(secs) = p.supervision_secs
    {
        tracing::info!(account = %p.account, "silent panel is heard again");
        arm(tx, p.id, Some(secs), now).await?;
    }
    Ok(())
}

/// (Re)starts supervision: cancels the panel's pending timer and, with an interval, sets one.
async fn arm(tx: &mut Tx, id: Uuid, secs: Option<i64>, now: Ts) -> DbResult<()> {
    tx.execute(
        "UPDATE jobs SET done_at = $3 WHERE kind = $1 AND ref_id = $2 AND done_at IS NULL",
        args![SUPERVISE, id.to_string(), now],
    )
    .await?;
    tx.execute(
        "UPDATE panels SET watch_from = $2, silent = FALSE WHERE id = $1",
        args![id, now],
    )
    .await?;
    if let Some(s) = secs {
        alarm_store::schedule(
            tx,
            SUPERVISE,
            &id.to_string(),
            now.add_secs(s),
            &serde_json::json!({}),
        )
        .await?;
    }
    Ok(())
}

/// A stored event: the first arrival of a message that later copies are matched against.
pub struct Recorded {
    pub dedupe_key: String,
    pub alarm_id: Option<Uuid>,
}

/// The same message (same fingerprint) from this panel received since `since`, if any.
pub async fn recent_event(
    tx: &mut Tx,
    panel_id: Uuid,
    fingerprint: &str,
    since: Ts,
) -> DbResult<Option<Recorded>> {
    tx.fetch_optional(
        "SELECT dedupe_key, alarm_id FROM panel_events WHERE panel_id = $1 AND fingerprint = $2 AND received_at >= $3 ORDER BY received_at DESC LIMIT 1",
        args![panel_id, fingerprint, since],
    )
    .await?
    .map(|r| {
        Ok(Recorded {
            dedupe_key: r.get("dedupe_key")?,
            alarm_id: r.get("alarm_id")?,
        })
    })
    .transpose()
}

/// An event as the receiver stores it.
pub struct NewEvent<'a> {
    pub panel_id: Uuid,
    pub dedupe_key: &'a str,
    pub fingerprint: &'a str,
    pub seq: u16,
    pub token: &'a str,
    pub encrypted: bool,
    pub data: &'a str,
    pub extended: &'a serde_json::Value,
    pub summary: &'a str,
    pub category: &'a str,
    pub panic: bool,
    pub alarm_id: Option<Uuid>,
    pub sent_at: Option<Ts>,
    pub received_at: Ts,
    pub remote: &'a str,
}

pub async fn insert_event(tx: &mut Tx, e: &NewEvent<'_>) -> DbResult<()> {
    tx.execute(
        "INSERT INTO panel_events (id, panel_id, dedupe_key, fingerprint, seq, token, encrypted, data, extended, summary, category, panic, alarm_id, sent_at, received_at, remote) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        args![
            Uuid::now_v7(),
            e.panel_id,
            e.dedupe_key,
            e.fingerprint,
            i64::from(e.seq),
            e.token,
            e.encrypted,
            e.data,
            e.extended.to_string(),
            e.summary,
            e.category,
            e.panic,
            e.alarm_id,
            e.sent_at,
            e.received_at,
            e.remote
        ],
    )
    .await
    .map(|_| ())
}

pub async fn events(
    db: &Db,
    panel_id: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> DbResult<Vec<PanelEvent>> {
    db.fetch_all(
        "SELECT * FROM panel_events WHERE panel_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        args![panel_id, before, limit],
    )
    .await?
    .iter()
    .map(panel_event)
    .collect()
}

// ---------------------------------------------------------------------------------------------
// Supervision

/// Runs one supervision timer inside the transaction that claimed it. If the panel spoke since
/// the timer was set, the timer moves to its new deadline (last message + interval); if not, a
/// "panel silent" alarm is raised once, and the panel is watched again when it next speaks.
/// Returns the facility whose consoles must be told.
pub async fn supervise(tx: &mut Tx, job: &Job) -> AppResult<Option<Uuid>> {
    let Ok(id) = Uuid::parse_str(&job.ref_id) else {
        return Ok(None);
    };
    let Some(p) = by_id_tx(tx, id).await? else {
        return Ok(None);
    };
    let Some(secs) = p.supervision_secs else {
        return Ok(None);
    };
    if p.silent {
        return Ok(None);
    }
    let from = p.last_seen_at.max(p.watch_from).unwrap_or(p.created_at);
    let deadline = from.add_secs(secs);
    let now = Ts::now();
    if deadline > now {
        // Another timer for this panel (armed while this one waited) keeps watching instead.
        let others: i64 = tx
            .fetch_one(
                "SELECT COUNT(*) AS n FROM jobs WHERE kind = $1 AND ref_id = $2 AND done_at IS NULL AND id <> $3",
                args![SUPERVISE, &job.ref_id, job.id],
            )
            .await?
            .get("n")?;
        if others == 0 {
            alarm_store::schedule(tx, SUPERVISE, &job.ref_id, deadline, &serde_json::json!({}))
                .await?;
        }
        return Ok(None);
    }
    let Some(facility_id) = p.facility_id else {
        return Ok(None);
    };
    tx.execute("UPDATE panels SET silent = TRUE WHERE id = $1", args![p.id])
        .await?;
    let new = NewAlarm {
        facility_id,
        department_id: p.department_id,
        source: Source::System,
        source_ref: p.account.clone(),
        // One alarm per silence: the same last message cannot start a second one.
        dedupe_key: format!("panel-silent:{}:{}", p.id, from.micros()),
        kind: Kind::PanelSilent,
        room: p.room.clone(),
        floor: p.floor.clone(),
        lat: None,
        lon: None,
        silent: false,
        pressed_by: None,
        pressed_at: now,
    };
    let (alarm, created) = service::raise_in(tx, &new, &Actor::system()).await?;
    if !created {
        return Ok(None);
    }
    tracing::warn!(account = %p.account, secs, "alarm panel silent: supervision interval passed without a message");
    metrics::counter!("qorgau_alarms_raised_total", "source" => Source::System.code()).increment(1);
    Ok(Some(alarm.facility_id))
}

// ---------------------------------------------------------------------------------------------
// API

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, list_unassigned, create, get_one, put, assign, list_events),
    components(schemas(Panel, PanelInput, AssignInput, KeyFormat, PanelEvent)),
    tags((name = "panels", description = "Alarm panels speaking SIA DC-09: accounts, keys, supervision, placing unassigned panels"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/panels", get(list).post(create))
        .route("/api/v1/panels/unassigned", get(list_unassigned))
        .route("/api/v1/panels/{id}", get(get_one).put(put))
        .route("/api/v1/panels/{id}/assign", post(assign))
        .route("/api/v1/panels/{id}/events", get(list_events))
        .route("/admin/panels", get(admin_page))
        .route("/admin/panels/{id}/assign", post(admin_assign))
}

/// A panel's settings. On update, an omitted `key` keeps the stored one and `""` removes it;
/// an omitted `facility_id` keeps the panel where it is.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PanelInput {
    /// 3 to 16 hex digits, as the panel sends after `#` (either case).
    pub account: String,
    pub name: String,
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub room: String,
    pub floor: String,
    /// The AES key: 32, 48 or 64 hex digits, or with `key_format` `ascii` 16, 24 or 32 characters.
    pub key: Option<String>,
    /// `hex` (default) or `ascii`.
    pub key_format: Option<KeyFormat>,
    /// Seconds; `null` or 0: the panel is not supervised.
    pub supervision_secs: Option<i64>,
}

/// Where an unassigned panel goes.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AssignInput {
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub room: String,
    pub floor: String,
    pub name: String,
}

/// An unassigned panel has no place yet, so every holder of `panels.manage` sees it (as with
/// unknown MQTT devices): the administrator whose installer connected it must find it. Placing
/// it needs the target facility in scope.
fn check_visible(p: &Principal, panel: &Panel) -> AppResult<()> {
    p.require(Action::PanelsManage)?;
    if panel.facility_id.is_none() || p.sees(&panel.place()) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

fn check_account(c: &mut Check, account: &str) -> String {
    let a = account.trim().to_ascii_uppercase();
    if a.is_empty() {
        c.fail("account", "err-required");
    } else if !(3..=16).contains(&a.len()) || !a.bytes().all(|b| b.is_ascii_hexdigit()) {
        c.fail("account", "err-invalid");
    }
    a
}

fn check_key(c: &mut Check, key: Option<&str>, format: Option<KeyFormat>) -> KeyChange {
    let Some(key) = key else {
        return KeyChange::Keep;
    };
    if key.is_empty() {
        return KeyChange::Remove;
    }
    let format = format.unwrap_or(KeyFormat::Hex);
    let text = match format {
        KeyFormat::Hex => key.trim().to_ascii_uppercase(),
        // Spaces can be part of an ASCII key.
        KeyFormat::Ascii => key.to_owned(),
    };
    if format.key(&text).is_none() {
        c.fail("key", "err-invalid");
        return KeyChange::Keep;
    }
    KeyChange::Set(text, format)
}

fn check_supervision(c: &mut Check, secs: Option<i64>) -> Option<i64> {
    match secs {
        None | Some(0) => None,
        Some(s) if (1..=MAX_SUPERVISION_SECS).contains(&s) => Some(s),
        Some(_) => {
            c.fail("supervision_secs", "err-invalid");
            None
        }
    }
}

/// The facility (in the caller's scope) and department (of that facility) a panel goes to.
async fn check_place(
    st: &AppState,
    p: &Principal,
    facility: Uuid,
    department: Option<Uuid>,
) -> AppResult<()> {
    let f = crate::directory::store::facility_by_id(&st.db, facility)
        .await?
        .ok_or_else(|| AppError::field("facility_id", "err-choice"))?;
    if !p.sees(&f.place()) {
        return Err(AppError::field("facility_id", "err-out-of-scope"));
    }
    if let Some(d) = department
        && crate::directory::store::department_by_id(&st.db, d)
            .await?
            .is_none_or(|d| d.facility_id != facility)
    {
        return Err(AppError::field("department_id", "err-choice"));
    }
    Ok(())
}

fn audit_detail(s: &Settings) -> serde_json::Value {
    serde_json::json!({
        "account": s.account, "name": s.name, "facility_id": s.facility_id,
        "department_id": s.department_id, "room": s.room, "floor": s.floor,
        "supervision_secs": s.supervision_secs,
        // Never the key itself.
        "key": match &s.key {
            KeyChange::Keep => "kept",
            KeyChange::Remove => "removed",
            KeyChange::Set(_, KeyFormat::Hex) => "set (hex)",
            KeyChange::Set(_, KeyFormat::Ascii) => "set (ascii)",
        },
    })
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct PanelFilter {
    pub facility: Option<Uuid>,
}

fn cursor(page: &PageQuery) -> AppResult<Option<Uuid>> {
    match page.after()? {
        Some(c) => Ok(Some(
            Uuid::parse_str(&c).map_err(|_| AppError::field("cursor", "err-invalid"))?,
        )),
        None => Ok(None),
    }
}

/// Placed panels within the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/panels", tag = "panels", params(PanelFilter, PageQuery),
    responses((status = 200, body = Paged<Panel>)))]
pub async fn list(
    State(st): State<AppState>,
    p: Principal,
    Query(f): Query<PanelFilter>,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Panel>>> {
    p.require(Action::PanelsManage)?;
    let limit = page.limit()?;
    let items = list_panels(
        &st.db,
        &p.filter(),
        f.facility,
        false,
        cursor(&page)?,
        limit + 1,
    )
    .await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |x| {
        x.id.to_string()
    })))
}

/// Panels that sent in clear from an account nobody registered: acknowledged and stored, waiting
/// to be placed. Not bounded by scope: they have no place yet.
#[utoipa::path(get, path = "/api/v1/panels/unassigned", tag = "panels", params(PageQuery),
    responses((status = 200, body = Paged<Panel>), (status = 403, body = crate::platform::error::ProblemBody)))]
pub async fn list_unassigned(
    State(st): State<AppState>,
    p: Principal,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Panel>>> {
    p.require(Action::PanelsManage)?;
    let limit = page.limit()?;
    let items = list_panels(
        &st.db,
        &Default::default(),
        None,
        true,
        cursor(&page)?,
        limit + 1,
    )
    .await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |x| {
        x.id.to_string()
    })))
}

/// Registers a panel at a place. Answers 409 if the account is already known (an unassigned
/// panel with it is placed with `/assign`).
#[utoipa::path(post, path = "/api/v1/panels", tag = "panels", request_body = PanelInput,
    responses((status = 201, body = Panel), (status = 409, body = crate::platform::error::ProblemBody),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn create(
    State(st): State<AppState>,
    p: Principal,
    input: LateJson<PanelInput>,
) -> AppResult<(StatusCode, axum::Json<Panel>)> {
    p.require(Action::PanelsManage)?;
    let input = input.0?;
    let mut c = Check::new();
    let s = Settings {
        account: check_account(&mut c, &input.account),
        name: c.text("name", &input.name, 0, 200),
        facility_id: input.facility_id,
        department_id: input.department_id,
        room: c.text("room", &input.room, 0, 100),
        floor: c.text("floor", &input.floor, 0, 20),
        key: check_key(&mut c, input.key.as_deref(), input.key_format),
        supervision_secs: check_supervision(&mut c, input.supervision_secs),
    };
    if s.facility_id.is_none() {
        c.fail("facility_id", "err-required");
    }
    c.done()?;
    let facility = s.facility_id.ok_or(AppError::NotFound)?;
    check_place(&st, &p, facility, s.department_id).await?;
    let mut tx = st.db.begin().await?;
    let id = insert(&mut tx, &st.sealer, &s).await?;
    if s.supervision_secs.is_some() {
        arm(&mut tx, id, s.supervision_secs, Ts::now()).await?;
    }
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("panel.create", "panel", id).detail(audit_detail(&s)),
    )
    .await?;
    tx.commit().await?;
    let panel = by_id(&st.db, id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, axum::Json(panel)))
}

#[utoipa::path(get, path = "/api/v1/panels/{id}", tag = "panels", params(("id" = Uuid, Path)),
    responses((status = 200, body = Panel), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn get_one(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Panel>> {
    p.require(Action::PanelsManage)?;
    let panel = by_id(&st.db, id).await?.ok_or(AppError::NotFound)?;
    check_visible(&p, &panel)?;
    Ok(axum::Json(panel))
}

/// Changes a panel's settings: account, name, place, key, supervision interval. Changing the
/// interval restarts supervision from now.
#[utoipa::path(put, path = "/api/v1/panels/{id}", tag = "panels", params(("id" = Uuid, Path)), request_body = PanelInput,
    responses((status = 200, body = Panel), (status = 404, body = crate::platform::error::ProblemBody),
        (status = 409, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn put(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<PanelInput>,
) -> AppResult<axum::Json<Panel>> {
    p.require(Action::PanelsManage)?;
    let before = by_id(&st.db, id).await?.ok_or(AppError::NotFound)?;
    check_visible(&p, &before)?;
    let input = input.0?;
    let mut c = Check::new();
    let s = Settings {
        account: check_account(&mut c, &input.account),
        name: c.text("name", &input.name, 0, 200),
        facility_id: input.facility_id.or(before.facility_id),
        department_id: input.department_id,
        room: c.text("room", &input.room, 0, 100),
        floor: c.text("floor", &input.floor, 0, 20),
        key: check_key(&mut c, input.key.as_deref(), input.key_format),
        supervision_secs: check_supervision(&mut c, input.supervision_secs),
    };
    if s.supervision_secs.is_some() && s.facility_id.is_none() {
        c.fail("facility_id", "err-required");
    }
    c.done()?;
    if let Some(f) = s.facility_id {
        check_place(&st, &p, f, s.department_id).await?;
    } else if s.department_id.is_some() {
        return Err(AppError::field("department_id", "err-choice"));
    }
    let mut tx = st.db.begin().await?;
    update(&mut tx, &st.sealer, id, &s).await?;
    if s.supervision_secs != before.supervision_secs || s.facility_id != before.facility_id {
        arm(&mut tx, id, s.supervision_secs, Ts::now()).await?;
    }
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("panel.update", "panel", id).detail(audit_detail(&s)),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(
        by_id(&st.db, id).await?.ok_or(AppError::NotFound)?,
    ))
}

/// Places a panel (typically an unassigned one) in a facility and department.
#[utoipa::path(post, path = "/api/v1/panels/{id}/assign", tag = "panels", params(("id" = Uuid, Path)), request_body = AssignInput,
    responses((status = 200, body = Panel), (status = 404, body = crate::platform::error::ProblemBody),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn assign(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<AssignInput>,
) -> AppResult<axum::Json<Panel>> {
    p.require(Action::PanelsManage)?;
    let input = input.0?;
    Ok(axum::Json(place(&st, &p, id, &input).await?))
}

/// Places a panel; what the API and the page share.
async fn place(st: &AppState, p: &Principal, id: Uuid, input: &AssignInput) -> AppResult<Panel> {
    p.require(Action::PanelsManage)?;
    let before = by_id(&st.db, id).await?.ok_or(AppError::NotFound)?;
    check_visible(p, &before)?;
    let mut c = Check::new();
    let s = Settings {
        account: before.account.clone(),
        name: c.text("name", &input.name, 0, 200),
        facility_id: input.facility_id,
        department_id: input.department_id,
        room: c.text("room", &input.room, 0, 100),
        floor: c.text("floor", &input.floor, 0, 20),
        key: KeyChange::Keep,
        supervision_secs: before.supervision_secs,
    };
    if s.facility_id.is_none() {
        c.fail("facility_id", "err-required");
    }
    c.done()?;
    let facility = s.facility_id.ok_or(AppError::NotFound)?;
    check_place(st, p, facility, s.department_id).await?;
    let mut tx = st.db.begin().await?;
    update(&mut tx, &st.sealer, id, &s).await?;
    if s.supervision_secs.is_some() {
        arm(&mut tx, id, s.supervision_secs, Ts::now()).await?;
    }
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("panel.assign", "panel", id).detail(audit_detail(&s)),
    )
    .await?;
    tx.commit().await?;
    by_id(&st.db, id).await?.ok_or(AppError::NotFound)
}

/// What a panel sent, newest first (events, not supervision messages).
#[utoipa::path(get, path = "/api/v1/panels/{id}/events", tag = "panels", params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paged<PanelEvent>), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn list_events(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<PanelEvent>>> {
    p.require(Action::PanelsManage)?;
    let panel = by_id(&st.db, id).await?.ok_or(AppError::NotFound)?;
    check_visible(&p, &panel)?;
    let limit = page.limit()?;
    let items = events(&st.db, id, cursor(&page)?, limit + 1).await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |x| {
        x.id.to_string()
    })))
}

// ---------------------------------------------------------------------------------------------
// Page

/// One panel as the page shows it.
pub struct PanelRow {
    pub id: Uuid,
    pub account: String,
    pub name: String,
    pub facility: String,
    pub place: String,
    pub encryption: String,
    pub supervision: String,
    pub last_seen: String,
    pub from: String,
    pub silent: bool,
}

#[derive(askama::Template)]
#[template(path = "alarms/panels.html")]
struct PanelsPage {
    page: crate::platform::web::PageCtx,
    placed: Vec<PanelRow>,
    unassigned: Vec<PanelRow>,
    facilities: Vec<(Uuid, String)>,
    errors: Vec<crate::platform::error::FieldError>,
}

fn row(tr: crate::platform::i18n::Tr, x: &Panel) -> PanelRow {
    let encryption = match (x.key_bits, x.key_format) {
        (Some(bits), Some(f)) => tr.args(
            "panels-key",
            &[("bits", &bits.to_string()), ("form", f.code())],
        ),
        _ => tr.t("panels-key-none"),
    };
    let supervision = match x.supervision_secs {
        Some(s) => tr.args("panels-supervision-secs", &[("secs", &s.to_string())]),
        None => tr.t("panels-supervision-off"),
    };
    let place = [x.room.as_str(), x.floor.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    PanelRow {
        id: x.id,
        account: x.account.clone(),
        name: x.name.clone(),
        facility: x.facility_name.clone().unwrap_or_default(),
        place,
        encryption,
        supervision,
        last_seen: x
            .last_seen_at
            .map_or_else(|| tr.t("panels-never"), Ts::rfc3339),
        from: x.last_addr.clone().unwrap_or_default(),
        silent: x.silent,
    }
}

async fn page_view(
    st: &AppState,
    ctx: &crate::platform::web::Ctx,
    p: &Principal,
    errors: Vec<crate::platform::error::FieldError>,
) -> AppResult<PanelsPage> {
    p.require(Action::PanelsManage)?;
    let placed = list_panels(&st.db, &p.filter(), None, false, None, 500).await?;
    let unassigned = list_panels(&st.db, &Default::default(), None, true, None, 500).await?;
    let facilities = crate::directory::store::facilities(&st.db, None, None, None, false, 500)
        .await?
        .into_iter()
        .filter(|f| p.sees(&f.place()))
        .map(|f| (f.id, f.name))
        .collect();
    Ok(PanelsPage {
        page: crate::platform::web::PageCtx::new(ctx, "panels-title"),
        placed: placed.iter().map(|x| row(ctx.tr, x)).collect(),
        unassigned: unassigned.iter().map(|x| row(ctx.tr, x)).collect(),
        facilities,
        errors,
    })
}

/// `/admin/panels`: the panels in the caller's scope and the unassigned ones, with a form to
/// place each unassigned panel.
async fn admin_page(
    State(st): State<AppState>,
    ctx: crate::platform::web::Ctx,
    p: Principal,
) -> AppResult<axum::response::Response> {
    Ok(crate::platform::web::render(
        &page_view(&st, &ctx, &p, vec![]).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssignForm {
    facility_id: String,
    room: String,
    floor: String,
}

async fn admin_assign(
    State(st): State<AppState>,
    ctx: crate::platform::web::Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    crate::platform::extract::Form(f): crate::platform::extract::Form<AssignForm>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let input = AssignInput {
        facility_id: Uuid::parse_str(f.facility_id.trim()).ok(),
        department_id: None,
        room: f.room,
        floor: f.floor,
        name: String::new(),
    };
    match place(&st, &p, id, &input).await {
        Ok(_) => Ok(axum::response::Redirect::to("/admin/panels").into_response()),
        Err(AppError::Validation(mut errors)) => {
            crate::platform::error::translate_errors(ctx.tr, &mut errors);
            let view = page_view(&st, &ctx, &p, errors).await?;
            Ok(crate::platform::web::render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &view,
            ))
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Demo

/// Seals keys that an earlier version stored in clear. Runs at start, before any listener.
pub async fn seal_clear_keys(db: &Db, sealer: &Sealer) -> DbResult<u64> {
    let rows = db
        .fetch_all(
            "SELECT id, key_text FROM panels WHERE key_text IS NOT NULL",
            args![],
        )
        .await?;
    let mut sealed = 0;
    for r in rows {
        let text: String = r.get("key_text")?;
        if text.starts_with(SEALED) {
            continue;
        }
        let id: Uuid = r.get("id")?;
        let mut tx = db.begin().await?;
        tx.execute(
            "UPDATE panels SET key_text = $2 WHERE id = $1",
            args![id, seal_key(sealer, &text)],
        )
        .await?;
        audit::append(
            &mut tx,
            &Actor::system(),
            Event::new("panel.key_sealed", "panel", id),
        )
        .await?;
        tx.commit().await?;
        sealed += 1;
    }
    Ok(sealed)
}

/// Makes sure the demo panel exists with a key: `QORGAU_DEMO_PANEL_KEY` (32 hex digits) when
/// set, else the stored one, else a new random one. Returns the key as hex.
pub async fn ensure_demo_panel(
    db: &Db,
    sealer: &Sealer,
    account: &str,
    facility_id: Uuid,
    department_id: Option<Uuid>,
) -> DbResult<String> {
    let wanted = std::env::var("QORGAU_DEMO_PANEL_KEY")
        .ok()
        .map(|k| k.trim().to_ascii_uppercase())
        .filter(|k| {
            let ok = k.len() == 32 && KeyFormat::Hex.key(k).is_some();
            if !ok && !k.is_empty() {
                tracing::warn!("QORGAU_DEMO_PANEL_KEY is not 32 hex digits; using another key");
            }
            ok
        });
    let existing = by_account(db, account).await?;
    let stored = existing
        .as_ref()
        .filter(|p| p.key_format == Some(KeyFormat::Hex) && p.key_bits == Some(128))
        .and_then(|p| p.key_text(sealer));
    let key = wanted.or(stored.clone()).unwrap_or_else(|| {
        use rand::RngCore;
        let mut b = [0u8; 16];
        rand::rng().fill_bytes(&mut b);
        hex::encode_upper(b)
    });
    let mut tx = db.begin().await?;
    match &existing {
        None => {
            let s = Settings {
                account: account.to_owned(),
                name: "Demo panel".into(),
                facility_id: Some(facility_id),
                department_id,
                room: String::new(),
                floor: String::new(),
                key: KeyChange::Set(key.clone(), KeyFormat::Hex),
                supervision_secs: None,
            };
            let id = insert(&mut tx, sealer, &s).await?;
            audit::append(
                &mut tx,
                &Actor::system(),
                Event::new("panel.create", "panel", id).detail(audit_detail(&s)),
            )
            .await?;
        }
        Some(p) if stored.as_deref() != Some(key.as_str()) => {
            tx.execute(
                "UPDATE panels SET key_text = $2, key_format = 'hex', updated_at = $3 WHERE id = $1",
                args![p.id, seal_key(sealer, &key), Ts::now()],
            )
            .await?;
            audit::append(
                &mut tx,
                &Actor::system(),
                Event::new("panel.update", "panel", p.id)
                    .detail(serde_json::json!({"key": "set (hex)"})),
            )
            .await?;
        }
        Some(_) => {}
    }
    tx.commit().await?;
    Ok(key)
}
