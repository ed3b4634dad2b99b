//! The terminal's screen flow as a pure state machine: taps, button presses, store replies
//! and timer expiries go in; the screen to show and the effects to carry out (store
//! requests, timers, language, refusing a press) come out. No window, clock or disk here,
//! so every rule is testable on its own.

mod listen;
mod presses;
mod visitor;

use std::time::Duration;

pub use listen::CONFIRM_WITHIN;
use listen::{Armed, SpokenButtons};
pub use visitor::Look;

use crate::clock::Reading;
use crate::config::Timings;
use crate::recording::{Closed, Reply, Request};
use crate::survey::{Answer, ButtonPress, InputSource, Survey};
use presses::close_without_reason;

/// What the visitor sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Question,
    FollowUp,
    Thanks,
    OutOfService,
}

/// The timers the flow uses; each runs once when started and restarts when started again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// How long the thank-you stays.
    Thanks,
    /// How long the follow-up question waits for a reason.
    FollowUp,
    /// Back to the default language after a visitor switched and walked away.
    Idle,
    /// Misuse protection: taps before it runs out are stored as suppressed.
    Cooldown,
    /// Retry a durable write while out of service.
    Probe,
    /// A commit slower than this shows "Saving…" (a slow storage card).
    Saving,
    /// With speech on: a second touch of an answer within this chooses it.
    Confirm,
    /// While idle, now and then: how to turn speech on (if configured).
    Announce,
}

/// Something the flow needs done by the world around it.
#[derive(Debug)]
pub enum Effect {
    Store(Request),
    StartTimer(TimerKind, Duration),
    StopTimer(TimerKind),
    /// Show the screen texts in this language.
    Language(String),
    /// Tell the button box this press was not stored (the terminal is out of service).
    Refuse(ButtonPress),
    /// Say these lines aloud in this language, instead of anything still being said.
    Say {
        language: String,
        lines: Vec<String>,
    },
    /// Stop speaking.
    Hush,
}

/// A commit slower than this shows "Saving…" instead of nothing.
pub const SAVING_AFTER: Duration = Duration::from_millis(500);

/// How often an out-of-service terminal tries a durable write again.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(15);

/// The state of one terminal's screen.
pub struct Kiosk {
    survey: Survey,
    timings: Timings,
    screen: Screen,
    language: String,
    cooldown: bool,
    /// The counted answer whose commit decides the next screen.
    awaiting: Option<Awaiting>,
    /// The answer whose follow-up question is on screen.
    follow_up: Option<uuid::Uuid>,
    problem: Option<String>,
    /// The awaited commit has taken longer than [`SAVING_AFTER`].
    saving: bool,
    /// The list of languages is open over the question.
    choosing_language: bool,
    look: Look,
    /// The screens are read aloud for this visitor.
    listening: bool,
    /// With speech on, the answer touched once and waiting for its second touch.
    armed: Option<Armed>,
    /// How often an idle terminal says how to turn speech on; `None` for never.
    announce: Option<Duration>,
    /// The follow-up's reasons are chosen with the box's buttons (a terminal without a
    /// touch screen): button N picks the Nth reason.
    reasons_by_button: bool,
    /// On a button terminal: what its buttons choose, and which one turns speech on, for
    /// what is said aloud.
    spoken_buttons: Option<SpokenButtons>,
    /// A follow-up a restart left open, found while a press was on its way to the store:
    /// asked again if that press was its own (sent again by the box), closed otherwise.
    left_open: Option<uuid::Uuid>,
    /// With reasons chosen by button: presses that came while a commit was awaited, taken
    /// in order once it returned (whether a press is a score or a reason depends on it).
    deferred: std::collections::VecDeque<(u8, ButtonPress, Reading)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Awaiting {
    Score(uuid::Uuid),
    Reason(uuid::Uuid),
}

impl Kiosk {
    pub fn new(survey: Survey, timings: Timings) -> Kiosk {
        Kiosk {
            language: survey.default_language().to_owned(),
            survey,
            timings,
            screen: Screen::Question,
            cooldown: false,
            awaiting: None,
            follow_up: None,
            problem: None,
            saving: false,
            choosing_language: false,
            look: Look::default(),
            listening: false,
            armed: None,
            announce: None,
            reasons_by_button: false,
            spoken_buttons: None,
            left_open: None,
            deferred: Default::default(),
        }
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }

    pub fn language(&self) -> &str {
        &self.language
    }

    pub fn survey(&self) -> &Survey {
        &self.survey
    }

    /// Whether nobody is using the terminal: the question in its first language, no answer
    /// waiting for its commit. A new survey config is switched to only then.
    pub fn is_idle(&self) -> bool {
        self.screen == Screen::Question
            && self.awaiting.is_none()
            && self.language == self.survey.default_language()
            && !self.choosing_language
            && self.look == Look::default()
            && !self.listening
    }

