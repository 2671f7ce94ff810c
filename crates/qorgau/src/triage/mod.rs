//! Handling reports: the triage queue per facility and per union, assignment, internal notes,
//! status changes on the reporter's timeline, merging duplicates, opening a case, and the
//! mandatory notifications a report starts (with timers that escalate when they run late).

pub mod api;
pub mod model;
pub mod pages;
pub mod rules;
pub mod service;
pub mod store;

use axum::Router;

use crate::platform::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}
