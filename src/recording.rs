//! What the screen flow asks of the answer store and what the store replies: the messages
//! between the two, kept below both, so that the flow stays pure and the store knows
//! nothing of screens.

use std::time::Duration;

use crate::survey::{Answer, ButtonPress};

/// What the flow asks of the store.
#[derive(Debug)]
pub enum Request {
    Record(Answer),
    /// End an answer's follow-up with the reason chosen (or none). On a terminal whose
    /// reasons are chosen with the box's buttons, `press` is the press that chose it: stored
    /// beside the reason, so that the box sending it again changes nothing.
    CloseFollowUp {
        id: uuid::Uuid,
        reason: Option<String>,
        press: Option<ButtonPress>,
    },
    /// Check that the store takes a durable write (after a failure).
    Probe,
}

impl Request {
    /// The reply to this request when it could not be carried out at all (the store thread
    /// is gone): `error` for its result.
    pub fn failed<E>(self, error: E) -> Reply<E> {
        match self {
            Request::Record(answer) => Reply::Recorded {
                answer,
                result: Err(error),
            },
            Request::CloseFollowUp { id, press, .. } => Reply::FollowUpClosed {
                id,
                press,
                result: Err(error),
            },
            Request::Probe => Reply::Probed(Err(error)),
        }
    }
}

/// What the store assigned to a recorded answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub id: uuid::Uuid,
    pub seq: i64,
    /// A button press stored before (the box sent it again): nothing new was written, and
    /// `id`, `seq` and `suppressed` are those of the first (for a press that chose a
    /// reason, those of its answer).
    pub resent: bool,
    /// For a resent press: the first's follow-up is still open (a restart came between the
    /// press and its acknowledgement), so the follow-up question is asked again.
    pub follow_up_open: bool,
    /// Stored as suppressed by the misuse filter (not counted).
    pub suppressed: bool,
}

/// What became of a request to close a follow-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// Closed now, with the request's reason.
    Now,
    /// It was closed before (its time ran out): nothing changed.
    Before,
    /// The press is one stored before as a score (the box sent it again): nothing changed,
    /// and the follow-up stays open. `suppressed` is how that score was stored.
    ScorePress { suppressed: bool },
    /// The press chose this follow-up's reason before (the box sent it again).
    ReasonPress,
}

/// An answer whose follow-up a restart left open, found when the store opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFollowUp {
    pub id: uuid::Uuid,
    /// The language the visitor answered in.
    pub language: String,
    /// How long ago the answer was given, by the boot's clock; `None` when it was given
    /// before the last boot (the visitor is long gone).
    pub age: Option<Duration>,
}

/// What the store answers, in the order the requests came; `E` is why a request failed.
#[derive(Debug)]
pub enum Reply<E> {
    /// The store opened at start-up (or could not), with the last answer's follow-up if a
    /// restart left it open (every older one is closed).
    Opened(Result<Option<OpenFollowUp>, E>),
    Recorded {
        answer: Answer,
        result: Result<Recorded, E>,
    },
    FollowUpClosed {
        id: uuid::Uuid,
        press: Option<ButtonPress>,
        result: Result<Closed, E>,
    },
    Probed(Result<(), E>),
}

impl<E> Reply<E> {
    /// Whether the uploader should look at the queue now: the store opened, or wrote an
    /// answer or its follow-up reason (a probe changes no answer).
    pub fn worth_uploading(&self) -> bool {
        self.error().is_none() && !matches!(self, Reply::Probed(_))
    }

    pub fn error(&self) -> Option<&E> {
        match self {
            Reply::Probed(r) => r.as_ref().err(),
            Reply::Opened(r) => r.as_ref().err(),
            Reply::FollowUpClosed { result, .. } => result.as_ref().err(),
            Reply::Recorded { result, .. } => result.as_ref().err(),
        }
    }
}
