//! A real SMTP server for tests: Debian's aiosmtpd (`tests/assets/smtp_sink.py`) on
//! 127.0.0.1, requiring STARTTLS with a certificate made for the test (by `openssl`) and a
//! login, and reporting each message it takes.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ces_kiosk::collector::alert::settings::{Email, EmailTls, Hidden};

pub const USER: &str = "ces-alerts";
pub const PASSWORD: &str = "a mail password";

pub struct SmtpSink {
    pub port: u16,
    /// The CA certificate (PEM) the server's certificate is signed by, for the collector to trust.
    pub ca: PathBuf,
    child: Child,
    messages: Arc<Mutex<Vec<serde_json::Value>>>,
    count: tokio::sync::watch::Receiver<usize>,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let ca = dir.path().join("ca.pem");
        // A CA of the test's own, and the server's certificate for 127.0.0.1 signed by it.
        let p = |name: &str| dir.path().join(name);
        std::fs::write(
            p("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &["-days", "1", "-subj", "/CN=ces test CA"],
            ]
            .concat(),
            &[("-keyout", &p("ca.key")), ("-out", &ca)],
        );
        openssl(
            &[&["req"][..], &ec, &["-subj", "/CN=127.0.0.1"]].concat(),
            &[("-keyout", &key), ("-out", &p("server.csr"))],
        );
        openssl(
            &["x509", "-req", "-days", "1", "-CAcreateserial"],
            &[
                ("-in", &p("server.csr")),
                ("-CA", &ca),
                ("-CAkey", &p("ca.key")),
                ("-extfile", &p("server.ext")),
                ("-out", &cert),
            ],
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/assets/smtp_sink.py");
        // Debian's Python, which has python3-aiosmtpd (not another one first on the PATH).
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .args([&cert, &key])
            .args([USER, PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.next().expect("the SMTP server starts").unwrap();
        let port = ready
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("{ready}"))
            .parse()
            .unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let (tx, count) = tokio::sync::watch::channel(0);
        let kept = messages.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut all = kept.lock().unwrap();
                all.push(serde_json::from_str(&line).unwrap());
                tx.send_replace(all.len());
            }
        });
        SmtpSink {
            port,
            ca,
            child,
            messages,
            count,
            _dir: dir,
        }
    }

    /// The collector's e-mail settings for this server: STARTTLS, its login, its CA, two
    /// recipients.
    pub fn settings(&self) -> Email {
        Email {
            server: "127.0.0.1".into(),
            port: self.port,
            tls: EmailTls::Starttls,
            login: Some((USER.into(), Hidden(PASSWORD.into()))),
            ca_pem: Some(std::fs::read(&self.ca).unwrap()),
            from: "CES alerts <alerts@example.org>".into(),
            to: vec!["cx@example.org".into(), "ops@example.org".into()],
        }
    }

    pub fn messages(&self) -> Vec<serde_json::Value> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits until the server has taken `n` messages and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<serde_json::Value> {
        let mut count = self.count.clone();
        tokio::time::timeout(Duration::from_secs(60), count.wait_for(|c| *c >= n))
            .await
            .unwrap_or_else(|_| panic!("{n} messages within a minute: {:#?}", self.messages()))
            .unwrap();
        self.messages()
    }
}

/// Runs `openssl` with `args`, then each option with its file.
fn openssl(args: &[&str], files: &[(&str, &PathBuf)]) {
    let mut command = Command::new("openssl");
    command.args(args);
    for (option, file) in files {
        command.arg(option).arg(file);
    }
    let out = command.output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
