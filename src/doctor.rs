//! `ces-kiosk doctor`: checks what a terminal needs, one line each, and says what to fix:
//! the config, the database, how uploads went, disk space, the clock, the display, touch
//! input, the button boxes' serial devices, and the collector (reachable, its own replies
//! and not a proxy's, and the credential accepted). Exit 1
//! when a check failed. Reads and asks; changes nothing.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::time::Duration;

use crate::config::{Config, Display, Upstream};
use crate::store::{Snapshot, StoreError};

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works, but worth a look.
    Warn,
    /// The terminal cannot do its job until this is fixed.
    Fail,
}

/// One check: what it looked at, what it found, and what to do about it.
#[derive(Clone, Debug)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    pub found: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, found: impl Into<String>) -> Check {
        Check {
            name,
            verdict: Verdict::Ok,
            found: found.into(),
            fix: None,
        }
    }

    fn warn(name: &'static str, found: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            verdict: Verdict::Warn,
            fix: Some(fix.into()),
            ..Check::ok(name, found)
        }
    }

    fn fail(name: &'static str, found: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            verdict: Verdict::Fail,
            ..Check::warn(name, found, fix)
        }
    }
}

/// Below this much free space the disk is a warning; below a tenth of it, a failure.
const LOW_DISK: u64 = 1_000_000_000;

/// Runs every check for the config file at `path`.
pub async fn run(path: &Path) -> Vec<Check> {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            let fix = if e.to_string().contains("ces-kiosk enroll") {
                "enrol the terminal: ces-kiosk enroll --collector URL --code CODE"
            } else {
                "correct the file at the line named, then: ces-kiosk check-config FILE"
            };
            return vec![Check::fail("config", e.to_string(), fix)];
        }
    };
    let mut checks = vec![Check::ok(
        "config",
        match config.config_version {
            Some(v) => format!(
                "{} (device {}, enrolled, survey config version {v})",
                path.display(),
                config.device.id
            ),
            None => format!("{} (device {})", path.display(), config.device.id),
        },
    )];
    checks.push(database(&config));
    if config.upstream.is_some()
        && let Some(upload) = upload(&config)
    {
        checks.push(upload);
    }
    checks.push(disk(&config));
    checks.push(clock());
    checks.push(display(&config.display));
    if config.display.is_touch() {
        checks.push(touch());
    }
    checks.extend(config.button_boxes.iter().map(|b| serial(&b.path)));
    checks.push(match &config.upstream {
        Some(up) => collector(up, &config.device.id).await,
        None => Check::ok(
            "collector",
            "none configured: answers are kept on this terminal",
        ),
    });
    checks
}

/// The checks as lines for people: verdict, name, what was found, and the fix.
pub fn report(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let verdict = match c.verdict {
            Verdict::Ok => "ok",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        };
        let found = crate::text::for_terminal(&c.found);
        out.push_str(&format!("{verdict:<5} {:<10} {found}\n", c.name));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("{:<16} fix: {fix}\n", ""));
        }
    }
    out
}

fn database(config: &Config) -> Check {
    let path = &config.storage.path;
    let volatile = crate::store::volatile(path);
    if let Some(on) = volatile.clone().filter(|_| !config.storage.allow_volatile) {
        let e = StoreError::Volatile {
            path: path.clone(),
            on,
        };
        return Check::fail(
            "database",
            e.to_string(),
            "keep the database on a partition that survives a reboot: mount one at \
             /var/lib/ces-kiosk (README: \"A read-only root\"), or point [storage] path at \
             one; if losing answers at a reboot is deliberate (a demo), set [storage] \
             allow_volatile = true",
        );
    }
    let kept = match volatile {
        Some(on) => format!("; in RAM ({}), allowed by the config", on.what),
        None => String::new(),
    };
    match Snapshot::read(path) {
        Err(StoreError::Missing(_)) => Check::warn(
            "database",
            format!("{} does not exist yet", path.display()),
            "start the terminal (systemctl restart ces-kiosk); it creates the database",
        ),
        Err(e) => Check::fail(
            "database",
            e.to_string(),
            "run doctor as root or as the ces-kiosk user; check the disk (dmesg) and the folder's owner",
        ),
        Ok(s) => match Snapshot::quick_check(path) {
            Ok(r) if r == "ok" => Check::ok(
                "database",
                format!(
                    "{} answers, {} waiting for upload, {} rejected; integrity ok{kept}",
                    s.answers, s.counts.pending, s.counts.rejected
                ),
            ),
            Ok(r) => Check::fail(
                "database",
                format!("the integrity check says: {r}"),
                "stop the terminal, copy the database away and keep it for the central team; \
                 the storage medium may be failing",
            ),
            Err(e) => Check::fail("database", e.to_string(), "check the disk (dmesg)"),
        },
    }
}

