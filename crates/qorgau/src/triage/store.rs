//! SQL for handling reports: the queue, assignment, notes, status timeline, merging, duties and
//! cases.

use uuid::Uuid;

use crate::args;
use crate::platform::access::ScopeFilter;
use crate::platform::db::{Db, DbResult, Row, Tx};
use crate::platform::time::Ts;
use crate::reports::model::{Mode, Status};
use crate::triage::model::{CaseSummary, Duty, Note, QueueItem, QueueQuery, TimelineEntry};
use crate::triage::rules::DutyRule;

const QUEUE: &str = "SELECT r.id, r.mode, r.status, r.facility_id, r.department_id, r.types, r.severity, r.injury, r.wishes, r.occurred_local, r.tz, r.created_at, r.escalation_withdrawn_at, r.assignee_id, r.merged_into, r.case_id, u.username AS assignee, f.name AS facility_name, \
 (SELECT COUNT(*) FROM report_duties d WHERE d.report_id = r.id AND d.done_at IS NULL) AS duties_open, \
 (SELECT COUNT(*) FROM report_duties d WHERE d.report_id = r.id AND d.done_at IS NULL AND d.due_at < $14 AND NOT (d.external = TRUE AND r.escalation_withdrawn_at IS NOT NULL)) AS duties_overdue, \
 (SELECT MIN(d.due_at) FROM report_duties d WHERE d.report_id = r.id AND d.done_at IS NULL) AS next_due \
 FROM reports r JOIN facilities f ON f.id = r.facility_id LEFT JOIN users u ON u.id = r.assignee_id \
 WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR r.facility_id = $3) AND ($4 IS NULL OR r.department_id = $4) \
 AND ($5 IS NULL OR r.status = $5) AND ($6 = FALSE OR r.status IN ('received', 'in_triage')) \
 AND ($7 IS NULL OR r.assignee_id = $7) AND ($8 = FALSE OR r.assignee_id IS NULL) \
 AND ($9 IS NULL OR r.mode = $9) AND ($10 IS NULL OR r.types LIKE $10) AND ($11 IS NULL OR r.severity >= $11) \
 AND ($12 = FALSE OR r.wishes LIKE '%\"union_support\"%') \
 AND ($13 = FALSE OR EXISTS (SELECT 1 FROM report_duties d WHERE d.report_id = r.id AND d.done_at IS NULL AND d.due_at < $14 AND NOT (d.external = TRUE AND r.escalation_withdrawn_at IS NOT NULL))) \
 AND ($15 IS NULL OR r.facility_id = $15) \
 ORDER BY r.created_at DESC, r.id DESC LIMIT $16 OFFSET $17";

