//! Typed configuration: built-in defaults, then `katalog-bridge.toml` (or the
//! file given with `--config`), then `KATALOG_BRIDGE_*` environment variables,
//! then `DATABASE_URL`.
//!
//! Secrets sit in [`SecretString`], whose `Debug` prints `[REDACTED]`, so no
//! log line or error message can show them.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Name of the configuration file looked for in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "katalog-bridge.toml";
/// Prefix of environment overrides; nested keys are joined with `__`,
/// e.g. `KATALOG_BRIDGE_DATABASE__DATA_DIR`.
pub const ENV_PREFIX: &str = "KATALOG_BRIDGE_";
const SECTIONS: &[&str] =
    &["database", "catalogue", "import", "log", "orders", "listings", "daemon", "notify", "fulfilment", "inaproc", "web", "photos", "rup", "mappings_dir"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    /// The message is built from figment's error without the values it
    /// quotes (a value may be a secret): only keys, sources and expected types.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("catalogue seller {kode_penyedia}: {problem}")]
    Seller { kode_penyedia: String, problem: String },
}

/// Describes a figment error without echoing any configured value: a syntax
/// error keeps its position but not the offending line, a type error says what
/// kind of value was found but not the value.
fn describe_error(error: figment::Error) -> String {
    use figment::error::Kind;
    let mut parts = Vec::new();
    for e in error {
        let key = if e.path.is_empty() { String::new() } else { format!("{}: ", e.path.join(".")) };
        let source = e
            .metadata
            .as_ref()
            .map(|m| match &m.source {
                Some(figment::Source::File(path)) => format!(" (in {})", path.display()),
                _ => format!(" (from {})", m.name),
            })
            .unwrap_or_default();
        let what = match &e.kind {
            Kind::Message(msg) => {
                // TOML syntax errors quote the offending line under a `|` gutter: keep the rest.
                let kept: Vec<&str> = msg.lines().map(str::trim).filter(|l| !l.is_empty() && !l.contains('|') && !l.starts_with('^')).collect();
                kept.join("; ")
            }
            Kind::InvalidType(actual, expected) => format!("expected {expected}, found {}", kind_of(actual)),
            Kind::InvalidValue(actual, expected) => format!("invalid {} (the value is not shown), expected {expected}", kind_of(actual)),
            Kind::InvalidLength(len, expected) => format!("{len} items, expected {expected}"),
            Kind::UnknownVariant(_, expected) => format!("unknown value (not shown), expected one of: {}", expected.join(", ")),
            Kind::UnknownField(field, expected) => format!("unknown key `{field}`, expected one of: {}", expected.join(", ")),
            Kind::MissingField(field) => format!("missing key `{field}`"),
            Kind::DuplicateField(field) => format!("key `{field}` given twice"),
            Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => "number out of range".to_owned(),
            Kind::Unsupported(actual) => format!("unsupported {}", kind_of(actual)),
            Kind::UnsupportedKey(actual, need) => format!("a {} cannot be a key, need {need}", kind_of(actual)),
        };
        parts.push(format!("{key}{what}{source}"));
    }
    parts.join("; ")
}

/// A secret given as a string, or as a bare number (a numeric client secret
/// in TOML, or any digits-only environment value, which figment reads as a number).
pub fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Unsigned(u64),
        Signed(i64),
    }
    // An untagged enum's own error would not quote the value either, but say it plainly.
    let raw = Option::<Raw>::deserialize(d).map_err(|_| serde::de::Error::custom("expected a string (the value is not shown)"))?;
    Ok(raw.map(|r| match r {
        Raw::Text(s) => SecretString::from(s),
        Raw::Unsigned(n) => SecretString::from(n.to_string()),
        Raw::Signed(n) => SecretString::from(n.to_string()),
    }))
}

/// What kind of value a configuration held, without the value.
fn kind_of(actual: &figment::error::Actual) -> &'static str {
    use figment::error::Actual;
    match actual {
        Actual::Bool(_) => "a boolean",
        Actual::Unsigned(_) | Actual::Signed(_) => "an integer",
        Actual::Float(_) => "a decimal number",
        Actual::Char(_) | Actual::Str(_) => "a string",
        Actual::Bytes(_) => "bytes",
        Actual::Unit | Actual::Option => "an empty value",
        Actual::Seq => "a list",
        Actual::Map => "a table",
        _ => "a value of another kind",
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub catalogue: CatalogueSettings,
    pub import: ImportSettings,
    pub log: LogSettings,
    pub orders: OrderSettings,
    pub listings: ListingSettings,
    pub daemon: DaemonSettings,
    pub notify: NotifySettings,
    pub fulfilment: FulfilmentSettings,
    /// `[inaproc]`: the INAPROC data API (read-only), when the city has data-integrator access.
    pub inaproc: Option<InaprocSettings>,
    /// `[web]`: the dashboard the daemon serves at `/`.
    pub web: WebSettings,
    /// `[photos]`: the bounds on product photos sent from a phone.
    pub photos: PhotoSettings,
    /// `[rup]`: the buyers' purchase plans read from INAPROC (`[inaproc]`).
    pub rup: RupSettings,
    /// Folder with mapping files and lookup tables; the built-in copy when unset.
    pub mappings_dir: Option<PathBuf>,
}

