//! Directory pages: regions and facilities; a facility's departments, security posts and shifts;
//! its weekly roster and CSV imports; the staff list and each staff member's record.
//!
//! Reads check access exactly as the JSON routes do (`api::facility_for`, `Principal::check`),
//! and every write calls the `api` handler itself, so a form and a JSON body are judged by the
//! same rules and written with the same store function and audit entry in one transaction. A form
//! that fails its checks is shown again with status 422, what was typed, and one `.field-error`
//! per bad field.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::civil::Date;
use serde::Deserialize;
use uuid::Uuid;

use crate::directory::api::{self, Archive};
use crate::directory::import::{self, ImportReport, ROSTER_HEADER, STAFF_HEADER};
use crate::directory::model::*;
use crate::directory::reference::{self, DEPARTMENT_KINDS, FACILITY_KINDS, PROFESSIONS};
use crate::directory::store::{self, PeopleQuery};
use crate::platform::access::{Action, Place, Principal, Scope};
use crate::platform::error::{AppError, AppResult, FieldError, translate_errors};
use crate::platform::extract::{Form, LateJson, Query};
use crate::platform::i18n::Tr;
use crate::platform::state::AppState;
use crate::platform::validate::parse_date;
use crate::platform::web::{Ctx, PageCtx, render, render_status, urlencode};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/directory", get(index_page))
        .route("/directory/facilities", post(facility_create))
        .route(
            "/directory/facilities/{id}",
            get(facility_page).post(facility_update),
        )
        .route("/directory/facilities/{id}/archive", post(facility_archive))
        .route(
            "/directory/facilities/{id}/departments",
            post(department_create),
        )
        .route(
            "/directory/facilities/{id}/departments/{sub}",
            post(department_update),
        )
        .route(
            "/directory/facilities/{id}/departments/{sub}/archive",
            post(department_archive),
        )
        .route("/directory/facilities/{id}/posts", post(post_create))
        .route("/directory/facilities/{id}/posts/{sub}", post(post_update))
        .route(
            "/directory/facilities/{id}/posts/{sub}/archive",
            post(post_archive),
        )
        .route("/directory/facilities/{id}/shifts", post(shift_put))
        .route("/directory/facilities/{id}/roster", get(roster_page))
        .route("/directory/facilities/{id}/import", get(import_page))
        .route(
            "/directory/facilities/{id}/import/staff",
            post(import_staff),
        )
        .route(
            "/directory/facilities/{id}/import/roster",
            post(import_roster),
        )
        .route("/people", get(people_page).post(person_create))
        .route("/people/new", get(person_new_page))
        .route("/people/{id}", get(person_page).post(person_update))
        .route("/people/{id}/archive", post(person_archive))
}

/// Rows per page in the facility and staff lists.
const PAGE_SIZE: i64 = 50;

// ---------------------------------------------------------------------------------- forms

/// Form fields as sent, by input name.
type Values = HashMap<String, String>;

/// A form as it was sent and what was wrong with it, so the page can show it again. `key` names
/// the form on the page (`dept-new`, `post-<id>` ...); only that form takes the values.
#[derive(Default)]
struct Sent {
    key: String,
    values: Values,
    errors: Vec<FieldError>,
}

impl Sent {
    fn new(key: impl Into<String>, values: Values, tr: Tr, mut errors: Vec<FieldError>) -> Sent {
        translate_errors(tr, &mut errors);
        Sent {
            key: key.into(),
            values,
            errors,
        }
    }
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One input, select or textarea with its label, hint and error, for `directory/form.html`.
pub struct Field {
    pub id: String,
    pub name: &'static str,
    pub label: String,
    /// `text`, `search`, `tel`, `email`, `time`, `date`, `select`, `textarea`, `file`, `checkbox`.
    pub kind: &'static str,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    pub hint: Option<String>,
    pub error: Option<String>,
    /// Ids of the hint and the error, for `aria-describedby`.
    pub described_by: String,
}

pub struct FormView {
    pub id: String,
    /// A heading or `<summary>` for the form, where the page shows one.
    pub title: String,
    pub method: &'static str,
    pub action: String,
    pub multipart: bool,
    pub hidden: Vec<(&'static str, String)>,
    pub fields: Vec<Field>,
    /// Errors about no field shown in this form.
    pub errors: Vec<String>,
    pub submit: String,
    pub submit_class: &'static str,
    /// The form was just sent and refused: open its `<details>`.
    pub open: bool,
}

struct FormBuilder<'a> {
    tr: Tr,
    form: FormView,
    sent: Option<&'a Sent>,
}

impl<'a> FormBuilder<'a> {
    fn new(tr: Tr, key: &str, action: impl Into<String>, sent: &'a Sent) -> FormBuilder<'a> {
        let sent = (sent.key == key).then_some(sent);
        FormBuilder {
            tr,
            sent,
            form: FormView {
                id: key.to_owned(),
                title: String::new(),
                method: "post",
                action: action.into(),
                multipart: false,
                hidden: vec![],
                fields: vec![],
                errors: vec![],
                submit: String::new(),
                submit_class: "",
                open: sent.is_some(),
            },
        }
    }

    fn title(mut self, title: String) -> Self {
        self.form.title = title;
        self
    }

    fn get(mut self) -> Self {
        self.form.method = "get";
        self
    }

    fn multipart(mut self) -> Self {
        self.form.multipart = true;
        self
    }

    fn hidden(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.form.hidden.push((name, value.into()));
        self
    }

    fn push(
        mut self,
        kind: &'static str,
        name: &'static str,
        label_id: &str,
        current: &str,
        options: Vec<(String, String)>,
    ) -> Self {
        let value = match self.sent {
            Some(s) => s.values.get(name).cloned().unwrap_or_default(),
            None => current.to_owned(),
        };
        let error = self
            .sent
            .and_then(|s| s.errors.iter().find(|e| e.field == name))
            .map(|e| e.message.clone());
        let options = options
            .into_iter()
            .map(|(v, label)| Opt {
                selected: v == value,
                value: v,
                label,
            })
            .collect();
        self.form.fields.push(Field {
            id: format!("{}-{}", self.form.id, name),
            name,
            label: self.tr.t(label_id),
            kind,
            checked: value == "true",
            value,
            options,
            hint: None,
            error,
            described_by: String::new(),
        });
        self
    }

    fn input(self, kind: &'static str, name: &'static str, label_id: &str, current: &str) -> Self {
        self.push(kind, name, label_id, current, vec![])
    }

    fn select(
        self,
        name: &'static str,
        label_id: &str,
        current: &str,
        options: Vec<(String, String)>,
    ) -> Self {
        self.push("select", name, label_id, current, options)
    }

    /// A hint under the last field's label.
    fn hint(mut self, text: String) -> Self {
        if let Some(f) = self.form.fields.last_mut() {
            f.hint = Some(text);
        }
        self
    }

    fn done(mut self, submit_id: &str, submit_class: &'static str) -> FormView {
        for f in &mut self.form.fields {
            let mut ids = vec![];
            if f.hint.is_some() {
                ids.push(format!("{}-hint", f.id));
            }
            if f.error.is_some() {
                ids.push(format!("{}-error", f.id));
            }
            f.described_by = ids.join(" ");
        }
        if let Some(s) = self.sent {
            let shown: Vec<&str> = self.form.fields.iter().map(|f| f.name).collect();
            self.form.errors = s
                .errors
                .iter()
                .filter(|e| !shown.contains(&e.field.as_str()))
                .map(|e| e.message.clone())
                .collect();
        }
        self.form.submit = self.tr.t(submit_id);
        self.form.submit_class = submit_class;
        self.form
    }
}

/// The field errors of a refused write, or the error itself if it was not about the input.
/// A unique-key refusal is reported on `dup_field`.
fn form_errors(e: AppError, dup_field: &str) -> AppResult<Vec<FieldError>> {
    match e {
        AppError::Validation(errs) => Ok(errs),
        AppError::Db(d) if d.is_unique_violation() => {
            Ok(vec![FieldError::new(dup_field, "dir-err-duplicate")])
        }
        other => Err(other),
    }
}

fn value(v: &Values, k: &str) -> String {
    v.get(k).cloned().unwrap_or_default()
}

/// An optional id from a select: empty is none; anything else that is not an id becomes the nil
/// id, which the API's own checks then refuse as they would any id that is not on offer.
fn opt_id(v: &Values, k: &str) -> Option<Uuid> {
    let s = value(v, k);
    let s = s.trim();
    if s.is_empty() {
        None
    } else {
        Some(Uuid::parse_str(s).unwrap_or(Uuid::nil()))
    }
}

/// A filter's id in a query string: empty is none, anything else must be an id.
fn query_id(s: &str, field: &str) -> AppResult<Option<Uuid>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(s)
        .map(Some)
        .map_err(|_| AppError::field(field, "err-invalid"))
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The message shown after a write that redirected back with `?done=`.
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "created" => Some("dir-done-created"),
        "saved" => Some("dir-done-saved"),
        "archived" => Some("dir-done-archived"),
        "restored" => Some("dir-done-restored"),
        _ => None,
    }
}

