//! The MQTT device registry: where each button is (facility, department, room, floor), how its
//! messages are read and which of its events is a press; the devices heard on the broker that
//! nobody has registered yet, for an administrator to place; and the SQL the MQTT adapter needs.
//! JSON routes under `/api/v1/mqtt`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::alarms::mqtt_map::{self, Mapping, Message};
use crate::args;
use crate::platform::access::{Action, Place, Principal, ScopeFilter};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::db::{Db, DbResult, Row, Tx};
use crate::platform::error::{AppError, AppResult};
use crate::platform::extract::{LateJson, PageQuery, Paged, Query};
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::validate::Check;

/// A registered button.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Device {
    /// As the mapper names it: the Zigbee2MQTT friendly name, the Shelly device id, the generic
    /// form's `device`.
    pub id: String,
    pub mapping: Mapping,
    /// The event names that count as a press (`emergency`, `S`, `single_push`, `press` ...).
    pub press_events: Vec<String>,
    pub label: String,
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
    pub room: String,
    pub floor: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_press_at: Option<Ts>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Ts,
    #[serde(skip)]
    pub region_id: String,
}

impl Device {
    pub fn place(&self) -> Place {
        Place {
            country: self.region_id.split('-').next().unwrap_or("").to_owned(),
            region: self.region_id.clone(),
            facility: Some(self.facility_id),
            department: self.department_id,
            person: None,
        }
    }
}

/// A device to register, or a registered one's new settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DeviceInput {
    /// `zigbee2mqtt`, `shelly_gen1`, `shelly_gen2` or `generic`.
    pub mapping: Option<Mapping>,
    /// Which events are a press. Without it: `emergency`, `sos`, `single` (Zigbee2MQTT); `S`,
    /// `SS`, `SSS`, `L`, `SL`, `LS` (Shelly Gen1); `single_push`, `double_push`, `triple_push`,
    /// `long_push` (Shelly Gen2); `press` (generic).
    pub press_events: Option<Vec<String>>,
    pub label: String,
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub room: String,
    pub floor: String,
}

/// A device heard on the broker that the registry does not know.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UnknownDevice {
    pub device_id: String,
    /// How its messages read.
    pub mapping: Mapping,
    /// Where its last message came.
    pub topic: String,
    pub last_event: String,
    /// Its last message, cut to 512 characters.
    pub payload: String,
    pub messages: i64,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen: Ts,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen: Ts,
}

// ---------------------------------------------------------------------------------------------
// SQL

fn device(r: &Row) -> DbResult<Device> {
    let mapping: String = r.get("mapping")?;
    let events: String = r.get("press_events")?;
    Ok(Device {
        id: r.get("id")?,
        mapping: Mapping::parse(&mapping).unwrap_or(Mapping::Generic),
        press_events: serde_json::from_str(&events).unwrap_or_default(),
        label: r.get("label")?,
        facility_id: r.get("facility_id")?,
        department_id: r.get("department_id")?,
        room: r.get("room")?,
        floor: r.get("floor")?,
        last_press_at: r.opt_ts("last_press_at")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
        region_id: r.get("region_id")?,
    })
}

const GET: &str = "SELECT d.*, f.region_id FROM mqtt_devices d JOIN facilities f ON f.id = d.facility_id WHERE d.id = $1";

pub async fn find(db: &Db, id: &str) -> DbResult<Option<Device>> {
    db.fetch_optional(GET, args![id])
        .await?
        .as_ref()
        .map(device)
        .transpose()
}

const LIST: &str = "SELECT d.*, f.region_id FROM mqtt_devices d JOIN facilities f ON f.id = d.facility_id WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR d.facility_id = $3) AND ($4 IS NULL OR d.department_id = $4) AND ($5 IS NULL OR d.facility_id = $5) AND ($6 IS NULL OR d.id > $6) ORDER BY d.id LIMIT $7";

/// Registered devices within `scope`, ordered by id, after `after`.
pub async fn list(
    db: &Db,
    scope: &ScopeFilter,
    facility: Option<Uuid>,
    after: Option<String>,
    limit: i64,
) -> DbResult<Vec<Device>> {
    db.fetch_all(
        LIST,
        args![
            scope.country.as_ref().map(|c| format!("{c}-%")),
            scope.region.clone(),
            scope.facility,
            scope.department,
            facility,
            after,
            limit
        ],
    )
    .await?
    .iter()
    .map(device)
    .collect()
}

