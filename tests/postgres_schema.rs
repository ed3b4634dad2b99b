//! The PostgreSQL schema on a real server (Debian's PostgreSQL, started by the tests):
//! collectors starting together migrate once, a newer schema is refused, and the tables and
//! columns are those of the SQLite schema, so that the two backends store the same things.

mod common;

use std::collections::BTreeMap;

use ces_kiosk::collector::storage::postgres::{PgSettings, pool, schema};

fn settings(url: String) -> PgSettings {
    PgSettings {
        url,
        password_file: None,
        ca_file: None,
        pool_size: 16,
        batches_at_once: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn collectors_starting_together_migrate_once() {
    let url = common::postgres::database();
    // Eight collectors, each with its own pool, migrating the same empty database at once.
    let mut starting = Vec::new();
    for _ in 0..8 {
        let pool = pool(&settings(url.clone())).unwrap();
        starting.push(tokio::spawn(async move {
            let mut client = pool.get().await.unwrap();
            schema::migrate(&mut client).await
        }));
    }
    let mut applied = Vec::new();
    for start in starting {
        applied.push(start.await.unwrap().expect("every collector starts"));
    }
    let all: Vec<i32> = (1..=schema::MIGRATIONS.len() as i32).collect();
    assert_eq!(
        applied.iter().filter(|a| **a == all).count(),
        1,
        "{applied:?}"
    );
    assert_eq!(
        applied.iter().filter(|a| a.is_empty()).count(),
        7,
        "{applied:?}"
    );

    let client = pool(&settings(url)).unwrap().get().await.unwrap();
    let versions: Vec<i32> = client
        .query("SELECT version FROM ces_schema ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, all);
}

#[tokio::test]
async fn a_schema_newer_than_the_program_is_refused() {
    let url = common::postgres::database();
    let pool = pool(&settings(url)).unwrap();
    let mut client = pool.get().await.unwrap();
    schema::migrate(&mut client).await.unwrap();
    let newer = schema::MIGRATIONS.len() as i32 + 1;
    client
        .execute("INSERT INTO ces_schema (version) VALUES ($1)", &[&newer])
        .await
        .unwrap();
    let refused = schema::migrate(&mut client).await.unwrap_err().to_string();
    assert!(
        refused.contains("newer than this ces-collector knows"),
        "{refused}"
    );
}

#[tokio::test]
async fn the_tables_and_columns_are_those_of_the_sqlite_schema() {
    let mut sqlite = rusqlite::Connection::open_in_memory().unwrap();
    ces_kiosk::collector::storage::sqlite_migrations()
        .to_latest(&mut sqlite)
        .unwrap();
    let mut in_sqlite: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let tables: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for table in tables {
        let mut columns: Vec<String> = sqlite
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        columns.sort();
        in_sqlite.insert(table, columns);
    }

    let pool = pool(&settings(common::postgres::database())).unwrap();
    let mut client = pool.get().await.unwrap();
    schema::migrate(&mut client).await.unwrap();
    let mut in_postgres: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> 'ces_schema'
             ORDER BY 1, 2",
            &[],
        )
        .await
        .unwrap()
    {
        in_postgres.entry(row.get(0)).or_default().push(row.get(1));
    }
    assert_eq!(in_postgres, in_sqlite);
}

#[test]
fn settings_are_checked() {
    let refused = |url: &str| settings(url.into()).config().unwrap_err();
    assert!(refused("postgres://ces:secret@db.example.org/ces").contains("password_file"));
    assert!(refused("postgres://ces@db.example.org").contains("names no database"));
    assert!(refused("mysql://x").contains("not valid"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "s3cret\n").unwrap();
    let mut s = settings("postgres://ces@db.example.org/ces".into());
    s.password_file = Some(file.clone());
    assert_eq!(s.config().unwrap().get_password(), Some(&b"s3cret"[..]));
    std::fs::write(&file, "").unwrap();
    assert!(s.config().unwrap_err().contains("is empty"));
    s.password_file = Some(dir.path().join("missing"));
    assert!(
        s.config()
            .unwrap_err()
            .contains("cannot read the password file")
    );
    // The password never shows in what is logged of the settings.
    std::fs::write(&file, "s3cret\n").unwrap();
    s.password_file = Some(file);
    assert!(!format!("{s:?}").contains("s3cret"));
}
