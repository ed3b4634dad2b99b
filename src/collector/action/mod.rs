//! Actions: what a central team changed at a place (a site, or one touchpoint), on which
//! day and by whom, perhaps after an alert; and (`effect`) whether it worked, from the
//! place's answers before and after.

pub mod effect;

use serde::Serialize;

use crate::survey::{NAME_RULE, is_name};

/// The longest description of an action, in characters.
pub const MAX_WHAT: usize = 500;

/// An action as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Action {
    /// 0 for one not stored yet.
    pub id: i64,
    pub site: String,
    /// `None`: the whole site.
    pub touchpoint: Option<String>,
    /// The local date the change was made (YYYY-MM-DD).
    pub taken_on: String,
    /// What was changed.
    pub what: String,
    /// Who records it.
    pub by: String,
    /// The alert it answered, if any.
    pub alert_id: Option<i64>,
    pub recorded_at_ms: i64,
}

impl Action {
    /// Checks what a person gave; the error names the field.
    pub fn check(&self, today: jiff::civil::Date) -> Result<(), String> {
        if !is_name(&self.site) {
            return Err(format!("site {:?} must be {NAME_RULE}", self.site));
        }
        if let Some(t) = &self.touchpoint
            && !is_name(t)
        {
            return Err(format!("touchpoint {t:?} must be {NAME_RULE}"));
        }
        let day: jiff::civil::Date = self
            .taken_on
            .parse()
            .map_err(|_| format!("date {:?} is not a date (YYYY-MM-DD)", self.taken_on))?;
        if day > today {
            return Err(format!("date {day} is in the future"));
        }
        self.check_words()
    }

    /// Checks what was changed and who made the change.
    pub fn check_words(&self) -> Result<(), String> {
        if self.what.trim().is_empty() {
            return Err("say what was changed".into());
        }
        crate::text::check_free_text(&self.what, MAX_WHAT).map_err(|e| format!("what: {e}"))?;
        if self.by.trim().is_empty() {
            return Err("say who made the change".into());
        }
        crate::text::check_free_text(&self.by, 100).map_err(|e| format!("by: {e}"))
    }
}
