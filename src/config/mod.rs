//! Typed configuration: built-in defaults, then `katalog-bridge.toml` (or the
//! file given with `--config`), then `KATALOG_BRIDGE_*` environment variables,
//! then `DATABASE_URL`.
//!
//! Secrets sit in [`SecretString`], whose `Debug` prints `[REDACTED]`, so no
//! log line or error message can show them.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Name of the configuration file looked for in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "katalog-bridge.toml";
/// Prefix of environment overrides; nested keys are joined with `__`,
/// e.g. `KATALOG_BRIDGE_DATABASE__DATA_DIR`.
pub const ENV_PREFIX: &str = "KATALOG_BRIDGE_";
const SECTIONS: &[&str] = &["database", "catalog", "import", "log", "mappings_dir"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[source] Box<figment::Error>),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub catalog: CatalogSettings,
    pub import: ImportSettings,
    pub log: LogSettings,
    /// Folder with mapping files and lookup tables; the built-in copy when unset.
    pub mappings_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// PostgreSQL URL. When unset, a private embedded cluster is started.
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

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogSettings {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self { base_url: "http://127.0.0.1:8787".into(), client_id: "katalog-bridge".into(), client_secret: None }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportSettings {
    /// Files larger than this are refused before reading.
    pub max_file_bytes: u64,
    /// Rows written to the database per transaction.
    pub batch_size: usize,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self { max_file_bytes: 100 * 1024 * 1024, batch_size: 5000 }
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
                .merge(
                    Env::prefixed(ENV_PREFIX)
                        .split("__")
                        .filter(|key| is_known_section(key.as_str())),
                )
                .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into())),
        )
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        figment.extract().map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// A human-readable view of the effective settings, secrets masked.
    pub fn describe(&self) -> String {
        let db_url = match &self.database.url {
            Some(url) => redact_url(url.expose_secret()),
            None => format!("(embedded cluster in {})", self.database.data_dir.display()),
        };
        let secret = |s: &Option<SecretString>| if s.is_some() { "[REDACTED]" } else { "(unset)" };
        format!(
            "database.url = {db_url}\ndatabase.data_dir = {}\ndatabase.name = {}\ndatabase.embedded_port = {}\n\
             database.postgres_bin_dirs = {:?}\ncatalog.base_url = {}\ncatalog.client_id = {}\n\
             catalog.client_secret = {}\nimport.max_file_bytes = {}\nimport.batch_size = {}\n\
             log.format = {:?}\nlog.filter = {}\nmappings_dir = {}\n",
            self.database.data_dir.display(),
            self.database.name,
            self.database.embedded_port,
            self.database.postgres_bin_dirs,
            self.catalog.base_url,
            self.catalog.client_id,
            secret(&self.catalog.client_secret),
            self.import.max_file_bytes,
            self.import.batch_size,
            self.log.format,
            self.log.filter,
            self.mappings_dir.as_ref().map_or("(built in)".into(), |p| p.display().to_string()),
        )
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

/// `postgres://user:secret@host/db` becomes `postgres://user:REDACTED@host/db`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("REDACTED"));
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
    fn redacts_password_only() {
        assert_eq!(redact_url("postgres://u:p@h:5/d"), "postgres://u:REDACTED@h:5/d");
        assert_eq!(redact_url("postgres://h/d"), "postgres://h/d");
    }
}
