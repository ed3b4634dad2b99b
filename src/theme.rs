//! The visitor screens' colours, shared by the touch UI and the small displays: the normal
//! theme and the high-contrast one a visitor can switch to, with the answer targets' colours
//! (difficult red through easy green; colour is never the only cue: numbers or faces carry
//! the meaning) and the contrast ratio (WCAG 2) that each pair of them keeps.

use crate::survey::Scale;

/// A colour as red, green, blue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Relative luminance (WCAG 2): 0 for black, 1 for white.
    pub fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let Rgb(r, g, b) = self;
        0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    }

    /// A colour written `#rrggbb` (either case).
    pub fn parse_hex(text: &str) -> Option<Rgb> {
        let hex = text.strip_prefix('#').filter(|h| h.len() == 6)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Rgb(byte(0)?, byte(2)?, byte(4)?))
    }
}

impl std::fmt::Display for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Rgb(r, g, b) = self;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

/// How far a brand's accent must stand out against the page: a graphic (WCAG 2 non-text
/// contrast).
pub const ACCENT_ON_PAPER: f64 = 3.0;
/// How far the text on a brand's accent must stand out (WCAG 2, normal text).
pub const TEXT_ON_ACCENT: f64 = 4.5;

/// The contrast ratio of two colours (WCAG 2): 1 for equal colours, 21 for black on white.
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The colours of one look of the visitor screens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    /// The page.
    pub paper: Rgb,
    /// Questions and titles.
    pub text: Rgb,
    /// Secondary text: the scale's ends, "your score has been saved".
    pub muted: Rgb,
    /// A chosen chip (the current language).
    pub accent: Rgb,
    /// Text on the accent.
    pub accent_text: Rgb,
    /// Chips: reasons, languages, "skip".
    pub chip: Rgb,
    pub chip_text: Rgb,
    /// A chip's outline, against the page.
    pub chip_border: Rgb,
    /// The thank-you's tick.
    pub good: Rgb,
    /// Seven target colours from difficult to easy; shorter scales pick from them.
    steps: [Rgb; 7],
    /// The two inks a target's number or face may have; each target takes the one that
    /// stands out more.
    inks: [Rgb; 2],
}

const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
const BLACK: Rgb = Rgb(0, 0, 0);
const DARK: Rgb = Rgb(0x1f, 0x23, 0x28);

impl Theme {
    /// The everyday look: every text at least 4.5:1 against what it stands on.
    pub const NORMAL: Theme = Theme {
        paper: Rgb(0xf7, 0xf5, 0xf0),
        text: DARK,
        muted: Rgb(0x5b, 0x64, 0x70),
        accent: Rgb(0x1f, 0x5f, 0xa8),
        accent_text: WHITE,
        chip: Rgb(0xe4, 0xe9, 0xf0),
        chip_text: DARK,
        chip_border: Rgb(0xc5, 0xcc, 0xd6),
        good: Rgb(0x2e, 0x7d, 0x32),
        steps: [
            Rgb(0xb3, 0x26, 0x1e),
            Rgb(0xe4, 0x76, 0x4f),
            Rgb(0xef, 0x9a, 0x3f),
            Rgb(0xd9, 0xd3, 0xc4),
            Rgb(0x9c, 0xc4, 0x6a),
            Rgb(0x5f, 0xa3, 0x5a),
            Rgb(0x2e, 0x7d, 0x32),
        ],
        inks: [DARK, WHITE],
    };

    /// High contrast, one touch away for a visitor who needs it: light on black, every
    /// text and every target at least 7:1 against what it stands on.
    pub const HIGH_CONTRAST: Theme = Theme {
        paper: BLACK,
        text: WHITE,
        muted: Rgb(0xe6, 0xe6, 0xe6),
        accent: Rgb(0xff, 0xff, 0x00),
        accent_text: BLACK,
        chip: BLACK,
        chip_text: WHITE,
        chip_border: WHITE,
        good: Rgb(0x7e, 0xe0, 0x7e),
        steps: [
            Rgb(0xff, 0x9e, 0x94),
            Rgb(0xff, 0xb8, 0x6b),
            Rgb(0xff, 0xd6, 0x8a),
            Rgb(0xe8, 0xe8, 0xe8),
            Rgb(0xc8, 0xf0, 0xa0),
            Rgb(0xa6, 0xe8, 0xa0),
            Rgb(0x7e, 0xe0, 0x7e),
        ],
        inks: [BLACK, BLACK],
    };

    /// The everyday look in a brand's accent colour (high contrast keeps its own), with
    /// the ink that stands out more on it: refused, saying why, when the accent does not
    /// stand out [`ACCENT_ON_PAPER`] against the page or no ink [`TEXT_ON_ACCENT`] on it.
    pub fn branded(accent: Rgb) -> Result<Theme, String> {
        let t = Theme::NORMAL;
        let on_paper = contrast(accent, t.paper);
        if on_paper < ACCENT_ON_PAPER {
            return Err(format!(
                "{accent} stands out {on_paper:.2}:1 against the page ({}); it needs \
                 {ACCENT_ON_PAPER}:1: choose a darker shade",
                t.paper
            ));
        }
        let ink = Theme::better_ink(&t.inks, accent);
        let text = contrast(ink, accent);
        if text < TEXT_ON_ACCENT {
            return Err(format!(
                "text on {accent} stands out {text:.2}:1 at best; it needs \
                 {TEXT_ON_ACCENT}:1: choose a darker or a lighter shade"
            ));
        }
        Ok(Theme {
            accent,
            accent_text: ink,
            ..t
        })
    }

