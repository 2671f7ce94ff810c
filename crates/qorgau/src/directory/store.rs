//! Directory SQL. One statement serves both databases.

use uuid::Uuid;

use crate::args;
use crate::directory::model::*;
use crate::directory::reference::REGION_LIST;
use crate::platform::access::ScopeFilter;
use crate::platform::db::{Db, DbResult, Row, Tx};
use crate::platform::i18n::Lang;
use crate::platform::time::Ts;

const SEED_REGION: &str = "INSERT INTO regions (id, country, kind, name_en, name_ru, name_kk, name_ky, centre, tz) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING";
const COUNT_REGIONS: &str = "SELECT COUNT(*) AS n FROM regions";

/// Regions are reference data: inserted on first start, never edited through the API.
pub async fn seed_regions(db: &Db) -> DbResult<()> {
    let n: i64 = db.fetch_one(COUNT_REGIONS, args![]).await?.get("n")?;
    if n >= REGION_LIST.len() as i64 {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for r in REGION_LIST.iter() {
        tx.execute(
            SEED_REGION,
            args![
                &r.iso, &r.country, &r.kind, &r.name_en, &r.name_ru, &r.name_kk, &r.name_ky,
                &r.centre, &r.tz
            ],
        )
        .await?;
    }
    tx.commit().await
}

fn region(r: &Row, lang: Lang) -> DbResult<Region> {
    let name_en: String = r.get("name_en")?;
    let name_ru: String = r.get("name_ru")?;
    let name_kk: String = r.get("name_kk")?;
    let name_ky: String = r.get("name_ky")?;
    let name = match lang {
        Lang::En => name_en.clone(),
        Lang::Ru => name_ru.clone(),
        Lang::Kk if !name_kk.is_empty() => name_kk.clone(),
        Lang::Ky if !name_ky.is_empty() => name_ky.clone(),
        _ => name_ru.clone(),
    };
    Ok(Region {
        id: r.get("id")?,
        country: r.get("country")?,
        kind: r.get("kind")?,
        name,
        name_en,
        name_ru,
        name_kk,
        name_ky,
        centre: r.get("centre")?,
        tz: r.get("tz")?,
    })
}

pub async fn regions(db: &Db, lang: Lang) -> DbResult<Vec<Region>> {
    db.fetch_all("SELECT * FROM regions ORDER BY country DESC, id", args![])
        .await?
        .iter()
        .map(|r| region(r, lang))
        .collect()
}

fn facility(r: &Row) -> DbResult<Facility> {
    Ok(Facility {
        id: r.get("id")?,
        region_id: r.get("region_id")?,
        kind: r.get("kind")?,
        name: r.get("name")?,
        address: r.get("address")?,
        phone: r.get("phone")?,
        tz: r.get("tz")?,
        archived: r.get::<Option<i64>>("archived_at")?.is_some(),
    })
}

const FACILITIES: &str = "SELECT * FROM facilities WHERE ($1 IS NULL OR region_id = $1) AND ($2 IS NULL OR region_id LIKE $2) AND ($3 IS NULL OR id > $3) AND (archived_at IS NULL OR $4) ORDER BY id LIMIT $5";

pub async fn facilities(
    db: &Db,
    region: Option<&str>,
    country: Option<&str>,
    after: Option<Uuid>,
    archived: bool,
    limit: i64,
) -> DbResult<Vec<Facility>> {
    db.fetch_all(
        FACILITIES,
        args![
            region,
            country.map(|c| format!("{c}-%")),
            after,
            archived,
            limit
        ],
    )
    .await?
    .iter()
    .map(facility)
    .collect()
}

pub async fn facility_by_id(db: &Db, id: Uuid) -> DbResult<Option<Facility>> {
    db.fetch_optional("SELECT * FROM facilities WHERE id = $1", args![id])
        .await?
        .as_ref()
        .map(facility)
        .transpose()
}

const NEW_FACILITY: &str = "INSERT INTO facilities (id, region_id, kind, name, address, phone, tz, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

pub async fn create_facility(tx: &mut Tx, f: &FacilityInput) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    tx.execute(
        NEW_FACILITY,
        args![
            id,
            &f.region_id,
            &f.kind,
            &f.name,
            &f.address,
            &f.phone,
            &f.tz,
            Ts::now()
        ],
    )
    .await?;
    Ok(id)
}

