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
    pub email: Option<Email>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            evaluate_every: Duration::from_secs(15),
            webhooks: Vec::new(),
            email: None,
        }
    }
}

/// The outbox's name of the e-mail channel.
pub const EMAIL_CHANNEL: &str = "email";

impl AlertSettings {
    /// The names of every channel, as the outbox knows them.
    pub fn channels(&self) -> Vec<String> {
        let mut names: Vec<String> = self.webhooks.iter().map(|w| w.name.clone()).collect();
        if self.email.is_some() {
            names.push(EMAIL_CHANNEL.to_owned());
        }
        names
    }
}

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTls {
    /// STARTTLS, required (port 587): never sends the login in clear.
    Starttls,
    /// TLS from the start (port 465).
    Tls,
    /// None: only for a relay on this machine, without a login.
    None,
}

/// The e-mail channel: one message per notification to every recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub server: String,
    pub port: u16,
    pub tls: EmailTls,
    pub login: Option<(String, Hidden<String>)>,
    /// A CA certificate (PEM) trusted beside the system's, for a private CA.
    pub ca_pem: Option<Vec<u8>>,
    pub from: String,
    pub to: Vec<String>,
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
    email: Option<RawEmail>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    server: String,
    port: Option<u16>,
    tls: Option<EmailTls>,
    username: Option<String>,
    password_file: Option<String>,
    ca_file: Option<String>,
    from: String,
    to: Vec<String>,
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
        let email = match self.email {
            Some(e) => Some(e.check(base, err)?),
            None => None,
        };
        Ok(AlertSettings {
            evaluate_every: Duration::from_secs(every),
            webhooks,
            email,
        })
    }
}

