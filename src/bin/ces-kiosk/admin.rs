//! The `ces-kiosk` commands for technicians: enrolling, status, doctor, sending dead letters
//! again, the staff PIN, checking a config, and the software button box. Each returns the
//! exit code.

use std::path::Path;
use std::process::ExitCode;

use ces_kiosk::config::Config;

use crate::EXIT_BAD_CONFIG;

/// `ces-kiosk simulate-box`.
pub fn simulate_box(id: &str, link: Option<&Path>) -> ExitCode {
    if !ces_kiosk::buttons::frame::is_box_id(id) {
        eprintln!("error: --id must be 1 to 32 letters, digits, '-', '_' or '.'");
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    match ces_kiosk::buttons::simulate::run_interactive(id, link) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `ces-kiosk status`: text, or JSON with `json`.
pub fn status(config: &Path, json: bool) -> ExitCode {
    let config = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let status = ces_kiosk::status::TerminalStatus::gather(&config);
    if !json {
        // The last error may quote the collector or what stood in its way: shown as text.
        print!("{}", ces_kiosk::text::for_terminal_lines(&status.text()));
        return ExitCode::SUCCESS;
    }
    match serde_json::to_string_pretty(&status) {
        Ok(text) => {
            println!("{}", ces_kiosk::text::json_for_terminal(&text));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `ces-kiosk doctor`: exit 1 when a check failed.
pub fn doctor(config: &Path) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let checks = match runtime {
        Ok(r) => r.block_on(ces_kiosk::doctor::run(config)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", ces_kiosk::doctor::report(&checks));
    let failed = checks
        .iter()
        .any(|c| c.verdict == ces_kiosk::doctor::Verdict::Fail);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `ces-kiosk requeue`: lists the dead letters by reason, or puts them (all, or those whose
/// reason contains `reason`) back in the upload queue. 0 done, 1 failure, 2 bad config.
pub fn requeue(config: &Path, reason: Option<&str>, list: bool) -> ExitCode {
    let config = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let db = &config.storage.path;
    if !db.exists() {
        eprintln!(
            "error: {} does not exist yet: the terminal has stored nothing",
            db.display()
        );
        return ExitCode::FAILURE;
    }
    let done = as_owner_of(db)
        .map_err(|e| format!("cannot act as the database's owner: {e}"))
        .and_then(|()| ces_kiosk::store::Store::open(db, &config.device).map_err(|e| e.to_string()))
        .and_then(|mut store| {
            if list {
                let letters = store.dead_letters().map_err(|e| e.to_string())?;
                if letters.is_empty() {
                    println!("no dead letters: the collector refused no answer of this terminal");
                }
                for (why, n) in letters {
                    println!("{n:>7}  {}", ces_kiosk::text::for_terminal(&why));
                }
                return Ok(());
            }
            let n = store.requeue(reason).map_err(|e| e.to_string())?;
            tracing::info!(answers = n, "dead letters put back in the upload queue");
            println!(
                "{n} answers are waiting for upload again; the terminal sends them at its next \
                 sync (within its heartbeat interval, or at once with Sync now on the staff \
                 screen)"
            );
            Ok(())
        });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Run as root, acts as the owner of `path` (the service's user) from now on, so that the
/// files SQLite makes beside the database stay the service's own.
fn as_owner_of(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let meta = std::fs::metadata(path)?;
    if meta.uid() == 0 {
        return Ok(());
    }
    // SAFETY: setegid and seteuid change this process's effective ids; the group first,
    // while still allowed to.
    unsafe {
        if libc::setegid(meta.gid()) != 0 || libc::seteuid(meta.uid()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `ces-kiosk check-config`: 0 valid (with a summary), 2 with the reason.
pub fn check_config(file: &Path) -> ExitCode {
    match Config::load(file) {
        Ok(c) => {
            println!("{}: ok", file.display());
            println!("{}", summary(&c));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_BAD_CONFIG)
        }
    }
}

/// `ces-kiosk staff-pin`: the PIN twice from standard input (not echoed on a terminal), the
/// `[staff]` section with its hash on standard output.
pub fn staff_pin() -> ExitCode {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let quiet = stdin.is_terminal().then(ces_kiosk::staff::EchoOff::start);
    let mut lines = stdin.lock().lines();
    let mut ask = |prompt: &str| {
        eprint!("{prompt}");
        let line = lines.next().and_then(Result::ok).unwrap_or_default();
        if quiet.is_some() {
            eprintln!();
        }
        line.trim().to_owned()
    };
    let pin = ask("Staff PIN (4 to 8 digits): ");
    if !ces_kiosk::staff::is_pin(&pin) {
        eprintln!("error: a PIN is 4 to 8 digits");
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    if ask("The same PIN again: ") != pin {
        eprintln!("error: the two PINs differ");
        return ExitCode::from(EXIT_BAD_CONFIG);
    }
    drop(quiet);
    match ces_kiosk::staff::hash_pin(&pin) {
        Ok(hash) => {
            eprintln!("Put these two lines in /etc/ces-kiosk/terminal.toml, then restart:");
            println!("[staff]\npin_hash = \"{hash}\"");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `ces-kiosk enroll`: exit 0 enrolled, 1 refused or unreachable, 2 bad input.
pub fn enroll(collector: &str, code: &str, config: &Path) -> ExitCode {
    let input = (|| {
        let url = ces_kiosk::config::collector_url(collector)?;
        let code = ces_kiosk::credential::EnrolmentCode::parse(code).map_err(|e| e.to_string())?;
        let state = Config::state_dir_of(config).map_err(|e| e.to_string())?;
        Ok::<_, String>((url, code, state))
    })();
    let (url, code, state) = match input {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ces_kiosk::enrolment::enroll(&url, &code, &state)) {
        Ok(done) => {
            tracing::info!(device = done.device_id, "enrolled");
            println!(
                "enrolled as device {} at site {}, touchpoint {}; survey config version {}",
                done.device_id, done.site, done.touchpoint, done.config.version
            );
            println!("saved in {}", state.display());
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    match Config::load(config) {
        Ok(_) => {
            println!(
                "{} is ready. Start the terminal: sudo systemctl restart ces-kiosk",
                config.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: enrolled, but the terminal cannot start with its config file: {e}");
            ExitCode::from(EXIT_BAD_CONFIG)
        }
    }
}

fn summary(c: &Config) -> String {
    let s = &c.survey;
    format!(
        "device {} at site {}, touchpoint {}\n{}\nquestion {} v{} on the {} scale, languages {}, \
         low scores {:?}, {} follow-up reasons\ndatabase {}\n{}\n{}",
        c.device.id,
        c.device.site,
        c.device.touchpoint,
        match c.config_version {
            Some(v) => format!(
                "enrolled; survey config version {v} from the collector (in {})",
                c.state_dir().display()
            ),
            None => "survey from this file".to_owned(),
        },
        s.question_id,
        s.question_version,
        s.scale.as_str(),
        s.languages.join(", "),
        s.low_scores,
        s.follow_up.len(),
        c.storage.path.display(),
        hardware(c),
        match &c.upstream {
            Some(up) => format!(
                "syncs to {} in batches of up to {}",
                up.url, up.batch_max_answers
            ),
            None => "does not sync (no [upstream] section)".to_owned(),
        },
    )
}

fn hardware(c: &Config) -> String {
    let display = c.display.to_string();
    let boxes: Vec<String> = c
        .button_boxes
        .iter()
        .map(|b| {
            format!(
                "button box {} at {} baud, scores {:?}",
                b.path.display(),
                b.baud,
                b.scores
            )
        })
        .collect();
    if boxes.is_empty() {
        display
    } else {
        format!("{display}; {}", boxes.join("; "))
    }
}
