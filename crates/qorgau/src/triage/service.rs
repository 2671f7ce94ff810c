//! Handling reports: the queue, assignment, internal notes, status changes (which the reporter
//! sees on her timeline), merging duplicates, opening a case, and the mandatory notifications
//! a report starts. Every action is audited on the report, so the reporter's access log shows
//! who acted and when.

use uuid::Uuid;

use crate::alarms::store::Job;
use crate::platform::access::{Action, Principal, Role, Scope, ScopeKind, Via};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::db::Tx;
use crate::platform::error::{AppError, AppResult};
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::platform::validate::Check;
use crate::reports::consent::escalation_allowed;
use crate::reports::model::{Report, Status, TAXONOMY};
use crate::reports::service::place_of;
use crate::triage::model::*;
use crate::triage::rules::{self, DutyRule, Facts};
use crate::triage::store;

/// The job that fires when a mandatory notification falls due.
pub const DUTY_DUE: &str = "report.duty.due";

const DEFAULT_RULES: &str = include_str!("../../reference/duty-rules.csv");
const BODIES: &str = include_str!("../../reference/emergency-and-escalation.csv");

/// A report for a handler in scope, without auditing a read (each action audits itself). Her
/// own report is not hers to triage, and anyone else gets 404.
pub async fn staff_report(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Report> {
    p.require(Action::ReportView)?;
    let s = crate::reports::store::report_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if s.owner_tag == crate::reports::service::owner_tag(st, p.user_id)? {
        return Err(AppError::NotFound);
    }
    if !p.sees(&place_of(st, &s.report).await?) {
        return Err(AppError::NotFound);
    }
    Ok(s.report)
}

fn subject(r: &Report) -> Option<Uuid> {
    r.reporter.as_ref().and_then(|x| x.person_id)
}

/// The queue for a handler: reports in scope, filtered.
pub async fn queue(st: &AppState, p: &Principal, params: &QueueParams) -> AppResult<Queue> {
    p.require(Action::ReportView)?;
    let mut c = Check::new();
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        c.fail("limit", "err-range");
    }
    let offset = params.offset.unwrap_or(0);
    if !(0..=100_000).contains(&offset) {
        c.fail("offset", "err-range");
    }
    if let Some(t) = &params.r#type
        && !TAXONOMY.incident_types.iter().any(|x| &x.id == t)
    {
        c.fail("type", "err-choice");
    }
    if params.min_severity.is_some_and(|s| s > 5) {
        c.fail("min_severity", "err-range");
    }
    let (assignee, unassigned) = match params.assignee.as_deref() {
        None | Some("") => (None, false),
        Some("me") => (Some(p.user_id), false),
        Some("none") => (None, true),
        Some(other) => match Uuid::parse_str(other) {
            Ok(u) => (Some(u), false),
            Err(_) => {
                c.fail("assignee", "err-invalid");
                (None, false)
            }
        },
    };
    c.done()?;
    let kind = params.queue.unwrap_or(if p.role == Role::UnionRep {
        QueueKind::Union
    } else {
        QueueKind::Facility
    });
    let q = QueueQuery {
        status: params.status,
        open: params.open.unwrap_or(false),
        unassigned,
        mode: params.mode,
        r#type: params.r#type.clone(),
        min_severity: params.min_severity,
        union: kind == QueueKind::Union,
        overdue: params.overdue.unwrap_or(false),
        facility: params.facility,
    };
    let items = store::queue(&st.db, &p.filter(), &q, assignee, Ts::now(), limit, offset).await?;
    Ok(Queue {
        queue: kind,
        items,
        limit,
        offset,
    })
}