const EDIT_FACILITY: &str = "UPDATE facilities SET region_id = $2, kind = $3, name = $4, address = $5, phone = $6, tz = $7, updated_at = $8 WHERE id = $1";

pub async fn update_facility(tx: &mut Tx, id: Uuid, f: &FacilityInput) -> DbResult<u64> {
    tx.execute(
        EDIT_FACILITY,
        args![
            id,
            &f.region_id,
            &f.kind,
            &f.name,
            &f.address,
            &f.phone,
            &f.tz,
            Ts::now()
        ],
    )
    .await
}

/// Archiving keeps the record (history points at it) but hides it from lists and pickers.
pub async fn set_archived(tx: &mut Tx, table: Table, id: Uuid, archived: bool) -> DbResult<u64> {
    let sql = match table {
        Table::Facilities => {
            "UPDATE facilities SET archived_at = $2, updated_at = $3 WHERE id = $1"
        }
        Table::Departments => {
            "UPDATE departments SET archived_at = $2, updated_at = $3 WHERE id = $1"
        }
        Table::Posts => "UPDATE security_posts SET archived_at = $2, updated_at = $3 WHERE id = $1",
        Table::People => "UPDATE people SET archived_at = $2, updated_at = $3 WHERE id = $1",
    };
    let now = Ts::now();
    tx.execute(sql, args![id, archived.then_some(now), now])
        .await
}

#[derive(Clone, Copy, Debug)]
pub enum Table {
    Facilities,
    Departments,
    Posts,
    People,
}

fn department(r: &Row) -> DbResult<Department> {
    Ok(Department {
        id: r.get("id")?,
        facility_id: r.get("facility_id")?,
        kind: r.get("kind")?,
        name: r.get("name")?,
        floor: r.get("floor")?,
        archived: r.get::<Option<i64>>("archived_at")?.is_some(),
    })
}

pub async fn departments(db: &Db, facility: Uuid, archived: bool) -> DbResult<Vec<Department>> {
    db.fetch_all(
        "SELECT * FROM departments WHERE facility_id = $1 AND (archived_at IS NULL OR $2) ORDER BY name",
        args![facility, archived],
    )
    .await?
    .iter()
    .map(department)
    .collect()
}

pub async fn department_by_id(db: &Db, id: Uuid) -> DbResult<Option<Department>> {
    db.fetch_optional("SELECT * FROM departments WHERE id = $1", args![id])
        .await?
        .as_ref()
        .map(department)
        .transpose()
}

pub async fn create_department(tx: &mut Tx, facility: Uuid, d: &DepartmentInput) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO departments (id, facility_id, kind, name, floor, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        args![id, facility, &d.kind, &d.name, &d.floor, Ts::now()],
    )
    .await?;
    Ok(id)
}

pub async fn update_department(tx: &mut Tx, id: Uuid, d: &DepartmentInput) -> DbResult<u64> {
    tx.execute(
        "UPDATE departments SET kind = $2, name = $3, floor = $4, updated_at = $5 WHERE id = $1",
        args![id, &d.kind, &d.name, &d.floor, Ts::now()],
    )
    .await
}

fn post(r: &Row) -> DbResult<SecurityPost> {
    Ok(SecurityPost {
        id: r.get("id")?,
        facility_id: r.get("facility_id")?,
        name: r.get("name")?,
        location: r.get("location")?,
        phone: r.get("phone")?,
        hours: r.get("hours")?,
        department_id: r.get("department_id")?,
        archived: r.get::<Option<i64>>("archived_at")?.is_some(),
    })
}

pub async fn posts(db: &Db, facility: Uuid, archived: bool) -> DbResult<Vec<SecurityPost>> {
    db.fetch_all(
        "SELECT * FROM security_posts WHERE facility_id = $1 AND (archived_at IS NULL OR $2) ORDER BY name",
        args![facility, archived],
    )
    .await?
    .iter()
    .map(post)
    .collect()
}