impl RawEmail {
    fn check(self, base: &Path, err: &dyn Fn(&str, String) -> String) -> Result<Email, String> {
        let server = self.server.trim().to_owned();
        if server.is_empty() || server.contains(|c: char| c == '/' || c.is_whitespace()) {
            return Err(err(
                "alerts.email.server",
                format!("{server:?} is not a host name"),
            ));
        }
        let tls = self.tls.unwrap_or(EmailTls::Starttls);
        let port = self.port.unwrap_or(match tls {
            EmailTls::Starttls => 587,
            EmailTls::Tls => 465,
            EmailTls::None => 25,
        });
        let login = match (self.username, self.password_file) {
            (Some(user), Some(file)) => {
                let password = read_secret(&base.join(file))
                    .map_err(|e| err("alerts.email.password_file", e))?;
                Some((user, Hidden(password)))
            }
            (None, None) => None,
            _ => {
                return Err(err(
                    "alerts.email.username",
                    "give username and password_file together".into(),
                ));
            }
        };
        let local = matches!(server.as_str(), "localhost" | "127.0.0.1" | "::1");
        if tls == EmailTls::None && (login.is_some() || !local) {
            return Err(err(
                "alerts.email.tls",
                "\"none\" is only for a relay on this machine (localhost) without a login".into(),
            ));
        }
        let ca_pem = match self.ca_file {
            Some(file) => {
                let path = base.join(file);
                Some(std::fs::read(&path).map_err(|e| {
                    err(
                        "alerts.email.ca_file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?)
            }
            None => None,
        };
        let mailbox = |key: &str, text: &str| {
            text.parse::<lettre::message::Mailbox>()
                .map(|_| text.to_owned())
                .map_err(|e| err(key, format!("{text:?} is not an e-mail address ({e})")))
        };
        let from = mailbox("alerts.email.from", &self.from)?;
        if self.to.is_empty() {
            return Err(err("alerts.email.to", "name at least one recipient".into()));
        }
        let to = self
            .to
            .iter()
            .map(|t| mailbox("alerts.email.to", t))
            .collect::<Result<_, _>>()?;
        Ok(Email {
            server,
            port,
            tls,
            login,
            ca_pem,
            from,
            to,
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

#[cfg(test)]
mod tests {
    use crate::collector::Settings;

    /// Checks a config with `alerts` as its `[alerts]` part, secret files beside it.
    fn parse(alerts: &str) -> Result<Settings, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hook.secret"), "0123456789abcdef0123\n").unwrap();
        std::fs::write(dir.path().join("short.secret"), "short\n").unwrap();
        std::fs::write(
            dir.path().join("slack.url"),
            "https://hooks.example.org/T/B/x\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("smtp.password"), "pw\n").unwrap();
        let text = format!("listen = \"127.0.0.1:0\"\n[storage]\npath = \"c.db\"\n{alerts}");
        Settings::parse(&text, &dir.path().join("collector.toml"))
    }

    #[test]
    fn channels_are_read_with_their_secrets_from_files() {
        let s = parse(
            "[alerts]\nevaluate_every_seconds = 5\n\
             [[alerts.webhook]]\nname = \"ops\"\nurl = \"https://ops.example.org/h\"\n\
             secret_file = \"hook.secret\"\n\
             [[alerts.webhook]]\nname = \"chat\"\nformat = \"slack\"\nurl_file = \"slack.url\"\n\
             [alerts.email]\nserver = \"smtp.example.org\"\nusername = \"ces\"\n\
             password_file = \"smtp.password\"\nfrom = \"CES <ces@example.org>\"\n\
             to = [\"cx@example.org\"]\n",
        )
        .unwrap();
        let a = &s.alerts;
        assert_eq!(a.evaluate_every.as_secs(), 5);
        assert_eq!(a.channels(), ["ops", "chat", "email"]);
        assert_eq!(
            a.webhooks[0].secret.as_ref().unwrap().0,
            "0123456789abcdef0123"
        );
        assert_eq!(
            a.webhooks[1].url.0.as_str(),
            "https://hooks.example.org/T/B/x"
        );
        let email = a.email.as_ref().unwrap();
        assert_eq!((email.port, email.tls), (587, super::EmailTls::Starttls));
        // Secrets never show in debug output.
        let shown = format!("{s:?}");
        for secret in ["0123456789abcdef", "hooks.example.org", "\"pw\""] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn bad_channels_name_the_key() {
        let hook = "[[alerts.webhook]]\nname = \"ops\"\nurl = \"https://ops.example.org/h\"\n";
        for (alerts, says) in [
            (
                "[alerts]\nevaluate_every_seconds = 0\n",
                "alerts.evaluate_every_seconds: 0",
            ),
            (
                hook,
                "alerts.webhook[0].secret_file: a plain webhook needs a secret",
            ),
            (
                &format!("{hook}secret_file = \"short.secret\"\n"),
                "must be 16 characters or more",
            ),
            (
                &format!("{hook}secret_file = \"missing.secret\"\n"),
                "alerts.webhook[0].secret_file: cannot read",
            ),
            (
                "[[alerts.webhook]]\nname = \"x\"\nformat = \"teams\"\nurl = \"ftp://a\"\n",
                "alerts.webhook[0].url: is not an http",
            ),
            (
                "[alerts.email]\nserver = \"smtp.example.org\"\ntls = \"none\"\n\
                 from = \"a@example.org\"\nto = [\"b@example.org\"]\n",
                "only for a relay on this machine",
            ),
            (
                "[alerts.email]\nserver = \"smtp.example.org\"\nusername = \"u\"\n\
                 from = \"a@example.org\"\nto = [\"b@example.org\"]\n",
                "username and password_file together",
            ),
            (
                "[alerts.email]\nserver = \"smtp.example.org\"\nfrom = \"nobody\"\n\
                 to = [\"b@example.org\"]\n",
                "alerts.email.from: \"nobody\" is not an e-mail address",
            ),
        ] {
            let e = parse(alerts).unwrap_err();
            assert!(e.contains(says), "{alerts}: {e}");
        }
    }
}
