//! Request extractors whose refusals are problems in the caller's language, and cursor pages.

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::platform::error::AppError;

/// `axum::Json`, answering 400/415/422 problems instead of plain text.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::BadRequest(
                "expected Content-Type: application/json".into(),
            )),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(AppError::Validation(vec![data_error(&e.body_text())]))
            }
            Err(JsonRejection::BytesRejection(e)) if e.status().as_u16() == 413 => {
                Err(AppError::TooLarge)
            }
            Err(e) => Err(AppError::BadRequest(e.body_text())),
        }
    }
}

/// serde's message names the path to the bad value: `name: invalid type ... at line 1`.
fn data_error(text: &str) -> crate::platform::error::FieldError {
    let msg = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let field = msg
        .split_once(": ")
        .map(|(f, _)| f)
        .filter(|f| !f.contains(' '))
        .unwrap_or("body");
    let field = if msg.starts_with("missing field `") {
        msg.trim_start_matches("missing field `")
            .split('`')
            .next()
            .unwrap_or("body")
    } else {
        field
    };
    let code = if msg.contains("missing field") {
        "err-required"
    } else if msg.contains("unknown variant") {
        "err-choice"
    } else {
        "err-invalid"
    };
    crate::platform::error::FieldError::new(field, code)
}

/// `axum::Query` with problem refusals.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(AppError::BadRequest(e.body_text()))
            }
            Err(e) => Err(AppError::BadRequest(e.body_text())),
        }
    }
}

/// `axum::Form` with problem refusals.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(FormRejection::BytesRejection(e)) if e.status().as_u16() == 413 => {
                Err(AppError::TooLarge)
            }
            Err(e) => Err(AppError::BadRequest(e.body_text())),
        }
    }
}

/// `?cursor=&limit=` for list routes.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1 to 500; default 50. A whole facility's staff (a few hundred) fits in one page.
    pub limit: Option<i64>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, AppError> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=500).contains(&n) => Ok(n),
            Some(_) => Err(AppError::field("limit", "err-limit-range")),
        }
    }
    /// The decoded cursor text, if any.
    pub fn after(&self) -> Result<Option<String>, AppError> {
        match self.cursor.as_deref() {
            None | Some("") => Ok(None),
            Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .map(Some)
                .ok_or_else(|| AppError::field("cursor", "err-invalid")),
        }
    }
}

pub fn encode_cursor(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// A page of a list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    /// `items` were fetched with `limit + 1`; the extra one tells whether a next page exists.
    pub fn from_overfetch(mut items: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Paged<T> {
        let limit = usize::try_from(limit).unwrap_or(50);
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|l| encode_cursor(&key(l)))
        } else {
            None
        };
        Paged { items, next_cursor }
    }
}

/// A JSON body parsed before the handler runs but judged after: the handler checks access first
/// (`?` on `.0` afterwards), so a caller without the right sees 403/404, never a hint from 422.
pub struct LateJson<T>(pub Result<T, AppError>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for LateJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        Ok(LateJson(
            Json::<T>::from_request(req, state).await.map(|Json(v)| v),
        ))
    }
}
