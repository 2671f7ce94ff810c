//! Wiring only: config -> database -> state -> router -> listener.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;

use crate::platform::auth::throttle::Throttle;
use crate::platform::config::Config;
use crate::platform::db::Db;
use crate::platform::state::{AppState, Inner};
use crate::platform::{idempotency, web};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("creating data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Db(#[from] crate::platform::db::DbError),
    #[error(transparent)]
    Keys(#[from] crate::platform::keys::KeyError),
    #[error("listening on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("server: {0}")]
    Serve(std::io::Error),
    #[error("MQTT: {0}")]
    Mqtt(String),
}

/// Opens the data dir and database, creating and migrating them on first start.
pub async fn open(cfg: &Config) -> Result<Db, StartError> {
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| StartError::DataDir(cfg.data_dir.display().to_string(), e))?;
    let sealer = crate::platform::crypto::Sealer::load(&cfg.data_dir)?;
    // Made here, before any request: requests racing to create a key file on first use could
    // read it half written.
    crate::platform::keys::load_or_create(&cfg.data_dir, "escrow")?;
    let db = Db::connect(&cfg.database_url()).await?;
    db.migrate().await?;
    crate::alarms::panels::seal_clear_keys(&db, &sealer).await?;
    // Regions are reference data every installation needs, demo or not.
    crate::directory::store::seed_regions(&db).await?;
    Ok(db)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Qorgau API", version = "1", description = "Protecting health workers from violence and harassment at work. Errors are application/problem+json (RFC 9457)."),
    components(schemas(crate::platform::error::ProblemBody, crate::platform::error::FieldError)),
    modifiers(&Security)
)]
struct BaseDoc;

struct Security;
impl utoipa::Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::platform::auth::SESSION_COOKIE,
            ))),
        );
    }
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = BaseDoc::openapi();
    doc.merge(crate::accounts::api::Doc::openapi());
    doc.merge(crate::alarms::api::Doc::openapi());
    doc.merge(crate::alarms::panels::Doc::openapi());
    doc.merge(crate::alarms::devices::Doc::openapi());
    doc.merge(crate::directory::api::Doc::openapi());
    doc.merge(crate::notify::api::Doc::openapi());
    doc.merge(crate::reports::api::Doc::openapi());
    doc.merge(crate::reports::escrow_api::Doc::openapi());
    doc.merge(crate::reports::retaliation_api::Doc::openapi());
    doc.merge(crate::reports::consent::Doc::openapi());
    doc.merge(crate::reports::attachments::Doc::openapi());
    doc.merge(crate::triage::api::Doc::openapi());
    doc.merge(crate::auditlog::api::Doc::openapi());
    doc.merge(crate::platform::ops::Doc::openapi());
    problems_everywhere(&mut doc);
    doc
}

/// Every error is an RFC 9457 problem, whatever the route: error responses are declared with
/// that media type, and every operation gets a `default` problem for the refusals any route can
/// give (malformed input 400, 401, 403, 404, 413, 415, 422, 429, 503).
fn problems_everywhere(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, Ref, RefOr, Response};
    let problem = || {
        RefOr::T(Content::new(Some(RefOr::Ref(Ref::from_schema_name(
            "ProblemBody",
        )))))
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            for (status, resp) in op.responses.responses.iter_mut() {
                if status.starts_with(['4', '5'])
                    && let RefOr::T(r) = resp
                {
                    r.content.clear();
                    r.content
                        .insert("application/problem+json".into(), problem());
                }
            }
            let mut default =
                Response::new("An error, as an RFC 9457 problem in the caller's language");
            default
                .content
                .insert("application/problem+json".into(), problem());
            op.responses
                .responses
                .entry("default".into())
                .or_insert(RefOr::T(default));
        }
    }
}

pub fn router(state: AppState) -> Router {
    let docs =
        utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", openapi());

    let app = Router::new()
        .merge(crate::accounts::routes())
        .merge(crate::alarms::routes())
        .merge(crate::directory::routes())
        .merge(crate::notify::routes())
        .merge(crate::reports::routes())
        .merge(crate::triage::routes())
        .merge(crate::auditlog::routes())
        .merge(crate::home::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(state.cfg.max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.cfg.request_timeout),
        ))
        .layer(tower_http::csrf::CsrfLayer::new())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::context,
        ))
        .with_state(state.clone());

    Router::new()
        .merge(app)
        .merge(crate::platform::ops::routes().with_state(state))
        .merge(docs)
        .route("/static/{*file}", get(crate::platform::assets::serve))
        .layer(axum::middleware::from_fn(web::track_metrics))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(web::security_headers))
}

async fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// Histogram samples wait in the recorder until an upkeep folds them into their buckets; with
/// `install_recorder` nothing does that but a `/metrics` scrape, so without one every request's
/// sample stayed in memory (measured: about 8 MB more RSS per 550 000 requests, bench/).
fn drain_histograms_every_5_s(handle: &metrics_exporter_prometheus::PrometheusHandle) {
    let handle = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                handle.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread");
    }
}

/// The process-wide recorder; several servers in one test process share it.
pub fn install_metrics() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .ok()?
                .install_recorder()
                .ok()
                .inspect(drain_histograms_every_5_s)
        })
        .clone()
}

pub fn state(db: Db, cfg: Config) -> Result<AppState, StartError> {
    let sealer = crate::platform::crypto::Sealer::load(&cfg.data_dir)?;
    // Made here, before any request: requests racing to create a key file on first use could
    // read it half written.
    crate::platform::keys::load_or_create(&cfg.data_dir, "escrow")?;
    let per_hour = cfg.anonymous_per_hour;
    Ok(AppState::new(Inner {
        sealer,
        audit: crate::platform::audit::Recorder::start(db.clone()),
        batch: crate::platform::batch::Batcher::start(db.clone()),
        events: crate::platform::events::Events::start(db.clone()),
        db,
        cfg,
        login_throttle: Throttle::new(10, Duration::from_secs(600)),
        receipt_throttle: Throttle::new(10, Duration::from_secs(600)),
        anonymous_throttle: Throttle::new(per_hour, Duration::from_secs(3600)),
        sessions: Default::default(),
        metrics: install_metrics(),
        listeners: Default::default(),
    }))
}

/// Serves until SIGTERM or Ctrl-C, then stops accepting and lets in-flight requests finish.
pub async fn serve(state: AppState) -> Result<(), StartError> {
    try_start_background(&state)?;
    let cfg = state.cfg.clone();
    let db = state.db.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    if let (Some(cert), Some(key)) = (&cfg.tls_cert, &cfg.tls_key) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
            .await
            .map_err(|e| StartError::Tls(e.to_string()))?;
        let listener =
            std::net::TcpListener::bind(cfg.listen).map_err(|e| StartError::Bind(cfg.listen, e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| StartError::Bind(cfg.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Bind(cfg.listen, e))?;
        announce("https", addr);
        let handle = axum_server::Handle::new();
        let h2 = handle.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            h2.graceful_shutdown(Some(Duration::from_secs(30)));
        });
        axum_server::from_tcp_rustls(listener, tls)
            .map_err(StartError::Serve)?
            .handle(handle)
            .serve(app)
            .await
            .map_err(StartError::Serve)?;
    } else {
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|e| StartError::Bind(cfg.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Bind(cfg.listen, e))?;
        announce("http", addr);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(StartError::Serve)?;
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Timers and other work that runs beside the requests. A listener that cannot bind is logged
/// here; `serve` uses [`try_start_background`] and refuses to start instead.
pub fn start_background(state: &AppState) {
    if let Err(e) = try_start_background(state) {
        tracing::error!(error = %e, "starting background work");
    }
}

/// As [`start_background`], failing when a listener cannot bind. Bound addresses are recorded
/// in `state.listeners` before this returns.
pub fn try_start_background(state: &AppState) -> Result<(), StartError> {
    crate::alarms::service::start_timers(state.clone());
    // The VAPID key exists before any phone asks for it, so that it is made once.
    if let Err(e) = crate::notify::push::Vapid::load(&state.cfg.data_dir) {
        tracing::error!(error = %e, "VAPID key for Web Push");
    }
    if let Some(addr) = state.cfg.sia_listen {
        let bound =
            crate::alarms::sia::start(state, addr).map_err(|e| StartError::Bind(addr, e))?;
        state.listeners.record("sia", bound);
        // Scripts and tests may read this line to find the port.
        println!("qorgau SIA receiver on tcp+udp {bound}");
        tracing::info!(%bound, "SIA DC-09 receiver listening");
    }
    // The MQTT client runs for the life of the process; its handle is not needed.
    crate::alarms::mqtt::start(state).map_err(StartError::Mqtt)?;
    Ok(())
}

fn announce(scheme: &str, addr: SocketAddr) {
    // Scripts and tests read this exact line to find the port.
    println!("qorgau listening on {scheme}://{addr}");
    tracing::info!(%addr, "listening");
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// For `/metrics`: pool gauges are read at scrape time.
pub async fn metrics_text(State(st): State<AppState>) -> Response {
    let (open, idle) = st.db.pool_stats();
    metrics::gauge!("qorgau_db_pool_connections").set(f64::from(open));
    metrics::gauge!("qorgau_db_pool_idle").set(idle as f64);
    let body = st.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
