//! `ces-collector migrate --to postgres://…`: a collector's SQLite database with answers,
//! devices, configs, people, a site, alert rules, an alert and an action is copied into an
//! empty PostgreSQL database (a throwaway server the tests start) by the real binary; the
//! copy reads the same as the file through the storage API, the file is left unchanged, and
//! a database that is not empty is refused.

mod common;

use ces_kiosk::collector::alert::hours::{OpeningHours, SiteHours};
use ces_kiosk::collector::alert::rule::{Condition, Rule, Share};
use ces_kiosk::collector::alert::summary::Every;
use ces_kiosk::collector::storage::postgres::{PgSettings, PgStorage};
use ces_kiosk::collector::storage::{
    ActionFilter, AlertFilter, AnswerFilter, ConfigTarget, CountQuery, Grouping, NewSession, Role,
    SqliteStorage, Storage, TimeSplit,
};
use common::collector::{TestCollector, command, printed};
use common::dataset::{at, because, scored, send};
use common::requests::now_answer;

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Everything the storage API reads back of a collector, to compare two databases by.
async fn read_all(s: &dyn Storage) -> String {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let filter = AnswerFilter::default();
    let export = s.export(filter.clone(), tx);
    let mut rows = Vec::new();
    let collect = async {
        while let Some(row) = rx.recv().await {
            rows.push(row);
        }
    };
    let (exported, ()) = tokio::join!(export, collect);
    exported.unwrap();
    let report = s
        .report_counts(CountQuery {
            filter: filter.clone(),
            group: Grouping::Device,
            time: TimeSplit::DateHour,
            page: None,
        })
        .await
        .unwrap();
    let alerts = s
        .alerts(AlertFilter {
            open_only: false,
            sites: None,
            limit: 100,
        })
        .await
        .unwrap();
    let actions = s
        .actions(ActionFilter {
            limit: 100,
            ..ActionFilter::default()
        })
        .await
        .unwrap();
    format!(
        "devices {:#?}\nanswers {rows:#?}\nreport {report:#?}\nreasons {:#?}\nusers {:#?}\n\
         sites {:#?}\nrules {:#?}\nalerts {alerts:#?}\nactions {actions:#?}\nconfig {:#?} {:#?}\n\
         session {:#?}",
        s.devices(120_000).await.unwrap(),
        s.reason_counts(filter).await.unwrap(),
        s.users().await.unwrap(),
        s.sites().await.unwrap(),
        s.alert_rules().await.unwrap(),
        s.device_config("desk-1").await.unwrap(),
        s.site_config("hotel").await.unwrap(),
        s.session("session-of-anna", 1).await.unwrap(),
    )
}

