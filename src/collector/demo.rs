//! The demo's own collector (`ces-collector demo`): on 127.0.0.1, with its database and
//! secrets in the demo's data folder, the demo terminal enrolled in it and a dashboard
//! account to log in with. The terminal side is [`crate::demo`].

use std::net::{Ipv4Addr, SocketAddr};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::collector::dashboard::access;
use crate::collector::storage::{NewDevice, NewUser, Role, SqliteStorage, Storage, StorageError};
use crate::collector::{Collector, Settings};
use crate::config::Device;
use crate::credential::{self, Credential, Kind};
use crate::demo::{DASHBOARD_USER, Ready};

/// Starts a collector on 127.0.0.1 with its database in `data_dir` (`collector.db`), and
/// enrols `device` in it. The credentials are kept in `data_dir` (mode 600), so the demo
/// keeps its data across runs. Returns what the terminal is to be told, and the future that
/// serves until `shutdown`.
pub async fn start(
    data_dir: &Path,
    device: &Device,
    shutdown: CancellationToken,
) -> anyhow::Result<(
    Ready,
    impl Future<Output = anyhow::Result<()>> + Send + use<>,
)> {
    let storage = Arc::new(SqliteStorage::open(&data_dir.join("collector.db"))?);
    let now = jiff::Timestamp::now().as_millisecond();

    let credential = secret(&data_dir.join("demo-device-credential"), Kind::Device)?;
    if storage
        .device_by_credential(&credential.hash())
        .await?
        .is_none()
    {
        let mut new = NewDevice {
            id: device.id.clone(),
            site: device.site.clone(),
            touchpoint: device.touchpoint.clone(),
            credential_hash: credential.hash(),
            created_at_ms: now,
        };
        if let Err(StorageError::Conflict(_)) = storage.add_device(new.clone()).await {
            new.id = format!("{}-{}", device.id, &credential.hash()[..6]);
            storage.add_device(new).await?;
        }
    }
    let admin_token = secret(&data_dir.join("demo-admin-token"), Kind::Admin)?;
    if storage.admin_token(&admin_token.hash()).await?.is_none() {
        let name = format!("demo-{}", &admin_token.hash()[..6]);
        storage
            .add_admin_token(&name, &admin_token.hash(), now)
            .await?;
    }

    let dashboard_password = dashboard_login(&storage, data_dir, now).await?;

    let settings = Settings::new(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        data_dir.join("collector.db"),
    );
    let collector = Collector::bind(settings, storage)
        .await
        .context("cannot start the demo collector on 127.0.0.1")?;
    let ready = Ready {
        url: format!("http://{}/", collector.local_addr()),
        device_credential: credential.expose().to_owned(),
        admin_token: admin_token.expose().to_owned(),
        dashboard_password,
    };
    let serve = async move {
        collector.run_until_stopped(shutdown).await?;
        Ok(())
    };
    Ok((ready, serve))
}

/// The demo dashboard's admin account `demo`, with its password kept in `data_dir`
/// (`demo-dashboard-password`, mode 600) and set again if the account is new.
async fn dashboard_login(
    storage: &SqliteStorage,
    data_dir: &Path,
    now: i64,
) -> anyhow::Result<String> {
    let path = data_dir.join("demo-dashboard-password");
    let password = match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let password = access::random_token()[..16].to_owned();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            std::io::Write::write_all(&mut file, password.as_bytes())?;
            password
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if storage.login_account(DASHBOARD_USER).await?.is_none() {
        let code = access::random_token();
        let user = NewUser {
            name: DASHBOARD_USER.into(),
            role: Role::Admin,
            sites: Vec::new(),
            setup_hash: credential::hash_text(&code),
            setup_expires_ms: now + access::SETUP_MS,
            at_ms: now,
        };
        storage.add_user(user).await?;
        let phc = access::hash_password(&password).map_err(anyhow::Error::msg)?;
        storage
            .set_password(&credential::hash_text(&code), &phc, now)
            .await?;
    }
    Ok(password)
}

/// Reads a credential kept in `path`, or makes one and keeps it there (mode 600).
fn secret(path: &Path, kind: Kind) -> anyhow::Result<Credential> {
    match std::fs::read_to_string(path) {
        Ok(text) => Credential::parse(&text, kind).with_context(|| format!("{}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let c = Credential::generate(kind);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            std::io::Write::write_all(&mut file, c.expose().as_bytes())?;
            Ok(c)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}
