//! The terminal's own words in each shipped language, for what is not drawn by the touch
//! UI's translations: the small displays' texts and what the terminal says aloud. The
//! survey's own words (question, reasons, notice) come from its config.

/// The words of one language.
pub struct Wording {
    pub thanks: &'static str,
    pub saved: &'static str,
    pub out_of_service: &'static str,
    pub tell_staff: &'static str,
    pub offline: &'static str,
    pub waiting: &'static str,
    /// The ends of the agree scale and of the ease scale, as the touch UI labels them.
    pub agree: (&'static str, &'static str),
    pub ease: (&'static str, &'static str),
    /// Said when speech is turned on: how to answer without sight.
    pub how_to_answer: &'static str,
    /// Before the scale's ends: "1 means …, 7 means …" (`{low}`, `{high}`, `{low_end}`,
    /// `{high_end}` filled in).
    pub scale_ends: &'static str,
    /// The follow-up question's title, as the touch UI shows it.
    pub what_made_it_hard: &'static str,
    /// After the reasons are read out.
    pub or_skip: &'static str,
    pub skip: &'static str,
    /// Under the reasons on a small display: each is chosen with its button.
    pub press_a_reason: &'static str,
    /// Said now and then while nobody uses the terminal, if configured.
    pub how_to_listen: &'static str,
    /// On a button terminal: what a button chooses (`{button}`, `{what}` filled in).
    pub button_is: &'static str,
    /// On a button terminal, now and then while idle: its listen button (`{button}`).
    pub how_to_listen_button: &'static str,
}

const EN: Wording = Wording {
    thanks: "Thank you!",
    saved: "Your answer has been saved.",
    out_of_service: "Out of service",
    tell_staff: "Please tell a member of staff.",
    offline: "Offline",
    waiting: "waiting",
    agree: ("Strongly disagree", "Strongly agree"),
    ease: ("Very difficult", "Very easy"),
    how_to_answer: "Touch an answer to hear it. Touch it again to choose it.",
    scale_ends: "{low} means {low_end}. {high} means {high_end}.",
    what_made_it_hard: "What made it hard?",
    or_skip: "Or skip, at the bottom right.",
    skip: "Skip",
    press_a_reason: "Press its button, or wait to skip.",
    how_to_listen: "To hear this screen read aloud, touch and hold it.",
    button_is: "Button {button}: {what}.",
    how_to_listen_button: "To hear the question read aloud, press button {button}.",
};

const NL: Wording = Wording {
    thanks: "Dank u wel!",
    saved: "Uw antwoord is opgeslagen.",
    out_of_service: "Buiten gebruik",
    tell_staff: "Meld het aan een medewerker.",
    offline: "Offline",
    waiting: "wachtend",
    agree: ("Helemaal oneens", "Helemaal eens"),
    ease: ("Heel moeilijk", "Heel makkelijk"),
    how_to_answer: "Raak een antwoord aan om het te horen. Raak het nog eens aan om het te kiezen.",
    scale_ends: "{low} betekent {low_end}. {high} betekent {high_end}.",
    what_made_it_hard: "Wat maakte het moeilijk?",
    or_skip: "Of sla over, rechtsonder.",
    skip: "Overslaan",
    press_a_reason: "Druk op de knop ervan, of wacht om over te slaan.",
    how_to_listen: "Houd het scherm ingedrukt om het te laten voorlezen.",
    button_is: "Knop {button}: {what}.",
    how_to_listen_button: "Druk op knop {button} om de vraag te laten voorlezen.",
};

// The small displays' fonts hold Latin-1 only: a plain apostrophe, no ellipsis.
const DE: Wording = Wording {
    thanks: "Vielen Dank!",
    saved: "Ihre Antwort ist gespeichert.",
    out_of_service: "Außer Betrieb",
    tell_staff: "Bitte sagen Sie es dem Personal.",
    offline: "Offline",
    waiting: "wartend",
    agree: ("Stimme überhaupt nicht zu", "Stimme voll und ganz zu"),
    ease: ("Sehr schwierig", "Sehr einfach"),
    how_to_answer: "Berühren Sie eine Antwort, um sie zu hören. Berühren Sie sie noch einmal, um sie zu wählen.",
    scale_ends: "{low} bedeutet: {low_end}. {high} bedeutet: {high_end}.",
    what_made_it_hard: "Was war schwierig?",
    or_skip: "Oder überspringen, unten rechts.",
    skip: "Überspringen",
    press_a_reason: "Taste drücken, oder warten zum Überspringen.",
    how_to_listen: "Halten Sie den Bildschirm gedrückt, um ihn vorlesen zu lassen.",
    button_is: "Taste {button}: {what}.",
    how_to_listen_button: "Drücken Sie Taste {button}, um die Frage vorlesen zu lassen.",
};

const FR: Wording = Wording {
    thanks: "Merci\u{a0}!",
    saved: "Votre réponse est enregistrée.",
    out_of_service: "Hors service",
    tell_staff: "Merci de prévenir le personnel.",
    offline: "Hors ligne",
    waiting: "en attente",
    agree: ("Pas du tout d'accord", "Tout à fait d'accord"),
    ease: ("Très difficile", "Très facile"),
    how_to_answer: "Touchez une réponse pour l'entendre. Touchez-la encore pour la choisir.",
    scale_ends: "{low}\u{a0}: {low_end}. {high}\u{a0}: {high_end}.",
    what_made_it_hard: "Qu'est-ce qui a été difficile\u{a0}?",
    or_skip: "Ou passez, en bas à droite.",
    skip: "Passer",
    press_a_reason: "Appuyez sur son bouton, ou attendez pour passer.",
    how_to_listen: "Pour entendre cet écran, gardez le doigt dessus.",
    button_is: "Bouton {button}\u{a0}: {what}.",
    how_to_listen_button: "Pour entendre la question, appuyez sur le bouton {button}.",
};

/// The words of `language`; English for a language that ships none.
pub fn of(language: &str) -> &'static Wording {
    match language {
        "nl" => &NL,
        "de" => &DE,
        "fr" => &FR,
        _ => &EN,
    }
}

#[cfg(test)]
mod tests {
    use crate::survey::SHIPPED_LANGUAGES;

    #[test]
    fn every_shipped_language_has_its_own_words() {
        for language in SHIPPED_LANGUAGES.iter().filter(|l| **l != "en") {
            let w = super::of(language);
            assert_ne!(w.how_to_answer, super::EN.how_to_answer, "{language}");
            assert_ne!(
                w.what_made_it_hard,
                super::EN.what_made_it_hard,
                "{language}"
            );
        }
    }
}
