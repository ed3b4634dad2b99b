//! One alert round in one writer transaction: what each rule watches is read (`live_counts`
//! and the devices' last reports, within the sites' opening hours), [`decide`] says what
//! changes, the alerts are written, and each notification is queued in the outbox.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use rusqlite::{Connection, params};

use super::{alert_view, outbox, rules, sites};
use crate::collector::alert::decide::{
    Event, Figures, Observation, OpenAlert, Place, State, Step, decide,
};
use crate::collector::alert::hours::{OpeningHours, time_zone};
use crate::collector::alert::rule::{Condition, Rule};
use crate::collector::storage::StorageError;
use crate::collector::storage::sqlite::rollups::prune_live;

/// A site's clock and hours; a site nobody set is open at all times, in UTC.
struct Clock {
    tz: jiff::tz::TimeZone,
    hours: OpeningHours,
}

/// What an alert round knows of a device.
struct Device {
    id: String,
    site: String,
    touchpoint: String,
    created_at_ms: i64,
    last_seen_ms: Option<i64>,
    last_answer_ms: Option<i64>,
    dead_letters: u64,
    config_error: Option<String>,
}

/// What a round has read once for all its rules.
struct Seen {
    now_ms: i64,
    now: jiff::Timestamp,
    clocks: BTreeMap<String, Clock>,
    devices: Vec<Device>,
    /// Live counts per touchpoint, per window length in minutes.
    windows: BTreeMap<u32, Vec<(String, String, [u64; 3])>>,
}

impl Seen {
    fn open_now(&self, site: &str) -> bool {
        self.clocks
            .get(site)
            .is_none_or(|k| k.hours.is_open(&k.tz, self.now))
    }