/// `[listings]`: how the status job keeps each listing's local state in
/// line with the catalogue's.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListingSettings {
    /// A listing the catalogue's feed has not mentioned for this many hours
    /// is read back, and its local state corrected if it drifted.
    pub drift_check_hours: u64,
    /// Listings read back per status run at most (the longest unheard first).
    pub drift_check_max: i64,
}

impl Default for ListingSettings {
    fn default() -> Self {
        Self { drift_check_hours: 24, drift_check_max: 2000 }
    }
}

/// `[rup]`: how the purchase plans are read and told. The buyers and years
/// are `[orders] klpd` and `tahun`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RupSettings {
    /// How many days before a package's choosing begins its matched
    /// cooperatives are told (or when first seen, if later).
    pub lead_days: u32,
    /// Packages asked for per page (1-1000).
    pub page_size: u32,
}

impl Default for RupSettings {
    fn default() -> Self {
        Self { lead_days: 14, page_size: 1000 }
    }
}

/// `[photos]`: what a product photo sent from the dashboard may be, and
/// what is kept of it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhotoSettings {
    /// The largest file taken, in bytes (a phone's photo is 2-8 MB).
    pub max_bytes: usize,
    /// The most pixels (width × height) decoded; a larger image is refused
    /// from its header. A decoded photo holds up to 4 bytes a pixel.
    pub max_pixels: u64,
    /// The catalogue's minimum, on each side (its form takes 300-2,048 px).
    pub min_side_px: u32,
    /// The kept JPEG's longest side.
    pub longest_side_px: u32,
    /// The kept JPEG's quality, 1-100.
    pub jpeg_quality: u8,
    /// Photos one product may have.
    pub max_per_product: i64,
}

impl Default for PhotoSettings {
    fn default() -> Self {
        Self { max_bytes: 20 << 20, max_pixels: 50_000_000, min_side_px: 300, longest_side_px: 1600, jpeg_quality: 85, max_per_product: 5 }
    }
}

/// `[web]`: the dashboard's sessions and how it is reached.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// Serve the dashboard at `/` on `[daemon] listen`.
    pub enabled: bool,
    /// A session unused this long ends, in minutes.
    pub session_idle_minutes: u64,
    /// A session ends this long after its login, however used, in hours.
    pub session_max_hours: u64,
    /// Served over TLS (by a proxy in front): cookies are marked `Secure`.
    pub secure_cookies: bool,
    /// Behind a proxy that sets `X-Forwarded-For`: the client's address (for
    /// login throttling) is the last one it adds. Leave off when clients
    /// reach the daemon directly, or they could choose their own address.
    pub trust_forwarded_for: bool,
    /// Failed logins of one account from one address within
    /// `throttle_window_minutes` before each further try from that address
    /// must wait (doubling, up to 15 minutes).
    pub throttle_account_failures: i64,
    /// Failed logins from one address within the window before it must wait.
    pub throttle_address_failures: i64,
    pub throttle_window_minutes: u64,
    /// Failed logins of one account from every address within an hour that
    /// lock it for everyone until the hour passes or the liaison runs
    /// `users unlock` (short of that, they only slow its logins by a few seconds).
    pub throttle_flood_failures: i64,
    /// The dashboard's address as the world sees it (`https://katalog.example.go.id`):
    /// photos uploaded from the dashboard are given to the catalogue at
    /// `{public_base_url}/foto/<digest>.jpg`, which the catalogue's servers
    /// fetch. Unset: `http://` and `[daemon] listen`, which only this
    /// machine reaches.
    pub public_base_url: Option<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            session_idle_minutes: 60,
            session_max_hours: 12,
            secure_cookies: false,
            trust_forwarded_for: false,
            throttle_account_failures: 5,
            throttle_address_failures: 20,
            throttle_window_minutes: 15,
            throttle_flood_failures: 50,
            public_base_url: None,
        }
    }
}