pub async fn post_by_id(db: &Db, id: Uuid) -> DbResult<Option<SecurityPost>> {
    db.fetch_optional("SELECT * FROM security_posts WHERE id = $1", args![id])
        .await?
        .as_ref()
        .map(post)
        .transpose()
}

pub async fn create_post(tx: &mut Tx, facility: Uuid, p: &PostInput) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO security_posts (id, facility_id, name, location, phone, hours, department_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        args![
            id,
            facility,
            &p.name,
            &p.location,
            &p.phone,
            &p.hours,
            p.department_id,
            Ts::now()
        ],
    )
    .await?;
    Ok(id)
}

pub async fn update_post(tx: &mut Tx, id: Uuid, p: &PostInput) -> DbResult<u64> {
    tx.execute(
        "UPDATE security_posts SET name = $2, location = $3, phone = $4, hours = $5, department_id = $6, updated_at = $7 WHERE id = $1",
        args![
            id,
            &p.name,
            &p.location,
            &p.phone,
            &p.hours,
            p.department_id,
            Ts::now()
        ],
    )
    .await
}

fn person(r: &Row) -> DbResult<Person> {
    Ok(Person {
        id: r.get("id")?,
        facility_id: r.get("facility_id")?,
        department_id: r.get("department_id")?,
        employee_no: r.get("employee_no")?,
        full_name: r.get("full_name")?,
        profession: r.get("profession")?,
        phone: r.get("phone")?,
        email: r.get("email")?,
        archived: r.get::<Option<i64>>("archived_at")?.is_some(),
        region_id: r.get("region_id")?,
    })
}

// Only the columns `person` reads: sqlx copies every selected value of every row.
const PEOPLE: &str = "SELECT p.id, p.facility_id, p.department_id, p.employee_no, p.full_name, p.profession, p.phone, p.email, p.archived_at, f.region_id FROM people p JOIN facilities f ON f.id = p.facility_id WHERE ($1 IS NULL OR f.region_id LIKE $1) AND ($2 IS NULL OR f.region_id = $2) AND ($3 IS NULL OR p.facility_id = $3) AND ($4 IS NULL OR p.department_id = $4) AND ($5 IS NULL OR p.id = $5) AND ($6 IS NULL OR p.facility_id = $6) AND ($7 IS NULL OR p.department_id = $7) AND ($8 IS NULL OR p.search_key LIKE $8) AND ($9 IS NULL OR p.id > $9) AND (p.archived_at IS NULL OR $10) ORDER BY p.id LIMIT $11";

#[derive(Clone, Debug, Default)]
pub struct PeopleQuery {
    pub facility: Option<Uuid>,
    pub department: Option<Uuid>,
    pub q: Option<String>,
    pub after: Option<Uuid>,
    pub archived: bool,
}

/// People within `scope`, narrowed by the query.
pub async fn people(
    db: &Db,
    scope: &ScopeFilter,
    q: &PeopleQuery,
    limit: i64,
) -> DbResult<Vec<Person>> {
    let like =
        q.q.as_ref()
            .map(|s| s.trim().to_lowercase().replace(['%', '_'], ""))
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{s}%"));
    db.fetch_all(
        PEOPLE,
        args![
            scope.country.as_ref().map(|c| format!("{c}-%")),
            scope.region.clone(),
            scope.facility,
            scope.department,
            scope.person,
            q.facility,
            q.department,
            like,
            q.after,
            q.archived,
            limit
        ],
    )
    .await?
    .iter()
    .map(person)
    .collect()
}

pub async fn person_by_id(db: &Db, id: Uuid) -> DbResult<Option<Person>> {
    db.fetch_optional(
        "SELECT p.id, p.facility_id, p.department_id, p.employee_no, p.full_name, p.profession, p.phone, p.email, p.archived_at, f.region_id FROM people p JOIN facilities f ON f.id = p.facility_id WHERE p.id = $1",
        args![id],
    )
    .await?
    .as_ref()
    .map(person)
    .transpose()
}

