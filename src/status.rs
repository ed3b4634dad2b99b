//! `ces-kiosk status`: what staff need to know of a terminal, from another process while it
//! runs (over SSH): who it is, what it runs, how the upload stands, disk, clock and button
//! boxes. As text for people and as JSON (`--json`) for tools. It never shows a credential.

use std::path::Path;

use serde::Serialize;

use crate::config::Config;
use crate::store::Snapshot;

/// A terminal's status. Times are RFC 3339 in the terminal's local time.
#[derive(Clone, Debug, Serialize)]
pub struct TerminalStatus {
    pub device_id: String,
    pub site: String,
    pub touchpoint: String,
    pub app_version: String,
    /// The collector's survey config version in force; `None`: the survey of the config file.
    pub config_version: Option<u64>,
    pub question_id: String,
    pub question_version: u32,
    pub enrolled: bool,
    /// The collector's address; `None` for a terminal that does not sync.
    pub collector: Option<String>,
    pub database: String,
    /// Why the database could not be read; the counts below are then missing.
    pub database_error: Option<String>,
    pub answers: Option<u64>,
    pub queue_depth: Option<u64>,
    pub dead_letters: Option<u64>,
    pub oldest_waiting_age_seconds: Option<u64>,
    /// `unknown`, `online`, `offline` or `unauthorized`, as at the last sync attempt.
    pub link: String,
    /// This machine's network addresses (not loopback), to reach it over SSH.
    pub addresses: Vec<String>,
    /// When the collector last confirmed an answer or took a heartbeat.
    pub last_sync: Option<String>,
    pub last_heartbeat: Option<String>,
    /// The last upload problem, if the last attempt failed.
    pub last_error: Option<String>,
    pub disk_free_bytes: Option<u64>,
    pub disk_total_bytes: Option<u64>,
    /// Whether the kernel says the clock is synchronised (NTP).
    pub clock_trusted: bool,
    pub clock: String,
    pub display: String,
    pub button_boxes: Vec<BoxStatus>,
}

/// A configured button box and whether its device is there now.
#[derive(Clone, Debug, Serialize)]
pub struct BoxStatus {
    pub path: String,
    pub present: bool,
}

