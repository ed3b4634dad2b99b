//! The `[alerts]` section of the collector's config: how often rules are evaluated, and the
//! channels notifications go to. Secrets (HMAC keys, Slack and Teams addresses) come from
//! files and never show in logs or debug output.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// The checked `[alerts]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertSettings {
    /// How often every rule is evaluated.
    pub evaluate_every: Duration,
    pub webhooks: Vec<Webhook>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            evaluate_every: Duration::from_secs(15),
            webhooks: Vec::new(),
        }
    }
}

impl AlertSettings {
    /// The names of every channel, as the outbox knows them.
    pub fn channels(&self) -> Vec<String> {
        self.webhooks.iter().map(|w| w.name.clone()).collect()
    }
}

/// What a webhook receiver expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The notification's JSON as it is, signed.
    Plain,
    /// A Slack incoming webhook: `{"text": …}`.
    Slack,
    /// A Microsoft Teams workflow webhook: an Adaptive Card.
    Teams,
}

/// A webhook channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub name: String,
    pub url: Hidden<url::Url>,
    pub format: Format,
    /// The HMAC-SHA256 key the body is signed with.
    pub secret: Option<Hidden<String>>,
}

/// A value kept out of logs and debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Hidden<T>(pub T);

impl<T> std::fmt::Debug for Hidden<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

/// The shortest HMAC key taken.
const MIN_SECRET_BYTES: usize = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerts {
    evaluate_every_seconds: Option<u64>,
    #[serde(default)]
    webhook: Vec<RawWebhook>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    name: String,
    url: Option<String>,
    url_file: Option<String>,
    format: Option<Format>,
    secret_file: Option<String>,
}

impl RawAlerts {
    /// Checks the section; `base` is the config file's folder, `err` names a key in errors.
    pub(crate) fn check(
        self,
        base: &Path,
        err: &dyn Fn(&str, String) -> String,
    ) -> Result<AlertSettings, String> {
        let every = self.evaluate_every_seconds.unwrap_or(15);
        if !(1..=3600).contains(&every) {
            return Err(err(
                "alerts.evaluate_every_seconds",
                format!("{every} is outside 1 to 3600"),
            ));
        }
        let mut webhooks: Vec<Webhook> = Vec::new();
        for (i, w) in self.webhook.into_iter().enumerate() {
            let key = |field: &str| format!("alerts.webhook[{i}].{field}");
            if !crate::survey::is_name(&w.name) {
                return Err(err(
                    &key("name"),
                    format!("{:?} must be {}", w.name, crate::survey::NAME_RULE),
                ));
            }
            if webhooks.iter().any(|o| o.name == w.name) {
                return Err(err(&key("name"), format!("{:?} is used twice", w.name)));
            }
            let url = match (w.url, w.url_file) {
                (Some(u), None) => u,
                (None, Some(file)) => {
                    read_secret(&base.join(file)).map_err(|e| err(&key("url_file"), e))?
                }
                _ => return Err(err(&key("url"), "give url or url_file, one of them".into())),
            };
            let url = url::Url::parse(url.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                .ok_or_else(|| err(&key("url"), "is not an http:// or https:// address".into()))?;
            let format = w.format.unwrap_or(Format::Plain);
            let secret = match w.secret_file {
                Some(file) => {
                    let s =
                        read_secret(&base.join(file)).map_err(|e| err(&key("secret_file"), e))?;
                    if s.len() < MIN_SECRET_BYTES {
                        return Err(err(
                            &key("secret_file"),
                            format!("the secret must be {MIN_SECRET_BYTES} characters or more"),
                        ));
                    }
                    Some(Hidden(s))
                }
                None if format == Format::Plain => {
                    return Err(err(
                        &key("secret_file"),
                        "a plain webhook needs a secret to sign its bodies with".into(),
                    ));
                }
                None => None,
            };
            webhooks.push(Webhook {
                name: w.name,
                url: Hidden(url),
                format,
                secret,
            });
        }
        Ok(AlertSettings {
            evaluate_every: Duration::from_secs(every),
            webhooks,
        })
    }
}

/// A secret file's text without surrounding white space.
fn read_secret(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(text.to_owned())
}
