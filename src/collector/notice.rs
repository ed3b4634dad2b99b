//! "You said, we did": setting or clearing the notice of a site's terminals (or one
//! touchpoint's) as a new version of their survey config, checked like any survey config
//! before anything is stored. Used by `ces-collector notice` and the dashboard.

use crate::collector::storage::{ConfigTarget, Storage, StorageError};
use crate::config::{SurveyConfig, with_notice};
use crate::survey::Notice;

/// Why a notice could not be set.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    /// What was asked cannot be done (no config to put it in, a text too long…).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Sets (or with `None` clears) the notice of `site`, or of the terminals of one of its
/// touchpoints, as new survey config versions; returns what got which version.
pub async fn set(
    storage: &dyn Storage,
    site: &str,
    touchpoint: Option<&str>,
    notice: Option<&Notice>,
    at_ms: i64,
) -> Result<Vec<(ConfigTarget, u64)>, NoticeError> {
    let refused = |m: String| NoticeError::Refused(m);
    let targets = match touchpoint {
        None => {
            let current = storage.site_config(site).await?.ok_or_else(|| {
                refused(format!(
                    "site {site} has no survey config of its own: set one with \
                     `ces-collector config set --site {site} FILE` first"
                ))
            })?;
            vec![(ConfigTarget::Site(site.to_owned()), current.text)]
        }
        Some(t) => {
            let mut targets = Vec::new();
            for d in storage.devices(i64::MAX).await? {
                if d.site != site || d.touchpoint != t || d.revoked_at.is_some() {
                    continue;
                }
                let current = storage.device_config(&d.id).await?.ok_or_else(|| {
                    refused(format!("terminal {} has no survey config yet", d.id))
                })?;
                targets.push((ConfigTarget::Device(d.id.clone()), current.text));
            }
            if targets.is_empty() {
                return Err(refused(format!("no terminal at {site} / {t}")));
            }
            targets
        }
    };
    // Every new text is checked before any is stored.
    let mut texts = Vec::new();
    for (target, current) in targets {
        let text = with_notice(&current, notice).map_err(refused)?;
        SurveyConfig::parse(&text, std::path::Path::new("the new survey config"))
            .map_err(|e| refused(e.to_string()))?;
        texts.push((target, text));
    }
    let mut set = Vec::new();
    for (target, text) in texts {
        let version = storage.set_config(target.clone(), text, at_ms).await?;
        set.push((target, version));
    }
    Ok(set)
}

/// The languages of a site's own survey config and its notice, if it has one.
pub async fn of_site(
    storage: &dyn Storage,
    site: &str,
) -> Result<Option<(Vec<String>, Option<Notice>)>, StorageError> {
    let Some(current) = storage.site_config(site).await? else {
        return Ok(None);
    };
    Ok(SurveyConfig::parse(
        &current.text,
        std::path::Path::new("the site's survey config"),
    )
    .ok()
    .map(|c| (c.survey.languages, c.survey.notice)))
}
