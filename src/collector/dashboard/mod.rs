//! The dashboard central teams open in a browser, served by the collector at `/`: pages
//! rendered on the server from templates compiled into the binary (`ui/web`), charts drawn
//! as SVG on the server, no script at all, and a strict Content-Security-Policy.
//!
//! - `access`: sessions, the sites a person may see, CSRF, passwords. `login`: log in and
//!   out, set a password with a one-time code.
//! - `overview`, `place`, `fleet`, `alerts`: the pages (alerts acknowledged there with the
//!   action taken). `actions`: a place's actions, their effect and its alerts. `notices`:
//!   "you said, we did" per site, and `rules`: the alert rules, both for admins. `period`: the periods they show.
//! - `view`: tables (also as CSV), key figures, numbers. `chart`: the SVG trend and the
//!   heatmap's shades. `texts`: the words, ready for translation.

pub mod access;
mod actions;
mod alerts;
mod chart;
mod fleet;
mod login;
mod notices;
mod overview;
pub mod period;
mod place;
mod rules;
mod section;
pub mod texts;
pub mod view;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::collector::State;
use access::Person;
use texts::Texts;

/// What every dashboard response says about what the page may load and do: no script, no
/// frames, styles and images only from the collector itself, forms only to it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS: &str = include_str!("../../../ui/web/dashboard.css");
const ICON: &str = include_str!("../../../ui/web/icon.svg");

/// The dashboard's routes.
pub fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/", get(overview::page))
        .route("/place", get(place::page))
        .route("/place/action", axum::routing::post(actions::record))
        .route("/fleet", get(fleet::page))
        .route("/alerts", get(alerts::page))
        .route("/alerts/ack", axum::routing::post(alerts::acknowledge))
        .route("/notices", get(notices::page_of).post(notices::change))
        .route("/rules", get(rules::page_of).post(rules::change))
        .route("/login", get(login::login_form).post(login::login))
        .route("/logout", axum::routing::post(login::logout))
        .route("/setup", get(login::setup_form).post(login::setup))
        .route(
            "/assets/dashboard.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/favicon.svg",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
        .layer(axum::middleware::map_response(guarded))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Adds the security headers to every dashboard response; pages are never cached.
async fn guarded(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// What the frame around every page needs: the texts, the page's name (for the title and
/// the navigation), and the person logged in.
pub struct Frame {
    pub t: &'static Texts,
    pub page: &'static str,
    pub user: Option<String>,
    pub role: &'static str,
    pub csrf: String,
}

impl Frame {
    /// A page without a person (login, setup).
    pub fn plain(page: &'static str) -> Frame {
        Frame {
            t: Texts::english(),
            page,
            user: None,
            role: "",
            csrf: String::new(),
        }
    }

    /// A page of a logged-in person.
    pub fn of(person: &Person, page: &'static str) -> Frame {
        Frame {
            t: Texts::english(),
            page,
            user: Some(person.user.name.clone()),
            role: person.user.role.as_str(),
            csrf: person.user.csrf.clone(),
        }
    }

    /// The page's title text.
    pub fn title(&self) -> &str {
        self.t.get(self.page)
    }
}

/// A rendered page with its status.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("a dashboard page did not render: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page did not render").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    frame: Frame,
    message: String,
}

/// A page saying what went wrong (a bad period, a site the person may not see).
pub fn problem(person: &Person, status: StatusCode, message: String) -> Response {
    page(
        status,
        &ProblemPage {
            frame: Frame::of(person, "problem"),
            message,
        },
    )
}

/// Refuses what only admins may see or do; `None` for an admin.
pub fn admin_only(person: &Person) -> Option<Response> {
    (person.user.role != crate::collector::storage::Role::Admin).then(|| {
        let t = Texts::english();
        problem(
            person,
            StatusCode::FORBIDDEN,
            t.get("admins_only").to_owned(),
        )
    })
}

/// Refuses an admin's form without its CSRF token, or sent by someone not an admin.
pub fn admin_form(person: &Person, csrf: &str) -> Option<Response> {
    if !person.csrf_ok(csrf) {
        return Some((StatusCode::FORBIDDEN, "the form expired; reload the page").into_response());
    }
    admin_only(person)
}

/// A page with tables that can be downloaded as CSV.
pub trait Tables: Template {
    fn tables(&self) -> Vec<&view::Table>;
}

/// The page built for `q`, or with `format=csv` the CSV of the table it names, or the page
/// saying why neither can be shown.
pub fn respond<P: Tables>(
    person: &Person,
    q: &period::PageQuery,
    built: Result<P, crate::collector::storage::StorageError>,
) -> Response {
    match built {
        Ok(body) if q.wants_csv() => {
            let id = q.table.as_deref().unwrap_or_default();
            match body.tables().into_iter().find(|t| t.id == id) {
                Some(t) => csv_download(t),
                None => problem(
                    person,
                    StatusCode::NOT_FOUND,
                    format!("no table {id:?} here"),
                ),
            }
        }
        Ok(body) => page(StatusCode::OK, &body),
        Err(e) => overview::unavailable(person, e),
    }
}

/// A table's CSV download.
pub fn csv_download(table: &view::Table) -> Response {
    let name = format!("attachment; filename=\"ces-{}.csv\"", table.id);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        table.csv(),
    )
        .into_response()
}
