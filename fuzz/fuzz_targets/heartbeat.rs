//! Fuzz target of `POST /v1/heartbeat` as the collector reads the body: no panic; a
//! heartbeat taken holds no hidden characters in its texts and, written back out, is taken
//! again as the same heartbeat with the same skew; one refused is 400 or 422 naming a field.

#![no_main]

use ces_kiosk::collector::ingest::parse_heartbeat;
use ces_kiosk_fuzz::{names_a_field, now};
use libfuzzer_sys::fuzz_target;

const FIELDS: &[&str] = &[
    "device_time",
    "app_version",
    "boot_id",
    "clock_trusted",
    "queue_depth",
    "oldest_unsynced_age_seconds",
    "dead_letters",
    "last_error",
    "config_version",
    "config_error",
];

fuzz_target!(|data: &[u8]| {
    match parse_heartbeat(data, now()) {
        Ok((beat, skew)) => {
            for text in [&beat.last_error, &beat.config_error].into_iter().flatten() {
                assert!(!text.chars().any(ces_kiosk::text::is_hidden), "{text:?}");
                assert!(text.chars().count() <= 2000);
            }
            assert!(beat.app_version.chars().all(|c| c.is_ascii_graphic()));
            let json = serde_json::to_vec(&beat).unwrap();
            let (again, again_skew) = parse_heartbeat(&json, now()).expect("written back, taken");
            assert_eq!((again, again_skew), (beat, skew));
        }
        Err(e) => match e.status.as_u16() {
            400 => assert!(
                e.body.error.starts_with("malformed JSON"),
                "{}",
                e.body.error
            ),
            422 => assert!(names_a_field(&e.body.error, FIELDS), "{}", e.body.error),
            other => panic!("status {other}: {}", e.body.error),
        },
    }
});
