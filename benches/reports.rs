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

use std::path::Path;
use std::time::Instant;

use central::Central;
use ces_kiosk::credential::Credential;
use ces_kiosk::survey::{Direction, Scale};
use ces_kiosk::wire::WireAnswer;
use jiff::ToSpan;
use jiff::civil::Date;

const SITES: usize = 100;
const TOUCHPOINTS: [&str; 10] = [
    "returns", "checkout", "info", "pickup", "service", "lockers", "tailor", "cafe", "desk", "exit",
];
/// Concurrent simulated terminals' connections during the fill.
const CLIENTS: usize = 200;
const FIRST_DAY: &str = "2025-12-01";
const DAYS: i64 = 365;
const REASONS: [&str; 5] = ["waiting", "staff", "system", "policy", "other"];
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

/// A small deterministic generator (xorshift64*), so that every run stores the same answers.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Dice {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

/// One terminal's answers of one day: more on Saturdays, fewer on Sundays; busiest around
/// noon and late afternoon; some places and the lunch hour harder than others.
fn day_of_answers(terminal: usize, day: Date, per_day: f64, seq: &mut i64) -> Vec<WireAnswer> {
    let mut dice = Dice::new((terminal as u64) << 20 | day.day_of_year() as u64);
    let weekday = day.weekday().to_monday_one_offset();
    let busy = match weekday {
        6 => 1.4,
        7 => 0.6,
        _ => 1.0,
    };
    let count = (per_day * busy + dice.unit()) as usize;
    let hardness = Dice::new(terminal as u64 + 7).unit() * 0.35;
    let faces = terminal % TOUCHPOINTS.len() == TOUCHPOINTS.len() - 1;
    let (scale, question) = if faces {
        (Scale::Smiley3, "exit-faces")
    } else {
        (Scale::Ces7, "visit-ease")
    };
    (0..count)
        .map(|_| {
            const HOURS: [u8; 16] = [8, 9, 10, 11, 11, 12, 12, 12, 13, 13, 14, 15, 16, 17, 17, 19];
            let hour = HOURS[dice.below(HOURS.len())];
            let lunch = if (12..14).contains(&hour) { 0.15 } else { 0.0 };
            let difficult = dice.unit() < 0.08 + hardness + lunch;
            let score = match (scale, difficult) {
                (Scale::Smiley3, true) => 1,
                (Scale::Smiley3, false) => 2 + dice.below(2) as u8,
                (_, true) => 1 + dice.below(3) as u8,
                (_, false) => 4 + dice.below(4) as u8,
            };
            let low = difficult;
            let reason = (low && dice.unit() < 0.7).then(|| REASONS[dice.below(5)].to_owned());
            let minute = dice.below(60);
            let local = format!("{day}T{hour:02}:{minute:02}:00+01:00");
            let ms = local
                .parse::<jiff::Timestamp>()
                .expect("a time")
                .as_millisecond();
            *seq += 1;
            WireAnswer {
                id: uuid::Uuid::now_v7(),
                seq: *seq,
                boot_id: "6c1d7f0e-3b9a-4a51-b0c4-3f8f2b3e9d11".into(),
                device_time: local,
                device_time_ms: ms,
                clock_trusted: true,
                question_id: question.into(),
                question_version: 1,
                language: "en".into(),
                scale,
                direction: Direction::HigherIsEasier,
                score,
                low,
                reason,
                suppressed: dice.unit() < 0.015,
                input: "touch".into(),
            }
        })
        .collect()
}

impl Central {
    /// A collector in `dir` with the bench's 1,000 terminals, filled with about `size`
    /// answers over a year: each terminal uploads each day's answers as one batch, 200
    /// connections at a time. Prints the fill's rate; returns the collector and how many
    /// answers it stored.
    fn start_and_fill(dir: &Path, size: usize, rollups: bool) -> (Central, u64) {
        let terminals: Vec<(String, String, String)> = (0..SITES * TOUCHPOINTS.len())
            .map(|i| {
                (
                    format!("t-{i:04}"),
                    format!("site-{:03}", i / TOUCHPOINTS.len()),
                    TOUCHPOINTS[i % TOUCHPOINTS.len()].to_owned(),
                )
            })
            .collect();
        let central = Central::start_fleet(dir, terminals, rollups);
        let per_day = size as f64 / (SITES * TOUCHPOINTS.len()) as f64 / DAYS as f64;
        let first: Date = FIRST_DAY.parse().unwrap();
        let load = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let url = format!("{}v1/answers", central.url);
        let credentials: Vec<Credential> =
            central.credentials.iter().map(|(_, c)| c.clone()).collect();
        let t = Instant::now();
        let (stored, mut latencies) = load.block_on(async move {
            let tasks: Vec<_> = (0..CLIENTS)
                .map(|client| {
                    let mine: Vec<(usize, Credential)> = credentials
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % CLIENTS == client)
                        .map(|(i, c)| (i, c.clone()))
                        .collect();
                    let url = url.clone();
                    tokio::spawn(async move {
                        let http =
                            ces_kiosk::sync::transport::client(std::time::Duration::from_secs(120))
                                .unwrap();
                        let mut seqs = vec![0i64; mine.len()];
                        let (mut stored, mut latencies) = (0u64, vec![]);
                        for d in 0..DAYS {
                            let day = first.checked_add(d.days()).unwrap();
                            for ((terminal, cred), seq) in mine.iter().zip(&mut seqs) {
                                let answers = day_of_answers(*terminal, day, per_day, seq);
                                if answers.is_empty() {
                                    continue;
                                }
                                let n = answers.len() as u64;
                                let sent = ces_kiosk::clock::now().local;
                                let payload =
                                    ces_kiosk::sync::batch::encode(&answers, usize::MAX, &sent)
                                        .payload;
                                let start = Instant::now();
                                let mut request = http
                                    .post(&url)
                                    .bearer_auth(cred.expose())
                                    .header("content-type", "application/json");
                                if payload.gzip {
                                    request = request.header("content-encoding", "gzip");
                                }
                                let reply = request
                                    .body(payload.bytes)
                                    .send()
                                    .await
                                    .expect("the collector answers");
                                let status = reply.status();
                                let text = reply.text().await.unwrap();
                                assert_eq!(status, 200, "{text}");
                                latencies.push(start.elapsed().as_secs_f64() * 1000.0);
                                stored += n;
                            }
                        }
                        (stored, latencies)
                    })
                })
                .collect();
            let (mut stored, mut all) = (0, vec![]);
            for task in tasks {
                let (n, l) = task.await.unwrap();
                stored += n;
                all.extend(l);
            }
            (stored, all)
        });
        let elapsed = t.elapsed().as_secs_f64();
        println!(
            "{size} answers, fill {} rollups: {stored} answers in {} batches, {:.1} s: {:.0} answers/s; batch latency {}",
            if rollups { "with" } else { "without" },
            latencies.len(),
            elapsed,
            stored as f64 / elapsed,
            measure::stats(&mut latencies, "ms"),
        );
        (central, stored)
    }

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
