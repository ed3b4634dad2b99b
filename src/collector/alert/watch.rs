//! What an alert round sees (pure): the sites' clocks and opening hours, the terminals'
//! last reports and the live counts of each rule's window, read once by a storage backend;
//! from them, the places in each rule's scope, open now, where its condition holds.

use std::collections::BTreeMap;

use super::decide::{Figures, Observation, Place};
use super::hours::{OpeningHours, SiteHours, time_zone};
use super::rule::{Condition, Rule};

/// What an alert round knows of a terminal (revoked ones are left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub site: String,
    pub touchpoint: String,
    pub created_at_ms: i64,
    pub last_seen_ms: Option<i64>,
    pub last_answer_ms: Option<i64>,
    pub dead_letters: u64,
    pub config_error: Option<String>,
}

/// Counted, difficult and easy answers of one touchpoint (site, touchpoint) in a window.
pub type WindowCounts = Vec<(String, String, [u64; 3])>;

/// A site's clock and hours; a site nobody set is open at all times, in UTC.
struct Clock {
    tz: jiff::tz::TimeZone,
    hours: OpeningHours,
}

/// What a round has read once for all its rules.
pub struct Seen {
    now_ms: i64,
    now: jiff::Timestamp,
    clocks: BTreeMap<String, Clock>,
    devices: Vec<Device>,
    /// Live counts per touchpoint, per window length in minutes.
    windows: BTreeMap<u32, WindowCounts>,
}

/// The window lengths (minutes) the rules read live counts for, each once.
pub fn windows_of(rules: &[Rule]) -> Vec<u32> {
    let mut windows: Vec<u32> = rules
        .iter()
        .filter_map(|r| r.condition.share().map(|s| s.window_min))
        .collect();
    windows.sort_unstable();
    windows.dedup();
    windows
}

/// The first minute (Unix minutes) of a window of `window_min` minutes ending at `now_ms`.
pub fn window_start(now_ms: i64, window_min: u32) -> i64 {
    now_ms.div_euclid(60_000) - i64::from(window_min) + 1
}

impl Seen {
    /// What a round at `now_ms` sees; `windows` holds the live counts of every window
    /// length of [`windows_of`]. A site whose time zone is unknown is taken as open.
    pub fn new(
        now_ms: i64,
        sites: Vec<SiteHours>,
        devices: Vec<Device>,
        windows: BTreeMap<u32, WindowCounts>,
    ) -> Result<Seen, String> {
        let mut clocks = BTreeMap::new();
        for s in sites {
            match time_zone(&s.time_zone) {
                Ok(tz) => {
                    clocks.insert(s.site, Clock { tz, hours: s.hours });
                }
                Err(e) => tracing::warn!(site = s.site, "alerts: {e}; taken as open at all times"),
            }
        }
        Ok(Seen {
            now_ms,
            now: jiff::Timestamp::from_millisecond(now_ms)
                .map_err(|e| format!("the time of an alert round: {e}"))?,
            clocks,
            devices,
            windows,
        })
    }

    fn open_now(&self, site: &str) -> bool {
        self.clocks
            .get(site)
            .is_none_or(|k| k.hours.is_open(&k.tz, self.now))
    }

    /// The places in the rule's scope, open now, where its condition holds.
    pub fn holding(&self, rule: &Rule) -> Vec<Observation> {
        let in_scope =
            |site: &str, touchpoint: &str| rule.covers(site, touchpoint) && self.open_now(site);
        let (share, praise) = match rule.condition {
            Condition::Floor(share) => (share, false),
            Condition::Praise(share) => (share, true),
            Condition::Silent { hours } => {
                let seen = self
                    .devices
                    .iter()
                    .filter(|d| in_scope(&d.site, &d.touchpoint) && self.silent(d, hours));
                return seen
                    .map(|d| Observation {
                        place: device_place(d),
                        figures: Figures::Silence {
                            last_seen_ms: d.last_seen_ms,
                            last_answer_ms: d.last_answer_ms,
                        },
                    })
                    .collect();
            }
            Condition::Trouble => {
                let seen = self.devices.iter().filter(|d| {
                    in_scope(&d.site, &d.touchpoint)
                        && (d.dead_letters > 0 || d.config_error.is_some())
                });
                return seen
                    .map(|d| Observation {
                        place: device_place(d),
                        figures: Figures::Trouble {
                            dead_letters: d.dead_letters,
                            config_error: d.config_error.clone(),
                        },
                    })
                    .collect();
            }
        };
        let breached = |&[counted, difficult, easy]: &[u64; 3]| {
            share.reached(if praise { easy } else { difficult }, counted)
        };
        let Some(window) = self.windows.get(&share.window_min) else {
            return Vec::new();
        };
        window
            .iter()
            .filter(|(site, touchpoint, n)| in_scope(site, touchpoint) && breached(n))
            .map(
                |(site, touchpoint, [counted, difficult, easy])| Observation {
                    place: Place {
                        site: site.clone(),
                        touchpoint: touchpoint.clone(),
                        device: None,
                    },
                    figures: Figures::Answers {
                        window_min: share.window_min,
                        counted: *counted,
                        difficult: *difficult,
                        easy: *easy,
                    },
                },
            )
            .collect()
    }

    /// No heartbeat for `hours`, or no answer for `hours` of its site's opening hours.
    fn silent(&self, d: &Device, hours: u32) -> bool {
        let limit = i64::from(hours) * 3_600_000;
        let unheard = self.now_ms - d.last_seen_ms.unwrap_or(d.created_at_ms);
        let from = d.last_answer_ms.unwrap_or(d.created_at_ms);
        let quiet = match (
            self.clocks.get(&d.site),
            jiff::Timestamp::from_millisecond(from),
        ) {
            (Some(k), Ok(from)) => k.hours.open_ms(&k.tz, from, self.now),
            _ => self.now_ms - from,
        };
        unheard >= limit || quiet >= limit
    }
}

fn device_place(d: &Device) -> Place {
    Place {
        site: d.site.clone(),
        touchpoint: d.touchpoint.clone(),
        device: Some(d.id.clone()),
    }
}

/// An alert's figures as stored (JSON).
pub fn figures_json(f: &Figures) -> String {
    serde_json::to_string(f).expect("figures serialise")
}
