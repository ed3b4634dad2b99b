//! The life of an alert (pure): given what a rule sees now at each place and the rule's open
//! alerts, what changes. pending (the condition must hold for the rule's pending time) →
//! firing → acknowledged (by a person) → resolved once the condition has cleared for the
//! rule's clear time. A pending alert whose condition clears is dropped unseen.

use serde::{Deserialize, Serialize};

use super::rule::Rule;

/// Where an alert is: a touchpoint, or one terminal of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Place {
    pub site: String,
    pub touchpoint: String,
    /// The terminal, for rules about terminals.
    pub device: Option<String>,
}

impl Place {
    /// The name an open alert is unique by (with its rule).
    pub fn key(&self) -> String {
        match &self.device {
            Some(d) => d.clone(),
            None => format!("{}/{}", self.site, self.touchpoint),
        }
    }
}

/// What a rule saw at a place where its condition holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "seen", rename_all = "lowercase")]
pub enum Figures {
    /// Counted answers in the window, and how many of them were difficult or easy.
    Answers {
        window_min: u32,
        counted: u64,
        difficult: u64,
        easy: u64,
    },
    /// When the terminal was last heard from and when it last had an answer (ms).
    Silence {
        last_seen_ms: Option<i64>,
        last_answer_ms: Option<i64>,
    },
    /// What the terminal reports.
    Trouble {
        dead_letters: u64,
        config_error: Option<String>,
    },
}

/// A place where the rule's condition holds now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub place: Place,
    pub figures: Figures,
}

/// An alert's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Pending,
    Firing,
    Acknowledged,
    Resolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Firing => "firing",
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
        }
    }

    pub fn from_name(name: &str) -> Option<State> {
        [
            State::Pending,
            State::Firing,
            State::Acknowledged,
            State::Resolved,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// An open alert of the rule, as far as deciding needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAlert {
    pub id: i64,
    pub place_key: String,
    pub state: State,
    pub since_ms: i64,
    pub clear_since_ms: Option<i64>,
    pub notified_at_ms: Option<i64>,
    /// What was seen last.
    pub figures: Option<Figures>,
}

/// A notification an alert's change asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    Firing,
    Repeat,
    Resolved,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Firing => "firing",
            Event::Repeat => "repeat",
            Event::Resolved => "resolved",
        }
    }
}

/// One change to the alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A new alert, pending or (with no pending time) firing at once.
    Open {
        observation: Observation,
        state: State,
    },
    /// The condition still holds: the figures are new, any clearing is over; `notify`
    /// when the alert fires now or is due a repeat.
    Holds {
        alert: i64,
        figures: Figures,
        to: State,
        notify: Option<Event>,
    },
    /// The condition cleared (now, for the first time since it last held).
    Clearing { alert: i64, since_ms: i64 },
    /// A pending alert whose condition cleared before it fired.
    Drop { alert: i64 },
    /// Cleared for the rule's clear time.
    Resolve { alert: i64 },
}

