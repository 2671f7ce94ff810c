//! Statements run straight on a SQLite connection that sqlx has lent out, on the calling thread.
//!
//! sqlx drives each SQLite connection from a worker thread of its own: every statement is a
//! message to that thread and every answer one back, two thread wake-ups per statement. A press
//! writes about fifteen statements, and on this kind of machine the wake-ups cost more than the
//! statements themselves (`perf` showed 45% of the server's CPU in futex wake-ups during
//! `bench/issue4.sh`). The group-commit task (platform/batch.rs) therefore borrows the write
//! connection once per batch (`lock_handle`, one round trip) and runs every statement of the batch
//! here, through the C API of the same SQLite library sqlx links.
//!
//! The SQL is the same text the sqlx path runs: `$N` placeholders are named parameters to SQLite,
//! bound here by their number.

use std::collections::HashMap;
use std::ffi::{CStr, c_int};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use libsqlite3_sys as ffi;

use crate::platform::db::{Arg, DbError, DbResult};

/// A column value as SQLite stored it.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A row read here: the statement's column names (shared by its rows) and the values.
#[derive(Clone, Debug)]
pub struct DirectRow {
    names: Arc<[Box<str>]>,
    vals: Vec<Val>,
}

impl DirectRow {
    pub fn value(&self, col: &str) -> DbResult<&Val> {
        self.names
            .iter()
            .position(|n| &**n == col)
            .and_then(|i| self.vals.get(i))
            .ok_or_else(|| DbError::Decode(format!("no column {col}")))
    }
}

/// An error SQLite reported, with its extended result code.
#[derive(Debug, thiserror::Error)]
#[error("sqlite error {code}: {message}")]
pub struct SqliteFailure {
    pub code: c_int,
    pub message: String,
}

impl SqliteFailure {
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self.code,
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        )
    }
    pub fn is_foreign_key_violation(&self) -> bool {
        self.code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY
    }
}

/// Most statements one connection keeps prepared.
const MAX_STATEMENTS: usize = 512;

struct Stmt {
    raw: NonNull<ffi::sqlite3_stmt>,
    names: Arc<[Box<str>]>,
    /// For each parameter position, the index into the argument list (`$N` -> N-1).
    params: Vec<usize>,
}

/// A borrowed connection and the statements prepared on it so far. Statements are kept for the
/// life of this value (one batch), keyed by the address of their `&'static str` text, and
/// finalized when it is dropped, before the connection goes back to sqlx.
pub struct Direct {
    db: NonNull<ffi::sqlite3>,
    stmts: HashMap<usize, Stmt>,
    /// Opened here (a reader of [`ReadPool`]): closed when dropped, and its statements kept
    /// prepared for its whole life.
    owned: bool,
}

// The connection is used by one thread at a time: whoever holds sqlx's lock on it (the caller
// keeps that lock for as long as this value lives).
unsafe impl Send for Direct {}

impl Direct {
    /// # Safety
    /// `db` must be an open connection that nothing else uses while this value lives.
    pub unsafe fn new(db: NonNull<ffi::sqlite3>) -> Direct {
        Direct {
            db,
            stmts: HashMap::new(),
            owned: false,
        }
    }

    /// Opens a connection of its own on the database file at `path`.
    fn open(path: &std::ffi::CStr) -> DbResult<Direct> {
        let mut raw = ptr::null_mut();
        // SAFETY: `path` is NUL-terminated; `raw` receives the handle (or one to report from).
        let rc = unsafe {
            ffi::sqlite3_open_v2(
                path.as_ptr(),
                &mut raw,
                ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX,
                ptr::null(),
            )
        };
        let Some(db) = NonNull::new(raw) else {
            return Err(DbError::Decode("out of memory opening the database".into()));
        };
        let mut d = Direct {
            db,
            stmts: HashMap::new(),
            owned: true,
        };
        if rc != ffi::SQLITE_OK {
            return Err(d.failure());
        }
        // As the sqlx connections are set up (platform/db.rs): wait out a writer's lock, and a
        // small page cache per connection.
        d.exec("PRAGMA busy_timeout = 10000")?;
        d.exec("PRAGMA cache_size = -1024")?;
        d.exec("PRAGMA foreign_keys = ON")?;
        Ok(d)
    }

