//! Debian's real Chromium, headless, driven over WebDriver (chromedriver) for the dashboard's
//! browser tests: the browser's console (errors and Content-Security-Policy violations) and
//! an accessibility check with axe-core, vendored from npm in `tests/assets/axe-core`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The flags this machine's Chromium needs: no sandbox as root, no GPU, and none of the
/// background connections a closed network refuses.
const FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
];

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// chromedriver's own log endpoint for the browser's console.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// Starts chromedriver on a free port: the child and its port, or what it said on its way out.
fn start_driver() -> Result<(std::process::Child, String), String> {
    let mut driver = Command::new("chromedriver")
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromedriver runs (Debian package chromium-driver)");
    let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
    let mut errors = driver.stderr.take().unwrap();
    let port = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    break rest.trim_end_matches('.').trim().to_owned();
                }
            }
            _ => {
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(&mut errors, &mut text);
                let status = driver.wait();
                return Err(format!("{status:?}: {}", text.trim()));
            }
        }
    };
    // Keep reading what it writes so that it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    std::thread::spawn(move || std::io::copy(&mut errors, &mut std::io::sink()));
    Ok((driver, port))
}

impl Browser {
    /// Starts chromedriver on a free port and a fresh headless Chromium through it.
    pub async fn start() -> Browser {
        // Seen once in a full run on a loaded machine: chromedriver ended before saying its
        // port. It is started again (at most three times), and what it said is shown if not.
        let mut said = vec![];
        let (driver, port) = (1..=3)
            .find_map(|_| {
                let started = start_driver();
                if let Err(e) = &started {
                    said.push(e.clone());
                }
                started.ok()
            })
            .unwrap_or_else(|| panic!("chromedriver did not start: {said:?}"));
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver starts Chromium (Debian package chromium)");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The text of the element `css` selects.
    pub async fn text(&self, css: &str) -> String {
        let found = self.client.find(Locator::Css(css)).await;
        found
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// The current page's path and query, like `/login?next=%2Ffleet`.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Whether the element `css` selects shows all its content, with nothing scrolled out
    /// of sight.
    pub async fn shows_whole(&self, css: &str) -> bool {
        let script = "const e = document.querySelector(arguments[0]); \
                      return e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight;";
        let fits = self.client.execute(script, vec![json!(css)]).await.unwrap();
        fits == Value::Bool(true)
    }

    /// The rows of the table with id `id`, each as its cells' texts (the header row first).
    pub async fn table(&self, id: &str) -> Vec<Vec<String>> {
        let script = "const t = document.getElementById(arguments[0]); if (!t) return null; \
                      return Array.from(t.querySelectorAll('tr')).map(r => \
                      Array.from(r.children).map(c => c.textContent.trim()));";
        let rows = self.client.execute(script, vec![json!(id)]).await.unwrap();
        serde_json::from_value(rows).unwrap_or_else(|_| panic!("no table #{id} on the page"))
    }

    /// Clicks what `css` selects (a link, a form's button) and waits until the page it
    /// leads to has loaded: a new document whose loading is complete.
    pub async fn click(&self, css: &str) {
        self.click_on(Locator::Css(css)).await;
    }

    /// Clicks the link with this text and waits for the page it leads to.
    pub async fn click_link(&self, text: &str) {
        self.click_on(Locator::LinkText(text)).await;
    }

    async fn click_on(&self, locator: Locator<'_>) {
        self.client
            .execute("window.cesPageBefore = true;", vec![])
            .await
            .unwrap();
        let target = self.client.find(locator).await;
        target
            .unwrap_or_else(|e| panic!("nothing to click at {locator:?}: {e}"))
            .click()
            .await
            .unwrap();
        let loaded = "return window.cesPageBefore === undefined \
                      && document.readyState === 'complete';";
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while self.client.execute(loaded, vec![]).await.ok() != Some(Value::Bool(true)) {
            assert!(
                std::time::Instant::now() < deadline,
                "{locator:?} led to no new page"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Logs in with the dashboard's form and waits for the page it leads to.
    pub async fn log_in(&self, base: &str, name: &str, password: &str) {
        self.goto(&format!("{base}login")).await;
        self.fill("#name", name).await;
        self.fill("#password", password).await;
        self.click("form.login button").await;
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// What the browser's console received since the last call at warning level or above:
    /// script errors, failed loads and Content-Security-Policy violations.
    pub async fn console_problems(&self) -> Vec<String> {
        let log = self.client.issue_cmd(BrowserLog).await.unwrap();
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|e| matches!(e["level"].as_str(), Some("SEVERE" | "WARNING")))
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The serious and critical accessibility violations axe-core finds on the page (WCAG
    /// 2.1 A and AA rules).
    pub async fn accessibility_violations(&self) -> Vec<String> {
        self.client.execute(&axe_source(), vec![]).await.unwrap();
        let run = "const done = arguments[arguments.length - 1]; \
                   axe.run(document, { runOnly: { type: 'tag', values: \
                   ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }) \
                   .then(r => done(r.violations \
                   .filter(v => v.impact === 'serious' || v.impact === 'critical') \
                   .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + \
                   v.nodes.map(n => n.target.join(' ')).join(', ')))) \
                   .catch(e => done(['axe failed: ' + e]));";
        let found: Value = self.client.execute_async(run, vec![]).await.unwrap();
        serde_json::from_value(found).unwrap()
    }

    /// A PNG of the whole window.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Checks the page in the browser has no console problem and no serious accessibility
/// violation, and writes its screenshot when asked to.
pub async fn page_is_clean(b: &Browser, name: &str) {
    let problems = b.console_problems().await;
    assert!(problems.is_empty(), "{name}: console: {problems:#?}");
    let violations = b.accessibility_violations().await;
    assert!(
        violations.is_empty(),
        "{name}: accessibility: {violations:#?}"
    );
    if std::env::var_os("CES_UPDATE_SCREENSHOTS").is_some() {
        let height = b
            .client
            .execute("return document.documentElement.scrollHeight;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(1000);
        b.client
            .set_window_size(1280, u32::try_from(height.min(4000)).unwrap() + 100)
            .await
            .unwrap();
        // From the top, whatever the page was scrolled to (a form's answer with an anchor).
        b.client
            .execute("window.scrollTo(0, 0);", vec![])
            .await
            .unwrap();
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/screenshots")
            .join(format!("dashboard-{name}.png"));
        b.screenshot(&path).await;
        if name == "overview" {
            // How it reads on a phone.
            b.client.set_window_size(390, 2400).await.unwrap();
            let phone = path.with_file_name("dashboard-overview-phone.png");
            b.screenshot(&phone).await;
        }
        b.client.set_window_size(1280, 1000).await.unwrap();
    }
}

/// axe-core's script, checked against the checksum recorded beside it.
fn axe_source() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/assets/axe-core");
    let source = std::fs::read(dir.join("axe.min.js")).unwrap();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let expected = sums
        .lines()
        .find(|l| l.ends_with("axe.min.js"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap();
    let actual: String = Sha256::digest(&source)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        actual, expected,
        "tests/assets/axe-core/axe.min.js was changed"
    );
    String::from_utf8(source).unwrap()
}
