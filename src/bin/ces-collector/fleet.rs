//! The fleet commands of `ces-collector`: adding and revoking terminals, their enrolment
//! codes, admin tokens, and the survey configs terminals run.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use ces_kiosk::collector::storage::{ConfigTarget, NewDevice, NewEnrolmentCode, Storage};
use ces_kiosk::config::{MAX_SURVEY_CONFIG_BYTES, SurveyConfig, with_logo_inline};
use ces_kiosk::credential::{Credential, EnrolmentCode, Kind};
use clap::{Args, Subcommand};

use crate::Usage;

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Add a terminal and print its one-time enrolment code, which staff type on site.
    Add {
        #[arg(long)]
        site: String,
        #[arg(long)]
        touchpoint: String,
        /// The device id; made from the touchpoint when left out.
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        validity: Validity,
        /// Print a credential for the terminal's config file instead of an enrolment code
        /// (for terminals set up by hand).
        #[arg(long)]
        credential: bool,
    },
    /// Print a new enrolment code for a terminal (a replaced or reinstalled one). Using it
    /// gives the terminal a new credential; the old one stops working.
    EnrolCode {
        id: String,
        #[command(flatten)]
        validity: Validity,
    },
    /// Revoke a terminal's credential: its requests are refused (403) from now on, and its
    /// unused enrolment codes expire.
    Revoke { id: String },
    /// List the terminals with their last reported status.
    List {
        /// Print JSON, as `GET /v1/devices` does.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct Validity {
    /// How long the enrolment code works.
    #[arg(long, value_name = "HOURS", default_value_t = 72, value_parser = clap::value_parser!(u32).range(1..=720))]
    valid_hours: u32,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Add an admin token and print it on standard output (shown only this once).
    Add {
        /// Who or what uses the token ("cx-team", "bi-export").
        #[arg(long)]
        name: String,
    },
    /// Revoke an admin token.
    Revoke { name: String },
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Check a survey config file ([survey] and [kiosk] sections) and give it to a terminal
    /// or to every terminal of a site. Terminals pick it up when they next sync and switch
    /// when their screen is idle. The newest config set for a terminal or its site wins.
    Set {
        #[command(flatten)]
        target: Target,
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the survey config a terminal gets (its own or its site's newest).
    Show {
        #[arg(long)]
        device: String,
    },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// The terminal's device id.
    #[arg(long)]
    device: Option<String>,
    /// Every terminal of this site, now and later.
    #[arg(long)]
    site: Option<String>,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub async fn device(
    command: DeviceCommand,
    storage: Arc<dyn Storage>,
    skew_flag_ms: i64,
) -> anyhow::Result<()> {
    match command {
        DeviceCommand::Add {
            site,
            touchpoint,
            id,
            validity,
            credential,
        } => {
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
            let secret = Credential::generate(Kind::Device);
            storage
                .add_device(NewDevice {
                    id: id.clone(),
                    site: site.clone(),
                    touchpoint: touchpoint.clone(),
                    credential_hash: secret.hash(),
                    created_at_ms: now_ms(),
                })
                .await
                .map_err(|e| Usage(e.to_string()))?;
            if credential {
                eprintln!(
                    "device {id} added for site {site}, touchpoint {touchpoint}.\n\
                     Its credential follows; it is shown only now. Put it on the terminal in \
                     the file its [upstream] credential_file names (chmod 600)."
                );
                println!("{}", secret.expose());
            } else {
                eprintln!("device {id} added for site {site}, touchpoint {touchpoint}.");
                enrol_code(storage.as_ref(), &id, validity).await?;
            }
        }
        DeviceCommand::EnrolCode { id, validity } => {
            enrol_code(storage.as_ref(), &id, validity).await?
        }
        DeviceCommand::Revoke { id } => {
            storage
                .revoke_device(&id, now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("device {id} revoked: its requests are refused from now on");
        }
        DeviceCommand::List { json } => {
            let devices = storage.devices(skew_flag_ms).await?;
            if json {
                crate::print_safely(
                    &(serde_json::to_string_pretty(&devices)? + "\n"),
                    crate::Shown::Json,
                );
            } else {
                crate::print_safely(&crate::device_table(&devices), crate::Shown::Table);
            }
        }
    }
    Ok(())
}

/// Makes, stores and prints an enrolment code for device `id`.
async fn enrol_code(storage: &dyn Storage, id: &str, validity: Validity) -> anyhow::Result<()> {
    let code = EnrolmentCode::generate();
    let now = now_ms();
    let expires = now + i64::from(validity.valid_hours) * 3_600_000;
    storage
        .add_enrolment_code(NewEnrolmentCode {
            device_id: id.to_owned(),
            code_hash: code.hash(),
            created_at_ms: now,
            expires_at_ms: expires,
        })
        .await
        .map_err(|e| Usage(e.to_string()))?;
    let until = jiff::Timestamp::from_millisecond(expires).map_or(String::new(), |t| t.to_string());
    let config = storage.device_config(id).await?;
    eprintln!(
        "Enrolment code for {id}, valid once until {until}. On the terminal run:\n  \
         sudo ces-kiosk enroll --collector <this collector's URL> --code <code>"
    );
    if config.is_none() {
        eprintln!(
            "Note: {id} has no survey config yet; the code works once one is set with \
             `ces-collector config set --device {id} FILE` (or --site)."
        );
    }
    println!("{}", code.expose());
    Ok(())
}

pub async fn token(command: TokenCommand, storage: Arc<dyn Storage>) -> anyhow::Result<()> {
    match command {
        TokenCommand::Add { name } => {
            check_name("--name", &name)?;
            let token = Credential::generate(Kind::Admin);
            storage
                .add_admin_token(&name, &token.hash(), now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("admin token {name} added; it follows and is shown only now");
            println!("{}", token.expose());
        }
        TokenCommand::Revoke { name } => {
            storage
                .revoke_admin_token(&name, now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("admin token {name} revoked");
        }
    }
    Ok(())
}

pub async fn config(command: ConfigCommand, storage: Arc<dyn Storage>) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Set { target, file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Usage(format!("cannot read {}: {e}", file.display())))?;
            // A logo file beside the config travels inside it.
            let text = with_logo_inline(&text, &file).map_err(|e| Usage(e.to_string()))?;
            if text.len() > MAX_SURVEY_CONFIG_BYTES {
                return Err(Usage(format!(
                    "{} is larger than {MAX_SURVEY_CONFIG_BYTES} bytes (with its logo inline: \
                     {} bytes); make the logo smaller, or the texts shorter",
                    file.display(),
                    text.len()
                ))
                .into());
            }
            let checked = SurveyConfig::parse(&text, &file).map_err(|e| Usage(e.to_string()))?;
            if let Some(site) = &target.site {
                check_name("--site", site)?;
                if !storage
                    .devices(i64::MAX)
                    .await?
                    .iter()
                    .any(|d| &d.site == site)
                {
                    eprintln!(
                        "note: no terminal belongs to site {site} yet; its terminals get this \
                         config when they are added"
                    );
                }
            }
            let (target, named) = match (target.device, target.site) {
                (Some(d), _) => (ConfigTarget::Device(d.clone()), format!("device {d}")),
                (None, Some(s)) => (
                    ConfigTarget::Site(s.clone()),
                    format!("every device of site {s}"),
                ),
                (None, None) => unreachable!("clap requires --device or --site"),
            };
            let version = storage
                .set_config(target, text, now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!(
                "survey config version {version} ({} v{}, {} scale) set for {named}; terminals \
                 switch to it after their next sync, when their screen is idle",
                checked.survey.question_id,
                checked.survey.question_version,
                checked.survey.scale.as_str()
            );
            println!("{version}");
        }
        ConfigCommand::Show { device } => match storage.device_config(&device).await? {
            Some(c) => {
                eprintln!("survey config version {} for {device}:", c.version);
                crate::print_safely(&c.text, crate::Shown::Data);
            }
            None => {
                return Err(Usage(format!("no survey config for {device:?} (or its site)")).into());
            }
        },
    }
    Ok(())
}

/// Ids, sites and touchpoints travel with every answer: short, printable, no spaces.
pub fn check_name(key: &str, value: &str) -> Result<(), Usage> {
    if !ces_kiosk::survey::is_name(value) {
        return Err(Usage(format!(
            "{key} {value:?} must be {}",
            ces_kiosk::survey::NAME_RULE
        )));
    }
    Ok(())
}
