//! Reading `/v1/report` in the report tests, and naming its groups by their place and time.

use ces_kiosk::credential::Credential;
use ces_kiosk::wire::{Report, ReportGroup};

use super::collector::TestCollector;
use super::requests::get;

/// The report for `query`, which must be answered 200.
pub async fn report(c: &TestCollector, admin: &Credential, query: &str) -> Report {
    let (status, text) = get(c, &format!("v1/report?{query}"), admin).await;
    assert_eq!(status, 200, "{query}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{query}: {e}: {text}"))
}

/// The group whose place and time fields, as a compact text, equal `name`.
pub fn find<'a>(r: &'a Report, name: &str) -> &'a ReportGroup {
    r.groups
        .iter()
        .find(|g| label(g) == name)
        .unwrap_or_else(|| panic!("no group {name} in {:?}", labels(r)))
}

/// The group's place and time fields as a compact text, e.g. `north returns returns-ease`.
pub fn label(g: &ReportGroup) -> String {
    let mut parts: Vec<String> = [&g.site, &g.touchpoint, &g.device]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    parts.push(g.question_id.clone());
    parts.extend(g.date.clone());
    parts.extend(g.hour.map(|h| format!("{h:02}h")));
    parts.extend(g.week.clone());
    parts.extend(g.month.clone());
    parts.extend(g.weekday.map(|d| format!("weekday {d}")));
    parts.join(" ")
}

/// Every group's label, in the report's order.
pub fn labels(r: &Report) -> Vec<String> {
    r.groups.iter().map(label).collect()
}
