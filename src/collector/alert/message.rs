//! What a notification says: its title and text in words, and the JSON body every channel
//! is made from (pure). The body carries the delivery id, which stays the same across
//! retries, so that a receiver can drop a repeat.

use serde::Serialize;

use super::decide::{Event, Figures, State};
use super::rule::Condition;
use crate::collector::storage::AlertView;

/// A notification as stored in the outbox and sent to plain webhooks.
#[derive(Serialize)]
struct Body<'a> {
    delivery: &'a str,
    event: Event,
    title: String,
    text: String,
    alert: &'a AlertView,
}

/// The body of a message that is no alert's (a summary), as JSON.
pub fn plain_body(delivery: &str, event: &str, title: &str, text: &str) -> String {
    serde_json::json!({
        "delivery": delivery,
        "event": event,
        "title": title,
        "text": text,
    })
    .to_string()
}

/// The JSON body of a notification of `event` about `alert`.
pub fn body(delivery: &str, event: Event, alert: &AlertView) -> String {
    serde_json::to_string(&Body {
        delivery,
        event,
        title: title(event, alert),
        text: text(alert),
        alert,
    })
    .expect("a notification serialises")
}

/// The title and text of a notification as the outbox stores it (an alert's or a
/// summary's), for the channels that show only words.
pub fn stored_words(body: &str) -> (String, String) {
    let stored: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let word = |key: &str, default: &str| stored[key].as_str().unwrap_or(default).to_owned();
    (word("title", "ces-collector"), word("text", ""))
}

/// Where an alert is, in words: `hq / returns-desk` or `terminal desk-1 (hq / returns-desk)`.
pub fn place(alert: &AlertView) -> String {
    let spot = format!("{} / {}", alert.site, alert.touchpoint);
    match &alert.device {
        Some(d) => format!("terminal {d} ({spot})"),
        None => spot,
    }
}

/// A one-line title.
pub fn title(event: Event, alert: &AlertView) -> String {
    let what = match alert.condition {
        Condition::Floor(_) => "Visitors struggle at",
        Condition::Praise(_) => "Visitors find it easy at",
        Condition::Silent { .. } => "Silent:",
        Condition::Trouble => "Trouble at",
    };
    let prefix = match (event, alert.state) {
        (Event::Resolved, _) | (_, State::Resolved) => "Resolved: ",
        (Event::Repeat, _) => "Still firing: ",
        (Event::Firing, _) => "",
    };
    format!("{prefix}{what} {}", place(alert))
}

/// What was seen, and the rule, in a sentence or two.
pub fn text(alert: &AlertView) -> String {
    let seen = match &alert.figures {
        Figures::Answers {
            window_min,
            counted,
            difficult,
            easy,
        } => {
            let (n, word) = match alert.condition {
                Condition::Praise(_) => (*easy, "easy"),
                _ => (*difficult, "difficult"),
            };
            let share = (n * 100).checked_div(*counted).unwrap_or(0);
            format!("{n} of {counted} answers {word} ({share} %) in the last {window_min} min.")
        }
        Figures::Silence {
            last_seen_ms,
            last_answer_ms,
        } => format!(
            "Last heard from {}; last answer {}.",
            time(*last_seen_ms),
            time(*last_answer_ms)
        ),
        Figures::Trouble {
            dead_letters,
            config_error,
        } => {
            let mut parts = Vec::new();
            if *dead_letters > 0 {
                parts.push(format!("{dead_letters} answers given up on (dead letters)"));
            }
            if let Some(e) = config_error {
                parts.push(format!("survey config refused: {e}"));
            }
            format!("{}.", parts.join("; "))
        }
    };
    let cleared = if alert.state == State::Resolved {
        " The condition has cleared."
    } else {
        ""
    };
    format!("{seen}{cleared} Rule {}: {}.", alert.rule, alert.condition)
}

/// A time in UTC to the second, or "never".
pub fn time(ms: Option<i64>) -> String {
    ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or("never".to_owned(), |t| {
            format!("{}", t.strftime("%Y-%m-%d %H:%M:%S UTC"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::alert::rule::Share;

    fn alert(state: State) -> AlertView {
        AlertView {
            id: 3,
            rule: "desk-floor".into(),
            condition: Condition::Floor(Share {
                share_pct: 50,
                window_min: 15,
                min_answers: 4,
            }),
            site: "hq".into(),
            touchpoint: "returns".into(),
            device: None,
            state,
            since_ms: 0,
            fired_at_ms: Some(0),
            resolved_at_ms: None,
            acknowledged: None,
            figures: Figures::Answers {
                window_min: 15,
                counted: 4,
                difficult: 3,
                easy: 1,
            },
        }
    }

    #[test]
    fn a_breach_is_told_in_words_and_as_json() {
        let a = alert(State::Firing);
        assert_eq!(
            title(Event::Firing, &a),
            "Visitors struggle at hq / returns"
        );
        assert_eq!(
            text(&a),
            "3 of 4 answers difficult (75 %) in the last 15 min. Rule desk-floor: 50 % or \
             more difficult within 15 min (at least 4 answers)."
        );
        let json: serde_json::Value =
            serde_json::from_str(&body("d-1", Event::Firing, &a)).unwrap();
        assert_eq!(json["delivery"], "d-1");
        assert_eq!(json["event"], "firing");
        assert_eq!(json["alert"]["kind"], "floor");
        assert_eq!(json["alert"]["figures"]["difficult"], 3);
        let resolved = alert(State::Resolved);
        assert_eq!(
            title(Event::Resolved, &resolved),
            "Resolved: Visitors struggle at hq / returns"
        );
        assert!(text(&resolved).contains("The condition has cleared."));
    }
}
