//! Accounts SQL and the login rules.

use std::net::IpAddr;

use uuid::Uuid;

use crate::accounts::model::*;
use crate::args;
use crate::platform::access::{Principal, Role, Scope, ScopeKind};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::auth::{self, password, sha256_hex, totp};
use crate::platform::db::{Db, DbResult, Row, Tx};
use crate::platform::error::{AppError, AppResult};
use crate::platform::state::AppState;
use crate::platform::time::Ts;

fn account(r: &Row) -> DbResult<Account> {
    let role: String = r.get("role")?;
    let kind: String = r.get("scope_kind")?;
    Ok(Account {
        id: r.get("id")?,
        username: r.get("username")?,
        role: Role::parse(&role).unwrap_or(Role::Worker),
        scope_kind: ScopeKind::parse(&kind).unwrap_or(ScopeKind::Own),
        scope_id: r.get("scope_id")?,
        person_id: r.get("person_id")?,
        lang: r.get("lang")?,
        totp_enrolled: r.get("totp_enrolled")?,
        disabled: r.get::<Option<i64>>("disabled_at")?.is_some(),
    })
}

pub async fn by_id(db: &Db, id: Uuid) -> DbResult<Option<Account>> {
    db.fetch_optional("SELECT * FROM users WHERE id = $1", args![id])
        .await?
        .as_ref()
        .map(account)
        .transpose()
}

pub async fn list(
    db: &Db,
    after: Option<&str>,
    q: Option<&str>,
    limit: i64,
) -> DbResult<Vec<Account>> {
    let like = q
        .map(|s| s.trim().to_lowercase().replace(['%', '_'], ""))
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{s}%"));
    db.fetch_all(
        "SELECT * FROM users WHERE ($1 IS NULL OR username > $1) AND ($2 IS NULL OR username LIKE $2) ORDER BY username LIMIT $3",
        args![after, like, limit],
    )
    .await?
    .iter()
    .map(account)
    .collect()
}

const NEW_USER: &str = "INSERT INTO users (id, username, password_hash, role, scope_kind, scope_id, person_id, totp_secret, totp_enrolled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Creates an account. With no password, the account cannot log in until a reset link is used.
pub async fn insert(
    tx: &mut Tx,
    username: &str,
    role: Role,
    scope: &Scope,
    person: Option<Uuid>,
    password_hash: &str,
    totp_secret: Option<&str>,
) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    tx.execute(
        NEW_USER,
        args![
            id,
            username,
            password_hash,
            role.code(),
            scope.kind().code(),
            scope.id_text(),
            person,
            totp_secret,
            totp_secret.is_some(),
            Ts::now()
        ],
    )
    .await?;
    Ok(id)
}

/// A hash no password matches: the account waits for its reset link.
pub const NO_PASSWORD: &str = "!";

pub async fn create_reset_link(tx: &mut Tx, user: Uuid, by: Option<Uuid>) -> DbResult<String> {
    let token = auth::random_token();
    tx.execute(
        "INSERT INTO reset_tokens (token_hash, user_id, created_by, expires_at) VALUES ($1, $2, $3, $4)",
        args![sha256_hex(&token), user, by, Ts::now().add_secs(24 * 3600)],
    )
    .await?;
    Ok(format!("/reset/{token}"))
}

/// For `qorgau user add`.
pub async fn create_user_cli(
    db: &Db,
    username: &str,
    role: Role,
    scope: &Scope,
    password: Option<&str>,
) -> AppResult<String> {
    let mut c = crate::platform::validate::Check::new();
    let input = NewAccount {
        username: username.into(),
        role: role.code().into(),
        scope_kind: scope.kind().code().into(),
        scope_id: scope.id_text(),
        person_id: None,
    };
    input.check(&mut c);
    c.errors.retain(|e| e.field != "person_id");
    if let Some(p) = password
        && let Some(code) = password::check_new(p)
    {
        c.fail("password", code);
    }
    c.done()?;
    let hash = match password {
        Some(p) => password::hash(p)?,
        None => NO_PASSWORD.to_owned(),
    };
    let mut tx = db.begin().await?;
    let id = insert(
        &mut tx,
        &username.to_lowercase(),
        role,
        scope,
        None,
        &hash,
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &Actor::system(),
        Event::new("account.create", "user", id)
            .detail(serde_json::json!({"role": role.code(), "via": "cli"})),
    )
    .await?;
    let out = if password.is_some() {
        format!("created {username} ({})", role.code())
    } else {
        let link = create_reset_link(&mut tx, id, None).await?;
        format!(
            "created {username} ({}); set a password at {link}",
            role.code()
        )
    };
    tx.commit().await?;
    Ok(out)
}

