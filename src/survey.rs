//! Questions, scales and answers: the pure domain of one CES survey, with no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The languages whose screen texts (thank-you, follow-up title, scale anchors) ship with the
/// terminal. A survey may only use these; its own question text comes from the config.
pub const SHIPPED_LANGUAGES: &[&str] = &["en", "nl", "de", "fr"];

/// Whether `s` may name a device, site, touchpoint or question: it travels with every answer,
/// so it is short and printable: 1 to 64 letters, digits, '-', '_' or '.'.
pub fn is_name(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    !s.is_empty() && s.len() <= 64 && s.chars().all(ok)
}

/// What a name must be, for error messages.
pub const NAME_RULE: &str = "1 to 64 characters of letters, digits, '-', '_' or '.'";

/// Whether `s` has the shape of a language tag: a primary language of 2 or 3 lower-case
/// letters, then at most two subtags of 2 to 8 letters or digits (`en`, `nl`, `pt-BR`,
/// `zh-Hant-TW`).
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    let subtag =
        |p: &str| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric());
    (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts.clone().count() <= 2
        && parts.all(subtag)
}

/// An answer scale. Every stored answer records its scale and the scale's direction, so
/// that a score can never be read the wrong way round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// CES 2.0: "<Company> made it easy for me to <task>", 1 strongly disagree … 7 strongly agree.
    Ces7,
    /// A five-point ease scale: 1 very difficult … 5 very easy.
    Ces5,
    /// Three faces: unhappy, neutral, happy.
    Smiley3,
    /// Five faces from very unhappy to very happy.
    Smiley5,
}

/// Which end of a scale means "easy".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsEasier,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsEasier => "higher_is_easier",
        }
    }
}

impl Scale {
    pub const ALL: [Scale; 4] = [Scale::Ces7, Scale::Ces5, Scale::Smiley3, Scale::Smiley5];

    /// The scale named `name` as in config files and on the wire (`ces7`, …).
    pub fn from_name(name: &str) -> Option<Scale> {
        Scale::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Ces7 => "ces7",
            Scale::Ces5 => "ces5",
            Scale::Smiley3 => "smiley3",
            Scale::Smiley5 => "smiley5",
        }
    }

    /// The highest score; every scale starts at 1.
    pub fn max(self) -> u8 {
        match self {
            Scale::Ces7 => 7,
            Scale::Ces5 | Scale::Smiley5 => 5,
            Scale::Smiley3 => 3,
        }
    }

    pub fn scores(self) -> std::ops::RangeInclusive<u8> {
        1..=self.max()
    }

    pub fn contains(self, score: u8) -> bool {
        self.scores().contains(&score)
    }

    pub fn direction(self) -> Direction {
        Direction::HigherIsEasier
    }

    /// Whether answers are shown as faces rather than numbers.
    pub fn uses_faces(self) -> bool {
        matches!(self, Scale::Smiley3 | Scale::Smiley5)
    }

    /// The scores that count as low (difficult) unless the config says otherwise:
    /// 1–3 on the 7-point scale (the "% difficult" of CES 2.0 reporting), the bottom two
    /// on five-point scales, the unhappy face on three.
    pub fn default_low_scores(self) -> BTreeSet<u8> {
        match self {
            Scale::Ces7 => [1, 2, 3].into(),
            Scale::Ces5 | Scale::Smiley5 => [1, 2].into(),
            Scale::Smiley3 => [1].into(),
        }
    }

    /// The scores reported as "easy": 5–7 on the 7-point scale (CES 2.0 reporting), the top
    /// two on five-point scales, the happy face on three. Fixed per scale, not per terminal,
    /// so that "% easy" means the same everywhere.
    pub fn easy_scores(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Scale::Ces7 => 5..=7,
            Scale::Ces5 | Scale::Smiley5 => 4..=5,
            Scale::Smiley3 => 3..=3,
        }
    }

    /// The scores reported as "difficult": 1–3 on the 7-point scale, the bottom two on
    /// five-point scales, the unhappy face on three.
    pub fn difficult_scores(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Scale::Ces7 => 1..=3,
            Scale::Ces5 | Scale::Smiley5 => 1..=2,
            Scale::Smiley3 => 1..=1,
        }
    }

    /// How the reported figures are computed on this scale, to print next to them.
    pub fn formula(self) -> String {
        let range = |r: std::ops::RangeInclusive<u8>| {
            if r.start() == r.end() {
                format!("score {}", r.start())
            } else {
                format!("scores {}-{}", r.start(), r.end())
            }
        };
        format!(
            "{}: mean of scores 1-{} (higher is easier); % easy = share of {}; \
             % difficult = share of {}; suppressed taps are not counted",
            self.as_str(),
            self.max(),
            range(self.easy_scores()),
            range(self.difficult_scores()),
        )
    }

    /// How much a face smiles for a score, from -1 (deep frown) to 1 (broad smile).
    pub fn mood(self, score: u8) -> f32 {
        let span = f32::from(self.max() - 1);
        (f32::from(score.clamp(1, self.max()) - 1) / span) * 2.0 - 1.0
    }
}

/// One follow-up reason chip ("what made it hard?"), with its text per language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub id: String,
    pub text: BTreeMap<String, String>,
}

impl Reason {
    /// Its text in `language` (every language of a checked survey has one).
    pub fn text_in(&self, language: &str) -> &str {
        self.text.get(language).map_or(&self.id, String::as_str)
    }
}

