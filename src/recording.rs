//! What the screen flow asks of the answer store and what the store replies: the messages
//! between the two, kept below both, so that the flow stays pure and the store knows
//! nothing of screens.

use crate::survey::Answer;

/// What the flow asks of the store.
#[derive(Debug)]
pub enum Request {
    Record(Answer),
    CloseFollowUp {
        id: uuid::Uuid,
        reason: Option<String>,
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
            Request::CloseFollowUp { id, .. } => Reply::FollowUpClosed {
                id,
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
    /// `id`, `seq` and `suppressed` are those of the first.
    pub resent: bool,
    /// Stored as suppressed by the misuse filter (not counted).
    pub suppressed: bool,
}

/// What the store answers, in the order the requests came; `E` is why a request failed.
#[derive(Debug)]
pub enum Reply<E> {
    /// The store opened at start-up (or could not).
    Opened(Result<(), E>),
    Recorded {
        answer: Answer,
        result: Result<Recorded, E>,
    },
    FollowUpClosed {
        id: uuid::Uuid,
        result: Result<(), E>,
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
            Reply::Opened(r) | Reply::Probed(r) | Reply::FollowUpClosed { result: r, .. } => {
                r.as_ref().err()
            }
            Reply::Recorded { result, .. } => result.as_ref().err(),
        }
    }
}