/// `[daemon]`: where it answers, its time zone and its jobs' schedules.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonSettings {
    /// The dashboard (pages only), when `[web] enabled`.
    pub listen: String,
    /// `/healthz`, `/readyz` and `/metrics`, for the orchestrator and
    /// Prometheus: keep it off the public network.
    pub metrics_listen: String,
    /// Connections the dashboard serves at once.
    pub max_connections: usize,
    /// Connections one address may hold on the dashboard at once (0: no cap
    /// of its own). Behind a reverse proxy every client has the proxy's
    /// address: raise it there, and let the proxy cap each client.
    pub max_connections_per_address: usize,
    /// The zone the schedules are read in (an IANA name).
    pub timezone: String,
    /// Standard 5-field cron expressions by job (`publish`, `status`, `orders`);
    /// a job left out keeps its default.
    pub schedules: std::collections::BTreeMap<String, String>,
    /// How long a claim (a batch of publications or order details) is held
    /// before another instance may take it over, in seconds.
    pub lease_seconds: u64,
    /// Publications or order details claimed at a time. A claimed batch must
    /// be done within `lease_seconds`, or another instance takes it over
    /// (and the late writes are refused): keep batch × request time well
    /// under the lease.
    pub claim_batch: i64,
    /// How often an instance that does not lead a running job looks for its
    /// claimable work, in seconds.
    pub help_every_seconds: u64,
    /// How often due notifications are looked for and sent, in seconds.
    pub notify_every_seconds: u64,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9187".into(),
            metrics_listen: "127.0.0.1:9188".into(),
            max_connections: 64,
            max_connections_per_address: 16,
            timezone: "Asia/Jakarta".into(),
            schedules: Default::default(),
            lease_seconds: 300,
            claim_batch: 100,
            help_every_seconds: 2,
            notify_every_seconds: 60,
        }
    }
}

/// `[notify]`: how cooperative staff are told that an order waits. Either
/// channel, both, or none (the daemon then only logs).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// A JSON POST per notification, signed with HMAC-SHA256 of the body.
    /// Treated as a secret: a gateway's URL often carries its token.
    #[serde(deserialize_with = "secret")]
    pub webhook_url: Option<SecretString>,
    #[serde(deserialize_with = "secret")]
    pub webhook_secret: Option<SecretString>,
    pub webhook_secret_file: Option<PathBuf>,
    /// `smtps://user@host:465` (TLS), `smtp://user@host:587?tls=required`
    /// (STARTTLS), or `smtp://host:25` (no encryption: a local relay only,
    /// without a password unless the URL says `?tls=none`).
    #[serde(deserialize_with = "secret")]
    pub smtp_url: Option<SecretString>,
    #[serde(deserialize_with = "secret")]
    pub smtp_password: Option<SecretString>,
    pub smtp_password_file: Option<PathBuf>,
    /// A PEM file of CA certificates trusted for the SMTP server besides the
    /// system's (a relay with a private CA); needs a TLS URL.
    pub smtp_ca_file: Option<PathBuf>,
    /// The sender, e.g. `katalog-bridge <noreply@mojokertokota.go.id>`.
    pub from: Option<String>,
    /// Allow a plain `http://` webhook to a host other than this machine
    /// (loopback is always allowed): the body and its signature then cross
    /// the network readable by anyone on the way.
    pub webhook_allow_http: bool,
    /// `[notify.whatsapp]`: template messages through the WhatsApp Business Cloud API.
    pub whatsapp: Option<WhatsAppSettings>,
    /// `[notify.reminders]`: when an order waiting for its confirmation is told of.
    pub reminders: ReminderSettings,
}

/// `[notify.reminders]`: the points at which a cooperative is reminded of an
/// order waiting for its confirmation, each once: when it arrives, and when
/// less than so many working hours are left (0 leaves a point out).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReminderSettings {
    pub on_arrival: bool,
    pub near_hours_left: u32,
    pub last_hours_left: u32,
    /// A member whose products an accepted order holds is asked to bring
    /// them to the cooperative within this many working days (the orders
    /// carry no delivery date to count back from).
    pub member_working_days: u32,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        Self { on_arrival: true, near_hours_left: 24, last_hours_left: 4, member_working_days: 2 }
    }
}

/// `[notify.whatsapp]`: the WhatsApp Business Cloud API. Messages are
/// approved templates (`POST {api_url}/{phone_number_id}/messages`), sent to
/// each cooperative's `whatsapp` number.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WhatsAppSettings {
    /// The API with its version, e.g. `https://graph.facebook.com/v21.0`.
    pub api_url: String,
    /// The sending number's id in WhatsApp Manager.
    pub phone_number_id: String,
    /// The access token (a secret; or `token_file`).
    #[serde(deserialize_with = "secret")]
    pub token: Option<SecretString>,
    pub token_file: Option<PathBuf>,
    /// The templates' language code.
    pub language: String,
    /// The approved template for a new order (body parameters: order id,
    /// buyer, total, deadline in WIB, working time left).
    pub template_arrived: String,
    /// The approved template for an order whose deadline is near (the same parameters).
    pub template_deadline_near: String,
    /// The approved template for a step after the order past its due date
    /// (body parameters: order id, buyer, amount still to be received, due date, step).
    pub template_overdue: String,
    /// The approved template for a member whose products an accepted order
    /// holds (body parameters: member's name, order id, the goods, the day
    /// to bring them by, the cooperative).
    pub template_member_order: String,
    /// The approved template for products an order brought to the
    /// cooperative's stock threshold (body parameters: the cooperative, the
    /// order id, the products and what is left of each).
    pub template_stock_low: String,
    /// The approved template for a package of the city's purchase plan that
    /// fits a cooperative (body parameters: the cooperative, the package and
    /// its work unit, budget and start of the choosing, the products that fit and what they lack).
    pub template_rup_opportunity: String,
    /// The approved template for a correction of an opportunity told
    /// (body parameters: the cooperative, the package, the news).
    pub template_rup_correction: String,
}

