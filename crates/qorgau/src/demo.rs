//! The demo country: facilities in Kazakhstan and Kyrgyzstan with departments, security posts,
//! 300 staff on a four-week roster, and one account per role. Loading is idempotent, and refused
//! on a database that holds anything else unless forced.

use std::fmt::Write as _;

use uuid::Uuid;

use crate::accounts::store as accounts;
use crate::args;
use crate::directory::model::{DepartmentInput, FacilityInput, PersonInput, PostInput, ShiftInput};
use crate::directory::store as dir;
use crate::platform::access::{Role, Scope};
use crate::platform::audit::{self, Actor, Event};
use crate::platform::auth::{password, totp};
use crate::platform::config::Config;
use crate::platform::db::{Db, DbError};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the database already holds data that is not the demo; add --force to load the demo beside it"
    )]
    NotEmpty,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    App(#[from] crate::platform::error::AppError),
    #[error("writing {0}: {1}")]
    Io(String, std::io::Error),
    #[error(transparent)]
    Keys(#[from] crate::platform::keys::KeyError),
}

struct DemoFacility {
    region: &'static str,
    kind: &'static str,
    name: &'static str,
    address: &'static str,
    phone: &'static str,
    departments: &'static [(&'static str, &'static str, &'static str)],
    staff: usize,
}

const FACILITIES: &[DemoFacility] = &[
    DemoFacility {
        region: "KZ-75",
        kind: "city_hospital",
        name: "Городская больница скорой неотложной помощи, Алматы",
        address: "Алматы, ул. Утепова, 1 (демо)",
        phone: "+7 727 000 00 01",
        departments: &[
            ("emergency", "Приёмное отделение", "1"),
            ("icu", "Отделение реанимации", "3"),
            ("surgery", "Хирургия", "2"),
            ("psychiatry", "Психосоматика", "4"),
        ],
        staff: 90,
    },
    DemoFacility {
        region: "KZ-71",
        kind: "childrens_hospital",
        name: "Многопрофильная детская больница, Астана",
        address: "Астана, пр. Туран, 2 (демо)",
        phone: "+7 7172 00 00 02",
        departments: &[
            ("emergency", "Қабылдау бөлімі", "1"),
            ("paediatrics", "Педиатрия", "2"),
            ("icu", "Балалар реанимациясы", "3"),
        ],
        staff: 50,
    },
    DemoFacility {
        region: "KZ-79",
        kind: "perinatal_center",
        name: "Перинатальный центр, Шымкент",
        address: "Шымкент, ул. Байтурсынова, 3 (демо)",
        phone: "+7 7252 00 00 03",
        departments: &[
            ("maternity", "Родильное отделение", "2"),
            ("emergency", "Приёмный покой", "1"),
        ],
        staff: 40,
    },
    DemoFacility {
        region: "KZ-75",
        kind: "ambulance_station",
        name: "Станция скорой медицинской помощи, Алматы",
        address: "Алматы, ул. Казыбек би, 4 (демо)",
        phone: "103",
        departments: &[
            ("ambulance_crew", "Бригады скорой помощи", "—"),
            ("administration", "Диспетчерская", "1"),
        ],
        staff: 45,
    },
    DemoFacility {
        region: "KZ-35",
        kind: "polyclinic",
        name: "Городская поликлиника № 5, Караганда",
        address: "Караганда, ул. Ерубаева, 5 (демо)",
        phone: "+7 7212 00 00 05",
        departments: &[
            ("outpatient", "Участковая служба", "1"),
            ("reception", "Регистратура", "1"),
        ],
        staff: 35,
    },
    DemoFacility {
        region: "KG-GB",
        kind: "city_hospital",
        name: "Бишкек шаардык клиникалык ооруканасы № 1",
        address: "Бишкек, Фучик көч., 6 (демо)",
        phone: "+996 312 00 00 06",
        departments: &[
            ("emergency", "Кабыл алуу бөлүмү", "1"),
            ("surgery", "Хирургия", "2"),
        ],
        staff: 40,
    },
];

