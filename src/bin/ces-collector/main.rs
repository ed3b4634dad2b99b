//! The `ces-collector` binary: serves terminals and central teams (`serve`), and manages
//! devices, enrolment codes, survey configs, admin tokens, exports and reports from the
//! command line on the same database (`fleet`). Exit codes: 0 done, 1 failure, 2 bad config
//! or command line.

mod actions;
mod alerts;
mod fleet;
mod migrate;
mod notices;
mod people;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use ces_kiosk::collector::export::{Encoder, Format};
use ces_kiosk::collector::read::ReadQuery;
use ces_kiosk::collector::report::By;
use ces_kiosk::collector::storage::{Grouping, Storage};
use ces_kiosk::collector::{Collector, Settings, report};
use ces_kiosk::config::Device;
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
    /// Add, enrol, revoke and list terminals.
    #[command(subcommand)]
    Device(fleet::DeviceCommand),
    /// Set the survey config (question, scale, texts, follow-up, timings) terminals run.
    #[command(subcommand)]
    Config(fleet::ConfigCommand),
    /// Add and revoke the admin tokens central teams read exports and reports with.
    #[command(subcommand)]
    AdminToken(fleet::TokenCommand),
    /// Add, list, disable and reset the people who log in to the dashboard.
    #[command(subcommand)]
    User(people::UserCommand),
    /// Set sites' time zones and opening hours (alert rules fire only while open).
    #[command(subcommand)]
    Site(alerts::SiteCommand),
    /// Add, list and remove alert rules.
    #[command(subcommand)]
    AlertRule(alerts::RuleCommand),
    /// List and acknowledge alerts.
    #[command(subcommand)]
    Alert(alerts::AlertCommand),
    /// Record what was changed at a place, and see whether it worked.
    #[command(subcommand)]
    Action(actions::ActionCommand),
    /// "You said, we did": a short message on the thank-you screens of a site or touchpoint.
    #[command(subcommand)]
    Notice(notices::NoticeCommand),
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
    /// The demo terminal's own collector, started by `ces-kiosk demo`: serves on 127.0.0.1
    /// with its data in a folder, prints one JSON line saying where once it listens, and stops
    /// at the end of its standard input.
    #[command(hide = true)]
    Demo {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[arg(long)]
        device: String,
        #[arg(long)]
        site: String,
        #[arg(long)]
        touchpoint: String,
    },
    /// Recount the stored answers and compare them with the rollups every report reads: exit
    /// 0 when they match, 1 with the differences when they do not.
    Verify,
    /// Copy this SQLite collector's whole state into an empty PostgreSQL database and check
    /// the copy (rows per table, rollups against a recount); the file is left as it was.
    /// Stop the collector first.
    Migrate(migrate::MigrateArgs),
    /// Print the CES report: n, mean, % easy and % difficult per place, question and time,
    /// with totals; with --from and --to, the previous equal period beside them.
    Report {
        /// The time buckets.
        #[arg(long, value_enum, default_value_t = By::Day)]
        by: By,
        /// The places: each site, touchpoint or device, or the whole fleet per question.
        #[arg(long, value_enum, default_value_t = Grouping::Touchpoint)]
        group: Grouping,
        /// Mark groups with fewer counted answers as too few to rank or compare.
        #[arg(long, default_value_t = 0)]
        min_n: u64,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        #[command(flatten)]
        filter: FilterArgs,
    },
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
pub(crate) struct Usage(pub(crate) String);

fn main() -> ExitCode {
    ces_kiosk::logging::init();
    let cli = Cli::parse();
    if let Command::Demo {
        data,
        device,
        site,
        touchpoint,
    } = cli.command
    {
        let device = Device {
            id: device,
            site,
            touchpoint,
        };
        return match demo(&data, device) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
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
            settings.listen, settings.database
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
    let command = match command {
        // Reads the file without opening it as the collector does (which could change it).
        Command::Migrate(args) => return migrate::migrate(args, &settings).await,
        other => other,
    };
    let storage = settings.database.open().await?;
    match command {
        Command::CheckConfig | Command::Demo { .. } | Command::Migrate(_) => {
            unreachable!("handled before the database is opened")
        }
        Command::Serve => serve(settings, storage).await?,
        Command::Device(command) => {
            let flag = i64::try_from(settings.skew_flag.as_millis()).unwrap_or(i64::MAX);
            fleet::device(command, storage, flag).await?;
        }
        Command::Config(command) => fleet::config(command, storage).await?,
        Command::AdminToken(command) => fleet::token(command, storage).await?,
        Command::User(command) => people::user(command, storage, &settings).await?,
        Command::Site(command) => alerts::site(command, storage).await?,
        Command::AlertRule(command) => alerts::rule(command, storage).await?,
        Command::Alert(command) => alerts::alert(command, storage).await?,
        Command::Notice(command) => notices::notice(command, storage).await?,
        Command::Action(command) => {
            actions::action(command, storage, settings.dashboard.min_answers).await?
        }
        Command::Export {
            format,
            filter,
            output,
        } => export(storage, format, filter, output).await?,
        Command::Verify => verify(storage).await?,
        Command::Report {
            by,
            group,
            min_n,
            format,
            filter,
        } => {
            let filter = filter.query().filter().map_err(Usage)?;
            let request = report::Request {
                by,
                min_n,
                ..report::Request::default()
            };
            let report = report::read(storage.as_ref(), filter, group, request).await?;
            match format {
                ReportFormat::Table => print_safely(&report::table(&report), Shown::Table),
                ReportFormat::Csv => {
                    print_safely(&String::from_utf8_lossy(&report::csv(&report)), Shown::Data)
                }
                ReportFormat::Json => print_safely(
                    &(serde_json::to_string_pretty(&report)? + "\n"),
                    Shown::Json,
                ),
            }
        }
    }
    Ok(())
}

/// Serves the demo's collector until its standard input ends (the terminal stopped or died),
/// SIGTERM or Ctrl-C.
fn demo(data: &std::path::Path, device: Device) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        let (ready, serve) = ces_kiosk::collector::demo::start(data, &device, shutdown.clone())
            .await
            .context("cannot start the demo collector")?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string(&ready)?)?;
        out.flush()?;
        let stop = shutdown.clone();
        std::thread::spawn(move || {
            // Whatever comes in is ignored; the end of it, or a failed read, means stop.
            let mut input = std::io::stdin().lock();
            while matches!(std::io::Read::read(&mut input, &mut [0; 64]), Ok(1..)) {}
            stop.cancel();
        });
        stop_on_signal(shutdown);
        serve.await
    })
}

