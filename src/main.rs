//! The `ces-kiosk` binary: parses the command line, sets up logging, loads the config, runs
//! the terminal, and maps failures to exit codes (0 ok, 1 failure, 2 bad config or usage).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use ces_kiosk::config::Config;
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
    /// Start the demo terminal in a window, with its data in a local folder.
    Demo {
        /// Where the demo keeps its database.
        #[arg(long, value_name = "DIR", default_value = "ces-kiosk-demo-data")]
        data: PathBuf,
    },
    /// Check a config file and exit: 0 when valid, 2 with the reason when not.
    CheckConfig {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

const EXIT_BAD_CONFIG: u8 = 2;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let cli = Cli::parse();
    let (config, fullscreen) = match cli.command {
        Command::CheckConfig { file } => {
            return match Config::load(&file) {
                Ok(c) => {
                    println!("{}: ok", file.display());
                    println!("{}", summary(&c));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_BAD_CONFIG)
                }
            };
        }
        Command::Run { config, windowed } => match Config::load(&config) {
            Ok(c) => (c, !windowed),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_BAD_CONFIG);
            }
        },
        Command::Demo { data } => match ces_kiosk::demo::config(&data) {
            Ok(c) => (c, false),
            Err(e) => {
                eprintln!("error: the built-in demo config is invalid: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    match run(&config, fullscreen) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: &Config, fullscreen: bool) -> anyhow::Result<()> {
    tracing::info!(
        device = config.device.id,
        site = config.device.site,
        touchpoint = config.device.touchpoint,
        db = %config.storage.path.display(),
        "starting terminal"
    );
    let ui =
        KioskUi::new(config).context("cannot create the kiosk window (is a display there?)")?;
    if fullscreen {
        slint::ComponentHandle::window(ui.window()).set_fullscreen(true);
    }
    ui.run().context("the window's event loop failed")?;
    tracing::info!("window closed; stopping");
    Ok(())
}

fn summary(c: &Config) -> String {
    let s = &c.survey;
    format!(
        "device {} at site {}, touchpoint {}\nquestion {} v{} on the {} scale, languages {}, \
         low scores {:?}, {} follow-up reasons\ndatabase {}",
        c.device.id,
        c.device.site,
        c.device.touchpoint,
        s.question_id,
        s.question_version,
        s.scale.as_str(),
        s.languages.join(", "),
        s.low_scores,
        s.follow_up.len(),
        c.storage.path.display(),
    )
}
