//! One handle over the two databases Qorgau runs on.
//!
//! SQL is written once with `$1..$N` placeholders (both sqlx drivers accept them) and bound from
//! [`Arg`] values, so a capability's store does not care which backend it talks to. Rows come back
//! as [`Row`], decoded by column name. SQLite gets a separate single-connection write pool: every
//! write is serialised there, which avoids `SQLITE_BUSY` on lock upgrades and lets WAL readers run
//! beside it.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Postgres, Row as _, Sqlite};
use uuid::Uuid;

use crate::platform::sqlite_direct::{Direct, DirectRow, ReadPool, Reader, SqliteFailure, Val};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url: {0}")]
    Url(String),
    /// From a statement run straight on a borrowed SQLite connection (platform/sqlite_direct.rs).
    #[error(transparent)]
    Sqlite(#[from] SqliteFailure),
    #[error("{0}")]
    Decode(String),
}

impl DbError {
    /// A unique or primary-key constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            DbError::Sqlite(e) => e.is_unique_violation(),
            _ => false,
        }
    }
    pub fn is_foreign_key_violation(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.is_foreign_key_violation(),
            DbError::Sqlite(e) => e.is_foreign_key_violation(),
            _ => false,
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        read: ReadPool,
        write: SqlitePool,
        /// One connection that moves the WAL into the database file (`checkpoints`).
        checkpoint: SqlitePool,
        /// Set by `checkpoints` when the log is long and nearly all copied: the writer then
        /// copies the rest itself between two batches (`Db::wal_catch_up`).
        wal_long: Arc<AtomicBool>,
    },
    Postgres(PgPool),
}

/// A value bound to a `$n` placeholder. NULLs keep their type, because PostgreSQL checks a
/// parameter's declared type against the column it is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Bool(Option<bool>),
    I64(Option<i64>),
    F64(Option<f64>),
    Text(Option<String>),
    Uuid(Option<Uuid>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($t:ty, $variant:ident, $v:ident => $e:expr) => {
        impl From<$t> for Arg {
            fn from($v: $t) -> Self {
                Arg::$variant(Some($e))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self {
                Arg::$variant(v.map(|$v| $e))
            }
        }
    };
}
arg_from!(bool, Bool, v => v);
arg_from!(i64, I64, v => v);
arg_from!(i32, I64, v => v.into());
arg_from!(u32, I64, v => v.into());
arg_from!(f64, F64, v => v);
arg_from!(String, Text, v => v);
arg_from!(&str, Text, v => v.to_owned());
arg_from!(&String, Text, v => v.clone());
arg_from!(Uuid, Uuid, v => v);
arg_from!(&Uuid, Uuid, v => *v);
arg_from!(Vec<u8>, Bytes, v => v);
arg_from!(crate::platform::time::Ts, I64, v => v.micros());

/// Builds a `Vec<Arg>` from heterogeneous values.
#[macro_export]
macro_rules! args {
    () => { Vec::<$crate::platform::db::Arg>::new() };
    ($($e:expr),+ $(,)?) => { vec![$($crate::platform::db::Arg::from($e)),+] };
}

/// A column type both drivers decode, and the direct SQLite path (platform/sqlite_direct.rs).
pub trait Col:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + Sized
{
    /// Reads the value as sqlx's SQLite driver would.
    fn from_val(v: &Val) -> DbResult<Self>;
}

fn mismatch<T>(v: &Val, want: &str) -> DbResult<T> {
    Err(DbError::Decode(format!("expected {want}, found {v:?}")))
}

impl Col for i64 {
    fn from_val(v: &Val) -> DbResult<Self> {
        match v {
            Val::Int(n) => Ok(*n),
            _ => mismatch(v, "an integer"),
        }
    }
}
impl Col for i32 {
    fn from_val(v: &Val) -> DbResult<Self> {
        match v {
            Val::Int(n) => i32::try_from(*n).or_else(|_| mismatch(v, "a 32-bit integer")),
            _ => mismatch(v, "an integer"),
        }
    }
}
impl Col for f64 {
    fn from_val(v: &Val) -> DbResult<Self> {
        match v {
            Val::Real(x) => Ok(*x),
            Val::Int(n) => Ok(*n as f64),
            _ => mismatch(v, "a number"),
        }
    }
}
impl Col for bool {
    fn from_val(v: &Val) -> DbResult<Self> {
        match v {
            Val::Int(n) => Ok(*n != 0),
            _ => mismatch(v, "a boolean"),
        }
    }
}
impl Col for String {
    fn from_val(v: &Val) -> DbResult<Self> {
        match v {
            Val::Text(s) => Ok(s.clone()),
            _ => mismatch(v, "text"),
        }
    }
}
impl Col for Vec<u8> {
    fn from_val(v: &Val) -> DbResult<Self> {
        match v {
            Val::Blob(b) => Ok(b.clone()),
            Val::Text(s) => Ok(s.as_bytes().to_vec()),
            _ => mismatch(v, "bytes"),
        }
    }
}
impl Col for Uuid {
    fn from_val(v: &Val) -> DbResult<Self> {
        match v {
            Val::Blob(b) => Uuid::from_slice(b).or_else(|_| mismatch(v, "a UUID")),
            _ => mismatch(v, "a UUID"),
        }
    }
}
impl<T: Col> Col for Option<T>
where
    Option<T>: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>,
{
    fn from_val(v: &Val) -> DbResult<Self> {
        match v {
            Val::Null => Ok(None),
            v => T::from_val(v).map(Some),
        }
    }
}

pub enum Row {
    Sqlite(SqliteRow),
    Pg(PgRow),
    Direct(DirectRow),
}

impl Row {
    pub fn get<T: Col>(&self, col: &str) -> DbResult<T> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(col)?,
            Row::Pg(r) => r.try_get(col)?,
            Row::Direct(r) => T::from_val(r.value(col)?)?,
        })
    }
    pub fn ts(&self, col: &str) -> DbResult<crate::platform::time::Ts> {
        Ok(crate::platform::time::Ts::from_micros(self.get(col)?))
    }
    pub fn opt_ts(&self, col: &str) -> DbResult<Option<crate::platform::time::Ts>> {
        Ok(self
            .get::<Option<i64>>(col)?
            .map(crate::platform::time::Ts::from_micros))
    }
}

