//! The `[speech]` section: the speech engine the terminal runs, as a separate process, to
//! read its screens aloud for a visitor who asks (Debian's `espeak-ng` unless told
//! otherwise), or none.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Checker, ConfigError};

/// The engine's command: the program and its arguments, `{language}` in an argument
/// replaced by the visitor's language; the text goes to its standard input, one sentence a
/// line, so that nothing a survey says can become an option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Speech {
    pub command: Vec<String>,
    /// While nobody uses the terminal, a short line says how to turn speech on, this often;
    /// `None` (the default) for never.
    pub announce_every: Option<Duration>,
}

/// Debian's espeak-ng, a little slower than its default, reading standard input.
pub const DEFAULT_COMMAND: [&str; 6] = ["espeak-ng", "-s", "150", "-v", "{language}", "--stdin"];

const MAX_ARGS: usize = 32;
const MAX_ARG: usize = 256;

impl Speech {
    /// The program and arguments that speak in `language`.
    pub fn command_for(&self, language: &str) -> (String, Vec<String>) {
        let mut parts = self
            .command
            .iter()
            .map(|part| part.replace("{language}", language));
        let program = parts.next().unwrap_or_default();
        (program, parts.collect())
    }

    /// Whether the program is there to run: an executable file at its path, or on `PATH`.
    pub fn available(&self) -> bool {
        let Some(program) = self.command.first() else {
            return false;
        };
        let executable = |p: &Path| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        };
        if program.contains('/') {
            return executable(Path::new(program));
        }
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| executable(&d.join(program))))
    }
}

impl Default for Speech {
    fn default() -> Self {
        Speech {
            command: DEFAULT_COMMAND.iter().map(|s| (*s).to_owned()).collect(),
            announce_every: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpeech {
    #[serde(default = "yes")]
    enabled: bool,
    command: Option<Spanned<Vec<String>>>,
    announce_every_seconds: Option<Spanned<i64>>,
}

/// How often the idle announcement may come, in seconds.
const ANNOUNCE: std::ops::RangeInclusive<i64> = 30..=3600;

fn yes() -> bool {
    true
}

impl Checker<'_> {
    /// `[speech]`: on with espeak-ng when left out; `enabled = false` for none.
    pub(super) fn speech(&self, raw: Option<RawSpeech>) -> Result<Option<Speech>, ConfigError> {
        let Some(raw) = raw else {
            return Ok(Some(Speech::default()));
        };
        let announce_every = match &raw.announce_every_seconds {
            None => None,
            Some(v) if ANNOUNCE.contains(v.get_ref()) => {
                Some(Duration::from_secs(v.get_ref().unsigned_abs()))
            }
            Some(v) => {
                return Err(self.err(
                    v.span(),
                    "speech.announce_every_seconds",
                    format!(
                        "{} is outside {} to {} seconds",
                        v.get_ref(),
                        ANNOUNCE.start(),
                        ANNOUNCE.end()
                    ),
                ));
            }
        };
        let Some(command) = raw.command else {
            return Ok(raw.enabled.then(|| Speech {
                announce_every,
                ..Speech::default()
            }));
        };
        let span = command.span();
        let parts = command.into_inner();
        let bad = |message: &str| Err(self.err(span.clone(), "speech.command", message));
        match parts.first() {
            None => {
                return bad(
                    "give the program and its arguments, like [\"espeak-ng\", \"-v\", \"{language}\", \"--stdin\"]",
                );
            }
            Some(p) if p.trim().is_empty() => return bad("the program must not be empty"),
            Some(_) => {}
        }
        if parts.len() > MAX_ARGS {
            return bad(&format!("at most {MAX_ARGS} parts"));
        }
        if parts
            .iter()
            .any(|p| p.len() > MAX_ARG || p.chars().any(char::is_control))
        {
            return bad(&format!(
                "each part at most {MAX_ARG} bytes, without control characters"
            ));
        }
        Ok(raw.enabled.then_some(Speech {
            command: parts,
            announce_every,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(section: &str) -> Result<Option<Speech>, String> {
        let text = format!("{}\n{section}", crate::demo::DEMO_TOML);
        crate::config::Config::parse(&text, Path::new("terminal.toml"), Path::new("/data"))
            .map(|c| c.speech)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn espeak_ng_unless_told_otherwise_and_none_when_turned_off() {
        assert_eq!(parse(""), Ok(Some(Speech::default())));
        assert_eq!(parse("[speech]\nenabled = false"), Ok(None));
        let own = parse("[speech]\ncommand = [\"/opt/tts/say\", \"--lang={language}\"]");
        assert_eq!(own.unwrap().unwrap().command_for("nl").1, ["--lang=nl"]);
    }

    #[test]
    fn a_command_that_cannot_be_run_is_refused_with_its_line() {
        let e = parse("[speech]\ncommand = []").unwrap_err();
        assert!(e.contains("speech.command") && e.contains("program"), "{e}");
        let e = parse("[speech]\ncommand = [\" \"]").unwrap_err();
        assert!(e.contains("must not be empty"), "{e}");
        let e = parse("[speech]\ncommand = [\"say\", \"a\\nb\"]").unwrap_err();
        assert!(e.contains("control characters"), "{e}");
        let e = parse("[speech]\nannounce_every_seconds = 5").unwrap_err();
        assert!(e.contains("speech.announce_every_seconds"), "{e}");
        let e = parse("[speech]\nvoice = \"x\"").unwrap_err();
        assert!(e.contains("voice"), "{e}");
    }

    #[test]
    fn the_language_is_put_into_the_arguments_not_the_program() {
        let s = Speech::default();
        let (program, args) = s.command_for("de");
        assert_eq!(program, "espeak-ng");
        assert_eq!(args, ["-s", "150", "-v", "de", "--stdin"]);
    }

    #[test]
    fn a_program_that_is_not_there_is_not_available() {
        let s = Speech {
            command: vec!["/nonexistent/espeak".into()],
            ..Speech::default()
        };
        assert!(!s.available());
        let s = Speech {
            command: vec!["sh".into()],
            ..Speech::default()
        };
        assert!(s.available(), "found on PATH");
    }
}
