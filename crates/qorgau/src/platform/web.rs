//! What every page and API response goes through: the caller's context (who, which language,
//! which accessible mode), the problem renderer, security headers, metrics, and the page layout.

use std::time::Instant;

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::platform::access::{Action, Principal, Via};
use crate::platform::auth::{self, Auth, cookie_value};
use crate::platform::error::{AppError, Problem, problem_json};
use crate::platform::i18n::{Lang, Tr};
use crate::platform::state::AppState;

pub const LANG_COOKIE: &str = "qorgau_lang";
pub const SIZE_COOKIE: &str = "qorgau_size";
pub const SCHEME_COOKIE: &str = "qorgau_scheme";
pub const IMAGES_COOKIE: &str = "qorgau_images";

/// The accessible mode, as Kazakh and Kyrgyz public sites offer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefs {
    /// 1, 2 or 3 (100%, 125%, 150%).
    pub size: u8,
    pub scheme: Scheme,
    pub images: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Normal,
    BlackOnWhite,
    WhiteOnBlack,
}

impl Scheme {
    pub fn code(self) -> &'static str {
        match self {
            Scheme::Normal => "normal",
            Scheme::BlackOnWhite => "bw",
            Scheme::WhiteOnBlack => "wb",
        }
    }
    pub fn parse(s: &str) -> Option<Scheme> {
        match s {
            "normal" => Some(Scheme::Normal),
            "bw" => Some(Scheme::BlackOnWhite),
            "wb" => Some(Scheme::WhiteOnBlack),
            _ => None,
        }
    }
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            size: 1,
            scheme: Scheme::Normal,
            images: true,
        }
    }
}

impl Prefs {
    pub fn parse_size(s: &str) -> Option<u8> {
        match s {
            "1" => Some(1),
            "2" => Some(2),
            "3" => Some(3),
            _ => None,
        }
    }
    pub fn parse_images(s: &str) -> Option<bool> {
        match s {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        }
    }
    /// Classes on `<html>` that app.css keys on.
    pub fn html_class(&self) -> String {
        format!(
            "fs-{} scheme-{} img-{}",
            self.size,
            self.scheme.code(),
            if self.images { "on" } else { "off" }
        )
    }
}

/// Everything a handler may want to know about the caller, computed once per request.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub tr: Tr,
    pub prefs: Prefs,
    pub auth: Option<Auth>,
    /// Path and query of this request, for "come back here" links.
    pub here: String,
    pub api: bool,
}

impl Ctx {
    pub fn principal(&self) -> Option<&Principal> {
        self.auth.as_ref().map(|a| &a.principal)
    }
}

fn choose(parts_headers: &axum::http::HeaderMap, auth: Option<&Auth>) -> (Tr, Prefs) {
    let h = parts_headers;
    let from_account = auth
        .and_then(|a| a.prefs.lang.as_deref())
        .and_then(Lang::parse);
    let lang = from_account
        .or_else(|| cookie_value(h, LANG_COOKIE).and_then(Lang::parse))
        .or_else(|| {
            h.get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::Ru);
    let ap = auth.map(|a| &a.prefs);
    let mut prefs = Prefs::default();
    if let Some(s) = ap
        .and_then(|p| p.size)
        .and_then(|s| u8::try_from(s).ok())
        .filter(|s| (1..=3).contains(s))
        .or_else(|| cookie_value(h, SIZE_COOKIE).and_then(Prefs::parse_size))
    {
        prefs.size = s;
    }
    if let Some(s) = ap
        .and_then(|p| p.scheme.as_deref())
        .and_then(Scheme::parse)
        .or_else(|| cookie_value(h, SCHEME_COOKIE).and_then(Scheme::parse))
    {
        prefs.scheme = s;
    }
    if let Some(i) = ap
        .and_then(|p| p.images.as_deref())
        .and_then(Prefs::parse_images)
        .or_else(|| cookie_value(h, IMAGES_COOKIE).and_then(Prefs::parse_images))
    {
        prefs.images = i;
    }
    (Tr::new(lang), prefs)
}

/// Paths a caller who still has to enrol a second factor may use.
fn allowed_while_totp_pending(path: &str) -> bool {
    path.starts_with("/account/totp")
        || path == "/logout"
        || path == "/api/v1/auth/logout"
        || path == "/api/v1/me"
        || path.starts_with("/prefs/")
        || path.starts_with("/static/")
}

/// Resolves the caller, language and accessible mode; renders every error response.
pub async fn context(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let api = path.starts_with("/api/");
    let idle_secs = st.cfg.session_idle_minutes * 60;
    let auth = match auth::resolve(&st.db, &st.sessions, req.headers(), idle_secs).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "resolving credentials");
            let (tr, prefs) = choose(req.headers(), None);
            let ctx = Ctx {
                tr,
                prefs,
                auth: None,
                here: path.clone(),
                api,
            };
            return render_error(&ctx, Problem::from_status(StatusCode::SERVICE_UNAVAILABLE));
        }
    };
    let (tr, prefs) = choose(req.headers(), auth.as_ref());
    let here = req
        .uri()
        .path_and_query()
        .map_or(path.clone(), |p| p.as_str().to_owned());
    let ctx = Ctx {
        tr,
        prefs,
        auth,
        here,
        api,
    };
    if let Some(a) = &ctx.auth {
        if a.totp_pending && !allowed_while_totp_pending(&path) {
            if api {
                let p = Problem {
                    kind: "totp-required",
                    ..Problem::from_status(StatusCode::FORBIDDEN)
                };
                return render_error(&ctx, p);
            }
            return Redirect::to("/account/totp").into_response();
        }
        if let Via::Token {
            read_only: true, ..
        } = a.principal.via
            && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        {
            return render_error(&ctx, Problem::from_status(StatusCode::FORBIDDEN));
        }
    }
    req.extensions_mut().insert(ctx.clone());
    // A request that may have ended a session or changed an account empties the session cache
    // when it is done, or dropped half way (platform/auth/cache.rs).
    let _forget = (!matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS))
        .then(|| st.sessions.clear_when_dropped());
    let res = next.run(req).await;
    finish(&ctx, res)
}

