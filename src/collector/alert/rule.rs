//! Alert rules: what condition, for which places, and how an alert of the rule moves
//! through its life (pure). Set with `ces-collector alert-rule add`.

use std::fmt;

use serde::Serialize;

use crate::survey::{NAME_RULE, is_name};

/// A share of answers at a touchpoint within a window of minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Share {
    pub share_pct: u8,
    pub window_min: u32,
    /// The fewest counted answers in the window.
    pub min_answers: u32,
}

impl Share {
    /// Whether `n` of `counted` answers reach the share, with enough answers.
    pub fn reached(&self, n: u64, counted: u64) -> bool {
        counted >= u64::from(self.min_answers) && n * 100 >= u64::from(self.share_pct) * counted
    }
}

/// What a rule watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Condition {
    /// The share of difficult answers at a touchpoint reaches the rule's.
    Floor(Share),
    /// The positive twin: the share of easy answers reaches the rule's.
    Praise(Share),
    /// A terminal not heard from (no heartbeat) for `hours`, or without an answer during
    /// its site's opening hours for `hours` of them.
    Silent { hours: u32 },
    /// A terminal reporting answers it had to give up on (dead letters), or a survey
    /// config it refused.
    Trouble,
}

impl Condition {
    pub fn kind(&self) -> &'static str {
        match self {
            Condition::Floor(_) => "floor",
            Condition::Praise(_) => "praise",
            Condition::Silent { .. } => "silent",
            Condition::Trouble => "trouble",
        }
    }

    /// The share a floor or praise rule watches.
    pub fn share(&self) -> Option<&Share> {
        match self {
            Condition::Floor(s) | Condition::Praise(s) => Some(s),
            _ => None,
        }
    }
}

/// The kinds of rule, as people name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A share of difficult answers within a window.
    Floor,
    /// A share of easy answers within a window (a place doing very well).
    Praise,
    /// A terminal not heard from, or without answers during opening hours.
    Silent,
    /// A terminal with dead letters or a refused survey config.
    Trouble,
}

/// A rule as a person gives it (command line or dashboard form): what is left out takes
/// the defaults: 50 % (floor) or 90 % (praise) within 15 minutes with at least 4 answers;
/// 2 hours silent; no hold before firing; cleared after the window (at once for terminal
/// rules); repeated every 4 hours.
#[derive(Clone, Debug, Default)]
pub struct Given {
    pub name: String,
    pub site: Option<String>,
    pub touchpoint: Option<String>,
    pub share: Option<u8>,
    pub window: Option<u32>,
    pub min_answers: Option<u32>,
    pub hours: Option<u32>,
    pub pending: Option<u32>,
    pub clear: Option<u32>,
    pub repeat: Option<u32>,
}

impl Given {
    /// The rule of `kind` this describes (not checked yet: [`Rule::check`]).
    pub fn rule(self, kind: Kind) -> Rule {
        let share = |default_share| Share {
            share_pct: self.share.unwrap_or(default_share),
            window_min: self.window.unwrap_or(15),
            min_answers: self.min_answers.unwrap_or(4),
        };
        let condition = match kind {
            Kind::Floor => Condition::Floor(share(50)),
            Kind::Praise => Condition::Praise(share(90)),
            Kind::Silent => Condition::Silent {
                hours: self.hours.unwrap_or(2),
            },
            Kind::Trouble => Condition::Trouble,
        };
        let window_s = condition.share().map_or(0, |s| s.window_min * 60);
        Rule {
            id: 0,
            name: self.name,
            condition,
            site: self.site,
            touchpoint: self.touchpoint,
            pending_s: self.pending.unwrap_or(0),
            clear_s: self.clear.unwrap_or(window_s),
            repeat_s: self.repeat.unwrap_or(4 * 3600),
        }
    }
}

/// The longest window of a floor or praise rule (the live counts keep one day).
pub const MAX_WINDOW_MIN: u32 = 24 * 60;

/// A rule as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// 0 for a rule not stored yet.
    pub id: i64,
    pub name: String,
    #[serde(flatten)]
    pub condition: Condition,
    /// `None`: every site.
    pub site: Option<String>,
    /// `None`: every touchpoint of the site (or of the fleet).
    pub touchpoint: Option<String>,
    /// How long the condition must hold before the alert fires.
    pub pending_s: u32,
    /// How long the condition must have cleared before the alert resolves itself.
    pub clear_s: u32,
    /// A firing alert nobody acknowledged is notified again this often (0: never).
    pub repeat_s: u32,
}

