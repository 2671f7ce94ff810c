//! SQL for the matching escrow. There is deliberately no query by hash that answers to a
//! caller: hashes are only compared inside [`lodge`]'s transaction.

use uuid::Uuid;

use crate::args;
use crate::platform::db::{Db, DbResult, Tx};
use crate::platform::time::Ts;
use crate::reports::escrow::{Answer, Kind};

const TAKE_QUOTA: &str = "INSERT INTO escrow_quota (report_id, used) VALUES ($1, 1) ON CONFLICT (report_id) DO UPDATE SET used = escrow_quota.used + 1 WHERE escrow_quota.used < $2";
const USED: &str = "SELECT used FROM escrow_quota WHERE report_id = $1";
const INSERT_ENTRY: &str = "INSERT INTO escrow_entries (id, report_id, kind, hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (report_id, hash) DO NOTHING";
/// Reports by other reporters that lodged the same hash. "Other reporter": another owner tag,
/// which for anonymous reports is the receipt's, so each anonymous report counts as its own.
const OTHERS: &str = "SELECT e.report_id FROM escrow_entries e JOIN reports r ON r.id = e.report_id WHERE e.hash = $1 AND r.owner_tag <> $2";
const MATCH_BY_HASH: &str = "SELECT id FROM escrow_matches WHERE hash = $1";
const INSERT_MATCH: &str = "INSERT INTO escrow_matches (id, hash, kind, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING";
const JOIN_MATCH: &str = "INSERT INTO escrow_match_reports (match_id, report_id, answer) VALUES ($1, $2, 'pending') ON CONFLICT (match_id, report_id) DO NOTHING";
const PROMPTS: &str = "SELECT m.id, m.kind, m.created_at, x.answer, x.answered_at FROM escrow_match_reports x JOIN escrow_matches m ON m.id = x.match_id WHERE x.report_id = $1 ORDER BY m.created_at, m.id";
const ANSWER: &str = "UPDATE escrow_match_reports SET answer = $3, answered_at = $4 WHERE match_id = $1 AND report_id = $2";
const MATCHES: &str =
    "SELECT id, kind, created_at FROM escrow_matches ORDER BY created_at DESC, id LIMIT 500";
const MEMBERS: &str = "SELECT x.report_id, x.answer, r.facility_id, r.department_id FROM escrow_match_reports x JOIN reports r ON r.id = x.report_id WHERE x.match_id = $1 ORDER BY x.report_id";

/// What lodging found.
pub struct Lodged {
    /// False when this report had already lodged the same identifier.
    pub new: bool,
    /// The match this report entered (opening it or joining it), if another reporter lodged
    /// the same identifier and the report was not in that match already.
    pub matched: Option<Uuid>,
}

/// Counts one more identifier for the report; false, changing nothing, when it has `limit`.
pub async fn take_quota(tx: &mut Tx, report: Uuid, limit: i64) -> DbResult<bool> {
    Ok(tx.execute(TAKE_QUOTA, args![report, limit]).await? == 1)
}

/// Identifiers the report has lodged.
pub async fn used(tx: &mut Tx, report: Uuid) -> DbResult<i64> {
    match tx.fetch_optional(USED, args![report]).await? {
        Some(r) => r.get("used"),
        None => Ok(0),
    }
}

/// Stores the hash and, when another reporter lodged the same one, opens the match (or joins
/// it) with every report involved waiting for its reporter's answer.
pub async fn lodge(
    tx: &mut Tx,
    report: Uuid,
    owner_tag: &str,
    kind: Kind,
    hash: &str,
    created_at: Ts,
) -> DbResult<Lodged> {
    let new = tx
        .execute(
            INSERT_ENTRY,
            args![Uuid::new_v4(), report, kind.code(), hash, created_at],
        )
        .await?
        == 1;
    let others: Vec<Uuid> = tx
        .fetch_all(OTHERS, args![hash, owner_tag])
        .await?
        .iter()
        .map(|r| r.get("report_id"))
        .collect::<DbResult<_>>()?;
    if others.is_empty() {
        return Ok(Lodged { new, matched: None });
    }
    tx.execute(
        INSERT_MATCH,
        args![Uuid::now_v7(), hash, kind.code(), Ts::now()],
    )
    .await?;
    let id: Uuid = tx.fetch_one(MATCH_BY_HASH, args![hash]).await?.get("id")?;
    for r in &others {
        tx.execute(JOIN_MATCH, args![id, *r]).await?;
    }
    let entered = tx.execute(JOIN_MATCH, args![id, report]).await? == 1;
    Ok(Lodged {
        new,
        matched: entered.then_some(id),
    })
}

/// A match as its reporter sees it: which kind of identifier matched and her answer.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Prompt {
    pub match_id: Uuid,
    pub kind: Kind,
    #[schema(value_type = String)]
    pub found_at: Ts,
    pub answer: Answer,
    #[schema(value_type = Option<String>)]
    pub answered_at: Option<Ts>,
}

pub async fn prompts(db: &Db, report: Uuid) -> DbResult<Vec<Prompt>> {
    db.fetch_all(PROMPTS, args![report])
        .await?
        .iter()
        .map(|r| {
            let kind: String = r.get("kind")?;
            let answer: String = r.get("answer")?;
            Ok(Prompt {
                match_id: r.get("id")?,
                kind: Kind::parse(&kind).unwrap_or(Kind::Name),
                found_at: r.ts("created_at")?,
                answer: Answer::parse(&answer).unwrap_or(Answer::Pending),
                answered_at: r.opt_ts("answered_at")?,
            })
        })
        .collect()
}

/// Records her answer; false when her report is not in that match.
pub async fn answer(tx: &mut Tx, m: Uuid, report: Uuid, a: Answer) -> DbResult<bool> {
    Ok(tx
        .execute(ANSWER, args![m, report, a.code(), Ts::now()])
        .await?
        == 1)
}

pub struct Member {
    pub report_id: Uuid,
    pub answer: Answer,
    pub facility_id: Uuid,
    pub department_id: Option<Uuid>,
}

pub struct MatchRow {
    pub id: Uuid,
    pub kind: Kind,
    pub created_at: Ts,
}

/// Every match, newest first; the caller keeps those with a report in the handler's scope.
pub async fn matches(db: &Db) -> DbResult<Vec<MatchRow>> {
    db.fetch_all(MATCHES, args![])
        .await?
        .iter()
        .map(|r| {
            let kind: String = r.get("kind")?;
            Ok(MatchRow {
                id: r.get("id")?,
                kind: Kind::parse(&kind).unwrap_or(Kind::Name),
                created_at: r.ts("created_at")?,
            })
        })
        .collect()
}

pub async fn members(db: &Db, m: Uuid) -> DbResult<Vec<Member>> {
    db.fetch_all(MEMBERS, args![m])
        .await?
        .iter()
        .map(|r| {
            let answer: String = r.get("answer")?;
            Ok(Member {
                report_id: r.get("report_id")?,
                answer: Answer::parse(&answer).unwrap_or(Answer::Pending),
                facility_id: r.get("facility_id")?,
                department_id: r.get("department_id")?,
            })
        })
        .collect()
}
