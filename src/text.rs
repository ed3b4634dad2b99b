//! Text that came from a device or a person is data, never markup: what free text may hold
//! (no control characters, bidi overrides or other invisible formatting), and how to show
//! any stored text safely in a terminal, in JSON printed to one, and in a CSV cell that a
//! spreadsheet will open. Pure.

use std::borrow::Cow;

/// Whether `c` is invisible or changes how other text shows: control characters (C0, DEL,
/// C1), format characters (bidi embeddings, overrides and isolates, zero-width characters,
/// the soft hyphen, tags), line and paragraph separators, and blank fillers.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Checks free text a device sent (an error message): at most `max` characters, none hidden.
pub fn check_free_text(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("longer than {max} characters"));
    }
    match value.chars().find(|&c| is_hidden(c)) {
        Some(c) => Err(format!(
            "contains U+{:04X}, a control or invisible formatting character",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

/// `s` with every hidden character written as a visible escape (`\u{1b}`), for printing in a
/// terminal: stored text can never move the cursor, retitle the window or reorder a line.
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    escape(s, |_| false)
}

/// Like [`for_terminal`], keeping line breaks and tabs (a file's text, CSV with records).
pub fn for_terminal_lines(s: &str) -> Cow<'_, str> {
    escape(s, |c| matches!(c, '\n' | '\t'))
}

fn escape(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_hidden(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hidden(c) && !keep(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// JSON text (as serde_json writes it) with every hidden character inside its strings
/// written as a `\u` escape: the same JSON value, safe to print in a terminal. Outside
/// strings JSON holds only spaces and line breaks, which stay.
pub fn json_for_terminal(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| is_hidden(c) && c != '\n') {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_hidden(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A CSV cell that a spreadsheet will not run as a formula: a cell starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'` (the OWASP rule for CSV
/// injection). Applied to text cells only; numbers stay numbers.
pub fn csv_cell(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_overrides_are_hidden_text() {
        for c in [
            '\u{1b}', '\0', '\u{7}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{200b}',
        ] {
            assert!(is_hidden(c), "U+{:04X}", u32::from(c));
            assert!(check_free_text(&format!("ok{c}"), 100).is_err());
        }
        for c in ['a', 'é', 'ß', '€', '中', '😀', ' '] {
            assert!(!is_hidden(c), "{c}");
        }
        assert_eq!(check_free_text("cannot connect: timed out", 100), Ok(()));
        assert!(
            check_free_text(&"x".repeat(101), 100)
                .unwrap_err()
                .contains("longer")
        );
        let e = check_free_text("ALL OK\u{202e}", 100).unwrap_err();
        assert!(e.contains("U+202E"), "{e}");
    }

    #[test]
    fn a_terminal_sees_escapes_not_sequences() {
        let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mALL OK\u{202e}";
        let shown = for_terminal(hostile);
        assert!(!shown.chars().any(is_hidden), "{shown}");
        assert_eq!(
            shown,
            "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{1b}[31mALL OK\\u{202e}"
        );
        assert!(matches!(for_terminal("plain"), Cow::Borrowed(_)));
        assert_eq!(for_terminal_lines("a\n\tb\u{1b}"), "a\n\tb\\u{1b}");
    }

    #[test]
    fn json_for_a_terminal_is_the_same_value() {
        let value = serde_json::json!({"e": "x\u{1b}[2J\u{202e}\u{9b}\u{1F600}", "n": "a\nb"});
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let safe = json_for_terminal(&pretty);
        assert!(!safe.chars().any(|c| is_hidden(c) && c != '\n'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for s in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(csv_cell(s), format!("'{s}"));
        }
        for s in ["waiting", "", "2026-11-24", "a=b"] {
            assert_eq!(csv_cell(s), s);
        }
    }
}
