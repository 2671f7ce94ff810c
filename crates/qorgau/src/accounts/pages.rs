//! Account pages: login, logout, preferences, second factor, tokens, reset links, and the
//! administrators' account list.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use crate::accounts::model::*;
use crate::accounts::store;
use crate::platform::access::{Action, Principal, Role};
use crate::platform::audit::{self, Entry};
use crate::platform::auth::{self, totp};
use crate::platform::error::{AppError, AppResult, FieldError, translate_errors};
use crate::platform::extract::{Form, Query};
use crate::platform::i18n::Lang;
use crate::platform::state::AppState;
use crate::platform::web::{
    Ctx, IMAGES_COOKIE, LANG_COOKIE, PageCtx, Prefs, SCHEME_COOKIE, SIZE_COOKIE, Scheme, render,
    render_status, safe_next,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/prefs/{kind}/{value}", get(set_pref))
        .route("/account", get(account_page))
        .route("/account/totp", get(totp_page).post(totp_submit))
        .route("/account/tokens", post(token_create))
        .route("/account/tokens/{id}/revoke", post(token_revoke))
        .route("/reset/{token}", get(reset_page).post(reset_submit))
        .route("/admin/users", get(users_page).post(users_create))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/reset-link", post(user_reset))
        .route("/admin/users/{id}/disable", post(user_disable))
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    page: PageCtx,
    username: String,
    next: String,
    error: Option<String>,
}

async fn login_page(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.auth.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    render(&LoginPage {
        page: PageCtx::new(&ctx, "login-title"),
        username: String::new(),
        next: safe_next(q.next.as_deref()),
        error: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    totp: String,
    next: String,
}

async fn login_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let input = LoginInput {
        username: f.username.clone(),
        password: f.password,
        totp: f.totp,
    };
    let next = safe_next(Some(&f.next));
    match store::login(&st, &input, addr.ip()).await {
        Ok(done) => {
            let cookie = auth::session_cookie(&done.cookie, st.cfg.cookies_secure(), None);
            let mut r = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            let (status, msg) = match e {
                AppError::TooMany { .. } => (StatusCode::TOO_MANY_REQUESTS, "login-throttled"),
                AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "login-failed"),
                other => return other.into_response(),
            };
            // 401 would be turned into a redirect to this very page: answer 200-class content
            // with the real status, as an HTML body of its own.
            render_status(
                status,
                &LoginPage {
                    page: PageCtx::new(&ctx, "login-title"),
                    username: f.username,
                    next,
                    error: Some(ctx.tr.t(msg)),
                },
            )
        }
    }
}