fn page_ctx(ctx: &Ctx, title_id: &str, done: &str) -> PageCtx {
    let page = PageCtx::new(ctx, title_id);
    match done_message(done) {
        Some(id) => page.with_flash(id),
        None => page,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArchiveForm {
    archived: String,
}

impl ArchiveForm {
    fn archive(&self) -> Archive {
        Archive {
            archived: self.archived == "true",
        }
    }
    fn done(&self) -> &'static str {
        if self.archived == "true" {
            "archived"
        } else {
            "restored"
        }
    }
}

fn facility_kind_name(id: &str, tr: Tr) -> String {
    reference::facility_kind(id).map_or_else(|| id.to_owned(), |t| t.name(tr.lang).to_owned())
}

fn profession_name(id: &str, tr: Tr) -> String {
    reference::profession(id).map_or_else(|| id.to_owned(), |t| t.name(tr.lang).to_owned())
}

fn department_kind_name(kind: &str, tr: Tr) -> String {
    tr.t(&format!("dept-{kind}"))
}

fn facility_kind_options(tr: Tr) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), tr.t("dir-choose"))];
    out.extend(
        FACILITY_KINDS
            .iter()
            .map(|t| (t.id.clone(), t.name(tr.lang).to_owned())),
    );
    out
}

fn profession_options(tr: Tr) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), tr.t("dir-choose"))];
    out.extend(
        PROFESSIONS
            .iter()
            .map(|t| (t.id.clone(), t.name(tr.lang).to_owned())),
    );
    out
}

fn department_kind_options(tr: Tr) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), tr.t("dir-choose"))];
    out.extend(
        DEPARTMENT_KINDS
            .iter()
            .map(|k| ((*k).to_owned(), department_kind_name(k, tr))),
    );
    out
}

fn post_cover_options(depts: &[Department], tr: Tr) -> Vec<(String, String)> {
    let mut out = department_options(depts, tr);
    if let Some(first) = out.first_mut() {
        first.1 = tr.t("dir-post-covers-rest");
    }
    out
}

fn department_options(depts: &[Department], tr: Tr) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), tr.t("dir-none"))];
    out.extend(
        depts
            .iter()
            .filter(|d| !d.archived)
            .map(|d| (d.id.to_string(), d.name.clone())),
    );
    out
}

/// Where a new facility in `region` would sit, for the scope check.
fn region_place(r: &Region) -> Place {
    Place {
        country: r.country.clone(),
        region: r.id.clone(),
        ..Place::default()
    }
}

/// A `tel:` link target: the digits and a leading plus, without spaces or brackets.
pub fn tel_href(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let plus = if phone.trim_start().starts_with('+') {
        "+"
    } else {
        ""
    };
    format!("tel:{plus}{digits}")
}

fn country_name(code: &str, tr: Tr) -> String {
    tr.t(&format!("dir-country-{}", code.to_lowercase()))
}

// ---------------------------------------------------------------------------------- /directory

#[derive(Deserialize, Default)]
#[serde(default)]
struct IndexQuery {
    country: String,
    region: String,
    archived: String,
    after: String,
}

pub struct CountryGroup {
    pub code: String,
    pub name: String,
    pub regions: Vec<Region>,
}

pub struct FacilityRow {
    pub href: String,
    pub name: String,
    pub kind: String,
    pub region: String,
    pub phone: String,
    pub archived: bool,
}

#[derive(Template)]
#[template(path = "directory/index.html")]
struct IndexPage {
    page: PageCtx,
    countries: Vec<CountryGroup>,
    filter: FormView,
    facilities: Vec<FacilityRow>,
    first_page: Option<String>,
    next_page: Option<String>,
    new_facility: Option<FormView>,
}

fn facility_input(v: &Values) -> FacilityInput {
    FacilityInput {
        region_id: value(v, "region_id"),
        kind: value(v, "kind"),
        name: value(v, "name"),
        address: value(v, "address"),
        phone: value(v, "phone"),
        tz: value(v, "tz"),
    }
}

/// The facility form, new (`f` none) or editing.
fn facility_form(
    tr: Tr,
    key: &str,
    action: String,
    sent: &Sent,
    regions: Vec<(String, String)>,
    f: Option<&Facility>,
) -> FormView {
    let cur = |g: fn(&Facility) -> &str| f.map(g).unwrap_or("");
    FormBuilder::new(tr, key, action, sent)
        .title(tr.t(if f.is_some() {
            "dir-facility-edit"
        } else {
            "dir-facility-new"
        }))
        .select(
            "region_id",
            "dir-field-region",
            cur(|f| &f.region_id),
            regions,
        )
        .select(
            "kind",
            "dir-field-facility-kind",
            cur(|f| &f.kind),
            facility_kind_options(tr),
        )
        .input("text", "name", "dir-field-name", cur(|f| &f.name))
        .input("text", "address", "dir-field-address", cur(|f| &f.address))
        .input("tel", "phone", "dir-field-phone", cur(|f| &f.phone))
        .input("text", "tz", "dir-field-tz", cur(|f| &f.tz))
        .hint(tr.t("dir-hint-tz"))
        .done(
            if f.is_some() {
                "dir-save"
            } else {
                "dir-facility-create"
            },
            "",
        )
}

async fn index_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    q: &IndexQuery,
    sent: &Sent,
) -> AppResult<IndexPage> {
    p.require(Action::DirectoryView)?;
    let tr = ctx.tr;
    let after = query_id(&q.after, "after")?;
    let regions = store::regions(&st.db, tr.lang).await?;
    let region_names: HashMap<&str, &str> = regions
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    let country = Some(q.country.trim()).filter(|c| !c.is_empty());
    let region = Some(q.region.trim()).filter(|r| !r.is_empty());
    let archived = q.archived == "true";
    let mut items =
        store::facilities(&st.db, region, country, after, archived, PAGE_SIZE + 1).await?;
    let filter_query = format!(
        "country={}&region={}&archived={}",
        urlencode(q.country.trim()),
        urlencode(q.region.trim()),
        if archived { "true" } else { "" }
    );
    let next_page = if items.len() > PAGE_SIZE as usize {
        items.truncate(PAGE_SIZE as usize);
        items
            .last()
            .map(|l| format!("/directory?{filter_query}&after={}", l.id))
    } else {
        None
    };
    let first_page = after.map(|_| format!("/directory?{filter_query}"));
    let facilities = items
        .iter()
        .map(|f| FacilityRow {
            href: format!("/directory/facilities/{}", f.id),
            name: f.name.clone(),
            kind: facility_kind_name(&f.kind, tr),
            region: region_names
                .get(f.region_id.as_str())
                .map_or_else(|| f.region_id.clone(), |n| (*n).to_owned()),
            phone: f.phone.clone(),
            archived: f.archived,
        })
        .collect();

    let mut countries: Vec<CountryGroup> = vec![];
    for r in &regions {
        match countries.last_mut() {
            Some(g) if g.code == r.country => g.regions.push(r.clone()),
            _ => countries.push(CountryGroup {
                code: r.country.clone(),
                name: country_name(&r.country, tr),
                regions: vec![r.clone()],
            }),
        }
    }

    let mut country_opts = vec![(String::new(), tr.t("dir-all"))];
    country_opts.extend(countries.iter().map(|c| (c.code.clone(), c.name.clone())));
    let mut region_opts = vec![(String::new(), tr.t("dir-all"))];
    region_opts.extend(
        regions
            .iter()
            .map(|r| (r.id.clone(), format!("{} ({})", r.name, r.id))),
    );
    let filter = FormBuilder::new(tr, "filter", "/directory", &Sent::default())
        .get()
        .select(
            "country",
            "dir-field-country",
            q.country.trim(),
            country_opts,
        )
        .select("region", "dir-field-region", q.region.trim(), region_opts)
        .input(
            "checkbox",
            "archived",
            "dir-field-show-archived",
            if archived { "true" } else { "" },
        )
        .done("filter", "secondary");

    // A facility-scoped administrator cannot create facilities: only offer the form where some
    // region is within the caller's reach.
    let allowed: Vec<(String, String)> = regions
        .iter()
        .filter(|r| p.sees(&region_place(r)))
        .map(|r| (r.id.clone(), format!("{} ({})", r.name, r.id)))
        .collect();
    let new_facility = (p.can(Action::DirectoryManage) && !allowed.is_empty()).then(|| {
        let mut opts = vec![(String::new(), tr.t("dir-choose"))];
        opts.extend(allowed);
        facility_form(
            tr,
            "facility-new",
            "/directory/facilities".into(),
            sent,
            opts,
            None,
        )
    });

    Ok(IndexPage {
        page: PageCtx::new(ctx, "dir-title"),
        countries,
        filter,
        facilities,
        first_page,
        next_page,
        new_facility,
    })
}

