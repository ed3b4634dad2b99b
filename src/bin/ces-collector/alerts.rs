//! The alert commands of `ces-collector`: sites' time zones and opening hours, alert rules,
//! and the alerts they raised (list, acknowledge).

use std::sync::Arc;

use ces_kiosk::collector::action::Action;
use ces_kiosk::collector::alert::hours::{OpeningHours, SiteHours, time_zone};
use ces_kiosk::collector::alert::message;
use ces_kiosk::collector::alert::rule::{Given, Kind, Rule};
use ces_kiosk::collector::alert::summary::Every;
use ces_kiosk::collector::storage::{AlertFilter, Storage};
use clap::{Args, Subcommand, ValueEnum};

use crate::fleet::check_name;
use crate::{Shown, Usage, print_safely};

#[derive(Subcommand)]
pub enum SiteCommand {
    /// Set a site's time zone and opening hours: alert rules fire only while it is open.
    Set {
        name: String,
        /// An IANA time zone name, e.g. Europe/Amsterdam.
        #[arg(long)]
        time_zone: String,
        /// "always", or days and times, e.g. "mon-fri 08:00-18:00, sat 09:00-12:30".
        #[arg(long, default_value = "always")]
        hours: String,
        /// A summary e-mail of the site's day or week, sent after it closes.
        #[arg(long, value_enum, default_value_t = Every::Never)]
        summary: Every,
    },
    /// List the sites with their time zone and opening hours.
    List,
}

#[derive(Subcommand)]
pub enum RuleCommand {
    /// Add an alert rule for the whole fleet, a site or a touchpoint.
    Add(RuleArgs),
    /// List the rules in force.
    List,
    /// Remove a rule; its open alerts are resolved without notice.
    Remove { name: String },
}

#[derive(Args)]
pub struct RuleArgs {
    #[arg(long)]
    name: String,
    #[arg(long, value_enum)]
    kind: Kind,
    /// Only this site (else the whole fleet).
    #[arg(long)]
    site: Option<String>,
    /// Only this touchpoint of the site.
    #[arg(long)]
    touchpoint: Option<String>,
    /// Floor and praise: the share of difficult (easy) answers that fires, in %.
    #[arg(long)]
    share: Option<u8>,
    /// Floor and praise: the window in minutes.
    #[arg(long)]
    window: Option<u32>,
    /// Floor and praise: the fewest counted answers in the window.
    #[arg(long)]
    min_answers: Option<u32>,
    /// Silent: hours without a heartbeat, or without an answer while open.
    #[arg(long, default_value_t = 2)]
    hours: u32,
    /// Seconds the condition must hold before the alert fires.
    #[arg(long, default_value_t = 0)]
    pending: u32,
    /// Seconds the condition must have cleared before the alert resolves itself (default:
    /// the window, or 0 for terminal rules).
    #[arg(long)]
    clear: Option<u32>,
    /// Seconds between repeated notifications while firing and not acknowledged (0: never).
    #[arg(long, default_value_t = 4 * 3600)]
    repeat: u32,
}