impl Rule {
    /// Checks what a person gave; the error names the option.
    pub fn check(&self) -> Result<(), String> {
        if !is_name(&self.name) {
            return Err(format!("--name {:?} must be {NAME_RULE}", self.name));
        }
        for (key, v) in [("--site", &self.site), ("--touchpoint", &self.touchpoint)] {
            if let Some(v) = v
                && !is_name(v)
            {
                return Err(format!("{key} {v:?} must be {NAME_RULE}"));
            }
        }
        if self.touchpoint.is_some() && self.site.is_none() {
            return Err("--touchpoint needs --site: a touchpoint is named within its site".into());
        }
        match self.condition {
            Condition::Floor(Share {
                share_pct,
                window_min,
                min_answers,
            })
            | Condition::Praise(Share {
                share_pct,
                window_min,
                min_answers,
            }) => {
                if !(1..=100).contains(&share_pct) {
                    return Err(format!("--share {share_pct} is outside 1 to 100 (%)"));
                }
                if !(1..=MAX_WINDOW_MIN).contains(&window_min) {
                    return Err(format!(
                        "--window {window_min} is outside 1 to {MAX_WINDOW_MIN} (minutes)"
                    ));
                }
                if !(1..=100_000).contains(&min_answers) {
                    return Err(format!(
                        "--min-answers {min_answers} is outside 1 to 100000"
                    ));
                }
            }
            Condition::Silent { hours } => {
                if !(1..=720).contains(&hours) {
                    return Err(format!("--hours {hours} is outside 1 to 720"));
                }
            }
            Condition::Trouble => {}
        }
        for (key, v) in [
            ("--pending", self.pending_s),
            ("--clear", self.clear_s),
            ("--repeat", self.repeat_s),
        ] {
            if v > 7 * 86_400 {
                return Err(format!("{key} {v} is longer than a week (seconds)"));
            }
        }
        Ok(())
    }

    /// Whether a place is within the rule's scope.
    pub fn covers(&self, site: &str, touchpoint: &str) -> bool {
        self.site.as_deref().is_none_or(|s| s == site)
            && self.touchpoint.as_deref().is_none_or(|t| t == touchpoint)
    }
}

impl fmt::Display for Condition {
    /// The condition in words, for lists and notifications.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Floor(Share {
                share_pct,
                window_min,
                min_answers,
            }) => write!(
                f,
                "{share_pct} % or more difficult within {window_min} min (at least \
                 {min_answers} answers)"
            ),
            Condition::Praise(Share {
                share_pct,
                window_min,
                min_answers,
            }) => write!(
                f,
                "{share_pct} % or more easy within {window_min} min (at least {min_answers} \
                 answers)"
            ),
            Condition::Silent { hours } => write!(
                f,
                "no heartbeat for {hours} h, or no answer for {hours} h of opening hours"
            ),
            Condition::Trouble => f.write_str("dead letters, or a survey config refused"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor() -> Rule {
        Rule {
            id: 0,
            name: "desk-floor".into(),
            condition: Condition::Floor(Share {
                share_pct: 50,
                window_min: 15,
                min_answers: 4,
            }),
            site: Some("hq".into()),
            touchpoint: None,
            pending_s: 0,
            clear_s: 900,
            repeat_s: 14_400,
        }
    }

    #[test]
    fn a_rule_covers_its_scope_only() {
        let r = floor();
        assert!(r.check().is_ok());
        assert!(r.covers("hq", "desk"));
        assert!(!r.covers("depot", "desk"));
        let fleet = Rule {
            site: None,
            ..floor()
        };
        assert!(fleet.covers("depot", "desk"));
        let one = Rule {
            touchpoint: Some("desk".into()),
            ..floor()
        };
        assert!(one.covers("hq", "desk") && !one.covers("hq", "returns"));
    }

    #[test]
    fn bad_rules_name_the_option() {
        let cases = [
            (
                Rule {
                    name: "a b".into(),
                    ..floor()
                },
                "--name",
            ),
            (
                Rule {
                    site: None,
                    touchpoint: Some("desk".into()),
                    ..floor()
                },
                "needs --site",
            ),
            (
                Rule {
                    condition: Condition::Floor(Share {
                        share_pct: 0,
                        window_min: 15,
                        min_answers: 4,
                    }),
                    ..floor()
                },
                "--share 0",
            ),
            (
                Rule {
                    condition: Condition::Praise(Share {
                        share_pct: 90,
                        window_min: 2000,
                        min_answers: 4,
                    }),
                    ..floor()
                },
                "--window 2000",
            ),
            (
                Rule {
                    condition: Condition::Silent { hours: 0 },
                    ..floor()
                },
                "--hours 0",
            ),
            (
                Rule {
                    repeat_s: 900_000,
                    ..floor()
                },
                "--repeat",
            ),
        ];
        for (rule, says) in cases {
            let e = rule.check().unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }
}