/// What [`put`] stores.
#[derive(Clone, Debug, Serialize)]
pub struct NewDevice {
    pub id: String,
    pub mapping: Mapping,
    pub press_events: Vec<String>,
    pub label: String,
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
    pub room: String,
    pub floor: String,
}

/// The demo's MQTT button.
pub const DEMO_DEVICE: &str = "demo-sos-button";

/// A Zigbee2MQTT SOS button in the demo facility's emergency department: publish
/// `{"action":"emergency"}` to `zigbee2mqtt/demo-sos-button` to press it.
pub fn demo_device(facility_id: Uuid, department_id: Uuid) -> NewDevice {
    NewDevice {
        id: DEMO_DEVICE.into(),
        mapping: Mapping::Zigbee2mqtt,
        press_events: Mapping::Zigbee2mqtt
            .default_press_events()
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        label: "SOS / Тревожная кнопка".into(),
        facility_id,
        department_id: Some(department_id),
        room: "Смотровая 1".into(),
        floor: "1".into(),
    }
}

const PUT: &str = "INSERT INTO mqtt_devices (id, mapping, press_events, label, facility_id, department_id, room, floor, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (id) DO UPDATE SET mapping = excluded.mapping, press_events = excluded.press_events, label = excluded.label, facility_id = excluded.facility_id, department_id = excluded.department_id, room = excluded.room, floor = excluded.floor, updated_at = excluded.updated_at";

