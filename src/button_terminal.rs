//! The event loop of a terminal without a touch screen: button boxes for input, a small
//! display (framebuffer or PNG) or none. It runs the same screen flow (`kiosk`) and store
//! thread as the touch UI, on its own thread; timers are deadlines, so an idle terminal
//! sleeps in one blocking receive and uses no CPU. The follow-up question is asked on a
//! small display, its reasons chosen with the buttons; without a display it is not asked.
//! A box's listen button turns speech on: the screens are read aloud, naming the buttons.

use std::collections::HashMap;
use std::sync::{Arc, mpsc};
use std::time::Instant;

use anyhow::Context;

use crate::buttons::{Buttons, Meaning, Press, Verdict};
use crate::config::Config;
use crate::display::{Panel, SyncMark, View};
use crate::kiosk::{Effect, Kiosk, Screen, TimerKind};
use crate::speech::Speaker;
use crate::store::{Reply, StoreWriter};
use crate::survey::Survey;
use crate::sync::survey_config::ConfigFeed;
use crate::sync::{Link, SyncHandle, SyncStatus};

/// What wakes the loop.
pub enum Input {
    Press(Press),
    Store(Reply),
    Sync(SyncStatus),
    /// The collector sent a new survey config: switch when idle.
    Config,
    /// End the loop (tests; a running terminal ends with its process).
    Stop,
}

/// A button terminal, ready to run.
pub struct ButtonTerminal {
    kiosk: Kiosk,
    writer: StoreWriter,
    buttons: Arc<Buttons>,
    panel: Option<Box<dyn Panel>>,
    legend: Vec<(u8, u8)>,
    inputs: mpsc::Receiver<Input>,
    sender: mpsc::Sender<Input>,
    timers: HashMap<TimerKind, Instant>,
    sync: SyncMark,
    shown: Option<View>,
    panel_failed: bool,
    configs: Option<ConfigFeed>,
    /// The speech engine's thread, when a box has a listen button and the engine is there.
    speaker: Option<Speaker>,
}

impl ButtonTerminal {
    /// Starts the store thread and the button boxes' readers for `config`, drawing on
    /// `panel` if there is one, and telling the uploader behind `sync` of stored answers.
    pub fn new(
        config: &Config,
        panel: Option<Box<dyn Panel>>,
        sync: Option<SyncHandle>,
    ) -> anyhow::Result<ButtonTerminal> {
        let (sender, inputs) = mpsc::channel();
        let tx = sender.clone();
        let buttons = Buttons::start(&config.button_boxes, move |p| {
            let _ = tx.send(Input::Press(p));
        })
        .context("cannot start the button boxes")?;
        let buttons = Arc::new(buttons);
        let (tx, acks) = (sender.clone(), buttons.clone());
        let configs = sync.as_ref().map(SyncHandle::config);
        let writer = StoreWriter::spawn(
            config.storage.clone(),
            config.device.clone(),
            move |reply| {
                acks.store_replied(&reply);
                if let Some(sync) = &sync
                    && reply.worth_uploading()
                {
                    sync.nudge();
                }
                let _ = tx.send(Input::Store(reply));
            },
        );
        // The legend shows the first box's buttons; boxes of one terminal share a layout.
        let legend: Vec<(u8, u8)> = config
            .button_boxes
            .first()
            .map(|b| {
                (b.scores.iter().enumerate())
                    .map(|(i, &score)| (i as u8 + 1, score))
                    .collect()
            })
            .unwrap_or_default();
        let survey = asked(&config.survey, panel.is_some(), legend.len());
        let listen = config.button_boxes.iter().find_map(|b| b.listen);
        let speaker = listen.and_then(|_| Speaker::for_config(config));
        let mut kiosk = Kiosk::new(survey, config.kiosk.clone())
            .reasons_by_button()
            .spoken_buttons(legend.clone(), listen);
        let mut first = vec![];
        if speaker.is_some() {
            let every = config.speech.as_ref().and_then(|s| s.announce_every);
            first = kiosk.announce_every(every);
        }
        let mut terminal = ButtonTerminal {
            kiosk,
            writer,
            buttons,
            panel,
            legend,
            inputs,
            sender,
            timers: HashMap::new(),
            sync: SyncMark::default(),
            shown: None,
            panel_failed: false,
            configs,
            speaker,
        };
        terminal.apply(first);
        Ok(terminal)
    }

    /// A sender for inputs from elsewhere: the uploader's status, or [`Input::Stop`].
    pub fn sender(&self) -> mpsc::Sender<Input> {
        self.sender.clone()
    }

    /// A task that passes the uploader's status on to the display's status mark; run it on
    /// the sync thread. It ends when the uploader or the terminal is gone.
    pub fn follow_sync(
        &self,
        mut status: tokio::sync::watch::Receiver<SyncStatus>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let tx = self.sender.clone();
        async move {
            loop {
                let now = status.borrow_and_update().clone();
                if tx.send(Input::Sync(now)).is_err() || status.changed().await.is_err() {
                    break;
                }
            }
        }
    }