/// Everything about handling one report; the read is audited (her access log shows it).
pub async fn view(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Triage> {
    let r = staff_report(st, p, id).await?;
    st.audit
        .record(
            &Actor::of(p),
            Event::new("report.triage.read", "report", id).subject(subject(&r)),
        )
        .await?;
    triage_of(st, &r).await
}

async fn triage_of(st: &AppState, r: &Report) -> AppResult<Triage> {
    let row = store::triage_row(&st.db, r.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Triage {
        report_id: r.id,
        status: r.status,
        assignee_id: row.assignee_id,
        assignee: row.assignee,
        merged_into: row.merged_into,
        duplicates: store::duplicates(&st.db, r.id).await?,
        case_id: row.case_id,
        escalation_allowed: escalation_allowed(r),
        notes: store::notes(&st.db, r.id).await?,
        duties: store::duties(&st.db, r.id).await?,
        timeline: timeline(st, r).await?,
    })
}

/// The reporter's timeline: received, then every status change.
pub async fn timeline(st: &AppState, r: &Report) -> AppResult<Vec<TimelineEntry>> {
    let mut out = vec![TimelineEntry {
        status: Status::Received,
        at: r.created_at,
    }];
    out.extend(store::timeline(&st.db, r.id).await?);
    Ok(out)
}

/// Re-reads after a change and answers the handler's view.
async fn after(st: &AppState, id: Uuid) -> AppResult<Triage> {
    let r = crate::reports::store::report_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    triage_of(st, &r.report).await
}

pub async fn set_status(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    input: &StatusInput,
) -> AppResult<Triage> {
    let r = staff_report(st, p, id).await?;
    if !rules::can_set(r.status, input.status) {
        return Err(AppError::Conflict("report-status"));
    }
    let mut tx = st.db.begin().await?;
    store::set_status(&mut tx, id, input.status, Ts::now()).await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("report.status", "report", id)
            .subject(subject(&r))
            .detail(serde_json::json!({"from": r.status, "to": input.status})),
    )
    .await?;
    tx.commit().await?;
    after(st, id).await
}

/// The accounts a report can be assigned to.
pub async fn assignable(st: &AppState, r: &Report) -> AppResult<Vec<(Uuid, String)>> {
    let place = place_of(st, r).await?;
    let mut out = vec![];
    for (id, username, role, kind, scope_id) in store::active_accounts(&st.db).await? {
        let (Some(role), Some(scope)) = (
            Role::parse(&role),
            Scope::from_parts(&kind, scope_id.as_deref()),
        ) else {
            continue;
        };
        let who = Principal {
            user_id: id,
            username: username.clone(),
            role,
            scope,
            person_id: None,
            via: Via::Token {
                id: Uuid::nil(),
                read_only: true,
            },
        };
        if who.can(Action::ReportView) && who.sees(&place) {
            out.push((id, username));
        }
    }
    Ok(out)
}

pub async fn assign(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    input: &AssignInput,
) -> AppResult<Triage> {
    let r = staff_report(st, p, id).await?;
    if let Some(to) = input.assignee_id
        && !assignable(st, &r).await?.iter().any(|(id, _)| *id == to)
    {
        return Err(AppError::field("assignee_id", "err-choice"));
    }
    let mut tx = st.db.begin().await?;
    store::assign(&mut tx, id, input.assignee_id).await?;
    // Taking a report on starts its triage.
    if input.assignee_id.is_some() && r.status == Status::Received {
        store::set_status(&mut tx, id, Status::InTriage, Ts::now()).await?;
    }
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("report.assign", "report", id)
            .subject(subject(&r))
            .detail(serde_json::json!({"assignee_id": input.assignee_id})),
    )
    .await?;
    tx.commit().await?;
    after(st, id).await
}

pub async fn add_note(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    input: &NoteInput,
) -> AppResult<Triage> {
    let r = staff_report(st, p, id).await?;
    let mut c = Check::new();
    let body = c.text("body", &input.body, 1, NOTE_MAX);
    c.done()?;
    let mut tx = st.db.begin().await?;
    store::add_note(
        &mut tx,
        id,
        p.user_id,
        &format!("{} ({})", p.username, p.role.code()),
        &body,
        Ts::now(),
    )
    .await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("report.note", "report", id).subject(subject(&r)),
    )
    .await?;
    tx.commit().await?;
    after(st, id).await
}

