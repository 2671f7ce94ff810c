//! The `qorgau` binary as an operator runs it: serve, migrate, demo, user add, backup, restore,
//! audit verify, JSON logs and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qorgau");

fn qorgau(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("QORGAU_DATA_DIR", dir)
        .env("QORGAU_DEMO_PASSWORD", "cli-demo-password")
        .env_remove("QORGAU_DATABASE_URL")
        .output()
        .expect("run qorgau")
}

struct Server {
    child: Child,
    base: String,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("QORGAU_DATA_DIR", dir)
        .env("QORGAU_DEMO_PASSWORD", "cli-demo-password")
        .env_remove("QORGAU_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut base = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(addr) = line.strip_prefix("qorgau listening on ") {
            base = Some(addr.to_owned());
            break;
        }
    }
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Server {
        child,
        base: base.expect("server printed its address"),
        stderr: rx,
    }
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not ready");
}

#[tokio::test]
async fn first_start_creates_everything_and_sigterm_stops_cleanly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("fresh");
    let mut s = serve(&dir, &["--demo", "--log-format", "json"]);
    wait_ready(&s.base).await;
    assert!(dir.join("qorgau.db").exists());
    assert!(dir.join("keys/seal.key").exists());
    let csv = std::fs::read_to_string(dir.join("demo-accounts.csv")).expect("accounts file");
    assert!(csv.starts_with("username,role,password,totp_secret\n"));
    assert_eq!(csv.lines().count(), 12, "a header and one account per role");
    assert!(csv.contains("demo.system_admin,system_admin,cli-demo-password,"));
    // Logs are JSON lines.
    let line = s
        .stderr
        .recv_timeout(Duration::from_secs(5))
        .expect("a log line");
    let v: serde_json::Value = serde_json::from_str(&line).expect("json log line");
    assert!(v.get("level").is_some(), "{line}");
    // SIGTERM: the server finishes and exits 0.
    let pid = s.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(code) = s.child.try_wait().expect("wait") {
            assert!(code.success(), "exit {code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn demo_is_idempotent_and_refuses_other_data() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let out = qorgau(d, &["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = qorgau(d, &["demo"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already loaded"));

    let other = tmp.path().join("prod");
    let out = qorgau(
        &other,
        &[
            "user",
            "add",
            "--username",
            "root.admin",
            "--role",
            "system_admin",
            "--scope",
            "country",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains("/reset/"),
        "no password: a reset link is printed: {said}"
    );
    let out = qorgau(&other, &["demo"]);
    assert!(
        !out.status.success(),
        "a database with other data refuses the demo"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = qorgau(&other, &["demo", "--force"]);
    assert!(out.status.success());
}

#[tokio::test]
async fn user_add_checks_its_input() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (args, why) in [
        (
            vec!["--username", "x y", "--role", "worker", "--scope", "own"],
            "bad username",
        ),
        (
            vec!["--username", "abc", "--role", "emperor", "--scope", "own"],
            "bad role",
        ),
        (
            vec![
                "--username",
                "abc",
                "--role",
                "worker",
                "--scope",
                "facility:nope",
            ],
            "bad scope",
        ),
        (
            vec![
                "--username",
                "abc",
                "--role",
                "worker",
                "--scope",
                "own",
                "--password",
                "short",
            ],
            "short password",
        ),
    ] {
        let mut all = vec!["user", "add"];
        all.extend(args);
        let out = qorgau(tmp.path(), &all);
        assert!(!out.status.success(), "{why}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{why}"
        );
    }
}

#[tokio::test]
async fn online_backup_restores_and_verifies() {
    let tmp = tempfile::tempdir().expect("tmp");
    let live = tmp.path().join("live");
    let s = serve(&live, &["--demo"]);
    wait_ready(&s.base).await;
    let copy = tmp.path().join("copy.db");
    let out = qorgau(&live, &["backup", "--to", copy.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = qorgau(&live, &["backup", "--to", copy.to_str().expect("path")]);
    assert!(!out.status.success(), "never overwrites a file");
    drop(s);

    let restored = tmp.path().join("restored");
    let out = qorgau(
        &restored,
        &["restore", "--from", copy.to_str().expect("path")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = qorgau(&restored, &["audit", "verify"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit log intact"));

    // An edit behind the application's back is found.
    let db = qorgau::platform::db::Db::connect(&format!(
        "sqlite://{}",
        restored.join("qorgau.db").display()
    ))
    .await
    .expect("open");
    db.execute(
        "UPDATE audit_log SET action = 'nothing happened' WHERE seq = 1",
        vec![],
    )
    .await
    .expect("tamper");
    db.close().await;
    let out = qorgau(&restored, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("BROKEN: Edited { seq: 1 }"));

    let bogus = tmp.path().join("bogus.db");
    std::fs::write(&bogus, "not a database").expect("write");
    let out = qorgau(
        &tmp.path().join("other"),
        &["restore", "--from", bogus.to_str().expect("path")],
    );
    assert!(!out.status.success());
}

#[tokio::test]
async fn migrate_creates_the_database() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = qorgau(tmp.path(), &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("qorgau.db").exists());
    let db = qorgau::platform::db::Db::connect(&format!(
        "sqlite://{}",
        tmp.path().join("qorgau.db").display()
    ))
    .await
    .expect("open");
    let n: i64 = db
        .fetch_one("SELECT COUNT(*) AS n FROM regions", vec![])
        .await
        .expect("count")
        .get("n")
        .expect("n");
    assert_eq!(
        n, 29,
        "the regions of both countries are there without the demo"
    );
    db.close().await;
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", "mysql://nope"])
        .env("QORGAU_DATA_DIR", tmp.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database url"));
}

#[tokio::test]
async fn serves_https_with_secure_cookies() {
    if Command::new("openssl").arg("version").output().is_err()
        || Command::new("curl").arg("--version").output().is_err()
    {
        eprintln!("skipped: openssl and curl are needed to make a certificate and speak TLS");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let data = tmp.path().join("data");
    let s = serve(
        &data,
        &[
            "--demo",
            "--tls-cert",
            cert.to_str().expect("p"),
            "--tls-key",
            key.to_str().expect("p"),
        ],
    );
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sk", "--max-time", "10"])
            .args(args)
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while curl(&[&format!("{}/readyz", s.base)]) != "ready" {
        assert!(Instant::now() < deadline, "not ready over TLS");
        std::thread::sleep(Duration::from_millis(50));
    }
    let headers = curl(&[
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"username":"demo.facility_admin","password":"cli-demo-password"}"#,
        &format!("{}/api/v1/auth/login", s.base),
    ]);
    let cookie = headers
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie in {headers}"));
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}
