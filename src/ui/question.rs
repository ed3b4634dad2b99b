//! The survey as the question and follow-up screens show it: the question, the reasons
//! and the languages in the visitor's language, and the answer targets in the visitor's look.

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::generated::{KioskAdapter, LanguageItem, ReasonItem, ScaleKind, ScoreItem};
use super::{Inner, palette};
use crate::kiosk::Look;
use crate::survey::{Scale, Survey};

impl Inner {
    /// The texts that change with the visitor's language.
    pub(super) fn fill_language(&self, survey: &Survey, language: &str) {
        let adapter = self.window.global::<KioskAdapter>();
        adapter.set_question(survey.question_text(language).into());
        let reasons: Vec<ReasonItem> = survey
            .follow_up
            .iter()
            .map(|r| ReasonItem {
                id: r.id.as_str().into(),
                text: r.text_in(language).into(),
            })
            .collect();
        adapter.set_reasons(model(reasons));
        adapter.set_language_name(language_name(language).into());
        adapter.set_languages(model(
            survey
                .languages
                .iter()
                .map(|code| LanguageItem {
                    code: code.as_str().into(),
                    name: language_name(code).into(),
                    current: code == language,
                })
                .collect(),
        ));
    }

    /// The answer targets, which depend only on the scale.
    pub(super) fn fill_scale(&self, survey: &Survey, look: Look) {
        let adapter = self.window.global::<KioskAdapter>();
        adapter.set_scale_kind(match survey.scale {
            Scale::Ces7 => ScaleKind::Agree,
            Scale::Ces5 => ScaleKind::Ease,
            Scale::Smiley3 | Scale::Smiley5 => ScaleKind::Faces,
        });
        let items = survey
            .scale
            .scores()
            .map(|score| {
                let (tint, ink) = palette::colours(look, survey.scale, score);
                ScoreItem {
                    score: i32::from(score),
                    label: SharedString::from(score.to_string()),
                    mood: survey.scale.mood(score),
                    tint,
                    ink,
                }
            })
            .collect();
        adapter.set_scores(model(items));
    }
}

pub(super) fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items))
}

/// A language's own name, as a visitor looks for it on the switch.
fn language_name(code: &str) -> &str {
    match code {
        "en" => "English",
        "nl" => "Nederlands",
        "de" => "Deutsch",
        "fr" => "Français",
        other => other,
    }
}