#[derive(Debug)]
pub struct LoggedIn {
    pub user_id: Uuid,
    pub cookie: String,
}

const FIND: &str = "SELECT id, password_hash, role, totp_secret, totp_enrolled, totp_last_step, failed_logins, locked_until, disabled_at FROM users WHERE username = $1";

/// Checks a login; on success starts a session. Failures are counted per address (memory) and
/// per account (database, with a growing lock), and all look alike to the caller.
pub async fn login(st: &AppState, input: &LoginInput, addr: IpAddr) -> AppResult<LoggedIn> {
    if let Some(wait) = st.login_throttle.blocked(&addr) {
        return Err(AppError::TooMany { retry_after: wait });
    }
    let username = input.username.trim().to_lowercase();
    if username.is_empty() || input.password.is_empty() || input.password.len() > password::MAX_LEN
    {
        st.login_throttle.fail(addr);
        return Err(AppError::Unauthenticated);
    }
    let now = Ts::now();
    let Some(r) = st.db.fetch_optional(FIND, args![&username]).await? else {
        password::verify_async(input.password.clone(), None).await;
        st.login_throttle.fail(addr);
        return Err(AppError::Unauthenticated);
    };
    let id: Uuid = r.get("id")?;
    if let Some(until) = r.opt_ts("locked_until")?
        && until > now
    {
        st.login_throttle.fail(addr);
        let wait = (until.micros() - now.micros()) / 1_000_000;
        return Err(AppError::TooMany {
            retry_after: wait.max(1) as u64,
        });
    }
    let hash: String = r.get("password_hash")?;
    let pw_ok = password::verify_async(input.password.clone(), Some(hash)).await;
    let disabled = r.get::<Option<i64>>("disabled_at")?.is_some();
    let enrolled: bool = r.get("totp_enrolled")?;
    let mut step_ok = None;
    if pw_ok && enrolled {
        let secret: Option<String> = r.get("totp_secret")?;
        let last: Option<i64> = r.get("totp_last_step")?;
        step_ok = secret
            .as_deref()
            .and_then(|s| totp::check(s, &input.totp))
            .and_then(|step| i64::try_from(step).ok())
            // A code is good once: a replayed one is refused.
            .filter(|step| last.is_none_or(|l| *step > l));
    }
    let ok = pw_ok && !disabled && (!enrolled || step_ok.is_some());
    if !ok {
        st.login_throttle.fail(addr);
        let failed: i64 = r.get::<i64>("failed_logins")? + 1;
        let lock = (failed >= 5).then(|| {
            let minutes = 1i64 << (failed - 5).min(4);
            now.add_secs(minutes.min(15) * 60)
        });
        let mut tx = st.db.begin().await?;
        tx.execute(
            "UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1",
            args![id, failed, lock],
        )
        .await?;
        audit::append(
            &mut tx,
            &Actor {
                id: Some(id),
                label: username.clone(),
            },
            Event::new("login.failed", "user", id),
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::Unauthenticated);
    }
    let mut tx = st.db.begin().await?;
    tx.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, totp_last_step = COALESCE($2, totp_last_step) WHERE id = $1",
        args![id, step_ok],
    )
    .await?;
    let cookie = auth::start_session(&mut tx, id, st.cfg.session_max_hours).await?;
    audit::append(
        &mut tx,
        &Actor {
            id: Some(id),
            label: username,
        },
        Event::new("login", "user", id),
    )
    .await?;
    tx.commit().await?;
    st.login_throttle.clear(&addr);
    Ok(LoggedIn {
        user_id: id,
        cookie,
    })
}

