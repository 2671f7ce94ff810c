//! Report pages: the calendar an administrator extends.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::platform::access::{Action, Principal};
use crate::platform::error::{AppError, AppResult, FieldError, translate_errors};
use crate::platform::extract::{Form, LateJson, Query};
use crate::platform::i18n::Tr;
use crate::platform::state::AppState;
use crate::platform::web::{Ctx, PageCtx, render};
use crate::reports::api;
use crate::reports::calendar::{self, CalendarDayInput};
use crate::reports::classify::DayKind;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/calendars/{country}",
            get(calendar_page).post(calendar_put),
        )
        .route(
            "/admin/calendars/{country}/{day}/delete",
            post(calendar_delete),
        )
}

pub fn day_kind_name(k: DayKind, tr: Tr) -> String {
    tr.t(&format!("rep-kind-{}", k.code()))
}

pub struct DayRow {
    pub day: String,
    pub weekday: String,
    pub kind: String,
    pub name: String,
    /// Only an administrator's own entries can be removed.
    pub local: bool,
}

#[derive(Template)]
#[template(path = "reports/calendar.html")]
struct CalendarPage {
    page: PageCtx,
    country: String,
    countries: Vec<(&'static str, String, bool)>,
    year: i16,
    rows: Vec<DayRow>,
    kinds: Vec<(&'static str, String)>,
    input: CalendarDayInput,
    errors: Vec<FieldError>,
}

impl CalendarPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CalendarQuery {
    year: Option<i16>,
    done: String,
}

async fn calendar_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    code: &str,
    year: Option<i16>,
    input: CalendarDayInput,
    errors: Vec<FieldError>,
) -> AppResult<CalendarPage> {
    let list = api::list_calendar(
        State(st.clone()),
        p.clone(),
        Path(code.to_owned()),
        Query(api::YearQuery { year: None }),
    )
    .await?
    .0;
    let year = year.unwrap_or_else(|| jiff::ZonedDateTime::now().year());
    let tr = ctx.tr;
    let country = code.to_ascii_uppercase();
    let rows = list
        .into_iter()
        .filter(|d| d.day.year() == year)
        .map(|d| DayRow {
            day: d.day.to_string(),
            weekday: tr.t(&format!(
                "dir-weekday-{}",
                d.day.weekday().to_monday_one_offset()
            )),
            kind: day_kind_name(d.kind, tr),
            name: d.name,
            local: d.source == "local",
        })
        .collect();
    Ok(CalendarPage {
        page: PageCtx::new(ctx, "rep-calendar-title"),
        countries: calendar::COUNTRIES
            .iter()
            .map(|c| {
                (
                    *c,
                    tr.t(&format!("dir-country-{}", c.to_lowercase())),
                    *c == country,
                )
            })
            .collect(),
        country,
        year,
        rows,
        kinds: DayKind::ALL
            .iter()
            .map(|k| (k.code(), day_kind_name(*k, tr)))
            .collect(),
        input,
        errors,
    })
}

async fn calendar_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(code): Path<String>,
    Query(q): Query<CalendarQuery>,
) -> AppResult<Response> {
    p.require(Action::CalendarManage)?;
    let mut view = calendar_view(&st, &ctx, &p, &code, q.year, Default::default(), vec![]).await?;
    if q.done == "saved" || q.done == "deleted" {
        view.page = view.page.with_flash(&format!("rep-done-{}", q.done));
    }
    Ok(render(&view))
}

type Values = HashMap<String, String>;

fn value(v: &Values, k: &str) -> String {
    v.get(k).cloned().unwrap_or_default()
}

async fn calendar_put(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(code): Path<String>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = CalendarDayInput {
        day: value(&v, "day"),
        kind: value(&v, "kind"),
        name: value(&v, "name"),
    };
    let r = api::put_calendar_day(
        State(st.clone()),
        p.clone(),
        Path((code.clone(), input.day.clone())),
        LateJson(Ok(input.clone())),
    )
    .await;
    match r {
        Ok(saved) => Ok(Redirect::to(&format!(
            "/admin/calendars/{}?year={}&done=saved",
            saved.0.country,
            saved.0.day.year()
        ))
        .into_response()),
        Err(AppError::Validation(mut errors)) => {
            translate_errors(ctx.tr, &mut errors);
            let year = crate::platform::validate::parse_date(input.day.trim()).map(|d| d.year());
            let view = calendar_view(&st, &ctx, &p, &code, year, input, errors).await?;
            Ok(crate::platform::web::render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &view,
            ))
        }
        Err(e) => Err(e),
    }
}

async fn calendar_delete(
    State(st): State<AppState>,
    p: Principal,
    Path((code, day)): Path<(String, String)>,
) -> AppResult<Response> {
    api::delete_calendar_day(State(st), p, Path((code.clone(), day.clone()))).await?;
    let year = crate::platform::validate::parse_date(day.trim()).map_or(0, |d| d.year());
    Ok(Redirect::to(&format!(
        "/admin/calendars/{}?year={year}&done=deleted",
        code.to_ascii_uppercase()
    ))
    .into_response())
}
