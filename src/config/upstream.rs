//! The `[upstream]` section: the collector a terminal syncs to, the credential it proves
//! itself with, and how it batches, waits and keeps synced answers.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Checker, ConfigError};
use crate::credential::{self, Credential};

/// How a terminal syncs. Present only when the config has an `[upstream]` section.
#[derive(Clone, Debug, PartialEq)]
pub struct Upstream {
    /// The collector's base URL, ending in `/`; requests go to `v1/…` below it.
    pub url: reqwest::Url,
    /// The device's own credential, read from `credential_file`.
    pub credential: Credential,
    /// The most answers one upload carries.
    pub batch_max_answers: usize,
    /// How long after a new answer the upload starts (answers arriving meanwhile join it).
    pub upload_delay: Duration,
    /// How often the terminal reports its status when nothing else is sent.
    pub heartbeat: Duration,
    /// How long one request may take before it counts as a failed connection.
    pub timeout: Duration,
    /// How long answers stay on the terminal after the collector confirmed them.
    pub keep_synced: Duration,
}

impl Upstream {
    pub const DEFAULT_BATCH_MAX_ANSWERS: usize = 500;
    /// The most a collector accepts in one batch by default (see `docs/protocol.md`).
    pub const MAX_BATCH_ANSWERS: usize = 1000;

    /// Settings with the defaults, for a collector at `url` (ending in `/`).
    pub fn new(url: reqwest::Url, credential: Credential) -> Upstream {
        Upstream {
            url,
            credential,
            batch_max_answers: Upstream::DEFAULT_BATCH_MAX_ANSWERS,
            upload_delay: Duration::from_secs(2),
            heartbeat: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
            keep_synced: Duration::from_secs(30 * 86_400),
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUpstream {
    url: Option<Spanned<String>>,
    credential_file: Option<Spanned<String>>,
    batch_max_answers: Option<Spanned<i64>>,
    upload_delay_seconds: Option<Spanned<f64>>,
    heartbeat_seconds: Option<Spanned<f64>>,
    timeout_seconds: Option<Spanned<f64>>,
    keep_synced_days: Option<Spanned<i64>>,
}

/// Checks a collector address given on the command line, as `upstream.url` is checked.
pub fn collector_url(text: &str) -> Result<reqwest::Url, String> {
    let origin = Path::new("--collector");
    let checker = Checker { text, origin };
    checker
        .url(&Spanned::new(0..0, text.to_owned()), "--collector")
        .map_err(|e| match e {
            ConfigError::Invalid { key, message, .. } => format!("{key}: {message}"),
            other => other.to_string(),
        })
}

impl Checker<'_> {
    /// The `[upstream]` section. An enrolled terminal has its collector and credential from
    /// enrolment (`enrolled`); then the section only tunes the timings, and names neither.
    pub(super) fn upstream(
        &self,
        raw: RawUpstream,
        base: &Path,
        enrolled: Option<(reqwest::Url, Credential)>,
    ) -> Result<Upstream, ConfigError> {
        let (url, credential) = match (enrolled, &raw.url, &raw.credential_file) {
            (Some(link), None, None) => link,
            (Some(_), Some(named), _) | (Some(_), None, Some(named)) => {
                return Err(self.err(
                    named.span(),
                    "upstream",
                    "this terminal is enrolled: its collector and credential come from \
                     enrolment; remove url and credential_file",
                ));
            }
            (None, Some(url), Some(file)) => (
                self.url(url, "upstream.url")?,
                self.credential(file, base, "upstream.credential_file")?,
            ),
            (None, url, _) => {
                let key = if url.is_none() {
                    "upstream.url"
                } else {
                    "upstream.credential_file"
                };
                return Err(self.err(
                    0..0,
                    key,
                    "missing: name the collector and the credential file, or enrol the \
                     terminal with `ces-kiosk enroll`",
                ));
            }
        };
        let mut up = Upstream::new(url, credential);
        if let Some(n) = &raw.batch_max_answers {
            let max = Upstream::MAX_BATCH_ANSWERS;
            up.batch_max_answers = usize::try_from(*n.get_ref())
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    self.err(
                        n.span(),
                        "upstream.batch_max_answers",
                        format!("{} is outside 1 to {max}", n.get_ref()),
                    )
                })?;
        }
        if let Some(d) = self.seconds(
            raw.upload_delay_seconds,
            "upstream.upload_delay_seconds",
            0.0..=60.0,
        )? {
            up.upload_delay = d;
        }
        if let Some(d) = self.seconds(
            raw.heartbeat_seconds,
            "upstream.heartbeat_seconds",
            10.0..=3600.0,
        )? {
            up.heartbeat = d;
        }
        if let Some(d) =
            self.seconds(raw.timeout_seconds, "upstream.timeout_seconds", 1.0..=300.0)?
        {
            up.timeout = d;
        }
        if let Some(days) = &raw.keep_synced_days {
            let d = u64::try_from(*days.get_ref())
                .ok()
                .filter(|d| *d <= 3650)
                .ok_or_else(|| {
                    self.err(
                        days.span(),
                        "upstream.keep_synced_days",
                        format!("{} is outside 0 to 3650 days", days.get_ref()),
                    )
                })?;
            up.keep_synced = Duration::from_secs(d * 86_400);
        }
        Ok(up)
    }

    /// An https URL (http only on this machine: the credential must not travel in clear).
    pub(super) fn url(
        &self,
        raw: &Spanned<String>,
        key: &str,
    ) -> Result<reqwest::Url, ConfigError> {
        let mut url = reqwest::Url::parse(raw.get_ref()).map_err(|e| {
            self.err(
                raw.span(),
                key,
                format!("{:?} is not a URL: {e}", raw.get_ref()),
            )
        })?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let problem = match url.scheme() {
            _ if url.host().is_none() => Some("has no host"),
            "https" => None,
            "http" if loopback => None,
            "http" => Some(
                "must use https:// (the device credential would travel unencrypted); \
                 http:// is accepted only for localhost",
            ),
            _ => Some("must start with https://"),
        };
        let problem = problem.or_else(|| {
            if !url.username().is_empty() || url.password().is_some() {
                Some("must not contain a user name or password (use credential_file)")
            } else if url.query().is_some() || url.fragment().is_some() {
                Some("must not contain a query or fragment")
            } else {
                None
            }
        });
        if let Some(p) = problem {
            return Err(self.err(raw.span(), key, format!("{:?} {p}", raw.get_ref())));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(url)
    }

    /// Reads the device credential from its file, which other users must not be able to read.
    pub(super) fn credential(
        &self,
        raw: &Spanned<String>,
        base: &Path,
        key: &str,
    ) -> Result<Credential, ConfigError> {
        if raw.get_ref().trim().is_empty() {
            return Err(self.err(raw.span(), key, "must not be empty"));
        }
        let path = base.join(raw.get_ref());
        let shown = path.display();
        let meta = std::fs::metadata(&path)
            .map_err(|e| self.err(raw.span(), key, format!("cannot read {shown}: {e}")))?;
        if meta.permissions().mode() & 0o007 != 0 {
            return Err(self.err(
                raw.span(),
                key,
                format!(
                    "{shown} is open to every user of this machine; make it private with chmod 600"
                ),
            ));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| self.err(raw.span(), key, format!("cannot read {shown}: {e}")))?;
        Credential::parse(&text, credential::Kind::Device)
            .map_err(|e| self.err(raw.span(), key, format!("{shown}: {e}")))
    }
}