/// The reports in a scope, newest first, with what triage needs to see of them: no narrative and
/// no reporter, which only opening a report (an audited read) shows.
pub async fn queue(
    db: &Db,
    scope: &ScopeFilter,
    q: &QueueQuery,
    assignee: Option<Uuid>,
    now: Ts,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<QueueItem>> {
    db.fetch_all(
        QUEUE,
        args![
            scope.country.as_ref().map(|c| format!("{c}-%")),
            scope.region.clone(),
            scope.facility,
            scope.department,
            q.status.map(Status::code),
            q.open,
            assignee,
            q.unassigned,
            q.mode.map(Mode::code),
            q.r#type.as_ref().map(|t| format!("%\"{t}%")),
            q.min_severity.map(i64::from),
            q.union,
            q.overdue,
            now,
            q.facility,
            limit,
            offset
        ],
    )
    .await?
    .iter()
    .map(queue_item)
    .collect()
}

fn queue_item(r: &Row) -> DbResult<QueueItem> {
    let list = |c: &str| -> DbResult<Vec<String>> {
        Ok(serde_json::from_str(&r.get::<String>(c)?).unwrap_or_default())
    };
    let next_due: Option<i64> = r.get("next_due")?;
    Ok(QueueItem {
        id: r.get("id")?,
        mode: Mode::parse(&r.get::<String>("mode")?).unwrap_or(Mode::Confidential),
        status: Status::parse(&r.get::<String>("status")?).unwrap_or(Status::Received),
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        department_id: r.get("department_id")?,
        types: list("types")?,
        severity: u8::try_from(r.get::<i64>("severity")?).unwrap_or(0),
        injury: r.get("injury")?,
        union_support: list("wishes")?.iter().any(|w| w == "union_support"),
        occurred_local: r.get("occurred_local")?,
        tz: r.get("tz")?,
        created_at: r.ts("created_at")?,
        escalation_withdrawn: r.opt_ts("escalation_withdrawn_at")?.is_some(),
        assignee_id: r.get("assignee_id")?,
        assignee: r.get("assignee")?,
        merged_into: r.get("merged_into")?,
        case_id: r.get("case_id")?,
        duties_open: r.get("duties_open")?,
        duties_overdue: r.get("duties_overdue")?,
        overdue: r.get::<i64>("duties_overdue")? > 0,
        next_due: next_due.map(Ts::from_micros),
    })
}

/// What triage keeps on a report beside the report itself.
pub struct TriageRow {
    pub assignee_id: Option<Uuid>,
    pub assignee: Option<String>,
    pub merged_into: Option<Uuid>,
    pub case_id: Option<Uuid>,
}

pub async fn triage_row(db: &Db, id: Uuid) -> DbResult<Option<TriageRow>> {
    db.fetch_optional(
        "SELECT r.assignee_id, r.merged_into, r.case_id, u.username AS assignee FROM reports r LEFT JOIN users u ON u.id = r.assignee_id WHERE r.id = $1",
        args![id],
    )
    .await?
    .map(|r| {
        Ok(TriageRow {
            assignee_id: r.get("assignee_id")?,
            assignee: r.get("assignee")?,
            merged_into: r.get("merged_into")?,
            case_id: r.get("case_id")?,
        })
    })
    .transpose()
}

/// The reports merged into this one.
pub async fn duplicates(db: &Db, id: Uuid) -> DbResult<Vec<Uuid>> {
    db.fetch_all(
        "SELECT id FROM reports WHERE merged_into = $1 ORDER BY created_at, id LIMIT 500",
        args![id],
    )
    .await?
    .iter()
    .map(|r| r.get("id"))
    .collect()
}

/// Changes the status and appends it to the reporter's timeline.
pub async fn set_status(tx: &mut Tx, id: Uuid, status: Status, at: Ts) -> DbResult<()> {
    tx.execute(
        "UPDATE reports SET status = $2 WHERE id = $1",
        args![id, status.code()],
    )
    .await?;
    tx.execute(
        "INSERT INTO report_timeline (report_id, seq, status, at) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3 FROM report_timeline WHERE report_id = $1",
        args![id, status.code(), at],
    )
    .await?;
    Ok(())
}

pub async fn timeline(db: &Db, id: Uuid) -> DbResult<Vec<TimelineEntry>> {
    db.fetch_all(
        "SELECT status, at FROM report_timeline WHERE report_id = $1 ORDER BY seq LIMIT 1000",
        args![id],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TimelineEntry {
            status: Status::parse(&r.get::<String>("status")?).unwrap_or(Status::Received),
            at: r.ts("at")?,
        })
    })
    .collect()
}

pub async fn assign(tx: &mut Tx, id: Uuid, to: Option<Uuid>) -> DbResult<()> {
    tx.execute(
        "UPDATE reports SET assignee_id = $2 WHERE id = $1",
        args![id, to],
    )
    .await
    .map(|_| ())
}

pub async fn mark_merged(tx: &mut Tx, id: Uuid, into: Uuid) -> DbResult<()> {
    tx.execute(
        "UPDATE reports SET merged_into = $2 WHERE id = $1",
        args![id, into],
    )
    .await
    .map(|_| ())
}

pub async fn add_note(
    tx: &mut Tx,
    report: Uuid,
    author_id: Uuid,
    author: &str,
    body: &str,
    at: Ts,
) -> DbResult<()> {
    tx.execute(
        "INSERT INTO report_notes (report_id, seq, author_id, author, body, created_at) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM report_notes WHERE report_id = $1",
        args![report, author_id, author, body, at],
    )
    .await
    .map(|_| ())
}

