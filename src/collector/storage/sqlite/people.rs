//! Accounts, setup codes, login failures and sessions on SQLite. Writes run in the writer's
//! transaction; session lookups on a pooled read-only connection.

use rusqlite::{Connection, OptionalExtension, params};

use crate::collector::storage::StorageError;
use crate::collector::storage::people::{
    Failure, LoginAccount, NewSession, NewUser, Role, SessionUser, Setup, User,
};

fn role(text: String) -> rusqlite::Result<Role> {
    Role::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown role {text:?}").into(),
        )
    })
}

fn user_id(c: &Connection, name: &str) -> Result<i64, StorageError> {
    c.prepare_cached("SELECT id FROM users WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StorageError::NotFound(format!("no user named {name:?}")))
}

fn sites_of(c: &Connection, id: i64) -> Result<Vec<String>, StorageError> {
    let mut stmt =
        c.prepare_cached("SELECT site FROM user_sites WHERE user_id = ?1 ORDER BY site")?;
    let sites = stmt.query_map([id], |r| r.get(0))?;
    Ok(sites.collect::<Result<_, _>>()?)
}

pub fn add_user(c: &Connection, u: &NewUser) -> Result<(), StorageError> {
    let added = c.execute(
        "INSERT INTO users (name, role, setup_sha256, setup_expires_ms, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
        params![
            u.name,
            u.role.as_str(),
            u.setup_hash,
            u.setup_expires_ms,
            u.at_ms
        ],
    )?;
    if added == 0 {
        return Err(StorageError::Conflict(format!(
            "a user named {:?} exists already",
            u.name
        )));
    }
    let id = c.last_insert_rowid();
    for site in &u.sites {
        c.execute(
            "INSERT OR IGNORE INTO user_sites (user_id, site) VALUES (?1, ?2)",
            params![id, site],
        )?;
    }
    Ok(())
}

pub fn users(c: &Connection) -> Result<Vec<User>, StorageError> {
    let mut stmt = c.prepare(
        "SELECT id, name, role, password_phc IS NOT NULL, setup_expires_ms, disabled_at_ms IS NOT NULL,
            locked_until_ms, created_at_ms
         FROM users ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            User {
                name: r.get(1)?,
                role: role(r.get(2)?)?,
                sites: Vec::new(),
                has_password: r.get(3)?,
                setup_expires_ms: r.get(4)?,
                disabled: r.get(5)?,
                locked_until_ms: r.get(6)?,
                created_at_ms: r.get(7)?,
            },
        ))
    })?;
    let mut users = Vec::new();
    for row in rows {
        let (id, mut user) = row?;
        user.sites = sites_of(c, id)?;
        users.push(user);
    }
    Ok(users)
}

pub fn disable_user(c: &Connection, name: &str, at_ms: i64) -> Result<(), StorageError> {
    let id = user_id(c, name)?;
    c.execute(
        "UPDATE users SET disabled_at_ms = coalesce(disabled_at_ms, ?2),
            setup_sha256 = NULL, setup_expires_ms = NULL WHERE id = ?1",
        params![id, at_ms],
    )?;
    c.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
    Ok(())
}

pub fn reset_user(
    c: &Connection,
    name: &str,
    setup_hash: &str,
    expires_ms: i64,
) -> Result<(), StorageError> {
    let id = user_id(c, name)?;
    c.execute(
        "UPDATE users SET password_phc = NULL, setup_sha256 = ?2, setup_expires_ms = ?3,
            disabled_at_ms = NULL, failed_logins = 0, locked_until_ms = NULL
         WHERE id = ?1",
        params![id, setup_hash, expires_ms],
    )?;
    c.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
    Ok(())
}

pub fn set_password(
    c: &Connection,
    setup_hash: &str,
    phc: &str,
    at_ms: i64,
) -> Result<Setup, StorageError> {
    let found: Option<(i64, String, i64)> = c
        .query_row(
            "SELECT id, name, setup_expires_ms FROM users
             WHERE setup_sha256 = ?1 AND disabled_at_ms IS NULL",
            [setup_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((id, name, expires_ms)) = found else {
        return Ok(Setup::Unknown);
    };
    if expires_ms <= at_ms {
        return Ok(Setup::Expired);
    }
    c.execute(
        "UPDATE users SET password_phc = ?2, setup_sha256 = NULL, setup_expires_ms = NULL,
            failed_logins = 0, locked_until_ms = NULL
         WHERE id = ?1",
        params![id, phc],
    )?;
    Ok(Setup::Done { name })
}

pub fn login_account(c: &Connection, name: &str) -> Result<Option<LoginAccount>, StorageError> {
    Ok(c.prepare_cached(
        "SELECT id, password_phc, disabled_at_ms IS NOT NULL, locked_until_ms
         FROM users WHERE name = ?1",
    )?
    .query_row([name], |r| {
        Ok(LoginAccount {
            id: r.get(0)?,
            password_phc: r.get(1)?,
            disabled: r.get(2)?,
            locked_until_ms: r.get(3)?,
        })
    })
    .optional()?)
}

/// Counts a wrong password; every `after`-th in a row locks the account for `lock_ms`.
pub fn login_failed(
    c: &Connection,
    id: i64,
    at_ms: i64,
    after: u32,
    lock_ms: i64,
) -> Result<Failure, StorageError> {
    let failed: i64 = c.query_row(
        "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?1
         RETURNING failed_logins",
        [id],
        |r| r.get(0),
    )?;
    let failed = u32::try_from(failed).unwrap_or(u32::MAX);
    if after > 0 && failed % after == 0 {
        let until = at_ms.saturating_add(lock_ms);
        c.execute(
            "UPDATE users SET locked_until_ms = ?2 WHERE id = ?1",
            params![id, until],
        )?;
        return Ok(Failure::Locked(until));
    }
    Ok(Failure::Counted(failed))
}

pub fn start_session(c: &Connection, s: &NewSession) -> Result<(), StorageError> {
    c.execute(
        "UPDATE users SET failed_logins = 0, locked_until_ms = NULL WHERE id = ?1",
        [s.user_id],
    )?;
    c.execute("DELETE FROM sessions WHERE expires_at_ms <= ?1", [s.at_ms])?;
    c.execute(
        "INSERT INTO sessions (id_sha256, user_id, csrf, created_at_ms, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.id_hash, s.user_id, s.csrf, s.at_ms, s.expires_ms],
    )?;
    Ok(())
}

pub fn session(
    c: &Connection,
    id_hash: &str,
    now_ms: i64,
) -> Result<Option<SessionUser>, StorageError> {
    let found = c
        .prepare_cached(
            "SELECT u.id, u.name, u.role, s.csrf, s.expires_at_ms
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id_sha256 = ?1 AND s.expires_at_ms > ?2 AND u.disabled_at_ms IS NULL
                AND u.password_phc IS NOT NULL",
        )?
        .query_row(params![id_hash, now_ms], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                SessionUser {
                    name: r.get(1)?,
                    role: role(r.get(2)?)?,
                    sites: Vec::new(),
                    csrf: r.get(3)?,
                    expires_ms: r.get(4)?,
                },
            ))
        })
        .optional()?;
    let Some((id, mut user)) = found else {
        return Ok(None);
    };
    user.sites = sites_of(c, id)?;
    Ok(Some(user))
}

pub fn end_session(c: &Connection, id_hash: &str) -> Result<(), StorageError> {
    c.execute("DELETE FROM sessions WHERE id_sha256 = ?1", [id_hash])?;
    Ok(())
}
