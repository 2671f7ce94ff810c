//! Group commit for acknowledged writes. Every press, panel event or report must be on disk
//! (`synchronous=FULL` on SQLite, `synchronous_commit` on PostgreSQL) before its sender is
//! answered, and each commit waits for its own flush. Here one task takes every write waiting at that moment, runs each in a
//! savepoint of one transaction and commits them with a single flush: at low load a write commits
//! alone and at once, under load the flushes are shared. A write that fails is rolled back to its
//! savepoint and fails alone; if the commit fails, every write of the batch fails and nothing of
//! it is stored, so no caller is ever told "stored" for something that is not.
//!
//! A batch holds its audit entries back and appends them to the chain in one step just before it
//! commits (`Tx::defer_audit`). On PostgreSQL that step takes the chain's lock until the commit,
//! so with entries appended as they came every audited write held the lock for its whole
//! transaction and writes came one flush at a time (bench/issue5.sh: 322 named reports/s beside
//! 5 210 raw inserts/s). Deferred, only the chain step and the commit take turns, so several
//! batches run at once on their own connections ([`PG_RUNNERS`]): each statement is a network
//! round trip there, and one connection alone capped reports near 1 000/s. SQLite has one
//! writer, so one batch at a time. Batches of several nodes take turns on the chain the same way.

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use crate::platform::db::{Db, Tx};
use crate::platform::error::{AppError, AppResult};

/// At most this many writes share one transaction, so that one batch cannot hold the write
/// connection for long.
const MAX_BATCH: usize = 256;

/// Batches that run at once on PostgreSQL, each on a connection of the pool (16): enough to keep
/// one batch in its chain step and commit while others run their statements, and few enough to
/// leave the pool to the readers.
const PG_RUNNERS: usize = 4;

type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
type Work = Box<dyn for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, (bool, Finish)> + Send>;

#[derive(Clone)]
pub struct Batcher {
    queue: mpsc::Sender<Work>,
}

impl Batcher {
    pub fn start(db: Db) -> Batcher {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        match db {
            Db::Sqlite { .. } => {
                // A thread of its own: the batch's statements and its flush run on it without
                // holding up the request workers (platform/sqlite_direct.rs says why they run
                // here rather than on sqlx's worker thread).
                let started = std::thread::Builder::new()
                    .name("qorgau-commit".into())
                    .spawn(move || {
                        match tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        {
                            Ok(rt) => rt.block_on(run(db, rx)),
                            Err(e) => tracing::error!(error = %e, "group commit runtime"),
                        }
                    });
                if let Err(e) = started {
                    tracing::error!(error = %e, "group commit thread");
                }
            }
            Db::Postgres(_) => {
                // The runners share the queue: whichever is free takes all that waits.
                let rx = std::sync::Arc::new(tokio::sync::Mutex::new(rx));
                for _ in 0..PG_RUNNERS {
                    tokio::spawn(run_shared(db.clone(), rx.clone()));
                }
            }
        }
        Batcher { queue }
    }

    /// Runs `f` in a transaction and returns its answer once that transaction is committed.
    /// `f` must not commit, and may share its transaction with other writes: it sees their
    /// changes, and they see its.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Tx) -> BoxFuture<'a, AppResult<T>> + Send + 'static,
    {
        let (done, answer) = oneshot::channel::<AppResult<T>>();
        let work: Work = Box::new(move |tx| {
            Box::pin(async move {
                let result = f(tx).await;
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |commit| {
                    let _ = done.send(match commit {
                        Ok(()) => result,
                        Err(e) => Err(AppError::Internal(format!("group commit: {e}"))),
                    });
                });
                (ok, finish)
            })
        });
        self.queue
            .send(work)
            .await
            .map_err(|_| AppError::Internal("the write queue is closed".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("the write queue dropped a write".into()))?
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Work>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        finish_batch(&db, std::mem::take(&mut batch)).await;
    }
}