const NEW_PERSON: &str = "INSERT INTO people (id, facility_id, department_id, employee_no, full_name, profession, phone, email, search_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";

pub async fn create_person(tx: &mut Tx, facility: Uuid, p: &PersonInput) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    tx.execute(
        NEW_PERSON,
        args![
            id,
            facility,
            p.department_id,
            &p.employee_no,
            &p.full_name,
            &p.profession,
            &p.phone,
            &p.email,
            search_key(&p.full_name, &p.employee_no),
            Ts::now()
        ],
    )
    .await?;
    Ok(id)
}

const EDIT_PERSON: &str = "UPDATE people SET department_id = $2, employee_no = $3, full_name = $4, profession = $5, phone = $6, email = $7, search_key = $8, updated_at = $9 WHERE id = $1";

pub async fn update_person(tx: &mut Tx, id: Uuid, p: &PersonInput) -> DbResult<u64> {
    tx.execute(
        EDIT_PERSON,
        args![
            id,
            p.department_id,
            &p.employee_no,
            &p.full_name,
            &p.profession,
            &p.phone,
            &p.email,
            search_key(&p.full_name, &p.employee_no),
            Ts::now()
        ],
    )
    .await
}

fn shift(r: &Row) -> DbResult<Shift> {
    Ok(Shift {
        id: r.get("id")?,
        facility_id: r.get("facility_id")?,
        code: r.get("code")?,
        starts: r.get("starts")?,
        ends: r.get("ends")?,
    })
}

pub async fn shifts(db: &Db, facility: Uuid) -> DbResult<Vec<Shift>> {
    db.fetch_all(
        "SELECT * FROM shift_definitions WHERE facility_id = $1 ORDER BY starts",
        args![facility],
    )
    .await?
    .iter()
    .map(shift)
    .collect()
}

/// Creates or redefines the shift with this code.
pub async fn upsert_shift(tx: &mut Tx, facility: Uuid, s: &ShiftInput) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    let row = tx
        .fetch_one(
            "INSERT INTO shift_definitions (id, facility_id, code, starts, ends) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (facility_id, code) DO UPDATE SET starts = excluded.starts, ends = excluded.ends RETURNING id",
            args![id, facility, &s.code, &s.starts, &s.ends],
        )
        .await?;
    row.get("id")
}

const ROSTER: &str = "SELECT r.person_id, p.employee_no, r.day, s.code FROM roster_entries r JOIN people p ON p.id = r.person_id JOIN shift_definitions s ON s.id = r.shift_id WHERE p.facility_id = $1 AND r.day >= $2 AND r.day <= $3 AND ($4 IS NULL OR p.department_id = $4) ORDER BY r.day, s.starts, p.employee_no LIMIT 20000";

pub async fn roster(
    db: &Db,
    facility: Uuid,
    department: Option<Uuid>,
    from: &str,
    to: &str,
) -> DbResult<Vec<RosterEntry>> {
    db.fetch_all(ROSTER, args![facility, from, to, department])
        .await?
        .iter()
        .map(|r| {
            Ok(RosterEntry {
                person_id: r.get("person_id")?,
                employee_no: r.get("employee_no")?,
                day: r.get("day")?,
                shift: r.get("code")?,
            })
        })
        .collect()
}

pub async fn add_roster_entry(tx: &mut Tx, person: Uuid, shift: Uuid, day: &str) -> DbResult<()> {
    tx.execute(
        "INSERT INTO roster_entries (id, person_id, shift_id, day) VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, day, shift_id) DO NOTHING",
        args![Uuid::now_v7(), person, shift, day],
    )
    .await
    .map(|_| ())
}

/// Employee number -> person id, for imports.
pub async fn people_by_number(
    tx: &mut Tx,
    facility: Uuid,
) -> DbResult<std::collections::HashMap<String, Uuid>> {
    tx.fetch_all(
        "SELECT id, employee_no FROM people WHERE facility_id = $1",
        args![facility],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get::<String>("employee_no")?, r.get::<Uuid>("id")?)))
    .collect()
}
