//! SQL for reports and the calendars they are classified against.

use uuid::Uuid;

use crate::args;
use crate::platform::db::{Db, DbResult, Row, Tx};
use crate::platform::time::Ts;
use crate::platform::validate::parse_date;
use crate::reports::calendar::{CalendarDay, CheckedDay, merged};
use crate::reports::classify::{Calendar, Classification, DayKind, DayType};
use crate::reports::model::{CheckedReport, Message, Mode, Relation, Report, Reporter, Status};
use crate::reports::service::When;

const LOCAL_DAYS: &str =
    "SELECT country, day, kind, name FROM calendar_days WHERE country = $1 ORDER BY day";
const PUT_DAY: &str = "INSERT INTO calendar_days (country, day, kind, name, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (country, day) DO UPDATE SET kind = excluded.kind, name = excluded.name, updated_at = excluded.updated_at";
const DELETE_DAY: &str = "DELETE FROM calendar_days WHERE country = $1 AND day = $2";

/// The days an administrator added for a country. A row that no longer parses (edited by hand in
/// the database) is skipped rather than failing every classification.
pub async fn local_days(db: &Db, country: &str) -> DbResult<Vec<CalendarDay>> {
    let rows = db.fetch_all(LOCAL_DAYS, args![country]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let day: String = r.get("day")?;
        let kind: String = r.get("kind")?;
        if let (Some(day), Some(kind)) = (parse_date(&day), DayKind::parse(&kind)) {
            out.push(CalendarDay {
                country: r.get("country")?,
                day,
                kind,
                name: r.get("name")?,
                source: "local".into(),
            });
        }
    }
    Ok(out)
}

/// The country's calendar as classification uses it.
pub async fn calendar(db: &Db, country: &str) -> DbResult<Calendar> {
    Ok(merged(country, &local_days(db, country).await?))
}

pub async fn put_day(tx: &mut Tx, country: &str, d: &CheckedDay) -> DbResult<()> {
    tx.execute(
        PUT_DAY,
        args![
            country,
            d.day.to_string(),
            d.kind.code(),
            &d.name,
            Ts::now()
        ],
    )
    .await?;
    Ok(())
}

/// Removes an administrator's entry; `false` if there was none.
pub async fn delete_day(tx: &mut Tx, country: &str, day: &str) -> DbResult<bool> {
    Ok(tx.execute(DELETE_DAY, args![country, day]).await? > 0)
}

/// A report as stored, with what only the server may use (the owner tag and sealed identity).
pub struct Stored {
    pub report: Report,
    pub owner_tag: String,
    pub identity_sealed: Option<Vec<u8>>,
    pub request_hash: String,
}

/// Everything a new report row holds.
pub struct NewReport<'a> {
    pub id: Uuid,
    pub r: &'a CheckedReport,
    pub owner_tag: &'a str,
    pub reporter: Option<&'a Reporter>,
    pub identity_sealed: Option<Vec<u8>>,
    pub dedupe_key: &'a str,
    pub request_hash: &'a str,
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
    pub when: &'a When,
    pub created_at: Ts,
    pub receipt_hash: Option<&'a str>,
    pub passphrase_hash: Option<String>,
}

const INSERT_REPORT: &str = "INSERT INTO reports (id, mode, status, owner_tag, reporter_user_id, reporter_person_id, identity_sealed, dedupe_key, request_hash, facility_id, department_id, place, occurred_at, tz, occurred_local, shift, shift_start_date, weekend, day_type, types, perpetrator, severity, injury, sick_leave_days, psychological_harm, witnesses, wishes, narrative, alarm_id, related, created_at, receipt_hash, passphrase_hash, relation, consent_record) VALUES ($1, $2, 'received', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34) ON CONFLICT (dedupe_key) DO NOTHING";
const BY_ID: &str = "SELECT r.*, u.username AS reporter_username FROM reports r LEFT JOIN users u ON u.id = r.reporter_user_id WHERE r.id = $1";
const BY_DEDUPE: &str = "SELECT r.*, u.username AS reporter_username FROM reports r LEFT JOIN users u ON u.id = r.reporter_user_id WHERE r.dedupe_key = $1";
const BY_RECEIPT: &str =
    "SELECT r.*, NULL AS reporter_username FROM reports r WHERE r.receipt_hash = $1";
const BY_OWNER: &str = "SELECT r.*, u.username AS reporter_username FROM reports r LEFT JOIN users u ON u.id = r.reporter_user_id WHERE r.owner_tag = $1 ORDER BY r.id DESC LIMIT 200";

/// Inserts unless the dedupe key exists; `false` when it did (the caller reads the first one).
pub async fn insert_report(tx: &mut Tx, n: &NewReport<'_>) -> DbResult<bool> {
    let c = &n.when.classification;
    let rows = tx
        .execute(
            INSERT_REPORT,
            args![
                n.id,
                n.r.mode.code(),
                n.owner_tag,
                n.reporter.map(|r| r.user_id),
                n.reporter.and_then(|r| r.person_id),
                n.identity_sealed.clone(),
                n.dedupe_key,
                n.request_hash,
                n.facility_id,
                n.department_id,
                &n.r.place,
                n.when.at,
                &n.when.tz,
                n.when.local.to_string(),
                c.shift.clone(),
                c.shift_start_date.to_string(),
                c.weekend,
                c.day_type.code(),
                json(&n.r.types),
                &n.r.perpetrator,
                i64::from(n.r.severity),
                n.r.injury,
                i64::from(n.r.sick_leave_days),
                n.r.psychological_harm,
                &n.r.witnesses,
                json(&n.r.wishes),
                &n.r.narrative,
                n.r.alarm_id,
                json(&n.r.related),
                n.created_at,
                n.receipt_hash,
                n.passphrase_hash.clone(),
                n.r.relation.code(),
                (!n.r.consent_record.is_empty()).then(|| n.r.consent_record.clone())
            ],
        )
        .await?;
    Ok(rows > 0)
}

