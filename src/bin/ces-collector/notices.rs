//! The notice commands of `ces-collector`: "you said, we did" on the thank-you screens of a
//! site (or one touchpoint), set or cleared as a new version of their survey config, which
//! terminals pick up after their next heartbeat and check the same way.

use std::sync::Arc;

use ces_kiosk::collector::notice::NoticeError;
use ces_kiosk::collector::storage::{ConfigTarget, Storage};
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

pub async fn notice(command: NoticeCommand, storage: Arc<dyn Storage>) -> anyhow::Result<()> {
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
    if let Some(t) = &touchpoint {
        check_name("--touchpoint", t)?;
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let set = ces_kiosk::collector::notice::set(
        storage.as_ref(),
        &site,
        touchpoint.as_deref(),
        notice.as_ref(),
        now,
    )
    .await
    .map_err(|e| match e {
        NoticeError::Refused(m) => anyhow::Error::from(Usage(m)),
        NoticeError::Storage(e) => e.into(),
    })?;
    for (target, version) in set {
        let named = match &target {
            ConfigTarget::Site(s) => format!("site {s}"),
            ConfigTarget::Device(d) => format!("terminal {d}"),
        };
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
