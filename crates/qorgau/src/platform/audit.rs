//! The audit log: every write, and every read of a person's data, appends one entry whose hash
//! covers the entry before it. Editing or deleting any entry breaks the chain at that point,
//! which `qorgau audit verify` reports. Entries are appended inside the transaction of the change
//! they record, so there is never a change without its entry.

use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::args;
use crate::platform::access::Principal;
use crate::platform::db::{Backend, Db, DbResult, Row, Tx};
use crate::platform::time::Ts;

/// Who did it.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub label: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: None,
            label: "system".into(),
        }
    }
    pub fn of(p: &Principal) -> Actor {
        Actor {
            id: Some(p.user_id),
            label: format!("{} ({})", p.username, p.role.code()),
        }
    }
}

/// One thing to record.
#[derive(Clone, Debug)]
pub struct Event {
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    /// The person whose data this touches, so that person can see who looked.
    pub subject: Option<Uuid>,
    pub reason: Option<String>,
    pub detail: serde_json::Value,
}

impl Event {
    pub fn new(action: &'static str, object_type: &'static str, object_id: impl ToString) -> Event {
        Event {
            action,
            object_type,
            object_id: object_id.to_string(),
            subject: None,
            reason: None,
            detail: serde_json::Value::Null,
        }
    }
    pub fn subject(mut self, person: Option<Uuid>) -> Self {
        self.subject = person;
        self
    }
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
    pub fn reason(mut self, reason: Option<String>) -> Self {
        self.reason = reason;
        self
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Ts,
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub subject: Option<Uuid>,
    pub reason: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    fn from_row(r: &Row) -> DbResult<Entry> {
        Ok(Entry {
            seq: r.get("seq")?,
            at: r.ts("at")?,
            actor_id: r.get("actor_id")?,
            actor: r.get("actor")?,
            action: r.get("action")?,
            object_type: r.get("object_type")?,
            object_id: r.get("object_id")?,
            subject: r.get("subject")?,
            reason: r.get("reason")?,
            detail: r.get("detail")?,
            prev_hash: r.get("prev_hash")?,
            hash: r.get("hash")?,
        })
    }

    /// The hash over this entry's content and the previous hash. A JSON array is an
    /// unambiguous encoding: no field can bleed into the next. The array is written straight
    /// into the hasher (the same bytes `serde_json::json!([...]).to_string()` gives), so a long
    /// detail is neither copied nor held twice.
    pub fn compute_hash(&self) -> String {
        let canonical = (
            self.seq,
            self.at.micros(),
            self.actor_id,
            &self.actor,
            &self.action,
            &self.object_type,
            &self.object_id,
            self.subject,
            &self.reason,
            &self.detail,
            &self.prev_hash,
        );
        let mut hasher = HashWriter(Sha256::new());
        // Serialising plain values into a writer that cannot fail does not fail.
        let _ = serde_json::to_writer(&mut hasher, &canonical);
        hex::encode(hasher.0.finalize())
    }
}

struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const LOCK_PG: &str = "SELECT pg_advisory_xact_lock(7431001)";
const HEAD: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
const INSERT_HEAD: &str = "INSERT INTO audit_log (seq, at, actor_id, actor, action, object_type, object_id, subject, reason, detail, prev_hash, hash) VALUES";

/// An entry held back in a transaction until [`flush`].
#[derive(Debug)]
pub struct Pending {
    actor_id: Option<Uuid>,
    actor: String,
    ev: Event,
}

/// Appends an entry inside `tx`, or, when the transaction defers its entries
/// ([`Tx::defer_audit`]), keeps it for [`flush`] at commit. Either way it is stored with the
/// change or not at all.
pub async fn append(tx: &mut Tx, actor: &Actor, ev: Event) -> DbResult<()> {
    if let Some(pending) = tx.audit.as_mut() {
        pending.push(Pending {
            actor_id: actor.id,
            actor: actor.label.clone(),
            ev,
        });
        return Ok(());
    }
    let p = Pending {
        actor_id: actor.id,
        actor: actor.label.clone(),
        ev,
    };
    write_chain(tx, vec![p]).await?;
    Ok(())
}

/// Appends the entries `tx` holds back, if any; returns the first one's sequence number.
pub async fn flush(tx: &mut Tx) -> DbResult<Option<i64>> {
    match tx.audit.take() {
        Some(pending) if !pending.is_empty() => write_chain(tx, pending).await.map(Some),
        _ => Ok(None),
    }
}

/// Links `pending` to the chain's head and inserts them, several rows per statement.
async fn write_chain(tx: &mut Tx, pending: Vec<Pending>) -> DbResult<i64> {
    if tx.backend() == Backend::Postgres {
        // Serialises appenders across connections and nodes; released at commit.
        tx.execute(LOCK_PG, args![]).await?;
    }
    let (first, mut prev) = match tx.fetch_optional(HEAD, args![]).await? {
        Some(r) => (r.get::<i64>("seq")? + 1, r.get::<String>("hash")?),
        None => (1, GENESIS.to_owned()),
    };
    let at = Ts::now();
    let mut entries = Vec::with_capacity(pending.len());
    for (i, p) in pending.into_iter().enumerate() {
        let mut e = Entry {
            seq: first + i as i64,
            at,
            actor_id: p.actor_id,
            actor: p.actor,
            action: p.ev.action.to_owned(),
            object_type: p.ev.object_type.to_owned(),
            object_id: p.ev.object_id,
            subject: p.ev.subject,
            reason: p.ev.reason,
            detail: if p.ev.detail.is_null() {
                String::new()
            } else {
                p.ev.detail.to_string()
            },
            prev_hash: prev,
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        prev = e.hash.clone();
        entries.push(e);
    }
    let total = entries.len();
    let mut values = Vec::with_capacity(total.min(ROWS_PER_INSERT) * 12);
    for (i, e) in entries.into_iter().enumerate() {
        values.extend(args![
            e.seq,
            e.at,
            e.actor_id,
            e.actor,
            e.action,
            e.object_type,
            e.object_id,
            e.subject,
            e.reason,
            e.detail,
            e.prev_hash,
            e.hash
        ]);
        let rows = values.len() / 12;
        if rows == ROWS_PER_INSERT || i + 1 == total {
            tx.execute(insert_rows(rows), std::mem::take(&mut values))
                .await?;
        }
    }
    Ok(first)
}

/// Rows one INSERT carries: a batch of 256 entries is 8 statements, each under both databases'
/// limits on parameters.
const ROWS_PER_INSERT: usize = 32;

/// The INSERT of `n` rows (1 ..= ROWS_PER_INSERT), built once: statements are cached by their
/// text (PostgreSQL) or their address (platform/sqlite_direct.rs), so each must stay the same.
fn insert_rows(n: usize) -> &'static str {
    static STATEMENTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = STATEMENTS.get_or_init(|| {
        (1..=ROWS_PER_INSERT)
            .map(|rows| {
                let mut sql = String::from(INSERT_HEAD);
                for r in 0..rows {
                    sql.push_str(if r == 0 { " (" } else { ", (" });
                    for c in 0..12 {
                        if c > 0 {
                            sql.push_str(", ");
                        }
                        sql.push_str(&format!("${}", r * 12 + c + 1));
                    }
                    sql.push(')');
                }
                sql
            })
            .collect()
    });
    all[n.clamp(1, ROWS_PER_INSERT) - 1].as_str()
}

/// Appends in a transaction of its own, for callers outside a request (the CLI, the demo).
pub async fn record(db: &Db, actor: &Actor, ev: Event) -> DbResult<()> {
    let mut tx = db.begin().await?;
    append(&mut tx, actor, ev).await?;
    tx.commit().await?;
    Ok(())
}

type Job = (
    Actor,
    Event,
    tokio::sync::oneshot::Sender<Result<i64, String>>,
);

/// Records reads of personal data with group commit: every entry waiting when the writer is free
/// goes into one transaction, so 64 concurrent readers cost one fsync, not 64. Each caller still
/// waits for its own entry to be durable before answering, so no read goes unrecorded.
#[derive(Clone)]
pub struct Recorder {
    jobs: tokio::sync::mpsc::Sender<Job>,
}

/// Most entries one transaction takes.
const BATCH: usize = 256;

impl Recorder {
    pub fn start(db: Db) -> Recorder {
        let (jobs, mut rx) = tokio::sync::mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let (entries, replies): (Vec<_>, Vec<_>) =
                    batch.drain(..).map(|(a, e, r)| ((a, e), r)).unzip();
                let result = write_batch(&db, entries).await;
                for (i, reply) in replies.into_iter().enumerate() {
                    let _ = reply.send(match &result {
                        Ok(first) => Ok(first + i as i64),
                        Err(e) => Err(e.clone()),
                    });
                }
            }
        });
        Recorder { jobs }
    }

    pub async fn record(&self, actor: &Actor, ev: Event) -> DbResult<i64> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let gone = || crate::platform::db::DbError::Sqlx(sqlx::Error::PoolClosed);
        self.jobs
            .send((actor.clone(), ev, tx))
            .await
            .map_err(|_| gone())?;
        rx.await
            .map_err(|_| gone())?
            .map_err(|e| crate::platform::db::DbError::Sqlx(sqlx::Error::Protocol(e)))
    }
}

