//! What central teams read from the real collector: the CES report checked against a
//! hand-computed data set, and exports as CSV and JSON with their filters.

mod common;

use ces_kiosk::wire::Report;
use common::collector::TestCollector;
use common::requests::*;
use serde_json::{Value, json};

#[tokio::test]
async fn the_report_matches_a_hand_computed_data_set() {
    let c = TestCollector::start();
    let a = c.add_device("dev-a", "store-a", "returns");
    let b = c.add_device("dev-b", "store-b", "returns");
    let at = |day: u8, hour: u8| format!("2026-11-{day:02}T{hour:02}:15:00+01:00");
    // store-a, ces7, 20 November: 7 6 6 5 3 1, and two suppressed taps.
    let mut day1: Vec<Value> = [7, 6, 6, 5, 3, 1]
        .iter()
        .enumerate()
        .map(|(i, &s)| answer("ces7", s, &at(20, 9 + (i as u8 % 2))))
        .collect();
    for _ in 0..2 {
        let mut tap = answer("ces7", 1, &at(20, 9));
        tap["suppressed"] = json!(true);
        day1.push(tap);
    }
    // store-a, 21 November: 2 2 4 7, one of them at 00:30 local (23:30 UTC on the 20th).
    let mut day2: Vec<Value> = [2, 2, 4]
        .iter()
        .map(|&s| answer("ces7", s, &at(21, 14)))
        .collect();
    day2.push(answer("ces7", 7, "2026-11-21T00:30:00+01:00"));
    // store-b, smiley3, 20 November: 3 3 2 1 3.
    let faces: Vec<Value> = [3, 3, 2, 1, 3]
        .iter()
        .map(|&s| answer("smiley3", s, &at(20, 12)))
        .collect();
    for (cred, answers) in [(&a, day1), (&a, day2), (&b, faces)] {
        assert_eq!(upload(&c, cred, &batch(answers)).await.status, 200);
    }

    let admin = c.admin();
    let (status, text) = get(&c, "v1/report", &admin).await;
    assert_eq!(status, 200, "{text}");
    let report: Report = serde_json::from_str(&text).unwrap();
    let group = |site: &str, date: &str| {
        report
            .groups
            .iter()
            .find(|g| g.site.as_deref() == Some(site) && g.date.as_deref() == Some(date))
            .unwrap_or_else(|| panic!("a group for {site} on {date}: {text}"))
    };
    let close = |x: Option<f64>, y: f64| (x.unwrap() - y).abs() < 1e-9;

    let g = group("store-a", "2026-11-20");
    assert_eq!((g.figures.n, g.figures.suppressed), (6, 2));
    assert!(close(g.figures.mean, 28.0 / 6.0), "{:?}", g.figures.mean);
    assert!(close(g.figures.pct_easy, 400.0 / 6.0) && close(g.figures.pct_difficult, 200.0 / 6.0));
    assert_eq!(g.figures.distribution, [1, 0, 1, 0, 1, 2, 1]);
    assert_eq!(g.formula, ces_kiosk::survey::Scale::Ces7.formula());

    let g = group("store-a", "2026-11-21");
    assert_eq!(g.figures.n, 4, "the 00:30 answer counts on its local day");
    assert!(
        close(g.figures.mean, 3.75)
            && close(g.figures.pct_easy, 25.0)
            && close(g.figures.pct_difficult, 50.0)
    );

    let g = group("store-b", "2026-11-20");
    assert_eq!((g.figures.n, g.scale.as_str()), (5, "smiley3"));
    assert!(
        close(g.figures.mean, 2.4)
            && close(g.figures.pct_easy, 60.0)
            && close(g.figures.pct_difficult, 20.0)
    );
    assert_eq!(report.groups.len(), 3, "scales and sites are never mixed");
    assert_eq!(report.formulas.len(), 2, "one formula per scale shown");

    let (_, text) = get(
        &c,
        "v1/report?by=hour&site=store-a&from=2026-11-20&to=2026-11-20",
        &admin,
    )
    .await;
    let by_hour: Report = serde_json::from_str(&text).unwrap();
    let hours: Vec<(Option<u8>, u64)> = by_hour
        .groups
        .iter()
        .map(|g| (g.hour, g.figures.n))
        .collect();
    assert_eq!(hours, [(Some(9), 3), (Some(10), 3)]);

    let (status, csv) = get(&c, "v1/report?format=csv", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains("2026-11-21,,store-a,returns,returns-ease,1,ces7,higher_is_easier,4,3.7500,25.0000,50.0000,0,0;2;0;1;0;0;1,"), "{csv}");
}

#[tokio::test]
async fn exports_stream_every_answer_as_csv_or_json_with_filters() {
    let c = TestCollector::start();
    let a = c.add_device("dev-a", "store-a", "returns");
    let b = c.add_device("dev-b", "store-b", "desk");
    upload(
        &c,
        &a,
        &batch(
            (0..30)
                .map(|_| answer("ces7", 6, "2026-11-20T10:00:00+01:00"))
                .collect(),
        ),
    )
    .await;
    upload(
        &c,
        &b,
        &batch(
            (0..12)
                .map(|_| answer("ces5", 2, "2026-11-22T10:00:00+01:00"))
                .collect(),
        ),
    )
    .await;
    let admin = c.admin();

    let (status, csv) = get(&c, "v1/export", &admin).await;
    assert_eq!(status, 200);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("id,device_id,site,touchpoint,seq,")
    );
    assert_eq!(lines.count(), 42);

    let (status, json) = get(&c, "v1/export?format=json&site=store-b", &admin).await;
    assert_eq!(status, 200);
    let rows: Vec<ces_kiosk::wire::ExportRow> = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.len(), 12);
    assert!(
        rows.iter()
            .all(|r| r.device_id == "dev-b" && r.scale.as_str() == "ces5" && r.score == 2)
    );
    assert!(
        rows.iter()
            .all(|r| r.local_date == "2026-11-22" && !r.time_estimated)
    );

    let (_, json) = get(&c, "v1/export?format=json&from=2026-11-21", &admin).await;
    assert_eq!(serde_json::from_str::<Vec<Value>>(&json).unwrap().len(), 12);
    let (_, json) = get(&c, "v1/export?format=json&to=2026-11-19", &admin).await;
    assert_eq!(json.trim(), "[]");

    assert_eq!(get(&c, "v1/export?from=last-week", &admin).await.0, 400);
    assert_eq!(get(&c, "v1/export?by=hour", &admin).await.0, 400);
    assert_eq!(get(&c, "v1/export?colour=red", &admin).await.0, 400);
}
