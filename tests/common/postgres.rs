//! A throwaway PostgreSQL server for the tests: Debian's own binaries
//! (`/usr/lib/postgresql/<version>/bin`, from the `postgresql` package) in a temporary
//! folder, listening on 127.0.0.1 at a free port, run as the `postgres` user when the tests
//! run as root (it refuses root). One server per test program, started by the first test
//! that asks and ended with the program, however the program ends, and its folder removed
//! then; each test gets a database of its own.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// The superuser the server is made with (trust authentication on 127.0.0.1 only).
pub const SUPERUSER: &str = "ces";

struct Server {
    port: u16,
    bin: PathBuf,
    /// The reaper's standard input: closed by the system when this program ends.
    _reaper: std::process::ChildStdin,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The newest PostgreSQL Debian installed.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (apt-get install postgresql)")
        .filter_map(|e| {
            let e = e.ok()?;
            Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL version in /usr/lib/postgresql")
        .1
}

/// The user and group ids the server runs as: `postgres` when this runs as root.
fn server_ids() -> Option<(libc::uid_t, libc::gid_t)> {
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").unwrap();
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(!entry.is_null(), "no postgres user to run the server as");
    let entry = unsafe { &*entry };
    Some((entry.pw_uid, entry.pw_gid))
}

/// A command run as the server's user, ended by SIGINT (a fast shutdown, which also ends
/// its clients' sessions) when the thread that started it ends (the server's thread never
/// does: so with the test program).
fn as_server(program: &Path, ids: Option<(libc::uid_t, libc::gid_t)>) -> Command {
    let mut command = Command::new(program);
    unsafe {
        command.pre_exec(move || {
            if let Some((uid, gid)) = ids
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            // After the change of user, which clears it.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
}

/// Throwaway data waits on no disk; `CES_PG_DURABLE=1` keeps PostgreSQL's own defaults
/// (every commit flushed), for benchmark figures that a production server would see.
fn durability() -> &'static [&'static str] {
    if std::env::var("CES_PG_DURABLE").as_deref() == Ok("1") {
        &[]
    } else {
        &[
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]
    }
}

/// A process that outlives this program by as long as it takes to clean up: it waits for
/// its standard input to close (which the system does when this program ends, even by a
/// signal), then for the server to have shut down (it removes `postmaster.pid` last; at most
/// a minute), then removes the server's folder. A static is never dropped, so the folder
/// cannot be removed from inside.
fn reaper(dir: &Path) -> std::process::ChildStdin {
    Command::new("sh")
        .arg("-c")
        .arg(concat!(
            "cat >/dev/null; n=0; ",
            "while [ -e \"$1/data/postmaster.pid\" ] && [ $n -lt 600 ]; ",
            "do sleep 0.1; n=$((n + 1)); done; rm -rf \"$1\""
        ))
        .arg("postgres-reaper")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sh starts")
        .stdin
        .take()
        .unwrap()
}

fn start() -> Server {
    let bin = bin_dir();
    let ids = server_ids();
    let dir = tempfile::tempdir().unwrap().keep();
    let reaper = reaper(&dir);
    let dir = dir.as_path();
    if let Some((uid, gid)) = ids {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).unwrap();
    }
    let data = dir.join("data");
    let init = as_server(&bin.join("initdb"), ids)
        .arg("-D")
        .arg(&data)
        .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-sync"])
        .output()
        .unwrap();
    assert!(init.status.success(), "initdb: {init:?}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Started from a thread that lives as long as the program, so that the server ends with
    // the program (PR_SET_PDEATHSIG follows the thread that started it).
    let (ready_tx, ready) = mpsc::channel();
    let postgres = bin.join("postgres");
    let socket_dir = dir.to_owned();
    std::thread::spawn(move || {
        let mut server = as_server(&postgres, ids)
            .arg("-D")
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1", "-p", &port.to_string()])
            .arg("-k")
            .arg(&socket_dir)
            .args(durability())
            .args(["-c", "max_connections=300"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("postgres starts");
        let mut said = String::new();
        for line in BufReader::new(server.stderr.take().unwrap())
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("ready to accept connections") {
                let _ = ready_tx.send(Ok(()));
            } else if said.len() < 4096 {
                said.push_str(&line);
                said.push('\n');
            }
        }
        let _ = ready_tx.send(Err(format!("postgres ended: {:?}\n{said}", server.wait())));
        loop {
            std::thread::park();
        }
    });
    ready
        .recv_timeout(Duration::from_secs(60))
        .expect("postgres says it is ready within 60 s")
        .unwrap();
    Server {
        port,
        bin,
        _reaper: reaper,
    }
}

/// The URL of a new, empty database of its own for one test.
pub fn database() -> String {
    let server = SERVER.get_or_init(start);
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::Relaxed)
    );
    let made = Command::new(server.bin.join("psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port.to_string(),
            "-U",
            SUPERUSER,
        ])
        .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .unwrap();
    assert!(made.status.success(), "CREATE DATABASE: {made:?}");
    format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", server.port)
}
