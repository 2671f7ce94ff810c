//! Report rules that need the database: classification against the facility's shifts and the
//! country's calendar as administrators keep it, filing, reading with its audit, and unsealing.

use jiff::civil::DateTime;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::directory::model::Facility;
use crate::platform::access::{Action, Place, Principal, Scope};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::db::Db;
use crate::platform::error::{AppError, AppResult};
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::validate::Check;
use crate::reports::classify::{Classification, ShiftSpan, classify, instant_of};
use crate::reports::model::{
    AccessEntry, Mode, Report, ReportInput, Reporter, SealedIdentity, UnsealInput,
};
use crate::reports::store;

/// When an incident happened: the instant, the facility's zone and wall clock, and its
/// classification.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct When {
    #[schema(value_type = String, example = "2024-03-20T22:00:00Z")]
    pub at: Ts,
    /// IANA zone of the facility, kept beside the instant.
    pub tz: String,
    /// Local wall-clock date-time at the facility.
    #[schema(value_type = String, example = "2024-03-21T03:00:00")]
    pub local: DateTime,
    pub classification: Classification,
}

/// Places a local wall-clock time at a facility and classifies it.
pub async fn when_at(db: &Db, f: &Facility, local: DateTime) -> AppResult<When> {
    let zone = jiff::tz::TimeZone::get(&f.tz).map_err(|_| AppError::field("tz", "err-timezone"))?;
    let at = instant_of(local, &zone).map_err(|_| AppError::field("at", "err-datetime"))?;
    let shifts: Vec<ShiftSpan> = crate::directory::store::shifts(db, f.id)
        .await?
        .iter()
        .filter_map(|s| ShiftSpan::parse(&s.code, &s.starts, &s.ends))
        .collect();
    let cal = store::calendar(db, f.country()).await?;
    Ok(When {
        at: Ts::from_micros(at.as_microsecond()),
        tz: f.tz.clone(),
        local,
        classification: classify(local, &shifts, &cal),
    })
}

