//! The terminal's screen flow as a pure state machine: taps, button presses, store replies
//! and timer expiries go in; the screen to show and the effects to carry out (store
//! requests, timers, language, refusing a press) come out. No window, clock or disk here,
//! so every rule is testable on its own.

mod listen;

use std::time::Duration;

use listen::Armed;
pub use listen::CONFIRM_WITHIN;

use crate::clock::Reading;
use crate::config::Timings;
use crate::recording::{Reply, Request};
use crate::survey::{Answer, ButtonPress, InputSource, Survey};

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

/// How the screens look for the visitor in front of the terminal: each one touch away, and
/// back to normal for the next visitor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Look {
    pub high_contrast: bool,
    pub large_text: bool,
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

    /// A button box reported a press meaning `score`. The buttons are always there, so a
    /// press on the thank-you screen is the next visitor's, and one during a follow-up
    /// question ends that question without a reason (the score before it is stored). The
    /// misuse filter applies as to taps. Every press is stored or refused, so that the box
    /// hears back about each.
    pub fn press(&mut self, score: u8, press: ButtonPress, time: Reading) -> Vec<Effect> {
        if self.screen == Screen::OutOfService || !self.survey.scale.contains(score) {
            return vec![Effect::Refuse(press)];
        }
        let mut fx = vec![];
        match self.screen {
            Screen::Thanks => {
                fx.push(Effect::StopTimer(TimerKind::Thanks));
                fx.extend(self.back_to_question());
            }
            Screen::FollowUp if self.awaiting.is_none() => {
                fx.push(Effect::StopTimer(TimerKind::FollowUp));
                if let Some(id) = self.follow_up.take() {
                    fx.push(Effect::Store(Request::CloseFollowUp { id, reason: None }));
                }
                fx.extend(self.back_to_question());
            }
            _ => {}
        }
        fx.extend(self.answer(score, InputSource::Button(press), time));
        fx
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
        self.close_follow_up(Some(id.to_owned()))
    }

    /// The visitor skipped the follow-up question.
    pub fn skip(&mut self) -> Vec<Effect> {
        if !self.asking_why() {
            return vec![];
        }
        if let Some(spoken) = self.first_touch(Armed::Skip) {
            return spoken;
        }
        self.close_follow_up(None)
    }

    /// Whether the follow-up question waits for a reason.
    fn asking_why(&self) -> bool {
        self.screen == Screen::FollowUp && self.follow_up.is_some() && self.awaiting.is_none()
    }

    fn close_follow_up(&mut self, reason: Option<String>) -> Vec<Effect> {
        match (self.screen, self.follow_up, self.awaiting) {
            (Screen::FollowUp, Some(id), None) => {
                self.awaiting = Some(Awaiting::Reason(id));
                vec![
                    Effect::StopTimer(TimerKind::FollowUp),
                    Effect::StartTimer(TimerKind::Saving, SAVING_AFTER),
                    Effect::Store(Request::CloseFollowUp { id, reason }),
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

    /// The visitor opened the list of languages (a survey with more than fit in a row). It
    /// closes by itself when nobody chooses, like a language left behind.
    pub fn open_languages(&mut self) -> Vec<Effect> {
        if self.screen != Screen::Question || self.survey.languages.len() < 2 {
            return vec![];
        }
        self.choosing_language = true;
        vec![Effect::StartTimer(TimerKind::Idle, self.timings.idle_reset)]
    }

    /// The visitor switched high contrast on or off.
    pub fn toggle_contrast(&mut self) -> Vec<Effect> {
        self.change_look(|l| l.high_contrast = !l.high_contrast)
    }

    /// The visitor switched larger text on or off.
    pub fn toggle_large_text(&mut self) -> Vec<Effect> {
        self.change_look(|l| l.large_text = !l.large_text)
    }

    /// A change of look, on the question only; it goes back to normal with the next visitor
    /// (after the answer, or when nobody answers).
    fn change_look(&mut self, change: impl FnOnce(&mut Look)) -> Vec<Effect> {
        if self.screen != Screen::Question {
            return vec![];
        }
        change(&mut self.look);
        vec![Effect::StartTimer(TimerKind::Idle, self.timings.idle_reset)]
    }

    /// The visitor closed the list of languages without choosing.
    pub fn close_languages(&mut self) -> Vec<Effect> {
        self.choosing_language = false;
        vec![]
    }

    /// The visitor picked a language.
    pub fn choose_language(&mut self, language: &str) -> Vec<Effect> {
        let on_question = matches!(self.screen, Screen::Question | Screen::FollowUp);
        if !on_question || !self.survey.has_language(language) {
            return vec![];
        }
        self.choosing_language = false;
        self.language = language.to_owned();
        let mut fx = vec![
            Effect::Language(self.language.clone()),
            Effect::StartTimer(TimerKind::Idle, self.timings.idle_reset),
        ];
        fx.extend(self.spoken());
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
                    fx.push(Effect::Store(Request::CloseFollowUp { id, reason: None }));
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
        if let Some(e) = reply.error() {
            return self.out_of_service(e.to_string());
        }
        match reply {
            Reply::Recorded { answer, result }
                if self.awaiting == Some(Awaiting::Score(answer.id)) =>
            {
                self.awaiting = None;
                self.saving = false;
                // A press sent again was stored before; its follow-up, if any, is long gone.
                let resent = result.as_ref().is_ok_and(|r| r.resent);
                let mut fx = if answer.follow_up_open && !resent {
                    self.screen = Screen::FollowUp;
                    self.follow_up = Some(answer.id);
                    let mut fx = vec![Effect::StartTimer(
                        TimerKind::FollowUp,
                        self.timings.follow_up,
                    )];
                    fx.extend(self.spoken());
                    fx
                } else {
                    self.thank()
                };
                fx.push(Effect::StopTimer(TimerKind::Saving));
                fx
            }
            Reply::FollowUpClosed { id, .. } if self.awaiting == Some(Awaiting::Reason(*id)) => {
                self.awaiting = None;
                self.saving = false;
                self.follow_up = None;
                let mut fx = self.thank();
                fx.push(Effect::StopTimer(TimerKind::Saving));
                fx
            }
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
