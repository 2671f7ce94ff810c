//! The `qorgau` command: one binary for the server and its operations.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qorgau::platform::access::{Role, Scope};
use qorgau::platform::config::Config;

#[derive(Parser)]
#[command(
    name = "qorgau",
    version,
    about = "Protecting health workers from violence and harassment at work"
)]
struct Cli {
    /// `text` for people, `json` for log collectors.
    #[arg(long, env = "QORGAU_LOG_FORMAT", default_value = "text", global = true)]
    log_format: String,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server.
    Serve {
        #[command(flatten)]
        cfg: Config,
        /// Load the demo country (idempotent).
        #[arg(long)]
        demo: bool,
        /// Allow --demo on a database that already holds other data.
        #[arg(long)]
        force: bool,
    },
    /// Create the database or apply pending migrations, then exit.
    Migrate {
        #[command(flatten)]
        cfg: Config,
    },
    /// Load the demo country into the database, then exit.
    Demo {
        #[command(flatten)]
        cfg: Config,
        #[arg(long)]
        force: bool,
    },
    /// Accounts.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// A consistent online copy of the SQLite database (for PostgreSQL use pg_dump).
    Backup {
        #[command(flatten)]
        cfg: Config,
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace the SQLite database with a backup (the server must be stopped).
    Restore {
        #[command(flatten)]
        cfg: Config,
        #[arg(long)]
        from: PathBuf,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account; prints its one-time password reset link path.
    Add {
        #[command(flatten)]
        cfg: Config,
        #[arg(long)]
        username: String,
        /// worker, security_guard, department_head, facility_admin, investigator, union_rep,
        /// regional_health, labour_inspector, ministry_analyst, prosecutor, system_admin
        #[arg(long)]
        role: String,
        /// own | department:ID | facility:ID | region:ISO | country[:KZ|KG]
        #[arg(long)]
        scope: String,
        /// Password; when absent a reset link is printed instead.
        #[arg(long, env = "QORGAU_NEW_PASSWORD")]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute the hash chain and report any edited or deleted entry.
    Verify {
        #[command(flatten)]
        cfg: Config,
    },
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QORGAU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}

/// glibc keeps the 19 MiB arenas of each argon2 check resident after it ends; served from mmap
/// instead, they go back to the system at once (measured: 65 MB -> 34 MB after load, bench/).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_big_allocations_to_the_system() {
    // SAFETY: mallopt only changes allocator tuning; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_big_allocations_to_the_system() {}

/// glibc returns freed heap memory to the system only from the top of each arena, so after a
/// burst of requests the memory they freed stays resident (measured: 50.6 MB after the people
/// load, 32.5 MB after one `malloc_trim(0)`, bench/). Once a second a thread hands it back; its
/// cost is inside the CPU per request that bench/issue3.sh reports.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_freed_memory_every_second() {
    let spawned = std::thread::Builder::new()
        .name("malloc-trim".into())
        .spawn(|| {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                // SAFETY: malloc_trim only releases free memory; glibc locks each arena itself.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("warning: no memory trimming thread: {e}");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_freed_memory_every_second() {}

fn main() -> ExitCode {
    return_big_allocations_to_the_system();
    trim_freed_memory_every_second();
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(async_main()),
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn async_main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(&cli.log_format);
    match run(cli.cmd).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cmd: Cmd) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cmd {
        Cmd::Serve { cfg, demo, force } => {
            let db = qorgau::app::open(&cfg).await?;
            if demo {
                qorgau::demo::load(&db, &cfg, force).await?;
            }
            qorgau::app::serve(qorgau::app::state(db, cfg)?).await?;
        }
        Cmd::Migrate { cfg } => {
            qorgau::app::open(&cfg).await?;
            println!("database is up to date");
        }
        Cmd::Demo { cfg, force } => {
            let db = qorgau::app::open(&cfg).await?;
            qorgau::demo::load(&db, &cfg, force).await?;
        }
        Cmd::User {
            cmd:
                UserCmd::Add {
                    cfg,
                    username,
                    role,
                    scope,
                    password,
                },
        } => {
            let role = Role::parse(&role).ok_or_else(|| format!("unknown role {role:?}"))?;
            let scope = Scope::parse_cli(&scope).ok_or_else(|| format!("bad scope {scope:?}"))?;
            let db = qorgau::app::open(&cfg).await?;
            let out = qorgau::accounts::store::create_user_cli(
                &db,
                &username,
                role,
                &scope,
                password.as_deref(),
            )
            .await?;
            println!("{out}");
        }
        Cmd::Backup { cfg, to } => {
            let db = qorgau::app::open(&cfg).await?;
            qorgau::platform::backup::backup(&db, &to).await?;
            println!("backup written to {}", to.display());
        }
        Cmd::Restore { cfg, from } => {
            qorgau::platform::backup::restore(&cfg, &from).await?;
            println!("restored {} into {}", from.display(), cfg.database_url());
        }
        Cmd::Audit {
            cmd: AuditCmd::Verify { cfg },
        } => {
            let db = qorgau::app::open(&cfg).await?;
            let v = qorgau::platform::audit::verify(&db).await?;
            println!("entries: {}", v.entries);
            println!("head: {}", v.head);
            if v.breaks.is_empty() {
                println!("audit log intact");
            } else {
                for b in &v.breaks {
                    println!("BROKEN: {b:?}");
                }
                return Ok(ExitCode::from(2));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