impl Default for WhatsAppSettings {
    fn default() -> Self {
        Self {
            api_url: "https://graph.facebook.com/v21.0".into(),
            phone_number_id: String::new(),
            token: None,
            token_file: None,
            language: "id".into(),
            template_arrived: "pesanan_baru".into(),
            template_deadline_near: "batas_konfirmasi".into(),
            template_overdue: "langkah_terlambat".into(),
            template_member_order: "pesanan_anggota".into(),
            template_stock_low: "stok_menipis".into(),
            template_rup_opportunity: "peluang_pengadaan".into(),
            template_rup_correction: "koreksi_peluang".into(),
        }
    }
}

impl WhatsAppSettings {
    pub fn token(&self) -> Result<Option<SecretString>, String> {
        inline_or_file("notify.whatsapp.token", &self.token, &self.token_file)
    }
}

impl NotifySettings {
    pub fn webhook_secret(&self) -> Result<Option<SecretString>, String> {
        inline_or_file("webhook_secret", &self.webhook_secret, &self.webhook_secret_file)
    }

    pub fn smtp_password(&self) -> Result<Option<SecretString>, String> {
        inline_or_file("smtp_password", &self.smtp_password, &self.smtp_password_file)
    }
}

impl DaemonSettings {
    /// The time zone, or why it is not one.
    pub fn tz(&self) -> Result<chrono_tz::Tz, String> {
        self.timezone.parse().map_err(|_| format!("daemon.timezone {:?} is not a time zone name like Asia/Jakarta", self.timezone))
    }
}

/// `[fulfilment]`: after the order: how orders are paid when the catalogue
/// does not say, and when each step is due.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FulfilmentSettings {
    /// How an order is paid unless the staff record otherwise or the
    /// catalogue says `PAYMENT_OUTSIDE_SYSTEM`: `in_system`, `treasurer` or `outside_system`.
    pub payment: crate::domain::fulfilment::PaymentWay,
    /// When each step is due: `{ step = "paid", after = "bast", days = 30 }`
    /// (calendar days). Steps: shipped, delivered, bast, faktur, invoice, paid.
    pub due: Vec<crate::domain::fulfilment::DueRule>,
}

impl Default for FulfilmentSettings {
    fn default() -> Self {
        Self { payment: crate::domain::fulfilment::PaymentWay::InSystem, due: crate::domain::fulfilment::default_due_rules() }
    }
}

/// `[orders]`: whose purchase orders are synced, and how deadlines count.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderSettings {
    /// The buying governments (`kode_klpd`, e.g. `D347` for Kota Mojokerto).
    pub klpd: Vec<String>,
    /// The fiscal years; by default the current one and the one before (in Jakarta).
    pub tahun: Vec<i32>,
    /// Whether cuti bersama counts as a working day for the 3-working-day
    /// confirmation deadline (by default it does not).
    pub cuti_bersama_is_working_day: bool,
    /// Packages asked for per feed page (1-1000).
    pub page_size: u32,
    /// Orders whose detail is claimed, fetched and written at a time (1-1000).
    pub detail_batch: i64,
    /// Where orders are read: `catalogue` (the catalogue's order API, with a
    /// seller's account) or `inaproc` (the INAPROC data API, `[inaproc]`).
    pub source: OrderSource,
}

/// Where the order sync reads orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    #[default]
    Catalogue,
    Inaproc,
}

impl OrderSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSource::Catalogue => "catalogue",
            OrderSource::Inaproc => "inaproc",
        }
    }
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self { klpd: Vec::new(), tahun: Vec::new(), cuti_bersama_is_working_day: false, page_size: 500, detail_batch: 500, source: OrderSource::Catalogue }
    }
}

/// `[inaproc]`: LKPP's INAPROC data API, read with the token of a "Data
/// Integrator" (a government body, here the city's procurement office).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InaprocSettings {
    /// e.g. `https://data.inaproc.id`; the paths (`/api/v1/ekatalog/...`) are added.
    pub base_url: String,
    /// The integrator's JWT (a secret; or `token_file`).
    #[serde(deserialize_with = "secret")]
    pub token: Option<SecretString>,
    pub token_file: Option<PathBuf>,
    /// Requests in any minute, over every job and every daemon sharing the database.
    pub per_minute: u32,
    /// Requests in any hour, likewise.
    pub per_hour: u32,
    /// Waits after repeated 429 answers, in seconds (the second in a row waits the first).
    pub backoff_seconds: Vec<u64>,
    pub timeout_secs: u64,
    pub max_attempts: u32,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Allow plain `http://` to a host other than this machine.
    pub allow_http: bool,
}

