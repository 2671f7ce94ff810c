//! Directory JSON routes under `/api/v1`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use crate::directory::import;
use crate::directory::model::*;
use crate::directory::store::{self, PeopleQuery, Table};
use crate::platform::access::{Action, Principal};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::error::{AppError, AppResult};
use crate::platform::extract::{LateJson, PageQuery, Paged, Query};
use crate::platform::state::AppState;
use crate::platform::validate::Check;
use crate::platform::web::Ctx;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_regions, list_facilities, create_facility, get_facility, update_facility,
        archive_facility, list_departments, create_department, update_department,
        archive_department, list_posts, create_post, update_post, archive_post, list_shifts,
        put_shift, list_people, create_person, get_person, update_person, archive_person,
        import_staff, import_roster, get_roster
    ),
    components(schemas(Region, Facility, FacilityInput, Department, DepartmentInput, SecurityPost,
        PostInput, Person, PersonInput, Shift, ShiftInput, RosterEntry, import::ImportReport,
        import::RowError, Archive)),
    tags((name = "directory", description = "Regions, facilities, departments, security posts, staff, shifts and rosters"))
)]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/regions", get(list_regions))
        .route(
            "/api/v1/facilities",
            get(list_facilities).post(create_facility),
        )
        .route(
            "/api/v1/facilities/{id}",
            get(get_facility).put(update_facility),
        )
        .route("/api/v1/facilities/{id}/archive", post(archive_facility))
        .route(
            "/api/v1/facilities/{id}/departments",
            get(list_departments).post(create_department),
        )
        .route(
            "/api/v1/departments/{id}",
            axum::routing::put(update_department),
        )
        .route("/api/v1/departments/{id}/archive", post(archive_department))
        .route(
            "/api/v1/facilities/{id}/posts",
            get(list_posts).post(create_post),
        )
        .route("/api/v1/posts/{id}", axum::routing::put(update_post))
        .route("/api/v1/posts/{id}/archive", post(archive_post))
        .route(
            "/api/v1/facilities/{id}/shifts",
            get(list_shifts).put(put_shift),
        )
        .route("/api/v1/facilities/{id}/roster", get(get_roster))
        .route("/api/v1/facilities/{id}/import/staff", post(import_staff))
        .route("/api/v1/facilities/{id}/import/roster", post(import_roster))
        .route("/api/v1/people", get(list_people).post(create_person))
        .route("/api/v1/people/{id}", get(get_person).put(update_person))
        .route("/api/v1/people/{id}/archive", post(archive_person))
}

/// Archive (`true`) or restore (`false`).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Archive {
    pub archived: bool,
}

/// The facility if it exists and the caller may manage it (404 otherwise, as if absent).
pub async fn facility_for(
    st: &AppState,
    p: &Principal,
    id: Uuid,
    action: Action,
) -> AppResult<Facility> {
    p.require(action)?;
    let f = store::facility_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if action != Action::DirectoryView {
        p.check(action, &f.place())?;
    }
    Ok(f)
}

#[utoipa::path(get, path = "/api/v1/regions", tag = "directory",
    responses((status = 200, body = Vec<Region>), (status = 401, body = crate::platform::error::ProblemBody)))]