    /// The places in the rule's scope, open now, where its condition holds.
    fn holding(&mut self, c: &Connection, rule: &Rule) -> Result<Vec<Observation>, StorageError> {
        if let Some(share) = rule.condition.share()
            && let Entry::Vacant(v) = self.windows.entry(share.window_min)
        {
            v.insert(live_window(c, self.now_ms, share.window_min)?);
        }
        let this = &*self;
        let in_scope =
            |site: &str, touchpoint: &str| rule.covers(site, touchpoint) && this.open_now(site);
        let (share, praise) = match rule.condition {
            Condition::Floor(share) => (share, false),
            Condition::Praise(share) => (share, true),
            Condition::Silent { hours } => {
                let seen = self
                    .devices
                    .iter()
                    .filter(|d| in_scope(&d.site, &d.touchpoint) && this.silent(d, hours));
                return Ok(seen
                    .map(|d| Observation {
                        place: device_place(d),
                        figures: Figures::Silence {
                            last_seen_ms: d.last_seen_ms,
                            last_answer_ms: d.last_answer_ms,
                        },
                    })
                    .collect());
            }
            Condition::Trouble => {
                let seen = this.devices.iter().filter(|d| {
                    in_scope(&d.site, &d.touchpoint)
                        && (d.dead_letters > 0 || d.config_error.is_some())
                });
                return Ok(seen
                    .map(|d| Observation {
                        place: device_place(d),
                        figures: Figures::Trouble {
                            dead_letters: d.dead_letters,
                            config_error: d.config_error.clone(),
                        },
                    })
                    .collect());
            }
        };
        let breached = |&[counted, difficult, easy]: &[u64; 3]| {
            share.reached(if praise { easy } else { difficult }, counted)
        };
        Ok(this.windows[&share.window_min]
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
            .collect())
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

/// One alert round: every rule decided at `now_ms`; returns the deliveries queued.
pub fn round(c: &Connection, now_ms: i64, channels: &[String]) -> Result<usize, StorageError> {
    prune_live(c, now_ms)?;
    let rules = rules(c)?;
    if rules.is_empty() {
        return Ok(0);
    }
    let mut clocks = BTreeMap::new();
    for s in sites(c)? {
        match time_zone(&s.time_zone) {
            Ok(tz) => {
                clocks.insert(s.site, Clock { tz, hours: s.hours });
            }
            Err(e) => tracing::warn!(site = s.site, "alerts: {e}; taken as open at all times"),
        }
    }
    let mut seen = Seen {
        now_ms,
        now: jiff::Timestamp::from_millisecond(now_ms)
            .map_err(|e| StorageError::Failed(format!("the time of an alert round: {e}")))?,
        clocks,
        devices: devices(c)?,
        windows: BTreeMap::new(),
    };
    let mut queued = 0;
    for rule in &rules {
        let holding = seen.holding(c, rule)?;
        let open = open_alerts(c, rule.id)?;
        for step in decide(rule, now_ms, holding, &open) {
            queued += apply(c, rule, step, now_ms, channels)?;
        }
    }
    Ok(queued)
}

fn device_place(d: &Device) -> Place {
    Place {
        site: d.site.clone(),
        touchpoint: d.touchpoint.clone(),
        device: Some(d.id.clone()),
    }
}

/// Counted, difficult and easy answers per touchpoint within the last `window_min` minutes.
fn live_window(
    c: &Connection,
    now_ms: i64,
    window_min: u32,
) -> Result<Vec<(String, String, [u64; 3])>, StorageError> {
    let first = now_ms.div_euclid(60_000) - i64::from(window_min) + 1;
    let mut q = c.prepare_cached(
        "SELECT site, touchpoint, sum(counted), sum(difficult), sum(easy) FROM live_counts
         WHERE minute >= ?1 GROUP BY site, touchpoint",
    )?;
    let rows = q.query_map([first], |r| {
        let n = |i| r.get::<_, i64>(i).map(|v| v.max(0).unsigned_abs());
        Ok((r.get(0)?, r.get(1)?, [n(2)?, n(3)?, n(4)?]))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn devices(c: &Connection) -> Result<Vec<Device>, StorageError> {
    let mut q = c.prepare_cached(
        "SELECT id, site, touchpoint, created_at_ms, last_seen_ms, last_answer_ms,
            coalesce(dead_letters, 0), config_error
         FROM devices WHERE revoked_at_ms IS NULL",
    )?;
    let rows = q.query_map([], |r| {
        Ok(Device {
            id: r.get(0)?,
            site: r.get(1)?,
            touchpoint: r.get(2)?,
            created_at_ms: r.get(3)?,
            last_seen_ms: r.get(4)?,
            last_answer_ms: r.get(5)?,
            dead_letters: r.get::<_, i64>(6)?.max(0).unsigned_abs(),
            config_error: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn open_alerts(c: &Connection, rule: i64) -> Result<Vec<OpenAlert>, StorageError> {
    let mut q = c.prepare_cached(
        "SELECT id, place, state, since_ms, clear_since_ms, notified_at_ms, figures FROM alerts
         WHERE rule_id = ?1 AND state != 'resolved'",
    )?;
    let rows = q.query_map([rule], |r| {
        Ok(OpenAlert {
            id: r.get(0)?,
            place_key: r.get(1)?,
            state: State::from_name(&r.get::<_, String>(2)?).unwrap_or(State::Firing),
            since_ms: r.get(3)?,
            clear_since_ms: r.get(4)?,
            notified_at_ms: r.get(5)?,
            figures: serde_json::from_str(&r.get::<_, String>(6)?).ok(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn figures_json(f: &Figures) -> String {
    serde_json::to_string(f).expect("figures serialise")
}

/// Writes one step; returns the deliveries it queued.
fn apply(
    c: &Connection,
    rule: &Rule,
    step: Step,
    now_ms: i64,
    channels: &[String],
) -> Result<usize, StorageError> {
    let (alert, event) = match step {
        Step::Open { observation, state } => {
            let p = &observation.place;
            let fired = (state == State::Firing).then_some(now_ms);
            let id: i64 = c.query_row(
                "INSERT INTO alerts (rule_id, place, site, touchpoint, device_id, state,
                    since_ms, fired_at_ms, notified_at_ms, figures)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9) RETURNING id",
                params![
                    rule.id,
                    p.key(),
                    p.site,
                    p.touchpoint,
                    p.device,
                    state.as_str(),
                    now_ms,
                    fired,
                    figures_json(&observation.figures)
                ],
                |r| r.get(0),
            )?;
            (id, fired.map(|_| Event::Firing))
        }
        Step::Holds {
            alert,
            figures,
            to,
            notify,
        } => {
            c.prepare_cached(
                "UPDATE alerts SET state = ?2, figures = ?3, clear_since_ms = NULL,
                    fired_at_ms = CASE WHEN ?2 = 'firing' THEN coalesce(fired_at_ms, ?4)
                        ELSE fired_at_ms END,
                    notified_at_ms = CASE WHEN ?5 THEN ?4 ELSE notified_at_ms END
                 WHERE id = ?1",
            )?
            .execute(params![
                alert,
                to.as_str(),
                figures_json(&figures),
                now_ms,
                notify.is_some()
            ])?;
            (alert, notify)
        }
        Step::Clearing { alert, since_ms } => {
            c.prepare_cached("UPDATE alerts SET clear_since_ms = ?2 WHERE id = ?1")?
                .execute(params![alert, since_ms])?;
            (alert, None)
        }
        Step::Drop { alert } => {
            c.prepare_cached("DELETE FROM alerts WHERE id = ?1")?
                .execute([alert])?;
            (alert, None)
        }
        Step::Resolve { alert } => {
            c.prepare_cached(
                "UPDATE alerts SET state = 'resolved', resolved_at_ms = ?2 WHERE id = ?1",
            )?
            .execute(params![alert, now_ms])?;
            (alert, Some(Event::Resolved))
        }
    };
    let Some(event) = event else {
        return Ok(0);
    };
    let view = alert_view(c, alert)?
        .ok_or_else(|| StorageError::Failed(format!("alert {alert} vanished in its round")))?;
    outbox::queue(c, &view, event, channels, now_ms)
}
