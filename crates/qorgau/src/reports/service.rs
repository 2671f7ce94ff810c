//! Report rules that need the database: classification against the facility's shifts and the
//! country's calendar as administrators keep it, filing, reading with its audit, and unsealing.

use std::net::IpAddr;

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
    AccessEntry, AnonymousInput, AnonymousMessage, AnonymousView, CheckedReport, MESSAGE_MAX,
    Message, MessageInput, Mode, Receipt, ReceiptLookup, Relation, Report, ReportInput, Reporter,
    SealedIdentity, UnsealInput, day_id, day_of, normalise_receipt,
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

/// HMAC-SHA256 under a key kept in the data directory apart from the database, so that a
/// database dump can neither link a confidential report to an account nor test receipts.
fn keyed(data_dir: &std::path::Path, key_name: &str, parts: &[&[u8]]) -> AppResult<String> {
    use hmac::{Hmac, KeyInit, Mac};
    let key = crate::platform::keys::load_or_create(data_dir, key_name)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    for p in parts {
        mac.update(p);
    }
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// Lets an account find its own reports without any column naming it.
pub fn owner_tag(st: &AppState, user: Uuid) -> AppResult<String> {
    keyed(
        &st.cfg.data_dir,
        "report-owner",
        &[b"owner:", user.as_bytes()],
    )
}

fn receipt_hash(st: &AppState, digits: &str) -> AppResult<String> {
    keyed(
        &st.cfg.data_dir,
        "report-receipt",
        &[b"receipt:", digits.as_bytes()],
    )
}

/// Files an anonymous report: no account, no address, no user agent, the filing time kept to
/// the day, an id that carries no time (v4), and no audit entry, whose timestamp would date
/// it to the microsecond. Answers the receipt, shown this once.
pub async fn submit_anonymous(
    st: &AppState,
    addr: IpAddr,
    input: &AnonymousInput,
) -> AppResult<Receipt> {
    // Abuse is held back by a count per address, in memory only (nothing that identifies her is
    // written), and by the size limits.
    if st.cfg.anonymous_per_hour > 0
        && let Some(wait) = st.anonymous_throttle.blocked(&addr)
    {
        return Err(AppError::TooMany { retry_after: wait });
    }
    let mut report = input.report.clone();
    report.mode = String::new();
    let mut c = Check::new();
    let passphrase = c.text("passphrase", &input.passphrase, 0, 200);
    c.done()?;
    let (mut r, f, when) = prepare(st, &report, None).await?;
    // A representative answers for the member's consent: not without a name.
    if r.relation == Relation::Representative {
        return Err(AppError::field("relation", "err-choice"));
    }
    r.mode = Mode::Anonymous;
    let digits = {
        use rand::Rng;
        format!(
            "{:016}",
            rand::rng().random_range(0..10_000_000_000_000_000u64)
        )
    };
    let hash = receipt_hash(st, &digits)?;
    let passphrase_hash = if passphrase.is_empty() {
        None
    } else {
        let p = passphrase.clone();
        Some(
            tokio::task::spawn_blocking(move || crate::platform::auth::password::hash(&p))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??,
        )
    };
    let (facility_id, department_id) = (f.id, report.department_id);
    let duties = crate::triage::service::NewDuties::for_report(
        &st.db,
        f.country(),
        &r.types,
        r.severity,
        r.injury,
    )
    .await?;
    // Group commit (platform/batch.rs): the receipt is given only once the report is on disk.
    st.batch
        .write(move |tx| {
            Box::pin(async move {
                let day = day_of(Ts::now());
                let id = day_id(day);
                // Unique per report (the escrow tells reporters apart by it) and, like the id,
                // ordered by day: a random value here would scatter every insert across two more
                // indexes. No account's tag (hex) can equal it.
                let tag = format!("anonymous:{id}");
                store::insert_report(
                    tx,
                    &store::NewReport {
                        id,
                        r: &r,
                        owner_tag: &tag,
                        reporter: None,
                        identity_sealed: None,
                        dedupe_key: &tag,
                        request_hash: "",
                        facility_id,
                        department_id,
                        when: &when,
                        created_at: day,
                        receipt_hash: Some(&hash),
                        passphrase_hash,
                    },
                )
                .await?;
                duties.write(tx, id, day).await?;
                Ok(())
            })
        })
        .await?;
    if st.cfg.anonymous_per_hour > 0 {
        st.anonymous_throttle.fail(addr);
    }
    Ok(Receipt { receipt: digits })
}

/// Adds a message to a report: from its reporter (named or confidential: no author is stored
/// either way), or from a handler in scope (audited, with the author's name and role).
pub async fn post_message(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    input: &MessageInput,
) -> AppResult<Vec<Message>> {
    let (s, reader) = read(st, p, id).await?;
    let mut c = Check::new();
    let body = c.text("body", &input.body, 1, MESSAGE_MAX);
    c.done()?;
    let mut tx = st.db.begin().await?;
    match reader {
        Reader::Owner => {
            store::add_message(&mut tx, id, None, &body, Ts::now()).await?;
            let actor = match s.report.mode {
                Mode::Named => Actor::of(p),
                _ => confidential_actor(),
            };
            audit::append(&mut tx, &actor, Event::new("report.message", "report", id)).await?;
        }
        Reader::Staff => {
            let actor = Actor::of(p);
            store::add_message(&mut tx, id, Some(&actor.label), &body, Ts::now()).await?;
            audit::append(&mut tx, &actor, Event::new("report.message", "report", id)).await?;
        }
    }
    tx.commit().await?;
    Ok(store::messages(&st.db, id).await?)
}

/// An anonymous reporter's message, with her receipt; kept to the day, never audited.
pub async fn post_anonymous_message(
    st: &AppState,
    addr: IpAddr,
    m: &AnonymousMessage,
) -> AppResult<AnonymousView> {
    let lookup = ReceiptLookup {
        receipt: m.receipt.clone(),
        passphrase: m.passphrase.clone(),
    };
    let report = by_receipt(st, addr, &lookup).await?;
    let mut c = Check::new();
    let body = c.text("body", &m.body, 1, MESSAGE_MAX);
    c.done()?;
    let mut tx = st.db.begin().await?;
    store::add_message(&mut tx, report.id, None, &body, day_of(Ts::now())).await?;
    tx.commit().await?;
    anonymous_view(st, report).await
}

/// Her anonymous report with its messages and the staff reads.
pub async fn anonymous_view(st: &AppState, report: Report) -> AppResult<AnonymousView> {
    Ok(AnonymousView {
        messages: store::messages(&st.db, report.id).await?,
        access_log: staff_entries(st, report.id, None).await?,
        timeline: crate::triage::service::timeline(st, &report).await?,
        attachments: crate::reports::attachments::attachments(&st.db, report.id).await?,
        report,
    })
}

/// An anonymous report by its receipt (and passphrase, if she set one). Every wrong or
/// malformed receipt answers 404 alike and counts against the address, in memory only.
pub async fn by_receipt(st: &AppState, addr: IpAddr, q: &ReceiptLookup) -> AppResult<Report> {
    if let Some(wait) = st.receipt_throttle.blocked(&addr) {
        return Err(AppError::TooMany { retry_after: wait });
    }
    let found = match normalise_receipt(&q.receipt) {
        Some(digits) => store::report_by_receipt(&st.db, &receipt_hash(st, &digits)?).await?,
        None => None,
    };
    let ok = match &found {
        Some((_, Some(phc))) => {
            crate::platform::auth::password::verify_async(q.passphrase.clone(), Some(phc.clone()))
                .await
        }
        Some((_, None)) => q.passphrase.is_empty(),
        None => false,
    };
    match found {
        Some((s, _)) if ok => Ok(s.report),
        _ => {
            st.receipt_throttle.fail(addr);
            Err(AppError::NotFound)
        }
    }
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

/// A few reports by the demo worker in her facility, so the pages have something to show: a
/// named one on a Nauryz night shift, a confidential one on an ordinary day. They are filed as
/// she would file them (owner tag, sealed identity, audit).
pub async fn demo_reports(
    db: &Db,
    data_dir: &std::path::Path,
    sealer: &crate::platform::crypto::Sealer,
    worker: &str,
) -> AppResult<()> {
    let Some(u) = db
        .fetch_optional(
            "SELECT id, person_id FROM users WHERE username = $1",
            crate::args![worker],
        )
        .await?
    else {
        return Ok(());
    };
    let (user_id, person_id): (Uuid, Option<Uuid>) = (u.get("id")?, u.get("person_id")?);
    let Some(person) = person_id else {
        return Ok(());
    };
    let Some(p) = crate::directory::store::person_by_id(db, person).await? else {
        return Ok(());
    };
    let Some(f) = crate::directory::store::facility_by_id(db, p.facility_id).await? else {
        return Ok(());
    };
    let tag = keyed(data_dir, "report-owner", &[b"owner:", user_id.as_bytes()])?;
    let samples = [
        (
            Mode::Named,
            "2025-03-21T02:40",
            vec!["physical.assault", "psychological.verbal_abuse"],
            "relative_companion",
            2u8,
            "emergency_dept",
            "A patient's relative pushed me against the wall at the reception desk and shouted that I was letting his father die. The guard came after about five minutes.",
            vec!["union_support", "police"],
        ),
        (
            Mode::Confidential,
            "2025-11-12T11:15",
            vec!["psychological.bullying_mobbing"],
            "supervisor",
            0,
            "staff_area",
            "For three weeks the head of the department has shouted at me in front of patients and changed my shifts without notice after I asked about overtime pay.",
            vec!["mediation", "union_support"],
        ),
    ];
    for (mode, at, types, perp, severity, place, narrative, wishes) in samples {
        let r = CheckedReport {
            mode,
            types: types.into_iter().map(str::to_owned).collect(),
            perpetrator: perp.into(),
            severity,
            injury: severity >= 2,
            sick_leave_days: 0,
            psychological_harm: true,
            witnesses: String::new(),
            place: place.into(),
            occurred_local: at
                .parse()
                .map_err(|_| AppError::field("at", "err-datetime"))?,
            wishes: wishes.into_iter().map(str::to_owned).collect(),
            narrative: narrative.into(),
            alarm_id: None,
            related: vec![],
            relation: crate::reports::model::Relation::Own,
            consent_record: String::new(),
        };
        let when = when_at(db, &f, r.occurred_local).await?;
        let duties = crate::triage::service::NewDuties::for_report(
            db,
            f.country(),
            &r.types,
            r.severity,
            r.injury,
        )
        .await?;
        let identity = Reporter {
            user_id,
            username: worker.to_owned(),
            person_id,
        };
        let (reporter, sealed, actor) = if mode == Mode::Named {
            let actor = Actor {
                id: Some(user_id),
                label: format!("{worker} (worker)"),
            };
            (Some(&identity), None, actor)
        } else {
            let plain =
                serde_json::json!({"user_id": user_id, "username": worker, "person_id": person_id})
                    .to_string();
            (
                None,
                Some(sealer.seal_str(IDENTITY_PURPOSE, &plain)),
                confidential_actor(),
            )
        };
        let id = Uuid::now_v7();
        let now = Ts::now();
        let mut tx = db.begin().await?;
        store::insert_report(
            &mut tx,
            &store::NewReport {
                id,
                r: &r,
                owner_tag: &tag,
                reporter,
                identity_sealed: sealed,
                dedupe_key: &format!("demo:{id}"),
                request_hash: "",
                facility_id: f.id,
                department_id: p.department_id,
                when: &when,
                created_at: now,
                receipt_hash: None,
                passphrase_hash: None,
            },
        )
        .await?;
        duties.write(&mut tx, id, now).await?;
        audit::append(&mut tx, &actor, Event::new("report.submit", "report", id)).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The audit actor for a confidential reporter: no account id, no name.
pub(crate) fn confidential_actor() -> Actor {
    Actor {
        id: None,
        label: "confidential reporter".into(),
    }
}

/// Checks a report's fields and places it: the facility (the given one, else `default`), its
/// department, and the classified time.
async fn prepare(
    st: &AppState,
    input: &ReportInput,
    default: Option<Uuid>,
) -> AppResult<(CheckedReport, Facility, When)> {
    let mut c = Check::new();
    let checked = input.check(&mut c);
    let facility_id = input.facility_id.or(default);
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
    Ok((r, f, when))
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
    let own = match input.facility_id {
        Some(_) => None,
        None => own_facility(st, p).await?,
    };
    let (r, f, when) = prepare(st, input, own).await?;
    // Only a union representative reports on a member's behalf.
    if r.relation == Relation::Representative && p.role != crate::platform::access::Role::UnionRep {
        return Err(AppError::field("relation", "err-choice"));
    }
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
            let actor = confidential_actor();
            (
                None,
                Some(st.sealer.seal_str(IDENTITY_PURPOSE, &plain)),
                actor,
                None,
            )
        }
        Mode::Anonymous => return Err(AppError::field("mode", "err-choice")),
    };
    let id = Uuid::now_v7();
    let (facility_id, department_id) = (f.id, input.department_id);
    let reporter = reporter.cloned();
    let duties = crate::triage::service::NewDuties::for_report(
        &st.db,
        f.country(),
        &r.types,
        r.severity,
        r.injury,
    )
    .await?;
    // Group commit (platform/batch.rs): answered only once the report is on disk. A retry with
    // the same key finds the first report inside the same write.
    let first = st
        .batch
        .write(move |tx| {
            Box::pin(async move {
                let now = Ts::now();
                let created = store::insert_report(
                    tx,
                    &store::NewReport {
                        id,
                        r: &r,
                        owner_tag: &tag,
                        reporter: reporter.as_ref(),
                        identity_sealed: sealed,
                        dedupe_key: &dedupe_key,
                        request_hash: &request_hash,
                        facility_id,
                        department_id,
                        when: &when,
                        created_at: now,
                        receipt_hash: None,
                        passphrase_hash: None,
                    },
                )
                .await?;
                if !created {
                    let first = store::report_by_dedupe(tx, &dedupe_key)
                        .await?
                        .ok_or(AppError::NotFound)?;
                    if first.request_hash != request_hash {
                        return Err(AppError::IdempotencyMismatch);
                    }
                    return Ok(Some(first.report));
                }
                duties.write(tx, id, now).await?;
                audit::append(
                    tx,
                    &actor,
                    Event::new("report.submit", "report", id)
                        .subject(subject)
                        .detail(serde_json::json!({"mode": r.mode, "facility_id": facility_id})),
                )
                .await?;
                Ok(None)
            })
        })
        .await?;
    if let Some(first) = first {
        return Ok((first, false));
    }
    let stored = store::report_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((stored.report, true))
}

/// Where a report sits, for scope checks.
pub async fn place_of(st: &AppState, r: &Report) -> AppResult<Place> {
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
    staff_entries(st, s.report.id, Some(p.user_id)).await
}

/// The staff reads and actions on a report, leaving out the reporter's own.
pub async fn staff_entries(
    st: &AppState,
    id: Uuid,
    reporter: Option<Uuid>,
) -> AppResult<Vec<AccessEntry>> {
    let f = audit::Filter {
        object_id: Some(id.to_string()),
        ..Default::default()
    };
    Ok(audit::list(&st.db, &f, 500)
        .await?
        .into_iter()
        .filter(|e| e.object_type == "report" && e.actor_id.is_some_and(|a| Some(a) != reporter))
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

/// A report draft from a resolved alarm, for the alarm's "report this" link: the place and the
/// time of the press in the facility's zone, and the link to the alarm. What happened is hers to
/// say, so types, perpetrator and narrative stay empty.
pub fn draft_from_alarm(alarm: &crate::alarms::model::Alarm, tz: &str) -> ReportInput {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let local = crate::reports::classify::local_of(alarm.pressed_at.timestamp(), &zone);
    ReportInput {
        facility_id: Some(alarm.facility_id),
        department_id: alarm.department_id,
        occurred_local: local.strftime("%Y-%m-%dT%H:%M").to_string(),
        alarm_id: Some(alarm.id),
        ..ReportInput::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::model::{Alarm, Kind, Source, State};

    #[test]
    fn an_alarm_draft_carries_place_local_time_and_link() {
        let alarm = Alarm {
            id: Uuid::now_v7(),
            facility_id: Uuid::now_v7(),
            department_id: Some(Uuid::now_v7()),
            source: Source::Phone,
            source_ref: "demo.worker".into(),
            kind: Kind::Panic,
            state: State::Resolved,
            outcome: None,
            room: "112".into(),
            floor: "1".into(),
            lat: None,
            lon: None,
            silent: false,
            pressed_by: None,
            pressed_at: Ts::try_from("2024-03-20T22:00:00Z".to_owned()).expect("valid"),
            received_at: Ts::now(),
            acked_at: None,
            on_scene_at: None,
            resolved_at: None,
            escalation_level: 0,
            escalation_target: String::new(),
            post_id: None,
            region_id: "KZ-75".into(),
        };
        let d = draft_from_alarm(&alarm, "Asia/Almaty");
        assert_eq!(d.occurred_local, "2024-03-21T03:00");
        assert_eq!(d.alarm_id, Some(alarm.id));
        assert_eq!(d.facility_id, Some(alarm.facility_id));
        assert_eq!(d.department_id, alarm.department_id);
        assert!(d.types.is_empty() && d.narrative.is_empty());
    }
}