async fn index_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<IndexQuery>,
) -> AppResult<Response> {
    Ok(render(
        &index_view(&st, &ctx, &p, &q, &Sent::default()).await?,
    ))
}

async fn facility_create(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = facility_input(&v);
    let errs = match api::create_facility(State(st.clone()), p.clone(), LateJson(Ok(input))).await {
        Ok((_, axum::Json(f))) => {
            return Ok(see_other(&format!(
                "/directory/facilities/{}?done=created",
                f.id
            )));
        }
        Err(e) => form_errors(e, "name")?,
    };
    let sent = Sent::new("facility-new", v, ctx.tr, errs);
    let view = index_view(&st, &ctx, &p, &IndexQuery::default(), &sent).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view))
}

// ---------------------------------------------------------------------------------- a facility

#[derive(Deserialize, Default)]
#[serde(default)]
struct DoneQuery {
    done: String,
}

pub struct DeptRow {
    pub d: Department,
    pub kind: String,
    pub edit: Option<FormView>,
}

pub struct PostRow {
    pub x: SecurityPost,
    pub tel: String,
    /// The name of the department it answers for; none: the rest of the facility.
    pub covers: Option<String>,
    pub edit: Option<FormView>,
}

pub struct ShiftRow {
    pub s: Shift,
    pub overnight: bool,
    pub edit: Option<FormView>,
}

pub struct Link {
    pub href: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "directory/facility.html")]
struct FacilityPage {
    page: PageCtx,
    f: Facility,
    kind: String,
    region: String,
    tel: String,
    local_time: String,
    /// The id of the form that was just refused, to link to from the top of the page.
    refused: Option<String>,
    links: Vec<Link>,
    departments: Vec<DeptRow>,
    posts: Vec<PostRow>,
    shifts: Vec<ShiftRow>,
    edit: Option<FormView>,
    new_department: Option<FormView>,
    new_post: Option<FormView>,
    new_shift: Option<FormView>,
}

/// Wall-clock time now in `tz`, with its offset from UTC.
fn local_now(tz: &str) -> String {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now()
        .to_zoned_datetime(zone)
        .strftime("%Y-%m-%d %H:%M (UTC%:z)")
        .to_string()
}

/// Today's date in `tz`.
fn local_today(tz: &str) -> Date {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned_datetime(zone).date()
}

fn department_form(tr: Tr, base: &str, sent: &Sent, d: Option<&Department>) -> FormView {
    let (key, action, title, submit) = match d {
        Some(d) => (
            format!("dept-{}", d.id),
            format!("{base}/departments/{}", d.id),
            tr.args("dir-edit-named", &[("name", &d.name)]),
            "dir-save",
        ),
        None => (
            "dept-new".to_owned(),
            format!("{base}/departments"),
            tr.t("dir-department-new"),
            "dir-department-create",
        ),
    };
    let cur = |g: fn(&Department) -> &str| d.map(g).unwrap_or("");
    FormBuilder::new(tr, &key, action, sent)
        .title(title)
        .select(
            "kind",
            "dir-field-department-kind",
            cur(|d| &d.kind),
            department_kind_options(tr),
        )
        .input("text", "name", "dir-field-name", cur(|d| &d.name))
        .input("text", "floor", "dir-field-floor", cur(|d| &d.floor))
        .done(submit, "")
}

fn post_form(
    tr: Tr,
    base: &str,
    sent: &Sent,
    depts: &[Department],
    x: Option<&SecurityPost>,
) -> FormView {
    let (key, action, title, submit) = match x {
        Some(x) => (
            format!("post-{}", x.id),
            format!("{base}/posts/{}", x.id),
            tr.args("dir-edit-named", &[("name", &x.name)]),
            "dir-save",
        ),
        None => (
            "post-new".to_owned(),
            format!("{base}/posts"),
            tr.t("dir-post-new"),
            "dir-post-create",
        ),
    };
    let cur = |g: fn(&SecurityPost) -> &str| x.map(g).unwrap_or("");
    FormBuilder::new(tr, &key, action, sent)
        .title(title)
        .input("text", "name", "dir-field-name", cur(|x| &x.name))
        .input(
            "text",
            "location",
            "dir-field-location",
            cur(|x| &x.location),
        )
        .input("tel", "phone", "dir-field-phone", cur(|x| &x.phone))
        .input(
            "text",
            "hours",
            "dir-field-hours",
            x.map_or("24/7", |x| &x.hours),
        )
        .hint(tr.t("dir-hint-hours"))
        .select(
            "department_id",
            "dir-field-post-covers",
            &x.and_then(|x| x.department_id)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            post_cover_options(depts, tr),
        )
        .hint(tr.t("dir-hint-post-covers"))
        .done(submit, "")
}

/// Shifts are keyed by code: saving a code that exists redefines its times.
fn shift_form(tr: Tr, base: &str, sent: &Sent, s: Option<&Shift>) -> FormView {
    let action = format!("{base}/shifts");
    match s {
        Some(s) => FormBuilder::new(tr, &format!("shift-{}", s.code), action, sent)
            .title(tr.args("dir-edit-named", &[("name", &s.code)]))
            .hidden("code", s.code.clone())
            .input("time", "starts", "dir-field-starts", &s.starts)
            .input("time", "ends", "dir-field-ends", &s.ends)
            .done("dir-save", ""),
        None => FormBuilder::new(tr, "shift-new", action, sent)
            .title(tr.t("dir-shift-new"))
            .input("text", "code", "dir-field-code", "")
            .hint(tr.t("dir-hint-shift-code"))
            .input("time", "starts", "dir-field-starts", "")
            .input("time", "ends", "dir-field-ends", "")
            .done("dir-shift-create", ""),
    }
}

