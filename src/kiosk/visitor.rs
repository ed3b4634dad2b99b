//! What each visitor may change for themselves, on the question: the language (from the
//! list of languages too) and the look (high contrast, larger text). Both are back to the
//! survey's first language and the normal look for the next visitor.

use super::{Effect, Kiosk, Screen, TimerKind};

/// How the screens look for the visitor in front of the terminal: each one touch away, and
/// back to normal for the next visitor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Look {
    pub high_contrast: bool,
    pub large_text: bool,
}

impl Kiosk {
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
}
