//! ces-kiosk: the software of on-site Customer Effort Score terminals.
//!
//! Layout (see ARCHITECTURE.md for the invariants):
//!
//! - [`survey`]: questions, scales and answers; pure domain types.
//! - [`config`]: the one TOML config file, parsed and validated once.
//! - [`clock`]: wall time, clock trust and boot id as stored with each answer.
//! - [`recording`]: what the screen flow asks of the answer store and what it replies.
//! - [`store`]: the only code that touches SQLite; its own writer thread.
//! - [`kiosk`]: the screen flow as a pure state machine (taps in, effects out).
//! - `ui` (feature `ui`): the only code that touches generated Slint types.
//! - [`buttons`]: USB-serial button boxes: frame format, reader threads, software box.
//! - [`display`]: small displays drawn with embedded-graphics (framebuffer, PNG).
//! - [`button_terminal`]: the event loop of a terminal without a touch screen.
//! - [`credential`]: device credentials, admin tokens and enrolment codes; only hashes are stored.
//! - [`enrolment`]: `ces-kiosk enroll`: code in, credential and survey config saved.
//! - [`sync`]: the uploader task: batches, retry policy, heartbeats, status.
//! - [`wire`]: the only types that cross HTTP (protocol v1).
//! - [`theme`]: the visitor screens' colours, normal and high contrast, and their contrast.
//! - [`wording`]: the terminal's own words per language (small displays, speech).
//! - [`text`]: what free text may hold, and showing stored text safely (terminal, CSV).
//! - [`collector`]: the central service `ces-collector`: routes, auth, storage, reports.
//! - [`demo`]: the built-in demo config, and the demo's collector started beside it.
//! - [`logging`]: the log set-up both binaries share.
//! - [`speech`]: the speech engine's process, on a thread of its own.
//! - [`service`]: systemd readiness and the watchdog.
//! - [`staff`]: the staff PIN: hashed, checked off the UI thread, locked after wrong tries.
//! - [`status`]: `ces-kiosk status`: the terminal as staff see it.
//! - [`doctor`]: `ces-kiosk doctor`: checks and what to fix.

pub mod button_terminal;
pub mod buttons;
pub mod clock;
pub mod collector;
pub mod config;
pub mod credential;
pub mod demo;
pub mod display;
pub mod doctor;
pub mod enrolment;
pub mod kiosk;
pub mod logging;
pub mod logo;
pub mod recording;
pub mod service;
pub mod speech;
pub mod staff;
pub mod status;
pub mod store;
pub mod survey;
pub mod sync;
pub mod text;
pub mod theme;
#[cfg(feature = "ui")]
pub mod ui;
pub mod wire;
pub mod wording;
