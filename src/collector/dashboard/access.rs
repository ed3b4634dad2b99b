//! Who is looking: the session cookie of a person logged in to the dashboard, the sites they
//! may see, CSRF tokens for forms, and password hashing. A session id and a CSRF token are 32
//! random bytes; only the session id's SHA-256 is stored. API reads take either an admin
//! token (every site) or a session (the person's sites).

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::collector::State;
use crate::collector::auth::Admin;
use crate::collector::error::ApiError;
use crate::collector::storage::{AnswerFilter, Role, SessionUser};
use crate::credential;

/// The session cookie's name.
pub const SESSION: &str = "ces_session";
/// The login form's own CSRF cookie (before there is a session).
pub const LOGIN: &str = "ces_login";
/// How long a session lasts after logging in.
pub const SESSION_MS: i64 = 12 * 3600 * 1000;
/// Wrong passwords in a row that lock an account, and for how long.
pub const LOCK_AFTER: u32 = 5;
pub const LOCK_MS: i64 = 15 * 60 * 1000;
/// How long a setup code printed by `user add` or `user reset` stays good.
pub const SETUP_MS: i64 = 72 * 3600 * 1000;
/// Passwords are 10 to 200 characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 10..=200;

/// 32 random bytes in hex: a session id, a CSRF token, a setup code.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random numbers");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, Secure when the dashboard is
/// reached over https; `max_age` 0 removes it.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the person reached the dashboard over https: its public address says so, or a
/// trusted proxy in front says it took the request over https.
pub fn over_https(state: &State, parts: &Parts) -> bool {
    let public = state
        .settings
        .dashboard
        .public_url
        .as_ref()
        .is_some_and(|u| u.scheme() == "https");
    let peer = crate::collector::client::peer(parts);
    let proxied = state.settings.trusted_proxies.contains(peer)
        && parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    public || proxied
}

/// A person logged in to the dashboard, from their session cookie.
pub struct Person {
    pub user: SessionUser,
    /// The SHA-256 of the session cookie's value (for logout).
    pub session_hash: String,
    /// Whether the request came over https (cookies are then `Secure`).
    pub https: bool,
}

impl Person {
    /// The sites this person may see: `None` for all.
    pub fn scope(&self) -> Option<Vec<String>> {
        match self.user.role {
            Role::Viewer if !self.user.sites.is_empty() => Some(self.user.sites.clone()),
            _ => None,
        }
    }

    /// Whether this person may see `site`.
    pub fn may_see(&self, site: &str) -> bool {
        self.scope().is_none_or(|s| s.iter().any(|x| x == site))
    }

    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, token: &str) -> bool {
        same_secret(&self.user.csrf, token)
    }
}

/// The person behind the request's session cookie, if any.
async fn session(parts: &Parts, state: &State) -> Result<Option<Person>, StatusCode> {
    let Some(value) = cookie(parts, SESSION) else {
        return Ok(None);
    };
    let hash = credential::hash_text(value);
    let now = jiff::Timestamp::now().as_millisecond();
    match state.storage.session(&hash, now).await {
        Ok(user) => Ok(user.map(|user| Person {
            user,
            session_hash: hash,
            https: over_https(state, parts),
        })),
        Err(e) => {
            tracing::error!("cannot look up a dashboard session: {e}");
            Err(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

impl FromRequestParts<Arc<State>> for Person {
    type Rejection = Response;

    /// Without a valid session, a page sends the person to the login form and back.
    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, Response> {
        match session(parts, state).await {
            Ok(Some(p)) => Ok(p),
            Ok(None) => {
                let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let next =
                    url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>();
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
            Err(status) => {
                Err((status, "the database is unavailable; try again shortly").into_response())
            }
        }
    }
}

/// Who reads through the API: an admin token (every site) or a person's session (their
/// sites).
pub struct Reader {
    /// `None` for every site.
    pub sites: Option<Vec<String>>,
}

impl Reader {
    /// The filter limited to the reader's sites; a filter naming a site outside them is
    /// refused (403).
    pub fn scoped(&self, mut filter: AnswerFilter) -> Result<AnswerFilter, ApiError> {
        if let Some(site) = &filter.site
            && !self.may_see(site)
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this account may not see that site",
            ));
        }
        filter.sites = self.sites.clone();
        Ok(filter)
    }

    pub fn may_see(&self, site: &str) -> bool {
        self.sites
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == site))
    }
}

impl FromRequestParts<Arc<State>> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Admin::from_request_parts(parts, state).await?;
            return Ok(Reader { sites: None });
        }
        match session(parts, state).await {
            Ok(Some(p)) => Ok(Reader { sites: p.scope() }),
            Ok(None) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no credential: send Authorization: Bearer <admin token>, or log in to the dashboard",
            )),
            Err(status) => Err(ApiError::new(status, "the database is unavailable")),
        }
    }
}

/// The PHC string (`$argon2id$…`) of a new random-salted hash of `password`. Slow on
/// purpose: run it off the async threads.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the PHC string `phc`; with no hash it checks against a
/// throwaway one, so that an unknown name takes as long as a wrong password.
pub fn verify_password(phc: Option<&str>, password: &str) -> bool {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password(&random_token()).unwrap_or_default());
    let known = phc.is_some();
    let phc = phc.unwrap_or(&DUMMY);
    let matched = PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    });
    known && matched
}
