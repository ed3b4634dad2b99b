//! Enrolment codes and survey configs on SQLite: using a code (one transaction: code used,
//! new credential in place), storing configs under growing versions, and finding the config
//! a device should run (the newest of its own and its site's).

use rusqlite::{Connection, OptionalExtension, params};

use crate::collector::storage::{
    ConfigTarget, DeviceIdentity, Enrolment, NewEnrolmentCode, StorageError,
};
use crate::wire::SurveyConfig;

/// The newest config of a device or its site.
const DEVICE_CONFIG: &str = "SELECT version, text FROM survey_configs
    WHERE device_id = ?1 OR site = (SELECT site FROM devices WHERE id = ?1)
    ORDER BY version DESC LIMIT 1";

pub fn device_config(
    c: &Connection,
    device_id: &str,
) -> Result<Option<SurveyConfig>, StorageError> {
    Ok(c.prepare_cached(DEVICE_CONFIG)?
        .query_row([device_id], |r| {
            Ok(SurveyConfig {
                version: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                text: r.get(1)?,
            })
        })
        .optional()?)
}

/// The newest config set for a whole site.
pub fn site_config(c: &Connection, site: &str) -> Result<Option<SurveyConfig>, StorageError> {
    Ok(c.prepare_cached(
        "SELECT version, text FROM survey_configs WHERE site = ?1 ORDER BY version DESC LIMIT 1",
    )?
    .query_row([site], |r| {
        Ok(SurveyConfig {
            version: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            text: r.get(1)?,
        })
    })
    .optional()?)
}

pub fn add_code(c: &Connection, code: &NewEnrolmentCode) -> Result<(), StorageError> {
    let known: bool = c.query_row(
        "SELECT count(*) > 0 FROM devices WHERE id = ?1",
        [&code.device_id],
        |r| r.get(0),
    )?;
    if !known {
        return Err(StorageError::NotFound(format!(
            "no device with the id {:?}",
            code.device_id
        )));
    }
    c.execute(
        "INSERT INTO enrolment_codes (code_sha256, device_id, created_at_ms, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            code.code_hash,
            code.device_id,
            code.created_at_ms,
            code.expires_at_ms
        ],
    )?;
    Ok(())
}

pub fn enrol(
    c: &Connection,
    code_hash: &str,
    credential_hash: &str,
    at_ms: i64,
) -> Result<Enrolment, StorageError> {
    let found: Option<(String, i64, Option<i64>)> = c
        .query_row(
            "SELECT device_id, expires_at_ms, used_at_ms FROM enrolment_codes
             WHERE code_sha256 = ?1",
            [code_hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((device_id, expires_at_ms, used_at_ms)) = found else {
        return Ok(Enrolment::Unknown);
    };
    if let Some(at_ms) = used_at_ms {
        return Ok(Enrolment::Used { at_ms });
    }
    if at_ms >= expires_at_ms {
        return Ok(Enrolment::Expired {
            at_ms: expires_at_ms,
        });
    }
    let Some(config) = device_config(c, &device_id)? else {
        return Ok(Enrolment::NoConfig { device_id });
    };
    c.execute(
        "UPDATE enrolment_codes SET used_at_ms = ?2 WHERE code_sha256 = ?1",
        params![code_hash, at_ms],
    )?;
    c.execute(
        "UPDATE devices SET credential_sha256 = ?2, revoked_at_ms = NULL WHERE id = ?1",
        params![device_id, credential_hash],
    )?;
    let device = c.query_row(
        "SELECT id, site, touchpoint FROM devices WHERE id = ?1",
        [&device_id],
        |r| {
            Ok(DeviceIdentity {
                id: r.get(0)?,
                site: r.get(1)?,
                touchpoint: r.get(2)?,
                revoked: false,
            })
        },
    )?;
    Ok(Enrolment::Enrolled { device, config })
}

/// Codes made before a revocation must not bring the device back.
pub fn expire_codes(c: &Connection, device_id: &str, at_ms: i64) -> Result<(), StorageError> {
    c.execute(
        "UPDATE enrolment_codes SET expires_at_ms = min(expires_at_ms, ?2)
         WHERE device_id = ?1 AND used_at_ms IS NULL",
        params![device_id, at_ms],
    )?;
    Ok(())
}

pub fn set_config(
    c: &Connection,
    target: &ConfigTarget,
    text: &str,
    at_ms: i64,
) -> Result<u64, StorageError> {
    let (device, site) = match target {
        ConfigTarget::Device(id) => {
            let known: bool = c.query_row(
                "SELECT count(*) > 0 FROM devices WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            if !known {
                return Err(StorageError::NotFound(format!(
                    "no device with the id {id:?}"
                )));
            }
            (Some(id), None)
        }
        // A site's config may come before its first terminal.
        ConfigTarget::Site(site) => (None, Some(site)),
    };
    c.execute(
        "INSERT INTO survey_configs (device_id, site, text, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
        params![device, site, text, at_ms],
    )?;
    Ok(u64::try_from(c.last_insert_rowid()).unwrap_or(0))
}
