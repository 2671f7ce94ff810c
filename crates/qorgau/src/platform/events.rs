//! Live fan-out: "something changed for facility X, look". A notice carries no data; listeners
//! re-read the database, which is the truth. In one process a tokio broadcast carries notices;
//! with PostgreSQL, `NOTIFY` carries them between nodes, and after a lost connection every
//! listener is told to re-read everything it might have missed.
//!
//! Many listeners of one facility (its consoles) would all re-read the same rows: a relay lets
//! one reader per facility do that once and hand the encoded result to all of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// What a facility's reader hands its listeners: new rows, each with its sequence number and
/// its encoding (a server-sent-events frame), in order.
pub type Batch = Arc<[(i64, axum::body::Bytes)]>;

/// Batches a slow listener may fall behind by before it must re-read for itself.
const RELAY_CAPACITY: usize = 256;

#[derive(Clone)]
pub struct Events {
    fanout: Arc<Fanout>,
    db: Db,
    relays: Arc<Mutex<HashMap<Uuid, broadcast::Sender<Batch>>>>,
}

/// Where this node's notices go: to every listener, and to the listeners of the one facility.
struct Fanout {
    all: broadcast::Sender<Notice>,
    facilities: Mutex<HashMap<Uuid, broadcast::Sender<Notice>>>,
}

impl Fanout {
    fn send(&self, n: Notice) {
        let facilities = self.facilities.lock().unwrap_or_else(|e| e.into_inner());
        match &n {
            Notice::Alarms(f) => {
                if let Some(tx) = facilities.get(f) {
                    let _ = tx.send(n.clone());
                }
            }
            Notice::Resync => {
                for tx in facilities.values() {
                    let _ = tx.send(Notice::Resync);
                }
            }
        }
        let _ = self.all.send(n);
    }
}

impl Events {
    pub fn start(db: Db) -> Events {
        let (all, _) = broadcast::channel(4096);
        let fanout = Arc::new(Fanout {
            all,
            facilities: Mutex::default(),
        });
        if let Db::Postgres(pool) = &db {
            let pool = pool.clone();
            let fanout = Arc::clone(&fanout);
            tokio::spawn(async move { listen(pool, fanout).await });
        }
        Events {
            fanout,
            db,
            relays: Arc::default(),
        }
    }

    /// Every notice.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.fanout.all.subscribe()
    }

    /// The notices about facility `f`, and every resync.
    pub fn subscribe_facility(&self, f: Uuid) -> broadcast::Receiver<Notice> {
        let mut facilities = self
            .fanout
            .facilities
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = facilities.get(&f) {
            return tx.subscribe();
        }
        // A facility nobody listens to any more gives its place up here.
        facilities.retain(|_, tx| tx.receiver_count() > 0);
        let (tx, rx) = broadcast::channel(64);
        facilities.insert(f, tx);
        rx
    }

    /// Joins the relay of facility `f`. The sender comes back when there was no relay yet: the
    /// caller then runs its reader, starting from a position it has itself read up to.
    pub fn relay(&self, f: Uuid) -> (broadcast::Receiver<Batch>, Option<broadcast::Sender<Batch>>) {
        let mut relays = self.relays.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = relays.get(&f) {
            return (tx.subscribe(), None);
        }
        let (tx, rx) = broadcast::channel(RELAY_CAPACITY);
        relays.insert(f, tx.clone());
        (rx, Some(tx))
    }

    /// The reader of facility `f` asks to stop: true (and the relay is gone) when nobody listens;
    /// false when a listener joined meanwhile, who must still be served.
    pub fn relay_done(&self, f: Uuid, tx: &broadcast::Sender<Batch>) -> bool {
        let mut relays = self.relays.lock().unwrap_or_else(|e| e.into_inner());
        if tx.receiver_count() > 0 {
            return false;
        }
        relays.remove(&f);
        true
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
                    self.fanout.send(n);
                }
            }
            Db::Sqlite { .. } => self.fanout.send(n),
        }
    }
}

async fn listen(pool: sqlx::PgPool, tx: Arc<Fanout>) {
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
        tx.send(Notice::Resync);
        loop {
            match l.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(notice) = Notice::decode(n.payload()) {
                        tx.send(notice);
                    }
                }
                // The connection dropped; PgListener reconnects on the next call.
                Ok(None) => tx.send(Notice::Resync),
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

    #[tokio::test]
    async fn a_relay_has_one_reader_and_ends_only_without_listeners() {
        let db = Db::connect("sqlite::memory:").await.expect("db");
        let ev = Events::start(db);
        let f = Uuid::from_u128(7);
        let (mut first, reader) = ev.relay(f);
        let reader = reader.expect("the first listener runs the reader");
        let (mut second, none) = ev.relay(f);
        assert!(none.is_none(), "one reader per facility");
        let batch: Batch = Arc::from(vec![(1, axum::body::Bytes::from_static(b"{}"))]);
        reader.send(batch).expect("listeners");
        assert_eq!(first.recv().await.expect("batch")[0].0, 1);
        assert_eq!(second.recv().await.expect("batch")[0].0, 1);
        assert!(!ev.relay_done(f, &reader), "listeners are still there");
        drop((first, second));
        assert!(ev.relay_done(f, &reader));
        assert!(
            ev.relay(f).1.is_some(),
            "the next listener starts a new reader"
        );
    }

    #[tokio::test]
    async fn a_facility_hears_its_own_notices_and_resyncs() {
        let db = Db::connect("sqlite::memory:").await.expect("db");
        let ev = Events::start(db);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut only_a = ev.subscribe_facility(a);
        let mut all = ev.subscribe();
        ev.publish(Notice::Alarms(b)).await;
        ev.publish(Notice::Alarms(a)).await;
        ev.publish(Notice::Resync).await;
        assert_eq!(only_a.recv().await.expect("a"), Notice::Alarms(a));
        assert_eq!(only_a.recv().await.expect("resync"), Notice::Resync);
        assert_eq!(all.recv().await.expect("b"), Notice::Alarms(b));
    }

    #[test]
    fn notices_round_trip() {
        let n = Notice::Alarms(Uuid::from_u128(5));
        assert_eq!(Notice::decode(&n.encode()), Some(n));
        assert_eq!(Notice::decode("resync"), Some(Notice::Resync));
        assert_eq!(Notice::decode("alarms:nope"), None);
    }
}
