//! The flow with speech on, for a visitor who cannot read the screen: what is said on each
//! screen, and the rule that a first touch of an answer only says it and a second touch
//! within a few seconds chooses it, so that nobody answers by accident.

use std::time::Duration;

use super::{Effect, Kiosk, Screen, TimerKind};
use crate::survey::Scale;
use crate::wording::{self, Wording};

/// How long after its first touch a second one chooses an answer.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(5);

/// On a button terminal, what is said about its buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SpokenButtons {
    /// Each scored button and its score.
    scores: Vec<(u8, u8)>,
    /// The button that turns speech on.
    listen: Option<u8>,
}

/// An answer touched once with speech on, waiting for its second touch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Armed {
    Score(u8),
    Reason(String),
    Skip,
}

impl Kiosk {
    /// A flow on a button terminal: what is said aloud names the buttons (`scores`: each
    /// button and its score) instead of touches, and the idle announcement the `listen`
    /// button. With speech on, a press counts at once: buttons are found by touch.
    pub fn spoken_buttons(mut self, scores: Vec<(u8, u8)>, listen: Option<u8>) -> Kiosk {
        self.spoken_buttons = Some(SpokenButtons { scores, listen });
        self
    }

    /// Whether the screens are read aloud for this visitor.
    pub fn listening(&self) -> bool {
        self.listening
    }

    /// The visitor asked for speech (the Listen control, a long press, a box's button):
    /// the screen is read aloud, and again at each further ask.
    pub fn listen(&mut self) -> Vec<Effect> {
        if !matches!(self.screen, Screen::Question | Screen::FollowUp) {
            return vec![];
        }
        self.listening = true;
        self.armed = None;
        let mut fx = vec![self.say(self.screen_lines())];
        fx.push(self.keep_waiting());
        fx
    }

    /// With speech on, a first touch of `what` only says it: the effects that do, or
    /// `None` when the touch counts (speech off, or the second touch of the same answer).
    pub(super) fn first_touch(&mut self, what: Armed) -> Option<Vec<Effect>> {
        if !self.listening {
            return None;
        }
        if self.armed.as_ref() == Some(&what) {
            self.armed = None;
            return None;
        }
        let line = self.line_of(&what);
        self.armed = Some(what);
        Some(vec![
            self.say(vec![line]),
            Effect::StartTimer(TimerKind::Confirm, CONFIRM_WITHIN),
            self.keep_waiting(),
        ])
    }

    /// An idle terminal says, `every` so often, how to turn speech on: for a visitor who
    /// cannot see that it can speak. Returns the timer to start.
    pub fn announce_every(&mut self, every: Option<Duration>) -> Vec<Effect> {
        self.announce = every;
        every
            .map(|every| Effect::StartTimer(TimerKind::Announce, every))
            .into_iter()
            .collect()
    }

    /// Time for the announcement: said only while nobody uses the terminal.
    pub(super) fn announced(&mut self) -> Vec<Effect> {
        let Some(every) = self.announce else {
            return vec![];
        };
        let mut fx = vec![Effect::StartTimer(TimerKind::Announce, every)];
        let how = match &self.spoken_buttons {
            None => Some(self.words().how_to_listen.to_owned()),
            Some(b) => b.listen.map(|button| {
                (self.words().how_to_listen_button).replace("{button}", &button.to_string())
            }),
        };
        if let Some(how) = how.filter(|_| self.is_idle()) {
            fx.push(self.say(vec![how]));
        }
        fx
    }

    /// A second touch came too late: the next one only says the answer again.
    pub(super) fn confirm_expired(&mut self) {
        self.armed = None;
    }

    /// What the screen says now, if speech is on.
    pub(super) fn spoken(&self) -> Option<Effect> {
        self.listening.then(|| self.say(self.screen_lines()))
    }

    /// Speech ends with the visitor.
    pub(super) fn stop_listening(&mut self) -> Option<Effect> {
        self.armed = None;
        std::mem::take(&mut self.listening).then_some(Effect::Hush)
    }

    fn say(&self, lines: Vec<String>) -> Effect {
        Effect::Say {
            language: self.language.clone(),
            lines,
        }
    }

    /// Someone listening is still there: the screen waits its full time again.
    fn keep_waiting(&self) -> Effect {
        match self.screen {
            Screen::FollowUp => Effect::StartTimer(TimerKind::FollowUp, self.timings.follow_up),
            _ => Effect::StartTimer(TimerKind::Idle, self.timings.idle_reset),
        }
    }

    fn words(&self) -> &'static Wording {
        wording::of(&self.language)
    }

    fn screen_lines(&self) -> Vec<String> {
        let w = self.words();
        match self.screen {
            Screen::Question => {
                let scale = self.survey.scale;
                let (low_end, high_end) = ends(w, scale);
                let ends = w
                    .scale_ends
                    .replace("{low_end}", low_end)
                    .replace("{high_end}", high_end)
                    .replace("{low}", "1")
                    .replace("{high}", &scale.max().to_string());
                let mut lines = vec![self.survey.question_text(&self.language).to_owned(), ends];
                match &self.spoken_buttons {
                    None => lines.push(w.how_to_answer.to_owned()),
                    Some(b) => lines.extend((b.scores.iter()).map(|&(button, score)| {
                        button_is(w, button, &self.line_of(&Armed::Score(score)))
                    })),
                }
                lines
            }
            Screen::FollowUp => {
                let mut lines = vec![w.what_made_it_hard.to_owned()];
                let reasons = self
                    .survey
                    .follow_up
                    .iter()
                    .map(|r| self.reason_text(&r.id));
                if self.spoken_buttons.is_some() {
                    // Button N chooses the Nth reason.
                    lines.extend((1..).zip(reasons).map(|(n, r)| button_is(w, n, &r)));
                    lines.push(w.press_a_reason.to_owned());
                } else {
                    lines.extend(reasons);
                    lines.push(w.or_skip.to_owned());
                }
                lines
            }
            Screen::Thanks => vec![w.thanks.to_owned(), w.saved.to_owned()],
            Screen::OutOfService => vec![w.out_of_service.to_owned(), w.tell_staff.to_owned()],
        }
    }

    fn line_of(&self, what: &Armed) -> String {
        let w = self.words();
        match what {
            Armed::Score(score) => {
                let scale = self.survey.scale;
                let (low_end, high_end) = ends(w, scale);
                match *score {
                    1 => format!("1. {low_end}"),
                    s if s == scale.max() => format!("{s}. {high_end}"),
                    s => s.to_string(),
                }
            }
            Armed::Reason(id) => self.reason_text(id),
            Armed::Skip => w.skip.to_owned(),
        }
    }

    fn reason_text(&self, id: &str) -> String {
        self.survey
            .reason(id)
            .map_or(id, |r| r.text_in(&self.language))
            .to_owned()
    }
}

/// "Button 2: Long wait."
fn button_is(w: &Wording, button: u8, what: &str) -> String {
    w.button_is
        .replace("{button}", &button.to_string())
        .replace("{what}", what.trim_end_matches('.'))
}

/// The words for a scale's two ends: agree and disagree on the CES 2.0 scale, difficult
/// and easy on the others (faces included).
fn ends(w: &Wording, scale: Scale) -> (&'static str, &'static str) {
    match scale {
        Scale::Ces7 => w.agree,
        Scale::Ces5 | Scale::Smiley3 | Scale::Smiley5 => w.ease,
    }
}
