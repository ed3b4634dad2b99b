//! The dashboard in real headless Chromium (Debian's, over chromedriver) against the real
//! collector holding the hand-computed data set (`common::dataset`): logging in, the
//! overview's figures, changing the period, a place's heatmaps and reasons, CSV downloads
//! equal to the tables on screen, a viewer bound to one site, logout; on every page no
//! console error, no CSP violation and no serious accessibility violation (axe-core).
//! Accounts and sessions are tested in `dashboard_access.rs`.
//!
//! `CES_UPDATE_SCREENSHOTS=1 cargo test --test dashboard` also writes the reference
//! screenshots in `docs/screenshots/dashboard-*.png`.

mod common;

use ces_kiosk::collector::storage::Role;
use common::browser::{Browser, page_is_clean};
use common::collector::{TestCollector, client};
use common::dataset::fill;
use fantoccini::Locator;

const PASSWORD: &str = "correct horse battery";
const WEEK: &str = "period=custom&from=2026-11-23&to=2026-11-29";

async fn collector() -> TestCollector {
    let c = TestCollector::with_settings(|s| s.dashboard.min_answers = 3);
    fill(c).await.0
}

/// GETs `path` with the browser's session cookie: (status, body).
async fn with_session(b: &Browser, c: &TestCollector, path: &str) -> (u16, String) {
    let cookie = b.client.get_named_cookie("ces_session").await.unwrap();
    let r = client()
        .get(format!("{}{path}", c.url))
        .header("cookie", format!("ces_session={}", cookie.value()))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The CSV a table's download link gives, as rows of cells as a spreadsheet shows them: a
/// cell the collector made safe with a leading `'` (it starts with `+`, `=`, `-` or `@`) is
/// shown without it.
async fn csv_of_table(b: &Browser, c: &TestCollector, id: &str) -> Vec<Vec<String>> {
    let link = b
        .client
        .find(Locator::Css(&format!("#{id} caption a.csv")))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let (status, text) = with_session(b, c, link.trim_start_matches('/')).await;
    assert_eq!(status, 200, "{link}: {text}");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(shown).collect())
        .collect()
}

