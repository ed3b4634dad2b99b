//! The staff screen's Rust side: the hidden gesture (five taps in the top left corner
//! within three seconds), the PIN (checked on a worker thread, locked after wrong tries),
//! the facts (gathered on a worker thread, as `ces-kiosk status` shows them, plus the boxes
//! seen and the uploader's live status), and the actions: sync now, send refused answers
//! again, test the buttons, restart, enrol again. Nothing here blocks the UI thread; no PIN or credential is logged.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, SharedString, Timer, TimerMode};

use super::Inner;
use super::generated::{StaffAdapter, StaffFact, StaffStage};
use super::question::model;
use crate::buttons::{Meaning, Press, Verdict};
use crate::config::Config;
use crate::staff::Lockout;
use crate::status::TerminalStatus;
use crate::sync::Link;

/// Taps in the corner that open the PIN pad, and the time they must fall within.
const CORNER_TAPS: usize = 5;
const CORNER_WITHIN: Duration = Duration::from_secs(3);
/// The staff screen closes by itself after this long untouched.
const CLOSE_AFTER: Duration = Duration::from_secs(120);
/// How often the facts are gathered again while the panel is open.
const REFRESH_EVERY: Duration = Duration::from_secs(5);

/// What a worker thread finished.
pub(super) enum Work {
    Pin {
        right: bool,
    },
    Facts(Box<TerminalStatus>),
    Enrolled(Result<String, String>),
    /// Dead letters put back in the upload queue.
    Requeued(Result<u64, String>),
}

pub(super) struct Staff {
    config: Config,
    lockout: RefCell<Lockout>,
    entered: RefCell<String>,
    checking: Cell<bool>,
    corner: RefCell<Vec<Instant>>,
    testing: Cell<bool>,
    restart: Cell<bool>,
    done_tx: mpsc::Sender<Work>,
    done: mpsc::Receiver<Work>,
    close_timer: Timer,
    refresh_timer: Timer,
}

impl Staff {
    pub(super) fn new(config: &Config) -> Staff {
        let (done_tx, done) = mpsc::channel();
        Staff {
            config: config.clone(),
            lockout: RefCell::default(),
            entered: RefCell::default(),
            checking: Cell::new(false),
            corner: RefCell::default(),
            testing: Cell::new(false),
            restart: Cell::new(false),
            done_tx,
            done,
            close_timer: Timer::default(),
            refresh_timer: Timer::default(),
        }
    }

    /// Staff asked for a restart (the event loop was told to stop).
    pub(super) fn restart_requested(&self) -> bool {
        self.restart.get()
    }

    /// The panel is open in button-test mode: presses are shown, not stored.
    pub(super) fn testing(&self) -> bool {
        self.testing.get()
    }

    pub(super) fn next_work(&self, timeout: Duration) -> Option<Work> {
        self.done.recv_timeout(timeout).ok()
    }
}

impl Inner {
    pub(super) fn bind_staff(self: &Rc<Self>) {
        let a = self.window.global::<StaffAdapter>();
        let on = |f: fn(&Rc<Inner>)| {
            let weak = Rc::downgrade(self);
            move || {
                if let Some(inner) = weak.upgrade() {
                    f(&inner);
                }
            }
        };
        a.on_corner_tapped(on(Inner::staff_corner));
        a.on_erase(on(|i| {
            i.staff.entered.borrow_mut().pop();
            i.staff_touched();
        }));
        a.on_enter(on(Inner::staff_enter));
        a.on_close(on(Inner::staff_close));
        a.on_sync_now(on(Inner::staff_sync_now));
        a.on_requeue(on(Inner::staff_requeue));
        a.on_test_buttons(on(Inner::staff_test_buttons));
        a.on_restart(on(Inner::staff_restart));
        a.on_work_done(on(|i| {
            while let Ok(work) = i.staff.done.try_recv() {
                i.staff_work(work);
            }
        }));
        let weak = Rc::downgrade(self);
        a.on_digit(move |d: SharedString| {
            if let Some(i) = weak.upgrade() {
                if !i.staff.checking.get() && i.staff.entered.borrow().len() < 8 {
                    i.staff.entered.borrow_mut().push_str(&d);
                }
                i.staff_touched();
            }
        });
        let weak = Rc::downgrade(self);
        a.on_re_enrol(move |code: SharedString| {
            if let Some(i) = weak.upgrade() {
                i.staff_re_enrol(&code);
            }
        });
    }