/// Registers or replaces a device; it leaves the unknown list.
pub async fn put(tx: &mut Tx, d: &NewDevice) -> DbResult<()> {
    let events = serde_json::to_string(&d.press_events).unwrap_or_else(|_| "[]".into());
    tx.execute(
        PUT,
        args![
            &d.id,
            d.mapping.code(),
            events,
            &d.label,
            d.facility_id,
            d.department_id,
            &d.room,
            &d.floor,
            Ts::now()
        ],
    )
    .await?;
    tx.execute(
        "DELETE FROM mqtt_unknown_devices WHERE device_id = $1",
        args![&d.id],
    )
    .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> DbResult<u64> {
    tx.execute("DELETE FROM mqtt_devices WHERE id = $1", args![id])
        .await
}

pub async fn find_tx(tx: &mut Tx, id: &str) -> DbResult<Option<Device>> {
    tx.fetch_optional(GET, args![id])
        .await?
        .as_ref()
        .map(device)
        .transpose()
}

pub async fn touch_press(tx: &mut Tx, id: &str, at: Ts) -> DbResult<()> {
    tx.execute(
        "UPDATE mqtt_devices SET last_press_at = $2 WHERE id = $1",
        args![id, at],
    )
    .await
    .map(|_| ())
}

/// The Shelly Gen1 event counter last stored for a device's input.
pub async fn counter(tx: &mut Tx, device: &str, input: &str) -> DbResult<Option<u64>> {
    Ok(tx
        .fetch_optional(
            "SELECT counter FROM mqtt_counters WHERE device_id = $1 AND input = $2",
            args![device, input],
        )
        .await?
        .map(|r| r.get::<i64>("counter"))
        .transpose()?
        .and_then(|c| u64::try_from(c).ok()))
}

pub async fn set_counter(tx: &mut Tx, device: &str, input: &str, value: u64) -> DbResult<()> {
    tx.execute(
        "INSERT INTO mqtt_counters (device_id, input, counter, seen_at) VALUES ($1, $2, $3, $4) ON CONFLICT (device_id, input) DO UPDATE SET counter = excluded.counter, seen_at = excluded.seen_at",
        args![device, input, i64::try_from(value).unwrap_or(i64::MAX), Ts::now()],
    )
    .await
    .map(|_| ())
}

const ANY_KEY: &str = "SELECT 1 AS one FROM alarms WHERE dedupe_key IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) LIMIT 1";

/// Whether an alarm is stored under any of `keys` (at most twenty are looked at).
pub async fn any_alarm_with(tx: &mut Tx, keys: &[String]) -> DbResult<bool> {
    let Some(first) = keys.first() else {
        return Ok(false);
    };
    let args = (0..20)
        .map(|i| crate::platform::db::Arg::from(keys.get(i).unwrap_or(first).as_str()))
        .collect();
    Ok(tx.fetch_optional(ANY_KEY, args).await?.is_some())
}

/// The unknown list takes no new devices beyond this many (someone publishing made-up device ids
/// must not fill the disk); those listed are still updated, and every message is counted.
pub const MAX_UNKNOWN: i64 = 10_000;

const UNKNOWN_UPDATE: &str = "UPDATE mqtt_unknown_devices SET mapping = $2, topic = $3, last_event = $4, payload = $5, messages = messages + 1, last_seen = $6 WHERE device_id = $1";
const UNKNOWN_INSERT: &str = "INSERT INTO mqtt_unknown_devices (device_id, mapping, topic, last_event, payload, messages, first_seen, last_seen) SELECT $1, $2, $3, $4, $5, 1, $6, $6 WHERE (SELECT COUNT(*) FROM mqtt_unknown_devices) < $7 ON CONFLICT (device_id) DO UPDATE SET mapping = excluded.mapping, topic = excluded.topic, last_event = excluded.last_event, payload = excluded.payload, messages = mqtt_unknown_devices.messages + 1, last_seen = excluded.last_seen";

/// Notes a message from a device the registry does not know.
pub async fn note_unknown(db: &Db, msg: &Message, topic: &str, payload: &[u8]) -> DbResult<()> {
    let event = msg
        .events
        .iter()
        .map(|e| e.name.as_str())
        .find(|n| !n.is_empty())
        .unwrap_or("");
    let text: String = String::from_utf8_lossy(payload).chars().take(512).collect();
    let topic: String = topic.chars().take(512).collect();
    let now = Ts::now();
    let mut tx = db.begin().await?;
    let args = args![&msg.device, msg.mapping.code(), topic, event, text, now];
    if tx.execute(UNKNOWN_UPDATE, args.clone()).await? == 0 {
        let mut args = args;
        args.push(MAX_UNKNOWN.into());
        tx.execute(UNKNOWN_INSERT, args).await?;
    }
    tx.commit().await
}

/// Stores a Shelly Gen1 counter heard from a device nobody registered, so that registering it
/// later does not take its next periodic update for a press.
pub async fn note_counter(db: &Db, device: &str, input: &str, value: u64) -> DbResult<()> {
    let mut tx = db.begin().await?;
    set_counter(&mut tx, device, input, value).await?;
    tx.commit().await
}

const UNKNOWN_LIST: &str = "SELECT u.* FROM mqtt_unknown_devices u WHERE NOT EXISTS (SELECT 1 FROM mqtt_devices d WHERE d.id = u.device_id) AND ($1 IS NULL OR u.device_id > $1) ORDER BY u.device_id LIMIT $2";

pub async fn unknown(db: &Db, after: Option<String>, limit: i64) -> DbResult<Vec<UnknownDevice>> {
    db.fetch_all(UNKNOWN_LIST, args![after, limit])
        .await?
        .iter()
        .map(|r| {
            let mapping: String = r.get("mapping")?;
            Ok(UnknownDevice {
                device_id: r.get("device_id")?,
                mapping: Mapping::parse(&mapping).unwrap_or(Mapping::Generic),
                topic: r.get("topic")?,
                last_event: r.get("last_event")?,
                payload: r.get("payload")?,
                messages: r.get("messages")?,
                first_seen: r.ts("first_seen")?,
                last_seen: r.ts("last_seen")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Routes

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_devices, get_device, put_device, delete_device, list_unknown),
    components(schemas(Device, DeviceInput, UnknownDevice, Mapping)),
    tags((name = "mqtt", description = "MQTT panic buttons: the device registry, and devices heard on the broker that nobody has placed"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/mqtt/devices", get(list_devices))
        .route(
            "/api/v1/mqtt/devices/{id}",
            get(get_device).put(put_device).delete(delete_device),
        )
        .route("/api/v1/mqtt/unknown-devices", get(list_unknown))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct DeviceFilter {
    pub facility: Option<Uuid>,
}

/// Registered devices within the caller's scope.
#[utoipa::path(get, path = "/api/v1/mqtt/devices", tag = "mqtt", params(DeviceFilter, PageQuery),
    responses((status = 200, body = Paged<Device>), (status = 403, body = crate::platform::error::ProblemBody)))]
pub async fn list_devices(
    State(st): State<AppState>,
    p: Principal,
    Query(f): Query<DeviceFilter>,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Device>>> {
    p.require(Action::PanelsManage)?;
    let limit = page.limit()?;
    let items = list(&st.db, &p.filter(), f.facility, page.after()?, limit + 1).await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |d| {
        d.id.clone()
    })))
}

async fn device_for(st: &AppState, p: &Principal, id: &str) -> AppResult<Device> {
    p.require(Action::PanelsManage)?;
    let d = find(&st.db, id).await?.ok_or(AppError::NotFound)?;
    p.check(Action::PanelsManage, &d.place())?;
    Ok(d)
}

#[utoipa::path(get, path = "/api/v1/mqtt/devices/{id}", tag = "mqtt", params(("id" = String, Path, description = "the device id, percent-encoded")),
    responses((status = 200, body = Device), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn get_device(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<axum::Json<Device>> {
    Ok(axum::Json(device_for(&st, &p, &id).await?))
}

/// Registers a device (201) or replaces a registered one's settings (200). The facility must be
/// within the caller's scope; a registered device is also taken off the unknown list.
#[utoipa::path(put, path = "/api/v1/mqtt/devices/{id}", tag = "mqtt", params(("id" = String, Path, description = "the device id, percent-encoded")),
    request_body = DeviceInput,
    responses((status = 201, body = Device), (status = 200, body = Device), (status = 404, body = crate::platform::error::ProblemBody),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn put_device(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    input: LateJson<DeviceInput>,
) -> AppResult<(StatusCode, axum::Json<Device>)> {
    p.require(Action::PanelsManage)?;
    let existing = find(&st.db, &id).await?;
    if let Some(d) = &existing {
        p.check(Action::PanelsManage, &d.place())?;
    }
    let input = input.0?;
    let mut c = Check::new();
    if !mqtt_map::valid_device_id(&id) {
        c.fail("id", "err-invalid");
    }
    let label = c.text("label", &input.label, 0, 100);
    let room = c.text("room", &input.room, 0, 100);
    let floor = c.text("floor", &input.floor, 0, 20);
    if input.mapping.is_none() {
        c.fail("mapping", "err-required");
    }
    let mapping = input.mapping.unwrap_or(Mapping::Generic);
    let press_events: Vec<String> = match &input.press_events {
        None => mapping
            .default_press_events()
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        Some(list) => {
            let list: Vec<String> = list.iter().map(|s| s.trim().to_owned()).collect();
            if list.is_empty() {
                c.fail("press_events", "err-required");
            } else if list.len() > 16
                || list.iter().any(|s| {
                    s.is_empty()
                        || s.chars().count() > mqtt_map::MAX_NAME
                        || s.chars().any(char::is_control)
                })
            {
                c.fail("press_events", "err-invalid");
            }
            list
        }
    };
    if input.facility_id.is_none() {
        c.fail("facility_id", "err-required");
    }
    c.done()?;
    let facility_id = input.facility_id.unwrap_or_else(Uuid::nil);
    let facility = crate::directory::store::facility_by_id(&st.db, facility_id).await?;
    if facility
        .as_ref()
        .is_none_or(|f| f.archived || !p.sees(&f.place()))
    {
        return Err(AppError::field("facility_id", "err-choice"));
    }
    if let Some(d) = input.department_id
        && crate::directory::store::department_by_id(&st.db, d)
            .await?
            .is_none_or(|d| d.facility_id != facility_id)
    {
        return Err(AppError::field("department_id", "err-choice"));
    }
    let new = NewDevice {
        id: id.clone(),
        mapping,
        press_events,
        label,
        facility_id,
        department_id: input.department_id,
        room,
        floor,
    };
    let mut tx = st.db.begin().await?;
    put(&mut tx, &new).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("mqtt_device.put", "mqtt_device", &id).detail(serde_json::json!(new)),
    )
    .await?;
    let stored = find_tx(&mut tx, &id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(stored)))
}

/// Removes a device from the registry; its messages are then those of an unknown device.
#[utoipa::path(delete, path = "/api/v1/mqtt/devices/{id}", tag = "mqtt", params(("id" = String, Path, description = "the device id, percent-encoded")),
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn delete_device(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    let d = device_for(&st, &p, &id).await?;
    let mut tx = st.db.begin().await?;
    delete(&mut tx, &id).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("mqtt_device.delete", "mqtt_device", &id).detail(serde_json::json!({
            "mapping": d.mapping.code(), "facility_id": d.facility_id, "room": d.room
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Devices that sent button events but are not registered, for an administrator to place. Not
/// bounded by scope: an unknown device has no place yet, and the administrator installing it
/// must find it here.
#[utoipa::path(get, path = "/api/v1/mqtt/unknown-devices", tag = "mqtt", params(PageQuery),
    responses((status = 200, body = Paged<UnknownDevice>), (status = 403, body = crate::platform::error::ProblemBody)))]
pub async fn list_unknown(
    State(st): State<AppState>,
    p: Principal,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<UnknownDevice>>> {
    p.require(Action::PanelsManage)?;
    let limit = page.limit()?;
    let items = unknown(&st.db, page.after()?, limit + 1).await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |u| {
        u.device_id.clone()
    })))
}
