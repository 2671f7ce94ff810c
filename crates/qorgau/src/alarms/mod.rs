//! Panic alarms: from the phone button and the API today (MQTT buttons and SIA DC-09 panels next),
//! the responders' actions, escalation timers that survive restarts, and the live feed.

pub mod api;
pub mod devices;
pub mod model;
pub mod mqtt;
pub mod mqtt_map;
pub mod pages;
pub mod panels;
pub mod service;
pub mod sia;
pub mod store;

use axum::Router;

use crate::platform::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(api::routes())
        .merge(devices::routes())
        .merge(pages::routes())
        .merge(panels::routes())
}
