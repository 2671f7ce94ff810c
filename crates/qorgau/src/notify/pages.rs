pub fn routes() -> axum::Router<crate::platform::state::AppState> { axum::Router::new() }
