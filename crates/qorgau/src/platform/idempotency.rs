//! `Idempotency-Key` on API POSTs: a retry with the same key and body gets the first answer; the
//! same key with another body gets 422; a retry while the first is still running gets 409.
//!
//! Keys are scoped to the credential that sent them (a hash of it), so two callers cannot see each
//! other's answers. Only successful answers are kept: a refused request can simply be sent again.
//! A capability whose creations must be exactly-once across a crash between its commit and this
//! record (alarms, reports) also stores the key in its own row, inside its own transaction.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::args;
use crate::platform::auth::credential_scope;
use crate::platform::error::AppError;
use crate::platform::state::AppState;
use crate::platform::time::Ts;

const CLAIM: &str = "INSERT INTO idempotency (scope, key, request_hash, status, content_type, body, created_at) VALUES ($1, $2, $3, 0, '', $4, $5) ON CONFLICT DO NOTHING";
const GET: &str = "SELECT request_hash, status, content_type, body, created_at FROM idempotency WHERE scope = $1 AND key = $2";
const DONE: &str = "UPDATE idempotency SET status = $3, content_type = $4, body = $5 WHERE scope = $1 AND key = $2";
const DROP: &str = "DELETE FROM idempotency WHERE scope = $1 AND key = $2";
const DROP_STALE: &str =
    "DELETE FROM idempotency WHERE scope = $1 AND key = $2 AND status = 0 AND created_at < $3";

/// A claim not completed within this time belongs to a request that died.
const STALE_SECS: i64 = 60;

/// Routes whose handler is exactly-once by itself: the key goes into the created row's own unique
/// column in the same transaction, and a retry answers with the stored row (a different body
/// under the same key gets 422 there too). The generic record would add two flushed writes
/// outside the group commit to paths that must be fast (bench/issue5.sh: named reports went from
/// a tenth of the raw insert rate to ...), and a claim left by a process killed mid-request
/// would hold a panic button's retries off for a minute.
const SELF_DEDUPLICATING: &[&str] = &["/api/v1/alarms", "/api/v1/reports"];

fn valid_key(k: &str) -> bool {
    (1..=255).contains(&k.len()) && k.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

pub async fn layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() != Method::POST
        || !path.starts_with("/api/")
        || path.starts_with("/api/v1/auth/")
        || SELF_DEDUPLICATING.contains(&path)
        // Its answer holds an anonymous reporter's receipt, which must never be stored.
        || path.starts_with("/api/v1/reports/anonymous")
    {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get("idempotency-key") else {
        return next.run(req).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(str::to_owned)
    else {
        return AppError::field("Idempotency-Key", "err-invalid").into_response();
    };
    match run(&st, key, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(st: &AppState, key: String, req: Request, next: Next) -> Result<Response, AppError> {
    let scope = credential_scope(req.headers());
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, st.cfg.max_body)
        .await
        .map_err(|_| AppError::TooLarge)?;
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update([0]);
    h.update(parts.uri.path());
    h.update([0]);
    h.update(&bytes);
    let request_hash = hex::encode(h.finalize());

    let now = Ts::now();
    st.db
        .execute(DROP_STALE, args![&scope, &key, now.add_secs(-STALE_SECS)])
        .await?;
    let claimed = st
        .db
        .execute(
            CLAIM,
            args![&scope, &key, &request_hash, Vec::<u8>::new(), now],
        )
        .await?;
    if claimed == 0 {
        let row = st.db.fetch_one(GET, args![&scope, &key]).await?;
        if row.get::<String>("request_hash")? != request_hash {
            return Err(AppError::IdempotencyMismatch);
        }
        let status: i64 = row.get("status")?;
        if status == 0 {
            return Err(AppError::IdempotencyInProgress);
        }
        let mut res = Response::new(Body::from(row.get::<Vec<u8>>("body")?));
        *res.status_mut() = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        if let Ok(ct) = HeaderValue::from_str(&row.get::<String>("content_type")?) {
            res.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(res);
    }

    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if !res.status().is_success() {
        st.db.execute(DROP, args![&scope, &key]).await?;
        return Ok(res);
    }
    let (rparts, rbody) = res.into_parts();
    let rbytes = to_bytes(rbody, 16 * 1024 * 1024)
        .await
        .map_err(|e| AppError::Internal(format!("buffering response: {e}")))?;
    let ct = rparts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    st.db
        .execute(
            DONE,
            args![
                &scope,
                &key,
                i64::from(rparts.status.as_u16()),
                ct,
                rbytes.to_vec()
            ],
        )
        .await?;
    Ok(Response::from_parts(rparts, Body::from(rbytes)))
}
