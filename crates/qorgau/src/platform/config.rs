//! Settings for `qorgau serve`, from flags or `QORGAU_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one and prints it.
    #[arg(long, env = "QORGAU_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where the SQLite database, keys, uploads and demo files live.
    #[arg(long, env = "QORGAU_DATA_DIR", default_value = "./qorgau-data")]
    pub data_dir: PathBuf,
    /// `postgres://...` to scale out; defaults to a SQLite file inside the data dir.
    #[arg(long, env = "QORGAU_DATABASE_URL")]
    pub database_url: Option<String>,
    /// TLS certificate chain (PEM); with --tls-key, serve HTTPS.
    #[arg(long, env = "QORGAU_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, env = "QORGAU_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "QORGAU_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: i64,
    /// Hours after which a session ends regardless (one long shift).
    #[arg(long, env = "QORGAU_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: i64,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "QORGAU_MAX_BODY", default_value_t = 2 * 1024 * 1024)]
    pub max_body: usize,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "QORGAU_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout: u64,
    /// Mark cookies `Secure` even without --tls-cert (behind a TLS-terminating proxy).
    #[arg(long, env = "QORGAU_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Receive SIA DC-09 alarm panels on this address, TCP and UDP on the same port (port 0 picks
    /// a free one and prints it). Off unless given.
    #[arg(long, env = "QORGAU_SIA_LISTEN")]
    pub sia_listen: Option<SocketAddr>,
    /// MQTT broker for panic buttons, `mqtt://[user[:password]@]host[:port]`. Off unless given.
    #[arg(long, env = "QORGAU_MQTT_URL")]
    pub mqtt_url: Option<String>,
    /// The MQTT client id, which names the broker's persistent session: keep it across restarts,
    /// and give each node its own.
    #[arg(long, env = "QORGAU_MQTT_CLIENT_ID", default_value = "qorgau")]
    pub mqtt_client_id: String,
    /// Topic filters to subscribe to, comma-separated: Zigbee2MQTT devices, Shelly Gen1 input
    /// events, Shelly Gen2 RPC events, and the generic form.
    #[arg(
        long,
        env = "QORGAU_MQTT_TOPICS",
        value_delimiter = ',',
        default_value = "zigbee2mqtt/+,shellies/+/input_event/+,+/events/rpc,qorgau/buttons/+"
    )]
    pub mqtt_topics: Vec<String>,
    /// Networks (CIDR, comma-separated) that webhooks and push deliveries may reach besides the
    /// public internet: an SMS gateway inside the hospital, say. Loopback, private, link-local
    /// and other non-public addresses are refused unless listed (notify/ssrf.rs).
    #[arg(long, env = "QORGAU_WEBHOOK_ALLOW", value_delimiter = ',')]
    pub webhook_allow: Vec<String>,
    /// Anonymous reports one client address may file per hour (0: no limit). Counted in memory
    /// only; behind a reverse proxy every reporter shares the proxy's address, so this is then a
    /// limit for everyone together: size it for the whole site.
    #[arg(long, env = "QORGAU_ANONYMOUS_PER_HOUR", default_value_t = 30)]
    pub anonymous_per_hour: usize,
}

impl Config {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("qorgau.db").display()),
        }
    }
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some()
    }
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies || self.tls()
    }
}
