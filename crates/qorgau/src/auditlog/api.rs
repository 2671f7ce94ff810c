//! Audit log JSON and CSV routes.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use uuid::Uuid;

use crate::platform::access::{Action, Principal};
use crate::platform::audit::{self, Actor, Entry, Event, Filter};
use crate::platform::error::{AppError, AppResult};
use crate::platform::extract::{PageQuery, Paged, Query};
use crate::platform::state::AppState;
use crate::platform::time::Ts;

#[derive(utoipa::OpenApi)]
#[openapi(paths(list, export), components(schemas(Entry)),
    tags((name = "audit", description = "The hash-chained audit log")))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/audit", get(list))
        .route("/api/v1/audit/export.csv", get(export))
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct AuditFilter {
    /// Part of the actor's name.
    pub actor: Option<String>,
    /// Part of the action (`person.read`, `login` ...).
    pub action: Option<String>,
    pub object_id: Option<String>,
    /// Entries about this person.
    pub subject: Option<Uuid>,
    /// From this instant (RFC 3339).
    pub since: Option<String>,
    /// Before this instant (RFC 3339).
    pub until: Option<String>,
}

impl AuditFilter {
    pub fn to_filter(&self) -> AppResult<Filter> {
        let ts = |field: &str, v: &Option<String>| -> AppResult<Option<Ts>> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => parse_instant(s)
                    .map(Some)
                    .ok_or_else(|| AppError::field(field, "err-datetime")),
            }
        };
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.chars().take(200).collect())
        };
        Ok(Filter {
            actor: text(&self.actor),
            action: text(&self.action),
            object_id: text(&self.object_id),
            subject: self.subject,
            since: ts("since", &self.since)?,
            until: ts("until", &self.until)?,
            before: None,
        })
    }
}

/// RFC 3339, or a bare date (start of that day, UTC).
fn parse_instant(s: &str) -> Option<Ts> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(Ts::from_micros(t.as_microsecond()));
    }
    let d = crate::platform::validate::parse_date(s)?;
    let z = d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()?;
    Some(Ts::from_micros(z.timestamp().as_microsecond()))
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditFilter, PageQuery),
    responses((status = 200, body = Paged<Entry>), (status = 403, body = crate::platform::error::ProblemBody),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn list(
    State(st): State<AppState>,
    p: Principal,
    Query(f): Query<AuditFilter>,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Entry>>> {
    p.require(Action::AuditView)?;
    let limit = page.limit()?;
    let mut filter = f.to_filter()?;
    filter.before = page
        .after()?
        .map(|c| c.parse::<i64>())
        .transpose()
        .map_err(|_| AppError::field("cursor", "err-invalid"))?;
    let items = audit::list(&st.db, &filter, limit + 1).await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |e| {
        e.seq.to_string()
    })))
}

fn csv_field(s: &str) -> String {
    // A leading = + - @ makes spreadsheets run a formula: quote it as text.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn to_csv(entries: &[Entry]) -> String {
    let mut out = String::from(
        "seq,at,actor,action,object_type,object_id,subject,reason,detail,prev_hash,hash\n",
    );
    for e in entries {
        let row = [
            e.seq.to_string(),
            e.at.rfc3339(),
            e.actor.clone(),
            e.action.clone(),
            e.object_type.clone(),
            e.object_id.clone(),
            e.subject.map(|s| s.to_string()).unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
            e.detail.clone(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ];
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// Up to 50,000 matching entries as CSV, hashes included so the chain can be checked offline.
#[utoipa::path(get, path = "/api/v1/audit/export.csv", tag = "audit", params(AuditFilter),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = crate::platform::error::ProblemBody),
        (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn export(
    State(st): State<AppState>,
    p: Principal,
    Query(f): Query<AuditFilter>,
) -> AppResult<Response> {
    p.require(Action::AuditView)?;
    let filter = f.to_filter()?;
    let entries = audit::list(&st.db, &filter, 50_000).await?;
    st.audit
        .record(
            &Actor::of(&p),
            Event::new("audit.export", "audit_log", "export")
                .detail(serde_json::json!({ "rows": entries.len() })),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"qorgau-audit.csv\"",
            ),
        ],
        to_csv(&entries),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn instants_accept_dates_and_rfc3339() {
        assert!(parse_instant("2026-11-23").is_some());
        assert!(parse_instant("2026-11-23T10:00:00Z").is_some());
        assert!(parse_instant("yesterday").is_none());
    }
}
