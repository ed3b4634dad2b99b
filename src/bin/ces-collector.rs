//! The `ces-collector` binary: serves terminals and central teams (`serve`), and manages
//! devices, admin tokens, exports and reports from the command line on the same database.
//! Exit codes: 0 done, 1 failure, 2 bad config or command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use ces_kiosk::collector::export::{Encoder, Format};
use ces_kiosk::collector::read::{By, ReadQuery};
use ces_kiosk::collector::storage::{NewDevice, SqliteStorage, Storage};
use ces_kiosk::collector::{Collector, Settings, report};
use ces_kiosk::credential::{Credential, Kind};
use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "ces-collector",
    version,
    about = "Central collector of Customer Effort Score answers from ces-kiosk terminals"
)]
struct Cli {
    /// The collector's config file.
    #[arg(
        long,
        short,
        global = true,
        value_name = "FILE",
        default_value = "/etc/ces-collector/collector.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve terminals and central teams until stopped (SIGTERM or Ctrl-C).
    Serve,
    /// Check the config file and exit: 0 when valid, 2 with the reason when not.
    CheckConfig,
    /// Add, revoke and list terminals.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Add and revoke the admin tokens central teams read exports and reports with.
    #[command(subcommand)]
    AdminToken(TokenCommand),
    /// Write stored answers as CSV or JSON.
    Export {
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        #[command(flatten)]
        filter: FilterArgs,
        /// Write to this file instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the CES report: n, mean, % easy and % difficult per site, touchpoint and day.
    Report {
        #[arg(long, value_enum, default_value_t = By::Day)]
        by: By,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        #[command(flatten)]
        filter: FilterArgs,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Add a terminal and print its credential on standard output (shown only this once).
    Add {
        #[arg(long)]
        site: String,
        #[arg(long)]
        touchpoint: String,
        /// The device id; made from the touchpoint when left out.
        #[arg(long)]
        id: Option<String>,
    },
    /// Revoke a terminal's credential: its requests are refused (403) from now on.
    Revoke { id: String },
    /// List the terminals with their last reported status.
    List {
        /// Print JSON, as `GET /v1/devices` does.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Add an admin token and print it on standard output (shown only this once).
    Add {
        /// Who or what uses the token ("cx-team", "bi-export").
        #[arg(long)]
        name: String,
    },
    /// Revoke an admin token.
    Revoke { name: String },
}

#[derive(Args)]
struct FilterArgs {
    /// First local date included (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Last local date included (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    #[arg(long)]
    site: Option<String>,
    #[arg(long)]
    touchpoint: Option<String>,
    #[arg(long)]
    device: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Table,
    Csv,
    Json,
}

/// A failure that is the user's input, not the system (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

fn main() -> ExitCode {
    ces_kiosk::logging::init();
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::CheckConfig = cli.command {
        println!("{}: ok", cli.config.display());
        println!(
            "listens on {}, database {}",
            settings.listen,
            settings.database.display()
        );
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<Usage>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    let storage = Arc::new(SqliteStorage::open(&settings.database)?);
    let now_ms = || jiff::Timestamp::now().as_millisecond();
    match command {
        Command::CheckConfig => unreachable!("handled before the database is opened"),
        Command::Serve => serve(settings, storage).await?,
        Command::Device(DeviceCommand::Add {
            site,
            touchpoint,
            id,
        }) => {
            for (key, value) in [("--site", &site), ("--touchpoint", &touchpoint)] {
                check_name(key, value)?;
            }
            let id = match id {
                Some(id) => {
                    check_name("--id", &id)?;
                    id
                }
                None => {
                    let mut suffix = [0u8; 3];
                    getrandom::fill(&mut suffix).context("no random numbers")?;
                    let stem: String = touchpoint.chars().take(50).collect();
                    format!("{stem}-{:02x}{:02x}{:02x}", suffix[0], suffix[1], suffix[2])
                }
            };
            let credential = Credential::generate(Kind::Device);
            storage
                .add_device(NewDevice {
                    id: id.clone(),
                    site: site.clone(),
                    touchpoint: touchpoint.clone(),
                    credential_hash: credential.hash(),
                    created_at_ms: now_ms(),
                })
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!(
                "device {id} added for site {site}, touchpoint {touchpoint}.\n\
                 Its credential follows; it is shown only now. Put it on the terminal in the \
                 file its [upstream] credential_file names (chmod 600)."
            );
            println!("{}", credential.expose());
        }
        Command::Device(DeviceCommand::Revoke { id }) => {
            storage
                .revoke_device(&id, now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("device {id} revoked: its requests are refused from now on");
        }
        Command::Device(DeviceCommand::List { json }) => {
            let flag = i64::try_from(settings.skew_flag.as_millis()).unwrap_or(i64::MAX);
            let devices = storage.devices(flag).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&devices)?);
            } else {
                print!("{}", device_table(&devices));
            }
        }
        Command::AdminToken(TokenCommand::Add { name }) => {
            check_name("--name", &name)?;
            let token = Credential::generate(Kind::Admin);
            storage
                .add_admin_token(&name, &token.hash(), now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("admin token {name} added; it follows and is shown only now");
            println!("{}", token.expose());
        }
        Command::AdminToken(TokenCommand::Revoke { name }) => {
            storage
                .revoke_admin_token(&name, now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("admin token {name} revoked");
        }
        Command::Export {
            format,
            filter,
            output,
        } => export(storage, format, filter, output).await?,
        Command::Report { by, format, filter } => {
            let filter = filter.query().filter().map_err(Usage)?;
            let report = report::build(storage.report_counts(filter, by == By::Hour).await?);
            let mut out = std::io::stdout().lock();
            match format {
                ReportFormat::Table => out.write_all(report::table(&report).as_bytes())?,
                ReportFormat::Csv => out.write_all(&report::csv(&report))?,
                ReportFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &report)?;
                    writeln!(out)?;
                }
            }
        }
    }
    Ok(())
}

async fn serve(settings: Settings, storage: Arc<SqliteStorage>) -> anyhow::Result<()> {
    let listen = settings.listen;
    let collector = Collector::bind(settings, storage)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM can be watched");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stopping: finishing the requests in flight");
        stop.cancel();
    });
    collector.run_until_stopped(shutdown).await?;
    Ok(())
}