    /// Of two inks, the one that stands out more on `back`.
    fn better_ink([a, b]: &[Rgb; 2], back: Rgb) -> Rgb {
        if contrast(*a, back) >= contrast(*b, back) {
            *a
        } else {
            *b
        }
    }

    /// Background and ink of the target for `score` on `scale`.
    pub fn score_colours(&self, scale: Scale, score: u8) -> (Rgb, Rgb) {
        let picks: &[usize] = match scale {
            Scale::Ces7 => &[0, 1, 2, 3, 4, 5, 6],
            Scale::Ces5 | Scale::Smiley5 => &[0, 2, 3, 4, 6],
            Scale::Smiley3 => &[0, 3, 6],
        };
        let i = usize::from(score.clamp(1, scale.max()) - 1);
        let back = self.steps[picks[i]];
        (back, Theme::better_ink(&self.inks, back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCALES: [Scale; 4] = [Scale::Ces7, Scale::Ces5, Scale::Smiley3, Scale::Smiley5];

    /// Every pair of colours a visitor reads, and what it is called.
    fn pairs(t: &Theme) -> Vec<(String, Rgb, Rgb)> {
        let mut pairs = vec![
            ("text on paper".to_owned(), t.text, t.paper),
            ("muted text on paper".to_owned(), t.muted, t.paper),
            ("chip text on chip".to_owned(), t.chip_text, t.chip),
            ("text on accent".to_owned(), t.accent_text, t.accent),
            ("text on the saving box".to_owned(), t.paper, t.text),
        ];
        for scale in SCALES {
            for score in scale.scores() {
                let (back, ink) = t.score_colours(scale, score);
                pairs.push((format!("{scale:?} {score} ink"), ink, back));
            }
        }
        pairs
    }

    #[test]
    fn the_ratio_of_known_pairs() {
        assert!((contrast(WHITE, BLACK) - 21.0).abs() < 1e-9);
        assert!((contrast(DARK, DARK) - 1.0).abs() < 1e-9);
        // #767676 on white is the classic 4.5:1 grey.
        assert!((contrast(Rgb(0x76, 0x76, 0x76), WHITE) - 4.54).abs() < 0.01);
    }

    #[test]
    fn every_text_of_the_normal_theme_is_at_least_4_5_to_1() {
        for (what, a, b) in pairs(&Theme::NORMAL) {
            let ratio = contrast(a, b);
            assert!(ratio >= 4.5, "{what}: {ratio:.2}:1");
        }
        let t = Theme::NORMAL;
        // Graphics: the tick against the page (WCAG non-text contrast, 3:1).
        assert!(contrast(t.good, t.paper) >= 3.0);
    }

    #[test]
    fn every_text_and_target_of_high_contrast_is_at_least_7_to_1() {
        let t = Theme::HIGH_CONTRAST;
        let mut all = pairs(&t);
        all.push(("chip outline on paper".to_owned(), t.chip_border, t.paper));
        all.push(("accent on paper".to_owned(), t.accent, t.paper));
        all.push(("tick on paper".to_owned(), t.good, t.paper));
        for scale in SCALES {
            for score in scale.scores() {
                let (back, _) = t.score_colours(scale, score);
                all.push((format!("{scale:?} {score} target on paper"), back, t.paper));
            }
        }
        for (what, a, b) in all {
            let ratio = contrast(a, b);
            assert!(ratio >= 7.0, "{what}: {ratio:.2}:1");
        }
    }

    #[test]
    fn a_brand_accent_is_taken_only_when_it_and_its_text_stand_out() {
        assert_eq!(Rgb::parse_hex("#0B5cad"), Some(Rgb(0x0b, 0x5c, 0xad)));
        for bad in ["0b5cad", "#0b5cag", "#0b5ca", "#0b5cad0", "#", ""] {
            assert_eq!(Rgb::parse_hex(bad), None, "{bad}");
        }
        assert_eq!(Rgb(0x0b, 0x5c, 0xad).to_string(), "#0b5cad");
        let t = Theme::branded(Rgb(0x0b, 0x5c, 0xad)).unwrap();
        assert_eq!((t.accent_text, t.paper), (WHITE, Theme::NORMAL.paper));
        for (what, a, b) in pairs(&t) {
            assert!(contrast(a, b) >= 4.5, "{what}");
        }
        assert!(contrast(t.accent, t.paper) >= ACCENT_ON_PAPER);
        // A light yellow vanishes on the page.
        let pale = Theme::branded(Rgb(0xff, 0xee, 0x88)).unwrap_err();
        assert!(
            pale.contains("against the page") && pale.contains("darker"),
            "{pale}"
        );
        // A mid grey stands out from the page, but neither ink reads on it.
        let mid = Rgb(0x80, 0x80, 0x80);
        assert!(contrast(mid, Theme::NORMAL.paper) >= ACCENT_ON_PAPER);
        let err = Theme::branded(mid).unwrap_err();
        assert!(err.contains("text on #808080"), "{err}");
    }
}