    fn staff_adapter(&self) -> StaffAdapter<'_> {
        self.window.global::<StaffAdapter>()
    }

    /// Runs `f` on a worker thread; its result comes back through the event loop.
    fn staff_spawn(&self, f: impl FnOnce() -> Work + Send + 'static) {
        let tx = self.staff.done_tx.clone();
        let wake = self.window.as_weak();
        std::thread::spawn(move || {
            if tx.send(f()).is_ok() {
                // Without an event loop (headless tests) this fails: see `wait_for_staff`.
                let _ =
                    wake.upgrade_in_event_loop(|w| w.global::<StaffAdapter>().invoke_work_done());
            }
        });
    }

    fn staff_corner(self: &Rc<Self>) {
        let now = Instant::now();
        let mut taps = self.staff.corner.borrow_mut();
        taps.retain(|t| now.duration_since(*t) < CORNER_WITHIN);
        taps.push(now);
        // The corner is there only on the question screen.
        if taps.len() < CORNER_TAPS {
            return;
        }
        taps.clear();
        drop(taps);
        tracing::info!("staff screen opened");
        self.staff.entered.borrow_mut().clear();
        let a = self.staff_adapter();
        a.set_message(match &self.staff.config.staff_pin_hash {
            Some(_) => "".into(),
            None => "No staff PIN is set on this terminal: make one with `ces-kiosk staff-pin` \
                     over SSH and add it to the config file."
                .into(),
        });
        a.set_stage(StaffStage::Pin);
        self.staff_touched();
    }

    /// Any staff action: show the PIN dots, and keep the screen open a while longer.
    fn staff_touched(self: &Rc<Self>) {
        let dots = "●".repeat(self.staff.entered.borrow().len());
        self.staff_adapter().set_pin_dots(dots.into());
        let weak = Rc::downgrade(self);
        self.staff
            .close_timer
            .start(TimerMode::SingleShot, CLOSE_AFTER, move || {
                if let Some(i) = weak.upgrade() {
                    i.staff_close();
                }
            });
    }

    fn staff_enter(self: &Rc<Self>) {
        self.staff_touched();
        let Some(hash) = self.staff.config.staff_pin_hash.clone() else {
            return;
        };
        if self.staff.checking.get() {
            return;
        }
        if let Err(left) = self.staff.lockout.borrow().check(Instant::now()) {
            self.staff.entered.borrow_mut().clear();
            self.staff_adapter().set_message(locked(left).into());
            self.staff_touched();
            return;
        }
        let pin = std::mem::take(&mut *self.staff.entered.borrow_mut());
        self.staff.checking.set(true);
        self.staff_adapter().set_message("Checking…".into());
        self.staff_spawn(move || Work::Pin {
            right: crate::staff::verify(&hash, &pin),
        });
    }

    pub(super) fn staff_work(self: &Rc<Self>, work: Work) {
        let a = self.staff_adapter();
        match work {
            Work::Pin { right } => {
                self.staff.checking.set(false);
                self.staff_touched();
                let mut lockout = self.staff.lockout.borrow_mut();
                if right {
                    lockout.right();
                    tracing::info!("staff PIN accepted");
                    a.set_message("".into());
                    a.set_action_result("".into());
                    a.set_stage(StaffStage::Panel);
                    drop(lockout);
                    self.staff_refresh();
                    let weak = Rc::downgrade(self);
                    self.staff
                        .refresh_timer
                        .start(TimerMode::Repeated, REFRESH_EVERY, move || {
                            if let Some(i) = weak.upgrade() {
                                i.staff_refresh();
                            }
                        });
                } else if let Some(lock) = lockout.wrong(Instant::now()) {
                    tracing::warn!(minutes = lock.as_secs() / 60, "wrong staff PINs: locked");
                    a.set_message(locked(lock).into());
                } else {
                    tracing::warn!(tries_left = lockout.tries_left(), "wrong staff PIN");
                    a.set_message(format!("Wrong PIN, {} tries left", lockout.tries_left()).into());
                }
            }
            Work::Facts(status) => a.set_facts(model(self.staff_facts(&status))),
            Work::Enrolled(Ok(device)) => {
                a.set_action_result(format!("Enrolled as {device}. Restarting…").into());
                self.staff_restart();
            }
            Work::Enrolled(Err(e)) => a.set_action_result(format!("Not enrolled: {e}").into()),
            Work::Requeued(Ok(0)) => {
                a.set_action_result("No refused answers: nothing to send again.".into());
            }
            Work::Requeued(Ok(n)) => {
                if let Some(sync) = &self.sync {
                    sync.sync_now();
                }
                let said = if n == 1 {
                    "1 refused answer is queued again and being sent.".to_owned()
                } else {
                    format!("{n} refused answers are queued again and being sent.")
                };
                a.set_action_result(said.into());
                self.staff_refresh();
            }
            Work::Requeued(Err(e)) => {
                a.set_action_result(format!("Could not queue them again: {e}").into());
            }
        }
    }

    fn staff_close(self: &Rc<Self>) {
        self.staff.entered.borrow_mut().clear();
        self.staff.testing.set(false);
        self.staff.close_timer.stop();
        self.staff.refresh_timer.stop();
        let a = self.staff_adapter();
        a.set_testing_buttons(false);
        a.set_stage(StaffStage::Closed);
    }

    /// Gathers the facts again on a worker thread.
    fn staff_refresh(&self) {
        let config = self.staff.config.clone();
        self.staff_spawn(move || Work::Facts(Box::new(TerminalStatus::gather(&config))));
    }

    fn staff_facts(&self, s: &TerminalStatus) -> Vec<StaffFact> {
        let live = self.sync.as_ref().map(|h| h.status().borrow().clone());
        let (link, waiting, error) = match &live {
            Some(l) => (
                l.link.as_str().to_owned(),
                Some(l.pending),
                l.last_error.clone(),
            ),
            None => (s.link.clone(), s.queue_depth, s.last_error.clone()),
        };
        let fact = |label: &str, value: String, problem: bool| StaffFact {
            label: label.into(),
            value: value.into(),
            problem,
        };
        let mut facts = vec![
            fact("Device", s.device_id.clone(), false),
            fact("Site", format!("{} / {}", s.site, s.touchpoint), false),
            fact("Version", format!("ces-kiosk {}", s.app_version), false),
            fact(
                "Survey",
                match s.config_version {
                    Some(v) => format!("{} (config version {v})", s.question_id),
                    None => format!("{} (from the config file)", s.question_id),
                },
                false,
            ),
            fact(
                "Queue",
                format!(
                    "{} waiting, {} rejected",
                    waiting.unwrap_or(0),
                    s.dead_letters.unwrap_or(0)
                ),
                s.dead_letters.unwrap_or(0) > 0,
            ),
            fact(
                "Last sync",
                s.last_sync.clone().unwrap_or_else(|| "never".into()),
                false,
            ),
            fact(
                "Last error",
                error.clone().unwrap_or_else(|| "none".into()),
                error.is_some(),
            ),
            fact(
                "Network",
                if s.addresses.is_empty() {
                    format!("{link}, no address")
                } else {
                    format!("{link} ({})", s.addresses.join(", "))
                },
                matches!(
                    live.map(|l| l.link),
                    Some(Link::Offline | Link::Unauthorized)
                ),
            ),
            fact(
                "Disk",
                s.disk_free_bytes.map_or("unknown".into(), |b| {
                    format!("{:.1} GB free", b as f64 / 1e9)
                }),
                s.disk_free_bytes.is_some_and(|b| b < 1_000_000_000),
            ),
            fact(
                "Clock",
                if s.clock_trusted {
                    "synchronised".into()
                } else {
                    "NOT synchronised".into()
                },
                !s.clock_trusted,
            ),
        ];
        let boxes = self.buttons.as_ref().map(|b| b.seen()).unwrap_or_default();
        if boxes.is_empty() {
            facts.push(fact("Button boxes", "none configured".into(), false));
        }
        for b in boxes {
            let value = match (b.connected, &b.box_id) {
                (true, Some(id)) => format!("{id} connected ({})", b.path.display()),
                (true, None) => format!("{} open, no hello yet", b.path.display()),
                (false, _) => format!("{} not connected", b.path.display()),
            };
            facts.push(fact(
                "Button box",
                value,
                !b.connected || b.box_id.is_none(),
            ));
        }
        facts
    }

    fn staff_sync_now(self: &Rc<Self>) {
        self.staff_touched();
        let a = self.staff_adapter();
        match &self.sync {
            Some(sync) => {
                sync.sync_now();
                a.set_action_result("Sync started: the facts show how it went.".into());
            }
            None => a.set_action_result("This terminal does not sync (no collector).".into()),
        }
    }

    /// Puts the dead letters back in the upload queue on a worker thread (a connection of its
    /// own), then syncs: the collector answers what it has as duplicates.
    fn staff_requeue(self: &Rc<Self>) {
        self.staff_touched();
        if self.sync.is_none() {
            return self
                .staff_adapter()
                .set_action_result("This terminal does not sync (no collector).".into());
        }
        self.staff_adapter()
            .set_action_result("Queuing refused answers again…".into());
        let (db, device) = (
            self.staff.config.storage.path.clone(),
            self.staff.config.device.clone(),
        );
        self.staff_spawn(move || {
            Work::Requeued(
                crate::store::Store::open(&db, &device)
                    .and_then(|mut s| s.requeue(None))
                    .map_err(|e| e.to_string()),
            )
        });
        tracing::info!("sending refused answers again, asked for on the staff screen");
    }

    fn staff_test_buttons(self: &Rc<Self>) {
        self.staff_touched();
        let testing = !self.staff.testing.get();
        self.staff.testing.set(testing);
        let a = self.staff_adapter();
        a.set_testing_buttons(testing);
        a.set_action_result(if testing {
            "Press each button: presses show here and are not stored.".into()
        } else {
            "".into()
        });
    }

    /// A press while the buttons are being tested: shown, answered with a NAK, not stored.
    pub(super) fn staff_test_press(self: &Rc<Self>, p: &Press) {
        self.staff_touched();
        let meaning = match p.meaning {
            Meaning::Score(score) => {
                if let Some(b) = &self.buttons {
                    b.verdict(&p.press, Verdict::Refused);
                }
                format!("score {score}")
            }
            // Already heard by the box: it never counts.
            Meaning::Listen => "speech".to_owned(),
        };
        self.staff_adapter().set_action_result(
            format!(
                "Box {} button {} ({meaning}): works. Not stored.",
                p.press.box_id, p.press.button
            )
            .into(),
        );
    }

    fn staff_restart(self: &Rc<Self>) {
        tracing::info!("restart asked for on the staff screen");
        self.staff.restart.set(true);
        let _ = slint::quit_event_loop();
    }

    fn staff_re_enrol(self: &Rc<Self>, code: &str) {
        self.staff_touched();
        let a = self.staff_adapter();
        let code = match crate::credential::EnrolmentCode::parse(code) {
            Ok(c) => c,
            Err(e) => return a.set_action_result(e.to_string().into()),
        };
        let Some(url) = self.staff.config.upstream.as_ref().map(|u| u.url.clone()) else {
            return a.set_action_result(
                "No collector is configured: enrol over SSH with ces-kiosk enroll --collector URL."
                    .into(),
            );
        };
        a.set_action_result("Enrolling…".into());
        let state = self.staff.config.state_dir().to_owned();
        self.staff_spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            Work::Enrolled(match runtime {
                Ok(r) => r
                    .block_on(crate::enrolment::enroll(&url, &code, &state))
                    .map(|done| done.device_id)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            })
        });
    }
}

fn locked(left: Duration) -> String {
    let s = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    format!("Too many wrong PINs: locked for {}:{:02}", s / 60, s % 60)
}
