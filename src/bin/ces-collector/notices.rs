//! The notice commands of `ces-collector`: "you said, we did" on the thank-you screens of a
//! site (or one touchpoint), set or cleared as a new version of their survey config, which
//! terminals pick up after their next heartbeat and check the same way.

use std::sync::Arc;

use ces_kiosk::collector::storage::{ConfigTarget, SqliteStorage, Storage};
use ces_kiosk::config::{SurveyConfig, with_notice};
use ces_kiosk::survey::Notice;
use clap::Subcommand;

use crate::Usage;
use crate::fleet::check_name;

#[derive(Subcommand)]
pub enum NoticeCommand {
    /// Show a notice under the thank-you of a site's terminals (or one touchpoint's), in
    /// every language of their survey, until its last day.
    Set {
        #[arg(long)]
        site: String,
        /// Only the terminals of this touchpoint (they get a survey config of their own).
        #[arg(long)]
        touchpoint: Option<String>,
        /// The last local date it is shown (YYYY-MM-DD).
        #[arg(long)]
        until: String,
        /// The text in one language, as LANGUAGE=TEXT; once per survey language.
        #[arg(long = "text", value_name = "LANGUAGE=TEXT", required = true)]
        texts: Vec<String>,
    },
    /// Take the notice away.
    Clear {
        #[arg(long)]
        site: String,
        #[arg(long)]
        touchpoint: Option<String>,
    },
}

pub async fn notice(command: NoticeCommand, storage: Arc<SqliteStorage>) -> anyhow::Result<()> {
    let (site, touchpoint, notice) = match command {
        NoticeCommand::Set {
            site,
            touchpoint,
            until,
            texts,
        } => {
            let mut text = std::collections::BTreeMap::new();
            for t in texts {
                let (lang, words) = t
                    .split_once('=')
                    .ok_or_else(|| Usage(format!("--text {t:?} is not LANGUAGE=TEXT")))?;
                text.insert(lang.trim().to_owned(), words.trim().to_owned());
            }
            (site, touchpoint, Some(Notice { until, text }))
        }
        NoticeCommand::Clear { site, touchpoint } => (site, touchpoint, None),
    };
    check_name("--site", &site)?;
    let targets = match &touchpoint {
        None => {
            let current = storage.site_config(&site).await?.ok_or_else(|| {
                Usage(format!(
                    "site {site} has no survey config of its own: set one with \
                     `ces-collector config set --site {site} FILE` first"
                ))
            })?;
            vec![(ConfigTarget::Site(site.clone()), current.text)]
        }
        Some(t) => {
            check_name("--touchpoint", t)?;
            let mut targets = Vec::new();
            for d in storage.devices(i64::MAX).await? {
                if d.site != site || &d.touchpoint != t || d.revoked_at.is_some() {
                    continue;
                }
                let current = storage
                    .device_config(&d.id)
                    .await?
                    .ok_or_else(|| Usage(format!("terminal {} has no survey config yet", d.id)))?;
                targets.push((ConfigTarget::Device(d.id.clone()), current.text));
            }
            if targets.is_empty() {
                return Err(Usage(format!("no terminal at {site} / {t}")).into());
            }
            targets
        }
    };
    // Every new text is checked before any is stored.
    let mut texts = Vec::new();
    for (target, current) in targets {
        let text = with_notice(&current, notice.as_ref()).map_err(Usage)?;
        SurveyConfig::parse(&text, std::path::Path::new("the new survey config"))
            .map_err(|e| Usage(e.to_string()))?;
        texts.push((target, text));
    }
    let now = jiff::Timestamp::now().as_millisecond();
    for (target, text) in texts {
        let named = match &target {
            ConfigTarget::Site(s) => format!("site {s}"),
            ConfigTarget::Device(d) => format!("terminal {d}"),
        };
        let version = storage.set_config(target, text, now).await?;
        eprintln!(
            "{} for {named}: survey config version {version}; terminals show it after their \
             next heartbeat",
            if notice.is_some() {
                "notice set"
            } else {
                "notice cleared"
            }
        );
    }
    Ok(())
}
