//! The collector's config file (`/etc/ces-collector/collector.toml`): where it listens, which
//! reverse proxies it trusts, where its database is, its limits. Raw TOML is checked once;
//! errors name the file and the key.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::collector::alert::settings::{AlertSettings, RawAlerts};
use crate::collector::client::TrustedProxies;
use crate::collector::database::{Database, RawStorage};

/// A checked collector config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Proxies whose `X-Forwarded-For` names the client (for per-address limits).
    pub trusted_proxies: TrustedProxies,
    pub database: Database,
    pub limits: Limits,
    /// A device clock further off than this is flagged in the fleet view.
    pub skew_flag: Duration,
    pub dashboard: Dashboard,
    pub alerts: AlertSettings,
}

/// How the dashboard shows things.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dashboard {
    /// The address people open the dashboard at (`https://ces.example.org`), for the setup
    /// links `user add` prints; with `https` the session cookie is sent only over https.
    pub public_url: Option<url::Url>,
    /// Places with fewer counted answers in a period are shown as too few to rank.
    pub min_answers: u64,
    /// A terminal not heard from for this long needs attention.
    pub silent_after: Duration,
}

impl Default for Dashboard {
    fn default() -> Self {
        Dashboard {
            public_url: None,
            min_answers: 20,
            silent_after: Duration::from_secs(3600),
        }
    }
}

/// What one request may carry and how often a device may send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The request body as sent (compressed or not).
    pub max_body_bytes: usize,
    /// The JSON after decompression.
    pub max_json_bytes: usize,
    pub max_answers_per_batch: usize,
    /// Requests per second one device may keep up.
    pub device_requests_per_second: u32,
    /// Requests one device may send at once after a quiet time (a terminal catching up).
    pub device_burst: u32,
    /// Open connections at once; the newest beyond this get 503 and are closed.
    pub max_connections: usize,
    /// A connection must send a complete request head within this long of connecting or of
    /// its previous response (so it also bounds how long a keep-alive connection idles).
    pub header_timeout: Duration,
    /// A request body must arrive within this long.
    pub body_timeout: Duration,
    /// The largest request head (request line and headers); larger ones get 431.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 2 << 20,
            max_json_bytes: 8 << 20,
            max_answers_per_batch: 1000,
            device_requests_per_second: 5,
            device_burst: 60,
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            max_header_bytes: 16 * 1024,
        }
    }
}

