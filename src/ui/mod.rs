//! The only code that touches generated Slint types: it feeds taps, timers and store replies
//! into the [`Kiosk`] flow, carries out the effects it returns, and mirrors its state into
//! the `KioskAdapter` global. Disk work happens on the store thread; its replies come back
//! through the event loop, so the UI thread never waits for the disk. The uploader's status
//! and button-box presses arrive the same way.

mod configs;
mod logo;
mod palette;
mod question;
mod staff;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use slint::{ComponentHandle, SharedString, Timer, TimerMode};

use crate::buttons::{Buttons, Meaning, Press, Verdict};
use crate::config::Config;
use crate::kiosk::{Effect, Kiosk, Look, Screen, TimerKind};
use crate::speech::Speaker;
use crate::store::{Reply, StoreWriter};
use crate::sync::{Link, SyncHandle, SyncStatus};

mod generated {
    slint::include_modules!();
}

pub use generated::MainWindow;
pub use generated::StaffStage;
use generated::{KioskAdapter, SyncState};

/// A running kiosk screen: window, flow and store thread.
pub struct KioskUi {
    inner: Rc<Inner>,
}

struct Inner {
    window: MainWindow,
    kiosk: RefCell<Kiosk>,
    writer: StoreWriter,
    replies: mpsc::Receiver<Reply>,
    buttons: Option<Arc<Buttons>>,
    presses: mpsc::Receiver<Press>,
    timers: RefCell<HashMap<TimerKind, Timer>>,
    /// The language the language-dependent lists were last filled in.
    shown_language: RefCell<String>,
    /// The look and brand accent the window was last drawn in.
    shown_look: std::cell::Cell<(Look, Option<crate::theme::Rgb>)>,
    /// The uploader, for the staff screen's "sync now" and facts.
    sync: Option<SyncHandle>,
    staff: staff::Staff,
    /// The speech engine's thread, when the config has one and it is installed.
    speaker: Option<Speaker>,
    /// The brand's logo, decoded on a thread of its own.
    logos: logo::Logos,
}

impl KioskUi {
    /// Creates the window and starts the store thread for `config`.
    pub fn new(config: &Config) -> Result<KioskUi, slint::PlatformError> {
        KioskUi::with_sync(config, None)
    }

    /// Like [`KioskUi::new`], and tells the uploader behind `sync` of every stored answer.
    /// Presses on the config's button boxes are answers too.
    pub fn with_sync(
        config: &Config,
        sync: Option<SyncHandle>,
    ) -> Result<KioskUi, slint::PlatformError> {
        let window = MainWindow::new()?;
        let (press_tx, presses) = mpsc::channel();
        let buttons = if config.button_boxes.is_empty() {
            None
        } else {
            let wake = window.as_weak();
            let buttons = Buttons::start(&config.button_boxes, move |press| {
                if press_tx.send(press).is_ok() {
                    let _ = wake.upgrade_in_event_loop(|w| {
                        w.global::<KioskAdapter>().invoke_buttons_pressed();
                    });
                }
            })
            .map_err(|e| {
                slint::PlatformError::Other(format!("cannot start the button boxes: {e}"))
            })?;
            Some(Arc::new(buttons))
        };
        let (tx, replies) = mpsc::channel();
        let wake = window.as_weak();
        let acks = buttons.clone();
        let sync_handle = sync.clone();
        let writer = StoreWriter::spawn(
            config.storage.clone(),
            config.device.clone(),
            move |reply| {
                // The box hears as soon as the commit returned, before the screen changes.
                if let Some(buttons) = &acks {
                    buttons.store_replied(&reply);
                }
                // A stored answer (or a closed follow-up) is worth uploading soon.
                if let Some(sync) = &sync
                    && reply.worth_uploading()
                {
                    sync.nudge();
                }
                if tx.send(reply).is_ok() {
                    // Without a running event loop (headless tests) this fails and the
                    // replies wait for `wait_for_store`.
                    let _ = wake.upgrade_in_event_loop(|w| {
                        w.global::<KioskAdapter>().invoke_store_replied();
                    });
                }
            },
        );
        let inner = Rc::new(Inner {
            window,
            kiosk: RefCell::new(Kiosk::new(config.survey.clone(), config.kiosk.clone())),
            writer,
            replies,
            buttons,
            presses,
            timers: RefCell::default(),
            shown_language: RefCell::default(),
            shown_look: std::cell::Cell::default(),
            sync: sync_handle,
            staff: staff::Staff::new(config),
            speaker: Speaker::for_config(config),
            logos: logo::Logos::default(),
        });
        let adapter = inner.window.global::<KioskAdapter>();
        adapter.set_speech_available(inner.speaker.is_some());
        if let crate::config::Display::Touch {
            width_mm: Some(width),
        } = config.display
        {
            adapter.set_panel_width_mm(f32::from(width));
        }
        inner.bind();
        inner.bind_staff();
        inner.bind_logo();
        inner.show_logo(config.survey.logo.as_ref());
        inner.fill_scale(&config.survey, Look::default());
        let mut fx = vec![Effect::Language(
            config.survey.default_language().to_owned(),
        )];
        if inner.speaker.is_some() {
            let every = config.speech.as_ref().and_then(|s| s.announce_every);
            fx.extend(inner.kiosk.borrow_mut().announce_every(every));
        }
        inner.apply(fx);
        Ok(KioskUi { inner })
    }