#[derive(Subcommand)]
pub enum AlertCommand {
    /// List alerts, newest first.
    List {
        /// Only pending, firing and acknowledged ones.
        #[arg(long)]
        open: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge a firing alert: its repeated notifications stop.
    Ack {
        id: i64,
        /// Who acknowledges it.
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        comment: String,
        /// Record an action at the alert's place too: what was changed (today).
        #[arg(long)]
        action: Option<String>,
    },
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub async fn site(command: SiteCommand, storage: Arc<dyn Storage>) -> anyhow::Result<()> {
    match command {
        SiteCommand::Set {
            name,
            time_zone: zone,
            hours,
            summary,
        } => {
            check_name("site", &name)?;
            time_zone(&zone).map_err(|e| Usage(format!("--time-zone: {e}")))?;
            let hours = OpeningHours::parse(&hours).map_err(|e| Usage(format!("--hours: {e}")))?;
            eprintln!(
                "site {name}: {zone}, open {hours}, summary e-mail {}",
                summary.as_str()
            );
            storage
                .set_site(SiteHours {
                    site: name,
                    time_zone: zone,
                    hours,
                    summary,
                    summary_through: None,
                })
                .await?;
        }
        SiteCommand::List => {
            let mut text = format!(
                "{:<24} {:<24} {:<8} {}\n",
                "site", "time zone", "summary", "opening hours"
            );
            for s in storage.sites().await? {
                text.push_str(&format!(
                    "{:<24} {:<24} {:<8} {}\n",
                    s.site,
                    s.time_zone,
                    s.summary.as_str(),
                    s.hours
                ));
            }
            print_safely(&text, Shown::Table);
        }
    }
    Ok(())
}

pub async fn rule(command: RuleCommand, storage: Arc<dyn Storage>) -> anyhow::Result<()> {
    match command {
        RuleCommand::Add(a) => {
            let rule = a.rule()?;
            rule.check().map_err(Usage)?;
            storage
                .add_alert_rule(rule.clone(), now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("alert rule {} added: {}", rule.name, rule.condition);
        }
        RuleCommand::List => {
            let mut text = String::new();
            for r in storage.alert_rules().await? {
                let scope = match (&r.site, &r.touchpoint) {
                    (None, _) => "every site".to_owned(),
                    (Some(s), None) => format!("site {s}"),
                    (Some(s), Some(t)) => format!("{s} / {t}"),
                };
                text.push_str(&format!(
                    "{}  [{}] {}: {} (pending {} s, clear {} s, repeat {} s)\n",
                    r.name,
                    r.condition.kind(),
                    scope,
                    r.condition,
                    r.pending_s,
                    r.clear_s,
                    r.repeat_s
                ));
            }
            print_safely(&text, Shown::Table);
        }
        RuleCommand::Remove { name } => {
            storage
                .remove_alert_rule(&name, now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("alert rule {name} removed");
        }
    }
    Ok(())
}

impl RuleArgs {
    fn rule(self) -> Result<Rule, Usage> {
        let windowed = matches!(self.kind, Kind::Floor | Kind::Praise);
        if !windowed
            && (self.share.is_some() || self.window.is_some() || self.min_answers.is_some())
        {
            return Err(Usage(format!(
                "--share, --window and --min-answers are for floor and praise rules, not {}",
                self.kind
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_owned())
            )));
        }
        let given = Given {
            name: self.name,
            site: self.site,
            touchpoint: self.touchpoint,
            share: self.share,
            window: self.window,
            min_answers: self.min_answers,
            hours: Some(self.hours),
            pending: Some(self.pending),
            clear: self.clear,
            repeat: Some(self.repeat),
        };
        Ok(given.rule(self.kind))
    }
}

pub async fn alert(command: AlertCommand, storage: Arc<dyn Storage>) -> anyhow::Result<()> {
    match command {
        AlertCommand::List { open, json } => {
            let alerts = storage
                .alerts(AlertFilter {
                    open_only: open,
                    sites: None,
                    limit: 1000,
                })
                .await?;
            if json {
                print_safely(
                    &(serde_json::to_string_pretty(&alerts)? + "\n"),
                    Shown::Json,
                );
                return Ok(());
            }
            let mut text = String::new();
            for a in &alerts {
                text.push_str(&format!(
                    "{:>5}  {:<13} {}  since {}\n       {}\n",
                    a.id,
                    a.state.as_str(),
                    message::place(a),
                    message::time(Some(a.since_ms)),
                    message::text(a)
                ));
                if let Some(ack) = &a.acknowledged {
                    text.push_str(&format!(
                        "       acknowledged by {} at {}: {}\n",
                        ack.by,
                        message::time(Some(ack.at_ms)),
                        ack.comment
                    ));
                }
            }
            print_safely(&text, Shown::Table);
        }
        AlertCommand::Ack {
            id,
            by,
            comment,
            action,
        } => {
            check_text("--by", &by, 100)?;
            check_text("--comment", &comment, 1000)?;
            let today = jiff::ZonedDateTime::now().date();
            // Checked before the acknowledgement, recorded after it.
            let mut record = action.map(|what| Action {
                id: 0,
                site: String::new(),
                touchpoint: None,
                taken_on: today.to_string(),
                what,
                by: by.clone(),
                alert_id: Some(id),
                recorded_at_ms: now_ms(),
            });
            if let Some(r) = &record {
                let named = Action {
                    site: "site".into(),
                    ..r.clone()
                };
                named
                    .check(today)
                    .map_err(|e| Usage(format!("--action: {e}")))?;
            }
            let a = storage
                .acknowledge_alert(id, &by, &comment, now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!(
                "alert {} at {} acknowledged by {by}",
                a.id,
                message::place(&a)
            );
            if let Some(mut r) = record.take() {
                r.site = a.site.clone();
                r.touchpoint = Some(a.touchpoint.clone());
                let action = storage.add_action(r).await?;
                eprintln!("action {action} recorded at {}", message::place(&a));
            }
        }
    }
    Ok(())
}

/// Text a person typed: not empty where needed, not too long, no control characters.
fn check_text(key: &str, text: &str, max: usize) -> Result<(), Usage> {
    if key == "--by" && text.trim().is_empty() {
        return Err(Usage(format!("{key} must name who acknowledges")));
    }
    ces_kiosk::text::check_free_text(text, max).map_err(|e| Usage(format!("{key}: {e}")))
}