    /// Switches to another survey and timings if the terminal is idle; `false` (nothing
    /// changed) otherwise.
    pub fn replace_survey(&mut self, survey: Survey, timings: Timings) -> bool {
        if !self.is_idle() {
            return false;
        }
        self.language = survey.default_language().to_owned();
        self.survey = survey;
        self.timings = timings;
        true
    }

    /// Whether the screen says "Saving…": the visitor's answer is waiting for a slow commit.
    pub fn saving(&self) -> bool {
        self.saving
    }

    /// How the screens look for this visitor.
    pub fn look(&self) -> Look {
        self.look
    }

    /// Whether the list of languages is open over the question.
    pub fn choosing_language(&self) -> bool {
        self.choosing_language
    }

    /// Why the terminal is out of service, for staff.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// A score was tapped at `time`. Within the misuse cooldown it is stored as suppressed and
    /// changes nothing on screen; otherwise it is stored and the next screen waits for the commit.
    pub fn tap(&mut self, score: u8, time: Reading) -> Vec<Effect> {
        if self.screen != Screen::Question || !self.survey.scale.contains(score) {
            return vec![];
        }
        if let Some(spoken) = self.first_touch(Armed::Score(score)) {
            return spoken;
        }
        self.answer(score, InputSource::Touch, time)
    }

    fn answer(&mut self, score: u8, input: InputSource, time: Reading) -> Vec<Effect> {
        let suppressed = self.cooldown || self.awaiting.is_some();
        let answer = Answer::new(&self.survey, &self.language, score, suppressed, input, time);
        let mut fx = vec![];
        if !suppressed {
            self.awaiting = Some(Awaiting::Score(answer.id));
            fx.push(Effect::StopTimer(TimerKind::Idle));
            fx.push(Effect::StartTimer(TimerKind::Saving, SAVING_AFTER));
            if !self.timings.misuse_cooldown.is_zero() {
                self.cooldown = true;
                fx.push(Effect::StartTimer(
                    TimerKind::Cooldown,
                    self.timings.misuse_cooldown,
                ));
            }
        }
        fx.push(Effect::Store(Request::Record(answer)));
        fx
    }

    /// The visitor chose a follow-up reason.
    pub fn reason(&mut self, id: &str) -> Vec<Effect> {
        if self.survey.reason(id).is_none() || !self.asking_why() {
            return vec![];
        }
        if let Some(spoken) = self.first_touch(Armed::Reason(id.to_owned())) {
            return spoken;
        }
        self.close_follow_up(Some(id.to_owned()), None)
    }

    /// The visitor skipped the follow-up question.
    pub fn skip(&mut self) -> Vec<Effect> {
        if !self.asking_why() {
            return vec![];
        }
        if let Some(spoken) = self.first_touch(Armed::Skip) {
            return spoken;
        }
        self.close_follow_up(None, None)
    }

    /// Whether the follow-up question waits for a reason.
    fn asking_why(&self) -> bool {
        self.screen == Screen::FollowUp && self.follow_up.is_some() && self.awaiting.is_none()
    }

    /// Ends the follow-up with `reason` (and the box's `press` that chose it), once stored.
    pub(super) fn close_follow_up(
        &mut self,
        reason: Option<String>,
        press: Option<ButtonPress>,
    ) -> Vec<Effect> {
        match (self.screen, self.follow_up, self.awaiting) {
            (Screen::FollowUp, Some(id), None) => {
                self.awaiting = Some(Awaiting::Reason(id));
                vec![
                    Effect::StopTimer(TimerKind::FollowUp),
                    Effect::StartTimer(TimerKind::Saving, SAVING_AFTER),
                    Effect::Store(Request::CloseFollowUp { id, reason, press }),
                ]
            }
            _ => vec![],
        }
    }

    /// The visitor touched the screen somewhere (not necessarily a control). During the
    /// follow-up question this gives them its full time again: someone still reading the
    /// reasons is not walked away from.
    pub fn touched(&mut self) -> Vec<Effect> {
        if self.screen == Screen::FollowUp && self.awaiting.is_none() {
            vec![Effect::StartTimer(
                TimerKind::FollowUp,
                self.timings.follow_up,
            )]
        } else {
            vec![]
        }
    }

    /// The visitor tapped the thank-you: it ends now rather than after its time.
    pub fn end_thanks(&mut self) -> Vec<Effect> {
        if self.screen != Screen::Thanks {
            return vec![];
        }
        let mut fx = vec![Effect::StopTimer(TimerKind::Thanks)];
        fx.extend(self.back_to_question());
        fx
    }