const FIRST_KZ: &[&str] = &[
    "Айгүл",
    "Әсел",
    "Гүлнар",
    "Динара",
    "Жанар",
    "Мадина",
    "Сәуле",
    "Ерлан",
    "Нұрлан",
    "Бауыржан",
    "Асқар",
    "Дәурен",
];
const LAST_KZ: &[&str] = &[
    "Серікова",
    "Омарова",
    "Жұмабаева",
    "Қасымова",
    "Ахметова",
    "Серіков",
    "Омаров",
    "Жұмабаев",
    "Қасымов",
    "Ахметов",
];
const FIRST_RU: &[&str] = &[
    "Анна",
    "Елена",
    "Ольга",
    "Татьяна",
    "Ирина",
    "Сергей",
    "Андрей",
    "Дмитрий",
];
const LAST_RU: &[&str] = &[
    "Иванова",
    "Петренко",
    "Ким",
    "Смирнова",
    "Иванов",
    "Петренко",
    "Цой",
    "Смирнов",
];
const FIRST_KG: &[&str] = &[
    "Айжан",
    "Бермет",
    "Гүлзат",
    "Нургүл",
    "Азамат",
    "Бакыт",
    "Эрлан",
    "Талант",
];
const LAST_KG: &[&str] = &[
    "Асанова",
    "Токтогулова",
    "Жээнбекова",
    "Асанов",
    "Токтогулов",
    "Жээнбеков",
];

const PROFESSIONS: &[&str] = &[
    "nurse",
    "nurse",
    "nurse",
    "doctor",
    "doctor",
    "junior_nurse",
    "orderly",
    "senior_nurse",
    "midwife",
    "registrar",
];
const AMBULANCE_PROFESSIONS: &[&str] = &[
    "feldsher",
    "feldsher",
    "feldsher",
    "ambulance_driver",
    "doctor",
    "dispatcher",
];

/// A deterministic sequence, so every demo looks the same.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn person_name(rng: &mut Lcg, region: &str) -> String {
    let (f, l) = if region.starts_with("KG") {
        (FIRST_KG, LAST_KG)
    } else if rng.next(3) == 0 {
        (FIRST_RU, LAST_RU)
    } else {
        (FIRST_KZ, LAST_KZ)
    };
    format!("{} {}", l[rng.next(l.len())], f[rng.next(f.len())])
}

const MARKER: &str = "demo_loaded";

pub struct DemoAccount {
    pub username: String,
    pub role: Role,
    pub password: String,
    pub totp_secret: Option<String>,
}

fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut r = rand::rng();
    (0..16)
        .map(|_| ALPHABET[r.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Loads the demo unless it is there already; writes `DATA_DIR/demo-accounts.csv`.
pub async fn load(db: &Db, cfg: &Config, force: bool) -> Result<(), DemoError> {
    dir::seed_regions(db).await?;
    let csv_path = cfg.data_dir.join("demo-accounts.csv");
    let loaded = db
        .fetch_optional("SELECT value FROM settings WHERE key = $1", args![MARKER])
        .await?
        .is_some();
    if loaded && csv_path.exists() {
        println!(
            "demo data already loaded; accounts are in {}",
            csv_path.display()
        );
        demo_panel(db, cfg).await?;
        return Ok(());
    }
    if !loaded && !force {
        let n: i64 = db
            .fetch_one(
                "SELECT (SELECT COUNT(*) FROM facilities) + (SELECT COUNT(*) FROM users) AS n",
                args![],
            )
            .await?
            .get("n")?;
        if n > 0 {
            return Err(DemoError::NotEmpty);
        }
    }
    let password = std::env::var("QORGAU_DEMO_PASSWORD")
        .ok()
        .filter(|p| password::check_new(p).is_none());
    let accounts = if loaded {
        reset_accounts(db, password).await?
    } else {
        let accounts = create(db, password).await?;
        let sealer = crate::platform::crypto::Sealer::load(&cfg.data_dir)
            .map_err(|e| crate::platform::error::AppError::Internal(e.to_string()))?;
        crate::reports::service::demo_reports(
            db,
            &cfg.data_dir,
            &sealer,
            &demo_username(Role::Worker),
        )
        .await?;
        accounts
    };
    let mut out = String::from("username,role,password,totp_secret\n");
    for a in &accounts {
        let _ = writeln!(
            out,
            "{},{},{},{}",
            a.username,
            a.role.code(),
            a.password,
            a.totp_secret.as_deref().unwrap_or("")
        );
    }
    write_private(&csv_path, &out).map_err(|e| DemoError::Io(csv_path.display().to_string(), e))?;
    println!(
        "demo accounts (one per role) written to {}",
        csv_path.display()
    );
    demo_panel(db, cfg).await?;
    Ok(())
}

/// The demo alarm panel's account.
pub const DEMO_PANEL: &str = "D001";

/// One SIA DC-09 panel in the first demo facility's emergency department, without supervision,
/// with an AES-128 key from `QORGAU_DEMO_PANEL_KEY` (32 hex digits) or a random one, printed and
/// written to `DATA_DIR/demo-panel-key.txt`.
async fn demo_panel(db: &Db, cfg: &Config) -> Result<(), DemoError> {
    let Some(row) = db
        .fetch_optional(
            "SELECT id FROM facilities WHERE name = $1",
            args![FACILITIES[0].name],
        )
        .await?
    else {
        return Ok(());
    };
    let facility: Uuid = row.get("id")?;
    let department = db
        .fetch_optional(
            "SELECT id FROM departments WHERE facility_id = $1 AND kind = 'emergency'",
            args![facility],
        )
        .await?
        .map(|r| r.get::<Uuid>("id"))
        .transpose()?;
    let sealer = crate::platform::crypto::Sealer::load(&cfg.data_dir)?;
    let key =
        crate::alarms::panels::ensure_demo_panel(db, &sealer, DEMO_PANEL, facility, department)
            .await?;
    let path = cfg.data_dir.join("demo-panel-key.txt");
    write_private(&path, &format!("{key}\n"))
        .map_err(|e| DemoError::Io(path.display().to_string(), e))?;
    println!(
        "demo alarm panel {DEMO_PANEL}: AES-128 key {key} (hex), also in {}",
        path.display()
    );
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

fn demo_username(role: Role) -> String {
    format!("demo.{}", role.code())
}

async fn create(db: &Db, password: Option<String>) -> Result<Vec<DemoAccount>, DemoError> {
    let mut rng = Lcg(190);
    let mut tx = db.begin().await?;
    let mut main_facility = None;
    let mut main_emergency = None;
    let mut main_worker = None;
    let today = jiff::ZonedDateTime::now().date();
    let monday = today
        .checked_sub(jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset())))
        .unwrap_or(today);
    let mut employee = 0u32;
    for f in FACILITIES {
        let input = FacilityInput {
            region_id: f.region.into(),
            kind: f.kind.into(),
            name: f.name.into(),
            address: f.address.into(),
            phone: f.phone.into(),
            tz: if f.region.starts_with("KG") {
                "Asia/Bishkek"
            } else {
                "Asia/Almaty"
            }
            .into(),
        };
        let fid = dir::create_facility(&mut tx, &input).await?;
        main_facility.get_or_insert(fid);
        let mut depts = vec![];
        for (kind, name, floor) in f.departments {
            let d = dir::create_department(
                &mut tx,
                fid,
                &DepartmentInput {
                    kind: (*kind).into(),
                    name: (*name).into(),
                    floor: (*floor).into(),
                },
            )
            .await?;
            if main_facility == Some(fid) && *kind == "emergency" {
                main_emergency = Some(d);
            }
            depts.push(d);
        }
        dir::create_post(
            &mut tx,
            fid,
            &PostInput {
                name: "Пост охраны № 1".into(),
                location: "Главный вход / Негізгі кіреберіс".into(),
                phone: f.phone.into(),
                hours: "24/7".into(),
                department_id: None,
            },
        )
        .await?;
        let emergency = f
            .departments
            .iter()
            .position(|(k, _, _)| *k == "emergency")
            .and_then(|i| depts.get(i).copied());
        if emergency.is_some() {
            dir::create_post(
                &mut tx,
                fid,
                &PostInput {
                    name: "Пост охраны приёмного отделения".into(),
                    location: "Приёмное отделение, 1 этаж".into(),
                    phone: f.phone.into(),
                    hours: "24/7".into(),
                    department_id: emergency,
                },
            )
            .await?;
        }
        let mut shifts = vec![];
        for (code, starts, ends) in [
            ("day", "08:00", "16:00"),
            ("evening", "16:00", "22:00"),
            ("night", "22:00", "08:00"),
        ] {
            shifts.push(
                dir::upsert_shift(
                    &mut tx,
                    fid,
                    &ShiftInput {
                        code: code.into(),
                        starts: starts.into(),
                        ends: ends.into(),
                    },
                )
                .await?,
            );
        }
        let profs = if f.kind == "ambulance_station" {
            AMBULANCE_PROFESSIONS
        } else {
            PROFESSIONS
        };
        for i in 0..f.staff {
            employee += 1;
            let p = PersonInput {
                facility_id: Some(fid),
                department_id: Some(depts[i % depts.len()]),
                employee_no: format!("D{employee:04}"),
                full_name: person_name(&mut rng, f.region),
                profession: profs[rng.next(profs.len())].into(),
                phone: format!("+7 700 {:03} {:04}", employee / 10_000 % 1000, employee),
                email: String::new(),
            };
            let pid = dir::create_person(&mut tx, fid, &p).await?;
            if main_facility == Some(fid)
                && main_worker.is_none()
                && Some(depts[i % depts.len()]) == main_emergency
            {
                main_worker = Some(pid);
            }
            // A rotating pattern: two days, two evenings, two nights, two off.
            for d in 0..28i64 {
                let slot = (d + i as i64) % 8;
                let shift = match slot {
                    0 | 1 => shifts[0],
                    2 | 3 => shifts[1],
                    4 | 5 => shifts[2],
                    _ => continue,
                };
                let Ok(day) = monday.checked_add(jiff::Span::new().days(d)) else {
                    continue;
                };
                dir::add_roster_entry(&mut tx, pid, shift, &day.to_string()).await?;
            }
        }
    }
    if let (Some(f), Some(d)) = (main_facility, main_emergency) {
        // One MQTT panic button: `{"action":"emergency"}` on `zigbee2mqtt/demo-sos-button`.
        crate::alarms::devices::put(&mut tx, &crate::alarms::devices::demo_device(f, d)).await?;
    }
    let facility = main_facility.unwrap_or_else(Uuid::nil);
    let mut out = vec![];
    for role in Role::ALL {
        let scope = match role.natural_scope() {
            crate::platform::access::ScopeKind::Own => Scope::Own,
            crate::platform::access::ScopeKind::Department => {
                Scope::Department(main_emergency.unwrap_or_else(Uuid::nil))
            }
            crate::platform::access::ScopeKind::Facility => Scope::Facility(facility),
            crate::platform::access::ScopeKind::Region => Scope::Region("KZ-75".into()),
            crate::platform::access::ScopeKind::Country => {
                Scope::Country(if role == Role::MinistryAnalyst {
                    Some("KZ".into())
                } else {
                    None
                })
            }
        };
        let pw = password.clone().unwrap_or_else(random_password);
        let hash = password::hash(&pw)?;
        let secret = role.requires_totp().then(totp::new_secret);
        let person = (role == Role::Worker).then_some(main_worker).flatten();
        let username = demo_username(role);
        accounts::insert(
            &mut tx,
            &username,
            role,
            &scope,
            person,
            &hash,
            secret.as_deref(),
        )
        .await?;
        out.push(DemoAccount {
            username,
            role,
            password: pw,
            totp_secret: secret,
        });
    }
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2)",
        args![MARKER, crate::platform::time::Ts::now().rfc3339()],
    )
    .await?;
    audit::append(
        &mut tx,
        &Actor::system(),
        Event::new("demo.load", "demo", "demo").detail(serde_json::json!({"staff": employee})),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The demo is loaded but its accounts file is gone: give the demo accounts new secrets.
async fn reset_accounts(db: &Db, password: Option<String>) -> Result<Vec<DemoAccount>, DemoError> {
    let mut out = vec![];
    let mut tx = db.begin().await?;
    for role in Role::ALL {
        let username = demo_username(role);
        let pw = password.clone().unwrap_or_else(random_password);
        let secret = role.requires_totp().then(totp::new_secret);
        tx.execute(
            "UPDATE users SET password_hash = $2, totp_secret = $3, totp_enrolled = $4, totp_last_step = NULL, failed_logins = 0, locked_until = NULL WHERE username = $1",
            args![&username, password::hash(&pw)?, secret.clone(), secret.is_some()],
        )
        .await?;
        out.push(DemoAccount {
            username,
            role,
            password: pw,
            totp_secret: secret,
        });
    }
    audit::append(
        &mut tx,
        &Actor::system(),
        Event::new("demo.reset-accounts", "demo", "demo"),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}
