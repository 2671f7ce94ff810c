//! A short-lived memory of resolved credentials, so that a burst of requests on one session
//! costs one database lookup rather than one each.
//!
//! Correctness rules:
//! - On this node, any request that may change state (a method other than GET, HEAD or OPTIONS)
//!   empties the cache when it finishes, so a logout, a revoked token, a disabled account or a
//!   new password is in force for every request that starts after the answer. No list of
//!   "account-changing" routes is kept: a route added later cannot forget to invalidate.
//! - A lookup that began before such a change never stores its (possibly stale) answer: each
//!   clearing bumps a generation, and an answer is stored only under the generation its lookup
//!   started in.
//! - Other nodes on the same PostgreSQL database (and the CLI on the same SQLite file) are not
//!   told: an entry lives at most [`TTL`], which bounds how long a change made there takes to
//!   reach this node.
//! - Session expiry and the idle timeout are checked on every hit against the times the
//!   database gave, so an entry never outlives its session.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Auth;
use crate::platform::time::Ts;

/// How long an entry is trusted without asking the database again; the longest a change made on
/// another node takes to reach this one.
pub const TTL: Duration = Duration::from_secs(2);

/// Most entries kept; beyond it stale ones go, and if none are stale everything does. Each is a
/// few hundred bytes, so this bounds the cache near one megabyte.
const MAX_ENTRIES: usize = 4096;

/// A resolved credential and the times that bound it.
#[derive(Clone, Debug)]
pub struct Cached {
    pub auth: Auth,
    /// The session's absolute end; `None` for API tokens, which have none.
    pub expires_at: Option<Ts>,
    /// When the database last saw the session used; `None` for API tokens.
    pub last_seen: Option<Ts>,
}

impl Cached {
    /// Whether a hit may be used at `now`: within the session's absolute and idle limits.
    pub fn usable(&self, now: Ts, idle_secs: i64) -> bool {
        self.expires_at.is_none_or(|e| e.micros() > now.micros())
            && self
                .last_seen
                .is_none_or(|l| l.micros() > now.add_secs(-idle_secs).micros())
    }
}

struct Slot {
    entry: Cached,
    stored: Instant,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    slots: HashMap<String, Slot>,
}

#[derive(Default)]
pub struct SessionCache(Mutex<Inner>);

impl SessionCache {
    pub fn new() -> SessionCache {
        SessionCache::default()
    }

    /// The generation to pass to [`SessionCache::store`]; read it before asking the database.
    pub fn generation(&self) -> u64 {
        self.0.lock().map_or(u64::MAX, |g| g.generation)
    }

    /// A fresh entry for `key`, if any.
    pub fn get(&self, key: &str) -> Option<Cached> {
        let g = self.0.lock().ok()?;
        let slot = g.slots.get(key)?;
        (slot.stored.elapsed() < TTL).then(|| slot.entry.clone())
    }

    /// Stores what the database answered, unless the cache was cleared since `generation`.
    pub fn store(&self, generation: u64, key: String, entry: Cached) {
        let Ok(mut g) = self.0.lock() else {
            return;
        };
        if g.generation != generation {
            return;
        }
        if g.slots.len() >= MAX_ENTRIES {
            g.slots.retain(|_, s| s.stored.elapsed() < TTL);
            if g.slots.len() >= MAX_ENTRIES {
                g.slots.clear();
            }
        }
        g.slots.insert(
            key,
            Slot {
                entry,
                stored: Instant::now(),
            },
        );
    }

    /// Forgets everything: something may have changed a session, an account or a token.
    pub fn clear(&self) {
        if let Ok(mut g) = self.0.lock() {
            g.generation = g.generation.wrapping_add(1);
            g.slots.clear();
        }
    }

    /// Clears the cache when the guard goes, also when a request is dropped half way (its
    /// client went away after the change was committed).
    pub fn clear_when_dropped(&self) -> ClearOnDrop<'_> {
        ClearOnDrop(self)
    }
}

pub struct ClearOnDrop<'a>(&'a SessionCache);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::access::{Principal, Role, Scope, Via};
    use uuid::Uuid;

    fn auth() -> Auth {
        Auth {
            principal: Principal {
                user_id: Uuid::from_u128(1),
                username: "a".into(),
                role: Role::SystemAdmin,
                scope: Scope::Country(None),
                person_id: None,
                via: Via::Session {
                    id_hash: "h".into(),
                },
            },
            prefs: Default::default(),
            totp_pending: false,
        }
    }

    fn session(expires: i64, seen: i64) -> Cached {
        Cached {
            auth: auth(),
            expires_at: Some(Ts::from_micros(expires)),
            last_seen: Some(Ts::from_micros(seen)),
        }
    }

    #[test]
    fn a_hit_respects_absolute_and_idle_limits() {
        let now = Ts::from_micros(100_000_000);
        assert!(session(200_000_000, 99_000_000).usable(now, 60));
        // Past its absolute end.
        assert!(!session(100_000_000, 99_000_000).usable(now, 60));
        // Idle for longer than the timeout.
        assert!(!session(200_000_000, 39_000_000).usable(now, 60));
        assert!(!session(200_000_000, 99_000_000).usable(now, 0));
        let token = Cached {
            auth: auth(),
            expires_at: None,
            last_seen: None,
        };
        assert!(token.usable(now, 0));
    }

    #[test]
    fn clearing_forgets_and_refuses_answers_from_before() {
        let c = SessionCache::new();
        let g = c.generation();
        c.store(g, "k".into(), session(i64::MAX, i64::MAX));
        assert!(c.get("k").is_some());
        let before = c.generation();
        c.clear();
        assert!(c.get("k").is_none());
        // A lookup that started before the clear must not put its answer back.
        c.store(before, "k".into(), session(i64::MAX, i64::MAX));
        assert!(c.get("k").is_none());
        c.store(c.generation(), "k".into(), session(i64::MAX, i64::MAX));
        assert!(c.get("k").is_some());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let c = SessionCache::new();
        let g = c.generation();
        for i in 0..(MAX_ENTRIES + 10) {
            c.store(g, i.to_string(), session(i64::MAX, i64::MAX));
        }
        let n = c.0.lock().map(|g| g.slots.len()).unwrap_or(usize::MAX);
        assert!(n <= MAX_ENTRIES, "{n}");
    }
}
