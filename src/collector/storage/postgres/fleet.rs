//! Devices, admin tokens, heartbeats, enrolment codes and survey configs on PostgreSQL. A
//! code is locked by the transaction that uses it, so that two collectors given the same
//! code at once enrol one terminal; config versions come from a sequence, so that they
//! only grow whichever collector stores them.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::connection::unsigned;
use super::pg_error;
use crate::collector::storage::filter::rfc3339;
use crate::collector::storage::{
    ConfigTarget, DeviceIdentity, Enrolment, HeartbeatRecord, NewDevice, NewEnrolmentCode,
    StorageError,
};
use crate::wire::{DeviceStatus, SurveyConfig};

pub async fn device_by_credential(
    c: &impl GenericClient,
    hash: &str,
) -> Result<Option<DeviceIdentity>, StorageError> {
    let stmt = c
        .prepare_cached(
            "SELECT id, site, touchpoint, revoked_at_ms IS NOT NULL FROM devices
             WHERE credential_sha256 = $1",
        )
        .await
        .map_err(pg_error)?;
    let row = c.query_opt(&stmt, &[&hash]).await.map_err(pg_error)?;
    Ok(row.map(|r| DeviceIdentity {
        id: r.get(0),
        site: r.get(1),
        touchpoint: r.get(2),
        revoked: r.get(3),
    }))
}

pub async fn admin_token(c: &impl GenericClient, hash: &str) -> Result<Option<bool>, StorageError> {
    let row = c
        .query_opt(
            "SELECT revoked_at_ms IS NOT NULL FROM admin_tokens WHERE token_sha256 = $1",
            &[&hash],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.map(|r| r.get(0)))
}

pub async fn record_heartbeat(
    c: &impl GenericClient,
    record: &HeartbeatRecord,
) -> Result<(), StorageError> {
    let b = &record.beat;
    let big = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    c.execute(
        "UPDATE devices SET last_seen_ms = $2, clock_skew_ms = $3, app_version = $4,
            boot_id = $5, clock_trusted = $6, queue_depth = $7, oldest_unsynced_age_s = $8,
            dead_letters = $9, last_error = $10, config_version = $11, config_error = $12
         WHERE id = $1",
        &[
            &record.device_id,
            &record.received_at_ms,
            &record.clock_skew_ms,
            &b.app_version,
            &b.boot_id,
            &b.clock_trusted,
            &big(b.queue_depth),
            &b.oldest_unsynced_age_seconds.map(big),
            &big(b.dead_letters),
            &b.last_error,
            &b.config_version.map(big),
            &b.config_error,
        ],
    )
    .await
    .map_err(pg_error)?;
    Ok(())
}

pub async fn add_device(c: &impl GenericClient, d: &NewDevice) -> Result<(), StorageError> {
    let added = c
        .execute(
            "INSERT INTO devices (id, site, touchpoint, credential_sha256, created_at_ms)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &d.id,
                &d.site,
                &d.touchpoint,
                &d.credential_hash,
                &d.created_at_ms,
            ],
        )
        .await
        .map_err(pg_error)?;
    if added == 0 {
        return Err(StorageError::Conflict(format!(
            "a device with the id {:?} exists already",
            d.id
        )));
    }
    Ok(())
}

/// Revokes a device and expires its unused codes: codes made before a revocation must not
/// bring the device back.
pub async fn revoke_device(
    c: &impl GenericClient,
    id: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    let n = c
        .execute(
            "UPDATE devices SET revoked_at_ms = coalesce(revoked_at_ms, $2) WHERE id = $1",
            &[&id, &at_ms],
        )
        .await
        .map_err(pg_error)?;
    if n == 0 {
        return Err(StorageError::NotFound(format!(
            "no device with the id {id:?}"
        )));
    }
    c.execute(
        "UPDATE enrolment_codes SET expires_at_ms = least(expires_at_ms, $2)
         WHERE device_id = $1 AND used_at_ms IS NULL",
        &[&id, &at_ms],
    )
    .await
    .map_err(pg_error)?;
    Ok(())
}

pub async fn devices(
    c: &impl GenericClient,
    skew_flag_ms: i64,
) -> Result<Vec<DeviceStatus>, StorageError> {
    let rows = c
        .query(
            "SELECT id, site, touchpoint, created_at_ms, revoked_at_ms, last_seen_ms,
                last_upload_ms, app_version, queue_depth, oldest_unsynced_age_s, dead_letters,
                last_error, clock_skew_ms, clock_trusted, answers, config_version, config_error,
                (SELECT max(version) FROM survey_configs s
                 WHERE s.device_id = devices.id OR s.site = devices.site)
             FROM devices ORDER BY site COLLATE \"C\", touchpoint COLLATE \"C\", id COLLATE \"C\"",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| device_status(r, skew_flag_ms))
        .collect())
}

fn device_status(r: &Row, skew_flag_ms: i64) -> DeviceStatus {
    let time = |i| r.get::<_, Option<i64>>(i).map(rfc3339);
    let count = |i| r.get::<_, Option<i64>>(i).map(unsigned);
    let skew: Option<i64> = r.get(12);
    DeviceStatus {
        id: r.get(0),
        site: r.get(1),
        touchpoint: r.get(2),
        created_at: rfc3339(r.get(3)),
        revoked_at: time(4),
        last_seen: time(5),
        last_upload: time(6),
        app_version: r.get(7),
        queue_depth: count(8),
        oldest_unsynced_age_seconds: count(9),
        dead_letters: count(10),
        last_error: r.get(11),
        clock_skew_ms: skew,
        clock_skewed: skew.is_some_and(|s| s.saturating_abs() > skew_flag_ms),
        clock_trusted: r.get(13),
        answers: unsigned(r.get(14)),
        config_version: count(15),
        config_error: r.get(16),
        config_latest: count(17),
    }
}