pub async fn notes(db: &Db, report: Uuid) -> DbResult<Vec<Note>> {
    db.fetch_all(
        "SELECT seq, author, body, created_at FROM report_notes WHERE report_id = $1 ORDER BY seq LIMIT 1000",
        args![report],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Note {
            seq: r.get("seq")?,
            author: r.get("author")?,
            body: r.get("body")?,
            at: r.ts("created_at")?,
        })
    })
    .collect()
}

/// A country's rules as an administrator stored them; `None` means the compiled-in defaults.
pub async fn stored_rules(db: &Db, country: &str) -> DbResult<Option<Vec<DutyRule>>> {
    Ok(db
        .fetch_optional(
            "SELECT rules FROM duty_rules WHERE country = $1",
            args![country],
        )
        .await?
        .map(|r| r.get::<String>("rules"))
        .transpose()?
        .and_then(|s| serde_json::from_str(&s).ok()))
}

pub async fn put_rules(tx: &mut Tx, country: &str, rules: &[DutyRule], at: Ts) -> DbResult<()> {
    let json = serde_json::to_string(rules).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO duty_rules (country, rules, updated_at) VALUES ($1, $2, $3) ON CONFLICT (country) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at",
        args![country, json, at],
    )
    .await
    .map(|_| ())
}

pub async fn insert_duty(
    tx: &mut Tx,
    id: Uuid,
    report: Uuid,
    rule: &DutyRule,
    due: Ts,
) -> DbResult<()> {
    tx.execute(
        "INSERT INTO report_duties (id, report_id, rule_id, body, external, due_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report_id, rule_id) DO NOTHING",
        args![id, report, &rule.id, &rule.body, rule.external, due],
    )
    .await
    .map(|_| ())
}

fn duty(r: &Row) -> DbResult<Duty> {
    Ok(Duty {
        id: r.get("id")?,
        report_id: r.get("report_id")?,
        rule_id: r.get("rule_id")?,
        body: r.get("body")?,
        external: r.get("external")?,
        due_at: r.ts("due_at")?,
        done_at: r.opt_ts("done_at")?,
        done_by: r.get("done_by")?,
        reference: r.get("reference")?,
        escalated_at: r.opt_ts("escalated_at")?,
    })
}

pub async fn duties(db: &Db, report: Uuid) -> DbResult<Vec<Duty>> {
    db.fetch_all(
        "SELECT * FROM report_duties WHERE report_id = $1 ORDER BY due_at, rule_id",
        args![report],
    )
    .await?
    .iter()
    .map(duty)
    .collect()
}

pub async fn duty_tx(tx: &mut Tx, id: Uuid) -> DbResult<Option<Duty>> {
    tx.fetch_optional("SELECT * FROM report_duties WHERE id = $1", args![id])
        .await?
        .as_ref()
        .map(duty)
        .transpose()
}

pub async fn duty_done(tx: &mut Tx, id: Uuid, by: &str, reference: &str, at: Ts) -> DbResult<bool> {
    Ok(tx
        .execute(
            "UPDATE report_duties SET done_at = $2, done_by = $3, reference = $4 WHERE id = $1 AND done_at IS NULL",
            args![id, at, by, reference],
        )
        .await?
        > 0)
}

pub async fn duty_escalated(tx: &mut Tx, id: Uuid, at: Ts) -> DbResult<()> {
    tx.execute(
        "UPDATE report_duties SET escalated_at = $2 WHERE id = $1",
        args![id, at],
    )
    .await
    .map(|_| ())
}

const OVERDUE: &str = "SELECT f.id AS facility_id, f.name AS facility_name, f.region_id, COUNT(*) AS overdue, MIN(d.due_at) AS oldest FROM report_duties d JOIN reports r ON r.id = d.report_id JOIN facilities f ON f.id = r.facility_id WHERE d.done_at IS NULL AND d.due_at < $5 AND NOT (d.external = TRUE AND r.escalation_withdrawn_at IS NOT NULL) AND ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR r.facility_id = $3) AND ($4 IS NULL OR r.department_id = $4) GROUP BY f.id, f.name, f.region_id ORDER BY MIN(d.due_at) LIMIT 500";