    fn failure(&self) -> DbError {
        // SAFETY: the connection is open and ours (see `new`).
        let (code, message) = unsafe {
            let code = ffi::sqlite3_extended_errcode(self.db.as_ptr());
            let msg = ffi::sqlite3_errmsg(self.db.as_ptr());
            let message = if msg.is_null() {
                String::new()
            } else {
                CStr::from_ptr(msg).to_string_lossy().into_owned()
            };
            (code, message)
        };
        DbError::Sqlite(SqliteFailure { code, message })
    }

    fn prepare(&mut self, sql: &'static str) -> DbResult<&Stmt> {
        let key = sql.as_ptr() as usize;
        if !self.stmts.contains_key(&key) && self.stmts.len() >= MAX_STATEMENTS {
            // Queries are constants, so this only happens if text is made at run time; start over
            // rather than grow without bound.
            for (_, s) in self.stmts.drain() {
                // SAFETY: each statement belongs to this connection and is finalized once.
                unsafe { ffi::sqlite3_finalize(s.raw.as_ptr()) };
            }
        }
        if !self.stmts.contains_key(&key) {
            let mut raw = ptr::null_mut();
            let mut tail = ptr::null();
            let len = c_int::try_from(sql.len())
                .map_err(|_| DbError::Decode("statement too long".into()))?;
            // SAFETY: `sql` outlives the call and its length is given; the out-pointers are valid.
            let rc = unsafe {
                ffi::sqlite3_prepare_v3(
                    self.db.as_ptr(),
                    sql.as_ptr().cast(),
                    len,
                    ffi::SQLITE_PREPARE_PERSISTENT,
                    &mut raw,
                    &mut tail,
                )
            };
            if rc != ffi::SQLITE_OK {
                return Err(self.failure());
            }
            let Some(raw) = NonNull::new(raw) else {
                return Err(DbError::Decode("empty statement".into()));
            };
            // SAFETY: `tail` points into `sql` (SQLite sets it to the end of the first statement).
            let rest = unsafe { tail.cast::<u8>().offset_from(sql.as_ptr()) };
            if usize::try_from(rest)
                .ok()
                .and_then(|r| sql.get(r..))
                .is_some_and(|t| !t.trim().trim_end_matches(';').trim().is_empty())
            {
                // SAFETY: `raw` was just prepared and is not used again.
                unsafe { ffi::sqlite3_finalize(raw.as_ptr()) };
                return Err(DbError::Decode(
                    "one statement per call on this path".into(),
                ));
            }
            let stmt = Stmt::describe(raw)?;
            self.stmts.insert(key, stmt);
        }
        self.stmts
            .get(&key)
            .ok_or_else(|| DbError::Decode("statement cache".into()))
    }

    /// Runs one statement with its arguments; `row` receives each result row. Returns the number
    /// of rows changed.
    pub fn run(
        &mut self,
        sql: &'static str,
        args: &[Arg],
        mut row: impl FnMut(DirectRow),
    ) -> DbResult<u64> {
        let db = self.db;
        let (raw, names) = {
            let s = self.prepare(sql)?;
            let raw = s.raw.as_ptr();
            for (i, &a) in s.params.iter().enumerate() {
                let arg = args.get(a).ok_or_else(|| {
                    DbError::Decode(format!("{sql}: missing argument ${}", a + 1))
                })?;
                // Parameter positions are 1-based and fit c_int (SQLite caps them far lower).
                let pos = c_int::try_from(i + 1).unwrap_or(c_int::MAX);
                // SAFETY: `raw` is a live statement of this connection; SQLite copies text and
                // blobs (SQLITE_TRANSIENT) before returning.
                let rc = unsafe { bind(raw, pos, arg) };
                if rc != ffi::SQLITE_OK {
                    // SAFETY: as above.
                    unsafe {
                        ffi::sqlite3_reset(raw);
                        ffi::sqlite3_clear_bindings(raw);
                    }
                    return Err(self.failure());
                }
            }
            (raw, Arc::clone(&s.names))
        };
        let result = loop {
            // SAFETY: `raw` is live and bound.
            match unsafe { ffi::sqlite3_step(raw) } {
                ffi::SQLITE_ROW => match read_row(raw, &names) {
                    Ok(r) => row(r),
                    Err(e) => break Err(e),
                },
                ffi::SQLITE_DONE => {
                    // SAFETY: the connection is open and ours.
                    let n = unsafe { ffi::sqlite3_changes64(db.as_ptr()) };
                    break Ok(u64::try_from(n).unwrap_or(0));
                }
                _ => break Err(self.failure()),
            }
        };
        // SAFETY: `raw` is live; resetting keeps it for the next call with other arguments.
        unsafe {
            ffi::sqlite3_reset(raw);
            ffi::sqlite3_clear_bindings(raw);
        }
        result
    }