/// Appends the batch in one transaction; returns the first entry's sequence number.
async fn write_batch(db: &Db, batch: Vec<(Actor, Event)>) -> Result<i64, String> {
    let run = async {
        let mut tx = db.begin().await?;
        tx.defer_audit();
        for (actor, ev) in batch {
            append(&mut tx, &actor, ev).await?;
        }
        let first = flush(&mut tx).await?;
        tx.commit().await?;
        DbResult::Ok(first.unwrap_or(0))
    };
    run.await.map_err(|e| {
        tracing::error!(error = %e, "audit batch failed");
        e.to_string()
    })
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_id: Option<String>,
    pub subject: Option<Uuid>,
    pub since: Option<Ts>,
    pub until: Option<Ts>,
    /// Entries with `seq` below this (the cursor).
    pub before: Option<i64>,
}

const LIST: &str = "SELECT * FROM audit_log WHERE ($1 IS NULL OR actor LIKE $1) AND ($2 IS NULL OR action LIKE $2) AND ($3 IS NULL OR object_id = $3) AND ($4 IS NULL OR subject = $4) AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6) AND ($7 IS NULL OR seq < $7) ORDER BY seq DESC LIMIT $8";

pub async fn list(db: &Db, f: &Filter, limit: i64) -> DbResult<Vec<Entry>> {
    let like = |s: &Option<String>| s.as_ref().map(|s| format!("%{}%", s.replace('%', "")));
    let rows = db
        .fetch_all(
            LIST,
            args![
                like(&f.actor),
                like(&f.action),
                f.object_id.clone(),
                f.subject,
                f.since,
                f.until,
                f.before,
                limit
            ],
        )
        .await?;
    rows.iter().map(Entry::from_row).collect()
}

