//! SQL for the retaliation watch.

use jiff::civil::Date;
use uuid::Uuid;

use crate::args;
use crate::platform::db::{Db, DbResult, Tx};
use crate::platform::time::Ts;
use crate::platform::validate::parse_date;

const ROSTER_OF: &str = "SELECT r.day, s.code FROM roster_entries r JOIN shift_definitions s ON s.id = r.shift_id WHERE r.person_id = $1 AND r.day >= $2 AND r.day <= $3 ORDER BY r.day";
const INSERT_EVENT: &str = "INSERT INTO retaliation_events (id, report_id, kind, happened_on, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
const EVENTS: &str = "SELECT id, kind, happened_on, body, created_at FROM retaliation_events WHERE report_id = $1 ORDER BY happened_on, id";
const CONSENT: &str =
    "SELECT given_at, withdrawn_at FROM retaliation_consents WHERE report_id = $1";
const GIVE: &str = "INSERT INTO retaliation_consents (report_id, given_at, withdrawn_at) VALUES ($1, $2, NULL) ON CONFLICT (report_id) DO UPDATE SET given_at = excluded.given_at, withdrawn_at = NULL";
const WITHDRAW: &str = "UPDATE retaliation_consents SET withdrawn_at = $2 WHERE report_id = $1 AND withdrawn_at IS NULL";
const SAME_ALERT: &str =
    "SELECT COUNT(*) AS n FROM retaliation_alerts WHERE report_id = $1 AND summary = $2";
const INSERT_ALERT: &str = "INSERT INTO retaliation_alerts (id, report_id, facility_id, summary, created_at) VALUES ($1, $2, $3, $4, $5)";
const ALERTS: &str = "SELECT id, report_id, facility_id, summary, created_at FROM retaliation_alerts ORDER BY created_at DESC, id LIMIT 500";

/// Her roster entries (local start day, shift code) in `[from, to]`.
pub async fn roster_of(
    db: &Db,
    person: Uuid,
    from: Date,
    to: Date,
) -> DbResult<Vec<(Date, String)>> {
    let rows = db
        .fetch_all(ROSTER_OF, args![person, from.to_string(), to.to_string()])
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let day: String = r.get("day")?;
        if let Some(d) = parse_date(&day) {
            out.push((d, r.get("code")?));
        }
    }
    Ok(out)
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: Uuid,
    pub kind: String,
    pub happened_on: String,
    pub text: String,
    #[schema(value_type = String)]
    pub recorded_at: Ts,
}

pub async fn insert_event(tx: &mut Tx, report: Uuid, e: &Event) -> DbResult<()> {
    tx.execute(
        INSERT_EVENT,
        args![
            e.id,
            report,
            e.kind.as_str(),
            e.happened_on.as_str(),
            e.text.as_str(),
            e.recorded_at
        ],
    )
    .await?;
    Ok(())
}

pub async fn events(db: &Db, report: Uuid) -> DbResult<Vec<Event>> {
    db.fetch_all(EVENTS, args![report])
        .await?
        .iter()
        .map(|r| {
            Ok(Event {
                id: r.get("id")?,
                kind: r.get("kind")?,
                happened_on: r.get("happened_on")?,
                text: r.get("body")?,
                recorded_at: r.ts("created_at")?,
            })
        })
        .collect()
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Consent {
    #[schema(value_type = String)]
    pub given_at: Ts,
    #[schema(value_type = Option<String>)]
    pub withdrawn_at: Option<Ts>,
}

impl Consent {
    pub fn standing(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

pub async fn consent(db: &Db, report: Uuid) -> DbResult<Option<Consent>> {
    db.fetch_optional(CONSENT, args![report])
        .await?
        .map(|r| {
            Ok(Consent {
                given_at: r.ts("given_at")?,
                withdrawn_at: r.opt_ts("withdrawn_at")?,
            })
        })
        .transpose()
}

pub async fn set_consent(tx: &mut Tx, report: Uuid, give: bool) -> DbResult<u64> {
    if give {
        tx.execute(GIVE, args![report, Ts::now()]).await
    } else {
        tx.execute(WITHDRAW, args![report, Ts::now()]).await
    }
}

/// Stores an alert unless the same one was already sent for this report; true if stored.
pub async fn alert(tx: &mut Tx, report: Uuid, facility: Uuid, summary: &str) -> DbResult<bool> {
    let n: i64 = tx
        .fetch_one(SAME_ALERT, args![report, summary])
        .await?
        .get("n")?;
    if n > 0 {
        return Ok(false);
    }
    tx.execute(
        INSERT_ALERT,
        args![Uuid::now_v7(), report, facility, summary, Ts::now()],
    )
    .await?;
    Ok(true)
}

pub struct AlertRow {
    pub id: Uuid,
    pub report_id: Uuid,
    pub facility_id: Uuid,
    pub summary: String,
    pub created_at: Ts,
}

/// Every alert, newest first; the caller keeps those in scope.
pub async fn alerts(db: &Db) -> DbResult<Vec<AlertRow>> {
    db.fetch_all(ALERTS, args![])
        .await?
        .iter()
        .map(|r| {
            Ok(AlertRow {
                id: r.get("id")?,
                report_id: r.get("report_id")?,
                facility_id: r.get("facility_id")?,
                summary: r.get("summary")?,
                created_at: r.ts("created_at")?,
            })
        })
        .collect()
}
