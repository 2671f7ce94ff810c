//! A sliding-window counter of failures per key, in memory only.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Throttle<K = std::net::IpAddr> {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: Eq + Hash + Clone> Throttle<K> {
    pub fn new(max: usize, window: Duration) -> Self {
        Throttle {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until the key may try again, or `None` if it may try now.
    pub fn blocked(&self, key: &K) -> Option<u64> {
        self.blocked_at(key, Instant::now())
    }

    pub fn blocked_at(&self, key: &K, now: Instant) -> Option<u64> {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let q = hits.get_mut(key)?;
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
        if q.len() < self.max {
            return None;
        }
        let oldest = *q.front()?;
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        Some(wait.as_secs().max(1))
    }

    pub fn fail(&self, key: K) {
        self.fail_at(key, Instant::now())
    }

    pub fn fail_at(&self, key: K, now: Instant) {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        // Bound memory: forget stale keys once the map grows large.
        if hits.len() > 100_000 {
            let window = self.window;
            hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = hits.entry(key).or_default();
        q.push_back(now);
        while q.len() > self.max {
            q.pop_front();
        }
    }

    pub fn clear(&self, key: &K) {
        self.hits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_within_window_then_releases() {
        let t: Throttle<u8> = Throttle::new(3, Duration::from_secs(600));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(t.blocked_at(&1, t0), None, "attempt {i}");
            t.fail_at(1, t0);
        }
        let wait = t.blocked_at(&1, t0 + Duration::from_secs(10));
        assert_eq!(wait, Some(590));
        assert_eq!(t.blocked_at(&2, t0), None, "other keys are unaffected");
        assert_eq!(t.blocked_at(&1, t0 + Duration::from_secs(600)), None);
    }
}
