//! Fuzz target of the button-box frame parser: whatever the bytes and however they are
//! split across reads, the parser never panics, and every message it yields was sent as a
//! whole, valid frame (its canonical encoding occurs in the input).

#![no_main]

use ces_kiosk::buttons::frame::{Event, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks where the rest is cut into reads.
    let Some((&cut, bytes)) = data.split_first() else {
        return;
    };
    let step = usize::from(cut).max(1);
    let mut parser = Parser::new();
    for chunk in bytes.chunks(step) {
        parser.feed(chunk, |event| {
            if let Event::Message(m) = event {
                let frame = m.encode();
                let body = &frame[..frame.len() - 1];
                let found = bytes.windows(body.len()).enumerate().any(|(at, w)| {
                    w == body
                        && matches!(&bytes[at + body.len()..], [b'\n', ..] | [b'\r', b'\n', ..])
                });
                assert!(found, "{m} was not in the input as a whole frame");
            }
        });
    }
});
