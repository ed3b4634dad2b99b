//! `ces-collector migrate`: copies the configured SQLite collector's whole state into an
//! empty PostgreSQL database, then checks the copy; the file is left as it was.

use std::path::PathBuf;

use anyhow::bail;
use ces_kiosk::collector::Settings;
use ces_kiosk::collector::database::Database;
use ces_kiosk::collector::storage::migrate::sqlite_to_postgres;
use ces_kiosk::collector::storage::postgres::PgSettings;
use clap::Args;

use crate::{Mismatch, Shown, print_safely};

#[derive(Args)]
pub struct MigrateArgs {
    /// The empty PostgreSQL database to copy into, like
    /// postgres://ces@db.example.org/ces?sslmode=require (no password in it).
    #[arg(long, value_name = "URL")]
    to: String,
    /// A file holding the database password (its first line).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// A PEM file of CA certificates trusted for the database's TLS certificate.
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

pub async fn migrate(args: MigrateArgs, settings: &Settings) -> anyhow::Result<()> {
    let Database::Sqlite(file) = &settings.database else {
        bail!(crate::Usage(
            "the config's [storage] is PostgreSQL already: migrate copies from an SQLite \
             collector (its config's [storage] path)"
                .into()
        ));
    };
    let to = PgSettings {
        url: args.to,
        password_file: args.password_file,
        ca_file: args.ca_file,
        pool_size: 2,
        batches_at_once: None,
    };
    to.config().map_err(crate::Usage)?;
    eprintln!("copying {} into {} …", file.display(), to.url);
    let copied = sqlite_to_postgres(file, &to).await?;
    let mut text = String::new();
    for (table, rows) in &copied.tables {
        text.push_str(&format!("{table:<20} {rows:>10} rows\n"));
    }
    let v = &copied.verification;
    if !v.differences.is_empty() {
        for d in &v.differences {
            text.push_str(&format!(
                "{}: the rollup says {}, the answers count {}\n",
                d.key, d.stored, d.counted
            ));
        }
        print_safely(&text, Shown::Table);
        return Err(Mismatch(format!(
            "the copied rollups differ from a recount in {} places (the file itself was not \
             changed)",
            v.differences.len()
        ))
        .into());
    }
    text.push_str(&format!(
        "ok: every table copied whole; the rollups count the {} copied answers exactly \
         ({} rollup rows). {} is unchanged. Point [storage] at the database to use it:\n\
         \n[storage]\nkind = \"postgres\"\nurl = {:?}\n",
        v.answers,
        v.rollup_rows,
        file.display(),
        to.url
    ));
    print_safely(&text, Shown::Table);
    Ok(())
}
