//! The two small-display layouts: a 320×240 colour panel and a 128×64 monochrome one. Each
//! draws the question with the button legend, the follow-up's reasons (`follow_up`), the
//! thank-you (with its notice, if any), or out of service, and a status mark for staff when
//! the terminal is offline or answers wait to be synced.

use embedded_graphics::mono_font::MonoFont;
use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::mono_font::iso_8859_1::{FONT_4X6, FONT_6X10, FONT_9X15_BOLD, FONT_10X20};
use embedded_graphics::pixelcolor::{Rgb888, RgbColor};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{
    Arc, Circle, Line, PrimitiveStyle, Rectangle, RoundedRectangle,
};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};

use super::{Canvas, View};
use crate::kiosk::Screen;
use crate::survey::Scale;
use crate::theme::{Rgb, Theme};
use crate::wording::of as texts;

const PAPER: Rgb888 = Rgb888::new(0xf7, 0xf5, 0xf0);
pub(super) const INK: Rgb888 = Rgb888::new(0x1f, 0x23, 0x28);
pub(super) const MUTED: Rgb888 = Rgb888::new(0x5c, 0x63, 0x6b);
const GOOD: Rgb888 = Rgb888::new(0x2e, 0x7d, 0x32);
const WARN: Rgb888 = Rgb888::new(0xb3, 0x26, 0x1e);

pub(super) fn rgb(Rgb(r, g, b): Rgb) -> Rgb888 {
    Rgb888::new(r, g, b)
}

/// Draws on the canvas; drawing on memory cannot fail.
pub(super) fn draw(d: impl Drawable<Color = Rgb888>, canvas: &mut Canvas) {
    let _ = d.draw(canvas);
}

/// Writes `lines` centred on `x`, the first line's top at `top`.
pub(super) fn centred(
    canvas: &mut Canvas,
    lines: &[String],
    font: &MonoFont,
    ink: Rgb888,
    x: i32,
    top: i32,
) {
    let style = MonoTextStyle::new(font, ink);
    let layout = TextStyleBuilder::new()
        .alignment(Alignment::Center)
        .baseline(Baseline::Top)
        .build();
    let step = font.character_size.height as i32 + 2;
    for (i, line) in lines.iter().enumerate() {
        draw(
            Text::with_text_style(line, Point::new(x, top + step * i as i32), style, layout),
            canvas,
        );
    }
}

/// Breaks `text` into lines of at most `width` characters, at most `max` of them; a text
/// that does not fit ends in "...".
pub(super) fn wrap(text: &str, width: usize, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            // A word longer than a line is cut where the line ends.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(head);
        }
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max {
        lines.truncate(max);
        let last = &mut lines[max - 1];
        let keep = width.saturating_sub(3).min(last.chars().count());
        *last = last.chars().take(keep).collect::<String>() + "...";
    }
    lines
}

/// The status mark's text, empty when all is synced.
fn sync_text(view: &View) -> String {
    let t = texts(&view.language);
    match (view.sync.offline, view.sync.waiting) {
        (false, 0) => String::new(),
        (false, n) => format!("{n} {}", t.waiting),
        (true, 0) => t.offline.to_owned(),
        (true, n) => format!("{} - {n} {}", t.offline, t.waiting),
    }
}

/// A face for `mood` from -1 (frown) to 1 (smile), in a circle of `diameter` at `top_left`.
fn face(canvas: &mut Canvas, top_left: Point, diameter: u32, mood: f32, ink: Rgb888) {
    let stroke = PrimitiveStyle::with_stroke(ink, (diameter / 12).max(1));
    let d = diameter as i32;
    draw(Circle::new(top_left, diameter).into_styled(stroke), canvas);
    let eye = (diameter / 8).max(2);
    for ex in [d * 3 / 10, d * 6 / 10] {
        draw(
            Circle::new(top_left + Point::new(ex, d * 3 / 10), eye)
                .into_styled(PrimitiveStyle::with_fill(ink)),
            canvas,
        );
    }
    let mouth = (diameter / 2).max(4);
    let m = mouth as i32;
    if mood > 0.25 {
        // A smile: the lower part of a circle centred on the face.
        let at = top_left + Point::new((d - m) / 2, d / 2 - m / 2 + d / 10);
        draw(
            Arc::new(at, mouth, 20.0.deg(), 140.0.deg()).into_styled(stroke),
            canvas,
        );
    } else if mood < -0.25 {
        let at = top_left + Point::new((d - m) / 2, d * 3 / 4 - m / 4);
        draw(
            Arc::new(at, mouth, 200.0.deg(), 140.0.deg()).into_styled(stroke),
            canvas,
        );
    } else {
        let y = d * 7 / 10;
        draw(
            Line::new(
                top_left + Point::new(d * 3 / 10, y),
                top_left + Point::new(d * 7 / 10, y),
            )
            .into_styled(stroke),
            canvas,
        );
    }
}