async fn facility_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: Uuid,
    sent: &Sent,
    done: &str,
) -> AppResult<FacilityPage> {
    let tr = ctx.tr;
    let f = api::facility_for(st, p, id, Action::DirectoryView).await?;
    let place = f.place();
    let can_manage = p.can(Action::DirectoryManage) && p.sees(&place);
    let regions = store::regions(&st.db, tr.lang).await?;
    let region = regions
        .iter()
        .find(|r| r.id == f.region_id)
        .map_or_else(|| f.region_id.clone(), |r| format!("{} ({})", r.name, r.id));
    let base = format!("/directory/facilities/{id}");

    let in_reach = p.sees(&place) || matches!(p.scope, Scope::Department(_));
    let mut links = vec![];
    if p.can(Action::PeopleView) && in_reach {
        links.push(Link {
            href: format!("/people?facility={id}"),
            label: tr.t("dir-staff-link"),
        });
    }
    if p.can(Action::RosterView) && in_reach {
        links.push(Link {
            href: format!("{base}/roster"),
            label: tr.t("dir-roster-link"),
        });
    }
    if p.can(Action::PeopleManage) && p.sees(&place) {
        links.push(Link {
            href: format!("{base}/import"),
            label: tr.t("dir-import-link"),
        });
    }

    let depts = store::departments(&st.db, id, can_manage).await?;
    let departments = depts
        .iter()
        .cloned()
        .map(|d| DeptRow {
            kind: department_kind_name(&d.kind, tr),
            edit: can_manage.then(|| department_form(tr, &base, sent, Some(&d))),
            d,
        })
        .collect();
    let posts = store::posts(&st.db, id, can_manage)
        .await?
        .into_iter()
        .map(|x| PostRow {
            tel: tel_href(&x.phone),
            covers: x
                .department_id
                .and_then(|d| depts.iter().find(|x| x.id == d))
                .map(|d| d.name.clone()),
            edit: can_manage.then(|| post_form(tr, &base, sent, &depts, Some(&x))),
            x,
        })
        .collect();
    let shifts = store::shifts(&st.db, id)
        .await?
        .into_iter()
        .map(|s| ShiftRow {
            overnight: s.crosses_midnight(),
            edit: can_manage.then(|| shift_form(tr, &base, sent, Some(&s))),
            s,
        })
        .collect();

    let edit = can_manage.then(|| {
        // Only a country-wide administrator may move a facility to another region.
        let opts = regions
            .iter()
            .filter(|r| {
                r.id == f.region_id
                    || (matches!(p.scope, Scope::Country(_)) && p.sees(&region_place(r)))
            })
            .map(|r| (r.id.clone(), format!("{} ({})", r.name, r.id)))
            .collect();
        facility_form(tr, "facility", base.clone(), sent, opts, Some(&f))
    });

    let mut page = page_ctx(ctx, "dir-facility-title", done);
    page.title = f.name.clone();
    Ok(FacilityPage {
        page,
        kind: facility_kind_name(&f.kind, tr),
        region,
        tel: tel_href(&f.phone),
        local_time: local_now(&f.tz),
        refused: Some(sent.key.clone()).filter(|k| !k.is_empty()),
        links,
        departments,
        posts,
        shifts,
        edit,
        new_department: can_manage.then(|| department_form(tr, &base, sent, None)),
        new_post: can_manage.then(|| post_form(tr, &base, sent, &depts, None)),
        new_shift: can_manage.then(|| shift_form(tr, &base, sent, None)),
        f,
    })
}

async fn facility_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    Ok(render(
        &facility_view(&st, &ctx, &p, id, &Sent::default(), &q.done).await?,
    ))
}

/// After a write on a facility's page: back to the page, or the page again with the form's
/// errors.
async fn facility_outcome<T>(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: Uuid,
    (key, v): (String, Values),
    result: AppResult<T>,
    done: &str,
) -> AppResult<Response> {
    let errs = match result {
        Ok(_) => {
            return Ok(see_other(&format!(
                "/directory/facilities/{id}?done={done}"
            )));
        }
        Err(e) => form_errors(e, "code")?,
    };
    let sent = Sent::new(key, v, ctx.tr, errs);
    let view = facility_view(st, ctx, p, id, &sent, "").await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view))
}

async fn facility_update(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let r = api::update_facility(
        State(st.clone()),
        p.clone(),
        Path(id),
        LateJson(Ok(facility_input(&v))),
    )
    .await;
    facility_outcome(&st, &ctx, &p, id, ("facility".into(), v), r, "saved").await
}

async fn facility_archive(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(a): Form<ArchiveForm>,
) -> AppResult<Response> {
    api::archive_facility(State(st), p, Path(id), LateJson(Ok(a.archive()))).await?;
    Ok(see_other(&format!(
        "/directory/facilities/{id}?done={}",
        a.done()
    )))
}

fn department_input(v: &Values) -> DepartmentInput {
    DepartmentInput {
        kind: value(v, "kind"),
        name: value(v, "name"),
        floor: value(v, "floor"),
    }
}

/// A department of this facility (404 for one of another facility).
async fn department_in(st: &AppState, facility: Uuid, id: Uuid) -> AppResult<Department> {
    store::department_by_id(&st.db, id)
        .await?
        .filter(|d| d.facility_id == facility)
        .ok_or(AppError::NotFound)
}

async fn department_create(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let r = api::create_department(
        State(st.clone()),
        p.clone(),
        Path(id),
        LateJson(Ok(department_input(&v))),
    )
    .await;
    facility_outcome(&st, &ctx, &p, id, ("dept-new".into(), v), r, "created").await
}

async fn department_update(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path((id, sub)): Path<(Uuid, Uuid)>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    department_in(&st, id, sub).await?;
    let r = api::update_department(
        State(st.clone()),
        p.clone(),
        Path(sub),
        LateJson(Ok(department_input(&v))),
    )
    .await;
    facility_outcome(&st, &ctx, &p, id, (format!("dept-{sub}"), v), r, "saved").await
}

async fn department_archive(
    State(st): State<AppState>,
    p: Principal,
    Path((id, sub)): Path<(Uuid, Uuid)>,
    Form(a): Form<ArchiveForm>,
) -> AppResult<Response> {
    department_in(&st, id, sub).await?;
    api::archive_department(State(st), p, Path(sub), LateJson(Ok(a.archive()))).await?;
    Ok(see_other(&format!(
        "/directory/facilities/{id}?done={}",
        a.done()
    )))
}

fn post_input(v: &Values) -> PostInput {
    PostInput {
        name: value(v, "name"),
        location: value(v, "location"),
        phone: value(v, "phone"),
        hours: value(v, "hours"),
        // A malformed id is refused by the department check as an unknown choice.
        department_id: match value(v, "department_id").trim() {
            "" => None,
            d => Some(Uuid::parse_str(d).unwrap_or(Uuid::nil())),
        },
    }
}

/// A security post of this facility (404 for one of another facility).
async fn post_in(st: &AppState, facility: Uuid, id: Uuid) -> AppResult<SecurityPost> {
    store::post_by_id(&st.db, id)
        .await?
        .filter(|x| x.facility_id == facility)
        .ok_or(AppError::NotFound)
}

async fn post_create(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let r = api::create_post(
        State(st.clone()),
        p.clone(),
        Path(id),
        LateJson(Ok(post_input(&v))),
    )
    .await;
    facility_outcome(&st, &ctx, &p, id, ("post-new".into(), v), r, "created").await
}

async fn post_update(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path((id, sub)): Path<(Uuid, Uuid)>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    post_in(&st, id, sub).await?;
    let r = api::update_post(
        State(st.clone()),
        p.clone(),
        Path(sub),
        LateJson(Ok(post_input(&v))),
    )
    .await;
    facility_outcome(&st, &ctx, &p, id, (format!("post-{sub}"), v), r, "saved").await
}

async fn post_archive(
    State(st): State<AppState>,
    p: Principal,
    Path((id, sub)): Path<(Uuid, Uuid)>,
    Form(a): Form<ArchiveForm>,
) -> AppResult<Response> {
    post_in(&st, id, sub).await?;
    api::archive_post(State(st), p, Path(sub), LateJson(Ok(a.archive()))).await?;
    Ok(see_other(&format!(
        "/directory/facilities/{id}?done={}",
        a.done()
    )))
}

async fn shift_put(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = ShiftInput {
        code: value(&v, "code"),
        starts: value(&v, "starts"),
        ends: value(&v, "ends"),
    };
    // The form for an existing shift carries its code hidden; errors go back to that form.
    let existing = store::shifts(&st.db, id)
        .await?
        .iter()
        .any(|s| s.code == input.code.trim());
    let key = if existing {
        format!("shift-{}", input.code.trim())
    } else {
        "shift-new".to_owned()
    };
    let r = api::put_shift(State(st.clone()), p.clone(), Path(id), LateJson(Ok(input))).await;
    facility_outcome(&st, &ctx, &p, id, (key, v), r, "saved").await
}

// ---------------------------------------------------------------------------------- roster

#[derive(Deserialize, Default)]
#[serde(default)]
struct RosterQuery {
    week: String,
    department: String,
}

pub struct DayHead {
    pub date: String,
    pub weekday: String,
    pub short: String,
    pub weekend: bool,
}