    pub fn window(&self) -> &MainWindow {
        &self.inner.window
    }

    /// The screen the flow is on.
    pub fn screen(&self) -> Screen {
        self.inner.kiosk.borrow().screen()
    }

    /// Shows the window and runs the event loop until the window closes. Under systemd it
    /// says when the loop runs, and feeds the watchdog from this (the UI) thread, so that a
    /// frozen screen gets the service restarted.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        let watchdog = Timer::default();
        if let Some(every) = crate::service::watchdog_interval() {
            watchdog.start(TimerMode::Repeated, every, crate::service::ping);
        }
        Timer::single_shot(Duration::ZERO, crate::service::ready);
        self.inner.window.run()
    }

    /// A task that shows the uploader's status in the window whenever it changes; run it on
    /// the sync thread. It ends when the uploader or the window is gone.
    pub fn follow_sync(
        &self,
        mut status: tokio::sync::watch::Receiver<SyncStatus>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let window = self.inner.window.as_weak();
        async move {
            loop {
                let now = status.borrow_and_update().clone();
                let shown = window.upgrade_in_event_loop(move |w| show_sync(&w, &now));
                if shown.is_err() || status.changed().await.is_err() {
                    break;
                }
            }
        }
    }

    /// For drivers without an event loop (headless tests): waits up to `timeout` for the
    /// next button press and applies it. False on timeout.
    pub fn wait_for_press(&self, timeout: Duration) -> bool {
        match self.inner.presses.recv_timeout(timeout) {
            Ok(p) => {
                self.inner.on_press(p);
                true
            }
            Err(_) => false,
        }
    }

    /// For drivers without an event loop (headless tests): waits up to `timeout` for the
    /// staff screen's next background result (a PIN check, the facts) and shows it.
    pub fn wait_for_staff(&self, timeout: Duration) -> bool {
        match self.inner.staff.next_work(timeout) {
            Some(work) => {
                self.inner.staff_work(work);
                true
            }
            None => false,
        }
    }

    /// Whether staff asked for a restart (the event loop then ends; systemd starts the
    /// service again).
    pub fn restart_requested(&self) -> bool {
        self.inner.staff.restart_requested()
    }

    /// The staff screen's stage (closed, PIN pad, panel).
    pub fn staff_stage(&self) -> StaffStage {
        self.inner
            .window
            .global::<generated::StaffAdapter>()
            .get_stage()
    }

    /// For drivers without an event loop (headless tests): waits up to `timeout` for the
    /// store's next reply and applies it, with any others already waiting. False on timeout.
    pub fn wait_for_store(&self, timeout: Duration) -> bool {
        match self.inner.replies.recv_timeout(timeout) {
            Ok(reply) => {
                self.inner.on_reply(reply);
                self.inner.drain_replies();
                true
            }
            Err(_) => false,
        }
    }
}

