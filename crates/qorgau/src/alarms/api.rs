//! Alarm JSON routes and the live feed.

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use crate::alarms::model::*;
use crate::alarms::service;
use crate::alarms::store::{self, AlarmEvent, ListQuery, NewAlarm};
use crate::platform::access::{Action, Principal, Scope};
use crate::platform::audit::Actor;
use crate::platform::error::{AppError, AppResult};
use crate::platform::events::{Batch, Notice};
use crate::platform::extract::{LateJson, PageQuery, Paged, Query};
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::validate::Check;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(raise, list, get_one, act, stream),
    components(schemas(Alarm, RaiseInput, Act, Outcome, Source, Kind, State, AlarmEvent)),
    tags((name = "alarms", description = "Panic alarms from phones, MQTT buttons and alarm panels, and the responders' actions"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alarms", get(list).post(raise))
        .route("/api/v1/alarms/stream", get(stream))
        .route("/api/v1/alarms/{id}", get(get_one))
        .route("/api/v1/alarms/{id}/actions", post(act))
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RaiseInput {
    /// A UUID the client made for this press; a retry with it never makes a second alarm.
    /// (`Idempotency-Key` does the same.)
    pub client_id: Option<Uuid>,
    /// Defaults to the caller's own facility.
    pub facility_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub room: String,
    pub floor: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub silent: bool,
    /// `panic` (default) or `duress`.
    pub kind: Option<Kind>,
    /// When the button was pressed, if the phone held it while offline (RFC 3339).
    pub pressed_at: Option<String>,
}

/// Who may see an alarm: 403 without the right to see alarms (an own-scope account always sees
/// the alarms she raised), 404 for an alarm outside the scope.
fn check_visible(p: &Principal, a: &Alarm) -> AppResult<()> {
    if p.scope == Scope::Own {
        // A duress PIN looks like a cancel to whoever holds her phone: her own views never
        // show the duress alarm it raised (lists and the feed leave it out in SQL).
        if a.pressed_by == Some(p.user_id) && a.kind != Kind::Duress {
            return Ok(());
        }
        return Err(AppError::NotFound);
    }
    if a.pressed_by == Some(p.user_id) {
        return Ok(());
    }
    p.check(Action::AlarmView, &a.place())
}

async fn own_facility(st: &AppState, p: &Principal) -> AppResult<Option<Uuid>> {
    Ok(match &p.scope {
        Scope::Facility(f) => Some(*f),
        Scope::Department(d) => crate::directory::store::department_by_id(&st.db, *d)
            .await?
            .map(|d| d.facility_id),
        _ => match p.person_id {
            Some(person) => crate::directory::store::person_by_id(&st.db, person)
                .await?
                .map(|x| x.facility_id),
            None => None,
        },
    })
}

/// Raises an alarm. Answers 201 once it is durable, or 200 with the stored alarm for a retry.
#[utoipa::path(post, path = "/api/v1/alarms", tag = "alarms", request_body = RaiseInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "retries with the same key return the first answer")),
    responses((status = 201, body = Alarm), (status = 200, body = Alarm, description = "the same press again"),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn raise(
    AxState(st): AxState<AppState>,
    p: Principal,
    headers: HeaderMap,
    input: LateJson<RaiseInput>,
) -> AppResult<(StatusCode, axum::Json<Alarm>)> {
    p.require(Action::AlarmRaise)?;
    let input = input.0?;
    let mut c = Check::new();
    let room = c.text("room", &input.room, 0, 100);
    let floor = c.text("floor", &input.floor, 0, 20);
    let pressed_at = match input.pressed_at.as_deref() {
        None | Some("") => Ts::now(),
        Some(s) => match s.parse::<jiff::Timestamp>() {
            // A press cannot be from the future, nor older than a day of being offline.
            Ok(t)
                if t.as_microsecond() <= Ts::now().add_secs(60).micros()
                    && t.as_microsecond() >= Ts::now().add_secs(-86_400).micros() =>
            {
                Ts::from_micros(t.as_microsecond())
            }
            _ => {
                c.fail("pressed_at", "err-datetime");
                Ts::now()
            }
        },
    };
    for (f, v, lim) in [("lat", input.lat, 90.0), ("lon", input.lon, 180.0)] {
        if v.is_some_and(|v| !v.is_finite() || v.abs() > lim) {
            c.fail(f, "err-invalid");
        }
    }
    c.done()?;
    let facility_id = match input.facility_id {
        Some(f) => f,
        None => own_facility(&st, &p)
            .await?
            .ok_or_else(|| AppError::field("facility_id", "err-required"))?,
    };
    if let Some(d) = input.department_id
        && crate::directory::store::department_by_id(&st.db, d)
            .await?
            .is_none_or(|d| d.facility_id != facility_id)
    {
        return Err(AppError::field("department_id", "err-choice"));
    }
    let key = input
        .client_id
        .map(|c| c.to_string())
        .or_else(|| {
            headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .map(|k| format!("user:{}:{k}", p.user_id))
        .unwrap_or_else(|| format!("once:{}", Uuid::now_v7()));
    let new = NewAlarm {
        facility_id,
        department_id: input.department_id,
        source: Source::Phone,
        source_ref: p.username.clone(),
        dedupe_key: key,
        kind: input
            .kind
            .filter(|k| *k != Kind::PanelSilent)
            .unwrap_or(Kind::Panic),
        room,
        floor,
        lat: input.lat,
        lon: input.lon,
        silent: input.silent,
        pressed_by: Some(p.user_id),
        pressed_at,
    };
    let (alarm, created) = service::raise(&st, &new, &Actor::of(&p)).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        axum::Json(alarm),
    ))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AlarmFilter {
    pub state: Option<State>,
    pub facility: Option<Uuid>,
    /// Only the alarms this security post answers.
    pub post: Option<Uuid>,
    /// Only alarms not yet resolved.
    pub open: bool,
}

#[utoipa::path(get, path = "/api/v1/alarms", tag = "alarms", params(AlarmFilter, PageQuery),
    responses((status = 200, body = Paged<Alarm>)))]
pub async fn list(
    AxState(st): AxState<AppState>,
    p: Principal,
    Query(f): Query<AlarmFilter>,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Alarm>>> {
    let limit = page.limit()?;
    let before = match page.after()? {
        Some(c) => Some(Uuid::parse_str(&c).map_err(|_| AppError::field("cursor", "err-invalid"))?),
        None => None,
    };
    let (scope, own) = feed_scope(&p)?;
    let q = ListQuery {
        state: f.state,
        facility: f.facility,
        post: f.post,
        open_only: f.open,
        before,
    };
    let items = store::list(&st.db, &scope, own, &q, limit + 1).await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |a| {
        a.id.to_string()
    })))
}

