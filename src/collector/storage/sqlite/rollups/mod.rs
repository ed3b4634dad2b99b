//! The rollups every report reads instead of the answers: `answer_counts` (per local day,
//! place, device, question, hour, score, suppressed and reason), `day_counts` (per day,
//! question and touchpoint), `site_day_counts` (per day, question and site), `month_counts`
//! (per month, question and touchpoint), `hour_counts` (per month, touchpoint, question,
//! weekday and hour) and `reason_month_counts` (follow-up reasons per touchpoint, month and
//! question). Kept by
//! [`count_group`] in the transaction that stores the answers, read by [`report_counts`] from
//! the smallest table that holds what a report asks for, recounted by [`verify_counts`].

mod count;
mod live;
mod months;
mod read;
mod reasons;
mod rows;
mod upsert;
mod verify;

pub use count::{Counted, Tally, count_group};
pub use live::prune as prune_live;
pub use read::report_counts;
pub use reasons::reason_counts;
pub use verify::verify_counts;