impl Inner {
    fn bind(self: &Rc<Self>) {
        let adapter = self.window.global::<KioskAdapter>();
        adapter.on_tap(self.step(|k, score: i32| match u8::try_from(score) {
            Ok(score) => k.tap(score, crate::clock::now()),
            Err(_) => vec![],
        }));
        adapter.on_reason(self.step(|k, id: SharedString| k.reason(&id)));
        adapter.on_skip(self.act(Kiosk::skip));
        adapter.on_touched(self.act(Kiosk::touched));
        adapter.on_end_thanks(self.act(Kiosk::end_thanks));
        adapter.on_choose_language(self.step(|k, lang: SharedString| k.choose_language(&lang)));
        adapter.on_open_languages(self.act(Kiosk::open_languages));
        adapter.on_close_languages(self.act(Kiosk::close_languages));
        adapter.on_listen(self.act(Kiosk::listen));
        adapter.on_toggle_contrast(self.act(Kiosk::toggle_contrast));
        adapter.on_toggle_large_text(self.act(Kiosk::toggle_large_text));
        let weak = Rc::downgrade(self);
        adapter.on_store_replied(move || {
            if let Some(inner) = weak.upgrade() {
                inner.drain_replies();
            }
        });
        let weak = Rc::downgrade(self);
        adapter.on_buttons_pressed(move || {
            if let Some(inner) = weak.upgrade() {
                inner.drain_presses();
            }
        });
        let weak = Rc::downgrade(self);
        adapter.on_config_arrived(move || {
            if let Some(inner) = weak.upgrade() {
                inner.adopt_config();
            }
        });
    }