    /// A task that tells the loop when the collector sent a new survey config; run it on the
    /// sync thread.
    pub fn follow_config(&self) -> impl Future<Output = ()> + Send + 'static {
        let tx = self.sender.clone();
        let mut feed = self.configs.clone();
        async move {
            let Some(feed) = &mut feed else { return };
            while feed.changed().await {
                if tx.send(Input::Config).is_err() {
                    break;
                }
            }
        }
    }

    /// Runs until [`Input::Stop`]. Under systemd it says when it runs, and feeds the
    /// watchdog from this loop, so that a stuck loop gets the service restarted.
    pub fn run(mut self) {
        self.show();
        let watchdog = crate::service::watchdog_interval();
        let mut next_ping = watchdog.map(|every| Instant::now() + every);
        crate::service::ready();
        loop {
            let timer = self
                .timers
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, at)| (Some(*k), *at));
            let next = match (timer, next_ping) {
                (Some(t), Some(ping)) if ping < t.1 => Some((None, ping)),
                (None, Some(ping)) => Some((None, ping)),
                (t, _) => t,
            };
            let input = match next {
                None => self.inputs.recv().ok(),
                Some((kind, at)) => {
                    match self
                        .inputs
                        .recv_timeout(at.saturating_duration_since(Instant::now()))
                    {
                        Ok(input) => Some(input),
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            match kind {
                                Some(kind) => {
                                    self.timers.remove(&kind);
                                    let fx = self.kiosk.timer(kind);
                                    self.apply(fx);
                                }
                                None => {
                                    crate::service::ping();
                                    next_ping = watchdog.map(|every| Instant::now() + every);
                                }
                            }
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => None,
                    }
                }
            };
            let fx = match input {
                None | Some(Input::Stop) => return,
                Some(Input::Press(Press {
                    meaning: Meaning::Score(score),
                    press,
                })) => self.kiosk.press(score, press, crate::clock::now()),
                Some(Input::Press(Press {
                    meaning: Meaning::Listen,
                    ..
                })) if self.speaker.is_some() => self.kiosk.listen(),
                // No engine to speak with: the press was heard, and does nothing.
                Some(Input::Press(Press {
                    meaning: Meaning::Listen,
                    ..
                })) => vec![],
                Some(Input::Store(reply)) => self.kiosk.store_replied(&reply),
                Some(Input::Sync(status)) => {
                    self.sync = SyncMark {
                        offline: status.link == Link::Offline,
                        waiting: status.pending,
                    };
                    vec![]
                }
                Some(Input::Config) => vec![],
            };
            self.apply(fx);
        }
    }

    fn apply(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Store(request) => {
                    if let Err(reply) = self.writer.send(request) {
                        tracing::error!("the answer store thread has stopped; out of service");
                        self.buttons.store_replied(&reply);
                        let fx = self.kiosk.store_replied(&reply);
                        self.apply(fx);
                    }
                }
                Effect::StartTimer(kind, after) => {
                    self.timers.insert(kind, Instant::now() + after);
                }
                Effect::StopTimer(kind) => {
                    self.timers.remove(&kind);
                }
                Effect::Refuse(press) => self.buttons.verdict(&press, Verdict::Refused),
                Effect::Say { language, lines } => {
                    if let Some(speaker) = &self.speaker {
                        speaker.say(&language, lines);
                    }
                }
                Effect::Hush => {
                    if let Some(speaker) = &self.speaker {
                        speaker.hush();
                    }
                }
                // The display shows the flow's language when it draws.
                Effect::Language(_) => {}
            }
        }
        self.buttons
            .set_in_service(self.kiosk.screen() != Screen::OutOfService);
        self.adopt_config();
        self.show();
    }

    /// Switches to a newer survey config from the collector when the flow is idle.
    fn adopt_config(&mut self) {
        let Some(feed) = &self.configs else { return };
        let Some((config, version)) = feed.pending() else {
            return;
        };
        let survey = asked(&config.survey, self.panel.is_some(), self.legend.len());
        if self.kiosk.replace_survey(survey, config.kiosk.clone()) {
            feed.applied(version);
            tracing::info!(version, "switched to the collector's new survey config");
        }
    }

    /// Draws the current screen if it changed.
    fn show(&mut self) {
        let Some(panel) = &mut self.panel else { return };
        let survey = self.kiosk.survey();
        let language = self.kiosk.language();
        let view = View {
            screen: self.kiosk.screen(),
            language: language.to_owned(),
            question: survey.question_text(self.kiosk.language()).to_owned(),
            scale: survey.scale,
            legend: self.legend.clone(),
            sync: self.sync,
            notice: (self.kiosk.screen() == Screen::Thanks)
                .then(|| {
                    let now = crate::clock::now().local;
                    let today = now.get(..10).unwrap_or_default().to_owned();
                    survey.notice_text(language, &today).map(str::to_owned)
                })
                .flatten(),
            reasons: match self.kiosk.screen() {
                Screen::FollowUp => (survey.follow_up.iter().enumerate())
                    .map(|(i, r)| (i as u8 + 1, r.text_in(language).to_owned()))
                    .collect(),
                _ => vec![],
            },
        };
        if self.shown.as_ref() == Some(&view) {
            return;
        }
        match panel.show(&view) {
            Ok(()) => self.panel_failed = false,
            Err(e) if !self.panel_failed => {
                tracing::error!("{e}");
                self.panel_failed = true;
            }
            Err(_) => {}
        }
        self.shown = Some(view);
    }
}

/// The survey as a button terminal asks it: the follow-up only on a display, with as many
/// reasons as there are buttons to choose them (button N, the Nth reason).
fn asked(survey: &Survey, display: bool, buttons: usize) -> Survey {
    let mut survey = survey.clone();
    survey.follow_up.truncate(if display { buttons } else { 0 });
    survey
}
