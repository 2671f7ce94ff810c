//! Logging in and out, one's own account (preferences, second factor, API tokens, who looked at
//! my data), and the administrators' account management.

pub mod api;
pub mod model;
pub mod pages;
pub mod store;

use axum::Router;

use crate::platform::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}
