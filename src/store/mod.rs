//! The PostgreSQL store: connecting (to `DATABASE_URL` or the embedded
//! cluster), migrations, and the queries of each table family.

/// `add` for a struct of counters: each named field summed.
macro_rules! summed {
    ($t:ty { $($f:ident),+ $(,)? }) => {
        impl $t {
            pub fn add(&mut self, o: $t) {
                $(self.$f += o.$f;)+
            }
        }
    };
}

pub mod claims;
pub mod dashboard;
pub mod embedded;
pub mod listings;
pub mod live;
mod named;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod photos;
pub mod products;
pub mod publications;
pub mod quota;
pub mod runs;
pub mod rup;
pub mod stock;
pub mod uploads;
pub mod users;

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::{DatabaseSettings, redact_url};
use embedded::{Cluster, ClusterOptions, EmbeddedError, PgBinaries, RunningCluster};

/// How long the first connection may take before the server is called unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("invalid database URL in database.url or DATABASE_URL ({url}): {source}")]
    BadUrl {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot connect to {location}: {source}")]
    Connect {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "cannot connect to {location} over TLS: {source}. With sslmode=verify-ca or verify-full the server's certificate must be signed by a CA \
         in the file named by sslrootcert (or a public CA), and with verify-full issued for the host name in the URL"
    )]
    Tls {
        location: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot connect to {location}: no answer within {secs} s (is the host reachable, and PostgreSQL listening there?)")]
    ConnectTimeout { location: String, secs: u64 },
    #[error("migrating {location} failed: {source}")]
    Migrate {
        location: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database is not as expected: {0}")]
    Inconsistent(String),
}

impl StoreError {
    /// The database cannot be reached just now (down, restarting, no free
    /// connection in time): the request may succeed in a moment.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::ConnectTimeout { .. } | Self::Tls { .. } => true,
            Self::Query(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => true,
            // 08: connection exceptions; 57: the server shutting down or starting.
            Self::Query(sqlx::Error::Database(e)) => e.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57")),
            _ => false,
        }
    }

    /// A value the database refused (SQLSTATE class 22, a data exception: a
    /// number out of range, a character it cannot store): the record's fault,
    /// not the database's, so the other records of its batch may still go in.
    pub fn is_data_error(&self) -> bool {
        matches!(self, Self::Query(sqlx::Error::Database(e)) if e.code().is_some_and(|c| c.starts_with("22")))
    }
}

/// A connection that failed in its TLS handshake: sqlx reports most of these
/// (an unknown issuer, a wrong name) as I/O errors carrying rustls's error.
fn is_tls_failure(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Tls(_) => true,
        sqlx::Error::Io(io) => io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()),
        _ => false,
    }
}

/// An open store: a pool, and the embedded cluster when one was started.
/// The store owns its pool and its transactions: the rest of the program goes
/// through the functions of `store::*`, which take a `&Store` and return
/// [`StoreError`].
#[derive(Debug)]
pub struct Store {
    pool: PgPool,
    location: String,
    embedded: Option<RunningCluster>,
}

impl Store {
    /// Connects to the configured URL, or starts (or reuses) the embedded
    /// cluster and creates its database when missing. Does not migrate.
    pub async fn open(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let (options, location, embedded) = match &settings.url {
            Some(url) => {
                let location = redact_url(url.expose_secret());
                let options: PgConnectOptions = url.expose_secret().parse().map_err(|source| StoreError::BadUrl { url: location.clone(), source })?;
                (options, location, None)
            }
            None => {
                let bins = PgBinaries::locate(std::env::var_os("PATH").as_deref(), &settings.postgres_bin_dirs)?;
                let cluster = Cluster::new(bins, &settings.data_dir, ClusterOptions { port: settings.embedded_port, ..Default::default() })?;
                let location = cluster.describe(&settings.name);
                let running = tokio::task::spawn_blocking(move || RunningCluster::start(cluster)).await.expect("cluster start does not panic")?;
                create_database_if_missing(running.cluster(), &settings.name).await?;
                (running.cluster().connect_options(&settings.name), location, Some(running))
            }
        };
        // One direct connection first: an unreachable server is reported at once
        // with its real cause ("connection refused"), not after the pool's wait.
        // A long streaming read of every product is expected: slow statements are debug news, not warnings.
        let options = options
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(1))
            // This process's connections, known by name when it settles the statistics at its end.
            .application_name(&own_application_name());
        match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(&options)).await {
            Err(_) => return Err(StoreError::ConnectTimeout { location, secs: CONNECT_TIMEOUT.as_secs() }),
            Ok(Err(source)) if is_tls_failure(&source) => return Err(StoreError::Tls { location, source }),
            Ok(Err(source)) => return Err(StoreError::Connect { location, source }),
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Connect { location: location.clone(), source })?;
        Ok(Self { pool, location, embedded })
    }

    /// Opens the store and applies pending migrations.
    pub async fn open_migrated(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let store = Self::open(settings).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The pool, for tests and tools that read the database directly.
    /// Application code uses the functions of `store::*` instead.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Wraps a pool the caller made (tests, tools).
    pub fn from_pool(pool: PgPool, location: impl Into<String>) -> Self {
        Self { pool, location: location.into(), embedded: None }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|source| StoreError::Migrate { location: self.location.clone(), source })
    }

    /// Where the data is, passwords masked.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Applied and pending migrations, for `db status`.
    pub async fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version").fetch_all(&self.pool).await.or_else(|e| match &e {
                sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01") => Ok(Vec::new()),
                _ => Err(e),
            })?;
        let known: Vec<(i64, String)> = MIGRATOR.iter().map(|m| (m.version, m.description.to_string())).collect();
        let pending = known.iter().filter(|(v, _)| !applied.contains(v)).cloned().collect();
        Ok(MigrationStatus { latest_applied: applied.last().copied(), applied: applied.len(), pending })
    }

    /// With the embedded cluster: this process owns it from now on and stops
    /// it at the end; commands run meanwhile reuse it and leave it running.
    pub fn own_embedded(&self) {
        if let Some(running) = &self.embedded {
            running.take_ownership();
        }
    }

    /// A transaction whose commit waits for the WAL to reach the disk.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// A transaction for data that can be recomputed or fetched again: its
    /// commit does not wait for the WAL to reach the disk. A crash may lose
    /// its last moments of commits; the database stays consistent either way.
    pub(crate) async fn begin_recomputable(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
        Ok(tx)
    }

    /// Another handle on the same pool, for tasks that outlive a borrow (the
    /// daemon's jobs, the heartbeat, the HTTP handlers). It does not own the
    /// embedded cluster: closing it stops nothing.
    pub fn handle(&self) -> Store {
        Store { pool: self.pool.clone(), location: self.location.clone(), embedded: None }
    }

    /// A pool of its own on the same database for requests that must answer
    /// quickly (the pages, the health checks): at most `max` connections,
    /// waiting at most `wait` for one, so a database that is away gives a
    /// quick error there while the jobs keep their longer wait.
    pub fn with_short_waits(&self, max: u32, wait: Duration) -> Store {
        let options = (*self.pool.connect_options()).clone();
        let pool = PgPoolOptions::new().max_connections(max.max(1)).acquire_timeout(wait).connect_lazy_with(options);
        Store { pool, location: self.location.clone(), embedded: None }
    }

    /// Closes the pool, settles the planner's statistics (below), then stops
    /// the embedded cluster if this process started it.
    pub async fn close(self) -> Result<(), StoreError> {
        let options = (*self.pool.connect_options()).clone();
        self.pool.close().await;
        if let Err(e) = settle_statistics(options).await {
            tracing::warn!(error = %e, "could not bring the planner's statistics up to date; autovacuum will");
        }
        if let Some(running) = self.embedded {
            tokio::task::spawn_blocking(move || running.shutdown()).await.expect("cluster stop does not panic")?;
        }
        Ok(())
    }
}

