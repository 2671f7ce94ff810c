//! Attachments to a report (a photo of an injury, a screenshot, a letter): added by the reporter,
//! through her account or her receipt, with their metadata removed first (`scrub.rs`), sealed
//! at rest under the data directory's key, and named by their number only, since a file's own
//! name often says who took it. Handlers in scope read them; each read is audited and shown to
//! her.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::access::Principal;
use crate::platform::audit::{self, Actor, Event};
use crate::platform::db::{Db, DbResult, Tx};
use crate::platform::error::{AppError, AppResult, ProblemBody};
use crate::platform::state::AppState;
use crate::platform::time::Ts;
use crate::reports::model::{Mode, ReceiptLookup, Report, day_of};
use crate::reports::scrub::{self, Kind, ScrubError};
use crate::reports::service::{self, Reader};

/// The largest file a report takes, and how many.
pub const FILE_MAX: usize = 10 * 1024 * 1024;
pub const PER_REPORT: i64 = 10;
const PURPOSE: &str = "report.attachment";

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Attachment {
    pub id: Uuid,
    /// `attachment-<n>.<ext>`: her file's own name is not kept.
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the stored (scrubbed) file.
    pub sha256: String,
    /// For an anonymous report, the day only.
    #[schema(value_type = String)]
    pub created_at: Ts,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(upload, list, download, upload_anonymous),
    components(schemas(Attachment, UploadForm, AnonymousUploadForm))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    // Room for one file and the form around it; every other route keeps the small limit.
    let limit = DefaultBodyLimit::max(FILE_MAX + 64 * 1024);
    Router::new()
        .route(
            "/api/v1/reports/{id}/attachments",
            post(upload).get(list).layer(limit),
        )
        .route("/api/v1/reports/{id}/attachments/{att}", get(download))
        .route(
            "/api/v1/reports/anonymous/attachments",
            post(upload_anonymous).layer(limit),
        )
        .route("/reports/{id}/attachments", post(upload_page).layer(limit))
        .route(
            "/report-anonymously/attachments",
            post(upload_anonymous_page).layer(limit),
        )
}

/// The multipart form: one `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The same with the receipt (and passphrase) of an anonymous report.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AnonymousUploadForm {
    receipt: String,
    passphrase: Option<String>,
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

async fn multipart(req: axum::extract::Request, st: &AppState) -> AppResult<Multipart> {
    use axum::extract::FromRequest;
    Multipart::from_request(req, st)
        .await
        .map_err(|e| AppError::BadRequest(e.body_text()))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::BadRequest(e.body_text())
    }
}

/// The file and the text fields of the form.
async fn read_form(mut mp: Multipart) -> AppResult<(Option<Vec<u8>>, ReceiptLookup)> {
    let mut file = None;
    let mut q = ReceiptLookup::default();
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                if !bytes.is_empty() {
                    file = Some(bytes.to_vec());
                }
            }
            Some("receipt") => q.receipt = field.text().await.map_err(multipart_error)?,
            Some("passphrase") => q.passphrase = field.text().await.map_err(multipart_error)?,
            _ => {}
        }
    }
    Ok((file, q))
}

