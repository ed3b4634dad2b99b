//! The dashboard's words, kept apart from its templates and code so that it can be
//! translated: `ui/web/texts/en.toml` holds every text by key. English is the only language
//! so far; a translation is another file with the same keys.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The texts of one language.
pub struct Texts(HashMap<String, String>);

static ENGLISH: LazyLock<Texts> = LazyLock::new(|| {
    let table: HashMap<String, String> =
        toml::from_str(include_str!("../../../ui/web/texts/en.toml"))
            .expect("ui/web/texts/en.toml is a flat table of texts (checked by a test)");
    Texts(table)
});

impl Texts {
    pub fn english() -> &'static Texts {
        &ENGLISH
    }

    /// The text with this key; the key itself when there is none (a test finds those).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.0.get(key).map_or(key, String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text the templates and the dashboard's code look up by a literal key, and every
    /// key of the period menu and the weekdays, is in en.toml.
    #[test]
    fn every_text_used_exists() {
        let t = Texts::english();
        let dirs = ["ui/web", "src/collector/dashboard"];
        let mut missing = Vec::new();
        let mut used = 0;
        for dir in dirs {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for part in text.split("t.get(\"").skip(1) {
                    let key = &part[..part.find('"').unwrap()];
                    used += 1;
                    if !t.0.contains_key(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(
            used > 20,
            "the texts are looked up with t.get and a literal key"
        );
        let listed = super::super::period::PRESETS.iter().map(|p| p.1);
        for key in listed.chain(super::super::place::WEEKDAYS) {
            if !t.0.contains_key(key) {
                missing.push(key.to_owned());
            }
        }
        assert!(
            missing.is_empty(),
            "texts missing from en.toml: {missing:?}"
        );
    }
}