    /// A UI callback without arguments that runs one step of the flow.
    fn act(self: &Rc<Self>, step: fn(&mut Kiosk) -> Vec<Effect>) -> impl Fn() + 'static {
        let step = self.step(move |k, ()| step(k));
        move || step(())
    }

    /// A UI callback that runs one step of the flow and carries out its effects.
    fn step<A>(
        self: &Rc<Self>,
        step: impl Fn(&mut Kiosk, A) -> Vec<Effect> + 'static,
    ) -> impl Fn(A) + 'static {
        let weak = Rc::downgrade(self);
        move |arg| {
            if let Some(inner) = weak.upgrade() {
                let fx = step(&mut inner.kiosk.borrow_mut(), arg);
                inner.apply(fx);
            }
        }
    }

    fn drain_presses(self: &Rc<Self>) {
        while let Ok(p) = self.presses.try_recv() {
            self.on_press(p);
        }
    }

    /// A button press: an answer, or while staff test the buttons, only shown.
    fn on_press(self: &Rc<Self>, p: Press) {
        if self.staff.testing() {
            return self.staff_test_press(&p);
        }
        let mut kiosk = self.kiosk.borrow_mut();
        let fx = match p.meaning {
            Meaning::Score(score) => kiosk.press(score, p.press, crate::clock::now()),
            Meaning::Listen => kiosk.listen(),
        };
        drop(kiosk);
        self.apply(fx);
    }

    fn drain_replies(self: &Rc<Self>) {
        while let Ok(reply) = self.replies.try_recv() {
            self.on_reply(reply);
        }
    }

    fn on_reply(self: &Rc<Self>, reply: Reply) {
        let fx = self.kiosk.borrow_mut().store_replied(&reply);
        self.apply(fx);
    }

    /// Carries out the flow's effects, then mirrors its state into the window.
    fn apply(self: &Rc<Self>, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Store(request) => {
                    if let Err(reply) = self.writer.send(request) {
                        tracing::error!("the answer store thread has stopped; out of service");
                        if let Some(b) = &self.buttons {
                            b.store_replied(&reply);
                        }
                        self.on_reply(*reply);
                    }
                }
                Effect::StartTimer(kind, after) => {
                    let expired = self.step(move |k, ()| k.timer(kind));
                    let mut timers = self.timers.borrow_mut();
                    let timer = timers.entry(kind).or_default();
                    timer.start(TimerMode::SingleShot, after, move || expired(()));
                }
                Effect::StopTimer(kind) => {
                    if let Some(t) = self.timers.borrow().get(&kind) {
                        t.stop();
                    }
                }
                Effect::Refuse(press) => {
                    if let Some(b) = &self.buttons {
                        b.verdict(&press, Verdict::Refused);
                    }
                }
                Effect::Say { language, lines } => {
                    if let Some(s) = &self.speaker {
                        s.say(&language, lines);
                    }
                }
                Effect::Hush => {
                    if let Some(s) = &self.speaker {
                        s.hush();
                    }
                }
                Effect::Language(language) => {
                    if let Err(e) = slint::select_bundled_translation(&language) {
                        tracing::warn!(
                            language,
                            "cannot show the screen texts in this language: {e}"
                        );
                    }
                }
            }
        }
        self.render();
        if self.kiosk.borrow().is_idle() {
            self.adopt_config();
        }
    }

    fn render(&self) {
        let kiosk = self.kiosk.borrow();
        if let Some(b) = &self.buttons {
            b.set_in_service(kiosk.screen() != Screen::OutOfService);
        }
        let adapter = self.window.global::<KioskAdapter>();
        adapter.set_screen(match kiosk.screen() {
            Screen::Question => generated::Screen::Question,
            Screen::FollowUp => generated::Screen::FollowUp,
            Screen::Thanks => generated::Screen::Thanks,
            Screen::OutOfService => generated::Screen::OutOfService,
        });
        adapter.set_problem(kiosk.problem().unwrap_or_default().into());
        adapter.set_saving(kiosk.saving());
        adapter.set_choosing_language(kiosk.choosing_language());
        adapter.set_listening(kiosk.listening());
        let look = kiosk.look();
        let shown = (look, kiosk.survey().accent);
        if self.shown_look.get() != shown {
            adapter.set_high_contrast(look.high_contrast);
            adapter.set_large_text(look.large_text);
            palette::show(&self.window, look, shown.1);
            self.fill_scale(kiosk.survey(), look);
            self.shown_look.set(shown);
        }
        let language = kiosk.language();
        if kiosk.screen() == Screen::Thanks {
            // Checked at each thank-you: a notice disappears after its last day.
            let now = crate::clock::now().local;
            let today = now.get(..10).unwrap_or_default();
            let notice = kiosk.survey().notice_text(language, today);
            adapter.set_notice(notice.unwrap_or_default().into());
        }
        if *self.shown_language.borrow() != language {
            self.fill_language(kiosk.survey(), language);
            *self.shown_language.borrow_mut() = language.to_owned();
        }
    }
}

/// Mirrors the uploader's status into the sync indicator.
pub fn show_sync(window: &MainWindow, status: &SyncStatus) {
    let adapter = window.global::<KioskAdapter>();
    adapter.set_sync_state(match (status.link, status.pending) {
        (Link::Unauthorized, _) => SyncState::Refused,
        (Link::Offline, _) => SyncState::Offline,
        (_, 0) => SyncState::Synced,
        (_, _) => SyncState::Waiting,
    });
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    adapter.set_sync_waiting(count(status.pending));
    adapter.set_sync_rejected(count(status.dead_letters));
}
