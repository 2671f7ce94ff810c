//! The places and people Qorgau protects: regions, facilities, departments, security posts,
//! staff, shift definitions and rosters.

pub mod api;
pub mod import;
pub mod model;
pub mod pages;
pub mod reference;
pub mod store;

use axum::Router;

use crate::platform::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}