/// Merges a duplicate into the report that carries it on. Both must be open and in the caller's
/// scope; the duplicate's reporter sees "merged" on her timeline (not the other report), and
/// keeps writing to the handlers through her own report.
pub async fn merge(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    input: &MergeInput,
) -> AppResult<Triage> {
    let dup = staff_report(st, p, id).await?;
    let mut c = Check::new();
    let reason = c.text("reason", &input.reason, 10, 1000);
    if input.into.is_none() {
        c.fail("into", "err-required");
    }
    c.done()?;
    let into_id = input.into.unwrap_or_default();
    if into_id == id {
        return Err(AppError::field("into", "err-choice"));
    }
    let into = match staff_report(st, p, into_id).await {
        Ok(r) => r,
        Err(AppError::NotFound) => return Err(AppError::field("into", "err-choice")),
        Err(e) => return Err(e),
    };
    if !rules::open(dup.status) {
        return Err(AppError::Conflict("report-status"));
    }
    if !rules::open(into.status) && into.status != Status::CaseOpened {
        return Err(AppError::field("into", "err-choice"));
    }
    let now = Ts::now();
    let mut tx = st.db.begin().await?;
    store::mark_merged(&mut tx, id, into_id).await?;
    store::set_status(&mut tx, id, Status::Merged, now).await?;
    let detail = serde_json::json!({"duplicate": id, "into": into_id});
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("report.merge", "report", id)
            .subject(subject(&dup))
            .detail(detail.clone())
            .reason(Some(reason.clone())),
    )
    .await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("report.merge", "report", into_id)
            .subject(subject(&into))
            .detail(detail)
            .reason(Some(reason)),
    )
    .await?;
    tx.commit().await?;
    after(st, id).await
}

