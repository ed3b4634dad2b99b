//! The action commands of `ces-collector`: record what was changed at a place, list the
//! actions, and show whether one worked (before against after).

use std::sync::Arc;

use ces_kiosk::collector::action::Action;
use ces_kiosk::collector::action::effect::{self, Effect, Verdict, Window};
use ces_kiosk::collector::storage::{ActionFilter, Storage};
use clap::Subcommand;

use crate::{Shown, Usage, print_safely};

#[derive(Subcommand)]
pub enum ActionCommand {
    /// Record an action: what was changed at a site or touchpoint, on which day, by whom.
    Add {
        #[arg(long)]
        site: String,
        /// Only this touchpoint of the site (else the whole site).
        #[arg(long)]
        touchpoint: Option<String>,
        /// What was changed.
        #[arg(long)]
        what: String,
        /// Who made the change.
        #[arg(long)]
        by: String,
        /// The local date of the change, YYYY-MM-DD (today when left out).
        #[arg(long)]
        on: Option<String>,
        /// The alert it answers.
        #[arg(long)]
        alert: Option<i64>,
    },
    /// List actions, newest first.
    List {
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        touchpoint: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Whether an action worked: the place's answers in equal windows before and after it.
    Effect {
        id: i64,
        /// Days in each window.
        #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=365))]
        days: u32,
        #[arg(long)]
        json: bool,
    },
}

fn today() -> jiff::civil::Date {
    jiff::ZonedDateTime::now().date()
}

pub async fn action(
    command: ActionCommand,
    storage: Arc<dyn Storage>,
    min_answers: u64,
) -> anyhow::Result<()> {
    match command {
        ActionCommand::Add {
            site,
            touchpoint,
            what,
            by,
            on,
            alert,
        } => {
            let action = Action {
                id: 0,
                site,
                touchpoint,
                taken_on: on.unwrap_or_else(|| today().to_string()),
                what,
                by,
                alert_id: alert,
                recorded_at_ms: jiff::Timestamp::now().as_millisecond(),
            };
            action.check(today()).map_err(Usage)?;
            let id = storage
                .add_action(action)
                .await
                .map_err(|e| Usage(e.to_string()))?;
            eprintln!("action {id} recorded; `ces-collector action effect {id}` shows its effect");
            println!("{id}");
        }
        ActionCommand::List {
            site,
            touchpoint,
            json,
        } => {
            let filter = ActionFilter {
                site,
                touchpoint,
                sites: None,
                limit: 1000,
            };
            let actions = storage.actions(filter).await?;
            if json {
                print_safely(
                    &(serde_json::to_string_pretty(&actions)? + "\n"),
                    Shown::Json,
                );
                return Ok(());
            }
            let mut text = String::new();
            for a in &actions {
                text.push_str(&format!(
                    "{:>5}  {}  {}  by {}: {}\n",
                    a.id,
                    a.taken_on,
                    place(a),
                    a.by,
                    a.what
                ));
            }
            print_safely(&text, Shown::Table);
        }
        ActionCommand::Effect { id, days, json } => {
            let action = storage
                .action(id)
                .await?
                .ok_or_else(|| Usage(format!("no action {id}")))?;
            let effect =
                effect::read(storage.as_ref(), action, days, min_answers, today(), None).await?;
            if json {
                print_safely(
                    &(serde_json::to_string_pretty(&effect)? + "\n"),
                    Shown::Json,
                );
            } else {
                print_safely(&effect_text(&effect), Shown::Table);
            }
        }
    }
    Ok(())
}

fn place(a: &Action) -> String {
    match &a.touchpoint {
        Some(t) => format!("{} / {t}", a.site),
        None => a.site.clone(),
    }
}

/// The effect in words, per question.
fn effect_text(e: &Effect) -> String {
    let a = &e.action;
    let mut text = format!(
        "Action {} at {} on {} by {}: {}\n",
        a.id,
        place(a),
        a.taken_on,
        a.by,
        a.what
    );
    if e.questions.is_empty() {
        text.push_str("No answers at this place in either window.\n");
    }
    for q in &e.questions {
        text.push_str(&format!(
            "{} v{} ({}): {} days before against {} days after ({} of them so far)\n",
            q.question_id,
            q.question_version,
            q.scale.as_str(),
            e.days,
            e.days,
            e.days_after_so_far
        ));
        text.push_str(&format!("  before {}\n", window_text(&q.before)));
        text.push_str(&format!("  after  {}\n", window_text(&q.after)));
        text.push_str(&format!(
            "  {}\n",
            match q.verdict {
                Verdict::TooFew => format!(
                    "too few answers to tell (fewer than {} in a window)",
                    e.min_answers
                ),
                Verdict::Better =>
                    "better: fewer difficult answers, and the intervals do not overlap".to_owned(),
                Verdict::Worse =>
                    "worse: more difficult answers, and the intervals do not overlap".to_owned(),
                Verdict::NoClearChange => "no clear change: the intervals overlap".to_owned(),
            }
        ));
    }
    text
}

fn window_text(w: &Window) -> String {
    let f = &w.figures;
    let share = match (f.pct_difficult, w.interval) {
        (Some(p), Some((low, high))) => {
            format!("{p:.1} % difficult (95 % interval {low:.1} to {high:.1})")
        }
        _ => "no answers".to_owned(),
    };
    let mean = f.mean.map_or("-".to_owned(), |m| format!("{m:.2}"));
    format!("{} to {}: n {}, {share}, mean {mean}", w.from, w.to, f.n)
}