pub async fn logout(st: &AppState, p: &Principal) -> AppResult<()> {
    if let crate::platform::access::Via::Session { id_hash } = &p.via {
        auth::end_session(&st.db, id_hash).await?;
        audit::record(
            &st.db,
            &Actor::of(p),
            Event::new("logout", "user", p.user_id),
        )
        .await?;
    }
    Ok(())
}

pub async fn tokens(db: &Db, user: Uuid) -> DbResult<Vec<TokenInfo>> {
    db.fetch_all(
        "SELECT id, name, read_only, created_at, last_used_at FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at",
        args![user],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TokenInfo {
            id: r.get("id")?,
            name: r.get("name")?,
            read_only: r.get("read_only")?,
            created_at: r.ts("created_at")?,
            last_used_at: r.opt_ts("last_used_at")?,
        })
    })
    .collect()
}

pub async fn create_token(
    st: &AppState,
    p: &Principal,
    input: &NewToken,
) -> AppResult<CreatedToken> {
    let mut c = crate::platform::validate::Check::new();
    let name = c.text("name", &input.name, 1, 100);
    let read_only = match input
        .scopes
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["all"] => false,
        ["read"] | [] => true,
        _ => {
            c.fail("scopes", "err-choice");
            true
        }
    };
    c.done()?;
    let token = format!("qrg_{}", auth::random_token());
    let id = Uuid::now_v7();
    let mut tx = st.db.begin().await?;
    tx.execute(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, read_only, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        args![id, p.user_id, name, sha256_hex(&token), read_only, Ts::now()],
    )
    .await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("token.create", "api_token", id),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken { id, token })
}

