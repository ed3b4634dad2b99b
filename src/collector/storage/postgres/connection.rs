//! Reaching the PostgreSQL database: its settings (the password from a file), a pool of
//! connections (TLS possible, with the system's CA certificates and an optional private CA),
//! and what PostgreSQL's errors mean for a caller.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;

use crate::collector::storage::StorageError;

/// Where the database is and how to reach it. It holds no secret: the password stays in its
/// file until a connection is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgSettings {
    /// A libpq-style URL, like `postgres://ces@db.example.org/ces?sslmode=require`; a
    /// password in it is refused (it belongs in `password_file`).
    pub url: String,
    /// A file holding the password (its first line).
    pub password_file: Option<PathBuf>,
    /// A PEM file of CA certificates trusted for the database's TLS certificate, beside
    /// the system's.
    pub ca_file: Option<PathBuf>,
    /// Connections for uploads and changes; a quarter as many more (at least 2) are kept
    /// for reads.
    pub pool_size: usize,
    /// Upload batches stored at once by this collector; `None` for a quarter of
    /// `pool_size` (at least 2). Each keeps a database core busy while it runs.
    pub batches_at_once: Option<usize>,
}

impl PgSettings {
    /// The connection settings the URL and files give, checked.
    pub fn config(&self) -> Result<tokio_postgres::Config, String> {
        let mut config: tokio_postgres::Config = self
            .url
            .parse()
            .map_err(|e| format!("the PostgreSQL URL is not valid: {e}"))?;
        if config.get_password().is_some() {
            return Err(
                "the PostgreSQL URL holds a password: put it in password_file instead".into(),
            );
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
            let password = text.lines().next().unwrap_or_default();
            if password.is_empty() {
                return Err(format!("the password file {} is empty", path.display()));
            }
            config.password(password);
        }
        if config.get_dbname().is_none() {
            return Err("the PostgreSQL URL names no database (…/DATABASE)".into());
        }
        Ok(config)
    }
}

/// A pool of connections to the database `settings` name; connections are made when first
/// needed, so this fails only on bad settings.
pub fn pool(settings: &PgSettings) -> Result<Pool, StorageError> {
    let config = settings.config().map_err(StorageError::Failed)?;
    let tls = tls(settings.ca_file.as_deref()).map_err(StorageError::Failed)?;
    let manager = Manager::from_config(
        config,
        tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(settings.pool_size)
        .build()
        .map_err(|e| StorageError::Failed(format!("cannot make the connection pool: {e}")))
}

/// TLS to the database with rustls and ring: the system's CA certificates and those of
/// `ca_file`. Used when the URL's `sslmode` asks for it (`prefer`, tokio-postgres's default,
/// uses it when the server offers it; `require` insists).
fn tls(ca_file: Option<&Path>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A certificate the system has but rustls cannot use is left out, as browsers do.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect())
            .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
        if certs.is_empty() {
            return Err(format!(
                "the CA file {} holds no certificate",
                path.display()
            ));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| format!("the CA file {}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// What a PostgreSQL error means for a caller: a lost connection, an overloaded server or a
/// serialisation conflict is worth retrying; a unique violation is a conflict.
pub(crate) fn pg_error(e: tokio_postgres::Error) -> StorageError {
    let text = describe(&e);
    match e.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => StorageError::Conflict(text),
        Some(code)
            if *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::TOO_MANY_CONNECTIONS
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || *code == SqlState::DISK_FULL =>
        {
            StorageError::Unavailable(text)
        }
        Some(_) => StorageError::Failed(text),
        // No SQL state: the connection, or the TLS under it, failed or closed.
        None => StorageError::Unavailable(text),
    }
}

/// A PostgreSQL error with the server's message and detail, not only "db error".
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => e.to_string(),
    }
}

/// A stored name (a scale, a direction) read back as the type it names.
pub(super) fn named<T: serde::de::DeserializeOwned>(
    r: &tokio_postgres::Row,
    column: usize,
) -> Result<T, StorageError> {
    let text: String = r.get(column);
    serde_json::from_value(serde_json::Value::String(text.clone()))
        .map_err(|e| StorageError::Failed(format!("the stored name {text:?} is not valid: {e}")))
}

/// A stored count or size as unsigned (never negative in the schema).
pub(super) fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
