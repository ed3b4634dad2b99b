//! The button-box wire format (`docs/button-protocol.md`), pure: encoding frames, and a
//! byte-at-a-time parser that resynchronises after garbage and never yields a message from
//! bytes that were not a whole, valid frame.
//!
//! A frame is `$`, a body of comma-separated fields, `*`, the CRC-8 of the body as two
//! upper-case hex digits, and `\n` (a `\r` before it is allowed): `$PRESS,2,17*5C\n`.

use std::fmt;

/// The longest frame, from `$` to `\n` inclusive. Longer ones are dropped whole.
pub const MAX_FRAME: usize = 80;

/// CRC-8 with polynomial 0x07, initial value 0 (CRC-8/SMBUS): a few lines of C on any box.
const CRC8: crc::Crc<u8> = crc::Crc::<u8>::new(&crc::CRC_8_SMBUS);

/// The highest button number a box may send (the config's limit on a box's buttons).
pub use crate::config::MAX_BUTTON;

/// One message of the protocol, in either direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Box → terminal: who the box is. `session` is chosen by the box at power-on, so that
    /// its press numbers, which start again after a restart, are told apart.
    Hello {
        box_id: String,
        firmware: String,
        session: u32,
    },
    /// Box → terminal: button `button` (1-9) was pressed; `seq` counts the box's presses
    /// within its session and is the same when the box sends the press again.
    Press { button: u8, seq: u32 },
    /// Terminal → box: please say hello.
    Who,
    /// Terminal → box: press `seq` of session `session` is stored durably; `counted` is
    /// false for a press stored as suppressed by the misuse filter (no confirmation light).
    Ack {
        session: u32,
        seq: u32,
        counted: bool,
    },
    /// Terminal → box: press `seq` of session `session` could not be stored (out of
    /// service); do not send it again.
    Nak { session: u32, seq: u32 },
    /// Terminal → box: set a button's light, or every light.
    Led { target: LedTarget, state: LedState },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedTarget {
    All,
    Button(u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedState {
    On,
    Off,
    Blink,
}

/// Why bytes were dropped; for counters and the log, never an error for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Bytes outside any frame.
    Noise,
    /// A frame longer than [`MAX_FRAME`].
    TooLong,
    /// A frame without a valid `*XX` checksum, or with the wrong one.
    Checksum,
    /// A frame with a good checksum that is not a message we know, or has bad fields.
    Unknown,
}

/// Something the parser found in the byte stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Message(Message),
    Dropped(Dropped),
}

impl Message {
    /// The frame for this message, `\n` included.
    pub fn encode(&self) -> Vec<u8> {
        let body = self.body();
        format!("${body}*{:02X}\n", CRC8.checksum(body.as_bytes())).into_bytes()
    }

    fn body(&self) -> String {
        match self {
            Message::Hello {
                box_id,
                firmware,
                session,
            } => format!("HELLO,{box_id},{firmware},{session:X}"),
            Message::Press { button, seq } => format!("PRESS,{button},{seq}"),
            Message::Who => "WHO".to_owned(),
            Message::Ack {
                session,
                seq,
                counted,
            } => {
                let kind = if *counted { "COUNTED" } else { "SUPPRESSED" };
                format!("ACK,{session:X},{seq},{kind}")
            }
            Message::Nak { session, seq } => format!("NAK,{session:X},{seq}"),
            Message::Led { target, state } => {
                let target = match target {
                    LedTarget::All => "ALL".to_owned(),
                    LedTarget::Button(b) => b.to_string(),
                };
                let state = match state {
                    LedState::On => "ON",
                    LedState::Off => "OFF",
                    LedState::Blink => "BLINK",
                };
                format!("LED,{target},{state}")
            }
        }
    }

    /// Reads a frame body whose checksum was good. Only the canonical spelling of each
    /// field is accepted (no signs, no leading zeros, upper-case hex), so that every
    /// message has exactly one frame.
    fn decode(body: &[u8]) -> Option<Message> {
        let body = std::str::from_utf8(body).ok()?;
        let fields: Vec<&str> = body.split(',').collect();
        Some(match fields.as_slice() {
            ["HELLO", box_id, firmware, session] => Message::Hello {
                box_id: is_box_id(box_id).then(|| (*box_id).to_owned())?,
                firmware: is_firmware(firmware).then(|| (*firmware).to_owned())?,
                session: hex_u32(session)?,
            },
            ["PRESS", button, seq] => Message::Press {
                button: button_number(button)?,
                seq: decimal_u32(seq)?,
            },
            ["WHO"] => Message::Who,
            ["ACK", session, seq, kind] => Message::Ack {
                session: hex_u32(session)?,
                seq: decimal_u32(seq)?,
                counted: match *kind {
                    "COUNTED" => true,
                    "SUPPRESSED" => false,
                    _ => return None,
                },
            },
            ["NAK", session, seq] => Message::Nak {
                session: hex_u32(session)?,
                seq: decimal_u32(seq)?,
            },
            ["LED", target, state] => Message::Led {
                target: match *target {
                    "ALL" => LedTarget::All,
                    b => LedTarget::Button(button_number(b)?),
                },
                state: match *state {
                    "ON" => LedState::On,
                    "OFF" => LedState::Off,
                    "BLINK" => LedState::Blink,
                    _ => return None,
                },
            },
            _ => return None,
        })
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body())
    }
}

