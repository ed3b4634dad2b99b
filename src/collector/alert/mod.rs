//! Closing the loop: alert rules watch the live counts and the terminals' reports, alerts
//! move through their life, and notifications go out through a durable outbox.
//!
//! - `hours`: sites' time zones and opening hours. `rule`: what a rule watches.
//! - `decide`: an alert's life (pure). `message`: what a notification says.
//! - `settings`: the `[alerts]` config (channels, how often rules are evaluated).
//! - `webhook`: bodies for plain receivers, Slack and Teams, and the HMAC signature.
//! - `email`: one plain-text message per notification, over SMTP with STARTTLS.
//! - `sender`: the evaluation task and one delivery task per channel.
//! - `watch`: what a round sees, read once by the storage: where each rule's condition holds.

pub mod decide;
pub mod email;
pub mod hours;
pub mod message;
pub mod rule;
pub mod sender;
pub mod settings;
pub mod summary;
pub mod watch;
pub mod webhook;