/// The SHA-256 of the database file and of its WAL, by name. (Its `-shm`, SQLite's index of
/// the WAL in shared memory, is written by every reader: it holds no data.)
fn files(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.to_string_lossy();
            name.contains("collector.db") && !name.ends_with("-shm")
        })
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
            (p.display().to_string(), format!("{digest:x}"))
        })
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collector_is_copied_whole_into_postgres_and_its_file_left_as_it_was() {
    let c = TestCollector::on_sqlite();
    let desk = c.add_device("desk-1", "hotel", "check-in");
    let shop = c.add_device("till-1", "shop", "returns");
    c.add_device("spare-1", "shop", "returns");
    c.revoke("spare-1");
    c.admin();
    c.add_person("anna", Role::Admin, &[], "a long enough password");
    c.add_person("ben", Role::Viewer, &["shop"], "another long password");
    let storage = c.storage.clone();
    let now = now_ms();
    c.on(async move {
        let s = storage.as_ref();
        s.set_config(ConfigTarget::Site("hotel".into()), "# hotel".into(), 1)
            .await?;
        s.set_config(ConfigTarget::Device("desk-1".into()), "# desk".into(), 2)
            .await?;
        s.set_site(SiteHours {
            site: "hotel".into(),
            time_zone: "Europe/Amsterdam".into(),
            hours: OpeningHours::parse("mon-sun 00:00-24:00").unwrap(),
            summary: Every::Daily,
            summary_through: None,
        })
        .await?;
        let users = s.users().await?;
        assert_eq!(users.len(), 2);
        let anna = s.login_account("anna").await?.unwrap();
        s.start_session(NewSession {
            id_hash: "session-of-anna".into(),
            user_id: anna.id,
            csrf: "csrf".into(),
            at_ms: 0,
            expires_ms: i64::MAX,
        })
        .await
    })
    .unwrap();
    send(
        &c,
        &desk,
        vec![
            scored("ces7", "stay-ease", 2, &at("11-23", 9)),
            because(scored("ces7", "stay-ease", 1, &at("11-23", 10)), "waiting"),
            scored("ces7", "stay-ease", 7, &at("11-24", 18)),
        ],
    )
    .await;
    // Difficult answers now, at the shop: its floor rule fires an alert.
    send(&c, &shop, (0..4).map(|_| now_answer(1)).collect()).await;
    let storage = c.storage.clone();
    c.on(async move {
        let s = storage.as_ref();
        let rule = Rule {
            id: 0,
            name: "shop-floor".into(),
            condition: Condition::Floor(Share {
                share_pct: 50,
                window_min: 15,
                min_answers: 4,
            }),
            site: Some("shop".into()),
            touchpoint: None,
            pending_s: 0,
            clear_s: 600,
            repeat_s: 0,
        };
        s.add_alert_rule(rule, now).await?;
        assert_eq!(s.alert_round(now, vec!["ops".into()]).await?, 1);
        let alert = s
            .alerts(AlertFilter {
                limit: 1,
                ..AlertFilter::default()
            })
            .await?;
        s.add_action(ces_kiosk::collector::action::Action {
            id: 0,
            site: "shop".into(),
            touchpoint: Some("returns".into()),
            taken_on: "2026-11-25".into(),
            what: "a second till".into(),
            by: "anna".into(),
            alert_id: Some(alert[0].id),
            recorded_at_ms: now,
        })
        .await
    })
    .unwrap();
    let config = c.config_path();
    let folder = c.sqlite_file().unwrap().parent().unwrap().to_owned();
    let before = c.on({
        let storage = c.storage.clone();
        async move { read_all(storage.as_ref()).await }
    });
    // Stopped, as the operator is told to: the file no longer changes by itself.
    let db = c.sqlite_file().unwrap().to_owned();
    let _kept = c.close();
    let untouched = files(&folder);

    let url = common::postgres::database();
    let out = command(&config, &["migrate", "--to", &url]);
    let said = printed(&out);
    assert!(out.status.success(), "{said}");
    let rows = |table: &str| {
        said.lines()
            .find_map(|l| l.strip_prefix(table)?.trim().strip_suffix(" rows"))
            .map(str::to_owned)
    };
    assert_eq!(rows("answers "), Some("7".into()), "{said}");
    assert_eq!(rows("alerts "), Some("1".into()), "{said}");
    assert!(said.contains("ok: every table copied whole"), "{said}");
    assert_eq!(files(&folder), untouched, "the file is left as it was");

    let pg = PgStorage::open(&PgSettings {
        url: url.clone(),
        password_file: None,
        ca_file: None,
        pool_size: 2,
        batches_at_once: None,
    })
    .await
    .unwrap();
    let copied = read_all(&pg).await;
    let sqlite = SqliteStorage::open(&db).unwrap();
    assert_eq!(read_all(&sqlite).await, before);
    assert_eq!(copied, before, "the copy reads as the file does");
    assert!(before.contains("waiting") && before.contains("a second till"));
    // The copy goes on where the file left off: a new config has a newer version.
    let version = pg
        .set_config(ConfigTarget::Site("shop".into()), "# shop".into(), 3)
        .await
        .unwrap();
    assert_eq!(version, 3);

    let again = command(&config, &["migrate", "--to", &url]);
    assert!(!again.status.success());
    assert!(
        printed(&again).contains("the PostgreSQL database is not empty"),
        "{}",
        printed(&again)
    );
}
