//! The brand's logo on the touch screen: decoded on a thread of its own (a PNG to pixels, an
//! SVG drawn by resvg) whenever the survey's logo changes, and shown through the event loop,
//! so that the UI thread never waits for it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use slint::{ComponentHandle, Image, Rgba8Pixel, SharedPixelBuffer};

use super::generated::{KioskAdapter, MainWindow};
use super::{Inner, KioskUi};
use crate::logo::{Logo, LogoFormat};

/// How tall an SVG logo is drawn: as tall as the screens show a logo at 1920×1080, so
/// that it is only ever scaled down.
pub const SVG_HEIGHT: f32 = 192.0;
/// And at most this wide.
const SVG_MAX_WIDTH: f32 = 1024.0;

/// A logo's pixels, ready for an `Image` (which cannot leave the UI thread).
struct Pixels {
    buffer: SharedPixelBuffer<Rgba8Pixel>,
    premultiplied: bool,
}

/// The logo shown, and the decoder's results on their way back.
pub(super) struct Logos {
    shown: RefCell<Option<Logo>>,
    /// Counts the logos asked for; a result for an older one is dropped.
    asked: Cell<u64>,
    tx: mpsc::Sender<(u64, Result<Pixels, String>)>,
    rx: mpsc::Receiver<(u64, Result<Pixels, String>)>,
}

impl Default for Logos {
    fn default() -> Logos {
        let (tx, rx) = mpsc::channel();
        Logos {
            shown: RefCell::default(),
            asked: Cell::new(0),
            tx,
            rx,
        }
    }
}

impl KioskUi {
    /// For drivers without an event loop (headless tests): waits up to `timeout` for the
    /// logo being decoded and shows it. False on timeout.
    pub fn wait_for_logo(&self, timeout: Duration) -> bool {
        match self.inner.logos.rx.recv_timeout(timeout) {
            Ok(decoded) => {
                self.inner.logo_decoded(decoded);
                true
            }
            Err(_) => false,
        }
    }
}

impl Inner {
    pub(super) fn bind_logo(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        self.window
            .global::<KioskAdapter>()
            .on_logo_decoded(move || {
                if let Some(inner) = weak.upgrade() {
                    while let Ok(decoded) = inner.logos.rx.try_recv() {
                        inner.logo_decoded(decoded);
                    }
                }
            });
    }

    /// Shows `logo` (none: takes the shown one away) once a thread has decoded it.
    pub(super) fn show_logo(&self, logo: Option<&Logo>) {
        if self.logos.shown.borrow().as_ref() == logo {
            return;
        }
        *self.logos.shown.borrow_mut() = logo.cloned();
        let asked = self.logos.asked.get() + 1;
        self.logos.asked.set(asked);
        let adapter = self.window.global::<KioskAdapter>();
        adapter.set_logo(Image::default());
        let Some(logo) = logo.cloned() else { return };
        let tx = self.logos.tx.clone();
        let wake = self.window.as_weak();
        let spawned = std::thread::Builder::new()
            .name("logo".into())
            .spawn(move || {
                let pixels = decode(&logo);
                if tx.send((asked, pixels)).is_ok() {
                    // Without a running event loop (headless tests) this fails, and the
                    // result waits for `wait_for_logo`.
                    let _ = wake.upgrade_in_event_loop(|w: MainWindow| {
                        w.global::<KioskAdapter>().invoke_logo_decoded();
                    });
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start decoding the logo; the screens go without");
        }
    }

    fn logo_decoded(&self, (asked, pixels): (u64, Result<Pixels, String>)) {
        if asked != self.logos.asked.get() {
            return;
        }
        match pixels {
            Ok(p) => {
                let image = if p.premultiplied {
                    Image::from_rgba8_premultiplied(p.buffer)
                } else {
                    Image::from_rgba8(p.buffer)
                };
                self.window.global::<KioskAdapter>().set_logo(image);
            }
            Err(why) => {
                tracing::warn!(
                    why,
                    "the brand's logo cannot be shown; the screens go without"
                );
            }
        }
    }
}

/// Decodes a checked logo: a PNG as it is, an SVG drawn [`SVG_HEIGHT`] tall.
fn decode(logo: &Logo) -> Result<Pixels, String> {
    match logo.format {
        LogoFormat::Png => {
            let rgba = crate::logo::decode_png(&logo.bytes)?;
            Ok(Pixels {
                buffer: SharedPixelBuffer::clone_from_slice(&rgba.pixels, rgba.width, rgba.height),
                premultiplied: false,
            })
        }
        LogoFormat::Svg => {
            let tree = resvg::usvg::Tree::from_data(&logo.bytes, &crate::logo::svg_options())
                .map_err(|e| format!("the SVG cannot be read: {e}"))?;
            let size = tree.size();
            let scale = (SVG_HEIGHT / size.height()).min(SVG_MAX_WIDTH / size.width());
            let (w, h) = (
                (size.width() * scale).ceil() as u32,
                (size.height() * scale).ceil() as u32,
            );
            let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)
                .ok_or_else(|| format!("cannot draw the SVG at {w} × {h}"))?;
            resvg::render(
                &tree,
                resvg::tiny_skia::Transform::from_scale(scale, scale),
                &mut pixmap.as_mut(),
            );
            Ok(Pixels {
                buffer: SharedPixelBuffer::clone_from_slice(pixmap.data(), w, h),
                premultiplied: true,
            })
        }
    }
}
