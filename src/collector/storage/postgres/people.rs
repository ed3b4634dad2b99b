//! Accounts, setup codes, login failures and sessions on PostgreSQL. A session lives in the
//! database, so it is valid on every collector; a wrong password is counted by the
//! database, so the lockout holds whichever collector the attempts reach.

use deadpool_postgres::GenericClient;

use super::pg_error;
use crate::collector::storage::StorageError;
use crate::collector::storage::people::{
    Failure, LoginAccount, NewSession, NewUser, Role, SessionUser, Setup, User,
};

fn role(text: &str) -> Result<Role, StorageError> {
    Role::parse(text).ok_or_else(|| StorageError::Failed(format!("unknown role {text:?}")))
}

async fn user_id(c: &impl GenericClient, name: &str) -> Result<i64, StorageError> {
    c.query_opt("SELECT id FROM users WHERE name = $1", &[&name])
        .await
        .map_err(pg_error)?
        .map(|r| r.get(0))
        .ok_or_else(|| StorageError::NotFound(format!("no user named {name:?}")))
}

async fn sites_of(c: &impl GenericClient, id: i64) -> Result<Vec<String>, StorageError> {
    let rows = c
        .query(
            "SELECT site FROM user_sites WHERE user_id = $1 ORDER BY site COLLATE \"C\"",
            &[&id],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub async fn add_user(c: &impl GenericClient, u: &NewUser) -> Result<(), StorageError> {
    let added = c
        .query_opt(
            "INSERT INTO users (name, role, setup_sha256, setup_expires_ms, created_at_ms)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING id",
            &[
                &u.name,
                &u.role.as_str(),
                &u.setup_hash,
                &u.setup_expires_ms,
                &u.at_ms,
            ],
        )
        .await
        .map_err(pg_error)?;
    let Some(added) = added else {
        return Err(StorageError::Conflict(format!(
            "a user named {:?} exists already",
            u.name
        )));
    };
    let id: i64 = added.get(0);
    c.execute(
        "INSERT INTO user_sites (user_id, site) SELECT $1, unnest($2::text[])
         ON CONFLICT DO NOTHING",
        &[&id, &u.sites],
    )
    .await
    .map_err(pg_error)?;
    Ok(())
}

pub async fn users(c: &impl GenericClient) -> Result<Vec<User>, StorageError> {
    let rows = c
        .query(
            "SELECT id, name, role, password_phc IS NOT NULL, setup_expires_ms,
                disabled_at_ms IS NOT NULL, locked_until_ms, created_at_ms
             FROM users ORDER BY name COLLATE \"C\"",
            &[],
        )
        .await
        .map_err(pg_error)?;
    let mut users = Vec::with_capacity(rows.len());
    for r in rows {
        users.push(User {
            name: r.get(1),
            role: role(r.get(2))?,
            sites: sites_of(c, r.get(0)).await?,
            has_password: r.get(3),
            setup_expires_ms: r.get(4),
            disabled: r.get(5),
            locked_until_ms: r.get(6),
            created_at_ms: r.get(7),
        });
    }
    Ok(users)
}

pub async fn disable_user(
    c: &impl GenericClient,
    name: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    let id = user_id(c, name).await?;
    c.execute(
        "UPDATE users SET disabled_at_ms = coalesce(disabled_at_ms, $2),
            setup_sha256 = NULL, setup_expires_ms = NULL WHERE id = $1",
        &[&id, &at_ms],
    )
    .await
    .map_err(pg_error)?;
    end_sessions(c, id).await
}

async fn end_sessions(c: &impl GenericClient, user: i64) -> Result<(), StorageError> {
    c.execute("DELETE FROM sessions WHERE user_id = $1", &[&user])
        .await
        .map_err(pg_error)?;
    Ok(())
}

pub async fn reset_user(
    c: &impl GenericClient,
    name: &str,
    setup_hash: &str,
    expires_ms: i64,
) -> Result<(), StorageError> {
    let id = user_id(c, name).await?;
    c.execute(
        "UPDATE users SET password_phc = NULL, setup_sha256 = $2, setup_expires_ms = $3,
            disabled_at_ms = NULL, failed_logins = 0, locked_until_ms = NULL
         WHERE id = $1",
        &[&id, &setup_hash, &expires_ms],
    )
    .await
    .map_err(pg_error)?;
    end_sessions(c, id).await
}

/// Sets the password and uses up the setup code in one statement: a code sent to two
/// collectors at once sets one password.
pub async fn set_password(
    c: &impl GenericClient,
    setup_hash: &str,
    phc: &str,
    at_ms: i64,
) -> Result<Setup, StorageError> {
    let found = c
        .query_opt(
            "SELECT name, setup_expires_ms FROM users
             WHERE setup_sha256 = $1 AND disabled_at_ms IS NULL",
            &[&setup_hash],
        )
        .await
        .map_err(pg_error)?;
    let Some(found) = found else {
        return Ok(Setup::Unknown);
    };
    let (name, expires_ms): (String, i64) = (found.get(0), found.get(1));
    if expires_ms <= at_ms {
        return Ok(Setup::Expired);
    }
    let set = c
        .execute(
            "UPDATE users SET password_phc = $2, setup_sha256 = NULL, setup_expires_ms = NULL,
                failed_logins = 0, locked_until_ms = NULL
             WHERE setup_sha256 = $1 AND disabled_at_ms IS NULL",
            &[&setup_hash, &phc],
        )
        .await
        .map_err(pg_error)?;
    Ok(if set == 0 {
        Setup::Unknown
    } else {
        Setup::Done { name }
    })
}

pub async fn login_account(
    c: &impl GenericClient,
    name: &str,
) -> Result<Option<LoginAccount>, StorageError> {
    let row = c
        .query_opt(
            "SELECT id, password_phc, disabled_at_ms IS NOT NULL, locked_until_ms
             FROM users WHERE name = $1",
            &[&name],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.map(|r| LoginAccount {
        id: r.get(0),
        password_phc: r.get(1),
        disabled: r.get(2),
        locked_until_ms: r.get(3),
    }))
}

/// Counts a wrong password; every `after`-th in a row locks the account for `lock_ms`. One
/// statement, so that failures counted by two collectors at once are both counted.
pub async fn login_failed(
    c: &impl GenericClient,
    id: i64,
    at_ms: i64,
    after: u32,
    lock_ms: i64,
) -> Result<Failure, StorageError> {
    let until = at_ms.saturating_add(lock_ms);
    let after = i32::try_from(after).unwrap_or(i32::MAX);
    let row = c
        .query_one(
            "UPDATE users SET failed_logins = failed_logins + 1,
                locked_until_ms = CASE WHEN $2 > 0 AND (failed_logins + 1) % $2 = 0 THEN $3
                    ELSE locked_until_ms END
             WHERE id = $1 RETURNING failed_logins",
            &[&id, &after, &until],
        )
        .await
        .map_err(pg_error)?;
    let failed = u32::try_from(row.get::<_, i32>(0)).unwrap_or(u32::MAX);
    if after > 0 && failed % after.unsigned_abs() == 0 {
        return Ok(Failure::Locked(until));
    }
    Ok(Failure::Counted(failed))
}

pub async fn start_session(c: &impl GenericClient, s: &NewSession) -> Result<(), StorageError> {
    c.execute(
        "UPDATE users SET failed_logins = 0, locked_until_ms = NULL WHERE id = $1",
        &[&s.user_id],
    )
    .await
    .map_err(pg_error)?;
    c.execute(
        "DELETE FROM sessions WHERE expires_at_ms <= $1",
        &[&s.at_ms],
    )
    .await
    .map_err(pg_error)?;
    c.execute(
        "INSERT INTO sessions (id_sha256, user_id, csrf, created_at_ms, expires_at_ms)
         VALUES ($1, $2, $3, $4, $5)",
        &[&s.id_hash, &s.user_id, &s.csrf, &s.at_ms, &s.expires_ms],
    )
    .await
    .map_err(pg_error)?;
    Ok(())
}

pub async fn session(
    c: &impl GenericClient,
    id_hash: &str,
    now_ms: i64,
) -> Result<Option<SessionUser>, StorageError> {
    let stmt = c
        .prepare_cached(
            "SELECT u.id, u.name, u.role, s.csrf, s.expires_at_ms
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id_sha256 = $1 AND s.expires_at_ms > $2 AND u.disabled_at_ms IS NULL
                AND u.password_phc IS NOT NULL",
        )
        .await
        .map_err(pg_error)?;
    let Some(r) = c
        .query_opt(&stmt, &[&id_hash, &now_ms])
        .await
        .map_err(pg_error)?
    else {
        return Ok(None);
    };
    Ok(Some(SessionUser {
        name: r.get(1),
        role: role(r.get(2))?,
        sites: sites_of(c, r.get(0)).await?,
        csrf: r.get(3),
        expires_ms: r.get(4),
    }))
}

pub async fn end_session(c: &impl GenericClient, id_hash: &str) -> Result<(), StorageError> {
    c.execute("DELETE FROM sessions WHERE id_sha256 = $1", &[&id_hash])
        .await
        .map_err(pg_error)?;
    Ok(())
}
