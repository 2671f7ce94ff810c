//! The integration harness: the real server on a random port with a fresh database, talked to
//! over HTTP. Every test runs on SQLite, and again on PostgreSQL when `QORGAU_TEST_POSTGRES_URL`
//! is set (each test in a database of its own, cloned from a template that holds the demo).

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use qorgau::platform::config::Config;
use tokio::sync::OnceCell;

pub const DEMO_PASSWORD: &str = "demo-password-for-tests";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body on SQLite, or on PostgreSQL if configured (else says why it skipped).
#[macro_export]
macro_rules! both {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = common::TestApp::start(common::Backend::Sqlite).await;
                $body
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = common::TestApp::start_postgres().await else {
                    return;
                };
                $body
            }
        }
    };
}

#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub totp: Option<String>,
}

pub struct TestApp {
    pub cfg: Config,
    pub base: String,
    pub addr: SocketAddr,
    pub backend: Backend,
    pub data_dir: PathBuf,
    pub accounts: HashMap<String, DemoAccount>,
    pub db: qorgau::platform::db::Db,
    /// The server's state: `state.listeners` holds addresses bound beside HTTP (the SIA receiver).
    pub state: qorgau::platform::state::AppState,
    sessions: std::sync::Mutex<HashMap<String, reqwest::Client>>,
    _tmp: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(clap::Parser)]
struct CfgOnly {
    #[command(flatten)]
    cfg: Config,
}

