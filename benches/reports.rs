//! Central read benchmark: a collector filled with a year of answers from 1,000 terminals
//! (100 sites of 10 touchpoints) through its real upload route, then the reads central teams
//! make, timed from a client on loopback: the report for the year by day (per touchpoint, and
//! for the whole fleet per question), the last 7 days, one place by hour of day, and one
//! site's answers of the last 7 days exported; and the dashboard's pages (the overview, a
//! place, a site, the fleet) for a month, a quarter and the year. Also the ingest rate of the
//! fill, with rollups and without them.
//!
//! Prints, per size, answers per second of the fill and p50/p99 of each read.
//! Run with `cargo bench --bench reports` (1 and 10 million answers; `-- --answers 200000`
//! for other sizes, comma-separated; `-- --with-only` to skip the fill without rollups).

#[path = "support/central.rs"]
#[allow(dead_code)]
mod central;
#[path = "support/measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../tests/common/postgres.rs"]
#[allow(dead_code)]
mod postgres;
#[path = "support/year.rs"]
#[allow(dead_code)]
mod year;

use std::time::Instant;

use central::Central;

/// Timed requests per read, after three untimed ones.
const RUNS: usize = 40;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip_while(|a| a != "--answers")
        .nth(1)
        .map(|s| {
            s.split(',')
                .map(|n| n.parse().expect("--answers N,N"))
                .collect()
        })
        .unwrap_or_else(|| vec![1_000_000, 10_000_000]);
    println!("machine: {}", measure::machine());
    println!("storage: {}", central::storage_name());
    for &size in &sizes {
        let work = tempfile::tempdir_in(std::env::temp_dir()).expect("a work folder");
        if !std::env::args().any(|a| a == "--with-only") {
            let plain = work.path().join("without");
            std::fs::create_dir_all(&plain).unwrap();
            let (central, _) = Central::start_and_fill(&plain, size, false);
            central.stop();
            std::fs::remove_dir_all(&plain).unwrap();
        }

        let counted = work.path().join("with");
        std::fs::create_dir_all(&counted).unwrap();
        let (central, stored) = Central::start_and_fill(&counted, size, true);
        println!("{size} answers ({stored} stored): reads, timed from a client on loopback");
        let place = "site=site-007&touchpoint=returns";
        let reads = [
            (
                "report, the year by day, per touchpoint (first page)",
                "by=day&from=2025-12-01&to=2026-11-30".to_owned(),
            ),
            (
                "report, the year by day, the fleet per question",
                "by=day&group=question&from=2025-12-01&to=2026-11-30".to_owned(),
            ),
            (
                "report, the last 7 days by day, per touchpoint (first page)",
                "by=day&from=2026-11-24&to=2026-11-30".to_owned(),
            ),
            (
                "report, the year of one place by hour of day",
                format!("by=hour_of_day&{place}&from=2025-12-01&to=2026-11-30"),
            ),
        ];
        let export = (
            "export, one site's last 7 days as CSV",
            "export?format=csv&site=site-007&from=2026-11-24&to=2026-11-30".to_owned(),
        );
        let reads = reads
            .into_iter()
            .map(|(name, query)| (name, format!("report?{query}")))
            .chain([export]);
        for (name, path) in reads {
            let url = format!("{}v1/{path}", central.url);
            let (mut times, bytes) = central.time_reads(&url, RUNS, false);
            println!(
                "  {name}: {} ({bytes} bytes)",
                measure::stats(&mut times, "ms")
            );
        }
        let month = "from=2026-11-01&to=2026-11-30";
        let quarter = "from=2026-09-01&to=2026-11-30";
        let year = "from=2025-12-01&to=2026-11-30";
        let pages = [
            ("overview, the last 30 days", format!("?{month}")),
            ("overview, the year", format!("?{year}")),
            (
                "place (one touchpoint), the last 90 days",
                format!("place?{place}&{quarter}"),
            ),
            (
                "place (one touchpoint), the year",
                format!("place?{place}&{year}"),
            ),
            (
                "site (10 touchpoints), the last 90 days",
                format!("place?site=site-007&{quarter}"),
            ),
            (
                "site (10 touchpoints), the year",
                format!("place?site=site-007&{year}"),
            ),
            ("fleet (1,000 terminals)", "fleet".to_owned()),
        ];
        for (name, path) in pages {
            let url = format!("{}{path}", central.url);
            let (mut times, bytes) = central.time_reads(&url, RUNS, true);
            println!(
                "  dashboard {name}: {} ({bytes} bytes)",
                measure::stats(&mut times, "ms")
            );
        }
        central.stop();
    }
}

impl Central {
    /// Times `runs` GETs of `url` with the admin token (or the dashboard session), one
    /// after the other, after three untimed ones; returns the times in ms and the size of
    /// the last reply.
    fn time_reads(&self, url: &str, runs: usize, page: bool) -> (Vec<f64>, usize) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let http =
                ces_kiosk::sync::transport::client(std::time::Duration::from_secs(120)).unwrap();
            let (mut times, mut bytes) = (vec![], 0);
            for i in 0..runs + 3 {
                let start = Instant::now();
                let request = if page {
                    http.get(url).header("cookie", &self.session)
                } else {
                    http.get(url).bearer_auth(self.admin.expose())
                };
                let reply = request.send().await.expect("the collector answers");
                assert_eq!(reply.status(), 200, "{url}");
                bytes = reply.bytes().await.unwrap().len();
                if i >= 3 {
                    times.push(start.elapsed().as_secs_f64() * 1000.0);
                }
            }
            (times, bytes)
        })
    }
}