impl Default for InaprocSettings {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            token: None,
            token_file: None,
            per_minute: 1000,
            per_hour: 5000,
            backoff_seconds: vec![65, 300, 900, 3600],
            timeout_secs: 60,
            max_attempts: 5,
            max_concurrency: 4,
            allow_http: false,
        }
    }
}

impl InaprocSettings {
    pub fn token(&self) -> Result<Option<SecretString>, String> {
        inline_or_file("inaproc.token", &self.token, &self.token_file)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// PostgreSQL URL. When unset, a private embedded cluster is started.
    #[serde(deserialize_with = "secret")]
    pub url: Option<SecretString>,
    /// Data directory of the embedded cluster.
    pub data_dir: PathBuf,
    /// Database name inside the embedded cluster.
    pub name: String,
    /// Port number of the embedded cluster (it listens on a Unix socket only).
    pub embedded_port: u16,
    /// Where to look for `initdb`, `pg_ctl` and `postgres` after `PATH`; `*` globs.
    pub postgres_bin_dirs: Vec<String>,
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            data_dir: PathBuf::from(".katalog-bridge/postgres"),
            name: "katalog_bridge".into(),
            embedded_port: 5432,
            postgres_bin_dirs: vec!["/usr/lib/postgresql/*/bin".into()],
            max_connections: 8,
        }
    }
}

/// The e-catalogue and the seller account of each cooperative on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogueSettings {
    pub base_url: String,
    /// One attempt of one request may take this long.
    pub timeout_secs: u64,
    /// Requests in flight at once, over all sellers.
    pub max_concurrency: usize,
    /// Attempts per request, the first included, for what can succeed later.
    pub max_attempts: u32,
    pub sellers: Vec<SellerAccount>,
    /// Allows a plain `http://` base_url to another machine (client secrets
    /// and bearer tokens then cross the network unencrypted). Plain http is
    /// always allowed to this machine (the mock catalogue).
    pub allow_http: bool,
}

impl Default for CatalogueSettings {
    fn default() -> Self {
        Self { base_url: "http://127.0.0.1:8787".into(), timeout_secs: 30, max_concurrency: 8, max_attempts: 6, sellers: Vec::new(), allow_http: false }
    }
}

/// A cooperative's own account on the catalogue. The secret is given in the
/// file, or (better) in a file of its own that `client_secret_file` names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerAccount {
    pub kode_penyedia: String,
    pub client_id: String,
    #[serde(default, deserialize_with = "secret")]
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// How this cooperative's listings reach the catalogue: `api` (the
    /// default), `peppol` or `xlsx`. One channel per cooperative, so that a
    /// product is listed once; changing it hands the listings over.
    #[serde(default)]
    pub channel: crate::domain::publication::Channel,
}

impl SellerAccount {
    /// An account on the API channel with its secret given inline.
    pub fn new(kode_penyedia: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            kode_penyedia: kode_penyedia.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: Some(client_secret.to_owned().into()),
            client_secret_file: None,
            channel: Default::default(),
        }
    }

    /// The client secret, from the configuration or the file it names.
    pub fn secret(&self) -> Result<SecretString, ConfigError> {
        let problem = |problem: String| ConfigError::Seller { kode_penyedia: self.kode_penyedia.clone(), problem };
        inline_or_file("client_secret", &self.client_secret, &self.client_secret_file)
            .map_err(problem)?
            .ok_or_else(|| problem("has no client_secret or client_secret_file".into()))
    }
}

