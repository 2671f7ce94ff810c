//! The audit log page.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::auditlog::api::AuditFilter;
use crate::platform::access::{Action, Principal};
use crate::platform::audit::{self, Entry};
use crate::platform::error::{AppError, AppResult, FieldError, translate_errors};
use crate::platform::extract::Query;
use crate::platform::state::AppState;
use crate::platform::web::{Ctx, PageCtx, render, urlencode};

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/audit", get(page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageParams {
    actor: String,
    action: String,
    object_id: String,
    since: String,
    until: String,
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "auditlog/list.html")]
struct AuditPage {
    page: PageCtx,
    entries: Vec<Entry>,
    q: PageParams,
    query: String,
    next_before: Option<i64>,
    errors: Vec<FieldError>,
}

async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<PageParams>,
) -> AppResult<Response> {
    p.require(Action::AuditView)?;
    let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
    let f = AuditFilter {
        actor: opt(&q.actor),
        action: opt(&q.action),
        object_id: opt(&q.object_id),
        subject: None,
        since: opt(&q.since),
        until: opt(&q.until),
    };
    let query = format!(
        "actor={}&action={}&object_id={}&since={}&until={}",
        urlencode(&q.actor),
        urlencode(&q.action),
        urlencode(&q.object_id),
        urlencode(&q.since),
        urlencode(&q.until)
    );
    let (entries, errors) = match f.to_filter() {
        Ok(mut filter) => {
            filter.before = q.before;
            (audit::list(&st.db, &filter, 101).await?, vec![])
        }
        Err(AppError::Validation(mut e)) => {
            translate_errors(ctx.tr, &mut e);
            (vec![], e)
        }
        Err(e) => return Err(e),
    };
    let mut entries = entries;
    let next_before = if entries.len() > 100 {
        entries.truncate(100);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(render(&AuditPage {
        page: PageCtx::new(&ctx, "audit-title"),
        entries,
        q,
        query,
        next_before,
        errors,
    }))
}