async fn run_shared(db: Db, rx: std::sync::Arc<tokio::sync::Mutex<mpsc::Receiver<Work>>>) {
    loop {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        // The lock is held only while taking work, not while running it.
        if rx.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        finish_batch(&db, batch).await;
    }
}

async fn finish_batch(db: &Db, batch: Vec<Work>) {
    let (finishes, committed) = run_batch(db, batch).await;
    metrics::histogram!("qorgau_group_commit_size").record(finishes.len() as f64);
    for finish in finishes {
        finish(committed.clone());
    }
}

/// Runs a batch in one transaction; returns the answers of the writes that ran and whether the
/// transaction committed. Writes that did not run are dropped, which their callers see as a
/// closed channel.
async fn run_batch(db: &Db, batch: Vec<Work>) -> (Vec<Finish>, Result<(), String>) {
    if let Db::Postgres(_) = db {
        let mut tx = match db.begin().await {
            Ok(tx) => tx,
            Err(e) => return (Vec::new(), Err(e.to_string())),
        };
        tx.defer_audit();
        let (finishes, ran) = run_works(&mut tx, batch).await;
        let committed = match ran {
            // Dropping the transaction rolls it back.
            Err(e) => Err(e),
            // Appends the batch's audit entries, then commits.
            Ok(()) => tx.commit().await.map_err(|e| e.to_string()),
        };
        return (finishes, committed);
    }
    let wal_catch_up = db.wal_catch_up();
    let ran = db
        .with_direct_write(move |tx| {
            Box::pin(async move {
                if let Err(e) = tx.execute("BEGIN IMMEDIATE", vec![]).await {
                    return (Vec::new(), Err(e.to_string()));
                }
                tx.defer_audit();
                let (finishes, ran) = run_works(tx, batch).await;
                if let Err(e) = ran {
                    // The transaction is still open: the direct Tx rolls it back when dropped.
                    return (finishes, Err(e));
                }
                if let Err(e) = crate::platform::audit::flush(tx).await {
                    return (finishes, Err(e.to_string()));
                }
                let committed = tx
                    .execute("COMMIT", vec![])
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                if committed.is_ok() && wal_catch_up {
                    // The log's short tail, copied while nothing else writes, so that the next
                    // commit starts it again (platform/db.rs, `checkpoints`).
                    if let Err(e) = tx.execute("PRAGMA wal_checkpoint(PASSIVE)", vec![]).await {
                        tracing::warn!(error = %e, "WAL checkpoint by the writer");
                    }
                }
                (finishes, committed)
            })
        })
        .await;
    ran.unwrap_or_else(|e| (Vec::new(), Err(e.to_string())))
}

/// Runs each write in a savepoint of the open transaction `tx`: a write that fails is rolled back
/// alone. After a statement of the batch itself fails, the rest are not run and the error is
/// returned, for the caller to roll the whole transaction back.
async fn run_works(tx: &mut Tx, batch: Vec<Work>) -> (Vec<Finish>, Result<(), String>) {
    let mut finishes = Vec::with_capacity(batch.len());
    let mut broken = None;
    for work in batch {
        if broken.is_some() {
            drop(work);
            continue;
        }
        if let Err(e) = tx.execute("SAVEPOINT batch_write", vec![]).await {
            broken = Some(e.to_string());
            drop(work);
            continue;
        }
        let mark = tx.audit_mark();
        let (ok, finish) = work(tx).await;
        finishes.push(finish);
        let end = if ok {
            tx.execute("RELEASE batch_write", vec![]).await
        } else {
            tx.forget_audit_after(mark);
            match tx.execute("ROLLBACK TO batch_write", vec![]).await {
                Ok(_) => tx.execute("RELEASE batch_write", vec![]).await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = end {
            broken = Some(e.to_string());
        }
    }
    (finishes, broken.map_or(Ok(()), Err))
}