async fn logout(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if let Some(p) = ctx.principal() {
        store::logout(&st, p).await?;
    }
    let clear = auth::session_cookie("", st.cfg.cookies_secure(), Some(0));
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// Language and accessible-mode switches: plain links that work without JavaScript.
async fn set_pref(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((kind, value)): Path<(String, String)>,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let (cookie, value) = match kind.as_str() {
        "lang" => (
            LANG_COOKIE,
            Lang::parse(&value).map(|l| l.code().to_owned()),
        ),
        "size" => (
            SIZE_COOKIE,
            Prefs::parse_size(&value).map(|s| s.to_string()),
        ),
        "scheme" => (
            SCHEME_COOKIE,
            Scheme::parse(&value).map(|s| s.code().to_owned()),
        ),
        "images" => (
            IMAGES_COOKIE,
            Prefs::parse_images(&value).map(|_| value.clone()),
        ),
        _ => return Err(AppError::NotFound),
    };
    let value = value.ok_or(AppError::NotFound)?;
    if let Some(p) = ctx.principal() {
        if kind == "size" {
            store::save_size(&st.db, p.user_id, value.parse().unwrap_or(1)).await?;
        } else {
            store::save_pref(&st.db, p.user_id, &kind, &value).await?;
        }
        // A GET that writes: the cached credentials carry the old preferences, and only
        // state-changing methods empty the cache on their own.
        st.sessions.clear();
    }
    let mut r = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    let secure = if st.cfg.cookies_secure() {
        "; Secure"
    } else {
        ""
    };
    let c = format!("{cookie}={value}; Path=/; Max-Age=31536000; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    page: PageCtx,
    username: String,
    role: String,
    totp_enrolled: bool,
    tokens: Vec<TokenInfo>,
    new_token: Option<String>,
    access: Vec<Entry>,
    has_person: bool,
    errors: Vec<FieldError>,
}

async fn account_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    new_token: Option<String>,
    errors: Vec<FieldError>,
) -> AppResult<AccountPage> {
    let (_, enrolled) = store::totp_state(&st.db, p.user_id).await?;
    let access = match p.person_id {
        Some(person) => {
            audit::list(
                &st.db,
                &audit::Filter {
                    subject: Some(person),
                    ..Default::default()
                },
                50,
            )
            .await?
        }
        None => vec![],
    };
    Ok(AccountPage {
        page: PageCtx::new(ctx, "account-title"),
        username: p.username.clone(),
        role: ctx.tr.t(&format!("role-{}", p.role.code())),
        totp_enrolled: enrolled,
        tokens: store::tokens(&st.db, p.user_id).await?,
        new_token,
        access,
        has_person: p.person_id.is_some(),
        errors,
    })
}

async fn account_page(State(st): State<AppState>, ctx: Ctx, p: Principal) -> AppResult<Response> {
    Ok(render(&account_view(&st, &ctx, &p, None, vec![]).await?))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    name: String,
    access: String,
}

async fn token_create(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(f): Form<TokenForm>,
) -> AppResult<Response> {
    let input = NewToken {
        name: f.name,
        scopes: vec![if f.access == "all" {
            "all".into()
        } else {
            "read".into()
        }],
    };
    match store::create_token(&st, &p, &input).await {
        Ok(t) => Ok(render(
            &account_view(&st, &ctx, &p, Some(t.token), vec![]).await?,
        )),
        Err(AppError::Validation(mut errs)) => {
            translate_errors(ctx.tr, &mut errs);
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &account_view(&st, &ctx, &p, None, errs).await?,
            ))
        }
        Err(e) => Err(e),
    }
}

async fn token_revoke(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    store::revoke_token(&st, &p, id).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Template)]
#[template(path = "accounts/totp.html")]
struct TotpPage {
    page: PageCtx,
    secret: String,
    url: String,
    enrolled: bool,
    error: Option<String>,
}