    /// Runs a statement that takes no arguments and returns no rows (BEGIN, SAVEPOINT ...).
    pub fn exec(&mut self, sql: &'static str) -> DbResult<()> {
        self.run(sql, &[], |_| {}).map(|_| ())
    }

    /// True while a transaction is open on the connection.
    pub fn in_transaction(&self) -> bool {
        // SAFETY: the connection is open and ours.
        unsafe { ffi::sqlite3_get_autocommit(self.db.as_ptr()) == 0 }
    }
}

impl Drop for Direct {
    fn drop(&mut self) {
        if self.owned {
            for (_, s) in self.stmts.drain() {
                // SAFETY: each statement belongs to this connection and is finalized once.
                unsafe { ffi::sqlite3_finalize(s.raw.as_ptr()) };
            }
            // SAFETY: opened by `open`, no statement left, closed once.
            unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
            return;
        }
        // The connection goes back to sqlx, which must find it outside any transaction.
        if self.in_transaction() {
            // SAFETY: the connection is open and ours; the text is a NUL-terminated literal.
            unsafe {
                ffi::sqlite3_exec(
                    self.db.as_ptr(),
                    c"ROLLBACK".as_ptr(),
                    None,
                    ptr::null_mut(),
                    ptr::null_mut(),
                )
            };
        }
        for (_, s) in self.stmts.drain() {
            // SAFETY: each statement belongs to this connection and is finalized once.
            unsafe { ffi::sqlite3_finalize(s.raw.as_ptr()) };
        }
    }
}

/// Readers of the SQLite file, opened and driven here rather than through sqlx: no hop to a
/// driver thread at all, and each keeps its prepared statements for its whole life (a statement
/// prepared on a connection sqlx owns could outlive it). WAL lets them read beside the writer.
#[derive(Clone)]
pub struct ReadPool {
    path: Arc<std::ffi::CString>,
    idle: Arc<std::sync::Mutex<Vec<Direct>>>,
    permits: Arc<tokio::sync::Semaphore>,
}

/// A reader taken from the pool; it goes back when dropped.
pub struct Reader {
    idle: Arc<std::sync::Mutex<Vec<Direct>>>,
    conn: std::mem::ManuallyDrop<Direct>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool")
            .field("path", &self.path)
            .field("idle", &self.idle())
            .finish()
    }
}

impl ReadPool {
    pub fn new(path: &std::path::Path, size: usize) -> DbResult<ReadPool> {
        let path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| DbError::Decode("a NUL in the database path".into()))?;
        Ok(ReadPool {
            path: Arc::new(path),
            idle: Arc::default(),
            permits: Arc::new(tokio::sync::Semaphore::new(size)),
        })
    }

    pub async fn get(&self) -> DbResult<Reader> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| DbError::Decode("the read pool is closed".into()))?;
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        let conn = match idle {
            Some(c) => c,
            None => Direct::open(&self.path)?,
        };
        Ok(Reader {
            idle: Arc::clone(&self.idle),
            conn: std::mem::ManuallyDrop::new(conn),
            _permit: permit,
        })
    }

    /// Idle connections (the others are in use or not opened yet).
    pub fn idle(&self) -> usize {
        self.idle.lock().map(|v| v.len()).unwrap_or(0)
    }

    pub fn close(&self) {
        self.permits.close();
        if let Ok(mut v) = self.idle.lock() {
            v.clear();
        }
    }
}

impl std::ops::Deref for Reader {
    type Target = Direct;
    fn deref(&self) -> &Direct {
        &self.conn
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Direct {
        &mut self.conn
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: taken once, here, and `conn` is not used after.
        let c = unsafe { std::mem::ManuallyDrop::take(&mut self.conn) };
        // A reader left inside a transaction (Qorgau's code never does) is closed instead.
        if !c.in_transaction()
            && !self.idle.lock().is_ok_and(|v| v.len() >= 64)
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(c);
        }
    }
}