pub struct RosterRow {
    pub employee_no: String,
    pub name: String,
    pub href: Option<String>,
    /// Shift codes per day, joined.
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "directory/roster.html")]
struct RosterPage {
    page: PageCtx,
    f: Facility,
    caption: String,
    days: Vec<DayHead>,
    rows: Vec<RosterRow>,
    prev: String,
    next: String,
    this_week: String,
    filter: Option<FormView>,
    shifts: Vec<ShiftRow>,
}

/// The Monday of the week that holds `d`.
pub fn week_start(d: Date) -> Date {
    let back = i64::from(d.weekday().to_monday_zero_offset());
    d.checked_sub(jiff::Span::new().days(back)).unwrap_or(d)
}

/// `d` plus `n` days (or `d` at the ends of the calendar).
fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// People by employee number, each with their shift codes on each of `days`.
pub fn roster_grid(entries: &[RosterEntry], days: &[Date]) -> Vec<(Uuid, String, Vec<String>)> {
    let index: HashMap<String, usize> = days
        .iter()
        .enumerate()
        .map(|(i, d)| (d.to_string(), i))
        .collect();
    let mut rows: BTreeMap<(String, Uuid), Vec<Vec<String>>> = BTreeMap::new();
    for e in entries {
        let Some(&i) = index.get(&e.day) else {
            continue;
        };
        let cells = rows
            .entry((e.employee_no.clone(), e.person_id))
            .or_insert_with(|| vec![vec![]; days.len()]);
        if !cells[i].contains(&e.shift) {
            cells[i].push(e.shift.clone());
        }
    }
    rows.into_iter()
        .map(|((no, id), cells)| (id, no, cells.into_iter().map(|c| c.join(" / ")).collect()))
        .collect()
}

async fn roster_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<RosterQuery>,
) -> AppResult<Response> {
    let tr = ctx.tr;
    let f = api::facility_for(&st, &p, id, Action::DirectoryView).await?;
    p.require(Action::RosterView)?;
    let asked = query_id(&q.department, "department")?;
    // A head of department sees the roster of their own department, as the API allows.
    let (department, dept_scoped) = match p.scope {
        _ if p.sees(&f.place()) => (asked, false),
        Scope::Department(d) => (Some(department_in(&st, id, d).await?.id), true),
        _ => return Err(AppError::NotFound),
    };
    let week = q.week.trim();
    let day = if week.is_empty() {
        local_today(&f.tz)
    } else {
        parse_date(week).ok_or_else(|| AppError::field("week", "err-date"))?
    };
    let monday = week_start(day);
    let dates: Vec<Date> = (0..7).map(|i| add_days(monday, i)).collect();
    let sunday = dates[6];
    let entries = store::roster(
        &st.db,
        id,
        department,
        &monday.to_string(),
        &sunday.to_string(),
    )
    .await?;
    let grid = roster_grid(&entries, &dates);

    // Names are personal data: shown to those who may see staff, and the reading is recorded.
    let mut names: HashMap<Uuid, Person> = HashMap::new();
    if p.can(Action::PeopleView) && !grid.is_empty() {
        let people = store::people(
            &st.db,
            &p.filter(),
            &PeopleQuery {
                facility: Some(id),
                department,
                archived: true,
                ..Default::default()
            },
            20_000,
        )
        .await?;
        let shown: Vec<Person> = people
            .into_iter()
            .filter(|x| grid.iter().any(|(pid, _, _)| *pid == x.id))
            .collect();
        api::audit_list_read(&st, &p, &shown).await?;
        names = shown.into_iter().map(|x| (x.id, x)).collect();
    }
    let rows = grid
        .into_iter()
        .map(|(pid, no, cells)| {
            let person = names.get(&pid);
            RosterRow {
                employee_no: no,
                name: person.map(|x| x.full_name.clone()).unwrap_or_default(),
                href: person.map(|x| format!("/people/{}", x.id)),
                cells,
            }
        })
        .collect();
    let days = dates
        .iter()
        .map(|d| {
            let n = d.weekday().to_monday_one_offset();
            DayHead {
                date: d.to_string(),
                weekday: tr.t(&format!("dir-weekday-{n}")),
                short: d.strftime("%d.%m").to_string(),
                weekend: n >= 6,
            }
        })
        .collect();

    let base = format!("/directory/facilities/{id}/roster");
    let dept_q = if dept_scoped {
        String::new()
    } else {
        department.map_or_else(String::new, |d| format!("&department={d}"))
    };
    let filter = if dept_scoped {
        None
    } else {
        let depts = store::departments(&st.db, id, false).await?;
        let mut opts = vec![(String::new(), tr.t("dir-all"))];
        opts.extend(depts.iter().map(|d| (d.id.to_string(), d.name.clone())));
        Some(
            FormBuilder::new(tr, "filter", base.clone(), &Sent::default())
                .get()
                .hidden("week", monday.to_string())
                .select(
                    "department",
                    "dir-field-department",
                    &department.map(|d| d.to_string()).unwrap_or_default(),
                    opts,
                )
                .done("filter", "secondary"),
        )
    };
    let shifts = store::shifts(&st.db, id)
        .await?
        .into_iter()
        .map(|s| ShiftRow {
            overnight: s.crosses_midnight(),
            edit: None,
            s,
        })
        .collect();
    let mut page = PageCtx::new(&ctx, "dir-roster-title");
    page.title = format!("{} · {}", tr.t("dir-roster-title"), f.name);
    Ok(render(&RosterPage {
        page,
        caption: tr.args(
            "dir-roster-week",
            &[("from", &monday.to_string()), ("to", &sunday.to_string())],
        ),
        days,
        rows,
        prev: format!("{base}?week={}{dept_q}", add_days(monday, -7)),
        next: format!("{base}?week={}{dept_q}", add_days(monday, 7)),
        this_week: format!("{base}?week={}{dept_q}", week_start(local_today(&f.tz))),
        filter,
        shifts,
        f,
    }))
}

// ---------------------------------------------------------------------------------- import

pub struct ReportView {
    pub errors: Vec<import::RowError>,
}

pub struct CodeRow {
    pub code: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "directory/import.html")]
struct ImportPage {
    page: PageCtx,
    f: Facility,
    staff: FormView,
    roster: FormView,
    staff_header: String,
    staff_sample: String,
    roster_header: String,
    roster_sample: String,
    report: Option<ReportView>,
    professions: Vec<CodeRow>,
    departments: Vec<CodeRow>,
    shifts: Vec<CodeRow>,
}

fn import_form(tr: Tr, base: &str, key: &'static str, sent: &Sent) -> FormView {
    FormBuilder::new(tr, key, format!("{base}/import/{key}"), sent)
        .title(tr.t(if key == "staff" {
            "dir-import-staff"
        } else {
            "dir-import-roster"
        }))
        .multipart()
        .input("textarea", "csv", "dir-field-csv", "")
        .input("file", "file", "dir-field-file", "")
        .hint(tr.t("dir-hint-file"))
        .done("dir-import-submit", "")
}

async fn import_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: Uuid,
    sent: &Sent,
    report: Option<ReportView>,
) -> AppResult<ImportPage> {
    let tr = ctx.tr;
    let f = api::facility_for(st, p, id, Action::PeopleManage).await?;
    let base = format!("/directory/facilities/{id}");
    let depts = store::departments(&st.db, id, false).await?;
    let shifts = store::shifts(&st.db, id).await?;
    let sample_dept = depts.first().map_or("", |d| d.kind.as_str());
    let sample_shift = shifts.first().map_or("day", |s| s.code.as_str());
    let today = local_today(&f.tz);
    let mut page = PageCtx::new(ctx, "dir-import-title");
    page.title = format!("{} · {}", tr.t("dir-import-title"), f.name);
    Ok(ImportPage {
        page,
        staff: import_form(tr, &base, "staff", sent),
        roster: import_form(tr, &base, "roster", sent),
        staff_header: STAFF_HEADER.join(","),
        staff_sample: format!(
            "{}\nA0001,Айгүл Серікқызы,nurse,{sample_dept},+7 701 000 00 00,\nA0002,Бакыт Асанов,doctor,,,b.asanov@example.kz",
            STAFF_HEADER.join(",")
        ),
        roster_header: ROSTER_HEADER.join(","),
        roster_sample: format!(
            "{}\nA0001,{today},{sample_shift}\nA0002,{},{sample_shift}",
            ROSTER_HEADER.join(","),
            add_days(today, 1)
        ),
        report,
        professions: PROFESSIONS
            .iter()
            .map(|t| CodeRow {
                code: t.id.clone(),
                name: t.name(tr.lang).to_owned(),
            })
            .collect(),
        departments: depts
            .iter()
            .map(|d| CodeRow {
                code: d.kind.clone(),
                name: d.name.clone(),
            })
            .collect(),
        shifts: shifts
            .iter()
            .map(|s| CodeRow {
                code: s.code.clone(),
                name: format!("{}–{}", s.starts, s.ends),
            })
            .collect(),
        f,
    })
}

