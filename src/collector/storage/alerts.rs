//! What storage keeps to close the loop: alerts as lists and notifications show them, which
//! actions to list, and the outbox's deliveries (each with a stable id, sent until a
//! receiver takes it).

use serde::Serialize;

use crate::collector::alert::decide::{Figures, State};
use crate::collector::alert::rule::Condition;

/// An alert with its rule, as the list, the dashboard and notifications show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertView {
    pub id: i64,
    pub rule: String,
    #[serde(flatten)]
    pub condition: Condition,
    pub site: String,
    pub touchpoint: String,
    pub device: Option<String>,
    pub state: State,
    pub since_ms: i64,
    pub fired_at_ms: Option<i64>,
    pub resolved_at_ms: Option<i64>,
    pub acknowledged: Option<Acknowledgement>,
    pub figures: Figures,
}

/// Who acknowledged an alert, when, and what they said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Acknowledgement {
    pub by: String,
    pub at_ms: i64,
    pub comment: String,
}

/// Which alerts a list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only pending, firing and acknowledged ones.
    pub open_only: bool,
    /// Only alerts of these sites (a viewer's); `None` for every site.
    pub sites: Option<Vec<String>>,
    /// The newest this many.
    pub limit: usize,
}

/// Which actions a list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionFilter {
    /// Only this site's (with its touchpoints').
    pub site: Option<String>,
    /// Only this touchpoint's, and its site's as a whole.
    pub touchpoint: Option<String>,
    /// Only these sites' (a viewer's); `None` for every site.
    pub sites: Option<Vec<String>>,
    /// The newest this many.
    pub limit: usize,
}

/// A notification waiting in the outbox for one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Stays the same across retries: receivers drop repeats by it.
    pub id: String,
    pub channel: String,
    pub event: String,
    /// The notification as JSON.
    pub body: String,
    pub attempts: u32,
    pub created_at_ms: i64,
}

/// What came of trying a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Sent {
        at_ms: i64,
    },
    /// Tried again at `retry_at_ms`, or given up when `None`.
    Failed {
        at_ms: i64,
        error: String,
        retry_at_ms: Option<i64>,
    },
}

/// The deliveries of a channel that are due, and when the next one after them is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Due {
    pub ready: Vec<Delivery>,
    pub next_at_ms: Option<i64>,
}
