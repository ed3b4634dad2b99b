//! Fuzz target of a survey config as the collector checks it before storing it and the
//! terminal checks it before switching to it: no panic; one taken keeps the rules (the
//! question in every language, scores on the scale, reason ids of the allowed shape,
//! timings in range); one refused points at a line and names the key at fault.

#![no_main]

use std::path::Path;

use ces_kiosk::config::{ConfigError, SurveyConfig};
use ces_kiosk_fuzz::survey_holds;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match SurveyConfig::parse(text, Path::new("survey.toml")) {
        Ok(config) => survey_holds(&config.survey, &config.timings),
        Err(e) => {
            let lines = text.lines().count().max(1);
            assert!(matches!(e.line(), Some(l) if l <= lines + 1), "{e}");
            if let ConfigError::Invalid { key, .. } = &e {
                assert!(!key.is_empty() && !key.contains(char::is_whitespace), "{e}");
            }
            assert!(e.to_string().starts_with("survey.toml:"), "{e}");
        }
    }
});
