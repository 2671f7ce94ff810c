//! What every handler can reach.

use std::sync::Arc;

use crate::platform::auth::throttle::Throttle;
use crate::platform::config::Config;
use crate::platform::db::Db;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub cfg: Config,
    /// Failed logins per client address, in memory only (never written to disk).
    pub login_throttle: Throttle,
    /// Failed anonymous-report receipt lookups per client address, in memory only.
    pub receipt_throttle: Throttle,
    /// Anonymous reports stored per client address in the last hour, in memory only.
    pub anonymous_throttle: Throttle,
    /// Credentials resolved in the last moments (platform/auth/cache.rs).
    pub sessions: crate::platform::auth::cache::SessionCache,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    pub events: crate::platform::events::Events,
    /// Group-committed audit entries for reads of personal data.
    pub audit: crate::platform::audit::Recorder,
    /// Group commit for acknowledged writes (platform/batch.rs).
    pub batch: crate::platform::batch::Batcher,
    /// Opens and seals fields a database dump must not reveal (platform/crypto.rs).
    pub sealer: crate::platform::crypto::Sealer,
    /// Addresses the listeners beside the HTTP server actually bound.
    pub listeners: Listeners,
}

/// The addresses listeners started beside the HTTP server (such as the alarm panel receiver)
/// actually bound, by name: with port 0 the system picks one, and tests and scripts need it.
#[derive(Debug, Default)]
pub struct Listeners(std::sync::Mutex<Vec<(&'static str, std::net::SocketAddr)>>);

impl Listeners {
    pub fn record(&self, name: &'static str, addr: std::net::SocketAddr) {
        if let Ok(mut v) = self.0.lock() {
            v.retain(|(n, _)| *n != name);
            v.push((name, addr));
        }
    }
    pub fn get(&self, name: &str) -> Option<std::net::SocketAddr> {
        self.0
            .lock()
            .ok()?
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
    }
}

impl AppState {
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