fn shown(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

fn rows(table: &[Vec<String>]) -> Vec<Vec<&str>> {
    table
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sees_the_hand_computed_figures_and_downloads_what_is_shown() {
    let c = collector().await;
    c.add_person("anna", Role::Admin, &[], PASSWORD);
    c.add_device("dev-new", "east", "lobby");
    let b = Browser::start().await;

    b.goto(&c.url).await;
    assert_eq!(
        b.path().await,
        "/login?next=%2F",
        "a page without a session asks to log in"
    );
    page_is_clean(&b, "login").await;
    b.log_in(&c.url, "anna", PASSWORD).await;
    assert_eq!(b.path().await, "/");
    b.console_problems().await;

    // Change the period with the form: custom dates, the week of 23 November.
    b.client
        .execute(
            "document.getElementById('period').value = 'custom'; \
             document.getElementById('from').value = '2026-11-23'; \
             document.getElementById('to').value = '2026-11-29';",
            vec![],
        )
        .await
        .unwrap();
    b.click("form.period button").await;
    assert_eq!(b.path().await, format!("/?{WEEK}"));
    assert_eq!(b.text("#shown-period").await, "2026-11-23 – 2026-11-29");

    // returns-ease this week: 1 7 6 5 2 3 4 7 1 (n 9, sum 36); the week before 7 7 1 6.
    let tiles = b
        .text("section[aria-labelledby='q-returns-ease-v1-ces7'] .tiles")
        .await;
    for expected in [
        "Answers\n9\n+5 vs previous period",
        "Mean\n4.00\n\u{2212}1.25 vs previous period",
        "% easy\n44.4 %\n\u{2212}30.6 pp vs previous period",
        "% difficult\n44.4 %\n+19.4 pp vs previous period",
    ] {
        let flat = expected.replace('\n', " ");
        assert!(
            tiles.replace('\n', " ").contains(&flat),
            "tile {flat:?} in {tiles:?}"
        );
    }
    // desk-ease on its own five-point scale, never mixed with returns-ease.
    let desk = b
        .text("section[aria-labelledby='q-desk-ease-v1-ces5'] .tiles")
        .await;
    assert!(desk.replace('\n', " ").contains("Mean 3.33"), "{desk}");
    assert!(
        desk.replace('\n', " ").contains("% difficult 33.3 %"),
        "{desk}"
    );

    let trend = b.table("trend-returns-ease-v1-ces7").await;
    let trend_rows = rows(&trend);
    assert_eq!(trend_rows[0], ["Date", "Answers", "Mean", "% difficult"]);
    assert_eq!(trend_rows[1], ["2026-11-23", "4", "4.75", "25.0 %"]);
    assert_eq!(trend_rows[2], ["2026-11-24", "0", "\u{2013}", "\u{2013}"]);
    assert_eq!(trend_rows[3], ["2026-11-25", "2", "2.50", "100.0 %"]);
    assert_eq!(trend_rows[4], ["2026-11-26", "1", "4.00", "0.0 %"]);
    assert_eq!(trend_rows[7], ["2026-11-29", "2", "4.00", "50.0 %"]);
    assert_eq!(
        csv_of_table(&b, &c, "trend-returns-ease-v1-ces7").await,
        trend
    );

    // Places: north/returns ranked (8 answers, 4 difficult; the week before 1 of 3);
    // south/returns has 1 answer, fewer than the minimum of 3: shown, not ranked.
    let ranking = b.table("places-returns-ease-v1-ces7").await;
    assert_eq!(
        rows(&ranking),
        [
            vec![
                "Rank",
                "Place",
                "Answers",
                "Mean",
                "% easy",
                "% difficult",
                "Change in % difficult"
            ],
            vec![
                "1",
                "north / returns",
                "8",
                "4.00",
                "50.0 %",
                "50.0 %",
                "+16.7 pp"
            ],
            vec![
                "too few to rank (n < 3)",
                "south / returns",
                "1",
                "4.00",
                "0.0 %",
                "0.0 %",
                "\u{2013}"
            ],
        ]
    );
    assert_eq!(
        csv_of_table(&b, &c, "places-returns-ease-v1-ces7").await,
        ranking
    );
    // A terminal never heard from needs attention; those that just sent answers do not.
    let attention = b.table("attention").await;
    assert_eq!(attention.len(), 2, "{attention:?}");
    assert_eq!(attention[1][..3], ["dev-new", "east / lobby", "never seen"]);
    page_is_clean(&b, "overview").await;

    // Open the place from the ranking.
    b.click_link("north / returns").await;
    assert_eq!(
        b.path().await,
        format!("/place?{WEEK}&site=north&touchpoint=returns")
    );
    assert_eq!(b.text("h1").await, "north / returns");
    // 23 Nov is a Monday: 09h 1 7 5, 10h 6; Wednesday 09h 2 3; Sunday 14h 7 1.
    let heat = b.table("heat-difficult-returns-ease-v1-ces7").await;
    assert_eq!(
        rows(&heat),
        [
            vec!["Weekday", "09", "10", "11", "12", "13", "14"],
            vec!["Monday", "33", "0", "", "", "", ""],
            vec!["Tuesday", "", "", "", "", "", ""],
            vec!["Wednesday", "100", "", "", "", "", ""],
            vec!["Thursday", "", "", "", "", "", ""],
            vec!["Friday", "", "", "", "", "", ""],
            vec!["Saturday", "", "", "", "", "", ""],
            vec!["Sunday", "", "", "", "", "", "50"],
        ]
    );
    let volume = b.table("heat-volume-returns-ease-v1-ces7").await;
    assert_eq!(volume[1], ["Monday", "3", "1", "0", "0", "0", "0"]);
    assert_eq!(volume[3], ["Wednesday", "2", "0", "0", "0", "0", "0"]);
    assert_eq!(volume[7], ["Sunday", "0", "0", "0", "0", "0", "2"]);
    assert_eq!(
        csv_of_table(&b, &c, "heat-volume-returns-ease-v1-ces7").await,
        volume
    );
    let reasons = b.table("reasons-returns-ease-v1-ces7").await;
    assert_eq!(
        rows(&reasons),
        [
            vec!["Reason", "Answers", "Share of reasons"],
            vec!["waiting", "2", "50.0 %"],
            vec!["signage", "1", "25.0 %"],
            vec!["staff", "1", "25.0 %"],
        ]
    );
    assert_eq!(
        csv_of_table(&b, &c, "reasons-returns-ease-v1-ces7").await,
        reasons
    );
    let scores = b.table("scores-returns-ease-v1-ces7").await;
    assert_eq!(scores[1], ["1", "2", "25.0 %"]);
    assert_eq!(scores[4], ["4", "0", "0.0 %"]);
    assert_eq!(scores[7], ["7", "2", "25.0 %"]);
    page_is_clean(&b, "place").await;

    // The site's page lists its touchpoints.
    b.click("nav.crumbs a[href*='site=north']").await;
    let touchpoints = b.table("touchpoints").await;
    assert_eq!(touchpoints.len(), 3, "returns and desk: {touchpoints:?}");
    page_is_clean(&b, "site").await;

    b.click_link("Fleet").await;
    let fleet = b.table("terminals").await;
    let mut ids: Vec<&str> = fleet[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.remove(0), "dev-new", "silent terminals first");
    ids.sort();
    assert_eq!(ids, ["dev-a1", "dev-a2", "dev-b", "dev-c"]);
    assert_eq!(csv_of_table(&b, &c, "terminals").await, fleet);
    page_is_clean(&b, "fleet").await;

    // Logging out ends the session: the next page asks to log in again.
    b.click("form.logout button").await;
    assert_eq!(b.path().await, "/login");
    b.goto(&format!("{}fleet", c.url)).await;
    assert_eq!(b.path().await, "/login?next=%2Ffleet");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_of_one_site_sees_nothing_of_another() {
    let c = collector().await;
    c.add_person("vic", Role::Viewer, &["north"], PASSWORD);
    let b = Browser::start().await;
    b.log_in(&c.url, "vic", PASSWORD).await;
    b.goto(&format!("{}?{WEEK}", c.url)).await;

    // By navigation: south is in no table.
    let ranking = b.table("places-returns-ease-v1-ces7").await;
    assert_eq!(ranking.len(), 2, "{ranking:?}");
    assert_eq!(ranking[1][1], "north / returns");
    let source = b.client.source().await.unwrap();
    assert!(
        !source.contains("south") && !source.contains("dev-c"),
        "{source}"
    );
    // returns-ease: 9 answers this week in the fleet, 8 of them at north.
    let tiles = b
        .text("section[aria-labelledby='q-returns-ease-v1-ces7'] .tiles")
        .await;
    assert!(tiles.replace('\n', " ").starts_with("Answers 8"), "{tiles}");
    page_is_clean(&b, "viewer-overview").await;
    b.goto(&format!("{}fleet", c.url)).await;
    let fleet = b.table("terminals").await;
    assert!(fleet.iter().all(|r| r[0] != "dev-c"), "{fleet:?}");

    // By an edited address.
    b.goto(&format!("{}place?{WEEK}&site=south", c.url)).await;
    assert_eq!(
        b.text("p.error").await,
        "Your account may not see this site."
    );
    let (status, _) = with_session(&b, &c, &format!("place?{WEEK}&site=south")).await;
    assert_eq!(status, 403);
    let (status, csv) = with_session(
        &b,
        &c,
        &format!("?{WEEK}&site=south&table=places-returns-ease-v1-ces7&format=csv"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!csv.contains("south"), "{csv}");

    // Through the API with the same session.
    let (status, _) = with_session(&b, &c, "v1/report?site=south").await;
    assert_eq!(status, 403);
    let (status, report) = with_session(&b, &c, "v1/report?by=period").await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report.contains("north") && !report.contains("south"),
        "{report}"
    );
    let (status, devices) = with_session(&b, &c, "v1/devices").await;
    assert_eq!(status, 200);
    assert!(
        devices.contains("dev-a1") && !devices.contains("dev-c"),
        "{devices}"
    );
    let (status, export) = with_session(&b, &c, "v1/export").await;
    assert_eq!(status, 200);
    assert_eq!(
        export.lines().count(),
        1 + 17,
        "north's 17 answers and the header"
    );
    assert!(!export.contains("south"));
    let (status, export) = with_session(&b, &c, "v1/export?device=dev-c").await;
    assert_eq!((status, export.lines().count()), (200, 1));
    b.close().await;
}