    /// A timer started earlier ran out.
    pub fn timer(&mut self, kind: TimerKind) -> Vec<Effect> {
        match kind {
            TimerKind::Cooldown => {
                self.cooldown = false;
                vec![]
            }
            TimerKind::Thanks if self.screen == Screen::Thanks => self.back_to_question(),
            TimerKind::Idle if self.screen == Screen::Question => self.back_to_question(),
            TimerKind::FollowUp if self.screen == Screen::FollowUp && self.awaiting.is_none() => {
                // The visitor walked away: the score is already stored, the reason stays empty.
                let id = self.follow_up.take();
                let mut fx = self.back_to_question();
                if let Some(id) = id {
                    fx.push(close_without_reason(id));
                }
                fx
            }
            TimerKind::Probe if self.screen == Screen::OutOfService => {
                vec![Effect::Store(Request::Probe)]
            }
            TimerKind::Saving => {
                self.saving = self.awaiting.is_some();
                vec![]
            }
            TimerKind::Confirm => {
                self.confirm_expired();
                vec![]
            }
            TimerKind::Announce => self.announced(),
            _ => vec![],
        }
    }

    /// The store finished a request.
    pub fn store_replied<E: std::fmt::Display>(&mut self, reply: &Reply<E>) -> Vec<Effect> {
        let mut fx = self.replied(reply);
        while self.awaiting.is_none()
            && let Some((score, press, time)) = self.deferred.pop_front()
        {
            fx.extend(self.press(score, press, time));
        }
        fx
    }

    fn replied<E: std::fmt::Display>(&mut self, reply: &Reply<E>) -> Vec<Effect> {
        if let Some(e) = reply.error() {
            return self.out_of_service(e.to_string());
        }
        match reply {
            Reply::Recorded {
                answer,
                result: Ok(r),
            } if self.awaiting == Some(Awaiting::Score(answer.id)) => {
                self.awaiting = None;
                self.saving = false;
                // A press sent again was stored before; its follow-up is asked again only if
                // it is still open (a restart came between the press and its answer).
                let (open, id) = if r.resent {
                    (r.follow_up_open, r.id)
                } else {
                    (answer.follow_up_open, answer.id)
                };
                let mut fx = vec![];
                if let Some(left) = self.left_open.take().filter(|left| !open || *left != id) {
                    fx.push(close_without_reason(left));
                }
                if open {
                    self.screen = Screen::FollowUp;
                    self.follow_up = Some(id);
                    fx.push(Effect::StartTimer(
                        TimerKind::FollowUp,
                        self.timings.follow_up,
                    ));
                    fx.extend(self.spoken());
                } else {
                    fx.extend(self.thank());
                }
                fx.push(Effect::StopTimer(TimerKind::Saving));
                fx
            }
            Reply::FollowUpClosed { id, result, .. }
                if self.awaiting == Some(Awaiting::Reason(*id)) =>
            {
                self.awaiting = None;
                self.saving = false;
                if let Ok(Closed::ScorePress { .. }) = result {
                    // The box sent the score's press again: the question stays, in full.
                    return vec![
                        Effect::StopTimer(TimerKind::Saving),
                        Effect::StartTimer(TimerKind::FollowUp, self.timings.follow_up),
                    ];
                }
                self.follow_up = None;
                let mut fx = self.thank();
                fx.push(Effect::StopTimer(TimerKind::Saving));
                fx
            }
            Reply::Opened(Ok(Some(open))) => self.resume_follow_up(open),
            Reply::Probed(_) if self.screen == Screen::OutOfService => {
                tracing::info!("answer store works again; back in service");
                self.problem = None;
                self.back_to_question()
            }
            _ => vec![],
        }
    }

    fn thank(&mut self) -> Vec<Effect> {
        self.screen = Screen::Thanks;
        let mut fx = vec![Effect::StartTimer(
            TimerKind::Thanks,
            self.timings.thank_you,
        )];
        fx.extend(self.spoken());
        fx
    }

    fn back_to_question(&mut self) -> Vec<Effect> {
        self.screen = Screen::Question;
        self.choosing_language = false;
        self.look = Look::default();
        let mut fx = vec![Effect::StopTimer(TimerKind::Idle)];
        fx.extend(self.stop_listening());
        if self.language != self.survey.default_language() {
            self.language = self.survey.default_language().to_owned();
            fx.push(Effect::Language(self.language.clone()));
        }
        fx
    }

    fn out_of_service(&mut self, problem: String) -> Vec<Effect> {
        self.screen = Screen::OutOfService;
        self.problem = Some(problem);
        self.awaiting = None;
        self.saving = false;
        self.follow_up = None;
        self.left_open = None;
        self.choosing_language = false;
        let hush = self.stop_listening();
        let mut fx = vec![
            Effect::StopTimer(TimerKind::Saving),
            Effect::StopTimer(TimerKind::Thanks),
            Effect::StopTimer(TimerKind::FollowUp),
            Effect::StopTimer(TimerKind::Idle),
            Effect::StartTimer(TimerKind::Probe, PROBE_INTERVAL),
        ];
        fx.extend(hush);
        fx
    }
}

#[cfg(test)]
mod tests;