/// Checks, scrubs, seals and stores one file for a report.
async fn add(
    st: &AppState,
    report: &Report,
    actor: Option<Actor>,
    file: Option<Vec<u8>>,
) -> AppResult<Attachment> {
    let file = file.ok_or_else(|| AppError::field("file", "err-required"))?;
    if file.len() > FILE_MAX {
        return Err(AppError::TooLarge);
    }
    let (kind, clean) = tokio::task::spawn_blocking(move || scrub::scrub(&file))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| match e {
            ScrubError::Unsupported => AppError::field("file", "err-file-type"),
            ScrubError::Malformed(_) => AppError::field("file", "err-file-damaged"),
        })?;
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&clean))
    };
    let size = i64::try_from(clean.len()).unwrap_or(i64::MAX);
    let sealed = st.sealer.seal(PURPOSE, &clean);
    let id = Uuid::now_v7();
    // An anonymous report keeps no finer time than the day.
    let at = if report.mode == Mode::Anonymous {
        day_of(Ts::now())
    } else {
        Ts::now()
    };
    let mut tx = st.db.begin().await?;
    let n = count(&mut tx, report.id).await?;
    if n >= PER_REPORT {
        return Err(AppError::field("file", "err-file-limit"));
    }
    tx.execute(
        "INSERT INTO report_attachments (id, report_id, seq, kind, size, sha256, sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        crate::args![id, report.id, n + 1, kind.extension(), size, &sha256, sealed, at],
    )
    .await?;
    // Audited like her report: a named reporter by name, a confidential one without it, an
    // anonymous one not at all (as her messages).
    if let Some(actor) = actor {
        audit::append(
            &mut tx,
            &actor,
            Event::new("report.attachment.add", "report", report.id)
                .detail(serde_json::json!({"attachment": id, "sha256": sha256})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Attachment {
        id,
        name: format!("attachment-{}.{}", n + 1, kind.extension()),
        content_type: kind.content_type().into(),
        size,
        sha256,
        created_at: at,
    })
}

async fn count(tx: &mut Tx, report: Uuid) -> DbResult<i64> {
    tx.fetch_one(
        "SELECT COUNT(*) AS n FROM report_attachments WHERE report_id = $1",
        crate::args![report],
    )
    .await?
    .get("n")
}

fn kind_of(ext: &str) -> Kind {
    match ext {
        "png" => Kind::Png,
        "pdf" => Kind::Pdf,
        "docx" => Kind::Docx,
        _ => Kind::Jpeg,
    }
}

pub async fn attachments(db: &Db, report: Uuid) -> DbResult<Vec<Attachment>> {
    db.fetch_all(
        "SELECT id, seq, kind, size, sha256, created_at FROM report_attachments WHERE report_id = $1 ORDER BY seq",
        crate::args![report],
    )
    .await?
    .iter()
    .map(|r| {
        let kind = kind_of(&r.get::<String>("kind")?);
        Ok(Attachment {
            id: r.get("id")?,
            name: format!("attachment-{}.{}", r.get::<i64>("seq")?, kind.extension()),
            content_type: kind.content_type().into(),
            size: r.get("size")?,
            sha256: r.get("sha256")?,
            created_at: r.ts("created_at")?,
        })
    })
    .collect()
}

/// Her own report; anyone else, handlers included, gets 404 (handlers read, they do not add).
async fn own_report(st: &AppState, p: &Principal, id: Uuid) -> AppResult<(Report, Option<Actor>)> {
    match service::read(st, p, id).await? {
        (s, Reader::Owner) => {
            let actor = if s.report.mode == Mode::Confidential {
                service::confidential_actor()
            } else {
                Actor::of(p)
            };
            Ok((s.report, Some(actor)))
        }
        _ => Err(AppError::NotFound),
    }
}

/// Adds a file to her report (multipart, field `file`; JPEG, PNG, PDF or Word, at most 10 MiB
/// and 10 files). EXIF, GPS, XMP, document authors and properties are removed before it is
/// stored.
#[utoipa::path(post, path = "/api/v1/reports/{id}/attachments", tag = "reports", params(("id" = Uuid, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Attachment), (status = 404, body = ProblemBody), (status = 413, body = ProblemBody), (status = 422, body = ProblemBody)))]
pub async fn upload(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    req: axum::extract::Request,
) -> AppResult<(StatusCode, axum::Json<Attachment>)> {
    // Whose report it is comes first: anyone else learns nothing from the body's checks.
    let (report, actor) = own_report(&st, &p, id).await?;
    let (file, _) = read_form(multipart(req, &st).await?).await?;
    let a = add(&st, &report, actor, file).await?;
    Ok((StatusCode::CREATED, axum::Json(a)))
}

/// The same for an anonymous report, with its receipt in the form (counts against the lookup
/// limit, keeps the day only).
#[utoipa::path(post, path = "/api/v1/reports/anonymous/attachments", tag = "reports",
    request_body(content = AnonymousUploadForm, content_type = "multipart/form-data"),
    security(()),
    responses((status = 201, body = Attachment), (status = 404, body = ProblemBody), (status = 413, body = ProblemBody), (status = 422, body = ProblemBody), (status = 429, body = ProblemBody)))]
