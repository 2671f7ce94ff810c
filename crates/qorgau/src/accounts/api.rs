//! Account JSON routes.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::model::*;
use crate::accounts::store;
use crate::platform::access::{Action, Principal, Role, ScopeKind};
use crate::platform::audit::{self, Entry};
use crate::platform::auth;
use crate::platform::error::{AppError, AppResult};
use crate::platform::extract::{Json, LateJson, PageQuery, Paged, Query};
use crate::platform::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(login, logout, me, my_access_log, list_tokens, create_token, revoke_token, list_users,
        create_user, get_user, user_reset_link, user_disable),
    components(schemas(Account, LoginInput, NewAccount, NewToken, TokenInfo, CreatedToken, ResetLink,
        Me, Disable, CreatedAccount, Role, ScopeKind)),
    tags((name = "accounts", description = "Log in, own account, API tokens, account administration"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/access-log", get(my_access_log))
        .route("/api/v1/me/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/me/tokens/{id}", delete(revoke_token))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user))
        .route("/api/v1/users/{id}/reset-link", post(user_reset_link))
        .route("/api/v1/users/{id}/disable", post(user_disable))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub scope_kind: ScopeKind,
    pub scope_id: Option<String>,
    pub person_id: Option<Uuid>,
    /// Actions this account may take (`people.view`, ...).
    pub actions: Vec<String>,
}

/// Logs in and sets the same session cookie as the login page.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginInput, security(()),
    responses((status = 200, body = Me), (status = 401, body = crate::platform::error::ProblemBody),
        (status = 429, body = crate::platform::error::ProblemBody)))]
pub async fn login(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(input): Json<LoginInput>,
) -> AppResult<Response> {
    let done = store::login(&st, &input, addr.ip()).await?;
    let acc = store::by_id(&st.db, done.user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let cookie = auth::session_cookie(&done.cookie, st.cfg.cookies_secure(), None);
    let me = Me {
        id: acc.id,
        username: acc.username,
        role: acc.role,
        scope_kind: acc.scope_kind,
        scope_id: acc.scope_id,
        person_id: acc.person_id,
        actions: actions(acc.role),
    };
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(me)).into_response())
}

fn actions(role: Role) -> Vec<String> {
    Action::ALL
        .into_iter()
        .filter(|a| crate::platform::access::grants(role, *a))
        .map(|a| a.code().to_owned())
        .collect()
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204), (status = 401, body = crate::platform::error::ProblemBody)))]
pub async fn logout(State(st): State<AppState>, p: Principal) -> AppResult<Response> {
    store::logout(&st, &p).await?;
    let clear = auth::session_cookie("", st.cfg.cookies_secure(), Some(0));
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, body = crate::platform::error::ProblemBody)))]
pub async fn me(p: Principal) -> axum::Json<Me> {
    axum::Json(Me {
        id: p.user_id,
        username: p.username.clone(),
        role: p.role,
        scope_kind: p.scope.kind(),
        scope_id: p.scope.id_text(),
        person_id: p.person_id,
        actions: actions(p.role),
    })
}

/// Every recorded access to the caller's own personal data: who, when, why.
#[utoipa::path(get, path = "/api/v1/me/access-log", tag = "accounts", params(PageQuery),
    responses((status = 200, body = Paged<Entry>), (status = 401, body = crate::platform::error::ProblemBody)))]
pub async fn my_access_log(
    State(st): State<AppState>,
    p: Principal,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Entry>>> {
    let limit = page.limit()?;
    let before = page
        .after()?
        .map(|c| c.parse::<i64>())
        .transpose()
        .map_err(|_| AppError::field("cursor", "err-invalid"))?;
    let Some(person) = p.person_id else {
        return Ok(axum::Json(Paged {
            items: vec![],
            next_cursor: None,
        }));
    };
    let f = audit::Filter {
        subject: Some(person),
        before,
        ..Default::default()
    };
    let items = audit::list(&st.db, &f, limit + 1).await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |e| {
        e.seq.to_string()
    })))
}

#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "accounts",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = crate::platform::error::ProblemBody)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    p: Principal,
) -> AppResult<axum::Json<Vec<TokenInfo>>> {
    Ok(axum::Json(store::tokens(&st.db, p.user_id).await?))
}

/// A personal API token for an integration; the secret is shown once.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "accounts", request_body = NewToken,
    params(("Idempotency-Key" = Option<String>, Header, description = "retries with the same key return the first answer")),
    responses((status = 201, body = CreatedToken), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn create_token(
    State(st): State<AppState>,
    p: Principal,
    Json(input): Json<NewToken>,
) -> AppResult<(StatusCode, axum::Json<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(store::create_token(&st, &p, &input).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn revoke_token(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    store::revoke_token(&st, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Part of a username.
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", params(UserFilter, PageQuery),
    responses((status = 200, body = Paged<Account>), (status = 403, body = crate::platform::error::ProblemBody)))]
pub async fn list_users(
    State(st): State<AppState>,
    p: Principal,
    Query(f): Query<UserFilter>,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Account>>> {
    p.require(Action::AccountsManage)?;
    let limit = page.limit()?;
    let after = page.after()?;
    let items = store::list(&st.db, after.as_deref(), f.q.as_deref(), limit + 1).await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |a| {
        a.username.clone()
    })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedAccount {
    pub account: Account,
    /// One-time link for the new user to set a password (24 h).
    pub reset_link: String,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewAccount,
    params(("Idempotency-Key" = Option<String>, Header, description = "retries with the same key return the first answer")),
    responses((status = 201, body = CreatedAccount), (status = 403, body = crate::platform::error::ProblemBody),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn create_user(
    State(st): State<AppState>,
    p: Principal,
    input: LateJson<NewAccount>,
) -> AppResult<(StatusCode, axum::Json<CreatedAccount>)> {
    p.require(Action::AccountsManage)?;
    let input = input.0?;
    let (account, reset_link) = store::admin_create(&st, &p, &input).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedAccount {
            account,
            reset_link,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = 200, body = Account), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn get_user(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Account>> {
    p.require(Action::AccountsManage)?;
    Ok(axum::Json(
        store::by_id(&st.db, id).await?.ok_or(AppError::NotFound)?,
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/reset-link", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = 201, body = ResetLink), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn user_reset_link(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<(StatusCode, axum::Json<ResetLink>)> {
    p.require(Action::AccountsManage)?;
    let path = store::admin_reset_link(&st, &p, id).await?;
    Ok((StatusCode::CREATED, axum::Json(ResetLink { path })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Disable {
    pub disabled: bool,
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "accounts", params(("id" = Uuid, Path)), request_body = Disable,
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody), (status = 409, body = crate::platform::error::ProblemBody)))]
pub async fn user_disable(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    d: LateJson<Disable>,
) -> AppResult<StatusCode> {
    p.require(Action::AccountsManage)?;
    let d = d.0?;
    store::admin_set_disabled(&st, &p, id, d.disabled).await?;
    Ok(StatusCode::NO_CONTENT)
}