async fn serve(settings: Settings, storage: Arc<dyn Storage>) -> anyhow::Result<()> {
    let listen = settings.listen;
    match ces_kiosk::collector::server::raise_open_file_limit() {
        Ok(files) => tracing::debug!(files, "open-file limit"),
        Err(e) => tracing::warn!("cannot read or raise the open-file limit: {e}"),
    }
    let collector = Collector::bind(settings, storage)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let shutdown = CancellationToken::new();
    stop_on_signal(shutdown.clone());
    ces_kiosk::service::ready();
    collector.run_until_stopped(shutdown).await?;
    Ok(())
}

/// Cancels `shutdown` at the first SIGTERM or Ctrl-C, after telling systemd the service is
/// stopping.
fn stop_on_signal(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM can be watched");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stopping: finishing the requests in flight");
        ces_kiosk::service::stopping();
        shutdown.cancel();
    });
}

/// A difference between the rollups and the answers (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Mismatch(pub(crate) String);

async fn verify(storage: Arc<dyn Storage>) -> anyhow::Result<()> {
    let v = storage.verify_counts().await?;
    if v.differences.is_empty() {
        println!(
            "ok: the rollups count the {} stored answers exactly ({} rollup rows)",
            v.answers, v.rollup_rows
        );
        return Ok(());
    }
    let mut text = String::new();
    for d in &v.differences {
        text.push_str(&format!(
            "{}: the rollup says {}, the answers count {}\n",
            d.key, d.stored, d.counted
        ));
    }
    print_safely(&text, Shown::Table);
    Err(Mismatch(format!(
        "{}{} rollup rows do not match the {} stored answers",
        v.differences.len(),
        if v.differences.len() >= 1000 {
            " or more"
        } else {
            ""
        },
        v.answers
    ))
    .into())
}

/// What kind of text [`print_safely`] prints.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    /// A table for people: hidden characters always escaped.
    Table,
    /// JSON: hidden characters inside strings always escaped (the same JSON value).
    Json,
    /// CSV or a file's text: escaped when standard output is a terminal, as stored otherwise.
    Data,
}

/// Prints text made of stored data so that nothing stored can act on a terminal.
pub(crate) fn print_safely(text: &str, kind: Shown) {
    use std::io::IsTerminal;
    let shown = match kind {
        Shown::Json => ces_kiosk::text::json_for_terminal(text),
        Shown::Table => ces_kiosk::text::for_terminal_lines(text),
        Shown::Data if std::io::stdout().is_terminal() => ces_kiosk::text::for_terminal_lines(text),
        Shown::Data => std::borrow::Cow::Borrowed(text),
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(shown.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write to standard output: {e}");
    }
}

async fn export(
    storage: Arc<dyn Storage>,
    format: Format,
    filter: FilterArgs,
    output: Option<PathBuf>,
) -> anyhow::Result<()> {
    let filter = filter.query().filter().map_err(Usage)?;
    use std::io::IsTerminal;
    // CSV shown in a terminal has its hidden characters escaped; JSON always does (the same
    // value); a CSV file or pipe gets the cells as stored (formulas neutralised).
    let escape = format == Format::Json || (output.is_none() && std::io::stdout().is_terminal());
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
        let bytes = encoder.row(&row);
        if escape {
            let text = String::from_utf8_lossy(&bytes);
            let safe = match format {
                Format::Json => ces_kiosk::text::json_for_terminal(&text),
                Format::Csv => ces_kiosk::text::for_terminal_lines(&text),
            };
            out.write_all(safe.as_bytes())?;
        } else {
            out.write_all(&bytes)?;
        }
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

pub(crate) fn device_table(devices: &[ces_kiosk::wire::DeviceStatus]) -> String {
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