/// Turns an error response without a body of its own into a problem or an error page.
fn finish(ctx: &Ctx, res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let has_own_body = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        // The framework's own refusals are plain text or empty; anything else is a handler's
        // deliberate answer (an import report, an HTML form with its errors).
        .is_some_and(|ct| !ct.starts_with("text/plain"));
    if has_own_body {
        return res;
    }
    let problem = res
        .extensions()
        .get::<Problem>()
        .cloned()
        .unwrap_or_else(|| Problem::from_status(status));
    let allow = res.headers().get(header::ALLOW).cloned();
    let mut out = render_error(ctx, problem);
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

pub fn render_error(ctx: &Ctx, problem: Problem) -> Response {
    if ctx.api {
        return problem_json(ctx.tr, problem);
    }
    if problem.status == StatusCode::UNAUTHORIZED {
        let next = urlencode(&ctx.here);
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let status = problem.status;
    let page = ErrorPage {
        page: PageCtx::new(ctx, &format!("problem-{}", problem.kind)),
        status: status.as_u16(),
        retry_after: problem.retry_after,
    };
    let mut res = render(&page);
    *res.status_mut() = status;
    if let Some(s) = problem.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    res
}

/// Minimal percent-encoding for a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A local path to return to, never another site (`//evil`, `/\evil`, `https:`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("context middleware missing".into()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        Ctx::from_request_parts(parts, s)
            .await?
            .auth
            .map(|a| a.principal)
            .ok_or(AppError::Unauthenticated)
    }
}

/// Security headers on every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Swagger UI styles itself inline; nothing else needs more than 'self'.
    let csp = if docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    } else {
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(self)"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Requests by route and status, and latency, for `/metrics`.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("qorgau_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
    metrics::histogram!("qorgau_http_request_duration_seconds", "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    res
}

/// A nav link in the header.
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

/// What the layout needs; every page template has one as `page`.
pub struct PageCtx {
    pub tr: Tr,
    pub prefs: Prefs,
    pub title: String,
    pub user: Option<String>,
    pub nav: Vec<NavItem>,
    pub here: String,
    pub flash: Option<String>,
}

impl PageCtx {
    pub fn new(ctx: &Ctx, title_id: &str) -> PageCtx {
        let tr = ctx.tr;
        let path = ctx.here.split('?').next().unwrap_or("/");
        let mut nav = vec![];
        if let Some(p) = ctx.principal() {
            let mut add = |href: &'static str, id: &str| {
                // "/alarm" is not current on "/alarms": a prefix counts only up to a slash.
                let current = if href == "/" {
                    path == "/"
                } else {
                    path == href
                        || path
                            .strip_prefix(href)
                            .is_some_and(|rest| rest.starts_with('/'))
                };
                nav.push(NavItem {
                    href,
                    label: tr.t(id),
                    current,
                });
            };
            add("/", "nav-home");
            add("/alarm", "nav-alarm");
            if p.can(Action::AlarmView) {
                add("/console", "nav-console");
            }
            add("/directory", "nav-directory");
            if p.can(Action::PeopleView) {
                add("/people", "nav-people");
            }
            if p.can(Action::AccountsManage) {
                add("/admin/users", "nav-accounts");
            }
            if p.can(Action::AuditView) {
                add("/admin/audit", "nav-audit");
            }
            add("/account", "nav-my-account");
        }
        PageCtx {
            tr,
            prefs: ctx.prefs,
            title: tr.t(title_id),
            user: ctx.principal().map(|p| p.username.clone()),
            nav,
            here: urlencode(&ctx.here),
            flash: None,
        }
    }

    pub fn with_flash(mut self, id: &str) -> PageCtx {
        self.flash = Some(self.tr.t(id));
        self
    }

    pub fn langs(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .iter()
            .map(|l| (l.code(), l.endonym(), *l == self.tr.lang))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: PageCtx,
    status: u16,
    retry_after: Option<u64>,
}

/// Renders a template, or a plain 500 if the template itself fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            let mut r = Response::new(Body::from("Internal error"));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
    }
}

/// A page response with a status other than 200 (a form shown again with its errors).
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    let mut r = render(t);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/people?x=1")), "/people?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