/// The `application_name` of this process's connections.
fn own_application_name() -> String {
    format!("katalog-bridge {}", std::process::id())
}

/// How long a process waits at its end for its closed connections to be gone
/// (each hands its statistics over as it ends).
const SETTLE_WAIT: Duration = Duration::from_secs(3);

/// Analyzes every table changed by more rows since its last analyze than
/// autovacuum's threshold (`autovacuum_analyze_threshold` +
/// `autovacuum_analyze_scale_factor` × its rows): after a large sync, import
/// or publish, the planner knows the tables' new sizes at once, though the
/// embedded cluster stops with the command before autovacuum gets to them.
/// Runs once this process's other connections have ended, so their counts are in.
async fn settle_statistics(options: PgConnectOptions) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::PgConnection::connect_with(&options.application_name("katalog-bridge statistics")).await?;
    let begun = std::time::Instant::now();
    while begun.elapsed() < SETTLE_WAIT {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1").bind(own_application_name()).fetch_one(&mut conn).await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sqlx::query("SET statement_timeout = '120s'").execute(&mut conn).await?;
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', s.schemaname, s.relname) FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
                                      + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)",
    )
    .fetch_all(&mut conn)
    .await?;
    for table in &stale {
        let begun = std::time::Instant::now();
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}"))).execute(&mut conn).await?;
        tracing::info!(table, ms = begun.elapsed().as_millis() as u64, "analyzed after a large change");
    }
    let _ = conn.close().await;
    Ok(())
}

/// Analyzes `table` now when `added` rows (written by this process since
/// the table was last analyzed, or in this run) are more than 10 % of the
/// rows the planner believes it has, or more than 10,000: the next
/// statements of the same run are then planned for its real size, without
/// waiting for autovacuum (a first sync takes a table from empty to 100,000
/// rows, and a join planned for an empty table costs seconds a page).
pub async fn analyze_if_grown(store: &Store, table: &str, added: u64) -> Result<bool, StoreError> {
    if added == 0 {
        return Ok(false);
    }
    let believed: f64 =
        sqlx::query_scalar("SELECT COALESCE(max(reltuples), -1)::float8 FROM pg_class WHERE oid = to_regclass($1)").bind(table).fetch_one(&store.pool).await?;
    let added = added as f64;
    if believed >= 0.0 && added <= 0.1 * believed && added <= 10_000.0 {
        return Ok(false);
    }
    let begun = std::time::Instant::now();
    // The name is checked by to_regclass above and quoted here.
    sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE \"{}\"", table.replace('"', "\"\"")))).execute(&store.pool).await?;
    tracing::info!(table, rows_added = added, ms = begun.elapsed().as_millis() as u64, "analyzed after a large change");
    Ok(true)
}

#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub latest_applied: Option<i64>,
    pub applied: usize,
    pub pending: Vec<(i64, String)>,
}

async fn create_database_if_missing(cluster: &Cluster, name: &str) -> Result<(), StoreError> {
    let location = cluster.describe("postgres");
    let mut conn = cluster.connect_options("postgres").connect().await.map_err(|source| StoreError::Connect { location, source })?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)").bind(name).fetch_one(&mut conn).await?;
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
    }
    conn.close().await?;
    Ok(())
}
