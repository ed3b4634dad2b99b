//! Fuzz target of `POST /v1/enrol` as the collector reads the body: no panic; a code taken
//! is in its one spelling, and sent again in that spelling it is taken as the same code;
//! a body refused is 400 (not JSON, or not a code) or 422 naming the field.

#![no_main]

use ces_kiosk::collector::enrol::parse;
use ces_kiosk_fuzz::names_a_field;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(code) => {
            let shown = code.expose();
            assert!(shown.len() == 11 && shown.as_bytes()[5] == b'-', "{shown}");
            let json = serde_json::to_vec(&serde_json::json!({ "code": shown })).unwrap();
            let again = parse(&json).expect("a code in its own spelling is taken");
            assert_eq!(again.hash(), code.hash());
        }
        Err(e) => match e.status.as_u16() {
            400 => assert!(
                e.body.error.starts_with("malformed JSON") || e.body.error.starts_with("code: "),
                "{}",
                e.body.error
            ),
            422 => assert!(names_a_field(&e.body.error, &["code"]), "{}", e.body.error),
            other => panic!("status {other}: {}", e.body.error),
        },
    }
});
