//! The `[storage]` section of the collector's config: an SQLite file (the default, for one
//! collector), or a PostgreSQL database that several collectors share; and opening it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::storage::postgres::{PgSettings, PgStorage};
use super::storage::{SqliteStorage, Storage, StorageError};

/// Where the collector keeps its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// One SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, possibly shared by several collectors.
    Postgres(PgSettings),
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Database {
        Database::Sqlite(path)
    }
}

impl std::fmt::Display for Database {
    /// Where it is, for people: the file, or the URL (which holds no password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(pg) => write!(f, "{}", pg.url),
        }
    }
}

impl Database {
    /// Opens the database, bringing its schema up to date.
    pub async fn open(&self) -> Result<Arc<dyn Storage>, StorageError> {
        Ok(match self {
            Database::Sqlite(path) => Arc::new(SqliteStorage::open(path)?),
            Database::Postgres(pg) => Arc::new(PgStorage::open(pg).await?),
        })
    }
}

/// The raw `[storage]` section.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorage {
    kind: Option<String>,
    path: Option<String>,
    url: Option<String>,
    password_file: Option<String>,
    ca_file: Option<String>,
    pool_size: Option<u64>,
    batches_at_once: Option<u64>,
}

/// Connections a collector keeps to PostgreSQL unless the config says otherwise.
const POOL_SIZE: usize = 16;

impl RawStorage {
    /// The checked section; relative paths resolve against `base`, errors name the key.
    pub(super) fn check(
        self,
        base: &Path,
        err: &dyn Fn(&str, String) -> String,
    ) -> Result<Database, String> {
        let kind = self.kind.as_deref().unwrap_or("sqlite");
        let refuse = |key: &str, given: bool| {
            if given {
                Err(err(
                    &format!("storage.{key}"),
                    format!("is not used with kind = {kind:?}"),
                ))
            } else {
                Ok(())
            }
        };
        let file = |key: &str, v: Option<String>| -> Result<Option<PathBuf>, String> {
            match v {
                Some(v) if v.trim().is_empty() => {
                    Err(err(&format!("storage.{key}"), "must not be empty".into()))
                }
                v => Ok(v.map(|v| base.join(v))),
            }
        };
        match kind {
            "sqlite" => {
                refuse("url", self.url.is_some())?;
                refuse("password_file", self.password_file.is_some())?;
                refuse("ca_file", self.ca_file.is_some())?;
                refuse("pool_size", self.pool_size.is_some())?;
                refuse("batches_at_once", self.batches_at_once.is_some())?;
                match file("path", self.path)? {
                    Some(path) => Ok(Database::Sqlite(path)),
                    None => Err(err("storage.path", "is missing (the SQLite file)".into())),
                }
            }
            "postgres" => {
                refuse("path", self.path.is_some())?;
                let Some(url) = self.url else {
                    return Err(err(
                        "storage.url",
                        "is missing (postgres://user@host/database)".into(),
                    ));
                };
                let pool_size = match self.pool_size {
                    None => POOL_SIZE,
                    Some(n @ 1..=1000) => usize::try_from(n).unwrap_or(POOL_SIZE),
                    Some(n) => {
                        return Err(err(
                            "storage.pool_size",
                            format!("{n} is outside 1 to 1000"),
                        ));
                    }
                };
                let batches_at_once = match self.batches_at_once {
                    None => None,
                    Some(n) if (1..=pool_size as u64).contains(&n) => usize::try_from(n).ok(),
                    Some(n) => {
                        return Err(err(
                            "storage.batches_at_once",
                            format!("{n} is outside 1 to pool_size ({pool_size})"),
                        ));
                    }
                };
                let pg = PgSettings {
                    url,
                    password_file: file("password_file", self.password_file)?,
                    ca_file: file("ca_file", self.ca_file)?,
                    pool_size,
                    batches_at_once,
                };
                pg.config().map_err(|e| err("storage.url", e))?;
                Ok(Database::Postgres(pg))
            }
            other => Err(err(
                "storage.kind",
                format!("{other:?} is not a storage kind (sqlite or postgres)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::collector::settings::Settings;

    use super::*;

    fn parse(storage: &str) -> Result<Database, String> {
        let text = format!("listen = \"127.0.0.1:8080\"\n[storage]\n{storage}");
        Settings::parse(&text, Path::new("/etc/ces-collector/collector.toml")).map(|s| s.database)
    }

    #[test]
    fn sqlite_is_the_default_and_postgres_is_chosen_by_kind() {
        assert_eq!(
            parse("path = \"collector.db\"").unwrap(),
            Database::Sqlite("/etc/ces-collector/collector.db".into())
        );
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("db-password");
        std::fs::write(&password, "s3cret\n").unwrap();
        let pg = parse(&format!(
            "kind = \"postgres\"\nurl = \"postgres://ces@db.example.org/ces\"\n\
             password_file = {:?}\npool_size = 32\nbatches_at_once = 2\n",
            password.to_str().unwrap()
        ))
        .unwrap();
        let Database::Postgres(pg) = pg else {
            panic!("{pg:?}")
        };
        assert_eq!(
            (pg.pool_size, pg.batches_at_once, pg.password_file),
            (32, Some(2), Some(password))
        );
        assert_eq!(
            Database::Postgres(PgSettings {
                url: "postgres://ces@db/ces".into(),
                password_file: None,
                ca_file: None,
                pool_size: 1,
                batches_at_once: None,
            })
            .to_string(),
            "postgres://ces@db/ces",
            "people are shown the URL, which holds no password"
        );
    }

    #[test]
    fn a_wrong_storage_section_is_named() {
        for (storage, expected) in [
            ("", "storage.path: is missing"),
            ("path = \" \"", "storage.path: must not be empty"),
            (
                "kind = \"mysql\"\npath = \"x\"",
                "storage.kind: \"mysql\" is not",
            ),
            (
                "path = \"x\"\nurl = \"postgres://a@b/c\"",
                "storage.url: is not used",
            ),
            ("kind = \"postgres\"", "storage.url: is missing"),
            (
                "kind = \"postgres\"\nurl = \"postgres://a@b/c\"\npath = \"x\"",
                "storage.path: is not used",
            ),
            (
                "kind = \"postgres\"\nurl = \"postgres://a:pw@b/c\"",
                "storage.url: the PostgreSQL URL holds a password",
            ),
            (
                "kind = \"postgres\"\nurl = \"postgres://a@b\"",
                "storage.url: the PostgreSQL URL names no database",
            ),
            (
                "kind = \"postgres\"\nurl = \"postgres://a@b/c\"\npassword_file = \"/nonexistent\"",
                "cannot read the password file /nonexistent",
            ),
            (
                "kind = \"postgres\"\nurl = \"postgres://a@b/c\"\npool_size = 0",
                "storage.pool_size: 0 is outside 1 to 1000",
            ),
            (
                "kind = \"postgres\"\nurl = \"postgres://a@b/c\"\npool_size = 4\nbatches_at_once = 5",
                "storage.batches_at_once: 5 is outside 1 to pool_size (4)",
            ),
            (
                "kind = \"sqlite\"\npath = \"c.db\"\nbatches_at_once = 1",
                "storage.batches_at_once: is not used with kind = \"sqlite\"",
            ),
        ] {
            let e = parse(storage).unwrap_err();
            assert!(e.contains(expected), "{storage:?}: {e}");
        }
    }
}