/// Opens a case from a report (the cases capability carries it on). A case stays inside the
/// facility's handling; referring it outside asks [`escalation_allowed`] again.
pub async fn open_case(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    input: &CaseInput,
) -> AppResult<CaseSummary> {
    let r = staff_report(st, p, id).await?;
    let mut c = Check::new();
    let title = c.text("title", &input.title, 3, 200);
    c.done()?;
    if !rules::open(r.status) {
        return Err(AppError::Conflict("report-status"));
    }
    let case_id = Uuid::now_v7();
    let now = Ts::now();
    let mut tx = st.db.begin().await?;
    store::insert_case(
        &mut tx,
        case_id,
        r.facility_id,
        r.department_id,
        &title,
        p.user_id,
        now,
    )
    .await?;
    store::set_case(&mut tx, id, case_id).await?;
    store::set_status(&mut tx, id, Status::CaseOpened, now).await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("report.case", "report", id)
            .subject(subject(&r))
            .detail(serde_json::json!({"case_id": case_id})),
    )
    .await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("case.open", "case", case_id).detail(serde_json::json!({"report_id": id})),
    )
    .await?;
    tx.commit().await?;
    store::case_by_id(&st.db, case_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A case for a handler in scope; 404 otherwise.
pub async fn case(st: &AppState, p: &Principal, id: Uuid) -> AppResult<CaseSummary> {
    p.require(Action::ReportView)?;
    let c = store::case_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let f = crate::directory::store::facility_by_id(&st.db, c.facility_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let place = crate::platform::access::Place {
        department: c.department_id,
        ..f.place()
    };
    if !p.sees(&place) {
        return Err(AppError::NotFound);
    }
    st.audit
        .record(&Actor::of(p), Event::new("case.read", "case", id))
        .await?;
    Ok(c)
}

pub async fn cases(st: &AppState, p: &Principal) -> AppResult<Vec<CaseSummary>> {
    p.require(Action::ReportView)?;
    Ok(store::cases(&st.db, &p.filter()).await?)
}

/// Records that a mandatory notification was made. One outside the facility is refused while
/// the reporter has withdrawn her consent to escalation.
pub async fn duty_done(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    duty_id: Uuid,
    input: &DutyDoneInput,
) -> AppResult<Triage> {
    let r = staff_report(st, p, id).await?;
    let mut c = Check::new();
    let reference = c.text("reference", &input.reference, 1, 200);
    c.done()?;
    let mut tx = st.db.begin().await?;
    let d = store::duty_tx(&mut tx, duty_id)
        .await?
        .filter(|d| d.report_id == id)
        .ok_or(AppError::NotFound)?;
    if d.external && !escalation_allowed(&r) {
        return Err(AppError::Conflict("consent-withdrawn"));
    }
    if !store::duty_done(&mut tx, duty_id, &p.username, &reference, Ts::now()).await? {
        return Err(AppError::Conflict("duty-done"));
    }
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("report.duty.done", "report", id)
            .subject(subject(&r))
            .detail(serde_json::json!({"duty": duty_id, "body": d.body, "reference": reference})),
    )
    .await?;
    tx.commit().await?;
    after(st, id).await
}

/// The mandatory-notification rules of a country: an administrator's list, else the defaults.
pub async fn rules_for(db: &crate::platform::db::Db, country: &str) -> AppResult<DutyRules> {
    Ok(match store::stored_rules(db, country).await? {
        Some(rules) => DutyRules {
            country: country.into(),
            defaults: false,
            rules,
        },
        None => DutyRules {
            country: country.into(),
            defaults: true,
            rules: rules::parse_defaults(DEFAULT_RULES, country),
        },
    })
}

/// The bodies a country's rules may name (its escalation rows of emergency-and-escalation.csv).
pub fn bodies(country: &str) -> Vec<String> {
    let mut rd = csv::Reader::from_reader(BODIES.as_bytes());
    let Ok(h) = rd.headers().cloned() else {
        return vec![];
    };
    let (Some(c), Some(k), Some(i)) = (
        h.iter().position(|x| x == "country"),
        h.iter().position(|x| x == "kind"),
        h.iter().position(|x| x == "id"),
    ) else {
        return vec![];
    };
    rd.records()
        .filter_map(Result::ok)
        .filter(|r| r.get(c) == Some(country) && r.get(k) == Some("escalation"))
        .filter_map(|r| r.get(i).map(str::to_string))
        .collect()
}

/// The name of a body in a language (English, Russian, else the local name).
pub fn body_name(country: &str, id: &str, lang: &str) -> String {
    let mut rd = csv::Reader::from_reader(BODIES.as_bytes());
    let Ok(h) = rd.headers().cloned() else {
        return id.into();
    };
    let col = |n: &str| h.iter().position(|x| x == n);
    let name_col = match lang {
        "en" => col("name_en"),
        "ru" => col("name_ru"),
        // name_local is Kazakh for KZ rows and Kyrgyz for KG rows.
        "kk" if country == "KZ" => col("name_local"),
        "ky" if country == "KG" => col("name_local"),
        _ => col("name_ru"),
    };
    let (Some(c), Some(i), Some(n)) = (col("country"), col("id"), name_col) else {
        return id.into();
    };
    rd.records()
        .filter_map(Result::ok)
        .find(|r| r.get(c) == Some(country) && r.get(i) == Some(id))
        .and_then(|r| r.get(n).map(str::to_string))
        .unwrap_or_else(|| id.into())
}

pub async fn put_rules(
    st: &AppState,
    p: &Principal,
    country: &str,
    rules_in: Vec<DutyRule>,
) -> AppResult<DutyRules> {
    p.require(Action::CalendarManage)?;
    let place = crate::platform::access::Place {
        country: country.into(),
        ..Default::default()
    };
    if !matches!(country, "KZ" | "KG") || !matches!(p.scope, Scope::Country(_)) || !p.sees(&place) {
        return Err(AppError::NotFound);
    }
    let known = bodies(country);
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let taxonomy = |t: &str| TAXONOMY.incident_types.iter().any(|x| x.id == t);
    rules::check_rules(&rules_in, &known, &taxonomy).done()?;
    let mut tx = st.db.begin().await?;
    store::put_rules(&mut tx, country, &rules_in, Ts::now()).await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("duty_rules.put", "country", country)
            .detail(serde_json::to_value(&rules_in).unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    rules_for(&st.db, country).await
}

/// The duties a new report starts, computed before the write (the rules are read outside the
/// group commit).
pub struct NewDuties {
    rules: Vec<DutyRule>,
}

impl NewDuties {
    pub async fn for_report(
        db: &crate::platform::db::Db,
        country: &str,
        types: &[String],
        severity: u8,
        injury: bool,
    ) -> AppResult<NewDuties> {
        let all = rules_for(db, country).await?.rules;
        let f = Facts {
            types,
            severity,
            injury,
        };
        Ok(NewDuties {
            rules: rules::duties_for(&all, &f).into_iter().cloned().collect(),
        })
    }

    /// Writes them with the report, each with a timer at its deadline. `from` is when the report
    /// arrived (for an anonymous report the start of the day, so a deadline tells no more).
    pub async fn write(&self, tx: &mut Tx, report: Uuid, from: Ts) -> AppResult<()> {
        for rule in &self.rules {
            let id = Uuid::now_v7();
            let due = rule.due(from);
            store::insert_duty(tx, id, report, rule, due).await?;
            crate::alarms::store::schedule(
                tx,
                DUTY_DUE,
                &id.to_string(),
                due,
                &serde_json::Value::Null,
            )
            .await?;
        }
        Ok(())
    }
}

/// A duty's deadline passed: still open, it is escalated (audited, and counted on the regional
/// dashboard and the handlers' queue); one outside the facility waits while consent is withdrawn.
pub async fn duty_due(tx: &mut Tx, job: &Job) -> AppResult<()> {
    let Ok(id) = Uuid::parse_str(&job.ref_id) else {
        return Ok(());
    };
    let Some(d) = store::duty_tx(tx, id).await? else {
        return Ok(());
    };
    if d.done_at.is_some() || d.escalated_at.is_some() {
        return Ok(());
    }
    let withdrawn = tx
        .fetch_optional(
            "SELECT escalation_withdrawn_at FROM reports WHERE id = $1",
            crate::args![d.report_id],
        )
        .await?
        .map(|r| r.opt_ts("escalation_withdrawn_at"))
        .transpose()?
        .flatten()
        .is_some();
    let action = if d.external && withdrawn {
        "report.duty.held"
    } else {
        store::duty_escalated(tx, id, Ts::now()).await?;
        "report.duty.overdue"
    };
    audit::append(
        tx,
        &Actor::system(),
        Event::new(action, "report", d.report_id)
            .detail(serde_json::json!({"duty": id, "body": d.body, "due_at": d.due_at.rfc3339()})),
    )
    .await?;
    Ok(())
}

/// After she gives her consent again: every open duty that is not escalated gets a timer at its
/// deadline, or now if that has passed, so what her withdrawal held falls due.
pub async fn resume_duties(tx: &mut Tx, report: Uuid) -> AppResult<()> {
    let now = Ts::now();
    let open = tx
        .fetch_all(
            "SELECT id, due_at FROM report_duties WHERE report_id = $1 AND done_at IS NULL AND escalated_at IS NULL",
            crate::args![report],
        )
        .await?;
    for r in &open {
        let id: Uuid = r.get("id")?;
        let due = r.ts("due_at")?.max(now);
        crate::alarms::store::schedule(
            tx,
            DUTY_DUE,
            &id.to_string(),
            due,
            &serde_json::Value::Null,
        )
        .await?;
    }
    Ok(())
}

/// Overdue duties per facility, for handlers and for the supervising bodies (region and country
/// scopes): counts only, nothing about any report.
pub async fn overdue(st: &AppState, p: &Principal) -> AppResult<Vec<OverdueCount>> {
    if !may_see_overdue(p) {
        return Err(AppError::Forbidden);
    }
    Ok(store::overdue_by_facility(&st.db, &p.filter(), Ts::now()).await?)
}

pub fn may_see_overdue(p: &Principal) -> bool {
    p.can(Action::ReportView) || matches!(p.scope.kind(), ScopeKind::Region | ScopeKind::Country)
}
