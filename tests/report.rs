//! The report's groupings over the real collector's HTTP API, each checked against a data set
//! computed by hand: places (site, touchpoint, device, question), time (day, hour, ISO week,
//! month, hour of day, weekday, the whole period), totals, the previous equal period, the
//! minimum-n rule, pages with a cursor, and the same figures from `ces-collector report`.

mod common;

use ces_kiosk::wire::{Figures, Report, ReportGroup};
use common::collector::client;
use common::dataset::data_set;
use common::report::{find, labels, report};
use common::requests::*;

const WEEK: &str = "from=2026-11-23&to=2026-11-29";

fn close(x: Option<f64>, y: f64) -> bool {
    x.is_some_and(|x| (x - y).abs() < 1e-9)
}

fn n_of(f: &Option<Figures>) -> u64 {
    f.as_ref().expect("previous figures").n
}

#[tokio::test]
async fn places_and_the_whole_period_with_the_previous_week_and_minimum_n() {
    let (c, admin) = data_set().await;
    let r = report(&c, &admin, &format!("{WEEK}&by=period&min_n=3")).await;
    assert_eq!(
        labels(&r),
        [
            "north desk desk-ease",
            "north returns returns-ease",
            "south returns returns-ease"
        ]
    );
    let p = r.previous_period.as_ref().unwrap();
    assert_eq!(
        (p.from.as_str(), p.to.as_str()),
        ("2026-11-16", "2026-11-22")
    );

    // north/returns: 1 7 6 2 3 5 7 1 → n 8, sum 32, mean 4; 1-3: four of eight; 5-7: four.
    let g = find(&r, "north returns returns-ease");
    assert_eq!(g.figures.distribution, [2, 1, 1, 0, 1, 1, 2]);
    assert_eq!((g.figures.n, g.figures.suppressed), (8, 1));
    assert!(close(g.figures.mean, 4.0));
    assert!(close(g.figures.pct_difficult, 50.0) && close(g.figures.pct_easy, 50.0));
    assert!(!g.too_few);
    // The week before: 7 7 1 → n 3, mean 5, one of three difficult.
    let before = g.previous.as_ref().unwrap();
    assert_eq!(before.n, 3);
    assert!(close(before.mean, 5.0) && close(before.pct_difficult, 100.0 / 3.0));

    // north/desk on its own five-point question: 1 5 4 → mean 10/3, 1-2: one of three.
    let g = find(&r, "north desk desk-ease");
    assert_eq!((g.scale.as_str(), g.figures.n), ("ces5", 3));
    assert!(close(g.figures.mean, 10.0 / 3.0));
    assert!(close(g.figures.pct_difficult, 100.0 / 3.0));
    assert!(close(g.figures.pct_easy, 200.0 / 3.0));
    assert!(!g.too_few, "3 answers meet min_n 3");
    assert_eq!(n_of(&g.previous), 0);
    assert_eq!(g.previous.as_ref().unwrap().mean, None);

    // south/returns: one answer: below min_n.
    let g = find(&r, "south returns returns-ease");
    assert_eq!(g.figures.n, 1);
    assert!(g.too_few);
    assert_eq!(n_of(&g.previous), 1);

    // Totals per question, never across questions or scales: 9 and 3 answers.
    let totals: Vec<(String, u64, u64)> = r
        .totals
        .iter()
        .map(|t| (t.question_id.clone(), t.figures.n, n_of(&t.previous)))
        .collect();
    assert_eq!(
        totals,
        [
            ("desk-ease".to_owned(), 3, 0),
            ("returns-ease".to_owned(), 9, 4)
        ]
    );
    let returns = &r.totals[1];
    assert!(close(returns.figures.mean, 4.0));
    assert!(close(returns.figures.pct_difficult, 400.0 / 9.0));
    assert_eq!(r.formulas.len(), 2);

    // By site: the two questions of north stay apart.
    let r = report(&c, &admin, &format!("{WEEK}&by=period&group=site")).await;
    assert_eq!(
        labels(&r),
        [
            "north desk-ease",
            "north returns-ease",
            "south returns-ease"
        ]
    );
    assert_eq!(find(&r, "north returns-ease").figures.n, 8);

    // By device: dev-a1 1 7 6 2 3 → mean 3.8, three of five difficult; before: 7 7 1.
    let r = report(&c, &admin, &format!("{WEEK}&by=period&group=device")).await;
    let g = find(&r, "north returns dev-a1 returns-ease");
    assert_eq!((g.figures.n, n_of(&g.previous)), (5, 3));
    assert!(close(g.figures.mean, 3.8) && close(g.figures.pct_difficult, 60.0));
    let g = find(&r, "north returns dev-a2 returns-ease");
    assert_eq!((g.figures.n, n_of(&g.previous)), (3, 0));
    assert!(close(g.figures.mean, 13.0 / 3.0));

    // One device, found among each day's rows by its place.
    let r = report(&c, &admin, &format!("{WEEK}&by=period&device=dev-a2")).await;
    assert_eq!(labels(&r), ["north returns returns-ease"]);
    assert_eq!(r.groups[0].figures.n, 3);
    assert_eq!(r.totals[0].figures.n, 3);

    // By question: the whole fleet per question.
    let r = report(&c, &admin, &format!("{WEEK}&by=period&group=question")).await;
    assert_eq!(labels(&r), ["desk-ease", "returns-ease"]);
    assert_eq!(find(&r, "returns-ease").figures.n, 9);
    assert_eq!(n_of(&find(&r, "returns-ease").previous), 4);
}