/// Whether `s` may be a box id: 1 to 32 letters, digits, '-', '_' or '.'.
pub fn is_box_id(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    (1..=32).contains(&s.len()) && s.chars().all(ok)
}

fn is_firmware(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_graphic() && !matches!(c, ',' | '$' | '*');
    (1..=16).contains(&s.len()) && s.chars().all(ok)
}

fn button_number(s: &str) -> Option<u8> {
    match s.as_bytes() {
        [d @ b'1'..=b'9'] => Some(d - b'0'),
        _ => None,
    }
}

fn decimal_u32(s: &str) -> Option<u32> {
    let canonical = s == "0" || (!s.starts_with('0') && (1..=10).contains(&s.len()));
    if !canonical || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn hex_u32(s: &str) -> Option<u32> {
    let canonical = s == "0" || (!s.starts_with('0') && (1..=8).contains(&s.len()));
    let upper_hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
    if !canonical || !s.bytes().all(upper_hex) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// Splits a byte stream into frames. Feed it whatever a read returned; it keeps a partial
/// frame (at most [`MAX_FRAME`] bytes) until the rest arrives.
#[derive(Default)]
pub struct Parser {
    frame: Vec<u8>,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside a frame: skipping to the next `$`; `noise` once a stray byte was reported.
    Hunting { noise: bool },
    /// Inside a frame, `frame` holds it from the `$`.
    InFrame,
    /// In a frame that grew too long: skipping to its end.
    Overlong,
}

impl Default for State {
    fn default() -> State {
        State::Hunting { noise: false }
    }
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Takes the next bytes and calls `event` for each frame or dropped run they complete.
    pub fn feed(&mut self, bytes: &[u8], mut event: impl FnMut(Event)) {
        for &b in bytes {
            if let Some(e) = self.byte(b) {
                event(e);
            }
        }
    }

    /// Collects the events of [`Parser::feed`].
    pub fn feed_all(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut events = vec![];
        self.feed(bytes, |e| events.push(e));
        events
    }

    fn byte(&mut self, b: u8) -> Option<Event> {
        match (self.state, b) {
            // A start always begins a new frame: a half frame before it was cut off.
            (state, b'$') => {
                self.frame.clear();
                self.frame.push(b);
                self.state = State::InFrame;
                (state == State::InFrame).then_some(Event::Dropped(Dropped::Noise))
            }
            (State::Hunting { .. }, b'\n' | b'\r') => None,
            // A run of noise is reported once, at its first byte.
            (State::Hunting { noise }, _) => {
                self.state = State::Hunting { noise: true };
                (!noise).then_some(Event::Dropped(Dropped::Noise))
            }
            (State::InFrame, b'\n') => {
                self.state = State::Hunting { noise: false };
                let event = Event::from(check(&self.frame));
                self.frame.clear();
                Some(event)
            }
            (State::InFrame, _) if self.frame.len() + 1 >= MAX_FRAME => {
                self.frame.clear();
                self.state = State::Overlong;
                Some(Event::Dropped(Dropped::TooLong))
            }
            (State::InFrame, _) => {
                self.frame.push(b);
                None
            }
            (State::Overlong, b'\n') => {
                self.state = State::Hunting { noise: false };
                None
            }
            (State::Overlong, _) => None,
        }
    }
}

impl From<Result<Message, Dropped>> for Event {
    fn from(r: Result<Message, Dropped>) -> Event {
        match r {
            Ok(m) => Event::Message(m),
            Err(d) => Event::Dropped(d),
        }
    }
}

/// Checks a whole frame from `$` up to (not including) `\n`.
fn check(frame: &[u8]) -> Result<Message, Dropped> {
    let frame = frame.strip_suffix(b"\r").unwrap_or(frame);
    let inner = frame.strip_prefix(b"$").ok_or(Dropped::Noise)?;
    let star = inner.len().checked_sub(3).ok_or(Dropped::Checksum)?;
    let (body, sum) = inner.split_at(star);
    let printable = |b: &u8| (0x20..0x7f).contains(b) && !matches!(b, b'$' | b'*');
    if sum[0] != b'*' || !body.iter().all(printable) {
        return Err(Dropped::Checksum);
    }
    let sum = std::str::from_utf8(&sum[1..])
        .ok()
        .and_then(hex_byte)
        .ok_or(Dropped::Checksum)?;
    if sum != CRC8.checksum(body) {
        return Err(Dropped::Checksum);
    }
    Message::decode(body).ok_or(Dropped::Unknown)
}

fn hex_byte(s: &str) -> Option<u8> {
    let upper_hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
    (s.len() == 2 && s.bytes().all(upper_hex))
        .then(|| u8::from_str_radix(s, 16).ok())
        .flatten()
}

#[cfg(test)]
mod tests;
