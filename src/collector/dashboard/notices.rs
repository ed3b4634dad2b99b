//! The notices page, for admins: each site's "you said, we did" message on its terminals'
//! thank-you screen, in every language of its survey, until a last day; set or cleared
//! with a form (for the whole site, or one touchpoint's terminals) as a new survey config
//! version, checked like any survey config.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::access::Person;
use super::overview::unavailable;
use super::{Frame, admin_form, admin_only, page, problem};
use crate::collector::State;
use crate::collector::notice::{self, NoticeError};
use crate::collector::storage::StorageError;
use crate::survey::{MAX_NOTICE, Notice};

/// One site on the page.
pub struct SiteNotice {
    pub site: String,
    /// The languages of its own survey config; `None` when it has none.
    pub languages: Option<Vec<String>>,
    /// Its notice now: the last day and the texts by language.
    pub until: Option<String>,
    pub texts: Vec<(String, String)>,
    /// A last day to offer: two weeks from today.
    pub default_until: String,
}

impl SiteNotice {
    /// The notice now in `language`, to start the form with.
    pub fn text_of(&self, language: &str) -> &str {
        self.texts
            .iter()
            .find(|(l, _)| l == language)
            .map_or("", |(_, t)| t.as_str())
    }
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    frame: Frame,
    sites: Vec<SiteNotice>,
    max: usize,
}

async fn sites(state: &State) -> Result<Vec<SiteNotice>, StorageError> {
    let names: BTreeSet<String> = state
        .storage
        .devices(i64::MAX)
        .await?
        .into_iter()
        .map(|d| d.site)
        .chain(state.storage.sites().await?.into_iter().map(|s| s.site))
        .collect();
    let today = jiff::ZonedDateTime::now().date();
    let default_until = today
        .checked_add(jiff::ToSpan::days(14))
        .unwrap_or(today)
        .to_string();
    let mut sites = Vec::new();
    for site in names {
        let found = notice::of_site(state.storage.as_ref(), &site).await?;
        let (languages, current) = match found {
            Some((languages, current)) => (Some(languages), current),
            None => (None, None),
        };
        sites.push(SiteNotice {
            site,
            until: current.as_ref().map(|n| n.until.clone()),
            texts: current
                .map(|n| n.text.into_iter().collect())
                .unwrap_or_default(),
            languages,
            default_until: default_until.clone(),
        });
    }
    Ok(sites)
}

pub async fn page_of(Shared(state): Shared<Arc<State>>, person: Person) -> Response {
    if let Some(refused) = admin_only(&person) {
        return refused;
    }
    match sites(&state).await {
        Ok(sites) => page(
            StatusCode::OK,
            &NoticesPage {
                frame: Frame::of(&person, "notices"),
                sites,
                max: MAX_NOTICE,
            },
        ),
        Err(e) => unavailable(&person, e),
    }
}

/// Sets or clears a site's (or touchpoint's) notice from the form: `csrf`, `site`,
/// `touchpoint`, `until`, `text.<language>` and `do` (`set` or `clear`).
pub async fn change(
    Shared(state): Shared<Arc<State>>,
    person: Person,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or_default();
    if let Some(refused) = admin_form(&person, field("csrf")) {
        return refused;
    }
    let site = field("site");
    let touchpoint = Some(field("touchpoint")).filter(|t| !t.is_empty());
    let notice = (field("do") == "set").then(|| Notice {
        until: field("until").to_owned(),
        text: form
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("text.")?.to_owned(), v.trim().to_owned())))
            .collect::<BTreeMap<_, _>>(),
    });
    let now = jiff::Timestamp::now().as_millisecond();
    let done = notice::set(
        state.storage.as_ref(),
        site,
        touchpoint,
        notice.as_ref(),
        now,
    )
    .await;
    match done {
        Ok(_) => Redirect::to("/notices").into_response(),
        Err(NoticeError::Refused(why)) => problem(&person, StatusCode::UNPROCESSABLE_ENTITY, why),
        Err(NoticeError::Storage(e)) => unavailable(&person, e),
    }
}
