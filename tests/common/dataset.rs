//! The hand-computed data set of the report and dashboard tests: four terminals at three
//! places, two questions on two scales, over the week of 23 November 2026 and before.

use ces_kiosk::credential::Credential;
use serde_json::{Value, json};

use super::collector::TestCollector;
use super::requests::*;

/// Local time on a day of November 2026 (or another month when `day` holds it).
pub fn at(day: &str, hour: u8) -> String {
    format!("2026-{day}T{hour:02}:20:00+01:00")
}

pub fn scored(scale: &str, question: &str, score: u8, local: &str) -> Value {
    let mut a = answer(scale, score, local);
    a["question_id"] = json!(question);
    a
}

/// The answer with a follow-up reason.
pub fn because(mut answer: Value, reason: &str) -> Value {
    answer["reason"] = json!(reason);
    answer
}

pub async fn send(c: &TestCollector, device: &Credential, answers: Vec<Value>) {
    assert_eq!(upload(c, device, &batch(answers)).await.status, 200);
}

/// The data set. Current week: Monday 23 to Sunday 29 November 2026; previous week 16 to 22.
///
/// | device | place          | question         | answers (date hour: scores)                   |
/// | dev-a1 | north/returns  | returns-ease ces7| 11-23 09: 1 7 (+1 suppressed); 11-23 10: 6;  |
/// |        |                |                  | 11-25 09: 2 3; 11-16 09: 7 7; 11-18 09: 1;    |
/// |        |                |                  | 11-10 09: 3; 10-15 09: 2                      |
/// | dev-a2 | north/returns  | returns-ease ces7| 11-23 09: 5; 11-29 14: 7 1                    |
/// | dev-b  | north/desk     | desk-ease ces5   | 11-24 11: 1 5 4                               |
/// | dev-c  | south/returns  | returns-ease ces7| 11-26 09: 4; 11-19 09: 6                      |
///
/// Follow-up reasons: "waiting" after the 1 of dev-a1 on 11-23 09 and after its 2 on 11-25;
/// "staff" after its 3 on 11-25; "signage" after the 1 of dev-a2 on 11-29.
pub async fn data_set() -> (TestCollector, Credential) {
    fill(TestCollector::start()).await
}

/// Stores the data set in `c`.
pub async fn fill(c: TestCollector) -> (TestCollector, Credential) {
    let a1 = c.add_device("dev-a1", "north", "returns");
    let a2 = c.add_device("dev-a2", "north", "returns");
    let b = c.add_device("dev-b", "north", "desk");
    let south = c.add_device("dev-c", "south", "returns");
    let r = |score, day: &str, hour| scored("ces7", "returns-ease", score, &at(day, hour));
    let mut tap = r(1, "11-23", 9);
    tap["suppressed"] = json!(true);
    send(
        &c,
        &a1,
        vec![
            because(r(1, "11-23", 9), "waiting"),
            r(7, "11-23", 9),
            tap,
            r(6, "11-23", 10),
            because(r(2, "11-25", 9), "waiting"),
            because(r(3, "11-25", 9), "staff"),
            r(7, "11-16", 9),
            r(7, "11-16", 9),
            r(1, "11-18", 9),
            r(3, "11-10", 9),
            r(2, "10-15", 9),
        ],
    )
    .await;
    send(
        &c,
        &a2,
        vec![
            r(5, "11-23", 9),
            r(7, "11-29", 14),
            because(r(1, "11-29", 14), "signage"),
        ],
    )
    .await;
    let d = |score| scored("ces5", "desk-ease", score, &at("11-24", 11));
    send(&c, &b, vec![d(1), d(5), d(4)]).await;
    send(&c, &south, vec![r(4, "11-26", 9), r(6, "11-19", 9)]).await;
    let admin = c.admin();
    (c, admin)
}
