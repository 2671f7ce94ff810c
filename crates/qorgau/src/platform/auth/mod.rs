//! Who is calling: sessions (cookie) and personal API tokens (Bearer), both stored only as
//! SHA-256 hashes so a database dump holds no usable credential.

pub mod cache;
pub mod password;
pub mod throttle;
pub mod totp;

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::args;
use crate::platform::access::{Principal, Role, Scope, Via};
use crate::platform::db::{Db, DbResult, Row};
use crate::platform::time::Ts;

pub const SESSION_COOKIE: &str = "qorgau_session";

/// A fresh random secret, URL-safe.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// An account's stored interface preferences.
#[derive(Clone, Debug, Default)]
pub struct AccountPrefs {
    pub lang: Option<String>,
    pub size: Option<i64>,
    pub scheme: Option<String>,
    pub images: Option<String>,
}

/// The resolved caller, put into request extensions by the context middleware.
#[derive(Clone, Debug)]
pub struct Auth {
    pub principal: Principal,
    pub prefs: AccountPrefs,
    /// A role that must use a second factor and has not enrolled one yet.
    pub totp_pending: bool,
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, tok) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| tok.trim())
}

/// A stable, non-reversible name for the credential a request carries (for idempotency keys).
pub fn credential_scope(headers: &HeaderMap) -> String {
    if let Some(t) = bearer(headers) {
        sha256_hex(&format!("t:{t}"))
    } else if let Some(s) = cookie_value(headers, SESSION_COOKIE) {
        sha256_hex(&format!("s:{s}"))
    } else {
        "anonymous".into()
    }
}

const BY_SESSION: &str = "SELECT u.id, u.username, u.role, u.scope_kind, u.scope_id, u.person_id, u.lang, u.pref_size, u.pref_scheme, u.pref_images, u.totp_enrolled, s.last_seen_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.disabled_at IS NULL";
const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1";
const BY_TOKEN: &str = "SELECT u.id, u.username, u.role, u.scope_kind, u.scope_id, u.person_id, u.lang, u.pref_size, u.pref_scheme, u.pref_images, u.totp_enrolled, t.id AS token_id, t.read_only, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL";
const TOUCH_TOKEN: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";

fn auth_from_row(r: &Row, via: Via) -> DbResult<Option<Auth>> {
    let Some(role) = Role::parse(&r.get::<String>("role")?) else {
        return Ok(None);
    };
    let scope_kind: String = r.get("scope_kind")?;
    let scope_id: Option<String> = r.get("scope_id")?;
    let Some(scope) = Scope::from_parts(&scope_kind, scope_id.as_deref()) else {
        return Ok(None);
    };
    let enrolled: bool = r.get("totp_enrolled")?;
    Ok(Some(Auth {
        principal: Principal {
            user_id: r.get("id")?,
            username: r.get("username")?,
            role,
            scope,
            person_id: r.get("person_id")?,
            via,
        },
        prefs: AccountPrefs {
            lang: r.get("lang")?,
            size: r.get("pref_size")?,
            scheme: r.get("pref_scheme")?,
            images: r.get("pref_images")?,
        },
        totp_pending: role.requires_totp() && !enrolled,
    }))
}

/// Writing `last_seen` on every request would make each read a write; once a minute is enough.
const TOUCH_EVERY_MICROS: i64 = 60_000_000;

/// Resolves the request's credential, if any. Expired or revoked ones resolve to nobody. A
/// credential seen in the last [`cache::TTL`] is answered from `cache` (see there for why that
/// stays correct).
pub async fn resolve(
    db: &Db,
    cache: &cache::SessionCache,
    headers: &HeaderMap,
    idle_secs: i64,
) -> DbResult<Option<Auth>> {
    let now = Ts::now();
    let (key, lookup) = if let Some(tok) = bearer(headers) {
        (format!("t:{}", sha256_hex(tok)), Lookup::Token)
    } else if let Some(raw) = cookie_value(headers, SESSION_COOKIE) {
        let id_hash = sha256_hex(raw);
        (format!("s:{id_hash}"), Lookup::Session(id_hash))
    } else {
        return Ok(None);
    };
    if let Some(hit) = cache.get(&key)
        && hit.usable(now, idle_secs)
    {
        return Ok(Some(hit.auth));
    }
    let generation = cache.generation();
    let found = match lookup {
        Lookup::Token => resolve_token(db, &key[2..], now).await?,
        Lookup::Session(id_hash) => resolve_session(db, id_hash, now, idle_secs).await?,
    };
    Ok(found.map(|c| {
        let auth = c.auth.clone();
        cache.store(generation, key, c);
        auth
    }))
}

enum Lookup {
    Token,
    Session(String),
}

async fn resolve_token(db: &Db, token_hash: &str, now: Ts) -> DbResult<Option<cache::Cached>> {
    let Some(r) = db.fetch_optional(BY_TOKEN, args![token_hash]).await? else {
        return Ok(None);
    };
    let id: Uuid = r.get("token_id")?;
    let read_only: bool = r.get("read_only")?;
    let last = r.opt_ts("last_used_at")?;
    if last.is_none_or(|t| now.micros() - t.micros() > TOUCH_EVERY_MICROS) {
        db.execute(TOUCH_TOKEN, args![id, now]).await?;
    }
    Ok(
        auth_from_row(&r, Via::Token { id, read_only })?.map(|auth| cache::Cached {
            auth,
            expires_at: None,
            last_seen: None,
        }),
    )
}

async fn resolve_session(
    db: &Db,
    id_hash: String,
    now: Ts,
    idle_secs: i64,
) -> DbResult<Option<cache::Cached>> {
    let Some(r) = db
        .fetch_optional(BY_SESSION, args![&id_hash, now, now.add_secs(-idle_secs)])
        .await?
    else {
        return Ok(None);
    };
    let mut last = r.ts("last_seen_at")?;
    let expires_at = r.ts("expires_at")?;
    if now.micros() - last.micros() > TOUCH_EVERY_MICROS {
        db.execute(TOUCH_SESSION, args![&id_hash, now]).await?;
        last = now;
    }
    Ok(
        auth_from_row(&r, Via::Session { id_hash })?.map(|auth| cache::Cached {
            auth,
            expires_at: Some(expires_at),
            last_seen: Some(last),
        }),
    )
}

const NEW_SESSION: &str = "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)";

/// Starts a session; returns the cookie value (the only copy of the secret).
pub async fn start_session(
    tx: &mut crate::platform::db::Tx,
    user: Uuid,
    max_hours: i64,
) -> DbResult<String> {
    let token = random_token();
    let now = Ts::now();
    tx.execute(
        NEW_SESSION,
        args![
            sha256_hex(&token),
            user,
            now,
            now.add_secs(max_hours * 3600)
        ],
    )
    .await?;
    Ok(token)
}

pub async fn end_session(db: &Db, id_hash: &str) -> DbResult<()> {
    db.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1",
        args![id_hash, Ts::now()],
    )
    .await
    .map(|_| ())
}

/// `Set-Cookie` for a session cookie; an empty value with max-age 0 clears it.
pub fn session_cookie(value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}