/// The HMAC key for owner tags, kept in the data directory apart from the database, so that a
/// database dump cannot link a confidential report to an account.
fn owner_key(st: &AppState) -> AppResult<[u8; 32]> {
    crate::platform::keys::load_or_create(&st.cfg.data_dir, "report-owner")
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Lets an account find its own reports without any column naming it.
pub fn owner_tag(st: &AppState, user: Uuid) -> AppResult<String> {
    use hmac::{Hmac, KeyInit, Mac};
    let key = owner_key(st)?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    mac.update(b"owner:");
    mac.update(user.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

pub const IDENTITY_PURPOSE: &str = "report.identity";

/// The facility the reporter works at, the default place of her report.
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

/// Files a report exactly once per Idempotency-Key: a retry with the same body gets the first
/// report (`false`), another body under the same key is refused with 422.
pub async fn submit(
    st: &AppState,
    p: &Principal,
    input: &ReportInput,
    idempotency_key: Option<&str>,
) -> AppResult<(Report, bool)> {
    p.require(Action::ReportSubmit)?;
    let mut c = Check::new();
    let checked = input.check(&mut c);
    let facility_id = match input.facility_id {
        Some(f) => Some(f),
        None => own_facility(st, p).await?,
    };
    if facility_id.is_none() {
        c.fail("facility_id", "err-required");
    }
    c.done()?;
    let (Some(r), Some(facility_id)) = (checked, facility_id) else {
        return Err(AppError::field("facility_id", "err-required"));
    };
    // Any facility: ambulance crews and home visits happen everywhere.
    let f = crate::directory::store::facility_by_id(&st.db, facility_id)
        .await?
        .filter(|f| !f.archived)
        .ok_or_else(|| AppError::field("facility_id", "err-choice"))?;
    if let Some(d) = input.department_id
        && crate::directory::store::department_by_id(&st.db, d)
            .await?
            .is_none_or(|d| d.facility_id != f.id)
    {
        return Err(AppError::field("department_id", "err-choice"));
    }
    let when = when_at(&st.db, &f, r.occurred_local).await?;
    let tag = owner_tag(st, p.user_id)?;
    let request_hash = {
        use sha2::Digest;
        let body = serde_json::to_vec(&(&r, f.id, input.department_id)).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(&body))
    };
    let dedupe_key = match idempotency_key {
        Some(k) => format!("{tag}:{k}"),
        None => format!("once:{}", Uuid::now_v7()),
    };
    let identity = Reporter {
        user_id: p.user_id,
        username: p.username.clone(),
        person_id: p.person_id,
    };
    let (reporter, sealed, actor, subject) = match r.mode {
        Mode::Named => (Some(&identity), None, Actor::of(p), p.person_id),
        Mode::Confidential => {
            let plain = serde_json::to_string(&SealedIdentity {
                user_id: identity.user_id,
                username: identity.username.clone(),
                person_id: identity.person_id,
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
            // The audit log must not name her either.
            let actor = Actor {
                id: None,
                label: "confidential reporter".into(),
            };
            (
                None,
                Some(st.sealer.seal_str(IDENTITY_PURPOSE, &plain)),
                actor,
                None,
            )
        }
    };
    let id = Uuid::now_v7();
    let mut tx = st.db.begin().await?;
    let created = store::insert_report(
        &mut tx,
        &store::NewReport {
            id,
            r: &r,
            owner_tag: &tag,
            reporter,
            identity_sealed: sealed,
            dedupe_key: &dedupe_key,
            request_hash: &request_hash,
            facility_id: f.id,
            department_id: input.department_id,
            when: &when,
            created_at: Ts::now(),
        },
    )
    .await?;
    if !created {
        let first = store::report_by_dedupe(&mut tx, &dedupe_key)
            .await?
            .ok_or(AppError::NotFound)?;
        if first.request_hash != request_hash {
            return Err(AppError::IdempotencyMismatch);
        }
        return Ok((first.report, false));
    }
    audit::append(
        &mut tx,
        &actor,
        Event::new("report.submit", "report", id)
            .subject(subject)
            .detail(serde_json::json!({"mode": r.mode, "facility_id": f.id})),
    )
    .await?;
    tx.commit().await?;
    let stored = store::report_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((stored.report, true))
}

/// Where a report sits, for scope checks.
async fn place_of(st: &AppState, r: &Report) -> AppResult<Place> {
    let f = crate::directory::store::facility_by_id(&st.db, r.facility_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Place {
        department: r.department_id,
        ..f.place()
    })
}

/// Who is reading a report.
pub enum Reader {
    /// The reporter herself.
    Owner,
    /// A handler in scope; the read has been audited.
    Staff,
}

/// A report for its reporter or for a handler in scope (audited); 404 for everyone else.
pub async fn read(st: &AppState, p: &Principal, id: Uuid) -> AppResult<(store::Stored, Reader)> {
    let s = store::report_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if s.owner_tag == owner_tag(st, p.user_id)? {
        return Ok((s, Reader::Owner));
    }
    if !p.can(Action::ReportView) || !p.sees(&place_of(st, &s.report).await?) {
        return Err(AppError::NotFound);
    }
    st.audit
        .record(
            &Actor::of(p),
            Event::new("report.read", "report", id)
                .subject(s.report.reporter.as_ref().and_then(|r| r.person_id)),
        )
        .await?;
    Ok((s, Reader::Staff))
}

/// Every staff read and action on her report: who (name and role), when, why.
pub async fn access_log(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Vec<AccessEntry>> {
    let (s, reader) = read(st, p, id).await?;
    if !matches!(reader, Reader::Owner) {
        return Err(AppError::NotFound);
    }
    let f = audit::Filter {
        object_id: Some(s.report.id.to_string()),
        ..Default::default()
    };
    Ok(audit::list(&st.db, &f, 500)
        .await?
        .into_iter()
        .filter(|e| e.object_type == "report" && e.actor_id.is_some_and(|a| a != p.user_id))
        .map(|e| AccessEntry {
            at: e.at,
            who: e.actor,
            action: e.action,
            reason: e.reason,
        })
        .collect())
}

/// Opens a confidential report's sealed identity for an investigator in scope who states why.
/// The reason goes into the audit log, which the reporter reads as her access log.
pub async fn unseal(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    input: &UnsealInput,
) -> AppResult<SealedIdentity> {
    p.require(Action::IdentityUnseal)?;
    let mut c = Check::new();
    let reason = input.check(&mut c);
    let s = store::report_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    p.check(Action::IdentityUnseal, &place_of(st, &s.report).await?)?;
    c.done()?;
    let sealed = s.identity_sealed.ok_or(AppError::NotFound)?;
    let plain = st
        .sealer
        .open_str(IDENTITY_PURPOSE, &sealed)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let who: SealedIdentity =
        serde_json::from_str(&plain).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut tx = st.db.begin().await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("report.identity.unseal", "report", id)
            .subject(who.person_id)
            .reason(Some(reason)),
    )
    .await?;
    tx.commit().await?;
    Ok(who)
}