impl CatalogueSettings {
    /// The account of a seller, if configured.
    pub fn seller(&self, kode_penyedia: &str) -> Option<&SellerAccount> {
        self.sellers.iter().find(|s| s.kode_penyedia == kode_penyedia)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for s in &self.sellers {
            if s.kode_penyedia.trim().is_empty() || s.client_id.trim().is_empty() {
                return Err(ConfigError::Invalid("catalogue.sellers: every seller needs kode_penyedia and client_id".into()));
            }
            if !seen.insert(s.kode_penyedia.as_str()) {
                return Err(ConfigError::Seller { kode_penyedia: s.kode_penyedia.clone(), problem: "is configured twice".into() });
            }
            if s.client_secret.is_some() == s.client_secret_file.is_some() {
                // Same check as `secret()`, made at load so a mistake shows at once.
                s.secret()?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportSettings {
    /// Files larger than this are refused before reading.
    pub max_file_bytes: u64,
    /// Rows written to the database per transaction.
    pub batch_size: usize,
    /// An `.xlsx` workbook's parts together, unpacked, may be at most this big.
    pub max_unpacked_bytes: u64,
    /// A workbook's shared-string table, unpacked (it is held in memory).
    pub max_shared_strings_bytes: u64,
    /// Strings in a workbook's shared-string table.
    pub max_shared_strings: u64,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            max_file_bytes: 100 * 1024 * 1024,
            batch_size: 5000,
            max_unpacked_bytes: 1024 * 1024 * 1024,
            max_shared_strings_bytes: 128 * 1024 * 1024,
            max_shared_strings: 2_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `katalog_bridge=debug`; `RUST_LOG` wins.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Text, filter: "info,sqlx=warn".into() }
    }
}

impl Settings {
    /// Loads settings. `explicit` is the `--config` path: it must exist. Without
    /// it, `katalog-bridge.toml` in the working directory is read when present.
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match explicit {
            Some(path) if !path.is_file() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => path.to_owned(),
            None => PathBuf::from(DEFAULT_CONFIG_FILE),
        };
        Self::from_figment(
            Figment::new()
                .merge(Toml::file(file))
                .merge(Env::prefixed(ENV_PREFIX).split("__").filter(|key| is_known_section(key.as_str())))
                .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into())),
        )
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Self = figment.extract().map_err(|e| ConfigError::Invalid(describe_error(e)))?;
        settings.catalogue.check()?;
        Ok(settings)
    }

    /// A human-readable view of the effective settings, secrets masked.
    /// Where the world fetches the dashboard's photos: `[web]
    /// public_base_url`, or `http://` and `[daemon] listen`, without a
    /// trailing slash.
    pub fn photo_base(&self) -> String {
        match self.web.public_base_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.daemon.listen),
        }
    }

    pub fn describe(&self) -> String {
        let db_url = match &self.database.url {
            Some(url) => redact_url(url.expose_secret()),
            None => format!("(embedded cluster in {})", self.database.data_dir.display()),
        };
        let c = &self.catalogue;
        let mut sellers = String::new();
        for s in &c.sellers {
            let secret = match (&s.client_secret, &s.client_secret_file) {
                (Some(_), _) => "client_secret = [REDACTED]".to_owned(),
                (None, Some(p)) => format!("client_secret_file = {}", p.display()),
                (None, None) => "client_secret = (unset)".to_owned(),
            };
            sellers.push_str(&format!("catalogue.sellers: kode_penyedia = {}, client_id = {}, {secret}\n", s.kode_penyedia, s.client_id));
        }
        if c.sellers.is_empty() {
            sellers.push_str("catalogue.sellers = (none configured)\n");
        }
        format!(
            "database.url = {db_url}\ndatabase.data_dir = {}\ndatabase.name = {}\ndatabase.embedded_port = {}\n\
             database.postgres_bin_dirs = {:?}\ncatalogue.base_url = {}\ncatalogue.timeout_secs = {}\n\
             catalogue.max_concurrency = {}\ncatalogue.max_attempts = {}\n{sellers}\
             import.max_file_bytes = {}\nimport.batch_size = {}\n\
             log.format = {:?}\nlog.filter = {}\norders.klpd = {:?}\norders.tahun = {}\norders.cuti_bersama_is_working_day = {}\ndaemon.listen = {}\ndaemon.metrics_listen = {}\ndaemon.timezone = {}\ndaemon.schedules = {:?}\ndaemon.lease_seconds = {}\n\
             notify.webhook_url = {}\nnotify.webhook_secret = {}\nnotify.smtp_url = {}\nnotify.smtp_password = {}\nnotify.from = {}\n{}\
             fulfilment.payment = {}\nfulfilment.due = {}\norders.source = {}\n{}mappings_dir = {}\n",
            self.database.data_dir.display(),
            self.database.name,
            self.database.embedded_port,
            self.database.postgres_bin_dirs,
            redact_url(&c.base_url),
            c.timeout_secs,
            c.max_concurrency,
            c.max_attempts,
            self.import.max_file_bytes,
            self.import.batch_size,
            self.log.format,
            self.log.filter,
            self.orders.klpd,
            if self.orders.tahun.is_empty() { "(this year and the one before)".to_owned() } else { format!("{:?}", self.orders.tahun) },
            self.orders.cuti_bersama_is_working_day,
            self.daemon.listen,
            self.daemon.metrics_listen,
            self.daemon.timezone,
            self.daemon.schedules,
            self.daemon.lease_seconds,
            self.notify.webhook_url.as_ref().map_or("(unset)".into(), |u| redact_url(u.expose_secret())),
            shown_secret(&self.notify.webhook_secret, &self.notify.webhook_secret_file),
            self.notify.smtp_url.as_ref().map_or("(unset)".into(), |u| redact_url(u.expose_secret())),
            shown_secret(&self.notify.smtp_password, &self.notify.smtp_password_file),
            self.notify.from.as_deref().unwrap_or("(unset)"),
            match &self.notify.whatsapp {
                None => "notify.whatsapp = (unset)\n".to_owned(),
                Some(w) => format!(
                    "notify.whatsapp.api_url = {}\nnotify.whatsapp.phone_number_id = {}\nnotify.whatsapp.token = {}\nnotify.whatsapp.language = {}\n\
                     notify.whatsapp.template_arrived = {}\nnotify.whatsapp.template_deadline_near = {}\nnotify.whatsapp.template_overdue = {}\n",
                    redact_url(&w.api_url),
                    w.phone_number_id,
                    shown_secret(&w.token, &w.token_file),
                    w.language,
                    w.template_arrived,
                    w.template_deadline_near,
                    w.template_overdue
                ),
            },
            self.fulfilment.payment.as_str(),
            self.fulfilment.due.iter().map(|r| format!("{} {} days after {}", r.step.as_str(), r.days, r.after.as_str())).collect::<Vec<_>>().join(", "),
            self.orders.source.as_str(),
            match &self.inaproc {
                None => "inaproc = (unset)\n".to_owned(),
                Some(i) => format!(
                    "inaproc.base_url = {}\ninaproc.token = {}\ninaproc.per_minute = {}\ninaproc.per_hour = {}\ninaproc.backoff_seconds = {:?}\n",
                    redact_url(&i.base_url),
                    shown_secret(&i.token, &i.token_file),
                    i.per_minute,
                    i.per_hour,
                    i.backoff_seconds
                ),
            },
            self.mappings_dir.as_ref().map_or("(built in)".into(), |p| p.display().to_string()),
        )
    }
}

