//! The flow's button presses: a press as a score, or on a terminal without a touch screen as
//! the follow-up's reason (button N, the Nth reason), presses that wait for a commit to say
//! which, and the follow-up a restart left open.

use super::{Awaiting, Effect, Kiosk, Screen, TimerKind};
use crate::clock::Reading;
use crate::recording::{OpenFollowUp, Request};
use crate::survey::{ButtonPress, InputSource};

/// How many presses wait for a commit at most (a box sends a few a second at most); past
/// that, a press is taken as it comes.
const MAX_DEFERRED: usize = 16;

impl Kiosk {
    /// A flow whose follow-up reasons are chosen with the box's buttons, as a terminal with
    /// a small display and no touch screen asks them: during the follow-up, button N picks
    /// the Nth reason (a button past the last reason: no reason), and no press is a score.
    pub fn reasons_by_button(mut self) -> Kiosk {
        self.reasons_by_button = true;
        self
    }

    /// A button box reported a press meaning `score`. The buttons are always there, so a
    /// press on the thank-you screen is the next visitor's, and one during a follow-up
    /// question ends that question without a reason (the score before it is stored), unless
    /// the reasons are chosen with the buttons. The misuse filter applies as to taps. Every
    /// press is stored or refused, so that the box hears back about each.
    pub fn press(&mut self, score: u8, press: ButtonPress, time: Reading) -> Vec<Effect> {
        if self.screen == Screen::OutOfService || !self.survey.scale.contains(score) {
            return vec![Effect::Refuse(press)];
        }
        if self.reasons_by_button && self.awaiting.is_some() && self.deferred.len() < MAX_DEFERRED {
            self.deferred.push_back((score, press, time));
            return vec![];
        }
        let mut fx = vec![];
        match (self.screen, self.follow_up) {
            (Screen::Thanks, _) => {
                fx.push(Effect::StopTimer(TimerKind::Thanks));
                fx.extend(self.back_to_question());
            }
            (Screen::FollowUp, Some(_)) if self.awaiting.is_none() && self.reasons_by_button => {
                let reason = (press.button as usize)
                    .checked_sub(1)
                    .and_then(|i| self.survey.follow_up.get(i))
                    .map(|r| r.id.clone());
                return self.close_follow_up(reason, Some(press));
            }
            (Screen::FollowUp, _) if self.awaiting.is_none() => {
                fx.push(Effect::StopTimer(TimerKind::FollowUp));
                if let Some(id) = self.follow_up.take() {
                    fx.push(close_without_reason(id));
                }
                fx.extend(self.back_to_question());
            }
            _ => {}
        }
        fx.extend(self.answer(score, InputSource::Button(press), time));
        fx
    }

    /// After a restart, the follow-up the last visitor may still be reading: asked again for
    /// the rest of its time if there is any left (and this flow asks one), closed otherwise.
    /// A press already on its way to the store decides: its own follow-up (the box sent it
    /// again) is asked when its reply comes, another's closes this one.
    pub(super) fn resume_follow_up(&mut self, open: &OpenFollowUp) -> Vec<Effect> {
        let left = open
            .age
            .and_then(|age| self.timings.follow_up.checked_sub(age))
            .filter(|left| !left.is_zero() && !self.survey.follow_up.is_empty());
        if self.follow_up == Some(open.id) {
            return vec![];
        }
        match (left, self.screen, self.awaiting) {
            (Some(_), Screen::Question, Some(Awaiting::Score(_))) => {
                self.left_open = Some(open.id);
                vec![]
            }
            (Some(left), Screen::Question, None) => {
                self.screen = Screen::FollowUp;
                self.follow_up = Some(open.id);
                let mut fx = vec![Effect::StartTimer(TimerKind::FollowUp, left)];
                if open.language != self.language && self.survey.has_language(&open.language) {
                    self.language = open.language.clone();
                    fx.push(Effect::Language(self.language.clone()));
                }
                fx
            }
            _ => vec![close_without_reason(open.id)],
        }
    }
}

/// Ends a follow-up with no reason: its time ran out, or the visitor went on.
pub(super) fn close_without_reason(id: uuid::Uuid) -> Effect {
    Effect::Store(Request::CloseFollowUp {
        id,
        reason: None,
        press: None,
    })
}