/// A validated survey: one question on one scale, in one or more languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    pub question_id: String,
    pub question_version: u32,
    pub scale: Scale,
    /// The first language is the one each new visitor sees.
    pub languages: Vec<String>,
    pub question: BTreeMap<String, String>,
    pub low_scores: BTreeSet<u8>,
    pub follow_up: Vec<Reason>,
    /// "You said, we did": a short message central teams show on the thank-you screen.
    pub notice: Option<Notice>,
    /// The organisation's accent colour on the visitor screens (`[brand]`), checked to
    /// stand out against the normal theme's page and to carry readable text.
    pub accent: Option<crate::theme::Rgb>,
    /// The organisation's logo on the question and the thank-you (`[brand] logo`), checked.
    pub logo: Option<crate::logo::Logo>,
}

/// A short message on the thank-you screen, in every language of the survey, shown up to
/// and including its last day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The last local date it is shown (YYYY-MM-DD).
    pub until: String,
    pub text: BTreeMap<String, String>,
}

/// The longest notice, in characters, in any language.
pub const MAX_NOTICE: usize = 160;

impl Survey {
    /// The notice in `language` (or the first language) on local date `today` (YYYY-MM-DD),
    /// unless there is none or it has ended.
    pub fn notice_text(&self, language: &str, today: &str) -> Option<&str> {
        let n = self.notice.as_ref().filter(|n| today <= n.until.as_str())?;
        n.text
            .get(language)
            .or_else(|| n.text.get(self.default_language()))
            .map(String::as_str)
    }

    pub fn default_language(&self) -> &str {
        &self.languages[0]
    }

    pub fn question_text(&self, language: &str) -> &str {
        self.question
            .get(language)
            .or_else(|| self.question.get(self.default_language()))
            .map_or("", String::as_str)
    }

    pub fn is_low(&self, score: u8) -> bool {
        self.low_scores.contains(&score)
    }

    /// A low score is followed by the "what made it hard?" question when reasons are configured.
    pub fn asks_follow_up(&self, score: u8) -> bool {
        self.is_low(score) && !self.follow_up.is_empty()
    }

    pub fn reason(&self, id: &str) -> Option<&Reason> {
        self.follow_up.iter().find(|r| r.id == id)
    }

    pub fn has_language(&self, language: &str) -> bool {
        self.languages.iter().any(|l| l == language)
    }
}

/// Where an answer came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    Touch,
    Button(ButtonPress),
}

impl InputSource {
    pub fn as_str(&self) -> &str {
        match self {
            InputSource::Touch => "touch",
            InputSource::Button(_) => "button",
        }
    }

    pub fn button_press(&self) -> Option<&ButtonPress> {
        match self {
            InputSource::Button(p) => Some(p),
            InputSource::Touch => None,
        }
    }
}

/// A press on a button box, as the box numbered it: the same press sent again carries the
/// same box, session and sequence number, and is stored once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ButtonPress {
    /// Which configured box (its index in the config) the press came through.
    pub port: usize,
    pub box_id: String,
    /// Chosen by the box at power-on.
    pub session: u32,
    /// The box's press counter within its session.
    pub seq: u32,
    pub button: u8,
}

/// An answer as the visitor gave it, before the store assigns its sequence number.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// UUID v7: unique across devices, ordered by creation time.
    pub id: uuid::Uuid,
    pub question_id: String,
    pub question_version: u32,
    pub language: String,
    pub scale: Scale,
    pub score: u8,
    pub low: bool,
    /// A tap within the misuse cooldown: stored, never counted.
    pub suppressed: bool,
    /// The follow-up question is still on screen; the reason may follow.
    pub follow_up_open: bool,
    pub input: InputSource,
    pub time: crate::clock::Reading,
}

impl Answer {
    /// Builds the answer for `score` on `survey`, stamped with the time of the tap.
    pub fn new(
        survey: &Survey,
        language: &str,
        score: u8,
        suppressed: bool,
        input: InputSource,
        time: crate::clock::Reading,
    ) -> Self {
        Answer {
            id: uuid::Uuid::now_v7(),
            question_id: survey.question_id.clone(),
            question_version: survey.question_version,
            language: language.to_owned(),
            scale: survey.scale,
            score,
            low: survey.is_low(score),
            suppressed,
            follow_up_open: !suppressed && survey.asks_follow_up(score),
            input,
            time,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_have_their_ranges_and_defaults() {
        assert_eq!(Scale::Ces7.scores(), 1..=7);
        assert_eq!(Scale::Smiley3.max(), 3);
        assert!(Scale::Ces5.contains(5) && !Scale::Ces5.contains(6) && !Scale::Ces5.contains(0));
        assert_eq!(Scale::Ces7.default_low_scores(), [1, 2, 3].into());
        assert!(Scale::Smiley5.uses_faces() && !Scale::Ces7.uses_faces());
        for scale in Scale::ALL {
            assert_eq!(Scale::from_name(scale.as_str()), Some(scale));
        }
        assert_eq!(Scale::from_name("ces10"), None);
    }

    #[test]
    fn easy_and_difficult_follow_ces_reporting() {
        assert_eq!(Scale::Ces7.easy_scores(), 5..=7);
        assert_eq!(Scale::Ces7.difficult_scores(), 1..=3);
        assert_eq!(Scale::Smiley3.easy_scores(), 3..=3);
        assert_eq!(
            Scale::Ces7.formula(),
            "ces7: mean of scores 1-7 (higher is easier); % easy = share of scores 5-7; \
             % difficult = share of scores 1-3; suppressed taps are not counted"
        );
        assert!(
            Scale::Smiley3
                .formula()
                .contains("% easy = share of score 3;")
        );
    }

    #[test]
    fn mood_runs_from_frown_to_smile() {
        assert_eq!(Scale::Smiley3.mood(1), -1.0);
        assert_eq!(Scale::Smiley3.mood(2), 0.0);
        assert_eq!(Scale::Smiley3.mood(3), 1.0);
        assert_eq!(Scale::Smiley5.mood(4), 0.5);
    }
}