/// The scope filter for lists and the feed; own-scope accounts see only their own presses.
fn feed_scope(p: &Principal) -> AppResult<(crate::platform::access::ScopeFilter, Option<Uuid>)> {
    if p.scope == Scope::Own {
        return Ok((Default::default(), Some(p.user_id)));
    }
    p.require(Action::AlarmView)?;
    Ok((p.filter(), None))
}

#[utoipa::path(get, path = "/api/v1/alarms/{id}", tag = "alarms", params(("id" = Uuid, Path)),
    responses((status = 200, body = Alarm), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn get_one(
    AxState(st): AxState<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Alarm>> {
    if p.scope != Scope::Own {
        p.require(Action::AlarmView)?;
    }
    let a = store::get(&st.db, id).await?.ok_or(AppError::NotFound)?;
    check_visible(&p, &a)?;
    Ok(axum::Json(a))
}

/// Acknowledge, dispatch guards, record arrival or a call to 102/103/112, add a note, resolve.
/// The person who pressed may resolve her own alarm as `stood_down` ("I am safe").
#[utoipa::path(post, path = "/api/v1/alarms/{id}/actions", tag = "alarms", params(("id" = Uuid, Path)), request_body = Act,
    responses((status = 200, body = Alarm), (status = 404, body = crate::platform::error::ProblemBody),
        (status = 409, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn act(
    AxState(st): AxState<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<Act>,
) -> AppResult<axum::Json<Alarm>> {
    if p.scope != Scope::Own {
        p.require(Action::AlarmView)?;
    }
    let a = store::get(&st.db, id).await?.ok_or(AppError::NotFound)?;
    check_visible(&p, &a)?;
    let presser = a.pressed_by == Some(p.user_id);
    if !presser {
        p.require(Action::AlarmRespond)?;
    }
    let input = input.0?;
    let own_stand_down = matches!(
        input,
        Act::Resolve {
            outcome: Outcome::StoodDown,
            ..
        } | Act::Note { .. }
    );
    if presser && !own_stand_down {
        p.require(Action::AlarmRespond)?;
    }
    Ok(axum::Json(
        service::act(&st, id, &input, &Actor::of(&p)).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct StreamQuery {
    /// Start after this event (as `Last-Event-ID` does); without either, only new events come.
    pub after: Option<i64>,
}

struct Feed {
    st: AppState,
    scope: crate::platform::access::ScopeFilter,
    own: Option<Uuid>,
    last: i64,
    buf: VecDeque<(i64, Bytes)>,
    wake: Wake,
}

/// What tells a feed that there may be more: any notice (it then re-reads for itself), or its
/// facility's relay (one reader for all of the facility's consoles, see [`facility_reader`]).
enum Wake {
    Notices(broadcast::Receiver<Notice>),
    Relay(broadcast::Receiver<Batch>),
}

/// Server-sent events, one JSON `AlarmEvent` per change within the caller's scope. Reconnect with
/// `Last-Event-ID` to receive everything after it, without a gap.
#[utoipa::path(get, path = "/api/v1/alarms/stream", tag = "alarms", params(StreamQuery),
    responses((status = 200, content_type = "text/event-stream", body = String, description = "events named `alarm`, data an AlarmEvent")))]
pub async fn stream(
    AxState(st): AxState<AppState>,
    p: Principal,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> AppResult<axum::response::Response> {
    let (scope, own) = feed_scope(&p)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<i64>().ok())
        .or(q.after);
    // Listen before reading the position, so nothing falls between the two.
    let (wake, reader) = match (&p.scope, own) {
        (Scope::Facility(f), None) => {
            let (rx, reader) = st.events.relay(*f);
            (Wake::Relay(rx), reader.map(|tx| (*f, tx)))
        }
        _ => (Wake::Notices(st.events.subscribe()), None),
    };
    let last = match resume {
        Some(n) => n.max(0),
        None => store::last_event_seq(&st.db).await?,
    };
    let mut feed = Feed {
        st,
        scope,
        own,
        last,
        buf: VecDeque::new(),
        wake,
    };
    // Everything up to now comes from this feed's own reads; the relay's reader starts after
    // that, so whatever commits later reaches this feed through it.
    feed.catch_up().await;
    if let Some((f, tx)) = reader {
        let from = feed.buf.back().map_or(feed.last, |e| e.0);
        tokio::spawn(facility_reader(feed.st.clone(), f, tx, from));
    }
    // The catch-up reads are boxed: the stream's state is held for as long as the console stays
    // connected, and an unboxed read (the database driver's futures) made every idle console
    // carry about 11 KiB for it (bench/issue4.sh, memory per console).
    // Frames are encoded once per event and shared by every console that sends it (a clone of
    // `Bytes` is a reference count), instead of each console building its own copy.
    let s = futures_util::stream::unfold(feed, |mut f| async move {
        loop {
            if let Some((seq, frame)) = f.buf.pop_front() {
                f.last = seq;
                return Some((Ok::<_, Infallible>(frame), f));
            }
            let woke = match &mut f.wake {
                Wake::Notices(rx) => tokio::time::timeout(KEEP_ALIVE, rx.recv())
                    .await
                    .map(Woken::Notice),
                Wake::Relay(rx) => tokio::time::timeout(KEEP_ALIVE, rx.recv())
                    .await
                    .map(Woken::Batch),
            };
            let Ok(woke) = woke else {
                // Silence: a comment keeps proxies and the browser from dropping the stream.
                return Some((Ok(Bytes::from_static(b":\n\n")), f));
            };
            match woke {
                Woken::Notice(r) => match r {
                    // Nothing new: wait for a notice (a lagged receiver just re-reads).
                    Ok(_) | Err(RecvError::Lagged(_)) => Box::pin(f.catch_up()).await,
                    Err(RecvError::Closed) => return None,
                },
                Woken::Batch(r) => match r {
                    Ok(batch) => {
                        // What this feed read for itself may be in the batch too.
                        let after = f.buf.back().map_or(f.last, |e| e.0);
                        f.buf.extend(batch.iter().filter(|e| e.0 > after).cloned());
                    }
                    // Fell behind the relay: read what was missed, then follow it again.
                    Err(RecvError::Lagged(_)) => Box::pin(f.catch_up()).await,
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    });
    let mut res = axum::response::IntoResponse::into_response(axum::body::Body::from_stream(s));
    let h = res.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    Ok(res)
}

/// A silent feed sends a comment this often.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// What woke a waiting feed.
enum Woken {
    Notice(Result<Notice, RecvError>),
    Batch(Result<Batch, RecvError>),
}

impl Feed {
    /// Reads everything after the last event queued or sent.
    async fn catch_up(&mut self) {
        loop {
            let after = self.buf.back().map_or(self.last, |e| e.0);
            match store::events_since(&self.st.db, &self.scope, self.own, after, 200).await {
                Ok(events) => {
                    let n = events.len();
                    self.buf.extend(events.iter().map(encoded));
                    if n < 200 {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "alarm feed query");
                    return;
                }
            }
        }
    }
}

/// An event as one server-sent-events frame: compact JSON holds no line break, so it is one
/// `data` line.
fn encoded(e: &AlarmEvent) -> (i64, Bytes) {
    let data = serde_json::to_string(e).unwrap_or_else(|_| "null".into());
    (
        e.seq,
        Bytes::from(format!("id: {}\nevent: alarm\ndata: {data}\n\n", e.seq)),
    )
}

/// Reads a facility's new events once per notice and hands them, encoded once, to all of its
/// consoles; stops when none is left.
async fn facility_reader(st: AppState, f: Uuid, tx: broadcast::Sender<Batch>, mut last: i64) {
    let mut notices = st.events.subscribe_facility(f);
    let scope = crate::platform::access::ScopeFilter {
        facility: Some(f),
        ..Default::default()
    };
    loop {
        match store::events_since(&st.db, &scope, None, last, 500).await {
            Ok(events) if !events.is_empty() => {
                last = events.last().map_or(last, |e| e.seq);
                let full = events.len() == 500;
                let batch: Batch = events.iter().map(encoded).collect();
                let _ = tx.send(batch);
                if full {
                    continue;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "alarm relay query"),
        }
        // Wait for a notice about this facility (or a resync); look now and then whether anyone
        // still listens.
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(30), notices.recv()).await {
                Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => break,
                Ok(Err(RecvError::Closed)) => {
                    st.events.relay_done(f, &tx);
                    return;
                }
                Err(_) => {
                    if st.events.relay_done(f, &tx) {
                        return;
                    }
                }
            }
        }
        if tx.receiver_count() == 0 && st.events.relay_done(f, &tx) {
            return;
        }
    }
}
