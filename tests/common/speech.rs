//! A recording stand-in for the speech engine (a script that writes its arguments and what
//! it was given to a log), and waiting for what it was given.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A stand-in engine that appends `--- <its arguments>` and then its standard input to `log`.
pub fn recording_engine(dir: &Path) -> (Vec<String>, PathBuf) {
    let log = dir.join("spoken.log");
    let script = dir.join("engine.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf -- '--- %s\\n' \"$*\" >> '{log}'\ncat >> '{log}'\n",
            log = log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let command = vec![
        script.display().to_string(),
        "-v".to_owned(),
        "{language}".to_owned(),
    ];
    (command, log)
}

/// Waits until the log's utterances (each `--- args` and its lines) end with `expected`.
pub fn wait_said(log: &Path, expected: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if lines.ends_with(&expected.iter().map(String::as_str).collect::<Vec<_>>()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the engine was not given {expected:#?}\nit was given:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn utterance(language: &str, lines: &[&str]) -> Vec<String> {
    std::iter::once(format!("--- -v {language}"))
        .chain(lines.iter().map(|l| (*l).to_owned()))
        .collect()
}
