//! Fuzz target of `POST /v1/answers` as the collector reads the body: whatever the bytes,
//! no panic; a batch taken is within the cap, every answer in it holds only what the
//! protocol allows, and written back out it is taken again as the same answers; a batch
//! refused is 400 (not JSON), 413 (too many answers) or 422 naming the field at fault of
//! each invalid answer (or saying that the answer is not readable JSON).

#![no_main]

use ces_kiosk::collector::ingest::parse_batch;
use ces_kiosk::wire::UploadBatch;
use ces_kiosk_fuzz::{names_a_field, now};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 50;

const FIELDS: &[&str] = &[
    "device_time",
    "answers",
    "id",
    "seq",
    "boot_id",
    "device_time_ms",
    "clock_trusted",
    "question_id",
    "question_version",
    "language",
    "scale",
    "direction",
    "score",
    "low",
    "reason",
    "suppressed",
    "input",
    "age_ms",
];

fuzz_target!(|data: &[u8]| {
    match parse_batch(data, MAX, now()) {
        Ok(batch) => {
            assert!(batch.answers.len() <= MAX);
            for a in &batch.answers {
                let w = &a.wire;
                for text in [&w.question_id, &w.language, &w.boot_id, &w.input]
                    .into_iter()
                    .chain(w.reason.as_ref())
                {
                    assert!(!text.chars().any(ces_kiosk::text::is_hidden), "{text:?}");
                    assert!(ces_kiosk::text::csv_cell(text).len() <= text.len() + 1);
                }
                assert!(w.scale.contains(w.score));
                assert!(a.local_hour < 24);
            }
            // The answers written back as a batch are taken again, unchanged.
            let again = UploadBatch {
                device_time: device_time(data),
                answers: batch.answers.iter().map(|a| a.wire.clone()).collect(),
            };
            let json = serde_json::to_vec(&again).unwrap();
            let reread = parse_batch(&json, MAX, now()).expect("a batch written back is taken");
            assert_eq!(reread.clock_skew_ms, batch.clock_skew_ms);
            assert_eq!(reread.answers.len(), batch.answers.len());
            for (a, b) in reread.answers.iter().zip(&batch.answers) {
                assert_eq!(a.wire, b.wire);
                assert_eq!((&a.local_date, a.local_hour), (&b.local_date, b.local_hour));
                assert_eq!(a.time_estimated, b.time_estimated);
            }
        }
        Err(e) => match e.status.as_u16() {
            400 => assert!(
                e.body.error.starts_with("malformed JSON"),
                "{}",
                e.body.error
            ),
            413 => assert!(e.body.error.contains("answers in one batch")),
            422 if !e.body.invalid.is_empty() => {
                for invalid in &e.body.invalid {
                    // An answer whose keys are not readable text has no field to name.
                    let why = &invalid.reason;
                    assert!(
                        names_a_field(why, FIELDS) || why.starts_with("malformed JSON"),
                        "{why}"
                    );
                }
            }
            422 => assert!(names_a_field(&e.body.error, FIELDS), "{}", e.body.error),
            other => panic!("status {other} for a body: {}", e.body.error),
        },
    }
});

/// The batch's own device time (it parsed, so it is there).
fn device_time(data: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(data).unwrap();
    v["device_time"].as_str().unwrap().to_owned()
}
