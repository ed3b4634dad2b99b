//! Survey configs from the collector on the touch screen: a task that tells the event loop
//! when one arrived, and the switch to it when the flow is idle.

use std::rc::Rc;

use slint::ComponentHandle;

use super::generated::KioskAdapter;
use super::{Inner, KioskUi};
use crate::kiosk::Effect;
use crate::sync::survey_config::ConfigFeed;

impl KioskUi {
    /// A task that tells the window when the collector sent a new survey config; run it on
    /// the sync thread. It ends when the uploader or the window is gone.
    pub fn follow_config(&self) -> impl Future<Output = ()> + Send + 'static {
        let window = self.inner.window.as_weak();
        let mut feed = self.inner.configs();
        async move {
            let Some(feed) = &mut feed else { return };
            while feed.changed().await {
                let told = window.upgrade_in_event_loop(|w| {
                    w.global::<KioskAdapter>().invoke_config_arrived();
                });
                if told.is_err() {
                    break;
                }
            }
        }
    }

    /// Switches to the newest survey config from the collector if the flow is idle (else it
    /// happens when it next is). The event loop calls this when one arrives; headless tests
    /// call it themselves. Returns the version running afterwards.
    pub fn adopt_config(&self) -> Option<u64> {
        self.inner.adopt_config();
        self.inner.configs().as_ref().and_then(ConfigFeed::running)
    }
}

impl Inner {
    /// Survey configs from the collector, when the terminal syncs.
    fn configs(&self) -> Option<ConfigFeed> {
        self.sync.as_ref().map(crate::sync::SyncHandle::config)
    }

    /// Switches to a newer survey config from the collector when the flow is idle.
    pub(super) fn adopt_config(self: &Rc<Self>) {
        let Some(feed) = self.configs() else { return };
        let Some((config, version)) = feed.pending() else {
            return;
        };
        let switched = self
            .kiosk
            .borrow_mut()
            .replace_survey(config.survey.clone(), config.kiosk.clone());
        if !switched {
            return;
        }
        // Said first: showing the new survey below comes back here, and finds it running.
        feed.applied(version);
        self.fill_scale(&config.survey, self.shown_look.get().0);
        self.show_logo(config.survey.logo.as_ref());
        // The language lists are refilled for the new survey.
        self.shown_language.borrow_mut().clear();
        self.apply(vec![Effect::Language(
            config.survey.default_language().to_owned(),
        )]);
        tracing::info!(
            version,
            question = config.survey.question_id,
            "switched to the collector's new survey config"
        );
    }
}
