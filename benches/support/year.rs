//! A year of answers from the benchmarks' fleet of 1,000 terminals (100 sites of 10
//! touchpoints), made the same on every run, uploaded through the collector's real upload
//! route by 200 concurrent connections: the fill of the central benchmarks.

use std::path::Path;
use std::time::Instant;

use ces_kiosk::credential::Credential;
use ces_kiosk::survey::{Direction, Scale};
use ces_kiosk::wire::WireAnswer;
use jiff::ToSpan;
use jiff::civil::Date;

use super::central::Central;
use super::measure;

pub const SITES: usize = 100;
pub const TOUCHPOINTS: [&str; 10] = [
    "returns", "checkout", "info", "pickup", "service", "lockers", "tailor", "cafe", "desk", "exit",
];
/// Concurrent simulated terminals' connections during the fill.
pub const CLIENTS: usize = 200;
pub const FIRST_DAY: &str = "2025-12-01";
pub const DAYS: i64 = 365;
pub const REASONS: [&str; 5] = ["waiting", "staff", "system", "policy", "other"];
/// A small deterministic generator (xorshift64*), so that every run stores the same answers.
pub struct Dice(pub u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

/// One terminal's answers of one day: more on Saturdays, fewer on Sundays; busiest around
/// noon and late afternoon; some places and the lunch hour harder than others.
pub fn day_of_answers(terminal: usize, day: Date, per_day: f64, seq: &mut i64) -> Vec<WireAnswer> {
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
                age_ms: None,
            }
        })
        .collect()
}

impl Central {
    /// A collector in `dir` with the bench's 1,000 terminals, filled with about `size`
    /// answers over a year: each terminal uploads each day's answers as one batch, 200
    /// connections at a time. Prints the fill's rate; returns the collector and how many
    /// answers it stored.
    pub fn start_and_fill(dir: &Path, size: usize, rollups: bool) -> (Central, u64) {
        Central::fill_from(
            dir,
            size,
            rollups,
            FIRST_DAY.parse().unwrap(),
            Default::default(),
        )
    }

    /// The same, with the year starting on `first` and the collector's alert settings.
    pub fn fill_from(
        dir: &Path,
        size: usize,
        rollups: bool,
        first: Date,
        alerts: ces_kiosk::collector::alert::settings::AlertSettings,
    ) -> (Central, u64) {
        let terminals: Vec<(String, String, String)> = (0..SITES * TOUCHPOINTS.len())
            .map(|i| {
                (
                    format!("t-{i:04}"),
                    format!("site-{:03}", i / TOUCHPOINTS.len()),
                    TOUCHPOINTS[i % TOUCHPOINTS.len()].to_owned(),
                )
            })
            .collect();
        let central = Central::start_fleet_with(dir, terminals, rollups, alerts);
        let per_day = size as f64 / (SITES * TOUCHPOINTS.len()) as f64 / DAYS as f64;
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
}
