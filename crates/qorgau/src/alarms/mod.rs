//! Panic alarms: from the phone button and the API today (MQTT buttons and SIA DC-09 panels next),
//! the responders' actions, escalation timers that survive restarts, and the live feed.

pub mod api;
pub mod model;
pub mod service;
pub mod store;

use axum::Router;

use crate::platform::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes())
}
