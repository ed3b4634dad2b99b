//! Logging in and out, and setting a password with the one-time code from `user add` or
//! `user reset`. Every form carries a CSRF token (the login and setup forms a cookie's,
//! before there is a session); attempts are throttled per client address; five wrong
//! passwords in a row lock the account for fifteen minutes.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State as Shared};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::{self, LOCK_AFTER, LOCK_MS, Person, SESSION_MS};
use super::{Frame, page};
use crate::collector::State;
use crate::collector::storage::{Failure, NewSession, Setup};
use crate::credential;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    csrf: String,
    next: String,
    name: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    frame: Frame,
    csrf: String,
    code: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    set: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    code: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupForm {
    code: String,
    password: String,
    repeat: String,
    csrf: String,
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// Where to go after logging in: a path on this dashboard, never another site.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if local { next } else { "/" }
}

/// The form's CSRF token: the one in the request's login cookie, or a new one.
fn form_token(parts: &Parts) -> (String, bool) {
    match access::cookie(parts, access::LOGIN) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (t.to_owned(), false)
        }
        _ => (access::random_token(), true),
    }
}

fn with_form_cookie(mut response: Response, token: &str, new: bool, secure: bool) -> Response {
    if new
        && let Ok(v) =
            HeaderValue::from_str(&access::set_cookie(access::LOGIN, token, 3600, secure))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn login_form(
    Shared(state): Shared<Arc<State>>,
    parts: Parts,
    Query(q): Query<LoginQuery>,
) -> Response {
    let (csrf, new) = form_token(&parts);
    let frame = Frame::plain("login");
    let notice = q.set.map(|_| frame.t.get("password_set").to_owned());
    let body = LoginPage {
        frame,
        csrf: csrf.clone(),
        next: safe_next(q.next.as_deref().unwrap_or("/")).to_owned(),
        name: String::new(),
        error: None,
        notice,
    };
    with_form_cookie(
        page(StatusCode::OK, &body),
        &csrf,
        new,
        access::over_https(&state, &parts),
    )
}

pub async fn login(
    Shared(state): Shared<Arc<State>>,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Response {
    let secure = access::over_https(&state, &parts);
    let (csrf, new) = form_token(&parts);
    let again = |status: StatusCode, key: &str, extra: String| {
        let frame = Frame::plain("login");
        let error = format!("{}{extra}", frame.t.get(key));
        let body = LoginPage {
            frame,
            csrf: csrf.clone(),
            next: safe_next(&form.next).to_owned(),
            name: form.name.clone(),
            error: Some(error),
            notice: None,
        };
        with_form_cookie(page(status, &body), &csrf, new, secure)
    };
    if new || !access::same_secret(&csrf, &form.csrf) {
        return again(StatusCode::FORBIDDEN, "form_expired", String::new());
    }
    if state.login_limit(&parts).is_err() {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            String::new(),
        );
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let account = match state.storage.login_account(form.name.trim()).await {
        Ok(a) => a.filter(|a| !a.disabled && a.password_phc.is_some()),
        Err(e) => {
            tracing::error!("cannot look up a login: {e}");
            return again(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                String::new(),
            );
        }
    };
    let locked = |until: i64| {
        let time = jiff::Timestamp::from_millisecond(until)
            .map(|t| t.strftime("%H:%M UTC").to_string())
            .unwrap_or_default();
        again(
            StatusCode::TOO_MANY_REQUESTS,
            "account_locked",
            format!(" {time}."),
        )
    };
    if let Some(until) = account
        .as_ref()
        .and_then(|a| a.locked_until_ms)
        .filter(|u| *u > now)
    {
        return locked(until);
    }
    let phc = account.as_ref().and_then(|a| a.password_phc.clone());
    let password = form.password.clone();
    let right =
        tokio::task::spawn_blocking(move || access::verify_password(phc.as_deref(), &password))
            .await
            .unwrap_or(false);
    let Some(account) = account else {
        return again(StatusCode::UNAUTHORIZED, "wrong_login", String::new());
    };
    if !right {
        return match state
            .storage
            .login_failed(account.id, now, LOCK_AFTER, LOCK_MS)
            .await
        {
            Ok(Failure::Locked(until)) => locked(until),
            Ok(Failure::Counted(_)) => {
                again(StatusCode::UNAUTHORIZED, "wrong_login", String::new())
            }
            Err(e) => {
                tracing::error!("cannot count a failed login: {e}");
                again(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    String::new(),
                )
            }
        };
    }
    let id = access::random_token();
    let session = NewSession {
        id_hash: credential::hash_text(&id),
        user_id: account.id,
        csrf: access::random_token(),
        at_ms: now,
        expires_ms: now + SESSION_MS,
    };
    if let Err(e) = state.storage.start_session(session).await {
        tracing::error!("cannot start a dashboard session: {e}");
        return again(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            String::new(),
        );
    }
    tracing::info!(user = %crate::text::for_terminal(form.name.trim()), "logged in to the dashboard");
    let mut response = Redirect::to(safe_next(&form.next)).into_response();
    let cookies = [
        access::set_cookie(access::SESSION, &id, SESSION_MS / 1000, secure),
        access::set_cookie(access::LOGIN, "", 0, secure),
    ];
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

pub async fn logout(
    Shared(state): Shared<Arc<State>>,
    person: Person,
    Form(form): Form<LogoutForm>,
) -> Response {
    if !person.csrf_ok(&form.csrf) {
        return (StatusCode::FORBIDDEN, "the form expired; reload the page").into_response();
    }
    if let Err(e) = state.storage.end_session(&person.session_hash).await {
        tracing::error!("cannot end a dashboard session: {e}");
    }
    let mut response = Redirect::to("/login").into_response();
    let gone = access::set_cookie(access::SESSION, "", 0, person.https);
    if let Ok(v) = HeaderValue::from_str(&gone) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn setup_form(
    Shared(state): Shared<Arc<State>>,
    parts: Parts,
    Query(q): Query<SetupQuery>,
) -> Response {
    let (csrf, new) = form_token(&parts);
    let body = SetupPage {
        frame: Frame::plain("setup"),
        csrf: csrf.clone(),
        code: q.code.unwrap_or_default(),
        error: None,
    };
    with_form_cookie(
        page(StatusCode::OK, &body),
        &csrf,
        new,
        access::over_https(&state, &parts),
    )
}

pub async fn setup(
    Shared(state): Shared<Arc<State>>,
    parts: Parts,
    Form(form): Form<SetupForm>,
) -> Response {
    let (csrf, new) = form_token(&parts);
    let secure = access::over_https(&state, &parts);
    let again = |status: StatusCode, key: &str| {
        let frame = Frame::plain("setup");
        let error = frame.t.get(key).to_owned();
        let body = SetupPage {
            frame,
            csrf: csrf.clone(),
            code: form.code.clone(),
            error: Some(error),
        };
        with_form_cookie(page(status, &body), &csrf, new, secure)
    };
    if new || !access::same_secret(&csrf, &form.csrf) {
        return again(StatusCode::FORBIDDEN, "form_expired");
    }
    if state.login_limit(&parts).is_err() {
        return again(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    }
    if !access::PASSWORD_CHARS.contains(&form.password.chars().count()) {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "password_length");
    }
    if form.password != form.repeat {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "password_mismatch");
    }
    let password = form.password.clone();
    let phc = match tokio::task::spawn_blocking(move || access::hash_password(&password)).await {
        Ok(Ok(phc)) => phc,
        _ => return again(StatusCode::INTERNAL_SERVER_ERROR, "unavailable"),
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let code = credential::hash_text(form.code.trim());
    match state.storage.set_password(&code, &phc, now).await {
        Ok(Setup::Done { name }) => {
            tracing::info!(user = %crate::text::for_terminal(&name), "a dashboard password was set");
            Redirect::to("/login?set=1").into_response()
        }
        Ok(Setup::Unknown) => again(StatusCode::UNPROCESSABLE_ENTITY, "setup_unknown"),
        Ok(Setup::Expired) => again(StatusCode::UNPROCESSABLE_ENTITY, "setup_expired"),
        Err(e) => {
            tracing::error!("cannot set a dashboard password: {e}");
            again(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn login_only_returns_to_this_dashboard() {
        assert_eq!(safe_next("/place?site=north"), "/place?site=north");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
    }
}