impl Stmt {
    fn describe(raw: NonNull<ffi::sqlite3_stmt>) -> DbResult<Stmt> {
        let p = raw.as_ptr();
        // SAFETY: `p` is a prepared statement; names are read while it lives and copied.
        let (names, params) = unsafe {
            let n = ffi::sqlite3_column_count(p);
            let names: Vec<Box<str>> = (0..n)
                .map(|i| {
                    let c = ffi::sqlite3_column_name(p, i);
                    if c.is_null() {
                        Box::from("")
                    } else {
                        Box::from(CStr::from_ptr(c).to_string_lossy().as_ref())
                    }
                })
                .collect();
            let count = ffi::sqlite3_bind_parameter_count(p);
            let mut params = Vec::new();
            for i in 1..=count {
                let c = ffi::sqlite3_bind_parameter_name(p, i);
                let name = if c.is_null() {
                    None
                } else {
                    CStr::from_ptr(c).to_str().ok()
                };
                // `$N` names argument N; an anonymous `?` takes the next one, as SQLite numbers it.
                let idx = match name.and_then(|s| s.strip_prefix('$')) {
                    Some(num) => num.parse::<usize>().ok().and_then(|n| n.checked_sub(1)),
                    None => usize::try_from(i - 1).ok(),
                };
                match idx {
                    Some(x) => params.push(x),
                    None => {
                        ffi::sqlite3_finalize(p);
                        return Err(DbError::Decode(format!(
                            "unsupported parameter {}",
                            name.unwrap_or("?")
                        )));
                    }
                }
            }
            (names, params)
        };
        Ok(Stmt {
            raw,
            names: names.into(),
            params,
        })
    }
}

unsafe fn bind(raw: *mut ffi::sqlite3_stmt, pos: c_int, arg: &Arg) -> c_int {
    fn blob(raw: *mut ffi::sqlite3_stmt, pos: c_int, b: &[u8]) -> c_int {
        // SAFETY: SQLite copies the bytes (SQLITE_TRANSIENT) before returning.
        unsafe {
            ffi::sqlite3_bind_blob64(
                raw,
                pos,
                b.as_ptr().cast(),
                b.len() as u64,
                ffi::SQLITE_TRANSIENT(),
            )
        }
    }
    // SAFETY: the caller passes a live statement; text and blobs are copied by SQLite.
    unsafe {
        match arg {
            Arg::Bool(Some(v)) => ffi::sqlite3_bind_int64(raw, pos, i64::from(*v)),
            Arg::I64(Some(v)) => ffi::sqlite3_bind_int64(raw, pos, *v),
            Arg::F64(Some(v)) => ffi::sqlite3_bind_double(raw, pos, *v),
            Arg::Text(Some(s)) => ffi::sqlite3_bind_text64(
                raw,
                pos,
                s.as_ptr().cast(),
                s.len() as u64,
                ffi::SQLITE_TRANSIENT(),
                ffi::SQLITE_UTF8 as u8,
            ),
            // As sqlx stores a UUID on SQLite: its 16 bytes.
            Arg::Uuid(Some(u)) => blob(raw, pos, u.as_bytes()),
            Arg::Bytes(Some(b)) => blob(raw, pos, b),
            Arg::Bool(None)
            | Arg::I64(None)
            | Arg::F64(None)
            | Arg::Text(None)
            | Arg::Uuid(None)
            | Arg::Bytes(None) => ffi::sqlite3_bind_null(raw, pos),
        }
    }
}