/// 320×240 colour: question above, one tile per button below, status mark top right.
pub(super) fn colour(canvas: &mut Canvas, view: &View) {
    let (w, h) = (canvas.width() as i32, canvas.height() as i32);
    draw(
        Rectangle::new(Point::zero(), canvas.size()).into_styled(PrimitiveStyle::with_fill(PAPER)),
        canvas,
    );
    let t = texts(&view.language);
    match view.screen {
        Screen::FollowUp if !view.reasons.is_empty() => super::follow_up::colour(canvas, view),
        Screen::Question | Screen::FollowUp => {
            let lines = wrap(&view.question, 30, 4);
            centred(canvas, &lines, &FONT_10X20, INK, w / 2, 24);
            let n = view.legend.len().max(1) as i32;
            let gap = 8;
            let tile_w = (w - gap * (n + 1)) / n;
            let (tile_h, top) = (64, h - 64 - 14);
            // The ends of a numbered scale, above its tiles.
            let anchors = match view.scale {
                Scale::Ces7 => Some(t.agree),
                Scale::Ces5 => Some(t.ease),
                Scale::Smiley3 | Scale::Smiley5 => None,
            };
            if let Some((low, high)) = anchors {
                let style = MonoTextStyle::new(&FONT_6X10, MUTED);
                let y = top - 14;
                for (text, x, align) in [
                    (low, gap, Alignment::Left),
                    (high, w - gap, Alignment::Right),
                ] {
                    let layout = TextStyleBuilder::new()
                        .alignment(align)
                        .baseline(Baseline::Top)
                        .build();
                    draw(
                        Text::with_text_style(text, Point::new(x, y), style, layout),
                        canvas,
                    );
                }
            }
            for (i, &(button, score)) in view.legend.iter().enumerate() {
                let x = gap + i as i32 * (tile_w + gap);
                let (back, ink) = Theme::NORMAL.score_colours(view.scale, score);
                let tile = Rectangle::new(Point::new(x, top), Size::new(tile_w as u32, tile_h));
                draw(
                    RoundedRectangle::with_equal_corners(tile, Size::new(8, 8))
                        .into_styled(PrimitiveStyle::with_fill(rgb(back))),
                    canvas,
                );
                let cx = x + tile_w / 2;
                if view.scale.uses_faces() {
                    let d = (tile_w - 12).clamp(16, 44) as u32;
                    let at = Point::new(cx - d as i32 / 2, top + (tile_h as i32 - d as i32) / 2);
                    face(canvas, at, d, view.scale.mood(score), rgb(ink));
                } else {
                    centred(
                        canvas,
                        &[score.to_string()],
                        &FONT_10X20,
                        rgb(ink),
                        cx,
                        top + 22,
                    );
                }
                // The button's number under its tile, as printed on the box.
                centred(
                    canvas,
                    &[button.to_string()],
                    &FONT_6X10,
                    MUTED,
                    cx,
                    top + tile_h as i32 + 2,
                );
            }
        }
        Screen::Thanks => {
            let d = 72;
            draw(
                Circle::new(Point::new(w / 2 - d / 2, 40), d as u32)
                    .into_styled(PrimitiveStyle::with_fill(GOOD)),
                canvas,
            );
            let tick = PrimitiveStyle::with_stroke(Rgb888::WHITE, 7);
            let (x0, y0) = (w / 2 - d / 2, 40);
            draw(
                Line::new(Point::new(x0 + 20, y0 + 38), Point::new(x0 + 32, y0 + 50))
                    .into_styled(tick),
                canvas,
            );
            draw(
                Line::new(Point::new(x0 + 32, y0 + 50), Point::new(x0 + 54, y0 + 24))
                    .into_styled(tick),
                canvas,
            );
            match &view.notice {
                // The notice in the room the "saved" line and the space below it leave.
                Some(notice) => {
                    centred(canvas, &[t.thanks.to_owned()], &FONT_10X20, INK, w / 2, 122);
                    centred(canvas, &wrap(notice, 50, 6), &FONT_6X10, INK, w / 2, 152);
                }
                None => {
                    centred(canvas, &[t.thanks.to_owned()], &FONT_10X20, INK, w / 2, 132);
                    centred(canvas, &wrap(t.saved, 40, 2), &FONT_6X10, MUTED, w / 2, 164);
                }
            }
        }
        Screen::OutOfService => {
            centred(
                canvas,
                &[t.out_of_service.to_owned()],
                &FONT_10X20,
                WARN,
                w / 2,
                88,
            );
            centred(
                canvas,
                &wrap(t.tell_staff, 40, 2),
                &FONT_6X10,
                MUTED,
                w / 2,
                120,
            );
        }
    }
    let mark = sync_text(view);
    if !mark.is_empty() {
        let width = (mark.chars().count() * 6 + 10) as u32;
        let at = Point::new(w - width as i32 - 4, 4);
        let back = if view.sync.offline { WARN } else { MUTED };
        draw(
            RoundedRectangle::with_equal_corners(
                Rectangle::new(at, Size::new(width, 14)),
                Size::new(4, 4),
            )
            .into_styled(PrimitiveStyle::with_fill(back)),
            canvas,
        );
        centred(
            canvas,
            &[mark],
            &FONT_6X10,
            Rgb888::WHITE,
            at.x + width as i32 / 2,
            6,
        );
    }
}

