//! Online backup and restore of the SQLite database. PostgreSQL deployments use pg_dump and
//! pg_restore (docs/operations.md).

use std::path::Path;

use crate::args;
use crate::platform::config::Config;
use crate::platform::db::Db;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup and restore here are for SQLite; for PostgreSQL use pg_dump / pg_restore")]
    NotSqlite,
    #[error("{0} already exists; choose a new file")]
    Exists(String),
    #[error("{0} is not a Qorgau SQLite database: {1}")]
    NotADatabase(String, String),
    #[error(transparent)]
    Db(#[from] crate::platform::db::DbError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// `VACUUM INTO` writes a consistent copy while the server keeps running.
pub async fn backup(db: &Db, to: &Path) -> Result<(), BackupError> {
    if !matches!(db, Db::Sqlite { .. }) {
        return Err(BackupError::NotSqlite);
    }
    if to.exists() {
        return Err(BackupError::Exists(to.display().to_string()));
    }
    let Ok(mut conn) = db.conn().await else {
        return Err(BackupError::NotSqlite);
    };
    // VACUUM cannot bind its target as a parameter; the path is quoted as an SQL literal.
    let path = to.display().to_string().replace('\'', "''");
    let sql: &'static str = Box::leak(format!("VACUUM INTO '{path}'").into_boxed_str());
    conn.execute(sql, args![]).await?;
    Ok(())
}

/// Checks the backup opens and has our tables, then swaps it in place of the live file.
pub async fn restore(cfg: &Config, from: &Path) -> Result<(), BackupError> {
    if cfg
        .database_url
        .as_deref()
        .is_some_and(|u| !u.starts_with("sqlite:"))
    {
        return Err(BackupError::NotSqlite);
    }
    let probe = Db::connect(&format!("sqlite://{}", from.display()))
        .await
        .map_err(|e| BackupError::NotADatabase(from.display().to_string(), e.to_string()))?;
    probe
        .fetch_one("SELECT COUNT(*) AS n FROM audit_log", args![])
        .await
        .map_err(|e| BackupError::NotADatabase(from.display().to_string(), e.to_string()))?;
    probe.close().await;
    std::fs::create_dir_all(&cfg.data_dir)?;
    let target = cfg.data_dir.join("qorgau.db");
    let tmp = cfg.data_dir.join("qorgau.db.restoring");
    std::fs::copy(from, &tmp)?;
    for ext in ["-wal", "-shm"] {
        let side = cfg.data_dir.join(format!("qorgau.db{ext}"));
        if side.exists() {
            std::fs::remove_file(side)?;
        }
    }
    std::fs::rename(&tmp, &target)?;
    Ok(())
}
