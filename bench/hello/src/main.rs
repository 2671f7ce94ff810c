//! `GET /` -> "hello": the ceiling an axum server reaches on this machine.
//! Prints `hello listening on http://ADDR` like `qorgau serve` does, so the bench script reads it
//! the same way. Same runtime as qorgau: `#[tokio::main]`, one worker per core.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("bind");
    println!(
        "hello listening on http://{}",
        listener.local_addr().expect("local addr")
    );
    let app = Router::new().route("/", get(|| async { "hello" }));
    axum::serve(listener, app).await.expect("serve");
}
