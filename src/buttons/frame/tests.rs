//! Unit tests of the frame format and parser.

use super::*;

fn messages(bytes: &[u8]) -> Vec<Message> {
    Parser::new()
        .feed_all(bytes)
        .into_iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            Event::Dropped(_) => None,
        })
        .collect()
}

fn press(button: u8, seq: u32) -> Message {
    Message::Press { button, seq }
}

/// The CRC as `docs/button-protocol.md` gives it in C, bit by bit.
fn crc8_as_documented(body: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &b in body {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[test]
fn every_message_round_trips() {
    let all = [
        Message::Hello {
            box_id: "desk-2".into(),
            firmware: "1.4.0".into(),
            session: 0x00C0_FFEE,
        },
        press(1, 0),
        press(9, u32::MAX),
        Message::Who,
        Message::Ack {
            session: 0xFFFF_FFFF,
            seq: u32::MAX,
            counted: true,
        },
        Message::Ack {
            session: 0,
            seq: 18,
            counted: false,
        },
        Message::Nak {
            session: 0xA1,
            seq: 3,
        },
        Message::Led {
            target: LedTarget::All,
            state: LedState::Off,
        },
        Message::Led {
            target: LedTarget::Button(4),
            state: LedState::Blink,
        },
    ];
    for m in all {
        let frame = m.encode();
        assert!(frame.len() <= MAX_FRAME, "{m} fits a frame");
        assert_eq!(messages(&frame), vec![m.clone()], "{}", m);
    }
}

#[test]
fn the_checksum_is_the_documented_crc8() {
    assert_eq!(
        press(2, 17).encode(),
        b"$PRESS,2,17*"
            .iter()
            .copied()
            .chain(format!("{:02X}\n", crc8_as_documented(b"PRESS,2,17")).into_bytes())
            .collect::<Vec<u8>>()
    );
    // The example of docs/button-protocol.md.
    assert_eq!(press(2, 17).encode(), b"$PRESS,2,17*FE\n");
    // The check value of CRC-8/SMBUS.
    assert_eq!(crc8_as_documented(b"123456789"), 0xF4);
}

#[test]
fn frames_split_across_reads_are_joined() {
    let frame = press(3, 42).encode();
    let mut parser = Parser::new();
    let mut got = vec![];
    for b in &frame {
        parser.feed(std::slice::from_ref(b), |e| got.push(e));
    }
    assert_eq!(got, vec![Event::Message(press(3, 42))]);
}

#[test]
fn carriage_return_line_feed_is_accepted() {
    let mut frame = press(1, 5).encode();
    frame.insert(frame.len() - 1, b'\r');
    assert_eq!(messages(&frame), vec![press(1, 5)]);
}

#[test]
fn garbage_between_frames_is_skipped_and_reported_once() {
    let mut bytes = b"\x00\xff noise".to_vec();
    bytes.extend(press(1, 1).encode());
    bytes.extend(b"more $$ junk * 12\n\n");
    bytes.extend(press(2, 2).encode());
    let events = Parser::new().feed_all(&bytes);
    assert_eq!(messages(&bytes), vec![press(1, 1), press(2, 2)]);
    assert_eq!(events.first(), Some(&Event::Dropped(Dropped::Noise)));
    assert!(events.contains(&Event::Dropped(Dropped::Checksum)));
}

#[test]
fn a_cut_off_frame_does_not_swallow_the_next() {
    let mut bytes = b"$PRESS,4,1".to_vec();
    bytes.extend(press(2, 9).encode());
    assert_eq!(messages(&bytes), vec![press(2, 9)]);
}

#[test]
fn a_wrong_checksum_is_dropped() {
    let mut frame = press(1, 7).encode();
    let n = frame.len();
    frame[n - 2] = if frame[n - 2] == b'0' { b'1' } else { b'0' };
    assert_eq!(
        Parser::new().feed_all(&frame),
        vec![Event::Dropped(Dropped::Checksum)]
    );
    // A changed body with the old checksum.
    let mut frame = press(1, 7).encode();
    frame[7] = b'2';
    assert!(messages(&frame).is_empty());
}

#[test]
fn an_overlong_frame_is_dropped_and_the_parser_recovers() {
    let mut bytes = b"$PRESS,1,".to_vec();
    bytes.extend(std::iter::repeat_n(b'1', 200));
    bytes.extend(b"*00\n");
    bytes.extend(press(5, 1).encode());
    let events = Parser::new().feed_all(&bytes);
    assert_eq!(events[0], Event::Dropped(Dropped::TooLong));
    assert_eq!(messages(&bytes), vec![press(5, 1)]);
}

/// A body with a good checksum but a field spelled another way than the canonical one.
fn framed(body: &str) -> Vec<u8> {
    format!("${body}*{:02X}\n", crc8_as_documented(body.as_bytes())).into_bytes()
}

#[test]
fn only_canonical_fields_are_messages() {
    for body in [
        "PRESS,0,1",
        "PRESS,10,1",
        "PRESS,1,01",
        "PRESS,1,+1",
        "PRESS,1,-1",
        "PRESS,1,4294967296",
        "PRESS,1",
        "PRESS,1,2,3",
        "press,1,2",
        "HELLO,box 1,1.0,1",
        "HELLO,box,1.0,0001",
        "HELLO,box,1.0,abc",
        "HELLO,,1.0,1",
        "HELLO,b,,1",
        "ACK,1,1,MAYBE",
        "ACK,1,COUNTED",
        "NAK,01,1",
        "LED,0,ON",
        "LED,ALL,DIM",
        "",
    ] {
        assert_eq!(
            Parser::new().feed_all(&framed(body)),
            vec![Event::Dropped(Dropped::Unknown)],
            "{body:?}"
        );
    }
    // A checksum in lower case is not the canonical spelling either.
    let frame = framed("WHO").to_ascii_lowercase();
    assert!(messages(&frame).is_empty());
}

#[test]
fn random_bytes_never_yield_a_message_that_was_not_sent() {
    let mut rng = fastrand::Rng::with_seed(7);
    let alphabet = b"$*,\r\n0123456789ABCDEFPRESHLOWKNA";
    for _ in 0..20_000 {
        let mut parser = Parser::new();
        let len = rng.usize(0..40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.bool() {
                    alphabet[rng.usize(..alphabet.len())]
                } else {
                    rng.u8(..)
                }
            })
            .collect();
        parser.feed(&bytes, |e| {
            if let Event::Message(m) = e {
                // Possible only if these random bytes happened to spell a valid frame.
                let frame = m.encode();
                let frame = &frame[..frame.len() - 1];
                assert!(
                    bytes.windows(frame.len()).any(|w| w == frame),
                    "{m} from {bytes:?}"
                );
            }
        });
    }
}
