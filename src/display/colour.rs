//! Colours of the answer targets, shared by the touch UI and the small displays: red for
//! difficult through green for easy. Colour is never the only cue (numbers or faces carry
//! the meaning); the ink is chosen for contrast.

use crate::survey::Scale;

/// A colour as red, green, blue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// Seven steps from difficult to easy; shorter scales pick from them.
const STEPS: [Rgb; 7] = [
    Rgb(0xb3, 0x26, 0x1e),
    Rgb(0xd9, 0x5b, 0x3c),
    Rgb(0xef, 0x9a, 0x3f),
    Rgb(0xd9, 0xd3, 0xc4),
    Rgb(0x9c, 0xc4, 0x6a),
    Rgb(0x5f, 0xa3, 0x5a),
    Rgb(0x2e, 0x7d, 0x32),
];

pub const DARK_INK: Rgb = Rgb(0x1f, 0x23, 0x28);
pub const LIGHT_INK: Rgb = Rgb(0xff, 0xff, 0xff);

/// Background and ink of the target for `score` on `scale`.
pub fn score_colours(scale: Scale, score: u8) -> (Rgb, Rgb) {
    let picks: &[usize] = match scale {
        Scale::Ces7 => &[0, 1, 2, 3, 4, 5, 6],
        Scale::Ces5 | Scale::Smiley5 => &[0, 2, 3, 4, 6],
        Scale::Smiley3 => &[0, 3, 6],
    };
    let i = usize::from(score.clamp(1, scale.max()) - 1);
    let back = STEPS[picks[i]];
    // Relative luminance, roughly: light backgrounds get dark ink.
    let Rgb(r, g, b) = back;
    let luminance = 0.2126 * f32::from(r) + 0.7152 * f32::from(g) + 0.0722 * f32::from(b);
    let ink = if luminance > 150.0 {
        DARK_INK
    } else {
        LIGHT_INK
    };
    (back, ink)
}