pub fn config(data_dir: &Path, database_url: Option<String>) -> Config {
    let mut args = vec![
        "test".to_owned(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        // The fake webhook and push servers of the tests listen on loopback.
        "--webhook-allow".into(),
        "127.0.0.0/8,::1".into(),
    ];
    if let Some(u) = database_url {
        args.push("--database-url".into());
        args.push(u);
    }
    CfgOnly::parse_from(args).cfg
}

/// The demo, loaded once per test process, copied for each test.
struct Template {
    dir: tempfile::TempDir,
    pg_db: Option<String>,
}

static SQLITE_TEMPLATE: OnceCell<Template> = OnceCell::const_new();
static PG_TEMPLATE: OnceCell<Template> = OnceCell::const_new();

fn pg_url() -> Option<String> {
    std::env::var("QORGAU_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// `postgres://u@h:p/db` with another database name.
fn with_db(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap_or((url, ""));
    let query = url
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{base}/{db}{query}")
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

async fn admin_exec(sql: &str) {
    let url = pg_url().expect("postgres url");
    let db = qorgau::platform::db::Db::connect(&url)
        .await
        .expect("connect to postgres");
    let leaked: &'static str = Box::leak(sql.to_owned().into_boxed_str());
    db.conn()
        .await
        .expect("conn")
        .execute(leaked, vec![])
        .await
        .expect(sql);
    db.close().await;
}

async fn build_template(backend: Backend) -> Template {
    // SAFETY of set_var: done before any test reads it, from a single initialiser.
    unsafe { std::env::set_var("QORGAU_DEMO_PASSWORD", DEMO_PASSWORD) };
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, pg_db) = match backend {
        Backend::Sqlite => (None, None),
        Backend::Postgres => {
            let name = unique("qorgau_t_tpl");
            admin_exec(&format!("CREATE DATABASE {name}")).await;
            (Some(with_db(&pg_url().expect("url"), &name)), Some(name))
        }
    };
    let cfg = config(dir.path(), url);
    let db = qorgau::app::open(&cfg).await.expect("open template");
    qorgau::demo::load(&db, &cfg, false).await.expect("demo");
    db.close().await;
    Template { dir, pg_db }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read template") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn read_accounts(path: &Path) -> HashMap<String, DemoAccount> {
    let text = std::fs::read_to_string(path).expect("demo accounts file");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let [user, role, pw, totp] = f.as_slice() else {
                return None;
            };
            Some((
                (*role).to_owned(),
                DemoAccount {
                    username: (*user).to_owned(),
                    password: (*pw).to_owned(),
                    totp: Some((*totp).to_owned()).filter(|t| !t.is_empty()),
                },
            ))
        })
        .collect()
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_postgres() -> Option<TestApp> {
        if pg_url().is_none() {
            eprintln!(
                "skipped on PostgreSQL: QORGAU_TEST_POSTGRES_URL is not set (.ci/run sets it)"
            );
            return None;
        }
        Some(Self::start(Backend::Postgres).await)
    }

    /// Starts a server whose configuration `tweak` may change (timeouts, limits).
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let tpl = match backend {
            Backend::Sqlite => {
                SQLITE_TEMPLATE
                    .get_or_init(|| build_template(backend))
                    .await
            }
            Backend::Postgres => PG_TEMPLATE.get_or_init(|| build_template(backend)).await,
        };
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_dir(tpl.dir.path(), tmp.path());
        let url = match &tpl.pg_db {
            Some(t) => {
                let name = unique("qorgau_t");
                admin_exec(&format!("CREATE DATABASE {name} TEMPLATE {t}")).await;
                Some(with_db(&pg_url().expect("url"), &name))
            }
            None => None,
        };
        let mut cfg = config(tmp.path(), url);
        tweak(&mut cfg);
        let db = qorgau::app::open(&cfg).await.expect("open");
        let state = qorgau::app::state(db.clone(), cfg.clone()).expect("state");
        qorgau::app::start_background(&state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app =
            qorgau::app::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestApp {
            cfg,
            base: format!("http://{addr}"),
            addr,
            backend,
            data_dir: tmp.path().to_owned(),
            accounts: read_accounts(&tmp.path().join("demo-accounts.csv")),
            db,
            state,
            sessions: std::sync::Mutex::new(HashMap::new()),
            _tmp: tmp,
            server,
        }
    }

    /// A second server on the same database, as another node behind a load balancer.
    pub async fn second_node(&self) -> (String, tokio::task::JoinHandle<()>) {
        let db = qorgau::app::open(&self.cfg).await.expect("open");
        let state = qorgau::app::state(db, self.cfg.clone()).expect("state");
        qorgau::app::start_background(&state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = qorgau::app::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let h = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}"), h)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with its own cookie jar and no redirects followed.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    pub fn account(&self, role: &str) -> DemoAccount {
        self.accounts
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("no demo account for {role}"))
    }

    /// A client logged in through the API as the demo account of `role`. Sessions are kept per
    /// role: a second-factor code is good only once, so logging in again at once would fail.
    pub async fn login(&self, role: &str) -> reqwest::Client {
        if let Some(c) = self.sessions.lock().expect("lock").get(role) {
            return c.clone();
        }
        let c = self.fresh_login(role).await;
        self.sessions
            .lock()
            .expect("lock")
            .insert(role.to_owned(), c.clone());
        c
    }

    /// A new session, not shared with other calls.
    pub async fn fresh_login(&self, role: &str) -> reqwest::Client {
        let c = self.client();
        let a = self.account(role);
        let totp = a.totp.as_deref().map(current_totp).unwrap_or_default();
        let r = c
            .post(self.url("/api/v1/auth/login"))
            .json(
                &serde_json::json!({"username": a.username, "password": a.password, "totp": totp}),
            )
            .send()
            .await
            .expect("login");
        assert_eq!(
            r.status(),
            200,
            "login as {role}: {}",
            r.text().await.unwrap_or_default()
        );
        c
    }

    /// The demo facility every facility-level demo account belongs to.
    pub async fn demo_facility(&self) -> String {
        let me: serde_json::Value = self
            .login("facility_admin")
            .await
            .get(self.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("json");
        me["scope_id"].as_str().expect("scope id").to_owned()
    }
}

/// RFC 6238 code for now, computed independently of the server's library.
pub fn current_totp(secret_b32: &str) -> String {
    totp_at(secret_b32, jiff::Timestamp::now().as_second() as u64 / 30)
}

pub fn totp_at(secret_b32: &str, step: u64) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let key = base32_decode(secret_b32);
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).expect("hmac key");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[off]) & 0x7f) << 24
        | u32::from(h[off + 1]) << 16
        | u32::from(h[off + 2]) << 8
        | u32::from(h[off + 3]);
    format!("{:06}", bin % 1_000_000)
}

fn base32_decode(s: &str) -> Vec<u8> {
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = vec![];
    for c in s.trim_end_matches('=').chars() {
        let v = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => continue,
        };
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// Sends a request and returns its status and JSON body (`Null` when the body is not JSON).
pub async fn send(req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let r = req.send().await.expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// GET as `send` does.
pub async fn get_json(c: &reqwest::Client, url: String) -> (u16, serde_json::Value) {
    send(c.get(url)).await
}

/// Polls `f` every 150 ms until it gives a value; fails the test after `secs` seconds.
pub async fn wait_for<T>(secs: u64, what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(x) = f().await {
            return x;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
}