/// A secret given inline (`NAME`) or in a file of its own (`NAME_file`, read
/// now, a trailing newline ignored), or neither; both is a mistake, and so is
/// an empty file.
fn inline_or_file(name: &str, inline: &Option<SecretString>, file: &Option<PathBuf>) -> Result<Option<SecretString>, String> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(format!("give {name} or {name}_file, not both")),
        (Some(s), None) => Ok(Some(s.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}_file {}: {e}", path.display()))?;
            let secret = text.trim_end_matches(['\n', '\r']).to_owned();
            if secret.is_empty() {
                return Err(format!("{name}_file {} is empty", path.display()));
            }
            Ok(Some(SecretString::from(secret)))
        }
        (None, None) => Ok(None),
    }
}

fn shown_secret(inline: &Option<SecretString>, file: &Option<PathBuf>) -> String {
    match (inline, file) {
        (Some(_), _) => "[REDACTED]".into(),
        (None, Some(p)) => format!("(from {})", p.display()),
        (None, None) => "(unset)".into(),
    }
}

/// Only variables for a known section are read, so that an unrelated
/// `KATALOG_BRIDGE_*` variable cannot break loading. Keys arrive before or
/// after the `__` split, depending on figment's internals.
fn is_known_section(key: &str) -> bool {
    let first = key.split("__").next().unwrap_or(key);
    let first = first.split('.').next().unwrap_or(first);
    SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(first))
}

/// `postgres://user:secret@host/db?password=x` becomes
/// `postgres://user:REDACTED@host/db?password=REDACTED`: the user-info
/// password and every query parameter whose name speaks of a secret.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("REDACTED"));
            }
            if url.query().is_some() {
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| {
                        let lower = k.to_ascii_lowercase();
                        let secret = ["pass", "secret", "token", "key", "auth"].iter().any(|w| lower.contains(w));
                        (k.into_owned(), if secret { "REDACTED".to_owned() } else { v.into_owned() })
                    })
                    .collect();
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
            url.to_string()
        }
        Err(_) => "[unparsable URL, REDACTED]".into(),
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return its own error type
mod tests {
    use super::*;