/// What changes for `rule` at `now_ms`, given the places where its condition holds and
/// its open alerts.
pub fn decide(
    rule: &Rule,
    now_ms: i64,
    holding: Vec<Observation>,
    open: &[OpenAlert],
) -> Vec<Step> {
    let pending_ms = i64::from(rule.pending_s) * 1000;
    let clear_ms = i64::from(rule.clear_s) * 1000;
    let repeat_ms = i64::from(rule.repeat_s) * 1000;
    let mut steps = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for observation in holding {
        let key = observation.place.key();
        let Some(alert) = open.iter().find(|a| a.place_key == key) else {
            let state = if pending_ms == 0 {
                State::Firing
            } else {
                State::Pending
            };
            seen.insert(key);
            steps.push(Step::Open { observation, state });
            continue;
        };
        seen.insert(key);
        let (to, notify) = match alert.state {
            State::Pending if now_ms - alert.since_ms >= pending_ms => {
                (State::Firing, Some(Event::Firing))
            }
            State::Firing
                if repeat_ms > 0
                    && now_ms - alert.notified_at_ms.unwrap_or(alert.since_ms) >= repeat_ms =>
            {
                (State::Firing, Some(Event::Repeat))
            }
            state => (state, None),
        };
        // Nothing to write when nothing changed.
        let same = to == alert.state
            && notify.is_none()
            && alert.clear_since_ms.is_none()
            && alert.figures.as_ref() == Some(&observation.figures);
        if !same {
            steps.push(Step::Holds {
                alert: alert.id,
                figures: observation.figures,
                to,
                notify,
            });
        }
    }
    for alert in open.iter().filter(|a| !seen.contains(&a.place_key)) {
        let step = match (alert.state, alert.clear_since_ms) {
            (State::Pending, _) => Step::Drop { alert: alert.id },
            (_, Some(since)) if now_ms - since >= clear_ms => Step::Resolve { alert: alert.id },
            (_, None) if clear_ms == 0 => Step::Resolve { alert: alert.id },
            (_, None) => Step::Clearing {
                alert: alert.id,
                since_ms: now_ms,
            },
            // Clearing already, and not long enough.
            (_, Some(_)) => continue,
        };
        steps.push(step);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::alert::rule::{Condition, Share};

    fn rule(pending_s: u32, clear_s: u32, repeat_s: u32) -> Rule {
        Rule {
            id: 1,
            name: "floor".into(),
            condition: Condition::Floor(Share {
                share_pct: 50,
                window_min: 15,
                min_answers: 4,
            }),
            site: None,
            touchpoint: None,
            pending_s,
            clear_s,
            repeat_s,
        }
    }

    fn seen() -> Observation {
        Observation {
            place: Place {
                site: "hq".into(),
                touchpoint: "desk".into(),
                device: None,
            },
            figures: Figures::Answers {
                window_min: 15,
                counted: 4,
                difficult: 3,
                easy: 0,
            },
        }
    }

    fn open(state: State, since_ms: i64, clear: Option<i64>, notified: Option<i64>) -> OpenAlert {
        OpenAlert {
            id: 7,
            place_key: "hq/desk".into(),
            state,
            since_ms,
            clear_since_ms: clear,
            notified_at_ms: notified,
            figures: None,
        }
    }

    #[test]
    fn a_new_breach_fires_at_once_or_waits_its_pending_time() {
        let steps = decide(&rule(0, 60, 0), 1000, vec![seen()], &[]);
        assert_eq!(
            steps,
            [Step::Open {
                observation: seen(),
                state: State::Firing
            }]
        );
        let steps = decide(&rule(60, 60, 0), 1000, vec![seen()], &[]);
        assert!(matches!(
            steps[..],
            [Step::Open {
                state: State::Pending,
                ..
            }]
        ));
        // Still pending after 59 s; firing (notified) at 60 s.
        let pending = [open(State::Pending, 1000, None, None)];
        let steps = decide(&rule(60, 60, 0), 60_000, vec![seen()], &pending);
        assert!(matches!(
            steps[..],
            [Step::Holds {
                to: State::Pending,
                notify: None,
                ..
            }]
        ));
        let steps = decide(&rule(60, 60, 0), 61_000, vec![seen()], &pending);
        assert!(matches!(
            steps[..],
            [Step::Holds {
                to: State::Firing,
                notify: Some(Event::Firing),
                ..
            }]
        ));
    }

    #[test]
    fn an_alert_that_holds_unchanged_is_left_alone() {
        let same = OpenAlert {
            figures: Some(seen().figures),
            ..open(State::Firing, 0, None, Some(0))
        };
        assert_eq!(
            decide(
                &rule(0, 60, 0),
                1000,
                vec![seen()],
                std::slice::from_ref(&same)
            ),
            []
        );
        let before = OpenAlert {
            figures: Some(Figures::Answers {
                window_min: 15,
                counted: 5,
                difficult: 3,
                easy: 0,
            }),
            ..same
        };
        let steps = decide(&rule(0, 60, 0), 1000, vec![seen()], &[before]);
        assert!(matches!(steps[..], [Step::Holds { notify: None, .. }]));
    }

    #[test]
    fn a_pending_alert_that_clears_is_dropped() {
        let pending = [open(State::Pending, 1000, None, None)];
        assert_eq!(
            decide(&rule(60, 60, 0), 2000, vec![], &pending),
            [Step::Drop { alert: 7 }]
        );
    }

    #[test]
    fn repeats_stop_once_acknowledged() {
        let r = rule(0, 60, 3600);
        let firing = [open(State::Firing, 0, None, Some(0))];
        let steps = decide(&r, 3_599_999, vec![seen()], &firing);
        assert!(matches!(steps[..], [Step::Holds { notify: None, .. }]));
        let steps = decide(&r, 3_600_000, vec![seen()], &firing);
        assert!(matches!(
            steps[..],
            [Step::Holds {
                notify: Some(Event::Repeat),
                ..
            }]
        ));
        let acked = [open(State::Acknowledged, 0, None, Some(0))];
        let steps = decide(&r, 10_000_000, vec![seen()], &acked);
        assert!(matches!(
            steps[..],
            [Step::Holds {
                to: State::Acknowledged,
                notify: None,
                ..
            }]
        ));
        // Never repeated with a repeat time of 0.
        let steps = decide(&rule(0, 60, 0), 10_000_000, vec![seen()], &firing);
        assert!(matches!(steps[..], [Step::Holds { notify: None, .. }]));
    }

    #[test]
    fn an_alert_resolves_once_clear_for_the_clear_time() {
        let r = rule(0, 60, 0);
        let firing = [open(State::Firing, 0, None, Some(0))];
        assert_eq!(
            decide(&r, 5000, vec![], &firing),
            [Step::Clearing {
                alert: 7,
                since_ms: 5000
            }]
        );
        let clearing = [open(State::Acknowledged, 0, Some(5000), Some(0))];
        assert_eq!(decide(&r, 64_999, vec![], &clearing), []);
        assert_eq!(
            decide(&r, 65_000, vec![], &clearing),
            [Step::Resolve { alert: 7 }]
        );
        // Holding again ends the clearing (the step carries no clear time).
        let steps = decide(&r, 30_000, vec![seen()], &clearing);
        assert!(matches!(steps[..], [Step::Holds { .. }]));
        // No clear time: resolved at once.
        assert_eq!(
            decide(&rule(0, 0, 0), 1, vec![], &firing),
            [Step::Resolve { alert: 7 }]
        );
    }
}
