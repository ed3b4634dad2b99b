//! Which answers a read covers ([`AnswerFilter`]) and its SQL conditions, shared by both
//! backends (each gives its own placeholders); times as RFC 3339; reasons ranked.

use std::collections::BTreeMap;

use super::ReasonCount;
use crate::survey::{Direction, Scale};

/// Which answers an export or report covers; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerFilter {
    /// First local date included (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last local date included (YYYY-MM-DD).
    pub to: Option<String>,
    pub site: Option<String>,
    pub touchpoint: Option<String>,
    pub device: Option<String>,
    /// Only answers of these sites: the sites a viewer may see. `None` for every site.
    pub sites: Option<Vec<String>>,
}

impl AnswerFilter {
    /// The conditions of the filter on a table of answers or counts, one for each part that
    /// is given (so that an index on them can be used). `mark` takes each value and gives
    /// its placeholder. A device's site and touchpoint are added when the filter names no
    /// site, so that rows kept by place are found by it. A viewer's sites become
    /// `site IN (…)`: nothing outside them is read.
    pub fn conditions(&self, mut mark: impl FnMut(String) -> String) -> Vec<String> {
        let device_place = self.device.clone().filter(|_| self.site.is_none());
        let mut conditions = Vec::new();
        for (sql, value) in [
            ("local_date >= ?", &self.from),
            ("local_date <= ?", &self.to),
            ("site = ?", &self.site),
            ("touchpoint = ?", &self.touchpoint),
            ("device_id = ?", &self.device),
            (
                "site = (SELECT site FROM devices WHERE id = ?)",
                &device_place,
            ),
            (
                "touchpoint = (SELECT touchpoint FROM devices WHERE id = ?)",
                &device_place,
            ),
        ] {
            if let Some(v) = value {
                conditions.push(sql.replace('?', &mark(v.clone())));
            }
        }
        if let Some(sites) = &self.sites {
            let marks: Vec<String> = sites.iter().map(|s| mark(s.clone())).collect();
            conditions.push(if marks.is_empty() {
                "FALSE".to_owned()
            } else {
                format!("site IN ({})", marks.join(", "))
            });
        }
        conditions
    }

    /// The same filter over its place only (site, touchpoint, device, a viewer's sites):
    /// for reading whole months.
    pub fn place_only(&self) -> AnswerFilter {
        AnswerFilter {
            from: None,
            to: None,
            ..self.clone()
        }
    }
}

/// Unix milliseconds as RFC 3339 in UTC.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// Reasons given per question (id, version, scale, direction) and reason.
pub type Given = BTreeMap<(String, u32, Scale, Direction, String), u64>;

/// Reasons per question, most given first (then by name).
pub fn ranked(given: Given) -> Vec<ReasonCount> {
    let mut reasons: Vec<ReasonCount> = given
        .into_iter()
        .map(
            |((question_id, question_version, scale, direction, reason), n)| ReasonCount {
                question_id,
                question_version,
                scale,
                direction,
                reason,
                n,
            },
        )
        .collect();
    reasons.sort_by(|a, b| {
        let question = |r: &ReasonCount| {
            (
                r.question_id.clone(),
                r.question_version,
                r.scale.as_str(),
                r.direction.as_str(),
            )
        };
        question(a)
            .cmp(&question(b))
            .then(b.n.cmp(&a.n))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    reasons
}
