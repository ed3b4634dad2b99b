//! The rows of a counting query turned into report groups: as SQLite grouped them, or added
//! up in Rust from per-day and per-month rows.

use std::collections::HashMap;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};

use crate::collector::storage::rollup::order;
use crate::collector::storage::{GroupCounts, StorageError};
use crate::store::text_column;
use crate::survey::Scale;

/// Runs a counting query with the columns of [`read_groups`] whose rows are per day, and adds
/// the days up per group. Each row's key is looked up without allocating, so that a year of
/// a thousand places (365,000 rows) is added up in a fraction of the time a `GROUP BY`
/// sorting them takes. Groups come out in the order of [`order`].
pub(super) fn read_summed(
    c: &Connection,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<GroupCounts>, StorageError> {
    let mut stmt = c.prepare(sql)?;
    let mut found = stmt.query(params_from_iter(values))?;
    let mut index: HashMap<Box<[u8]>, usize> = HashMap::new();
    let mut groups: Vec<GroupCounts> = Vec::new();
    let mut key = Vec::with_capacity(128);
    while let Some(r) = found.next()? {
        key.clear();
        for i in [0, 1, 2, 3, 4, 5, 6, 8] {
            match r.get_ref(i)? {
                ValueRef::Text(t) => key.extend_from_slice(t),
                ValueRef::Integer(n) => key.extend_from_slice(&n.to_le_bytes()),
                _ => key.push(0xff),
            }
            key.push(0);
        }
        let at = match index.get(key.as_slice()) {
            Some(at) => *at,
            None => {
                groups.push(group_of(r, None, None)?);
                index.insert(key.as_slice().into(), groups.len() - 1);
                groups.len() - 1
            }
        };
        add_counts(&mut groups[at], r)?;
    }
    groups.sort_by(|a, b| order(a).cmp(&order(b)));
    Ok(groups)
}

/// Runs a counting query whose columns are site, touchpoint, device, question id and
/// version, scale, direction, date, hour, the counts per score 1 … 7 and the suppressed
/// taps; `no_date` drops the date it was read per.
pub(super) fn read_groups(
    c: &Connection,
    sql: &str,
    values: Vec<Value>,
    no_date: bool,
) -> Result<Vec<GroupCounts>, StorageError> {
    let mut stmt = c.prepare(sql)?;
    let mut found = stmt.query(params_from_iter(values))?;
    let mut groups = Vec::new();
    while let Some(r) = found.next()? {
        let date = if no_date { None } else { r.get(7)? };
        let weekday = if r.as_ref().column_count() > 17 {
            r.get(17)?
        } else {
            None
        };
        let mut group = group_of(r, date, weekday)?;
        add_counts(&mut group, r)?;
        groups.push(group);
    }
    Ok(groups)
}

/// The group (with no answers yet) of a row with the columns of [`read_groups`].
fn group_of(
    r: &rusqlite::Row,
    date: Option<String>,
    weekday: Option<u8>,
) -> rusqlite::Result<GroupCounts> {
    let scale: Scale = text_column(r, 5)?;
    Ok(GroupCounts {
        site: r.get(0)?,
        touchpoint: r.get(1)?,
        device: r.get(2)?,
        question_id: r.get(3)?,
        question_version: r.get(4)?,
        scale,
        direction: text_column(r, 6)?,
        date,
        hour: r.get(8)?,
        weekday,
        counts: vec![0; usize::from(scale.max())],
        suppressed: 0,
    })
}

/// Adds a row's counts per score and its suppressed taps to its group.
fn add_counts(group: &mut GroupCounts, r: &rusqlite::Row) -> rusqlite::Result<()> {
    for (i, slot) in group.counts.iter_mut().enumerate() {
        *slot += u64::try_from(r.get::<_, i64>(9 + i)?).unwrap_or(0);
    }
    group.suppressed += u64::try_from(r.get::<_, i64>(16)?).unwrap_or(0);
    Ok(())
}
