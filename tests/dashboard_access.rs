//! Dashboard accounts and sessions in real headless Chromium (Debian's, over chromedriver)
//! against the real collector: the lockout after wrong passwords, the one-time setup link
//! and disabling an account, CSRF tokens on every form that changes something, and the
//! session cookie's flags behind https.
//!
//! `CES_UPDATE_SCREENSHOTS=1 cargo test --test dashboard_access` also writes the setup page's
//! reference screenshot in `docs/screenshots/dashboard-setup.png`.

mod common;

use ces_kiosk::collector::storage::Role;
use common::browser::{Browser, page_is_clean};
use common::collector::{TestCollector, client};
use common::dataset::fill;
use common::requests::dashboard_session;

const PASSWORD: &str = "correct horse battery";

async fn collector() -> TestCollector {
    let c = TestCollector::with_settings(|s| s.dashboard.min_answers = 3);
    fill(c).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_the_login() {
    let c = collector().await;
    c.add_person("anna", Role::Admin, &[], PASSWORD);
    c.add_person("ben", Role::Admin, &[], PASSWORD);
    let b = Browser::start().await;
    for attempt in 1..=5 {
        b.log_in(&c.url, "anna", "not the password").await;
        let error = b.text("#login-error").await;
        if attempt < 5 {
            assert_eq!(error, "Wrong name or password.", "attempt {attempt}");
        } else {
            assert!(error.starts_with("Too many wrong passwords"), "{error}");
        }
    }
    b.log_in(&c.url, "anna", PASSWORD).await;
    assert!(
        b.text("#login-error").await.contains("locked until"),
        "the right password does not open a locked account"
    );
    assert_eq!(b.path().await, "/login");
    // Another account is not locked.
    b.log_in(&c.url, "ben", PASSWORD).await;
    assert_eq!(b.path().await, "/");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_time_link_sets_a_password_and_disabling_ends_the_session() {
    let c = collector().await;
    let config = c.config_path();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ces-collector"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let link = cli(&[
        "user", "add", "--name", "nora", "--role", "viewer", "--site", "north",
    ]);
    let code = link
        .trim()
        .split("code=")
        .nth(1)
        .expect("a setup link")
        .to_owned();
    assert!(cli(&["user", "list"]).contains("nora\tviewer\tnorth\twaiting for setup"));

    let b = Browser::start().await;
    b.goto(&format!("{}setup?code={code}", c.url)).await;
    page_is_clean(&b, "setup").await;
    assert_eq!(b.text("#code").await, code, "the link's code is filled in");
    assert!(b.shows_whole("#code").await, "the whole code is in sight");
    b.fill("#password", "a new password").await;
    b.fill("#repeat", "a new password").await;
    b.click("form.login button").await;
    assert_eq!(b.path().await, "/login?set=1");
    assert_eq!(
        b.text("p.notice").await,
        "Your password is set. Log in with it."
    );
    // The code works once.
    b.goto(&format!("{}setup?code={code}", c.url)).await;
    b.fill("#password", "another password").await;
    b.fill("#repeat", "another password").await;
    b.click("form.login button").await;
    assert!(
        b.text("p.error")
            .await
            .starts_with("This code is not known")
    );

    b.log_in(&c.url, "nora", "a new password").await;
    assert_eq!(b.path().await, "/");
    let cookie = b.client.get_named_cookie("ces_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)");
    assert!(cli(&["user", "list"]).contains("nora\tviewer\tnorth\tactive"));

    cli(&["user", "disable", "--name", "nora"]);
    b.goto(&format!("{}fleet", c.url)).await;
    assert_eq!(b.path().await, "/login?next=%2Ffleet");
    b.close().await;
}

/// Without the form's token a form changes nothing: logging out and logging in.
#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let c = collector().await;
    c.add_person("anna", Role::Admin, &[], PASSWORD);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = [
        ("name", "anna"),
        ("password", PASSWORD),
        ("csrf", "0"),
        ("next", "/"),
    ];
    let r = http
        .post(format!("{}login", c.url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no login cookie, no login");
    assert!(
        r.headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("ces_login=")
    );

    // With the form's cookie and token it works.
    let page = http.get(format!("{}login", c.url)).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    let session = dashboard_session(&c.url, "anna", PASSWORD).await;
    let r = http
        .post(format!("{}logout", c.url))
        .header("cookie", &session)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .get(format!("{}fleet", c.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the session survives a forged logout");
}

/// The session cookie is `Secure` when the dashboard is reached over https: a trusted proxy
/// says so with `X-Forwarded-Proto`, or the configured public address is https.
#[tokio::test]
async fn the_session_cookie_is_secure_behind_https() {
    let login_cookie = |c: &TestCollector, proto: Option<&'static str>| {
        let url = format!("{}login", c.url);
        async move {
            let mut request = client().get(url);
            if let Some(p) = proto {
                request = request.header("x-forwarded-proto", p);
            }
            let r = request.send().await.unwrap();
            r.headers()["set-cookie"].to_str().unwrap().to_owned()
        }
    };
    let proxied = TestCollector::with_settings(|s| {
        s.trusted_proxies =
            ces_kiosk::collector::client::TrustedProxies::parse(&["127.0.0.1".to_owned()]).unwrap();
    });
    assert!(
        login_cookie(&proxied, Some("https"))
            .await
            .ends_with("; Secure")
    );
    assert!(!login_cookie(&proxied, None).await.contains("Secure"));
    let direct = TestCollector::start();
    assert!(
        !login_cookie(&direct, Some("https"))
            .await
            .contains("Secure"),
        "only a trusted proxy is believed"
    );
    let public = TestCollector::with_settings(|s| {
        s.dashboard.public_url = Some("https://ces.example.org/".parse().unwrap());
    });
    assert!(login_cookie(&public, None).await.ends_with("; Secure"));
}
