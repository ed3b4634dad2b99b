//! The answer targets' colours (from `display::colour`, shared with the small displays) as
//! Slint colours.

use slint::Color;

use crate::display::colour::{Rgb, score_colours};
use crate::survey::Scale;

/// Background and ink of the target for `score` on `scale`.
pub fn colours(scale: Scale, score: u8) -> (Color, Color) {
    let slint = |Rgb(r, g, b)| Color::from_rgb_u8(r, g, b);
    let (back, ink) = score_colours(scale, score);
    (slint(back), slint(ink))
}
