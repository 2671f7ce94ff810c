//! The one error type, and its mapping to RFC 9457 problem responses.
//!
//! A handler returns [`AppError`]; its `IntoResponse` only records a [`Problem`] in the response
//! extensions. [`render_problems`] (a middleware that knows the caller's language and whether the
//! request was for the API or a page) turns it into `application/problem+json` or an HTML page.
//! The same middleware wraps the framework's own refusals (unknown route, wrong method, body too
//! large, timeout), so every error a client sees has one shape.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::platform::db::DbError;
use crate::platform::i18n::Tr;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name as sent (JSON key or form input name).
    pub field: String,
    /// A stable message id, e.g. `err-required`.
    pub code: String,
    /// The message in the caller's language.
    #[serde(default)]
    pub message: String,
    /// For uploaded files (CSV imports): the line of the bad row, the header being line 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl FieldError {
    pub fn new(field: &str, code: &str) -> FieldError {
        FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: String::new(),
            line: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("too many requests")]
    TooMany { retry_after: u64 },
    #[error("request body too large")]
    TooLarge,
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    #[error("a request with this idempotency key is still in progress")]
    IdempotencyInProgress,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Db(DbError::Sqlx(e))
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, code: &str) -> AppError {
        AppError::Validation(vec![FieldError::new(field, code)])
    }
}

/// What the problem renderer needs; lives in response extensions until it is rendered.
#[derive(Clone, Debug)]
pub struct Problem {
    pub status: StatusCode,
    /// Message id of the title, also the last segment of the `type` URI.
    pub kind: &'static str,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn from_status(status: StatusCode) -> Problem {
        let kind = match status.as_u16() {
            400 => "bad-request",
            401 => "unauthenticated",
            403 => "forbidden",
            404 => "not-found",
            405 => "method-not-allowed",
            406 => "not-acceptable",
            408 => "timeout",
            409 => "conflict",
            413 => "too-large",
            415 => "unsupported-media-type",
            422 => "validation",
            429 => "too-many-requests",
            503 => "unavailable",
            s if s >= 500 => "internal",
            _ => "bad-request",
        };
        Problem {
            status,
            kind,
            detail: None,
            errors: vec![],
            retry_after: None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let p = |s| Problem::from_status(s);
        let problem = match self {
            AppError::NotFound => p(StatusCode::NOT_FOUND),
            AppError::Unauthenticated => p(StatusCode::UNAUTHORIZED),
            AppError::Forbidden => p(StatusCode::FORBIDDEN),
            AppError::Validation(errors) => Problem {
                errors,
                ..p(StatusCode::UNPROCESSABLE_ENTITY)
            },
            AppError::BadRequest(detail) => Problem {
                detail: Some(detail),
                ..p(StatusCode::BAD_REQUEST)
            },
            AppError::Conflict(kind) => Problem {
                kind,
                ..p(StatusCode::CONFLICT)
            },
            AppError::TooMany { retry_after } => Problem {
                retry_after: Some(retry_after),
                ..p(StatusCode::TOO_MANY_REQUESTS)
            },
            AppError::TooLarge => p(StatusCode::PAYLOAD_TOO_LARGE),
            AppError::IdempotencyMismatch => Problem {
                kind: "idempotency-mismatch",
                ..p(StatusCode::UNPROCESSABLE_ENTITY)
            },
            AppError::IdempotencyInProgress => Problem {
                kind: "idempotency-in-progress",
                ..p(StatusCode::CONFLICT)
            },
            AppError::Db(e) if e.is_unique_violation() => Problem {
                kind: "duplicate",
                ..p(StatusCode::CONFLICT)
            },
            AppError::Db(e) => {
                tracing::error!(error = %e, "database error");
                p(StatusCode::INTERNAL_SERVER_ERROR)
            }
            AppError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                p(StatusCode::INTERNAL_SERVER_ERROR)
            }
        };
        let mut res = Response::new(Body::empty());
        *res.status_mut() = problem.status;
        res.extensions_mut().insert(problem);
        res
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Translates field errors in place; pages use this too when they re-render a form.
pub fn translate_errors(tr: Tr, errors: &mut [FieldError]) {
    for e in errors {
        e.message = tr.t(&e.code);
    }
}

pub fn problem_json(tr: Tr, mut problem: Problem) -> Response {
    translate_errors(tr, &mut problem.errors);
    let body = ProblemBody {
        kind: format!("/problems/{}", problem.kind),
        title: tr.t(&format!("problem-{}", problem.kind)),
        status: problem.status.as_u16(),
        detail: problem.detail,
        errors: problem.errors,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = problem.status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(s) = problem.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    res
}