/// How the running terminal's uploads went, as its uploader recorded it: the last error,
/// and answers the collector refused.
fn upload(config: &Config) -> Option<Check> {
    let snapshot = Snapshot::read(&config.storage.path).ok()?;
    let dead = snapshot.counts.rejected;
    let error = snapshot.sync.as_ref().and_then(|r| r.last_error.clone());
    Some(match (error, dead) {
        (Some(e), _) => Check::warn(
            "upload",
            format!("the last upload failed: {e}"),
            "answers wait safely; fix what it says, then tap Sync now on the staff screen",
        ),
        (None, 1..) => Check::warn(
            "upload",
            format!("{dead} answers were refused by the collector and are kept here"),
            "see why with ces-kiosk requeue --list; once the cause is fixed, send them again \
             with ces-kiosk requeue (answers the collector has are not counted twice)",
        ),
        (None, 0) => Check::ok(
            "upload",
            match snapshot.sync.map(|r| r.link) {
                Some(link) => format!("the last upload attempt went well ({link})"),
                None => "no upload attempt recorded yet".to_owned(),
            },
        ),
    })
}

fn disk(config: &Config) -> Check {
    let dir = config.state_dir();
    match crate::status::disk_space(dir) {
        None => Check::warn(
            "disk",
            format!("cannot tell the free space of {}", dir.display()),
            "check that the folder exists",
        ),
        Some((free, _)) if free < LOW_DISK / 10 => Check::fail(
            "disk",
            format!("only {} MB free for {}", free / 1_000_000, dir.display()),
            "free space (journalctl --vacuum-size=50M, old files); new answers cannot be \
             stored on a full disk",
        ),
        Some((free, _)) if free < LOW_DISK => Check::warn(
            "disk",
            format!("{} MB free for {}", free / 1_000_000, dir.display()),
            "free some space before it runs out",
        ),
        Some((free, total)) => Check::ok(
            "disk",
            format!(
                "{:.1} GB free of {:.1} GB",
                free as f64 / 1e9,
                total as f64 / 1e9
            ),
        ),
    }
}

fn clock() -> Check {
    let now = crate::clock::now();
    let shown = crate::status::local_time(now.unix_ms);
    if now.trusted {
        Check::ok("clock", format!("{shown} (synchronised)"))
    } else {
        Check::warn(
            "clock",
            format!("{shown} is not synchronised"),
            "turn on time synchronisation (timedatectl set-ntp true) and let it reach an NTP \
             server; answers meanwhile are marked as having an estimated time",
        )
    }
}

fn display(display: &Display) -> Check {
    match display {
        Display::Touch { width_mm } => {
            let cards = std::fs::read_dir("/dev/dri")
                .map(|d| {
                    d.filter_map(Result::ok)
                        .filter(|e| e.file_name().to_string_lossy().starts_with("card"))
                        .count()
                })
                .unwrap_or(0);
            if cards == 0 {
                Check::fail(
                    "display",
                    "no graphics device (/dev/dri/card*)",
                    "connect the screen and enable the KMS driver (Raspberry Pi: \
                     dtoverlay=vc4-kms-v3d in config.txt), then reboot",
                )
            } else if !Path::new("/usr/bin/cage").exists() {
                Check::fail(
                    "display",
                    "the kiosk compositor cage is not installed",
                    "apt-get install cage",
                )
            } else if let Some(width) = width_mm {
                Check::ok(
                    "display",
                    format!("{cards} graphics device(s), cage installed; panel {width} mm wide"),
                )
            } else {
                Check::warn(
                    "display",
                    format!(
                        "{cards} graphics device(s), cage installed; the panel's width is not \
                         set, so targets are sized for the 7-inch Raspberry Pi display"
                    ),
                    "measure the visible width of the screen and set [display] width_mm, so \
                     that every answer target is at least 20 mm on it",
                )
            }
        }
        Display::Framebuffer { device, .. } => match std::fs::metadata(device) {
            Ok(m) if m.file_type().is_char_device() => {
                Check::ok("display", format!("framebuffer {}", device.display()))
            }
            _ => Check::fail(
                "display",
                format!("{} is not a framebuffer device", device.display()),
                "check the display's cable and driver (ls /dev/fb*), and [display] device",
            ),
        },
        Display::Png { path, .. } => Check::ok("display", format!("drawn to {}", path.display())),
        Display::None => Check::ok("display", "none configured (button boxes only)"),
    }
}