impl Settings {
    /// Defaults with the database at `database` (a path: an SQLite file), listening on
    /// `listen`.
    pub fn new(listen: SocketAddr, database: impl Into<Database>) -> Settings {
        Settings {
            listen,
            trusted_proxies: TrustedProxies::default(),
            database: database.into(),
            limits: Limits::default(),
            skew_flag: Duration::from_secs(120),
            dashboard: Dashboard::default(),
            alerts: AlertSettings::default(),
        }
    }

    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Settings, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Settings::parse(&text, path)
    }

    /// Checks config text; `origin` names it in errors, relative paths resolve beside it.
    pub fn parse(text: &str, origin: &Path) -> Result<Settings, String> {
        let raw: Raw = toml::from_str(text).map_err(|e| format!("{}: {e}", origin.display()))?;
        let err = |key: &str, msg: String| format!("{}: {key}: {msg}", origin.display());
        let listen = raw.listen.parse().map_err(|e| {
            err(
                "listen",
                format!("{:?} is not an address:port ({e})", raw.listen),
            )
        })?;
        let base = origin.parent().unwrap_or(Path::new("."));
        let mut s = Settings::new(listen, raw.storage.check(base, &err)?);
        s.trusted_proxies =
            TrustedProxies::parse(&raw.trusted_proxies).map_err(|e| err("trusted_proxies", e))?;
        let l = raw.limits;
        let d = Limits::default();
        let within = |key: &str, v: Option<u64>, default: u64, min: u64, max: u64| {
            let v = v.unwrap_or(default);
            if (min..=max).contains(&v) {
                Ok(v)
            } else {
                Err(err(key, format!("{v} is outside {min} to {max}")))
            }
        };
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let count = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        s.limits = Limits {
            max_body_bytes: size(within(
                "limits.max_body_bytes",
                l.max_body_bytes,
                d.max_body_bytes as u64,
                1024,
                64 << 20,
            )?),
            max_json_bytes: size(within(
                "limits.max_json_bytes",
                l.max_json_bytes,
                d.max_json_bytes as u64,
                1024,
                256 << 20,
            )?),
            max_answers_per_batch: size(within(
                "limits.max_answers_per_batch",
                l.max_answers_per_batch,
                d.max_answers_per_batch as u64,
                1,
                100_000,
            )?),
            device_requests_per_second: count(within(
                "limits.device_requests_per_second",
                l.device_requests_per_second,
                u64::from(d.device_requests_per_second),
                1,
                100_000,
            )?),
            device_burst: count(within(
                "limits.device_burst",
                l.device_burst,
                u64::from(d.device_burst),
                1,
                100_000,
            )?),
            max_connections: size(within(
                "limits.max_connections",
                l.max_connections,
                d.max_connections as u64,
                16,
                1_000_000,
            )?),
            header_timeout: Duration::from_secs(within(
                "limits.header_timeout_seconds",
                l.header_timeout_seconds,
                d.header_timeout.as_secs(),
                1,
                300,
            )?),
            body_timeout: Duration::from_secs(within(
                "limits.body_timeout_seconds",
                l.body_timeout_seconds,
                d.body_timeout.as_secs(),
                1,
                3600,
            )?),
            max_header_bytes: size(within(
                "limits.max_header_bytes",
                l.max_header_bytes,
                d.max_header_bytes as u64,
                4096,
                1 << 20,
            )?),
        };
        if let Some(clock) = raw.clock {
            let secs = within(
                "clock.skew_flag_seconds",
                clock.skew_flag_seconds,
                120,
                1,
                86_400,
            )?;
            s.skew_flag = Duration::from_secs(secs);
        }
        if let Some(d) = raw.dashboard {
            let defaults = Dashboard::default();
            let public_url = d
                .public_url
                .map(|u| {
                    url::Url::parse(&u)
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
                        .ok_or_else(|| {
                            err(
                                "dashboard.public_url",
                                format!("{u:?} is not an http:// or https:// address"),
                            )
                        })
                })
                .transpose()?;
            let min_answers = within(
                "dashboard.min_answers",
                d.min_answers,
                defaults.min_answers,
                1,
                1_000_000,
            )?;
            let silent = within(
                "dashboard.silent_after_minutes",
                d.silent_after_minutes,
                defaults.silent_after.as_secs() / 60,
                1,
                100_000,
            )?;
            s.dashboard = Dashboard {
                public_url,
                min_answers,
                silent_after: Duration::from_secs(silent * 60),
            };
        }
        if let Some(alerts) = raw.alerts {
            s.alerts = alerts.check(base, &err)?;
        }
        Ok(s)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: String,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    storage: RawStorage,
    #[serde(default)]
    limits: RawLimits,
    clock: Option<RawClock>,
    dashboard: Option<RawDashboard>,
    alerts: Option<RawAlerts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDashboard {
    public_url: Option<String>,
    min_answers: Option<u64>,
    silent_after_minutes: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_body_bytes: Option<u64>,
    max_json_bytes: Option<u64>,
    max_answers_per_batch: Option<u64>,
    device_requests_per_second: Option<u64>,
    device_burst: Option<u64>,
    max_connections: Option<u64>,
    header_timeout_seconds: Option<u64>,
    body_timeout_seconds: Option<u64>,
    max_header_bytes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClock {
    skew_flag_seconds: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../deploy/examples/collector.toml");

    #[test]
    fn the_example_config_is_valid() {
        let s = Settings::parse(EXAMPLE, Path::new("/etc/ces-collector/collector.toml")).unwrap();
        assert_eq!(
            s.database,
            Database::Sqlite("/var/lib/ces-collector/collector.db".into())
        );
        assert_eq!(s.limits, Limits::default());
        assert!(s.trusted_proxies.contains("127.0.0.1".parse().unwrap()));
        assert!(s.trusted_proxies.contains("::1".parse().unwrap()));
        assert!(!s.trusted_proxies.contains("192.0.2.1".parse().unwrap()));
    }

    #[test]
    fn bad_values_are_named() {
        let bad = EXAMPLE.replace("max_answers_per_batch = 1000", "max_answers_per_batch = 0");
        let e = Settings::parse(&bad, Path::new("c.toml")).unwrap_err();
        assert!(
            e.contains("limits.max_answers_per_batch: 0 is outside 1"),
            "{e}"
        );
        let e = Settings::parse(
            "listen = \"nowhere\"\n[storage]\npath = \"x\"",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(e.contains("c.toml: listen"), "{e}");
        let bad = EXAMPLE.replace("\"::1\"", "\"my-proxy\"");
        let e = Settings::parse(&bad, Path::new("c.toml")).unwrap_err();
        assert!(e.contains("c.toml: trusted_proxies: \"my-proxy\""), "{e}");
        let e =
            Settings::parse(&format!("{EXAMPLE}\nsecret = 1\n"), Path::new("c.toml")).unwrap_err();
        assert!(e.contains("secret"), "{e}");
    }
}