/// Overdue duties counted per facility: the escalation dashboard (no report content).
pub async fn overdue_by_facility(
    db: &Db,
    scope: &ScopeFilter,
    now: Ts,
) -> DbResult<Vec<crate::triage::model::OverdueCount>> {
    db.fetch_all(
        OVERDUE,
        args![
            scope.country.as_ref().map(|c| format!("{c}-%")),
            scope.region.clone(),
            scope.facility,
            scope.department,
            now
        ],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(crate::triage::model::OverdueCount {
            facility_id: r.get("facility_id")?,
            facility_name: r.get("facility_name")?,
            region_id: r.get("region_id")?,
            overdue: r.get("overdue")?,
            oldest_due: r.ts("oldest")?,
        })
    })
    .collect()
}

pub async fn insert_case(
    tx: &mut Tx,
    id: Uuid,
    facility: Uuid,
    department: Option<Uuid>,
    title: &str,
    by: Uuid,
    at: Ts,
) -> DbResult<()> {
    tx.execute(
        "INSERT INTO cases (id, facility_id, department_id, title, status, created_by, created_at) VALUES ($1, $2, $3, $4, 'open', $5, $6)",
        args![id, facility, department, title, by, at],
    )
    .await
    .map(|_| ())
}

pub async fn set_case(tx: &mut Tx, report: Uuid, case: Uuid) -> DbResult<()> {
    tx.execute(
        "UPDATE reports SET case_id = $2 WHERE id = $1",
        args![report, case],
    )
    .await
    .map(|_| ())
}

fn case_summary(r: &Row) -> DbResult<CaseSummary> {
    Ok(CaseSummary {
        id: r.get("id")?,
        facility_id: r.get("facility_id")?,
        department_id: r.get("department_id")?,
        title: r.get("title")?,
        status: r.get("status")?,
        created_by: r.get("created_by_name")?,
        created_at: r.ts("created_at")?,
        reports: vec![],
    })
}

pub async fn case_by_id(db: &Db, id: Uuid) -> DbResult<Option<CaseSummary>> {
    let Some(row) = db
        .fetch_optional(
            "SELECT c.*, u.username AS created_by_name FROM cases c JOIN users u ON u.id = c.created_by WHERE c.id = $1",
            args![id],
        )
        .await?
    else {
        return Ok(None);
    };
    let mut c = case_summary(&row)?;
    c.reports = db
        .fetch_all(
            "SELECT id FROM reports WHERE case_id = $1 ORDER BY created_at, id LIMIT 500",
            args![id],
        )
        .await?
        .iter()
        .map(|r| r.get("id"))
        .collect::<DbResult<_>>()?;
    Ok(Some(c))
}

const CASES: &str = "SELECT c.*, u.username AS created_by_name FROM cases c JOIN users u ON u.id = c.created_by JOIN facilities f ON f.id = c.facility_id WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR c.facility_id = $3) AND ($4 IS NULL OR c.department_id = $4) ORDER BY c.created_at DESC, c.id DESC LIMIT 500";

pub async fn cases(db: &Db, scope: &ScopeFilter) -> DbResult<Vec<CaseSummary>> {
    db.fetch_all(
        CASES,
        args![
            scope.country.as_ref().map(|c| format!("{c}-%")),
            scope.region.clone(),
            scope.facility,
            scope.department
        ],
    )
    .await?
    .iter()
    .map(case_summary)
    .collect()
}

/// Active accounts as (id, username, role, scope kind, scope id): the caller keeps those whose
/// role and scope let them handle a given report (platform/access.rs decides, not SQL).
pub async fn active_accounts(
    db: &Db,
) -> DbResult<Vec<(Uuid, String, String, String, Option<String>)>> {
    db.fetch_all(
        "SELECT id, username, role, scope_kind, scope_id FROM users WHERE disabled_at IS NULL ORDER BY username LIMIT 5000",
        args![],
    )
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.get("id")?,
            r.get("username")?,
            r.get("role")?,
            r.get("scope_kind")?,
            r.get("scope_id")?,
        ))
    })
    .collect()
}
