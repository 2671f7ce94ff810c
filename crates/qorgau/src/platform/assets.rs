//! Static files compiled into the binary, so one file is the whole server.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

macro_rules! assets {
    ($($name:literal => $ct:literal),+ $(,)?) => {
        const ASSETS: &[(&str, &str, &[u8])] = &[
            $(($name, $ct, include_bytes!(concat!("../../static/", $name)))),+
        ];
    };
}
assets! {
    "app.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "alarm.css" => "text/css; charset=utf-8",
    "alarm.js" => "text/javascript; charset=utf-8",
    "alarm-outbox.js" => "text/javascript; charset=utf-8",
    "console.js" => "text/javascript; charset=utf-8",
    "notify-push.js" => "text/javascript; charset=utf-8",
    "report-draft.js" => "text/javascript; charset=utf-8",
    "sw.js" => "text/javascript; charset=utf-8",
    "alarm-icon.svg" => "image/svg+xml",
    "alarm-icon-maskable.svg" => "image/svg+xml",
    "robots.txt" => "text/plain; charset=utf-8",
    "vendor/htmx.min.js" => "text/javascript; charset=utf-8",
    "vendor/sse.js" => "text/javascript; charset=utf-8",
}

/// A short content hash, so a new build is never served from a stale cache.
fn etag(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("\"{}\"", &hex::encode(sha2::Sha256::digest(bytes))[..16])
}

pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((_, ct, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let tag = etag(bytes);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == tag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut r = (*bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    r
}