async fn import_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    Ok(render(
        &import_view(&st, &ctx, &p, id, &Sent::default(), None).await?,
    ))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::BadRequest(e.body_text())
    }
}

/// The pasted text and the chosen file; the file wins when both are given.
async fn read_upload(mut mp: Multipart) -> AppResult<(Values, Result<String, FieldError>)> {
    let mut text = String::new();
    let mut file: Option<Result<String, FieldError>> = None;
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("csv") => text = field.text().await.map_err(multipart_error)?,
            Some("file") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                if !bytes.is_empty() {
                    file = Some(
                        String::from_utf8(bytes.to_vec())
                            .map_err(|_| FieldError::new("file", "dir-err-not-utf8")),
                    );
                }
            }
            _ => {}
        }
    }
    let body = match file {
        Some(f) => f,
        None if text.trim().is_empty() => Err(FieldError::new("csv", "err-required")),
        None => Ok(text.clone()),
    };
    let values = HashMap::from([("csv".to_owned(), text)]);
    Ok((values, body))
}

async fn import_submit(
    st: AppState,
    ctx: Ctx,
    p: Principal,
    id: Uuid,
    kind: &'static str,
    mp: Multipart,
) -> AppResult<Response> {
    api::facility_for(&st, &p, id, Action::PeopleManage).await?;
    let (values, body) = read_upload(mp).await?;
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let sent = Sent::new(kind, values, ctx.tr, vec![e]);
            let view = import_view(&st, &ctx, &p, id, &sent, None).await?;
            return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view));
        }
    };
    let report: ImportReport = if kind == "staff" {
        import::staff(&st, &p, id, &body, ctx.tr).await?
    } else {
        import::roster(&st, &p, id, &body, ctx.tr).await?
    };
    if report.errors.is_empty() {
        let mut view = import_view(&st, &ctx, &p, id, &Sent::default(), None).await?;
        let msg = if kind == "staff" {
            "dir-import-staff-done"
        } else {
            "dir-import-roster-done"
        };
        view.page.flash = Some(ctx.tr.args(msg, &[("n", &report.imported.to_string())]));
        Ok(render(&view))
    } else {
        // Keep what was pasted, and open no field error: the report says what is wrong.
        let sent = Sent::new(kind, values, ctx.tr, vec![]);
        let view = import_view(
            &st,
            &ctx,
            &p,
            id,
            &sent,
            Some(ReportView {
                errors: report.errors,
            }),
        )
        .await?;
        Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view))
    }
}

async fn import_staff(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    mp: Multipart,
) -> AppResult<Response> {
    import_submit(st, ctx, p, id, "staff", mp).await
}

async fn import_roster(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    mp: Multipart,
) -> AppResult<Response> {
    import_submit(st, ctx, p, id, "roster", mp).await
}

// ---------------------------------------------------------------------------------- /people