fn bind_sqlite<'q>(
    mut q: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments> {
    for a in args {
        q = match a {
            Arg::Bool(v) => q.bind(v),
            Arg::I64(v) => q.bind(v),
            Arg::F64(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Uuid(v) => q.bind(v),
            Arg::Bytes(v) => q.bind(v),
        };
    }
    q
}

fn bind_pg<'q>(
    mut q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    args: Vec<Arg>,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    for a in args {
        q = match a {
            Arg::Bool(v) => q.bind(v),
            Arg::I64(v) => q.bind(v),
            Arg::F64(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Uuid(v) => q.bind(v),
            Arg::Bytes(v) => q.bind(v),
        };
    }
    q
}

/// The same four calls on a pool and on a transaction.
macro_rules! exec_methods {
    ($($direct:ident)?) => {
        pub async fn execute(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<u64> {
            Ok(match self {
                Self::Sqlite(c) => bind_sqlite(sqlx::query(sql), args)
                    .execute(&mut **c)
                    .await?
                    .rows_affected(),
                Self::Pg(c) => bind_pg(sqlx::query(sql), args)
                    .execute(&mut **c)
                    .await?
                    .rows_affected(),
                $(Self::$direct(d) => d.run(sql, &args, |_| {})?,)?
            })
        }
        pub async fn fetch_all(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
            Ok(match self {
                Self::Sqlite(c) => bind_sqlite(sqlx::query(sql), args)
                    .fetch_all(&mut **c)
                    .await?
                    .into_iter()
                    .map(Row::Sqlite)
                    .collect(),
                Self::Pg(c) => bind_pg(sqlx::query(sql), args)
                    .fetch_all(&mut **c)
                    .await?
                    .into_iter()
                    .map(Row::Pg)
                    .collect(),
                $(Self::$direct(d) => {
                    let mut rows = Vec::new();
                    d.run(sql, &args, |r| rows.push(Row::Direct(r)))?;
                    rows
                })?
            })
        }
        pub async fn fetch_optional(
            &mut self,
            sql: &'static str,
            args: Vec<Arg>,
        ) -> DbResult<Option<Row>> {
            Ok(match self {
                Self::Sqlite(c) => bind_sqlite(sqlx::query(sql), args)
                    .fetch_optional(&mut **c)
                    .await?
                    .map(Row::Sqlite),
                Self::Pg(c) => bind_pg(sqlx::query(sql), args)
                    .fetch_optional(&mut **c)
                    .await?
                    .map(Row::Pg),
                $(Self::$direct(d) => {
                    // Stepped to the end even after the first row: a write's RETURNING row
                    // must not stop the write half way.
                    let mut first = None;
                    d.run(sql, &args, |r| {
                        if first.is_none() {
                            first = Some(Row::Direct(r));
                        }
                    })?;
                    first
                })?
            })
        }
        pub async fn fetch_one(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<Row> {
            match self.fetch_optional(sql, args).await? {
                Some(r) => Ok(r),
                None => Err(DbError::Sqlx(sqlx::Error::RowNotFound)),
            }
        }
    };
}

/// A connection taken from the read pool, for a run of reads.
pub enum Conn {
    Sqlite(Reader),
    Pg(sqlx::pool::PoolConnection<Postgres>),
}

impl Conn {
    /// Reads run on a connection of Qorgau's own read pool, on this thread, with statements kept
    /// prepared (platform/sqlite_direct.rs). No transaction is ever open on a read connection.
    async fn direct<T>(c: &mut Reader, f: impl FnOnce(&mut Direct) -> DbResult<T>) -> DbResult<T> {
        f(c)
    }

    pub async fn execute(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<u64> {
        match self {
            Conn::Sqlite(c) => Self::direct(c, |d| d.run(sql, &args, |_| {})).await,
            Conn::Pg(c) => Ok(bind_pg(sqlx::query(sql), args)
                .execute(&mut **c)
                .await?
                .rows_affected()),
        }
    }
    pub async fn fetch_all(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => {
                Self::direct(c, |d| {
                    let mut rows = Vec::new();
                    d.run(sql, &args, |r| rows.push(Row::Direct(r)))?;
                    Ok(rows)
                })
                .await
            }
            Conn::Pg(c) => Ok(bind_pg(sqlx::query(sql), args)
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(Row::Pg)
                .collect()),
        }
    }
    pub async fn fetch_optional(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> DbResult<Option<Row>> {
        match self {
            Conn::Sqlite(c) => {
                Self::direct(c, |d| {
                    let mut first = None;
                    d.run(sql, &args, |r| {
                        if first.is_none() {
                            first = Some(Row::Direct(r));
                        }
                    })?;
                    Ok(first)
                })
                .await
            }
            Conn::Pg(c) => Ok(bind_pg(sqlx::query(sql), args)
                .fetch_optional(&mut **c)
                .await?
                .map(Row::Pg)),
        }
    }
    pub async fn fetch_one(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<Row> {
        match self.fetch_optional(sql, args).await? {
            Some(r) => Ok(r),
            None => Err(DbError::Sqlx(sqlx::Error::RowNotFound)),
        }
    }
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    conn: TxConn,
    /// Audit entries held back until the transaction ends, when a batch appends them to the
    /// chain together (platform/audit.rs, [`Tx::defer_audit`]).
    pub(crate) audit: Option<Vec<crate::platform::audit::Pending>>,
}

enum TxConn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Pg(sqlx::Transaction<'static, Postgres>),
    /// A SQLite transaction the group-commit task opened on a borrowed connection
    /// (platform/batch.rs); that task commits it.
    Direct(Direct),
}

impl TxConn {
    exec_methods!(Direct);
}

impl Tx {
    fn new(conn: TxConn) -> Tx {
        Tx { conn, audit: None }
    }

    pub async fn execute(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<u64> {
        self.conn.execute(sql, args).await
    }
    pub async fn fetch_all(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
        self.conn.fetch_all(sql, args).await
    }
    pub async fn fetch_optional(
        &mut self,
        sql: &'static str,
        args: Vec<Arg>,
    ) -> DbResult<Option<Row>> {
        self.conn.fetch_optional(sql, args).await
    }
    pub async fn fetch_one(&mut self, sql: &'static str, args: Vec<Arg>) -> DbResult<Row> {
        self.conn.fetch_one(sql, args).await
    }

    /// From now on, audit entries of this transaction are kept in memory and appended to the
    /// chain in one step when it commits. Only the chain step then serialises writers (on
    /// PostgreSQL it holds the chain's lock until commit), not the whole transaction.
    pub fn defer_audit(&mut self) {
        self.audit.get_or_insert_with(Vec::new);
    }

    /// How many audit entries are held back, for [`Tx::forget_audit_after`].
    pub fn audit_mark(&self) -> usize {
        self.audit.as_ref().map_or(0, Vec::len)
    }

    /// Drops the entries held back after `mark`: their write was rolled back to a savepoint.
    pub fn forget_audit_after(&mut self, mark: usize) {
        if let Some(pending) = self.audit.as_mut() {
            pending.truncate(mark);
        }
    }

    /// Commits, appending any audit entries held back first.
    pub async fn commit(mut self) -> DbResult<()> {
        crate::platform::audit::flush(&mut self).await?;
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Pg(t) => t.commit().await?,
            TxConn::Direct(_) => {
                return Err(DbError::Decode(
                    "a batched write is committed by its batch".into(),
                ));
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            TxConn::Sqlite(_) | TxConn::Direct(_) => Backend::Sqlite,
            TxConn::Pg(_) => Backend::Postgres,
        }
    }
}

fn migrations(dir: &[(i64, &'static str, &'static str)]) -> Migrator {
    let list = dir
        .iter()
        .map(|(version, desc, sql)| {
            Migration::new(
                *version,
                (*desc).into(),
                MigrationType::Simple,
                sqlx::AssertSqlSafe(*sql).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(list)
}

use sqlx::SqlSafeStr as _;

/// (version, description, SQL): the version is the file's number, so a list merged from work done
/// in parallel cannot renumber a migration that a database has already applied.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "alarms",
        include_str!("../../migrations/sqlite/0002_alarms.sql"),
    ),
    (
        3,
        "panels",
        include_str!("../../migrations/sqlite/0003_panels.sql"),
    ),
    (
        4,
        "mqtt_devices",
        include_str!("../../migrations/sqlite/0004_devices.sql"),
    ),
    (
        5,
        "alarm_settings",
        include_str!("../../migrations/sqlite/0005_alarm_settings.sql"),
    ),
    (
        6,
        "notify",
        include_str!("../../migrations/sqlite/0006_notify.sql"),
    ),
    (
        7,
        "reports",
        include_str!("../../migrations/sqlite/0007_reports.sql"),
    ),
    (
        8,
        "alarm_posts",
        include_str!("../../migrations/sqlite/0008_alarm_posts.sql"),
    ),
    (
        9,
        "escrow",
        include_str!("../../migrations/sqlite/0009_escrow.sql"),
    ),
    (
        10,
        "consent",
        include_str!("../../migrations/sqlite/0010_consent.sql"),
    ),
    (
        11,
        "triage",
        include_str!("../../migrations/sqlite/0011_triage.sql"),
    ),
    (
        12,
        "relation",
        include_str!("../../migrations/sqlite/0012_relation.sql"),
    ),
    (
        13,
        "attachments",
        include_str!("../../migrations/sqlite/0013_attachments.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "alarms",
        include_str!("../../migrations/postgres/0002_alarms.sql"),
    ),
    (
        3,
        "panels",
        include_str!("../../migrations/postgres/0003_panels.sql"),
    ),
    (
        4,
        "mqtt_devices",
        include_str!("../../migrations/postgres/0004_devices.sql"),
    ),
    (
        5,
        "alarm_settings",
        include_str!("../../migrations/postgres/0005_alarm_settings.sql"),
    ),
    (
        6,
        "notify",
        include_str!("../../migrations/postgres/0006_notify.sql"),
    ),
    (
        7,
        "reports",
        include_str!("../../migrations/postgres/0007_reports.sql"),
    ),
    (
        8,
        "alarm_posts",
        include_str!("../../migrations/postgres/0008_alarm_posts.sql"),
    ),
    (
        9,
        "escrow",
        include_str!("../../migrations/postgres/0009_escrow.sql"),
    ),
    (
        10,
        "consent",
        include_str!("../../migrations/postgres/0010_consent.sql"),
    ),
    (
        11,
        "triage",
        include_str!("../../migrations/postgres/0011_triage.sql"),
    ),
    (
        12,
        "relation",
        include_str!("../../migrations/postgres/0012_relation.sql"),
    ),
    (
        13,
        "attachments",
        include_str!("../../migrations/postgres/0013_attachments.sql"),
    ),
];

/// WAL frames (4 KiB pages) past which the log should start again from its beginning.
const WAL_RESTART_FRAMES: i64 = 65_536;
/// Frames the writer may be left to copy itself.
const WAL_TAIL_FRAMES: i64 = 1_024;

/// Moves committed WAL frames into the database file twice a second without holding up the
/// writer (PASSIVE: it copies what no reader still needs and never waits on a lock), and stops
/// when the database is closed.
///
/// PASSIVE passes beside a busy writer never let the log start again: SQLite restarts it at a
/// commit only when every frame has been copied, and each pass ends behind the commits made
/// during it. Under continuous submissions the WAL grew by 200 MB/s (4 GB of disk after 20 s of
/// anonymous reports, without bound). Waiting for the writer instead (FULL, RESTART) held it up
/// for 1 to 2 s. So once the log is long, passes follow one another until what is left is
/// a short tail, and the writer copies that tail itself between two batches (`wal_long`), where
/// nothing else writes; its next commit starts the log again, and `journal_size_limit` cuts the
/// file back.
async fn checkpoints(pool: SqlitePool, wal_long: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        match checkpoint_passes(&pool).await {
            Ok(true) => wal_long.store(true, Ordering::Relaxed),
            Ok(false) => {}
            Err(e) => {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "WAL checkpoint");
            }
        }
    }
}

/// PASSIVE passes: one, or while the log is long, more until the frames left behind are few
/// (each pass copies what was committed during the previous one, so the gap shrinks as long as
/// copying is faster than writing). Answers whether the log is long.
async fn checkpoint_passes(pool: &SqlitePool) -> Result<bool, sqlx::Error> {
    let passive = || sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)");
    let (_, mut log, mut done) = passive().fetch_one(pool).await?;
    if log < WAL_RESTART_FRAMES {
        return Ok(false);
    }
    for _ in 0..8 {
        if log - done <= WAL_TAIL_FRAMES {
            break;
        }
        (_, log, done) = passive().fetch_one(pool).await?;
    }
    Ok(true)
}

/// SQLite counts every allocation it makes in process-wide statistics under one global mutex.
/// With a connection per worker thread that mutex is contended on every row (a profile of the
/// 300-person list showed a fifth of the server's time in futex waits and wake-ups under
/// `sqlite3Malloc`). Qorgau reads none of those statistics and sets no SQLite heap limit, so
/// they are turned off. SQLite takes this only before its first use in the process; later calls
/// are refused (`SQLITE_MISUSE`) and change nothing.
fn sqlite_without_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: runs once, before this process opens its first SQLite connection (every
        // connection is opened below, after this call), so no other thread is inside SQLite;
        // the argument is the `int` that SQLITE_CONFIG_MEMSTATUS expects.
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(
                libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(rc, "SQLite memory statistics stay on");
        }
    });
}

impl Db {
    /// Opens (creating if needed) the database named by `url`: `sqlite://PATH` or `postgres://...`.
    pub async fn connect(url: &str) -> DbResult<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            sqlite_without_memory_statistics();
            let base = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // Anything acknowledged to a sender must survive a power cut.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // A restarted WAL keeps up to 512 MiB of its file to write over (a file that
                // grows makes every commit's flush write its size too) and gives back the rest.
                .pragma("journal_size_limit", "536870912")
                // 1 MiB of page cache per connection instead of 2: the directory's hot pages fit,
                // and the writer mostly appends to the audit log's last pages.
                .pragma("cache_size", "-1024")
                // The driver's worker thread hands rows over a bounded channel and stops when it
                // is full; room for a whole page of a list lets it finish a query in one go
                // instead of waiting on the reader every 50 rows.
                .row_buffer_size(512);
            // A local file cannot drop a connection the way a network can: skip the ping that
            // sqlx sends before handing out a pooled connection (a second round trip through the
            // driver's worker thread on every query).
            // The writer never checkpoints: a commit that crossed the WAL's threshold would copy
            // pages into the database file and flush it before answering, a stall of tens of
            // milliseconds every thousand pages (the p99 of bench/issue5.sh). A connection of
            // its own does it beside the writer instead.
            // The one writer gets a larger page cache (grown only as pages are touched): an
            // anonymous report's id and receipt hash are random by design (neither may carry a
            // time), so its index entries land on pages all over their trees; once those trees
            // outgrow 1 MiB every such insert read a page back first (bench/issue5.sh, anonymous
            // open loop after 180,000 reports: p99 672 ms; fresh database: 13 ms).
            let write = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .connect_with(
                    base.clone()
                        .pragma("wal_autocheckpoint", "0")
                        .pragma("cache_size", "-32768"),
                )
                .await?;
            let checkpoint = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .connect_with(base.clone())
                .await?;
            let wal_long = Arc::new(AtomicBool::new(false));
            tokio::spawn(checkpoints(checkpoint.clone(), wal_long.clone()));
            // Readers are bound by CPU, not by the disk (WAL, pages in memory): a few more than
            // the cores keep them busy. Each holds its own page cache and prepared statements,
            // so more would only add memory (bench/issue3.sh measures RSS after load). They are
            // opened on first use, after the write pool has created the file.
            let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
            let read = ReadPool::new(base.get_filename(), readers.clamp(4, 8))?;
            Ok(Db::Sqlite {
                read,
                write,
                checkpoint,
                wal_long,
            })
        } else {
            Err(DbError::Url(url.to_owned()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn migrate(&self) -> DbResult<()> {
        match self {
            Db::Sqlite { write, .. } => migrations(SQLITE_MIGRATIONS).run(write).await?,
            Db::Postgres(p) => migrations(POSTGRES_MIGRATIONS).run(p).await?,
        }
        Ok(())
    }

    /// True when every embedded migration has been applied.
    pub async fn migrations_current(&self) -> DbResult<bool> {
        let expected = match self.backend() {
            Backend::Sqlite => SQLITE_MIGRATIONS.len(),
            Backend::Postgres => POSTGRES_MIGRATIONS.len(),
        } as i64;
        let row = self
            .conn()
            .await?
            .fetch_one(
                "SELECT COUNT(*) AS n FROM _sqlx_migrations WHERE success = true",
                vec![],
            )
            .await?;
        Ok(row.get::<i64>("n")? >= expected)
    }

    pub async fn conn(&self) -> DbResult<Conn> {
        Ok(match self {
            Db::Sqlite { read, .. } => Conn::Sqlite(read.get().await?),
            Db::Postgres(p) => Conn::Pg(p.acquire().await?),
        })
    }

    pub async fn begin(&self) -> DbResult<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::new(TxConn::Sqlite(write.begin().await?)),
            Db::Postgres(p) => Tx::new(TxConn::Pg(p.begin().await?)),
        })
    }

    /// Runs `f` with the SQLite write connection lent out of sqlx, so that its statements run on
    /// this thread without a round trip each to sqlx's worker thread (platform/sqlite_direct.rs).
    /// `f` opens and ends its own transaction; one still open when it returns is rolled back.
    pub async fn with_direct_write<T>(
        &self,
        f: impl for<'a> FnOnce(&'a mut Tx) -> futures_util::future::BoxFuture<'a, T>,
    ) -> DbResult<T> {
        let Db::Sqlite { write, .. } = self else {
            return Err(DbError::Decode("direct statements are for SQLite".into()));
        };
        let mut conn = write.acquire().await?;
        let mut handle = conn.lock_handle().await?;
        // SAFETY: sqlx's worker keeps off the connection while `handle` lives, and `tx` (which
        // finalizes its statements and rolls back an open transaction when dropped) goes first.
        let mut tx = Tx::new(TxConn::Direct(unsafe {
            Direct::new(handle.as_raw_handle())
        }));
        let out = f(&mut tx).await;
        drop(tx);
        drop(handle);
        Ok(out)
    }

    pub async fn fetch_all(&self, sql: &'static str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
        self.conn().await?.fetch_all(sql, args).await
    }
    pub async fn fetch_optional(&self, sql: &'static str, args: Vec<Arg>) -> DbResult<Option<Row>> {
        self.conn().await?.fetch_optional(sql, args).await
    }
    pub async fn fetch_one(&self, sql: &'static str, args: Vec<Arg>) -> DbResult<Row> {
        self.conn().await?.fetch_one(sql, args).await
    }
    /// A single write in its own transaction.
    pub async fn execute(&self, sql: &'static str, args: Vec<Arg>) -> DbResult<u64> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql, args).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub async fn ping(&self) -> DbResult<()> {
        self.fetch_one("SELECT 1 AS one", vec![]).await.map(|_| ())
    }

    /// On SQLite, whether the writer should copy the WAL's last frames into the database before
    /// its next batch (`checkpoints` says why); asking clears it.
    pub fn wal_catch_up(&self) -> bool {
        match self {
            Db::Sqlite { wal_long, .. } => wal_long.swap(false, Ordering::Relaxed),
            Db::Postgres(_) => false,
        }
    }

    /// Pool sizes for /metrics: (open connections, idle connections).
    pub fn pool_stats(&self) -> (u32, usize) {
        match self {
            Db::Sqlite { read, write, .. } => (
                read.idle() as u32 + write.size(),
                read.idle() + write.num_idle(),
            ),
            Db::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                read,
                write,
                checkpoint,
                ..
            } => {
                read.close();
                write.close().await;
                // Waits for a checkpoint under way: a copy of the files after close is whole.
                checkpoint.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}