/// 128×64 monochrome: white on black; question on three lines, the legend, status below.
pub(super) fn mono(canvas: &mut Canvas, view: &View) {
    let (w, h) = (canvas.width() as i32, canvas.height() as i32);
    let on = Rgb888::WHITE;
    draw(
        Rectangle::new(Point::zero(), canvas.size())
            .into_styled(PrimitiveStyle::with_fill(Rgb888::BLACK)),
        canvas,
    );
    let t = texts(&view.language);
    match view.screen {
        Screen::FollowUp if !view.reasons.is_empty() => super::follow_up::mono(canvas, view),
        Screen::Question | Screen::FollowUp => {
            centred(
                canvas,
                &wrap(&view.question, 21, 3),
                &FONT_6X10,
                on,
                w / 2,
                0,
            );
            let n = view.legend.len().max(1) as i32;
            let tile_w = (w - 2 * (n + 1)) / n;
            let top = 38;
            for (i, &(_, score)) in view.legend.iter().enumerate() {
                let x = 2 + i as i32 * (tile_w + 2);
                let cx = x + tile_w / 2;
                draw(
                    Rectangle::new(Point::new(x, top), Size::new(tile_w as u32, 16))
                        .into_styled(PrimitiveStyle::with_stroke(on, 1)),
                    canvas,
                );
                if view.scale.uses_faces() {
                    face(
                        canvas,
                        Point::new(cx - 6, top + 2),
                        12,
                        view.scale.mood(score),
                        on,
                    );
                } else {
                    centred(canvas, &[score.to_string()], &FONT_6X10, on, cx, top + 3);
                }
            }
        }
        Screen::Thanks => {
            centred(
                canvas,
                &[t.thanks.to_owned()],
                &FONT_9X15_BOLD,
                on,
                w / 2,
                8,
            );
            match &view.notice {
                // 32 characters a line in the smallest font: a notice fits in 6 lines.
                Some(notice) => centred(canvas, &wrap(notice, 32, 6), &FONT_4X6, on, w / 2, 27),
                None => centred(canvas, &wrap(t.saved, 21, 2), &FONT_6X10, on, w / 2, 28),
            }
        }
        Screen::OutOfService => {
            centred(
                canvas,
                &[t.out_of_service.to_owned()],
                &FONT_6X10,
                on,
                w / 2,
                8,
            );
            centred(
                canvas,
                &wrap(t.tell_staff, 21, 2),
                &FONT_6X10,
                on,
                w / 2,
                24,
            );
        }
    }
    let mark = sync_text(view);
    if !mark.is_empty() {
        centred(canvas, &[mark], &FONT_4X6, on, w / 2, h - 7);
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_marks_a_cut() {
        assert_eq!(wrap("How easy was it?", 9, 3), ["How easy", "was it?"]);
        assert_eq!(wrap("aaaa bbbb cccc dddd", 9, 1), ["aaaa b..."]);
        assert_eq!(wrap("abcdefghijk", 5, 3), ["abcde", "fghij", "k"]);
        assert!(wrap("", 5, 3).is_empty());
    }
}
