//! A report group's identity (time bucket, question, place) in the order groups sort, and
//! the cursor that names the last group of a page.

use super::period::{Bucket, By};
use crate::collector::storage::GroupKey;
use crate::survey::{Direction, Scale};

/// A group's identity, in the order groups sort: time, then question, then place.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    pub(super) bucket: Bucket,
    pub(super) question: Question,
    pub(super) site: Option<String>,
    pub(super) touchpoint: Option<String>,
    pub(super) device: Option<String>,
}

/// What figures may be added up over: one question version on one scale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Question {
    pub(super) id: String,
    pub(super) version: u32,
    pub(super) scale: Scale,
    pub(super) direction: Direction,
}

/// Questions sort as storage sorts them: by id, version, and scale and direction by name.
impl Ord for Question {
    fn cmp(&self, other: &Question) -> std::cmp::Ordering {
        let key = |q: &Question| {
            (
                q.id.clone(),
                q.version,
                q.scale.as_str(),
                q.direction.as_str(),
            )
        };
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for Question {
    fn partial_cmp(&self, other: &Question) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Where a page ends: the last group it showed, as an opaque text for `cursor=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor(pub(super) Key);

/// Separates a cursor's parts; names never hold it.
const CURSOR_SEPARATOR: char = '~';

impl Cursor {
    /// The group the cursor names, for storage to page after it.
    pub(super) fn group_key(&self) -> GroupKey {
        let k = &self.0;
        let (date, hour) = match &k.bucket {
            Bucket::Day(d) | Bucket::Week(d) | Bucket::Month(d) => (Some(d.clone()), None),
            Bucket::Hour(d, h) => (Some(d.clone()), Some(*h)),
            Bucket::HourOfDay(h) => (None, Some(*h)),
            Bucket::Weekday(_) | Bucket::Period => (None, None),
        };
        GroupKey {
            date,
            hour,
            site: k.site.clone(),
            touchpoint: k.touchpoint.clone(),
            device: k.device.clone(),
            question_id: k.question.id.clone(),
            question_version: k.question.version,
            scale: k.question.scale,
            direction: k.question.direction,
        }
    }

    /// Reads a cursor given out by a report by `by`.
    pub fn parse(by: By, text: &str) -> Result<Cursor, String> {
        let refused = || format!("cursor: {text:?} is not one a report by {by:?} gave out");
        let parts: Vec<&str> = text.split(CURSOR_SEPARATOR).collect();
        let [
            bucket,
            site,
            touchpoint,
            device,
            id,
            version,
            scale,
            direction,
        ] = parts[..]
        else {
            return Err(refused());
        };
        let name = |s: &str| -> Result<Option<String>, String> {
            match s {
                "" => Ok(None),
                s if crate::survey::is_name(s) => Ok(Some(s.to_owned())),
                _ => Err(refused()),
            }
        };
        Ok(Cursor(Key {
            bucket: Bucket::parse(by, bucket).ok_or_else(refused)?,
            site: name(site)?,
            touchpoint: name(touchpoint)?,
            device: name(device)?,
            question: Question {
                id: name(id)?.ok_or_else(refused)?,
                version: version.parse().map_err(|_| refused())?,
                scale: Scale::from_name(scale).ok_or_else(refused)?,
                direction: serde_json::from_value(direction.into()).map_err(|_| refused())?,
            },
        }))
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = &self.0;
        let name = |n: &Option<String>| n.clone().unwrap_or_default();
        let parts = [
            k.bucket.label(),
            name(&k.site),
            name(&k.touchpoint),
            name(&k.device),
            k.question.id.clone(),
            k.question.version.to_string(),
            k.question.scale.as_str().to_owned(),
            k.question.direction.as_str().to_owned(),
        ];
        f.write_str(&parts.join(&CURSOR_SEPARATOR.to_string()))
    }
}