    #[test]
    fn file_then_env_then_database_url() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("katalog-bridge.toml", "[database]\ndata_dir = \"/srv/kb\"\nname = \"fromfile\"\n[import]\nbatch_size = 7\n")?;
            jail.set_env("KATALOG_BRIDGE_IMPORT__BATCH_SIZE", "9");
            jail.set_env("KATALOG_BRIDGE_UNRELATED", "ignored");
            jail.set_env("DATABASE_URL", "postgres://kb:hunter2@db.example/kb");
            let s = Settings::load(None).expect("loads");
            assert_eq!(s.database.data_dir, PathBuf::from("/srv/kb"));
            assert_eq!(s.database.name, "fromfile");
            assert_eq!(s.import.batch_size, 9);
            assert_eq!(s.database.url.as_ref().unwrap().expose_secret(), "postgres://kb:hunter2@db.example/kb");
            let shown = format!("{s:?}\n{}", s.describe());
            assert!(!shown.contains("hunter2"), "secret leaked: {shown}");
            Ok(())
        });
    }

    #[test]
    fn unknown_key_in_file_is_an_error_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("katalog-bridge.toml", "[database]\ndata_dri = \"x\"\n")?;
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(err.contains("data_dri"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn explicit_missing_file_is_an_error() {
        let err = Settings::load(Some(Path::new("/nonexistent/kb.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }

    #[test]
    fn redacts_passwords_in_userinfo_and_query_only() {
        assert_eq!(redact_url("postgres://u:p@h:5/d"), "postgres://u:REDACTED@h:5/d");
        assert_eq!(redact_url("postgres://h/d"), "postgres://h/d");
        assert_eq!(
            redact_url("postgres://u@h/d?sslmode=require&password=hunter2&sslpassword=x2&host=%2Ftmp"),
            "postgres://u@h/d?sslmode=require&password=REDACTED&sslpassword=REDACTED&host=%2Ftmp"
        );
        assert_eq!(redact_url("not a url hunter2"), "[unparsable URL, REDACTED]");
    }

    /// Every way a bad configuration is reported leaves the secret values out.
    #[test]
    fn configuration_errors_never_quote_values() {
        let cases: &[(&str, &str, &str)] = &[
            // syntax error on the line holding the secret
            ("[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = hunter2-Secret\n", "hunter2-Secret", "line 4"),
            ("[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = \"hunter2-Secret\n", "hunter2-Secret", "line 4"),
            // a numeric secret, a type error
            (
                "[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = [987654321123]\n",
                "987654321123",
                "expected a string (the value is not shown)",
            ),
            ("[import]\nmax_file_bytes = \"hunter2-Secret\"\n", "hunter2-Secret", "import.max_file_bytes: expected"),
            ("[log]\nformat = \"hunter2-Secret\"\n", "hunter2-Secret", "unknown value (not shown)"),
            ("[import]\nbatch_size = \"hunter2-Secret\"\n", "hunter2-Secret", "import.batch_size: expected"),
        ];
        for (file, secret, want) in cases {
            figment::Jail::expect_with(|jail| {
                jail.create_file("katalog-bridge.toml", file)?;
                let err = Settings::load(None).unwrap_err().to_string();
                assert!(!err.contains(secret), "{file:?} leaked: {err}");
                assert!(err.contains(want), "{file:?}: {err}");
                assert!(err.contains("katalog-bridge.toml"), "names the file: {err}");
                Ok(())
            });
        }
        // the same from the environment
        figment::Jail::expect_with(|jail| {
            jail.set_env("KATALOG_BRIDGE_IMPORT__BATCH_SIZE", "hunter2-Secret");
            let err = Settings::load(None).unwrap_err().to_string();
            assert!(!err.contains("hunter2-Secret"), "leaked: {err}");
            assert!(err.contains("environment"), "names the source: {err}");
            Ok(())
        });
        // A numeric secret is a secret, not a type error.
        figment::Jail::expect_with(|jail| {
            jail.create_file("katalog-bridge.toml", "[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = 987654321123\n")?;
            let s = Settings::load(None).expect("a numeric secret loads");
            assert_eq!(s.catalogue.sellers[0].secret().unwrap().expose_secret(), "987654321123");
            let shown = format!("{s:?}{}", s.describe());
            assert!(!shown.contains("987654321123"), "{shown}");
            Ok(())
        });
    }

    #[test]
    fn seller_accounts_take_a_secret_or_a_secret_file_and_never_show_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "rahasia-Dari-Berkas\n").unwrap();
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "katalog-bridge.toml",
                &format!(
                    "[catalogue]\nbase_url = \"https://katalog.example\"\n\
                     [[catalogue.sellers]]\nkode_penyedia = \"P-WATES\"\nclient_id = \"wates\"\nclient_secret = \"rahasia-Di-Config\"\n\
                     [[catalogue.sellers]]\nkode_penyedia = \"P-MERI\"\nclient_id = \"meri\"\nclient_secret_file = \"{}\"\n",
                    file.display()
                ),
            )?;
            let s = Settings::load(None).expect("loads");
            assert_eq!(s.catalogue.seller("P-WATES").unwrap().secret().unwrap().expose_secret(), "rahasia-Di-Config");
            assert_eq!(s.catalogue.seller("P-MERI").unwrap().secret().unwrap().expose_secret(), "rahasia-Dari-Berkas");
            let shown = format!("{s:?}\n{}", s.describe());
            assert!(!shown.contains("rahasia"), "{shown}");
            assert!(shown.contains("kode_penyedia = P-WATES, client_id = wates, client_secret = [REDACTED]"), "{shown}");
            Ok(())
        });
        for (body, want) in [
            ("[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\n", "catalogue seller P1: has no client_secret or client_secret_file"),
            ("[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = \"x\"\nclient_secret_file = \"/f\"\n", "not both"),
            (
                "[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = \"x\"\n[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"d\"\nclient_secret = \"y\"\n",
                "is configured twice",
            ),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.create_file("katalog-bridge.toml", body)?;
                let err = Settings::load(None).unwrap_err().to_string();
                assert!(err.contains(want), "{err}");
                Ok(())
            });
        }
        let missing = SellerAccount {
            kode_penyedia: "P2".into(),
            client_id: "c".into(),
            client_secret: None,
            client_secret_file: Some("/nonexistent/secret".into()),
            channel: Default::default(),
        };
        assert!(missing.secret().unwrap_err().to_string().contains("cannot read client_secret_file /nonexistent/secret"));
    }
}