#[tokio::test]
async fn days_hours_weeks_months_hours_of_day_and_weekdays() {
    let (c, admin) = data_set().await;
    let place = "site=north&touchpoint=returns";
    let count = |r: &Report, name: &str| {
        let g = find(r, name);
        (g.figures.n, n_of(&g.previous))
    };

    let r = report(&c, &admin, &format!("{WEEK}&{place}")).await;
    assert_eq!(
        labels(&r),
        [
            "north returns returns-ease 2026-11-23",
            "north returns returns-ease 2026-11-25",
            "north returns returns-ease 2026-11-29"
        ]
    );
    // Each day against the same weekday a week before: 16 (7 7), 18 (1), 22 (none).
    assert_eq!(count(&r, "north returns returns-ease 2026-11-23"), (4, 2));
    assert_eq!(count(&r, "north returns returns-ease 2026-11-25"), (2, 1));
    assert_eq!(count(&r, "north returns returns-ease 2026-11-29"), (2, 0));
    assert_eq!(
        find(&r, "north returns returns-ease 2026-11-23")
            .figures
            .suppressed,
        1
    );

    // Seven days from Thursday 19: each hour against the same hour 7 days before.
    let r = report(
        &c,
        &admin,
        &format!("from=2026-11-19&to=2026-11-25&{place}&by=hour"),
    )
    .await;
    assert_eq!(
        count(&r, "north returns returns-ease 2026-11-23 09h"),
        (3, 2)
    );
    assert_eq!(
        count(&r, "north returns returns-ease 2026-11-23 10h"),
        (1, 0)
    );
    assert_eq!(
        count(&r, "north returns returns-ease 2026-11-25 09h"),
        (2, 1)
    );
    assert_eq!(r.groups.len(), 3);

    let r = report(&c, &admin, &format!("{WEEK}&{place}&by=hour_of_day")).await;
    assert_eq!(
        labels(&r),
        [
            "north returns returns-ease 09h",
            "north returns returns-ease 10h",
            "north returns returns-ease 14h"
        ]
    );
    assert_eq!(count(&r, "north returns returns-ease 09h"), (5, 3));
    assert_eq!(count(&r, "north returns returns-ease 14h"), (2, 0));

    // Whole months of a place's hours come from the monthly rollup: November against
    // October (09h: 11-10, 11-16 twice, 11-18, 11-23 three times, 11-25 twice; 10-15).
    let r = report(
        &c,
        &admin,
        &format!("from=2026-11-01&to=2026-11-30&{place}&by=hour_of_day"),
    )
    .await;
    assert_eq!(count(&r, "north returns returns-ease 09h"), (9, 1));
    assert_eq!(count(&r, "north returns returns-ease 10h"), (1, 0));
    assert_eq!(count(&r, "north returns returns-ease 14h"), (2, 0));
    assert_eq!(
        find(&r, "north returns returns-ease 09h")
            .figures
            .suppressed,
        1
    );
    // Half a month before a whole one: 15 to 31 October by day, November by month.
    let r = report(
        &c,
        &admin,
        &format!("from=2026-10-15&to=2026-11-30&{place}&by=hour_of_day"),
    )
    .await;
    assert_eq!(count(&r, "north returns returns-ease 09h"), (10, 0));
    assert_eq!(r.totals[0].figures.n, 13);
    // The whole site, per touchpoint: north's desk too.
    let r = report(
        &c,
        &admin,
        "from=2026-11-01&to=2026-11-30&site=north&by=hour_of_day",
    )
    .await;
    assert_eq!(count(&r, "north desk desk-ease 11h"), (3, 0));
    assert_eq!(count(&r, "north returns returns-ease 09h"), (9, 1));

    let r = report(&c, &admin, &format!("{WEEK}&{place}&by=weekday")).await;
    assert_eq!(count(&r, "north returns returns-ease weekday 1"), (4, 2));
    assert_eq!(count(&r, "north returns returns-ease weekday 3"), (2, 1));
    assert_eq!(count(&r, "north returns returns-ease weekday 7"), (2, 0));
    assert_eq!(r.groups.len(), 3);

    // Two whole weeks against the two before (2 to 15 November: the 3 on the 10th).
    let r = report(
        &c,
        &admin,
        &format!("from=2026-11-16&to=2026-11-29&{place}&by=week"),
    )
    .await;
    assert_eq!(
        count(&r, "north returns returns-ease 2026-11-16 2026-W47"),
        (3, 0)
    );
    assert_eq!(
        count(&r, "north returns returns-ease 2026-11-23 2026-W48"),
        (8, 1)
    );
    let p = r.previous_period.unwrap();
    assert_eq!(
        (p.from.as_str(), p.to.as_str()),
        ("2026-11-02", "2026-11-15")
    );

    // A whole month against the month before: November 12, October 1.
    let r = report(
        &c,
        &admin,
        &format!("from=2026-11-01&to=2026-11-30&{place}&by=month"),
    )
    .await;
    assert_eq!(
        count(&r, "north returns returns-ease 2026-11-01 2026-11"),
        (12, 1)
    );
    let p = r.previous_period.unwrap();
    assert_eq!(
        (p.from.as_str(), p.to.as_str()),
        ("2026-10-01", "2026-10-31")
    );

    // Without both dates there is nothing to compare with.
    let r = report(&c, &admin, &format!("{place}&by=month")).await;
    assert_eq!(r.previous_period, None);
    assert!(r.groups.iter().all(|g| g.previous.is_none()));
    assert_eq!(r.groups.len(), 2, "October and November");
}

