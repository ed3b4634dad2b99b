//! Site summaries end to end: a site's daily summary e-mail, with the day's figures and
//! its hardest hours from answers uploaded to the real collector, sent once to a real SMTP
//! server (aiosmtpd, STARTTLS and a login) after the site has closed for the day.

mod common;

use std::time::Duration;

use ces_kiosk::collector::alert::hours::{OpeningHours, SiteHours};
use ces_kiosk::collector::alert::settings::AlertSettings;
use ces_kiosk::collector::alert::summary::Every;
use common::collector::TestCollector;
use common::dataset::send;
use common::requests::answer;
use common::smtp::SmtpSink;

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_site_gets_its_daily_summary_once_after_closing() {
    let mail = SmtpSink::start();
    let c = TestCollector::with_settings(|s| {
        s.dashboard.min_answers = 5;
        s.alerts = AlertSettings {
            evaluate_every: Duration::from_millis(200),
            webhooks: vec![],
            email: Some(mail.settings()),
        }
    });
    // Yesterday (UTC), a day the site has closed for: 6 answers at 10:20, 6 at 15:20.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let yesterday = today.yesterday().unwrap();
    let d = c.add_device("dev", "north", "returns");
    let at = |hour: u8| format!("{yesterday}T{hour:02}:20:00+00:00");
    let answers = [(10, [1, 2, 3, 1, 7, 7]), (15, [1, 6, 6, 7, 7, 7])]
        .into_iter()
        .flat_map(|(hour, scores)| scores.map(|s| answer("ces7", s, &at(hour))))
        .collect();
    send(&c, &d, answers).await;
    // The site's summary asked for once its answers are in.
    let storage = c.storage.clone();
    c.on(async move {
        let north = SiteHours {
            site: "north".into(),
            time_zone: "UTC".into(),
            hours: OpeningHours::always(),
            summary: Every::Daily,
            summary_through: None,
        };
        storage.set_site(north).await
    })
    .unwrap();

    let message = mail.wait_for(1).await.remove(0);
    let text = message["text"].as_str().unwrap();
    let title = format!(
        "Daily summary for north: {}",
        yesterday.strftime("%A %Y-%m-%d")
    );
    for part in [
        format!("Subject: {title}"),
        "returns-ease v1 (ces7): 12 answers, mean 4.6, 58 % easy, 42 % difficult".to_owned(),
        "  returns: 12 answers, mean 4.6, 58 % easy, 42 % difficult".to_owned(),
        "Hardest hours (% difficult, hours with at least 5 answers):".to_owned(),
        "  10:00-11:00  67 % of 6 answers (returns-ease v1)".to_owned(),
        "  15:00-16:00  17 % of 6 answers (returns-ease v1)".to_owned(),
    ] {
        assert!(text.contains(&part), "{part:?} in {text}");
    }
    // Once: the day is noted as summed up.
    let storage = c.storage.clone();
    let through = yesterday.to_string();
    let again = c
        .on(async move {
            storage
                .queue_summary("north", &through, "t", "x", now_ms())
                .await
        })
        .unwrap();
    assert!(!again, "a second summary of the same day is refused");
    let summaries = c.sql_number("SELECT count(*) FROM outbox WHERE event = 'summary'");
    assert_eq!(summaries, 1);
}