async fn export(
    storage: Arc<SqliteStorage>,
    format: Format,
    filter: FilterArgs,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let filter = filter.query().filter().map_err(Usage)?;
    let mut out: Box<dyn Write + Send> = match &output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let reading = tokio::spawn(async move { storage.export(filter, tx).await });
    let mut encoder = Encoder::new(format);
    let mut rows = 0u64;
    while let Some(row) = rx.recv().await {
        out.write_all(&encoder.row(&row))?;
        rows += 1;
    }
    reading.await??;
    out.write_all(&encoder.finish())?;
    out.flush()?;
    if let Some(path) = output {
        eprintln!("{rows} answers written to {}", path.display());
    }
    Ok(())
}

impl FilterArgs {
    fn query(self) -> ReadQuery {
        ReadQuery {
            from: self.from,
            to: self.to,
            site: self.site,
            touchpoint: self.touchpoint,
            device: self.device,
            ..ReadQuery::default()
        }
    }
}

/// Ids, sites and touchpoints travel with every answer: short, printable, no spaces.
fn check_name(key: &str, value: &str) -> Result<(), Usage> {
    if !ces_kiosk::survey::is_name(value) {
        return Err(Usage(format!(
            "{key} {value:?} must be {}",
            ces_kiosk::survey::NAME_RULE
        )));
    }
    Ok(())
}

fn device_table(devices: &[ces_kiosk::wire::DeviceStatus]) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "{:<28} {:<18} {:<18} {:<20} {:<9} {:>6} {:>9} {:>8}  {}\n",
        "id", "site", "touchpoint", "last seen", "version", "queue", "skew (s)", "answers", "state"
    );
    for d in devices {
        let seen = d
            .last_seen
            .as_deref()
            .map_or("never", |s| &s[..s.len().min(19)]);
        let skew = d
            .clock_skew_ms
            .map_or("-".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        let state = match (&d.revoked_at, d.clock_skewed, &d.last_error) {
            (Some(_), _, _) => "revoked".to_owned(),
            (None, true, _) => "clock off".to_owned(),
            (None, false, Some(e)) => format!("error: {e}"),
            _ => "ok".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<28} {:<18} {:<18} {:<20} {:<9} {:>6} {:>9} {:>8}  {}",
            d.id,
            d.site,
            d.touchpoint,
            seen,
            d.app_version.as_deref().unwrap_or("-"),
            d.queue_depth.map_or("-".to_owned(), |q| q.to_string()),
            skew,
            d.answers,
            state
        );
    }
    out
}
