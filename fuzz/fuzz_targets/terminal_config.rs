//! Fuzz target of the terminal's config file: no panic; a config taken keeps the rules
//! (names, languages, scores on the scale, reason ids, timings) and reads the same again; a
//! config refused points at a line of the file and, unless it is not TOML at all, names
//! the key at fault.

#![no_main]

use std::path::Path;

use ces_kiosk::config::{Config, ConfigError};
use ces_kiosk_fuzz::survey_holds;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Relative paths resolve against a folder that does not exist: nothing is read or made.
    let base = Path::new("/nonexistent/ces-kiosk-fuzz");
    match Config::parse(text, Path::new("terminal.toml"), base) {
        Ok(config) => {
            for name in [
                &config.device.id,
                &config.device.site,
                &config.device.touchpoint,
            ] {
                assert!(ces_kiosk::survey::is_name(name), "{name:?}");
            }
            survey_holds(&config.survey, &config.kiosk);
            assert!(config.storage.path.starts_with(base) || config.storage.path.is_absolute());
            let again = Config::parse(text, Path::new("terminal.toml"), base).unwrap();
            assert_eq!(format!("{again:?}"), format!("{config:?}"));
        }
        Err(e) => {
            let lines = text.lines().count().max(1);
            assert!(
                matches!(e.line(), Some(l) if l >= 1 && l <= lines + 1),
                "{e}"
            );
            if let ConfigError::Invalid { key, .. } = &e {
                assert!(!key.is_empty() && !key.contains(char::is_whitespace), "{e}");
            }
            assert!(e.to_string().starts_with("terminal.toml:"), "{e}");
        }
    }
});
