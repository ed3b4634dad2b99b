//! The follow-up question on a small display: "what made it hard?" and the reasons, each
//! against the number of the button that chooses it, and how to answer (or not).

use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::mono_font::iso_8859_1::{FONT_4X6, FONT_6X10, FONT_9X15, FONT_10X20};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle, RoundedRectangle};
use embedded_graphics::text::{Baseline, Text};

use super::layout::{INK, MUTED, centred, draw, rgb, wrap};
use super::{Canvas, View};
use crate::theme::Theme;
use crate::wording::of as texts;

/// 320×240 colour: the title, one row a reason with its button's number in a badge of the
/// answer targets' colour, the hint at the bottom.
pub(super) fn colour(canvas: &mut Canvas, view: &View) {
    let w = canvas.width() as i32;
    let t = texts(&view.language);
    centred(
        canvas,
        &wrap(t.what_made_it_hard, 30, 1),
        &FONT_10X20,
        INK,
        w / 2,
        12,
    );
    let (top, bottom) = (42, 240 - 22);
    let n = view.reasons.len().max(1) as i32;
    let row = ((bottom - top) / n).min(30);
    let badge = (row - 4).min(24);
    let (back, ink) = (rgb(Theme::NORMAL.accent), rgb(Theme::NORMAL.accent_text));
    for (i, (button, text)) in view.reasons.iter().enumerate() {
        let y = top + i as i32 * row;
        let b = Rectangle::new(Point::new(12, y), Size::new(badge as u32, badge as u32));
        draw(
            RoundedRectangle::with_equal_corners(b, Size::new(5, 5))
                .into_styled(PrimitiveStyle::with_fill(back)),
            canvas,
        );
        centred(
            canvas,
            &[button.to_string()],
            &FONT_9X15,
            ink,
            12 + badge / 2,
            y + (badge - 15) / 2,
        );
        let line = wrap(text, 29, 1).pop().unwrap_or_default();
        draw(
            Text::with_baseline(
                &line,
                Point::new(12 + badge + 10, y + (badge - 15) / 2),
                MonoTextStyle::new(&FONT_9X15, INK),
                Baseline::Top,
            ),
            canvas,
        );
    }
    centred(
        canvas,
        &wrap(t.press_a_reason, 50, 1),
        &FONT_6X10,
        MUTED,
        w / 2,
        bottom + 6,
    );
}

/// 128×64 monochrome: the title, then "N reason" a line (a smaller font past five).
pub(super) fn mono(canvas: &mut Canvas, view: &View) {
    let w = canvas.width() as i32;
    let on = Rgb888::WHITE;
    let t = texts(&view.language);
    centred(
        canvas,
        &wrap(t.what_made_it_hard, 21, 1),
        &FONT_6X10,
        on,
        w / 2,
        0,
    );
    let (font, width, step) = if view.reasons.len() <= 5 {
        (&FONT_6X10, 21, 10)
    } else {
        (&FONT_4X6, 32, 7)
    };
    for (i, (button, text)) in view.reasons.iter().enumerate() {
        let line = format!("{button} {text}");
        let line = wrap(&line, width, 1).pop().unwrap_or_default();
        draw(
            Text::with_baseline(
                &line,
                Point::new(1, 12 + i as i32 * step),
                MonoTextStyle::new(font, on),
                Baseline::Top,
            ),
            canvas,
        );
    }
}