/// JSON text of a list column.
fn json<T: serde::Serialize>(v: &[T]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn stored(r: &Row) -> DbResult<Stored> {
    let list = |col: &str| -> DbResult<Vec<String>> {
        Ok(serde_json::from_str(&r.get::<String>(col)?).unwrap_or_default())
    };
    let mode = Mode::parse(&r.get::<String>("mode")?).unwrap_or(Mode::Confidential);
    let user: Option<Uuid> = r.get("reporter_user_id")?;
    let reporter = match (mode, user) {
        (Mode::Named, Some(user_id)) => Some(Reporter {
            user_id,
            username: r
                .get::<Option<String>>("reporter_username")?
                .unwrap_or_default(),
            person_id: r.get("reporter_person_id")?,
        }),
        _ => None,
    };
    let local: String = r.get("occurred_local")?;
    let shift_start: String = r.get("shift_start_date")?;
    let local: jiff::civil::DateTime = local.parse().unwrap_or_default();
    let classification = Classification {
        shift: r.get("shift")?,
        shift_start_date: parse_date(&shift_start).unwrap_or(local.date()),
        weekend: r.get("weekend")?,
        day_type: DayType::parse(&r.get::<String>("day_type")?).unwrap_or(DayType::WorkingDay),
    };
    let related: Vec<Uuid> = serde_json::from_str(&r.get::<String>("related")?).unwrap_or_default();
    Ok(Stored {
        report: Report {
            id: r.get("id")?,
            mode,
            status: Status::parse(&r.get::<String>("status")?).unwrap_or(Status::Received),
            reporter,
            types: list("types")?,
            perpetrator: r.get("perpetrator")?,
            severity: u8::try_from(r.get::<i64>("severity")?).unwrap_or(0),
            injury: r.get("injury")?,
            sick_leave_days: u32::try_from(r.get::<i64>("sick_leave_days")?).unwrap_or(0),
            psychological_harm: r.get("psychological_harm")?,
            witnesses: r.get("witnesses")?,
            facility_id: r.get("facility_id")?,
            department_id: r.get("department_id")?,
            place: r.get("place")?,
            when: When {
                at: r.ts("occurred_at")?,
                tz: r.get("tz")?,
                local,
                classification,
            },
            wishes: list("wishes")?,
            narrative: r.get("narrative")?,
            alarm_id: r.get("alarm_id")?,
            related,
            relation: Relation::parse(&r.get::<String>("relation")?).unwrap_or(Relation::Own),
            consent_record: r.get("consent_record")?,
            created_at: r.ts("created_at")?,
            escalation_withdrawn_at: r.opt_ts("escalation_withdrawn_at")?,
        },
        owner_tag: r.get("owner_tag")?,
        identity_sealed: r.get("identity_sealed")?,
        request_hash: r.get("request_hash")?,
    })
}

pub async fn report_by_id(db: &Db, id: Uuid) -> DbResult<Option<Stored>> {
    db.fetch_optional(BY_ID, args![id])
        .await?
        .as_ref()
        .map(stored)
        .transpose()
}

pub async fn report_by_dedupe(tx: &mut Tx, key: &str) -> DbResult<Option<Stored>> {
    tx.fetch_optional(BY_DEDUPE, args![key])
        .await?
        .as_ref()
        .map(stored)
        .transpose()
}

pub async fn own_reports(db: &Db, owner_tag: &str) -> DbResult<Vec<Report>> {
    db.fetch_all(BY_OWNER, args![owner_tag])
        .await?
        .iter()
        .map(|r| stored(r).map(|s| s.report))
        .collect()
}

/// An anonymous report and its passphrase hash, if any.
pub async fn report_by_receipt(db: &Db, hash: &str) -> DbResult<Option<(Stored, Option<String>)>> {
    match db.fetch_optional(BY_RECEIPT, args![hash]).await? {
        Some(r) => Ok(Some((stored(&r)?, r.get("passphrase_hash")?))),
        None => Ok(None),
    }
}

const ADD_MESSAGE: &str = "INSERT INTO report_messages (report_id, seq, from_reporter, author, body, created_at) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM report_messages WHERE report_id = $1";
const MESSAGES: &str = "SELECT seq, from_reporter, author, body, created_at FROM report_messages WHERE report_id = $1 ORDER BY seq LIMIT 1000";

pub async fn add_message(
    tx: &mut Tx,
    report: Uuid,
    author: Option<&str>,
    body: &str,
    at: Ts,
) -> DbResult<()> {
    tx.execute(
        ADD_MESSAGE,
        args![report, author.is_none(), author, body, at],
    )
    .await?;
    Ok(())
}

pub async fn messages(db: &Db, report: Uuid) -> DbResult<Vec<Message>> {
    db.fetch_all(MESSAGES, args![report])
        .await?
        .iter()
        .map(|r| {
            Ok(Message {
                seq: r.get("seq")?,
                from_reporter: r.get("from_reporter")?,
                author: r.get("author")?,
                body: r.get("body")?,
                at: r.ts("created_at")?,
            })
        })
        .collect()
}

/// Records the reporter's consent to escalation: `None` while it stands.
pub async fn set_escalation_withdrawn(tx: &mut Tx, id: Uuid, at: Option<Ts>) -> DbResult<()> {
    tx.execute(
        "UPDATE reports SET escalation_withdrawn_at = $2 WHERE id = $1",
        args![id, at.map(|t| t.micros())],
    )
    .await
    .map(|_| ())
}