pub async fn revoke_token(st: &AppState, p: &Principal, id: Uuid) -> AppResult<()> {
    let mut tx = st.db.begin().await?;
    let n = tx
        .execute(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            args![id, p.user_id, Ts::now()],
        )
        .await?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("token.revoke", "api_token", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Uses a reset link: sets the password and ends every session of the account.
pub async fn use_reset_link(db: &Db, token: &str, new_password: &str) -> AppResult<()> {
    if let Some(code) = password::check_new(new_password) {
        return Err(AppError::field("password", code));
    }
    let now = Ts::now();
    let hash = password::hash(new_password)?;
    let mut tx = db.begin().await?;
    let Some(r) = tx
        .fetch_optional(
            "SELECT user_id FROM reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            args![sha256_hex(token), now],
        )
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let user: Uuid = r.get("user_id")?;
    tx.execute(
        "UPDATE reset_tokens SET used_at = $2 WHERE token_hash = $1",
        args![sha256_hex(token), now],
    )
    .await?;
    tx.execute(
        "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1",
        args![user, hash],
    )
    .await?;
    tx.execute(
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        args![user, now],
    )
    .await?;
    audit::append(
        &mut tx,
        &Actor {
            id: Some(user),
            label: "reset-link".into(),
        },
        Event::new("password.reset", "user", user),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn reset_link_valid(db: &Db, token: &str) -> DbResult<bool> {
    Ok(db
        .fetch_optional(
            "SELECT user_id FROM reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            args![sha256_hex(token), Ts::now()],
        )
        .await?
        .is_some())
}

/// Saves one interface preference on the account.
pub async fn save_pref(db: &Db, user: Uuid, kind: &str, value: &str) -> DbResult<()> {
    let sql = match kind {
        "lang" => "UPDATE users SET lang = $2 WHERE id = $1",
        "scheme" => "UPDATE users SET pref_scheme = $2 WHERE id = $1",
        "images" => "UPDATE users SET pref_images = $2 WHERE id = $1",
        _ => return Ok(()),
    };
    db.execute(sql, args![user, value]).await.map(|_| ())
}

pub async fn save_size(db: &Db, user: Uuid, size: u8) -> DbResult<()> {
    db.execute(
        "UPDATE users SET pref_size = $2 WHERE id = $1",
        args![user, i64::from(size)],
    )
    .await
    .map(|_| ())
}

/// Starts (or restarts) second-factor enrolment; returns the secret to show.
pub async fn begin_totp(db: &Db, user: Uuid) -> DbResult<String> {
    let r = db
        .fetch_one(
            "SELECT totp_secret, totp_enrolled FROM users WHERE id = $1",
            args![user],
        )
        .await?;
    let existing: Option<String> = r.get("totp_secret")?;
    let enrolled: bool = r.get("totp_enrolled")?;
    if let (Some(s), false) = (existing, enrolled) {
        return Ok(s);
    }
    let secret = totp::new_secret();
    db.execute(
        "UPDATE users SET totp_secret = $2, totp_enrolled = $3 WHERE id = $1 AND totp_enrolled = $3",
        args![user, &secret, false],
    )
    .await?;
    Ok(secret)
}

pub async fn confirm_totp(db: &Db, p: &Principal, code: &str) -> AppResult<()> {
    let r = db
        .fetch_one(
            "SELECT totp_secret, totp_enrolled FROM users WHERE id = $1",
            args![p.user_id],
        )
        .await?;
    let secret: Option<String> = r.get("totp_secret")?;
    let Some(step) = secret.as_deref().and_then(|s| totp::check(s, code)) else {
        return Err(AppError::field("totp", "err-totp"));
    };
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE users SET totp_enrolled = $2, totp_last_step = $3 WHERE id = $1",
        args![p.user_id, true, i64::try_from(step).unwrap_or(0)],
    )
    .await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("totp.enrol", "user", p.user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn totp_state(db: &Db, user: Uuid) -> DbResult<(Option<String>, bool)> {
    let r = db
        .fetch_one(
            "SELECT totp_secret, totp_enrolled FROM users WHERE id = $1",
            args![user],
        )
        .await?;
    Ok((r.get("totp_secret")?, r.get("totp_enrolled")?))
}

/// An administrator creates an account; it starts without a password and with a reset link.
pub async fn admin_create(
    st: &AppState,
    p: &Principal,
    input: &NewAccount,
) -> AppResult<(Account, String)> {
    let mut c = crate::platform::validate::Check::new();
    let parsed = input.check(&mut c);
    c.done()?;
    let Some((username, role, scope)) = parsed else {
        return Err(AppError::field("role", "err-choice"));
    };
    if let Some(person) = input.person_id
        && crate::directory::store::person_by_id(&st.db, person)
            .await?
            .is_none()
    {
        return Err(AppError::field("person_id", "err-choice"));
    }
    let mut tx = st.db.begin().await?;
    let id = match insert(
        &mut tx,
        &username,
        role,
        &scope,
        input.person_id,
        NO_PASSWORD,
        None,
    )
    .await
    {
        Ok(id) => id,
        Err(e) if e.is_unique_violation() => return Err(AppError::field("username", "err-taken")),
        Err(e) => return Err(e.into()),
    };
    let link = create_reset_link(&mut tx, id, Some(p.user_id)).await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("account.create", "user", id)
            .detail(serde_json::json!({"role": role.code(), "scope": scope.kind().code()})),
    )
    .await?;
    tx.commit().await?;
    let acc = by_id(&st.db, id).await?.ok_or(AppError::NotFound)?;
    Ok((acc, link))
}

pub async fn admin_reset_link(st: &AppState, p: &Principal, user: Uuid) -> AppResult<String> {
    by_id(&st.db, user).await?.ok_or(AppError::NotFound)?;
    let mut tx = st.db.begin().await?;
    let link = create_reset_link(&mut tx, user, Some(p.user_id)).await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new("account.reset-link", "user", user),
    )
    .await?;
    tx.commit().await?;
    Ok(link)
}

pub async fn admin_set_disabled(
    st: &AppState,
    p: &Principal,
    user: Uuid,
    disabled: bool,
) -> AppResult<()> {
    by_id(&st.db, user).await?.ok_or(AppError::NotFound)?;
    if user == p.user_id && disabled {
        return Err(AppError::Conflict("cannot-disable-self"));
    }
    let now = Ts::now();
    let mut tx = st.db.begin().await?;
    tx.execute(
        "UPDATE users SET disabled_at = $2 WHERE id = $1",
        args![user, disabled.then_some(now)],
    )
    .await?;
    if disabled {
        tx.execute(
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            args![user, now],
        )
        .await?;
        tx.execute(
            "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            args![user, now],
        )
        .await?;
    }
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new(
            if disabled {
                "account.disable"
            } else {
                "account.enable"
            },
            "user",
            user,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
