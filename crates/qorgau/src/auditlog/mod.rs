//! The administrators' view of the audit log: filter, page through, export as CSV.

pub mod api;
pub mod pages;

use axum::Router;

use crate::platform::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}