#[derive(Debug, PartialEq, Eq)]
pub enum Break {
    /// A sequence number is missing: an entry was deleted.
    Gap { expected: i64, found: i64 },
    /// The entry's content no longer matches its hash: it was edited.
    Edited { seq: i64 },
    /// The entry does not point at its predecessor's hash.
    Unlinked { seq: i64 },
}

#[derive(Debug)]
pub struct Verified {
    pub entries: i64,
    pub head: String,
    pub breaks: Vec<Break>,
}

const PAGE: &str = "SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000";

/// Walks the whole chain in pages.
pub async fn verify(db: &Db) -> DbResult<Verified> {
    let mut out = Verified {
        entries: 0,
        head: GENESIS.to_owned(),
        breaks: vec![],
    };
    let mut last_seq = 0i64;
    loop {
        let rows = db.fetch_all(PAGE, args![last_seq]).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let e = Entry::from_row(r)?;
            check_link(&mut out, last_seq, &e);
            last_seq = e.seq;
        }
    }
    Ok(out)
}

/// The pure part of verification, one entry at a time.
pub fn check_link(state: &mut Verified, last_seq: i64, e: &Entry) {
    if e.seq != last_seq + 1 {
        state.breaks.push(Break::Gap {
            expected: last_seq + 1,
            found: e.seq,
        });
    }
    if e.prev_hash != state.head {
        state.breaks.push(Break::Unlinked { seq: e.seq });
    }
    if e.compute_hash() != e.hash {
        state.breaks.push(Break::Edited { seq: e.seq });
    }
    state.head = e.hash.clone();
    state.entries += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = Entry {
                    seq,
                    at: Ts::from_micros(seq * 1000),
                    actor_id: None,
                    actor: "system".into(),
                    action: "test".into(),
                    object_type: "thing".into(),
                    object_id: seq.to_string(),
                    subject: None,
                    reason: None,
                    detail: String::new(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.compute_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn run(entries: &[Entry]) -> Vec<Break> {
        let mut v = Verified {
            entries: 0,
            head: GENESIS.to_owned(),
            breaks: vec![],
        };
        let mut last = 0;
        for e in entries {
            check_link(&mut v, last, e);
            last = e.seq;
        }
        v.breaks
    }

    /// Entries written before the hash was streamed must still verify.
    #[test]
    fn streamed_hash_matches_the_json_array_form() {
        let mut e = chain(1).remove(0);
        e.actor_id = Some(Uuid::from_u128(7));
        e.reason = Some("a \"quoted\" reason\n".into());
        e.detail = serde_json::json!({"ids": ["a", "b"]}).to_string();
        let canonical = serde_json::json!([
            e.seq,
            e.at.micros(),
            e.actor_id,
            e.actor,
            e.action,
            e.object_type,
            e.object_id,
            e.subject,
            e.reason,
            e.detail,
            e.prev_hash,
        ]);
        let old = hex::encode(Sha256::digest(canonical.to_string().as_bytes()));
        assert_eq!(e.compute_hash(), old);
    }

    #[test]
    fn intact_chain_verifies() {
        assert!(run(&chain(5)).is_empty());
    }

    #[test]
    fn edit_is_found() {
        let mut c = chain(5);
        c[2].action = "nothing to see".into();
        assert_eq!(run(&c), vec![Break::Edited { seq: 3 }]);
    }

    #[test]
    fn deletion_is_found() {
        let mut c = chain(5);
        c.remove(1);
        let b = run(&c);
        assert!(b.contains(&Break::Gap {
            expected: 2,
            found: 3
        }));
        assert!(b.contains(&Break::Unlinked { seq: 3 }));
    }

    #[test]
    fn rehashed_edit_still_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].action = "forged".into();
        c[2].hash = c[2].compute_hash();
        assert_eq!(run(&c), vec![Break::Unlinked { seq: 4 }]);
    }
}
