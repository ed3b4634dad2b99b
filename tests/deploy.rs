//! The files in `deploy/` that systemd reads: both units pass `systemd-analyze verify`
//! (no unknown key, no bad value, every command present and executable) in a root folder
//! laid out as an installed system, with the binaries just built and Debian's cage.

use std::path::Path;
use std::process::Command;

const UNITS: [(&str, &[&str]); 2] = [
    ("ces-kiosk.service", &["ces-kiosk", "cage"]),
    ("ces-collector.service", &["ces-collector"]),
];

fn binary(name: &str) -> std::path::PathBuf {
    match name {
        "ces-kiosk" => env!("CARGO_BIN_EXE_ces-kiosk").into(),
        "ces-collector" => env!("CARGO_BIN_EXE_ces-collector").into(),
        other => Path::new("/usr/bin").join(other),
    }
}

/// A root with systemd's own units, this unit, and its commands in /usr/bin.
fn installed(unit: &str, text: &str, commands: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let units = root.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    for entry in std::fs::read_dir("/usr/lib/systemd/system").expect("systemd is installed") {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), units.join(entry.file_name())).unwrap();
        }
    }
    std::fs::write(units.join(unit), text).unwrap();
    let bin = root.path().join("usr/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for c in commands {
        let from = binary(c);
        assert!(
            from.exists(),
            "{} is there (apt-get install cage)",
            from.display()
        );
        std::fs::copy(&from, bin.join(c)).unwrap();
    }
    root
}

/// What `systemd-analyze verify` says of `text` as `unit`: empty when all is well.
fn verify(unit: &str, text: &str, commands: &[&str]) -> String {
    let root = installed(unit, text, commands);
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.path().display()))
        .arg(root.path().join("usr/lib/systemd/system").join(unit))
        .output()
        .expect("systemd-analyze runs (apt-get install systemd)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        said
    } else {
        format!("exit {:?}: {said}", out.status.code())
    }
}

#[test]
fn both_units_pass_systemd_analyze_verify() {
    for (unit, commands) in UNITS {
        let text = std::fs::read_to_string(Path::new("deploy/systemd").join(unit)).unwrap();
        assert_eq!(verify(unit, &text, commands), "", "{unit}");
    }
}

#[test]
fn verify_catches_a_misspelt_key_and_a_missing_command() {
    let text = std::fs::read_to_string("deploy/systemd/ces-kiosk.service").unwrap();
    let typo = text.replace("ProtectSystem=strict", "ProtectSytem=strict");
    assert!(verify("ces-kiosk.service", &typo, &["ces-kiosk", "cage"]).contains("ProtectSytem"));
    let said = verify("ces-kiosk.service", &text, &["ces-kiosk"]);
    assert!(said.contains("/usr/bin/cage"), "{said}");
}

#[test]
fn the_units_keep_the_promised_hardening_and_watchdog() {
    let kiosk = std::fs::read_to_string("deploy/systemd/ces-kiosk.service").unwrap();
    let collector = std::fs::read_to_string("deploy/systemd/ces-collector.service").unwrap();
    for (text, lines) in [
        (
            &kiosk,
            &[
                "Type=notify",
                "NotifyAccess=all",
                "WatchdogSec=30",
                "Restart=always",
                "SupplementaryGroups=video render input dialout audio",
                "StateDirectory=ces-kiosk",
            ][..],
        ),
        (
            &collector,
            &[
                "Type=notify",
                "StateDirectory=ces-collector",
                "PrivateDevices=yes",
            ][..],
        ),
    ] {
        for line in lines.iter().chain(&[
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "CapabilityBoundingSet=",
        ]) {
            assert!(text.lines().any(|l| l == *line), "{line}");
        }
    }
}