fn read_row(raw: *mut ffi::sqlite3_stmt, names: &Arc<[Box<str>]>) -> DbResult<DirectRow> {
    let mut vals = Vec::with_capacity(names.len());
    for i in 0..names.len() {
        let i = c_int::try_from(i).unwrap_or(c_int::MAX);
        // SAFETY: `raw` has just returned SQLITE_ROW; each value is copied before the next call.
        let v = unsafe {
            match ffi::sqlite3_column_type(raw, i) {
                ffi::SQLITE_INTEGER => Val::Int(ffi::sqlite3_column_int64(raw, i)),
                ffi::SQLITE_FLOAT => Val::Real(ffi::sqlite3_column_double(raw, i)),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_column_text(raw, i);
                    let n = usize::try_from(ffi::sqlite3_column_bytes(raw, i)).unwrap_or(0);
                    let bytes = if p.is_null() {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(p, n)
                    };
                    Val::Text(
                        String::from_utf8(bytes.to_vec())
                            .map_err(|_| DbError::Decode("text is not UTF-8".into()))?,
                    )
                }
                ffi::SQLITE_BLOB => {
                    let p = ffi::sqlite3_column_blob(raw, i);
                    let n = usize::try_from(ffi::sqlite3_column_bytes(raw, i)).unwrap_or(0);
                    Val::Blob(if p.is_null() {
                        Vec::new()
                    } else {
                        std::slice::from_raw_parts(p.cast::<u8>(), n).to_vec()
                    })
                }
                _ => Val::Null,
            }
        };
        vals.push(v);
    }
    Ok(DirectRow {
        names: Arc::clone(names),
        vals,
    })
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use crate::args;
    use crate::platform::db::{Db, Tx};

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.unwrap();
        db.execute(
            "CREATE TABLE t (id BLOB PRIMARY KEY, n BIGINT, x REAL, s TEXT, b BLOB, f INTEGER)",
            vec![],
        )
        .await
        .unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn values_round_trip_as_sqlx_reads_them() {
        let (_dir, db) = db().await;
        let id = Uuid::now_v7();
        let got = db
            .with_direct_write(move |tx: &mut Tx| {
                Box::pin(async move {
                    tx.execute("BEGIN", vec![]).await.unwrap();
                    // `$1` twice and the arguments out of order: bound by number, not position.
                    let n = tx
                        .execute(
                            "INSERT INTO t (id, n, x, s, b, f) VALUES ($2, $1, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                            args![7i64, id, 1.5f64, "é'; --", vec![0u8, 255], true],
                        )
                        .await
                        .unwrap();
                    let dup = tx
                        .execute("INSERT INTO t (id) VALUES ($1)", args![id])
                        .await
                        .unwrap_err();
                    let row = tx
                        .fetch_one("SELECT * FROM t WHERE id = $1 AND n = $2", args![id, 7i64])
                        .await
                        .unwrap();
                    tx.execute("COMMIT", vec![]).await.unwrap();
                    (n, dup.is_unique_violation(), row)
                })
            })
            .await
            .unwrap();
        assert_eq!(got.0, 1);
        assert!(got.1, "a duplicate key is reported as such");
        let r = got.2;
        assert_eq!(r.get::<Uuid>("id").unwrap(), id);
        assert_eq!(r.get::<i64>("n").unwrap(), 7);
        assert_eq!(r.get::<f64>("x").unwrap(), 1.5);
        assert_eq!(r.get::<String>("s").unwrap(), "é'; --");
        assert_eq!(r.get::<Vec<u8>>("b").unwrap(), vec![0, 255]);
        assert!(r.get::<bool>("f").unwrap());
        assert!(r.get::<i64>("missing").is_err());
        // The sqlx path reads the same row the same way.
        let again = db
            .fetch_one("SELECT * FROM t WHERE id = $1", args![id])
            .await
            .unwrap();
        assert_eq!(again.get::<String>("s").unwrap(), "é'; --");
        assert_eq!(
            again.get::<Option<Vec<u8>>>("b").unwrap(),
            Some(vec![0, 255])
        );
    }

    #[tokio::test]
    async fn an_open_transaction_is_rolled_back_before_sqlx_gets_the_connection_back() {
        let (_dir, db) = db().await;
        db.with_direct_write(|tx: &mut Tx| {
            Box::pin(async move {
                tx.execute("BEGIN", vec![]).await.unwrap();
                tx.execute("INSERT INTO t (id) VALUES ($1)", args![Uuid::now_v7()])
                    .await
                    .unwrap();
            })
        })
        .await
        .unwrap();
        let n = db
            .fetch_one("SELECT COUNT(*) AS n FROM t", vec![])
            .await
            .unwrap();
        assert_eq!(n.get::<i64>("n").unwrap(), 0);
        // And sqlx can open its own transaction on it again.
        db.execute("INSERT INTO t (id) VALUES ($1)", args![Uuid::now_v7()])
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn errors_come_back_as_errors() {
        let (_dir, db) = db().await;
        let (two, bad) = db
            .with_direct_write(|tx: &mut Tx| {
                Box::pin(async move {
                    let two = tx.execute("SELECT 1; SELECT 2", vec![]).await.is_err();
                    let bad = tx.execute("SELECT nope FROM t", vec![]).await.is_err();
                    (two, bad)
                })
            })
            .await
            .unwrap();
        assert!(two, "two statements in one call are refused");
        assert!(bad, "a bad column is an error");
    }
}
