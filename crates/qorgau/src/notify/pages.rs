//! The webhooks page: an administrator adds a gateway's address (its secret shown once), switches
//! one off, and reads every delivery attempt. The same through the API: `notify::api`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use crate::notify::api::{self, WebhookInput};
use crate::notify::model::EVENTS;
use crate::notify::store;
use crate::platform::access::{Action, Principal, Scope};
use crate::platform::error::{AppError, AppResult, FieldError, translate_errors};
use crate::platform::extract::{Form, Query};
use crate::platform::i18n::Tr;
use crate::platform::state::AppState;
use crate::platform::web::{Ctx, PageCtx, render, render_status};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(page).post(add))
        .route("/admin/webhooks/{id}/off", post(off))
}

pub struct AttemptRow {
    pub at: String,
    pub n: i64,
    pub result: String,
    pub ok: bool,
    pub duration_ms: i64,
}

pub struct HookRow {
    pub id: String,
    pub url: String,
    pub place: String,
    pub events: String,
    pub active: bool,
    pub attempts: Vec<AttemptRow>,
}

#[derive(Template)]
#[template(path = "notify/webhooks.html")]
struct WebhooksPage {
    page: PageCtx,
    hooks: Vec<HookRow>,
    facilities: Vec<(String, String)>,
    /// Region-wide webhooks need a region or country scope.
    can_region: bool,
    events: Vec<(String, String)>,
    /// A new webhook's secret, shown this once.
    secret: Option<String>,
    errors: Vec<FieldError>,
}

fn event_label(tr: Tr, e: &str) -> String {
    tr.t(&format!("notify-event-{}", e.replace('.', "-")))
}

async fn view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    page: PageCtx,
    secret: Option<String>,
    errors: Vec<FieldError>,
) -> AppResult<WebhooksPage> {
    let facilities = crate::alarms::pages::facilities_in_scope(st, p).await?;
    let tz = facilities
        .first()
        .map_or("Asia/Almaty".to_owned(), |f| f.tz.clone());
    let mut hooks = vec![];
    for w in api::webhooks_in_scope(st, p).await? {
        let place = match (w.facility_id, &w.region_id) {
            (Some(f), _) => facilities
                .iter()
                .find(|x| x.id == f)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| f.to_string()),
            (None, Some(r)) => r.clone(),
            (None, None) => String::new(),
        };
        let attempts = store::attempts(&st.db, w.id, 20)
            .await?
            .into_iter()
            .map(|a| AttemptRow {
                at: a.at.local(&tz),
                n: a.attempt,
                ok: a.error.is_empty(),
                result: match (a.status, a.error.is_empty()) {
                    (Some(s), true) => s.to_string(),
                    _ => a.error,
                },
                duration_ms: a.duration_ms,
            })
            .collect();
        hooks.push(HookRow {
            id: w.id.to_string(),
            url: w.url,
            place,
            events: w
                .events
                .iter()
                .map(|e| event_label(ctx.tr, e))
                .collect::<Vec<_>>()
                .join(", "),
            active: w.active,
            attempts,
        });
    }
    Ok(WebhooksPage {
        page,
        hooks,
        facilities: facilities
            .into_iter()
            .map(|f| (f.id.to_string(), f.name))
            .collect(),
        can_region: matches!(p.scope, Scope::Region(_) | Scope::Country(_)),
        events: EVENTS
            .iter()
            .map(|e| ((*e).to_owned(), event_label(ctx.tr, e)))
            .collect(),
        secret,
        errors,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DoneQuery {
    done: String,
}

async fn page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    p.require(Action::NotifyManage)?;
    let mut page = PageCtx::new(&ctx, "notify-webhooks-title");
    if q.done == "off" {
        page = page.with_flash("notify-webhook-removed");
    }
    Ok(render(&view(&st, &ctx, &p, page, None, vec![]).await?))
}

/// The add form: checkboxes arrive as repeated `events` fields.
async fn add(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(f): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    p.require(Action::NotifyManage)?;
    let field = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let region = field("region_id");
    let input = WebhookInput {
        facility_id: if region.is_empty() {
            Uuid::parse_str(&field("facility_id")).ok()
        } else {
            None
        },
        region_id: (!region.is_empty()).then_some(region),
        url: field("url"),
        events: f
            .iter()
            .filter(|(n, _)| n == "events")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    match api::add_webhook(&st, &p, &input).await {
        Ok(created) => {
            let page = PageCtx::new(&ctx, "notify-webhooks-title");
            Ok(render_status(
                StatusCode::CREATED,
                &view(&st, &ctx, &p, page, Some(created.secret), vec![]).await?,
            ))
        }
        Err(AppError::Validation(mut errors)) => {
            translate_errors(ctx.tr, &mut errors);
            let page = PageCtx::new(&ctx, "notify-webhooks-title");
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &view(&st, &ctx, &p, page, None, errors).await?,
            ))
        }
        Err(e) => Err(e),
    }
}

async fn off(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    api::remove_webhook(&st, &p, id).await?;
    Ok(Redirect::to("/admin/webhooks?done=off").into_response())
}