pub async fn add_admin_token(
    c: &impl GenericClient,
    name: &str,
    hash: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    let added = c
        .execute(
            "INSERT INTO admin_tokens (name, token_sha256, created_at_ms)
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&name, &hash, &at_ms],
        )
        .await
        .map_err(pg_error)?;
    if added == 0 {
        return Err(StorageError::Conflict(format!(
            "an admin token named {name:?} exists already"
        )));
    }
    Ok(())
}

pub async fn revoke_admin_token(
    c: &impl GenericClient,
    name: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    let n = c
        .execute(
            "UPDATE admin_tokens SET revoked_at_ms = coalesce(revoked_at_ms, $2) WHERE name = $1",
            &[&name, &at_ms],
        )
        .await
        .map_err(pg_error)?;
    if n == 0 {
        return Err(StorageError::NotFound(format!(
            "no admin token named {name:?}"
        )));
    }
    Ok(())
}

fn config(r: &Row) -> SurveyConfig {
    SurveyConfig {
        version: unsigned(r.get(0)),
        text: r.get(1),
    }
}

/// The newest config of a device or its site.
pub async fn device_config(
    c: &impl GenericClient,
    device_id: &str,
) -> Result<Option<SurveyConfig>, StorageError> {
    let stmt = c
        .prepare_cached(
            "SELECT version, text FROM survey_configs
             WHERE device_id = $1 OR site = (SELECT site FROM devices WHERE id = $1)
             ORDER BY version DESC LIMIT 1",
        )
        .await
        .map_err(pg_error)?;
    let row = c.query_opt(&stmt, &[&device_id]).await.map_err(pg_error)?;
    Ok(row.as_ref().map(config))
}

/// The newest config set for a whole site.
pub async fn site_config(
    c: &impl GenericClient,
    site: &str,
) -> Result<Option<SurveyConfig>, StorageError> {
    let row = c
        .query_opt(
            "SELECT version, text FROM survey_configs WHERE site = $1
             ORDER BY version DESC LIMIT 1",
            &[&site],
        )
        .await
        .map_err(pg_error)?;
    Ok(row.as_ref().map(config))
}

pub async fn add_code(c: &impl GenericClient, code: &NewEnrolmentCode) -> Result<(), StorageError> {
    let added = c
        .execute(
            "INSERT INTO enrolment_codes (code_sha256, device_id, created_at_ms, expires_at_ms)
             SELECT $1, id, $3, $4 FROM devices WHERE id = $2",
            &[
                &code.code_hash,
                &code.device_id,
                &code.created_at_ms,
                &code.expires_at_ms,
            ],
        )
        .await
        .map_err(pg_error)?;
    if added == 0 {
        return Err(StorageError::NotFound(format!(
            "no device with the id {:?}",
            code.device_id
        )));
    }
    Ok(())
}

/// Uses a code in the caller's transaction. The code's row is locked first: a second
/// collector using the same code waits, then finds it used.
pub async fn enrol(
    c: &impl GenericClient,
    code_hash: &str,
    credential_hash: &str,
    at_ms: i64,
) -> Result<Enrolment, StorageError> {
    let found = c
        .query_opt(
            "SELECT device_id, expires_at_ms, used_at_ms FROM enrolment_codes
             WHERE code_sha256 = $1 FOR UPDATE",
            &[&code_hash],
        )
        .await
        .map_err(pg_error)?;
    let Some(found) = found else {
        return Ok(Enrolment::Unknown);
    };
    let (device_id, expires_at_ms, used_at_ms): (String, i64, Option<i64>) =
        (found.get(0), found.get(1), found.get(2));
    if let Some(at_ms) = used_at_ms {
        return Ok(Enrolment::Used { at_ms });
    }
    if at_ms >= expires_at_ms {
        return Ok(Enrolment::Expired {
            at_ms: expires_at_ms,
        });
    }
    let Some(config) = device_config(c, &device_id).await? else {
        return Ok(Enrolment::NoConfig { device_id });
    };
    c.execute(
        "UPDATE enrolment_codes SET used_at_ms = $2 WHERE code_sha256 = $1",
        &[&code_hash, &at_ms],
    )
    .await
    .map_err(pg_error)?;
    let device = c
        .query_one(
            "UPDATE devices SET credential_sha256 = $2, revoked_at_ms = NULL WHERE id = $1
             RETURNING id, site, touchpoint",
            &[&device_id, &credential_hash],
        )
        .await
        .map_err(pg_error)?;
    Ok(Enrolment::Enrolled {
        device: DeviceIdentity {
            id: device.get(0),
            site: device.get(1),
            touchpoint: device.get(2),
            revoked: false,
        },
        config,
    })
}

pub async fn set_config(
    c: &impl GenericClient,
    target: &ConfigTarget,
    text: &str,
    at_ms: i64,
) -> Result<u64, StorageError> {
    let row = match target {
        ConfigTarget::Device(id) => c
            .query_opt(
                "INSERT INTO survey_configs (device_id, text, created_at_ms)
                 SELECT id, $2, $3 FROM devices WHERE id = $1 RETURNING version",
                &[id, &text, &at_ms],
            )
            .await
            .map_err(pg_error)?
            .ok_or_else(|| StorageError::NotFound(format!("no device with the id {id:?}")))?,
        // A site's config may come before its first terminal.
        ConfigTarget::Site(site) => c
            .query_one(
                "INSERT INTO survey_configs (site, text, created_at_ms) VALUES ($1, $2, $3)
                 RETURNING version",
                &[site, &text, &at_ms],
            )
            .await
            .map_err(pg_error)?,
    };
    Ok(unsigned(row.get(0)))
}
