//! Headless tests of the visitor's languages with the real window code: German and French
//! screen texts from the bundled translations, and the list that opens in place of the row
//! of languages when a survey has more than fit in it.

mod common;

use common::*;
use i_slint_backend_testing::ElementHandle;

const QUESTION_DE: &str = "Das Geschäft hat es mir leicht gemacht, meinen Artikel zurückzugeben.";
const QUESTION_FR: &str = "Le magasin m’a facilité le retour de mon article.";
const QUESTION_EN: &str = "The store made it easy for me to return my item.";

#[test]
fn german_and_french_show_their_own_screen_texts_and_are_stored_with_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);

    choose_language(&ui, "Deutsch");
    assert!(shows(&ui, QUESTION_DE));
    assert!(shows(&ui, "Stimme überhaupt nicht zu") && shows(&ui, "Stimme voll und ganz zu"));
    the(&ui, "Bewertung 2").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Was war schwierig?"));
    the(&ui, "Lange Wartezeit").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Vielen Dank!") && shows(&ui, "Ihre Antwort ist gespeichert."));
    the(&ui, "Fertig").invoke_accessible_default_action();
    assert!(
        shows(&ui, QUESTION_EN),
        "the next visitor starts in English"
    );

    // The next visitor, after the misuse cooldown.
    advance(config.kiosk.misuse_cooldown);
    choose_language(&ui, "Français");
    assert!(shows(&ui, QUESTION_FR));
    assert!(shows(&ui, "Pas du tout d’accord") && shows(&ui, "Tout à fait d’accord"));
    the(&ui, "Note 7").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Merci\u{a0}!"));

    let rows = stored(&config);
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.language.as_str(), r.score, r.reason.as_deref()))
        .collect();
    assert_eq!(got, [("de", 2, Some("waiting")), ("fr", 7, None)]);
}

fn inside(e: &ElementHandle, (w, h): (u32, u32)) -> bool {
    let (p, s) = (e.absolute_position(), e.size());
    p.x >= 0.0 && p.y >= 0.0 && p.x + s.width <= w as f32 && p.y + s.height <= h as f32
}

#[test]
fn six_languages_open_as_a_list_that_fits_and_closes_for_the_next_visitor() {
    let names = ["English", "Nederlands", "Deutsch", "Français", "es", "it"];
    for size in [(800, 480), (600, 1024), (1920, 1080)] {
        let dir = tempfile::tempdir().unwrap();
        let (config, ui) = kiosk_with(six_languages(dir.path()), size.0, size.1);
        assert!(!shows(&ui, "Nederlands"), "not in a row at {size:?}");
        let chooser = the(&ui, "Language: English");
        assert!(inside(&chooser, size));
        chooser.invoke_accessible_default_action();
        for name in names {
            let chip = the(&ui, name);
            assert!(inside(&chip, size), "{name} fits at {size:?}");
            assert!(chip.size().height >= 48.0, "{name} is big enough to hit");
        }
        choose_language(&ui, "Français");
        assert!(shows(&ui, QUESTION_FR), "chosen, and the list closed");
        assert!(!shows(&ui, "Nederlands"));
        the(&ui, "Langue\u{a0}: Français").invoke_accessible_default_action();
        assert!(shows(&ui, "Deutsch"));
        // Left open: it closes, and the language goes back, for the next visitor.
        advance(config.kiosk.idle_reset + std::time::Duration::from_millis(50));
        assert!(!shows(&ui, "Deutsch") && shows(&ui, QUESTION_EN));
    }
}
