//! Incident reports: when they happened in the terms of shifts and the national calendar, and the
//! calendars an administrator keeps up to date.

pub mod api;
pub mod attachments;
pub mod calendar;
pub mod classify;
pub mod consent;
pub mod escrow;
pub mod escrow_api;
pub mod escrow_store;
pub mod model;
pub mod pages;
pub mod protect_pages;
pub mod retaliation;
pub mod retaliation_api;
pub mod retaliation_store;
pub mod scrub;
pub mod service;
pub mod store;

use axum::Router;

use crate::platform::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(escrow_api::routes())
        .merge(retaliation_api::routes())
        .merge(protect_pages::routes())
        .merge(consent::routes())
        .merge(attachments::routes())
}
