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
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    pub events: crate::platform::events::Events,
    /// Group-committed audit entries for reads of personal data.
    pub audit: crate::platform::audit::Recorder,
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