/// Facilities whose staff the caller may reach, for pickers.
async fn facilities_in_scope(st: &AppState, p: &Principal) -> AppResult<Vec<Facility>> {
    Ok(match &p.scope {
        Scope::Own => vec![],
        Scope::Facility(f) => store::facility_by_id(&st.db, *f)
            .await?
            .into_iter()
            .collect(),
        Scope::Department(d) => match store::department_by_id(&st.db, *d).await? {
            Some(d) => store::facility_by_id(&st.db, d.facility_id)
                .await?
                .into_iter()
                .collect(),
            None => vec![],
        },
        Scope::Region(r) => store::facilities(&st.db, Some(r), None, None, false, 1000).await?,
        Scope::Country(c) => {
            store::facilities(&st.db, None, c.as_deref(), None, false, 1000).await?
        }
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PeopleParams {
    q: String,
    facility: String,
    department: String,
    archived: String,
    after: String,
}

pub struct PersonRow {
    pub href: String,
    pub employee_no: String,
    pub full_name: String,
    pub profession: String,
    pub facility: String,
    pub department: String,
    pub archived: bool,
}

#[derive(Template)]
#[template(path = "directory/people.html")]
struct PeoplePage {
    page: PageCtx,
    filter: FormView,
    rows: Vec<PersonRow>,
    first_page: Option<String>,
    next_page: Option<String>,
    new_href: Option<String>,
}

async fn people_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<PeopleParams>,
) -> AppResult<Response> {
    p.require(Action::PeopleView)?;
    let tr = ctx.tr;
    let after = query_id(&q.after, "after")?;
    let facility = query_id(&q.facility, "facility")?;
    let department = query_id(&q.department, "department")?;
    let archived = q.archived == "true";
    let mut errors = vec![];
    if q.q.chars().count() > 100 {
        errors.push(FieldError::new("q", "err-too-long"));
    }

    let facilities = facilities_in_scope(&st, &p).await?;
    let mut fac_names: HashMap<Uuid, String> =
        facilities.iter().map(|f| (f.id, f.name.clone())).collect();
    // Departments can be chosen once the list is narrowed to one facility (a head of
    // department sees only their own).
    let one_facility = facility.or_else(|| (facilities.len() == 1).then(|| facilities[0].id));
    let depts = match one_facility {
        Some(f) if !matches!(p.scope, Scope::Department(_)) => {
            store::departments(&st.db, f, false).await?
        }
        _ => vec![],
    };

    let mut items = if errors.is_empty() {
        let query = PeopleQuery {
            facility,
            department,
            q: Some(q.q.clone()).filter(|s| !s.trim().is_empty()),
            after,
            archived,
        };
        store::people(&st.db, &p.filter(), &query, PAGE_SIZE + 1).await?
    } else {
        vec![]
    };
    let filter_query = format!(
        "q={}&facility={}&department={}&archived={}",
        urlencode(q.q.trim()),
        facility.map(|f| f.to_string()).unwrap_or_default(),
        department.map(|d| d.to_string()).unwrap_or_default(),
        if archived { "true" } else { "" }
    );
    let next_page = if items.len() > PAGE_SIZE as usize {
        items.truncate(PAGE_SIZE as usize);
        items
            .last()
            .map(|l| format!("/people?{filter_query}&after={}", l.id))
    } else {
        None
    };
    let first_page = after.map(|_| format!("/people?{filter_query}"));
    api::audit_list_read(&st, &p, &items).await?;

    let mut dept_names: HashMap<Uuid, String> = HashMap::new();
    let mut seen = vec![];
    for x in &items {
        if seen.contains(&x.facility_id) {
            continue;
        }
        seen.push(x.facility_id);
        if !fac_names.contains_key(&x.facility_id)
            && let Some(f) = store::facility_by_id(&st.db, x.facility_id).await?
        {
            fac_names.insert(f.id, f.name);
        }
        for d in store::departments(&st.db, x.facility_id, true).await? {
            dept_names.insert(d.id, d.name);
        }
    }
    let rows = items
        .iter()
        .map(|x| PersonRow {
            href: format!("/people/{}", x.id),
            employee_no: x.employee_no.clone(),
            full_name: x.full_name.clone(),
            profession: profession_name(&x.profession, tr),
            facility: fac_names.get(&x.facility_id).cloned().unwrap_or_default(),
            department: x
                .department_id
                .and_then(|d| dept_names.get(&d).cloned())
                .unwrap_or_default(),
            archived: x.archived,
        })
        .collect();

    let mut fac_opts = vec![(String::new(), tr.t("dir-all"))];
    fac_opts.extend(
        facilities
            .iter()
            .map(|f| (f.id.to_string(), f.name.clone())),
    );
    let values = HashMap::from([
        ("q".to_owned(), q.q.clone()),
        (
            "facility".to_owned(),
            facility.map(|f| f.to_string()).unwrap_or_default(),
        ),
        (
            "department".to_owned(),
            department.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (
            "archived".to_owned(),
            if archived { "true" } else { "" }.to_owned(),
        ),
    ]);
    let sent = Sent::new("filter", values, tr, errors.clone());
    let mut filter = FormBuilder::new(tr, "filter", "/people", &sent)
        .get()
        .input("search", "q", "dir-field-search", "");
    if facilities.len() > 1 {
        filter = filter.select("facility", "dir-field-facility", "", fac_opts);
    }
    if !depts.is_empty() {
        let mut opts = vec![(String::new(), tr.t("dir-all"))];
        opts.extend(depts.iter().map(|d| (d.id.to_string(), d.name.clone())));
        filter = filter.select("department", "dir-field-department", "", opts);
    }
    let mut filter = filter
        .input("checkbox", "archived", "dir-field-show-archived", "")
        .done("filter", "secondary");
    filter.open = false;

    let new_href =
        (p.can(Action::PeopleManage) && !facilities.is_empty()).then(|| match facility {
            Some(f) => format!("/people/new?facility={f}"),
            None => "/people/new".to_owned(),
        });
    let view = PeoplePage {
        page: PageCtx::new(&ctx, "dir-people-title"),
        filter,
        rows,
        first_page,
        next_page,
        new_href,
    };
    Ok(if errors.is_empty() {
        render(&view)
    } else {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
    })
}

fn person_input(v: &Values) -> PersonInput {
    PersonInput {
        facility_id: opt_id(v, "facility_id"),
        department_id: opt_id(v, "department_id"),
        employee_no: value(v, "employee_no"),
        full_name: value(v, "full_name"),
        profession: value(v, "profession"),
        phone: value(v, "phone"),
        email: value(v, "email"),
    }
}

fn person_form(
    tr: Tr,
    key: &str,
    action: String,
    sent: &Sent,
    depts: &[Department],
    x: Option<&Person>,
) -> FormView {
    let cur = |g: fn(&Person) -> &str| x.map(g).unwrap_or("");
    let dept = x
        .and_then(|x| x.department_id)
        .map(|d| d.to_string())
        .unwrap_or_default();
    FormBuilder::new(tr, key, action, sent)
        .title(tr.t(if x.is_some() {
            "dir-person-edit"
        } else {
            "dir-person-new"
        }))
        .input(
            "text",
            "employee_no",
            "dir-field-employee-no",
            cur(|x| &x.employee_no),
        )
        .input(
            "text",
            "full_name",
            "dir-field-full-name",
            cur(|x| &x.full_name),
        )
        .select(
            "profession",
            "dir-field-profession",
            cur(|x| &x.profession),
            profession_options(tr),
        )
        .select(
            "department_id",
            "dir-field-department",
            &dept,
            department_options(depts, tr),
        )
        .input("tel", "phone", "dir-field-phone", cur(|x| &x.phone))
        .input("email", "email", "dir-field-email", cur(|x| &x.email))
        .done(
            if x.is_some() {
                "dir-save"
            } else {
                "dir-person-create"
            },
            "",
        )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewPersonQuery {
    facility: String,
}

#[derive(Template)]
#[template(path = "directory/person_new.html")]
struct NewPersonPage {
    page: PageCtx,
    facility: Option<Facility>,
    choose: Option<FormView>,
    form: Option<FormView>,
}

async fn person_new_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    chosen: Option<Uuid>,
    sent: &Sent,
) -> AppResult<NewPersonPage> {
    p.require(Action::PeopleManage)?;
    let tr = ctx.tr;
    let facilities = facilities_in_scope(st, p).await?;
    let facility = match chosen {
        Some(c) => facilities.iter().find(|f| f.id == c).cloned(),
        None if facilities.len() == 1 => facilities.first().cloned(),
        None => None,
    };
    let (choose, form) = match &facility {
        Some(f) => {
            let depts = store::departments(&st.db, f.id, false).await?;
            let mut form = person_form(tr, "person", "/people".into(), sent, &depts, None);
            form.hidden.push(("facility_id", f.id.to_string()));
            (None, Some(form))
        }
        None => {
            let mut opts = vec![(String::new(), tr.t("dir-choose"))];
            opts.extend(
                facilities
                    .iter()
                    .map(|f| (f.id.to_string(), f.name.clone())),
            );
            let choose = FormBuilder::new(tr, "choose", "/people/new", &Sent::default())
                .get()
                .select("facility", "dir-field-facility", "", opts)
                .done("dir-continue", "");
            (Some(choose), None)
        }
    };
    Ok(NewPersonPage {
        page: PageCtx::new(ctx, "dir-person-new"),
        facility,
        choose,
        form,
    })
}

async fn person_new_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(q): Query<NewPersonQuery>,
) -> AppResult<Response> {
    let chosen = query_id(&q.facility, "facility")?;
    Ok(render(
        &person_new_view(&st, &ctx, &p, chosen, &Sent::default()).await?,
    ))
}

async fn person_create(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let input = person_input(&v);
    let chosen = input.facility_id;
    let errs = match api::create_person(State(st.clone()), p.clone(), LateJson(Ok(input))).await {
        Ok((_, axum::Json(x))) => return Ok(see_other(&format!("/people/{}?done=created", x.id))),
        Err(e) => form_errors(e, "employee_no")?,
    };
    let sent = Sent::new("person", v, ctx.tr, errs);
    let view = person_new_view(&st, &ctx, &p, chosen, &sent).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view))
}

#[derive(Template)]
#[template(path = "directory/person.html")]
struct PersonPage {
    page: PageCtx,
    x: Person,
    tel: String,
    profession: String,
    facility: String,
    department: String,
    edit: Option<FormView>,
}

async fn person_view(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    x: Person,
    sent: &Sent,
    done: &str,
) -> AppResult<PersonPage> {
    let tr = ctx.tr;
    let facility = store::facility_by_id(&st.db, x.facility_id)
        .await?
        .map(|f| f.name)
        .unwrap_or_default();
    let depts = store::departments(&st.db, x.facility_id, true).await?;
    let department = x
        .department_id
        .and_then(|d| depts.iter().find(|x| x.id == d))
        .map(|d| d.name.clone())
        .unwrap_or_default();
    let can_manage = p.can(Action::PeopleManage) && p.sees(&x.place());
    let edit = can_manage.then(|| {
        person_form(
            tr,
            "person",
            format!("/people/{}", x.id),
            sent,
            &depts,
            Some(&x),
        )
    });
    let mut page = page_ctx(ctx, "dir-person-title", done);
    page.title = x.full_name.clone();
    Ok(PersonPage {
        page,
        tel: tel_href(&x.phone),
        profession: profession_name(&x.profession, tr),
        facility,
        department,
        edit,
        x,
    })
}

async fn person_page(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<DoneQuery>,
) -> AppResult<Response> {
    // The API's read: the same checks, and a `person.read` entry the person can see.
    let axum::Json(x) = api::get_person(State(st.clone()), p.clone(), Path(id)).await?;
    Ok(render(
        &person_view(&st, &ctx, &p, x, &Sent::default(), &q.done).await?,
    ))
}

async fn person_update(
    State(st): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(v): Form<Values>,
) -> AppResult<Response> {
    let r = api::update_person(
        State(st.clone()),
        p.clone(),
        Path(id),
        LateJson(Ok(person_input(&v))),
    )
    .await;
    let errs = match r {
        Ok(_) => return Ok(see_other(&format!("/people/{id}?done=saved"))),
        Err(e) => form_errors(e, "employee_no")?,
    };
    // Invalid input is only reported after the API's access check passed.
    let x = store::person_by_id(&st.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let sent = Sent::new("person", v, ctx.tr, errs);
    let view = person_view(&st, &ctx, &p, x, &sent, "").await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &view))
}

