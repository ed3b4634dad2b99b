//! Pseudo-terminal pairs: the terminal side (`/dev/pts/N`) is opened by the real serial
//! code like a USB box, the other side is held by a software box (`simulate-box`, tests).
//! Also the wait that both the reader threads and the software box use.

use std::ffi::CStr;
use std::fs::File;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A pty pair in raw mode. The box side is `master`; `path` is the terminal side.
pub struct Pty {
    pub master: File,
    /// Held open so that the pair survives while no terminal has the port open (a terminal
    /// restarting), as a USB box stays plugged in.
    _slave: OwnedFd,
    path: PathBuf,
}

impl Pty {
    pub fn open() -> std::io::Result<Pty> {
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty writes two descriptors; null name, termios and window size are allowed.
        let r = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: openpty succeeded, so both are open descriptors we now own.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        for fd in [master.as_raw_fd(), slave.as_raw_fd()] {
            // SAFETY: fd is open; FD_CLOEXEC keeps it out of child processes.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        // SAFETY: termios is plain data filled by tcgetattr before use.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(slave.as_raw_fd(), &mut t) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::cfmakeraw(&mut t);
            if libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: the buffer is large enough for a pts name and is NUL-terminated on success.
        let path = unsafe {
            if libc::ttyname_r(slave.as_raw_fd(), name.as_mut_ptr(), name.len()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            PathBuf::from(CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned())
        };
        Ok(Pty {
            master,
            _slave: slave,
            path,
        })
    }

    /// The terminal side, to open as a serial port.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// What woke a [`wait`].
pub(crate) enum Wake {
    Data,
    Stop,
    Timeout,
}

/// Waits until `fd` (if given) has something to read (or hung up) or `stop` is readable,
/// or `timeout` passes (never, when `None`). Uses no CPU while waiting.
pub(crate) fn wait(fd: Option<RawFd>, stop: BorrowedFd, timeout: Option<Duration>) -> Wake {
    let mut fds = vec![libc::pollfd {
        fd: stop.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    if let Some(p) = fd {
        fds.push(libc::pollfd {
            fd: p,
            events: libc::POLLIN,
            revents: 0,
        });
    }
    let ms = timeout.map_or(-1, |t| i32::try_from(t.as_millis()).unwrap_or(i32::MAX));
    loop {
        // SAFETY: `fds` is a valid array of pollfd of the length given.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return match n {
            0 => Wake::Timeout,
            _ if fds[0].revents != 0 => Wake::Stop,
            // Data, a hang-up or an error: the read tells which.
            _ => Wake::Data,
        };
    }
}
