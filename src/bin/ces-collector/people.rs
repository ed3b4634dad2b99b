//! `ces-collector user`: the people who log in to the dashboard. `add` and `reset` print a
//! one-time setup link (and its code) with which the person sets their own password; the
//! collector never sees a password on the command line.

use std::sync::Arc;

use ces_kiosk::collector::Settings;
use ces_kiosk::collector::dashboard::access::{SETUP_MS, random_token};
use ces_kiosk::collector::storage::{NewUser, Role, Storage};
use ces_kiosk::credential;
use ces_kiosk::text::for_terminal;
use clap::Subcommand;

use crate::Usage;
use crate::fleet::check_name;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a person and print the one-time link with which they set their password
    /// (valid 72 hours).
    Add {
        /// The name they log in with.
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// A site a viewer may see; repeat for more. A viewer without sites sees all.
        #[arg(long = "site", value_name = "SITE")]
        sites: Vec<String>,
    },
    /// List the people, their role, sites and state.
    List,
    /// Disable a person: their sessions end and they cannot log in.
    Disable {
        #[arg(long)]
        name: String,
    },
    /// Clear a person's password (and lock) and print a new one-time setup link.
    Reset {
        #[arg(long)]
        name: String,
    },
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Prints where and with which code the person sets their password.
fn print_setup(settings: &Settings, name: &str, code: &str) {
    let base = match &settings.dashboard.public_url {
        Some(u) => u.as_str().trim_end_matches('/').to_owned(),
        None => format!("http://{}", settings.listen),
    };
    eprintln!(
        "give {} this one-time link (valid 72 hours) to set their password:",
        for_terminal(name)
    );
    println!("{base}/setup?code={code}");
}

pub async fn user(
    command: UserCommand,
    storage: Arc<dyn Storage>,
    settings: &Settings,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { name, role, sites } => {
            check_name("--name", &name)?;
            for site in &sites {
                check_name("--site", site)?;
            }
            if role == Role::Admin && !sites.is_empty() {
                return Err(Usage("an admin sees every site: --site is for viewers".into()).into());
            }
            let code = random_token();
            let user = NewUser {
                name: name.clone(),
                role,
                sites,
                setup_hash: credential::hash_text(&code),
                setup_expires_ms: now_ms() + SETUP_MS,
                at_ms: now_ms(),
            };
            storage
                .add_user(user)
                .await
                .map_err(|e| Usage(e.to_string()))?;
            print_setup(settings, &name, &code);
        }
        UserCommand::List => {
            let now = now_ms();
            println!("name\trole\tsites\tstate");
            for u in storage.users().await? {
                let state = if u.disabled {
                    "disabled"
                } else if u.locked_until_ms.is_some_and(|t| t > now) {
                    "locked"
                } else if u.has_password {
                    "active"
                } else if u.setup_expires_ms.is_some_and(|t| t > now) {
                    "waiting for setup"
                } else {
                    "setup code expired"
                };
                let sites = if u.sites.is_empty() {
                    "all".to_owned()
                } else {
                    u.sites.join(",")
                };
                println!(
                    "{}\t{}\t{}\t{state}",
                    for_terminal(&u.name),
                    u.role.as_str(),
                    for_terminal(&sites)
                );
            }
        }
        UserCommand::Disable { name } => {
            storage
                .disable_user(&name, now_ms())
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("{} is disabled; their sessions ended", for_terminal(&name));
        }
        UserCommand::Reset { name } => {
            let code = random_token();
            storage
                .reset_user(&name, &credential::hash_text(&code), now_ms() + SETUP_MS)
                .await
                .map_err(|e| Usage(e.to_string()))?;
            print_setup(settings, &name, &code);
        }
    }
    Ok(())
}
