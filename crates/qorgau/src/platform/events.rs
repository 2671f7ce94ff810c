//! Live fan-out: "something changed for facility X, look". A notice carries no data; listeners
//! re-read the database, which is the truth. In one process a tokio broadcast carries notices;
//! with PostgreSQL, `NOTIFY` carries them between nodes, and after a lost connection every
//! listener is told to re-read everything it might have missed.

use tokio::sync::broadcast;
use uuid::Uuid;

use crate::platform::db::Db;

pub const CHANNEL: &str = "qorgau_events";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Alarms of this facility changed.
    Alarms(Uuid),
    /// A notice may have been lost: re-read everything.
    Resync,
}

impl Notice {
    fn encode(&self) -> String {
        match self {
            Notice::Alarms(f) => format!("alarms:{f}"),
            Notice::Resync => "resync".into(),
        }
    }
    fn decode(s: &str) -> Option<Notice> {
        match s.split_once(':') {
            Some(("alarms", f)) => Uuid::parse_str(f).ok().map(Notice::Alarms),
            _ => (s == "resync").then_some(Notice::Resync),
        }
    }
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Notice>,
    db: Db,
}

impl Events {
    pub fn start(db: Db) -> Events {
        let (tx, _) = broadcast::channel(4096);
        if let Db::Postgres(pool) = &db {
            let pool = pool.clone();
            let tx = tx.clone();
            tokio::spawn(async move { listen(pool, tx).await });
        }
        Events { tx, db }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }

    /// Tells this node's listeners now, and the other nodes through PostgreSQL.
    pub async fn publish(&self, n: Notice) {
        match &self.db {
            Db::Postgres(pool) => {
                // Our own listener relays it to this node too, so only one path delivers it.
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(n.encode())
                    .execute(pool)
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "NOTIFY failed; telling local listeners only");
                    let _ = self.tx.send(n);
                }
            }
            Db::Sqlite { .. } => {
                let _ = self.tx.send(n);
            }
        }
    }
}

async fn listen(pool: sqlx::PgPool, tx: broadcast::Sender<Notice>) {
    loop {
        let mut l = match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = l.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        // Whatever was sent while we were not listening is re-read by everyone.
        let _ = tx.send(Notice::Resync);
        loop {
            match l.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(notice) = Notice::decode(n.payload()) {
                        let _ = tx.send(notice);
                    }
                }
                // The connection dropped; PgListener reconnects on the next call.
                Ok(None) => {
                    let _ = tx.send(Notice::Resync);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection lost");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip() {
        let n = Notice::Alarms(Uuid::from_u128(5));
        assert_eq!(Notice::decode(&n.encode()), Some(n));
        assert_eq!(Notice::decode("resync"), Some(Notice::Resync));
        assert_eq!(Notice::decode("alarms:nope"), None);
    }
}