async fn totp_page(State(st): State<AppState>, ctx: Ctx, p: Principal) -> AppResult<Response> {
    let (_, enrolled) = store::totp_state(&st.db, p.user_id).await?;
    let secret = if enrolled {
        String::new()
    } else {
        store::begin_totp(&st.db, p.user_id).await?
    };
    let url = totp::url(&secret, &p.username).unwrap_or_default();
    Ok(render(&TotpPage {
        page: PageCtx::new(&ctx, "totp-title"),
        secret,
        url,
        enrolled,
        error: None,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TotpForm {
    totp: String,
}

async fn totp_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(f): Form<TotpForm>,
) -> AppResult<Response> {
    match store::confirm_totp(&st.db, &p, &f.totp).await {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(AppError::Validation(_)) => {
            let (secret, _) = store::totp_state(&st.db, p.user_id).await?;
            let secret = secret.unwrap_or_default();
            let url = totp::url(&secret, &p.username).unwrap_or_default();
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &TotpPage {
                    page: PageCtx::new(&ctx, "totp-title"),
                    secret,
                    url,
                    enrolled: false,
                    error: Some(ctx.tr.t("err-totp")),
                },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "accounts/reset.html")]
struct ResetPage {
    page: PageCtx,
    token: String,
    error: Option<String>,
}

async fn reset_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    if !store::reset_link_valid(&st.db, &token).await? {
        return Err(AppError::NotFound);
    }
    Ok(render(&ResetPage {
        page: PageCtx::new(&ctx, "reset-title"),
        token,
        error: None,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResetForm {
    password: String,
    confirm: String,
}

async fn reset_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(f): Form<ResetForm>,
) -> AppResult<Response> {
    let err = if f.password != f.confirm {
        Some("err-password-mismatch")
    } else {
        match store::use_reset_link(&st.db, &token, &f.password).await {
            Ok(()) => return Ok(Redirect::to("/login").into_response()),
            Err(AppError::Validation(e)) => {
                Some(if e.first().is_some_and(|e| e.code == "err-too-long") {
                    "err-too-long"
                } else {
                    "err-password-short"
                })
            }
            Err(e) => return Err(e),
        }
    };
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ResetPage {
            page: PageCtx::new(&ctx, "reset-title"),
            token,
            error: err.map(|e| ctx.tr.t(e)),
        },
    ))
}

#[derive(Template)]
#[template(path = "accounts/users.html")]
struct UsersPage {
    page: PageCtx,
    users: Vec<(Account, String)>,
    roles: Vec<(&'static str, String)>,
    form: NewAccountForm,
    errors: Vec<FieldError>,
    created_link: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct NewAccountForm {
    username: String,
    role: String,
    scope_kind: String,
    scope_id: String,
    person_id: String,
}

impl UsersPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

async fn users_view(
    st: &AppState,
    ctx: &Ctx,
    form: NewAccountForm,
    errors: Vec<FieldError>,
    created_link: Option<String>,
) -> AppResult<UsersPage> {
    let users = store::list(&st.db, None, None, 500).await?;
    let users = users
        .into_iter()
        .map(|a| {
            let r = ctx.tr.t(&format!("role-{}", a.role.code()));
            (a, r)
        })
        .collect();
    Ok(UsersPage {
        page: PageCtx::new(ctx, "users-title"),
        users,
        roles: Role::ALL
            .iter()
            .map(|r| (r.code(), ctx.tr.t(&format!("role-{}", r.code()))))
            .collect(),
        form,
        errors,
        created_link,
    })
}

async fn users_page(State(st): State<AppState>, ctx: Ctx, p: Principal) -> AppResult<Response> {
    p.require(Action::AccountsManage)?;
    Ok(render(
        &users_view(&st, &ctx, NewAccountForm::default(), vec![], None).await?,
    ))
}

async fn users_create(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(f): Form<NewAccountForm>,
) -> AppResult<Response> {
    p.require(Action::AccountsManage)?;
    let person_id = if f.person_id.trim().is_empty() {
        None
    } else {
        Uuid::parse_str(f.person_id.trim()).ok()
    };
    let input = NewAccount {
        username: f.username.clone(),
        role: f.role.clone(),
        scope_kind: f.scope_kind.clone(),
        scope_id: Some(f.scope_id.clone()).filter(|s| !s.trim().is_empty()),
        person_id,
    };
    let mut errs = vec![];
    if !f.person_id.trim().is_empty() && person_id.is_none() {
        errs.push(FieldError::new("person_id", "err-invalid"));
    }
    let result = if errs.is_empty() {
        store::admin_create(&st, &p, &input).await
    } else {
        Err(AppError::Validation(errs))
    };
    match result {
        Ok((_, link)) => Ok(render(
            &users_view(&st, &ctx, NewAccountForm::default(), vec![], Some(link)).await?,
        )),
        Err(AppError::Validation(mut errs)) => {
            translate_errors(ctx.tr, &mut errs);
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &users_view(&st, &ctx, f, errs, None).await?,
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "accounts/user.html")]
struct UserPage {
    page: PageCtx,
    account: Account,
    role: String,
    reset_link: Option<String>,
}

async fn user_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    p.require(Action::AccountsManage)?;
    let account = store::by_id(&st.db, id).await?.ok_or(AppError::NotFound)?;
    let role = ctx.tr.t(&format!("role-{}", account.role.code()));
    Ok(render(&UserPage {
        page: PageCtx::new(&ctx, "user-title"),
        account,
        role,
        reset_link: None,
    }))
}

async fn user_reset(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> AppResult<Response> {
    p.require(Action::AccountsManage)?;
    let link = store::admin_reset_link(&st, &p, id).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let scheme = if st.cfg.tls() { "https" } else { "http" };
    let account = store::by_id(&st.db, id).await?.ok_or(AppError::NotFound)?;
    let role = ctx.tr.t(&format!("role-{}", account.role.code()));
    Ok(render(&UserPage {
        page: PageCtx::new(&ctx, "user-title"),
        account,
        role,
        reset_link: Some(format!("{scheme}://{host}{link}")),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DisableForm {
    disabled: String,
}

async fn user_disable(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(f): Form<DisableForm>,
) -> AppResult<Response> {
    p.require(Action::AccountsManage)?;
    store::admin_set_disabled(&st, &p, id, f.disabled == "true").await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}