impl TerminalStatus {
    /// Gathers the status of the terminal `config` describes.
    pub fn gather(config: &Config) -> TerminalStatus {
        let snapshot = Snapshot::read(&config.storage.path);
        let now = crate::clock::now();
        let (snapshot, database_error) = match snapshot {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let sync = snapshot.as_ref().and_then(|s| s.sync.clone());
        let last_sync = snapshot.as_ref().and_then(|s| {
            let heartbeat = s.sync.as_ref().and_then(|r| r.last_success_ms);
            s.last_synced_ms.max(heartbeat)
        });
        let (free, total) = disk_space(config.state_dir()).unzip();
        TerminalStatus {
            device_id: config.device.id.clone(),
            site: config.device.site.clone(),
            touchpoint: config.device.touchpoint.clone(),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            config_version: config.config_version,
            question_id: config.survey.question_id.clone(),
            question_version: config.survey.question_version,
            enrolled: config.config_version.is_some(),
            collector: config.upstream.as_ref().map(|u| u.url.to_string()),
            database: config.storage.path.display().to_string(),
            database_error,
            answers: snapshot.as_ref().map(|s| s.answers),
            queue_depth: snapshot.as_ref().map(|s| s.counts.pending),
            dead_letters: snapshot.as_ref().map(|s| s.counts.rejected),
            oldest_waiting_age_seconds: snapshot
                .as_ref()
                .and_then(|s| s.counts.oldest_pending_ms)
                .map(|ms| u64::try_from((now.unix_ms - ms) / 1000).unwrap_or(0)),
            link: sync
                .as_ref()
                .map_or("unknown".to_owned(), |r| r.link.clone()),
            addresses: addresses(),
            last_sync: last_sync.map(local_time),
            last_heartbeat: sync
                .as_ref()
                .and_then(|r| r.last_heartbeat_ms)
                .map(local_time),
            last_error: sync.and_then(|r| r.last_error),
            disk_free_bytes: free,
            disk_total_bytes: total,
            clock_trusted: now.trusted,
            clock: local_time(now.unix_ms),
            display: config.display.to_string(),
            button_boxes: config
                .button_boxes
                .iter()
                .map(|b| BoxStatus {
                    path: b.path.display().to_string(),
                    present: b.path.exists(),
                })
                .collect(),
        }
    }

    /// The status as lines for people.
    pub fn text(&self) -> String {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        let survey = match self.config_version {
            Some(v) => format!("survey config version {v} from the collector"),
            None => "survey from the config file".to_owned(),
        };
        let queue = match (&self.database_error, self.queue_depth) {
            (Some(e), _) => format!("unknown: {e}"),
            (None, q) => format!(
                "{} waiting{}, {} rejected, {} answers kept",
                q.unwrap_or(0),
                self.oldest_waiting_age_seconds
                    .map_or(String::new(), |s| format!(" (oldest {})", age(s))),
                self.dead_letters.unwrap_or(0),
                self.answers.unwrap_or(0)
            ),
        };
        let disk = match (self.disk_free_bytes, self.disk_total_bytes) {
            (Some(f), Some(t)) => format!("{} free of {}", bytes(f), bytes(t)),
            _ => "unknown".to_owned(),
        };
        let boxes = if self.button_boxes.is_empty() {
            "none configured".to_owned()
        } else {
            (self.button_boxes.iter())
                .map(|b| {
                    format!(
                        "{} ({})",
                        b.path,
                        if b.present { "present" } else { "missing" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rows = [
            (
                "device",
                format!(
                    "{} (site {}, touchpoint {})",
                    self.device_id, self.site, self.touchpoint
                ),
            ),
            (
                "version",
                format!("ces-kiosk {}, {survey}", self.app_version),
            ),
            (
                "question",
                format!("{} v{}", self.question_id, self.question_version),
            ),
            (
                "collector",
                match &self.collector {
                    Some(c) if self.enrolled => format!("{c} (enrolled)"),
                    Some(c) => c.clone(),
                    None => "none: answers are kept here only".to_owned(),
                },
            ),
            ("queue", queue),
            (
                "network",
                format!(
                    "{} ({})",
                    self.link,
                    if self.addresses.is_empty() {
                        "no address".to_owned()
                    } else {
                        self.addresses.join(", ")
                    }
                ),
            ),
            ("last sync", or_dash(&self.last_sync)),
            ("last error", or_dash(&self.last_error)),
            ("disk", disk),
            (
                "clock",
                format!(
                    "{} ({})",
                    self.clock,
                    if self.clock_trusted {
                        "synchronised"
                    } else {
                        "NOT synchronised: times are estimated"
                    }
                ),
            ),
            ("display", self.display.clone()),
            ("button boxes", boxes),
            ("database", self.database.clone()),
        ];
        rows.iter().map(|(k, v)| format!("{k:<13} {v}\n")).collect()
    }
}

/// The machine's IPv4 and IPv6 addresses, without loopback and link-local ones.
pub fn addresses() -> Vec<String> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we free below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return vec![];
    }
    let mut found = vec![];
    let mut next = list;
    while !next.is_null() {
        // SAFETY: a node of the list getifaddrs made; its address may be null.
        let node = unsafe { &*next };
        next = node.ifa_next;
        let Some(addr) = (unsafe { node.ifa_addr.as_ref() }) else {
            continue;
        };
        let ip: std::net::IpAddr = match i32::from(addr.sa_family) {
            libc::AF_INET => {
                // SAFETY: the family says this is a sockaddr_in.
                let a = unsafe { &*(node.ifa_addr as *const libc::sockaddr_in) };
                std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)).into()
            }
            libc::AF_INET6 => {
                // SAFETY: the family says this is a sockaddr_in6.
                let a = unsafe { &*(node.ifa_addr as *const libc::sockaddr_in6) };
                std::net::Ipv6Addr::from(a.sin6_addr.s6_addr).into()
            }
            _ => continue,
        };
        let link_local = match ip {
            std::net::IpAddr::V4(v4) => v4.is_link_local(),
            std::net::IpAddr::V6(v6) => v6.is_unicast_link_local(),
        };
        if !ip.is_loopback() && !link_local {
            found.push(ip.to_string());
        }
    }
    // SAFETY: the list getifaddrs made, freed once.
    unsafe { libc::freeifaddrs(list) };
    found
}

/// Free and total bytes of the file system holding `dir`.
pub fn disk_space(dir: &Path) -> Option<(u64, u64)> {
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a statvfs the call fills in.
    if unsafe { libc::statvfs(path.as_ptr(), &mut s) } != 0 {
        return None;
    }
    let block = u64::from(s.f_frsize as u32).max(1);
    Some((s.f_bavail as u64 * block, s.f_blocks as u64 * block))
}

/// A moment in the terminal's local time, to the second.
pub(crate) fn local_time(ms: i64) -> String {
    match jiff::Timestamp::from_second(ms.div_euclid(1000)) {
        Ok(t) => {
            let offset = jiff::tz::TimeZone::system().to_offset(t);
            t.display_with_offset(offset).to_string()
        }
        Err(_) => ms.to_string(),
    }
}

fn age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

fn bytes(n: u64) -> String {
    const GB: f64 = 1_000_000_000.0;
    if n as f64 >= GB {
        format!("{:.1} GB", n as f64 / GB)
    } else {
        format!("{:.0} MB", n as f64 / 1_000_000.0)
    }
}