pub async fn list_regions(
    State(st): State<AppState>,
    p: Principal,
    ctx: Ctx,
) -> AppResult<axum::Json<Vec<Region>>> {
    p.require(Action::DirectoryView)?;
    Ok(axum::Json(store::regions(&st.db, ctx.tr.lang).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FacilityFilter {
    /// ISO 3166-2 region code.
    pub region: Option<String>,
    /// KZ or KG.
    pub country: Option<String>,
    /// Include archived facilities.
    #[serde(default)]
    pub archived: bool,
}

#[utoipa::path(get, path = "/api/v1/facilities", tag = "directory",
    params(FacilityFilter, PageQuery),
    responses((status = 200, body = Paged<Facility>), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn list_facilities(
    State(st): State<AppState>,
    p: Principal,
    Query(f): Query<FacilityFilter>,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Facility>>> {
    p.require(Action::DirectoryView)?;
    let limit = page.limit()?;
    let after = match page.after()? {
        Some(c) => Some(Uuid::parse_str(&c).map_err(|_| AppError::field("cursor", "err-invalid"))?),
        None => None,
    };
    let items = store::facilities(
        &st.db,
        f.region.as_deref(),
        f.country.as_deref(),
        after,
        f.archived,
        limit + 1,
    )
    .await?;
    Ok(axum::Json(Paged::from_overfetch(items, limit, |x| {
        x.id.to_string()
    })))
}

#[utoipa::path(post, path = "/api/v1/facilities", tag = "directory", request_body = FacilityInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "retries with the same key return the first answer")),
    responses((status = 201, body = Facility), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn create_facility(
    State(st): State<AppState>,
    p: Principal,
    input: LateJson<FacilityInput>,
) -> AppResult<(StatusCode, axum::Json<Facility>)> {
    p.require(Action::DirectoryManage)?;
    // New facilities are a regional or national decision, not a facility administrator's.
    if !matches!(
        p.scope,
        crate::platform::access::Scope::Region(_) | crate::platform::access::Scope::Country(_)
    ) {
        return Err(AppError::Forbidden);
    }
    let input = input.0?;
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    let probe = Facility {
        id: Uuid::nil(),
        region_id: input.region_id.clone(),
        kind: input.kind.clone(),
        name: input.name.clone(),
        address: String::new(),
        phone: String::new(),
        tz: String::new(),
        archived: false,
    };
    let mut place = probe.place();
    place.facility = None;
    if !p.sees(&place) {
        return Err(AppError::field("region_id", "err-out-of-scope"));
    }
    let mut tx = st.db.begin().await?;
    let id = store::create_facility(&mut tx, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("facility.create", "facility", id).detail(serde_json::json!(input)),
    )
    .await?;
    tx.commit().await?;
    let f = store::facility_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, axum::Json(f)))
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 200, body = Facility), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn get_facility(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Facility>> {
    Ok(axum::Json(
        facility_for(&st, &p, id, Action::DirectoryView).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}", tag = "directory", params(("id" = Uuid, Path)), request_body = FacilityInput,
    responses((status = 200, body = Facility), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn update_facility(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<FacilityInput>,
) -> AppResult<axum::Json<Facility>> {
    let before = facility_for(&st, &p, id, Action::DirectoryManage).await?;
    let input = input.0?;
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    if input.region_id != before.region_id
        && !matches!(p.scope, crate::platform::access::Scope::Country(_))
    {
        return Err(AppError::field("region_id", "err-out-of-scope"));
    }
    let mut tx = st.db.begin().await?;
    store::update_facility(&mut tx, id, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("facility.update", "facility", id).detail(serde_json::json!(input)),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(
        facility_for(&st, &p, id, Action::DirectoryView).await?,
    ))
}

async fn archive(
    st: &AppState,
    p: &Principal,
    table: Table,
    kind: &'static str,
    id: Uuid,
    archived: bool,
) -> AppResult<StatusCode> {
    let mut tx = st.db.begin().await?;
    store::set_archived(&mut tx, table, id, archived).await?;
    audit::append(
        &mut tx,
        &Actor::of(p),
        Event::new(if archived { "archive" } else { "restore" }, kind, id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/archive", tag = "directory", params(("id" = Uuid, Path)), request_body = Archive,
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn archive_facility(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    a: LateJson<Archive>,
) -> AppResult<StatusCode> {
    facility_for(&st, &p, id, Action::DirectoryManage).await?;
    let a = a.0?;
    archive(&st, &p, Table::Facilities, "facility", id, a.archived).await
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/departments", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Department>), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn list_departments(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Vec<Department>>> {
    facility_for(&st, &p, id, Action::DirectoryView).await?;
    Ok(axum::Json(store::departments(&st.db, id, false).await?))
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/departments", tag = "directory", params(("id" = Uuid, Path)), request_body = DepartmentInput,
    responses((status = 201, body = Department), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn create_department(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<DepartmentInput>,
) -> AppResult<(StatusCode, axum::Json<Department>)> {
    facility_for(&st, &p, id, Action::DirectoryManage).await?;
    let input = input.0?;
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    let mut tx = st.db.begin().await?;
    let did = store::create_department(&mut tx, id, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("department.create", "department", did).detail(serde_json::json!(input)),
    )
    .await?;
    tx.commit().await?;
    let d = store::department_by_id(&st.db, did)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, axum::Json(d)))
}

async fn department_for(st: &AppState, p: &Principal, id: Uuid) -> AppResult<Department> {
    let d = store::department_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    facility_for(st, p, d.facility_id, Action::DirectoryManage).await?;
    Ok(d)
}

#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "directory", params(("id" = Uuid, Path)), request_body = DepartmentInput,
    responses((status = 200, body = Department), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn update_department(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<DepartmentInput>,
) -> AppResult<axum::Json<Department>> {
    department_for(&st, &p, id).await?;
    let input = input.0?;
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    let mut tx = st.db.begin().await?;
    store::update_department(&mut tx, id, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("department.update", "department", id).detail(serde_json::json!(input)),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(
        store::department_by_id(&st.db, id)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

#[utoipa::path(post, path = "/api/v1/departments/{id}/archive", tag = "directory", params(("id" = Uuid, Path)), request_body = Archive,
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn archive_department(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    a: LateJson<Archive>,
) -> AppResult<StatusCode> {
    department_for(&st, &p, id).await?;
    let a = a.0?;
    archive(&st, &p, Table::Departments, "department", id, a.archived).await
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/posts", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<SecurityPost>), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn list_posts(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Vec<SecurityPost>>> {
    facility_for(&st, &p, id, Action::DirectoryView).await?;
    Ok(axum::Json(store::posts(&st.db, id, false).await?))
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/posts", tag = "directory", params(("id" = Uuid, Path)), request_body = PostInput,
    responses((status = 201, body = SecurityPost), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn create_post(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<PostInput>,
) -> AppResult<(StatusCode, axum::Json<SecurityPost>)> {
    facility_for(&st, &p, id, Action::DirectoryManage).await?;
    let input = input.0?;
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    check_department(&st, id, input.department_id).await?;
    let mut tx = st.db.begin().await?;
    let pid = store::create_post(&mut tx, id, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("post.create", "security_post", pid).detail(serde_json::json!(input)),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            store::post_by_id(&st.db, pid)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
    ))
}

async fn post_for(st: &AppState, p: &Principal, id: Uuid) -> AppResult<SecurityPost> {
    let x = store::post_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    facility_for(st, p, x.facility_id, Action::DirectoryManage).await?;
    Ok(x)
}

#[utoipa::path(put, path = "/api/v1/posts/{id}", tag = "directory", params(("id" = Uuid, Path)), request_body = PostInput,
    responses((status = 200, body = SecurityPost), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn update_post(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<PostInput>,
) -> AppResult<axum::Json<SecurityPost>> {
    let before = post_for(&st, &p, id).await?;
    let input = input.0?;
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    check_department(&st, before.facility_id, input.department_id).await?;
    let mut tx = st.db.begin().await?;
    store::update_post(&mut tx, id, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("post.update", "security_post", id).detail(serde_json::json!(input)),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(
        store::post_by_id(&st.db, id)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

#[utoipa::path(post, path = "/api/v1/posts/{id}/archive", tag = "directory", params(("id" = Uuid, Path)), request_body = Archive,
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn archive_post(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    a: LateJson<Archive>,
) -> AppResult<StatusCode> {
    post_for(&st, &p, id).await?;
    let a = a.0?;
    archive(&st, &p, Table::Posts, "security_post", id, a.archived).await
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/shifts", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Shift>), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn list_shifts(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Vec<Shift>>> {
    facility_for(&st, &p, id, Action::DirectoryView).await?;
    Ok(axum::Json(store::shifts(&st.db, id).await?))
}

#[utoipa::path(put, path = "/api/v1/facilities/{id}/shifts", tag = "directory", params(("id" = Uuid, Path)), request_body = ShiftInput,
    responses((status = 200, body = Vec<Shift>), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn put_shift(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<ShiftInput>,
) -> AppResult<axum::Json<Vec<Shift>>> {
    facility_for(&st, &p, id, Action::DirectoryManage).await?;
    let input = input.0?;
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    let mut tx = st.db.begin().await?;
    let sid = store::upsert_shift(&mut tx, id, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("shift.define", "shift", sid).detail(serde_json::json!(input)),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(store::shifts(&st.db, id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleFilter {
    pub facility: Option<Uuid>,
    pub department: Option<Uuid>,
    /// Part of a name or employee number.
    pub q: Option<String>,
    #[serde(default)]
    pub archived: bool,
}

#[utoipa::path(get, path = "/api/v1/people", tag = "directory", params(PeopleFilter, PageQuery),
    responses((status = 200, body = Paged<Person>), (status = 403, body = crate::platform::error::ProblemBody)))]
pub async fn list_people(
    State(st): State<AppState>,
    p: Principal,
    Query(f): Query<PeopleFilter>,
    Query(page): Query<PageQuery>,
) -> AppResult<axum::Json<Paged<Person>>> {
    p.require(Action::PeopleView)?;
    let limit = page.limit()?;
    let after = match page.after()? {
        Some(c) => Some(Uuid::parse_str(&c).map_err(|_| AppError::field("cursor", "err-invalid"))?),
        None => None,
    };
    if f.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(AppError::field("q", "err-too-long"));
    }
    let q = PeopleQuery {
        facility: f.facility,
        department: f.department,
        q: f.q,
        after,
        archived: f.archived,
    };
    let items = store::people(&st.db, &p.filter(), &q, limit + 1).await?;
    let page = Paged::from_overfetch(items, limit, |x| x.id.to_string());
    audit_list_read(&st, &p, &page.items).await?;
    Ok(axum::Json(page))
}

/// A list of staff is personal data too: one entry names every person shown.
pub async fn audit_list_read(st: &AppState, p: &Principal, people: &[Person]) -> AppResult<()> {
    if people.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = people.iter().map(|x| x.id.to_string()).collect();
    st.audit
        .record(
            &Actor::of(p),
            Event::new("people.list", "person", "list").detail(serde_json::json!({ "ids": ids })),
        )
        .await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/people", tag = "directory", request_body = PersonInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "retries with the same key return the first answer")),
    responses((status = 201, body = Person), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn create_person(
    State(st): State<AppState>,
    p: Principal,
    input: LateJson<PersonInput>,
) -> AppResult<(StatusCode, axum::Json<Person>)> {
    p.require(Action::PeopleManage)?;
    let input = input.0?;
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    let fid = input
        .facility_id
        .ok_or_else(|| AppError::field("facility_id", "err-required"))?;
    facility_for(&st, &p, fid, Action::PeopleManage).await?;
    check_department(&st, fid, input.department_id).await?;
    let mut tx = st.db.begin().await?;
    let id = store::create_person(&mut tx, fid, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("person.create", "person", id).subject(Some(id)),
    )
    .await?;
    tx.commit().await?;
    let person = store::person_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, axum::Json(person)))
}

async fn check_department(st: &AppState, facility: Uuid, dept: Option<Uuid>) -> AppResult<()> {
    if let Some(d) = dept {
        let ok = store::department_by_id(&st.db, d)
            .await?
            .is_some_and(|d| d.facility_id == facility);
        if !ok {
            return Err(AppError::field("department_id", "err-choice"));
        }
    }
    Ok(())
}

async fn person_for(st: &AppState, p: &Principal, id: Uuid, action: Action) -> AppResult<Person> {
    p.require(action)?;
    let person = store::person_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    p.check(action, &person.place())?;
    Ok(person)
}

#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 200, body = Person), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn get_person(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<axum::Json<Person>> {
    let person = person_for(&st, &p, id, Action::PeopleView).await?;
    st.audit
        .record(
            &Actor::of(&p),
            Event::new("person.read", "person", id).subject(Some(id)),
        )
        .await?;
    Ok(axum::Json(person))
}

#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "directory", params(("id" = Uuid, Path)), request_body = PersonInput,
    responses((status = 200, body = Person), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn update_person(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    input: LateJson<PersonInput>,
) -> AppResult<axum::Json<Person>> {
    let before = person_for(&st, &p, id, Action::PeopleManage).await?;
    let mut input = input.0?;
    input.facility_id = Some(before.facility_id);
    let mut c = Check::new();
    let input = input.check(&mut c);
    c.done()?;
    check_department(&st, before.facility_id, input.department_id).await?;
    let mut tx = st.db.begin().await?;
    store::update_person(&mut tx, id, &input).await?;
    audit::append(
        &mut tx,
        &Actor::of(&p),
        Event::new("person.update", "person", id).subject(Some(id)),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(
        store::person_by_id(&st.db, id)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

#[utoipa::path(post, path = "/api/v1/people/{id}/archive", tag = "directory", params(("id" = Uuid, Path)), request_body = Archive,
    responses((status = 204), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn archive_person(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    a: LateJson<Archive>,
) -> AppResult<StatusCode> {
    person_for(&st, &p, id, Action::PeopleManage).await?;
    let a = a.0?;
    archive(&st, &p, Table::People, "person", id, a.archived).await
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/import/staff", tag = "directory", params(("id" = Uuid, Path)),
    request_body(content = String, content_type = "text/csv", description = "header: employee_no,full_name,profession,department,phone,email"),
    responses((status = 200, body = import::ImportReport), (status = 422, body = crate::platform::error::ProblemBody, description = "each bad row, by line; nothing was imported"), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn import_staff(
    State(st): State<AppState>,
    p: Principal,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    body: String,
) -> AppResult<(StatusCode, axum::Json<import::ImportReport>)> {
    facility_for(&st, &p, id, Action::PeopleManage).await?;
    let report = import::staff(&st, &p, id, &body, ctx.tr)
        .await?
        .into_result()?;
    Ok((StatusCode::OK, axum::Json(report)))
}

#[utoipa::path(post, path = "/api/v1/facilities/{id}/import/roster", tag = "directory", params(("id" = Uuid, Path)),
    request_body(content = String, content_type = "text/csv", description = "header: employee_no,date,shift"),
    responses((status = 200, body = import::ImportReport), (status = 422, body = crate::platform::error::ProblemBody, description = "each bad row, by line; nothing was imported"), (status = 404, body = crate::platform::error::ProblemBody)))]
pub async fn import_roster(
    State(st): State<AppState>,
    p: Principal,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    body: String,
) -> AppResult<(StatusCode, axum::Json<import::ImportReport>)> {
    facility_for(&st, &p, id, Action::PeopleManage).await?;
    let report = import::roster(&st, &p, id, &body, ctx.tr)
        .await?
        .into_result()?;
    Ok((StatusCode::OK, axum::Json(report)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RosterFilter {
    /// First day, YYYY-MM-DD.
    pub from: String,
    /// Last day, YYYY-MM-DD (at most 62 days after `from`).
    pub to: String,
    pub department: Option<Uuid>,
}

#[utoipa::path(get, path = "/api/v1/facilities/{id}/roster", tag = "directory", params(("id" = Uuid, Path), RosterFilter),
    responses((status = 200, body = Vec<RosterEntry>), (status = 404, body = crate::platform::error::ProblemBody), (status = 422, body = crate::platform::error::ProblemBody)))]
pub async fn get_roster(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(f): Query<RosterFilter>,
) -> AppResult<axum::Json<Vec<RosterEntry>>> {
    let fac = facility_for(&st, &p, id, Action::DirectoryView).await?;
    p.check(Action::RosterView, &fac.place())
        .or_else(|e| match (&p.scope, f.department) {
            (crate::platform::access::Scope::Department(d), Some(fd))
                if *d == fd && p.can(Action::RosterView) =>
            {
                Ok(())
            }
            _ => Err(e),
        })?;
    let (Some(from), Some(to)) = (
        crate::platform::validate::parse_date(&f.from),
        crate::platform::validate::parse_date(&f.to),
    ) else {
        return Err(AppError::Validation(vec![
            crate::platform::error::FieldError::new("from", "err-date"),
            crate::platform::error::FieldError::new("to", "err-date"),
        ]));
    };
    let days = from.until(to).map(|s| s.get_days()).unwrap_or(-1);
    if !(0..=62).contains(&days) {
        return Err(AppError::field("to", "err-date-range"));
    }
    Ok(axum::Json(
        store::roster(&st.db, id, f.department, &f.from, &f.to).await?,
    ))
}