async fn person_archive(
    State(st): State<AppState>,
    p: Principal,
    Path(id): Path<Uuid>,
    Form(a): Form<ArchiveForm>,
) -> AppResult<Response> {
    api::archive_person(State(st), p, Path(id), LateJson(Ok(a.archive()))).await?;
    Ok(see_other(&format!("/people/{id}?done={}", a.done())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::i18n::{I18n, Lang};

    const TEMPLATES: &[(&str, &str)] = &[
        ("form", include_str!("../../templates/directory/form.html")),
        (
            "index",
            include_str!("../../templates/directory/index.html"),
        ),
        (
            "facility",
            include_str!("../../templates/directory/facility.html"),
        ),
        (
            "roster",
            include_str!("../../templates/directory/roster.html"),
        ),
        (
            "import",
            include_str!("../../templates/directory/import.html"),
        ),
        (
            "people",
            include_str!("../../templates/directory/people.html"),
        ),
        (
            "person",
            include_str!("../../templates/directory/person.html"),
        ),
        (
            "person_new",
            include_str!("../../templates/directory/person_new.html"),
        ),
    ];
    const SOURCE: &str = include_str!("pages.rs");
    const FTL: &[(Lang, &str)] = &[
        (Lang::En, include_str!("../../locales/en/directory.ftl")),
        (Lang::Ru, include_str!("../../locales/ru/directory.ftl")),
        (Lang::Kk, include_str!("../../locales/kk/directory.ftl")),
        (Lang::Ky, include_str!("../../locales/ky/directory.ftl")),
    ];

    /// Text a person would read: the template without tags, expressions and statements.
    fn visible_text(src: &str) -> String {
        let mut out = String::new();
        let mut rest = src;
        while !rest.is_empty() {
            let next = ["{{", "{%", "{#", "<"]
                .iter()
                .filter_map(|m| rest.find(m).map(|i| (i, *m)))
                .min();
            let Some((i, m)) = next else {
                out.push_str(rest);
                break;
            };
            out.push_str(&rest[..i]);
            let close = match m {
                "{{" => "}}",
                "{%" => "%}",
                "{#" => "#}",
                _ => ">",
            };
            rest = match rest[i..].find(close) {
                Some(j) => &rest[i + j + close.len()..],
                None => "",
            };
            out.push(' ');
        }
        out
    }

    #[test]
    fn templates_have_no_literal_words() {
        for (name, src) in TEMPLATES {
            let text = visible_text(src);
            assert!(
                !text.chars().any(char::is_alphabetic),
                "{name}: literal text {:?}",
                text.split_whitespace().collect::<Vec<_>>()
            );
        }
    }

    fn ids(src: &str) -> Vec<String> {
        src.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_owned()))
            .collect()
    }

    #[test]
    fn four_languages_have_the_same_messages() {
        let en = ids(FTL[0].1);
        assert!(en.len() > 50);
        for (lang, src) in &FTL[1..] {
            let mut a = ids(src);
            let mut b = en.clone();
            a.sort();
            b.sort();
            assert_eq!(a, b, "{lang:?}");
        }
        for id in &en {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
                "{id} is not kebab-case"
            );
        }
    }

    /// Every `dir-` message the templates and this file name exists in every language.
    #[test]
    fn used_messages_exist() {
        let mut used = vec![];
        for src in TEMPLATES.iter().map(|(_, s)| *s).chain([SOURCE]) {
            for part in src.split('"').skip(1).step_by(2) {
                if part.starts_with("dir-")
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.ends_with('-')
                {
                    used.push(part.to_owned());
                }
            }
        }
        for n in 1..=7 {
            used.push(format!("dir-weekday-{n}"));
        }
        for c in ["kz", "kg"] {
            used.push(format!("dir-country-{c}"));
        }
        for k in DEPARTMENT_KINDS {
            used.push(format!("dept-{k}"));
        }
        for d in ["created", "saved", "archived", "restored"] {
            used.push(done_message(d).unwrap_or_default().to_owned());
        }
        assert!(used.len() > 60);
        for lang in Lang::ALL {
            for id in &used {
                assert!(I18n::has(lang, id), "{id} missing in {lang:?}");
            }
        }
    }

    #[test]
    fn import_messages_exist() {
        for id in [
            "err-csv-column",
            "err-csv-row",
            "err-csv-too-many",
            "err-unknown-department",
            "err-duplicate-in-file",
            "err-unknown-employee",
            "err-unknown-shift",
        ] {
            for lang in Lang::ALL {
                assert!(I18n::has(lang, id), "{id} missing in {lang:?}");
            }
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        let d = |s: &str| parse_date(s).expect("date");
        assert_eq!(week_start(d("2026-11-26")), d("2026-11-23"));
        assert_eq!(week_start(d("2026-11-23")), d("2026-11-23"));
        assert_eq!(week_start(d("2026-11-29")), d("2026-11-23"));
        assert_eq!(week_start(d("2027-01-01")), d("2026-12-28"));
    }

    #[test]
    fn roster_grid_is_people_by_days() {
        let monday = parse_date("2026-11-23").expect("date");
        let days: Vec<Date> = (0..7).map(|i| add_days(monday, i)).collect();
        let e = |n: u128, no: &str, day: &str, shift: &str| RosterEntry {
            person_id: Uuid::from_u128(n),
            employee_no: no.into(),
            day: day.into(),
            shift: shift.into(),
        };
        let entries = vec![
            e(2, "B2", "2026-11-23", "night"),
            e(1, "A1", "2026-11-23", "day"),
            e(1, "A1", "2026-11-23", "evening"),
            e(1, "A1", "2026-11-29", "day"),
            e(1, "A1", "2026-11-30", "day"),
        ];
        let grid = roster_grid(&entries, &days);
        assert_eq!(grid.len(), 2);
        assert_eq!(grid[0].1, "A1");
        assert_eq!(grid[0].2[0], "day / evening");
        assert_eq!(grid[0].2[6], "day");
        assert!(grid[0].2[1..6].iter().all(String::is_empty));
        assert_eq!(grid[1].1, "B2");
        assert_eq!(grid[1].2[0], "night");
    }

    #[test]
    fn refused_form_keeps_what_was_typed() {
        let tr = Tr::new(Lang::En);
        let sent = Sent::new(
            "dept-new",
            HashMap::from([
                ("name".to_owned(), "X".to_owned()),
                ("kind".to_owned(), "icu".to_owned()),
            ]),
            tr,
            vec![
                FieldError::new("name", "err-too-short"),
                FieldError::new("facility_id", "err-required"),
            ],
        );
        let f = department_form(tr, "/directory/facilities/x", &sent, None);
        assert!(f.open);
        let name = f.fields.iter().find(|f| f.name == "name").expect("name");
        assert_eq!(name.value, "X");
        assert_eq!(name.error.as_deref(), Some(tr.t("err-too-short").as_str()));
        assert_eq!(name.described_by, "dept-new-name-error");
        let kind = f.fields.iter().find(|f| f.name == "kind").expect("kind");
        assert!(kind.options.iter().any(|o| o.selected && o.value == "icu"));
        assert_eq!(f.errors, vec![tr.t("err-required")]);
        // Another form on the same page keeps its own values.
        let d = Department {
            id: Uuid::from_u128(3),
            facility_id: Uuid::nil(),
            kind: "surgery".into(),
            name: "Surgery".into(),
            floor: "2".into(),
            archived: false,
        };
        let other = department_form(tr, "/directory/facilities/x", &sent, Some(&d));
        assert!(!other.open);
        assert!(other.fields.iter().all(|f| f.error.is_none()));
        assert_eq!(other.fields[1].value, "Surgery");
    }

    #[test]
    fn phone_links_keep_digits_and_plus() {
        assert_eq!(tel_href("+7 (727) 000-00-01"), "tel:+77270000001");
        assert_eq!(tel_href("103"), "tel:103");
    }

    #[test]
    fn select_values_that_are_not_ids_are_refused_downstream() {
        let v = HashMap::from([
            ("department_id".to_owned(), "nonsense".to_owned()),
            ("facility_id".to_owned(), String::new()),
        ]);
        assert_eq!(opt_id(&v, "department_id"), Some(Uuid::nil()));
        assert_eq!(opt_id(&v, "facility_id"), None);
        assert!(query_id("x", "after").is_err());
        assert_eq!(query_id(" ", "after").ok(), Some(None));
    }
}
