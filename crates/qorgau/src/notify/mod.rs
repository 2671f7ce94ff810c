//! Notifications any capability can send (alarms today; reports and cases next): escalation
//! policies per facility, Web Push to responders' phones (RFC 8291 with VAPID), and signed
//! outgoing webhooks for SMS and messenger gateways, all delivered from durable jobs.

pub mod api;
pub mod model;
pub mod pages;
pub mod push;
pub mod service;
pub mod ssrf;
pub mod store;

use axum::Router;

use crate::platform::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}