#[tokio::test]
async fn pages_hold_at_most_the_limit_and_the_cursor_leads_through_all() {
    let (c, admin) = data_set().await;
    // Pages of days and hours are cut by storage; of other buckets, after counting.
    for cut in [
        "group=device",
        "group=touchpoint",
        "group=site",
        "group=question&by=hour",
        "group=touchpoint&by=weekday",
    ] {
        let whole = report(&c, &admin, &format!("{WEEK}&{cut}")).await;
        let mut path = format!("v1/report?{WEEK}&{cut}&limit=2");
        let mut seen: Vec<ReportGroup> = Vec::new();
        let mut pages = 0;
        loop {
            let r = client()
                .get(format!("{}{path}", c.url))
                .bearer_auth(admin.expose())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let link = r
                .headers()
                .get("link")
                .map(|l| l.to_str().unwrap().to_owned());
            let page: Report = r.json().await.unwrap();
            assert!(page.groups.len() <= 2);
            assert_eq!(
                page.totals, whole.totals,
                "{cut}: the totals cover every page"
            );
            seen.extend(page.groups);
            pages += 1;
            match (page.next_cursor, link) {
                (Some(cursor), Some(link)) => {
                    assert!(link.contains(&format!("cursor={cursor}")), "{link}");
                    assert!(link.ends_with("; rel=\"next\""), "{link}");
                    // Follow the Link header as a client would.
                    path = link[2..link.find('>').unwrap()].to_owned();
                }
                (None, None) => break,
                other => panic!("{cut}: cursor and Link disagree: {other:?}"),
            }
        }
        assert_eq!(
            seen, whole.groups,
            "{cut}: every group once, in order, with its previous figures"
        );
        assert_eq!(pages, whole.groups.len().div_ceil(2), "{cut}");
    }
    let by_device = report(&c, &admin, &format!("{WEEK}&group=device")).await;
    assert_eq!(by_device.groups.len(), 6);

    for bad in [
        "limit=0",
        "limit=10001",
        "cursor=nonsense",
        "by=week&cursor=2026-11-25~north~returns~~returns-ease~1~ces7~higher_is_easier",
        "group=team",
        "by=fortnight",
    ] {
        let (status, text) = get(&c, &format!("v1/report?{bad}"), &admin).await;
        assert_eq!(status, 400, "{bad}: {text}");
    }
    let (status, _) = get(&c, "v1/export?group=site", &admin).await;
    assert_eq!(status, 400, "report parameters are refused by the export");
}

#[test]
fn the_command_line_report_shows_the_same_groupings() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (c, _admin) = runtime.block_on(data_set());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ces-collector"))
            .args(["--config", c.config_path().to_str().unwrap(), "report"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json = run(&[
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-29",
        "--by",
        "weekday",
        "--group",
        "site",
        "--min-n",
        "3",
        "--format",
        "json",
    ]);
    let r: Report = serde_json::from_str(&json).unwrap();
    let g = find(&r, "north returns-ease weekday 1");
    assert_eq!((g.figures.n, n_of(&g.previous)), (4, 2));
    assert!(!g.too_few && find(&r, "south returns-ease weekday 4").too_few);

    let table = run(&[
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-29",
        "--by",
        "period",
    ]);
    assert!(
        table.contains("previous period: 2026-11-16 to 2026-11-22"),
        "{table}"
    );
    let total = table
        .lines()
        .find(|l| l.starts_with("total") && l.contains("returns-ease"))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = total.split_whitespace().collect();
    // total, question v1, scale, n, mean, % easy, % difficult, suppressed, prev n, prev % diff
    assert_eq!(
        &cells[3..],
        ["ces7", "9", "4.00", "44.4", "44.4", "1", "4", "25.0"],
        "{total}"
    );
}
