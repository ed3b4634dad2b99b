//! The `ces-kiosk` binary: parses the command line, sets up logging, loads the config, runs
//! the terminal (window, store thread, and the uploader on its own thread), and maps failures
//! to exit codes (0 ok, 1 failure, 2 bad config or usage). The technicians' commands
//! (enroll, status, doctor, requeue, staff-pin, check-config, simulate-box) are in `admin`.

mod admin;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ces_kiosk::button_terminal::ButtonTerminal;
use ces_kiosk::config::{Config, Display};
use ces_kiosk::demo::DemoCollector;
use ces_kiosk::display::{Panel, PngPanel, framebuffer::Framebuffer};
use ces_kiosk::sync::SyncThread;
use ces_kiosk::ui::KioskUi;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ces-kiosk",
    version,
    about = "On-site Customer Effort Score terminal"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the terminal full screen with a config file.
    Run {
        #[arg(long, short, value_name = "FILE")]
        config: PathBuf,
        /// Use a normal window instead of full screen (for trying a config on a desktop).
        #[arg(long)]
        windowed: bool,
    },
    /// Start the demo terminal in a window, syncing to a collector of its own on this
    /// machine, with all its data in a local folder.
    Demo {
        /// Where the demo keeps its database.
        #[arg(long, value_name = "DIR", default_value = "ces-kiosk-demo-data")]
        data: PathBuf,
    },
    /// Enrol this terminal with the one-time code from the central team: it receives its own
    /// credential and survey config, kept in its state folder, readable only by the service.
    Enroll {
        /// The collector's address, like https://ces.example.com/.
        #[arg(long, value_name = "URL")]
        collector: String,
        /// The enrolment code, like ABCDE-FGHJK.
        #[arg(long)]
        code: String,
        /// The terminal's config file (it names the state folder, beside the database).
        #[arg(long, short, value_name = "FILE", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Show the terminal's status: who it is, what it runs, the upload queue, last sync and
    /// error, disk, clock, button boxes. Reads the database without changing it.
    Status {
        #[arg(long, short, value_name = "FILE", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check what the terminal needs (config, database, disk, clock, display, touch, button
    /// boxes, collector) and say what to fix. Exit 1 when a check failed.
    Doctor {
        #[arg(long, short, value_name = "FILE", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Send answers the collector refused (dead letters) again: all of them, or those whose
    /// reason contains TEXT. Always safe: the collector stores each answer once.
    Requeue {
        #[arg(long, short, value_name = "FILE", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Only the dead letters whose reason contains this text.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// List the dead letters by reason, and change nothing.
        #[arg(long, conflicts_with = "reason")]
        list: bool,
    },
    /// Make the hash of a staff PIN (4 to 8 digits, typed twice) for the config's `[staff]`
    /// section. The PIN itself is stored nowhere.
    StaffPin,
    /// Check a config file and exit: 0 when valid, 2 with the reason when not.
    CheckConfig {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Behave like a USB button box on a new pseudo-terminal, to try a button terminal
    /// without one: keys 1-9 press buttons, acknowledgements are printed.
    SimulateBox {
        /// The id the box gives in its hello.
        #[arg(long, default_value = "simulated-box")]
        id: String,
        /// Also make a symlink here to the pseudo-terminal (like /dev/serial/by-id/ names).
        #[arg(long, value_name = "PATH")]
        link: Option<PathBuf>,
    },
}

pub(crate) const EXIT_BAD_CONFIG: u8 = 2;
const DEFAULT_CONFIG: &str = "/etc/ces-kiosk/terminal.toml";

fn main() -> ExitCode {
    ces_kiosk::logging::init();

    let cli = Cli::parse();
    let (config, fullscreen, demo) = match cli.command {
        Command::SimulateBox { id, link } => return admin::simulate_box(&id, link.as_deref()),
        Command::Enroll {
            collector,
            code,
            config,
        } => return admin::enroll(&collector, &code, &config),
        Command::Status { config, json } => return admin::status(&config, json),
        Command::Doctor { config } => return admin::doctor(&config),
        Command::Requeue {
            config,
            reason,
            list,
        } => return admin::requeue(&config, reason.as_deref(), list),
        Command::StaffPin => return admin::staff_pin(),
        Command::CheckConfig { file } => return admin::check_config(&file),
        Command::Run { config, windowed } => match Config::load(&config) {
            Ok(c) => (c, !windowed, None),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_BAD_CONFIG);
            }
        },
        Command::Demo { data } => match ces_kiosk::demo::config(&data) {
            Ok(c) => (c, false, Some(data)),
            Err(e) => {
                eprintln!("error: the built-in demo config is invalid: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    match run(config, fullscreen, demo) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(mut config: Config, fullscreen: bool, demo: Option<PathBuf>) -> anyhow::Result<()> {
    tracing::info!(
        device = config.device.id,
        site = config.device.site,
        touchpoint = config.device.touchpoint,
        db = %config.storage.path.display(),
        "starting terminal"
    );
    // Dropped last: the demo's collector stops once the terminal has stopped.
    let demo_collector = demo
        .as_deref()
        .and_then(|data| start_demo_collector(data, &config));
    if let Some(c) = &demo_collector {
        config.upstream = Some(c.upstream.clone());
    }
    let background = match &config.upstream {
        None => None,
        Some(_) => Some(SyncThread::start().context("cannot start the sync thread")?),
    };
    let sync = match (&config.upstream, &background) {
        (Some(up), Some(thread)) => {
            Some(ces_kiosk::sync::start(thread, &config, up).context("cannot start the uploader")?)
        }
        _ => None,
    };
    if !config.display.is_touch() {
        return run_button_terminal(&config, sync, background.as_ref());
    }
    let ui = KioskUi::with_sync(&config, sync.clone())
        .context("cannot create the kiosk window (is a display there?)")?;
    if let (Some(sync), Some(thread)) = (&sync, &background) {
        thread.spawn(ui.follow_sync(sync.status()));
        thread.spawn(ui.follow_config());
    }
    if fullscreen {
        slint::ComponentHandle::window(ui.window()).set_fullscreen(true);
    }
    ces_kiosk::service::stop_on_signal(|| {
        // Queued, so that a signal before the loop runs still ends it.
        let _ = slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        });
    })
    .context("cannot watch for SIGTERM")?;
    ui.run().context("the window's event loop failed")?;
    tracing::info!("window closed; stopping");
    // The store thread finishes its queue (a box hears of the last press), then the boxes
    // are told the terminal is out of service.
    drop(ui);
    drop(background);
    drop(demo_collector);
    tracing::info!("stopped");
    Ok(())
}

/// Starts the demo's collector and says how to read it, or says why the demo runs without one
/// (it still takes answers, and keeps them on the terminal).
fn start_demo_collector(data: &std::path::Path, config: &Config) -> Option<DemoCollector> {
    let program = ces_kiosk::demo::COLLECTOR_PROGRAM;
    let collector = match DemoCollector::start(data, &config.device) {
        Ok(Some(collector)) => collector,
        Ok(None) => {
            println!(
                "No {program} beside this program or on the PATH: the demo keeps its answers \
                 on this terminal. Build both programs (cargo build --release) or install the \
                 {program} package to see them synced and on the dashboard."
            );
            return None;
        }
        Err(e) => {
            println!(
                "The demo's {program} did not start ({e:#}): the demo keeps its answers on this \
                 terminal."
            );
            return None;
        }
    };
    let ready = &collector.ready;
    let url = ready.url.trim_end_matches('/');
    let token = &ready.admin_token;
    println!("The demo terminal syncs to its own collector at {url}. Read what it holds:");
    println!("  curl -H 'Authorization: Bearer {token}' {url}/v1/report");
    println!("  curl -H 'Authorization: Bearer {token}' {url}/v1/export");
    println!(
        "The dashboard: {url}/ (log in as {} with the password {})",
        ces_kiosk::demo::DASHBOARD_USER,
        ready.dashboard_password
    );
    Some(collector)
}

/// A terminal without a touch screen: button boxes, and a small display or none.
fn run_button_terminal(
    config: &Config,
    sync: Option<ces_kiosk::sync::SyncHandle>,
    background: Option<&SyncThread>,
) -> anyhow::Result<()> {
    let panel: Option<Box<dyn Panel>> = match &config.display {
        Display::Framebuffer { device, layout } => {
            Some(Box::new(Framebuffer::open(device, *layout)?))
        }
        Display::Png { path, layout } => Some(Box::new(PngPanel::new(path, *layout))),
        Display::Touch { .. } | Display::None => None,
    };
    let terminal = ButtonTerminal::new(config, panel, sync.clone())?;
    if let (Some(sync), Some(thread)) = (&sync, background) {
        thread.spawn(terminal.follow_sync(sync.status()));
        thread.spawn(terminal.follow_config());
    }
    let stop = terminal.sender();
    ces_kiosk::service::stop_on_signal(move || {
        let _ = stop.send(ces_kiosk::button_terminal::Input::Stop);
    })
    .context("cannot watch for SIGTERM")?;
    tracing::info!(boxes = config.button_boxes.len(), "button terminal running");
    terminal.run();
    tracing::info!("stopped");
    Ok(())
}