pub async fn upload_anonymous(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    mp: Multipart,
) -> AppResult<(StatusCode, axum::Json<Attachment>)> {
    let (file, q) = read_form(mp).await?;
    let report = service::by_receipt(&st, addr.ip(), &q).await?;
    let a = add(&st, &report, None, file).await?;
    Ok((StatusCode::CREATED, axum::Json(a)))
}

/// The files of a report, for its reporter or a handler in scope (the read is audited).
#[utoipa::path(get, path = "/api/v1/reports/{id}/attachments", tag = "reports", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Attachment>), (status = 404, body = ProblemBody)))]
pub async fn list(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Vec<Attachment>>> {
    service::read(&st, &p, id).await?;
    Ok(axum::Json(attachments(&st.db, id).await?))
}

/// One file, as stored (without its metadata); a handler's download is audited and shown to
/// her.
#[utoipa::path(get, path = "/api/v1/reports/{id}/attachments/{att}", tag = "reports",
    params(("id" = Uuid, Path), ("att" = Uuid, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = ProblemBody)))]
pub async fn download(
    State(st): State<AppState>,
    p: Principal,
    Path((id, att)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (s, reader) = service::read(&st, &p, id).await?;
    let row = st
        .db
        .fetch_optional(
            "SELECT seq, kind, sealed FROM report_attachments WHERE id = $1 AND report_id = $2",
            crate::args![att, id],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = kind_of(&row.get::<String>("kind")?);
    let seq: i64 = row.get("seq")?;
    let bytes = st
        .sealer
        .open(PURPOSE, &row.get::<Vec<u8>>("sealed")?)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if matches!(reader, Reader::Staff) {
        st.audit
            .record(
                &Actor::of(&p),
                Event::new("report.attachment.read", "report", id)
                    .subject(s.report.reporter.as_ref().and_then(|r| r.person_id))
                    .detail(serde_json::json!({"attachment": att})),
            )
            .await?;
    }
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"attachment-{seq}.{}\"",
        kind.extension()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

async fn upload_page(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let (report, actor) = own_report(&st, &p, id).await?;
    let (file, _) = read_form(multipart(req, &st).await?).await?;
    let done = match add(&st, &report, actor, file).await {
        Ok(_) => "attached",
        Err(AppError::Validation(e)) => match e.first().map(|e| e.code.as_str()) {
            Some("err-file-type") => "attach-type",
            Some("err-file-damaged") => "attach-damaged",
            Some("err-file-limit") => "attach-limit",
            _ => "attach-none",
        },
        Err(e) => return Err(e),
    };
    Ok(Redirect::to(&format!("/reports/{id}?done={done}")).into_response())
}

async fn upload_anonymous_page(
    State(st): State<AppState>,
    ctx: crate::platform::web::Ctx,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    mp: Multipart,
) -> AppResult<Response> {
    let (file, q) = read_form(mp).await?;
    let report = service::by_receipt(&st, addr.ip(), &q).await?;
    let flash = match add(&st, &report, None, file).await {
        Ok(_) => "rep-done-attached",
        Err(AppError::Validation(e)) => match e.first().map(|e| e.code.as_str()) {
            Some("err-file-type") => "rep-done-attach-type",
            Some("err-file-damaged") => "rep-done-attach-damaged",
            Some("err-file-limit") => "rep-done-attach-limit",
            _ => "rep-done-attach-none",
        },
        Err(e) => return Err(e),
    };
    let view = service::anonymous_view(&st, report).await?;
    let mut page = crate::reports::pages::anonymous_show(&ctx, view, &q);
    page.page = page.page.with_flash(flash);
    let mut r = crate::platform::web::render(&page);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
