//! The visitor screens' colours (from [`crate::theme`], shared with the small displays) as
//! Slint colours: the theme into the `Theme` global, and the answer targets' colours.

use slint::{Color, ComponentHandle};

use super::generated::{MainWindow, Theme as SlintTheme};
use crate::kiosk::Look;
use crate::survey::Scale;
use crate::theme::{Rgb, Theme};

/// How much larger the visitor's text is with larger text on.
pub const LARGE_TEXT: f32 = 1.3;

fn slint(Rgb(r, g, b): Rgb) -> Color {
    Color::from_rgb_u8(r, g, b)
}

/// The theme of a look.
pub fn theme(look: Look) -> &'static Theme {
    if look.high_contrast {
        &Theme::HIGH_CONTRAST
    } else {
        &Theme::NORMAL
    }
}

/// Sets the window's colours and text size to `look`, in the brand's `accent` if the survey
/// has one (checked with its config; high contrast keeps its own).
pub fn show(window: &MainWindow, look: Look, accent: Option<Rgb>) {
    let branded = accent
        .filter(|_| !look.high_contrast)
        .and_then(|a| Theme::branded(a).ok());
    let t = branded.as_ref().unwrap_or(theme(look));
    let g = window.global::<SlintTheme>();
    g.set_branded(branded.is_some());
    g.set_paper(slint(t.paper));
    g.set_text(slint(t.text));
    g.set_muted(slint(t.muted));
    g.set_accent(slint(t.accent));
    g.set_accent_text(slint(t.accent_text));
    g.set_chip(slint(t.chip));
    g.set_chip_text(slint(t.chip_text));
    g.set_chip_border(slint(t.chip_border));
    g.set_good(slint(t.good));
    g.set_text_scale(if look.large_text { LARGE_TEXT } else { 1.0 });
}

/// Background and ink of the target for `score` on `scale`.
pub fn colours(look: Look, scale: Scale, score: u8) -> (Color, Color) {
    let (back, ink) = theme(look).score_colours(scale, score);
    (slint(back), slint(ink))
}