/// A touchscreen, as udev tagged it (`ID_INPUT_TOUCHSCREEN=1`).
fn touch() -> Check {
    let found = std::fs::read_dir("/dev/input")
        .ok()
        .into_iter()
        .flatten()
        .any(|e| {
            let Ok(e) = e else { return false };
            let Ok(meta) = e.metadata() else { return false };
            let rdev = meta.rdev();
            let udev = format!(
                "/run/udev/data/c{}:{}",
                libc::major(rdev),
                libc::minor(rdev)
            );
            std::fs::read_to_string(udev).is_ok_and(|t| t.contains("E:ID_INPUT_TOUCHSCREEN=1"))
        });
    if found {
        Check::ok("input", "a touchscreen is connected")
    } else {
        Check::warn(
            "input",
            "no touchscreen found",
            "check the touchscreen's USB or ribbon cable (a mouse works for trying out)",
        )
    }
}

fn serial(path: &Path) -> Check {
    let shown = path.display();
    let Ok(meta) = std::fs::metadata(path) else {
        return Check::fail(
            "serial",
            format!("button box {shown} is not connected"),
            "plug it in (ls /dev/serial/by-id/ lists connected boxes) or correct \
             [[button_box]] path",
        );
    };
    if !meta.file_type().is_char_device() {
        return Check::fail(
            "serial",
            format!("{shown} is not a serial device"),
            "point [[button_box]] path at the box's /dev/serial/by-id/ name",
        );
    }
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: a valid C string; access only asks.
    if unsafe { libc::access(c.as_ptr(), libc::R_OK | libc::W_OK) } != 0 {
        return Check::fail(
            "serial",
            format!("{shown} is there but this user may not use it"),
            "the service's user must be in the device's group (usually dialout)",
        );
    }
    Check::ok("serial", format!("button box {shown} is connected"))
}

async fn collector(up: &Upstream, device: &str) -> Check {
    let client = match crate::sync::transport::client(up.timeout.min(Duration::from_secs(15))) {
        Ok(c) => c,
        Err(e) => return Check::fail("collector", e.to_string(), "report this as a bug"),
    };
    let url = up
        .url
        .join("v1/whoami")
        .expect("a relative path joins any base URL");
    let reply = client
        .get(url)
        .bearer_auth(up.credential.expose())
        .send()
        .await;
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            return Check::fail(
                "collector",
                format!(
                    "cannot reach {}: {}",
                    up.url,
                    crate::sync::transport::describe(&e)
                ),
                "check the network (cable, Wi-Fi, DNS, proxy, firewall) and that the collector \
                 runs; answers wait safely meanwhile",
            );
        }
    };
    let status = reply.status().as_u16();
    let from = crate::sync::transport::Responder::of(reply.headers());
    let body = reply.bytes().await.unwrap_or_default();
    if status == 200 {
        return match serde_json::from_slice::<crate::wire::WhoAmI>(&body) {
            Ok(me) if me.device_id == device => Check::ok(
                "collector",
                format!("{} accepts this terminal as {}", up.url, me.device_id),
            ),
            Ok(me) => Check::warn(
                "collector",
                format!(
                    "the collector knows this credential as {}, not {device}",
                    me.device_id
                ),
                "enrol the terminal again so that its name matches",
            ),
            Err(_) if !from.collector => Check::fail(
                "collector",
                from.not_the_collector(status),
                "open the collector's address in a browser on this network, and check what \
                 stands in the way (Wi-Fi login, proxy)",
            ),
            Err(e) => Check::fail(
                "collector",
                format!("unexpected reply: {e}"),
                "check the URL",
            ),
        };
    }
    if !from.is_collector_error(&body) {
        return Check::fail(
            "collector",
            from.not_the_collector(status),
            "check the reverse proxy in front of the collector (its address and routes), or \
             the network's login page; answers wait safely meanwhile",
        );
    }
    match status {
        401 => Check::fail(
            "collector",
            format!("{} does not know this terminal's credential", up.url),
            "ask the central team for an enrolment code and run ces-kiosk enroll",
        ),
        403 => Check::fail(
            "collector",
            "this terminal's credential was revoked".to_owned(),
            "ask the central team for a new enrolment code and run ces-kiosk enroll",
        ),
        404 => Check::fail(
            "collector",
            format!("{} is not a ces-collector (or an older one)", up.url),
            "check the collector address",
        ),
        status => Check::warn(
            "collector",
            format!("{} answered HTTP {status}", up.url),
            "the collector has a problem; answers wait safely meanwhile",
        ),
    }
}
