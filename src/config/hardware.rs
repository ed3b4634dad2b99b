//! The terminal's hardware sections: `[display]` (touch UI, a small framebuffer panel, PNG
//! files, or no screen) and `[[button_box]]` (USB-serial button boxes and which button means
//! which score).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{Checker, ConfigError};
use crate::survey::Survey;

/// A small-display layout; the panel must be at least this large.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// 320×240 colour (SPI TFTs such as ILI9341 panels, small HDMI screens).
    Colour320x240,
    /// 128×64 monochrome (SSD1306/SH1106 OLEDs).
    Mono128x64,
}

impl Layout {
    pub const NAMES: [&str; 2] = ["colour-320x240", "mono-128x64"];

    pub fn from_name(name: &str) -> Option<Layout> {
        match name {
            "colour-320x240" => Some(Layout::Colour320x240),
            "mono-128x64" => Some(Layout::Mono128x64),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Layout::Colour320x240 => Layout::NAMES[0],
            Layout::Mono128x64 => Layout::NAMES[1],
        }
    }

    pub fn size(self) -> (u32, u32) {
        match self {
            Layout::Colour320x240 => (320, 240),
            Layout::Mono128x64 => (128, 64),
        }
    }
}

/// The most buttons a box has: the highest button number the button protocol carries.
pub const MAX_BUTTON: u8 = 9;

/// Where the terminal shows its screens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Display {
    /// The Slint touch UI, full screen. `width_mm` is the panel's visible width, from which
    /// the screens size every visitor target to at least [`MIN_TARGET_MM`].
    Touch { width_mm: Option<u16> },
    /// A small panel drawn with embedded-graphics on a Linux framebuffer (`/dev/fbN`).
    Framebuffer { device: PathBuf, layout: Layout },
    /// The small-panel screens written to a PNG file whenever they change (to try a layout
    /// without a panel).
    Png { path: PathBuf, layout: Layout },
    /// No screen: a button box alone, its lights the only feedback.
    None,
}

impl Display {
    /// Whether visitors answer on the screen itself.
    pub fn is_touch(&self) -> bool {
        matches!(self, Display::Touch { .. })
    }
}

impl std::fmt::Display for Display {
    /// What staff read on the status screen and in `ces-kiosk config`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Display::Touch { width_mm: None } => f.write_str("touch screen"),
            Display::Touch {
                width_mm: Some(width),
            } => write!(f, "touch screen, {width} mm wide"),
            Display::Framebuffer { device, layout } => {
                write!(f, "{} display on {}", layout.name(), device.display())
            }
            Display::Png { path, layout } => {
                write!(f, "{} display drawn to {}", layout.name(), path.display())
            }
            Display::None => f.write_str("no display"),
        }
    }
}

/// The smallest a visitor target may be on the panel, across and down (EN 301 549 and the
/// usual guidance for public touchscreens ask for about this much).
pub const MIN_TARGET_MM: u16 = 20;

/// The panel widths `[display] width_mm` accepts: from a 2.8-inch panel to a 90-inch one.
pub const PANEL_WIDTH_MM: std::ops::RangeInclusive<u16> = 50..=2000;

/// One USB-serial button box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ButtonBox {
    /// The serial device, best its stable `/dev/serial/by-id/…` name.
    pub path: PathBuf,
    pub baud: u32,
    /// The score of each button: `scores[0]` for button 1, and so on.
    pub scores: Vec<u8>,
    /// The button, after the scored ones, that turns speech on (a tactile way in for a
    /// visitor who cannot see the screen).
    pub listen: Option<u8>,
}

impl ButtonBox {
    pub const DEFAULT_BAUD: u32 = 115_200;

    /// The score of button `button` (1-based), if the box has it.
    pub fn score(&self, button: u8) -> Option<u8> {
        self.scores
            .get(usize::from(button).checked_sub(1)?)
            .copied()
    }
}

const BAUDS: [u32; 8] = [
    9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600,
];

/// The most boxes one terminal reads.
const MAX_BOXES: usize = 8;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDisplay {
    kind: Spanned<String>,
    device: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    layout: Option<Spanned<String>>,
    width_mm: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawButtonBox {
    path: Spanned<String>,
    baud: Option<Spanned<i64>>,
    scores: Spanned<Vec<i64>>,
    listen_button: Option<Spanned<i64>>,
}

impl RawDisplay {
    pub(super) fn kind_span(&self) -> std::ops::Range<usize> {
        self.kind.span()
    }
}

impl Checker<'_> {
    pub(super) fn display(
        &self,
        raw: Option<RawDisplay>,
        base: &Path,
    ) -> Result<Display, ConfigError> {
        let Some(raw) = raw else {
            return Ok(Display::Touch { width_mm: None });
        };
        let layout = |key: &str| -> Result<Layout, ConfigError> {
            let Some(l) = &raw.layout else {
                return Err(self.err(
                    raw.kind.span(),
                    "display.layout",
                    format!(
                        "a {key} display needs a layout: {}",
                        Layout::NAMES.join(" or ")
                    ),
                ));
            };
            Layout::from_name(l.get_ref()).ok_or_else(|| {
                self.err(
                    l.span(),
                    "display.layout",
                    format!(
                        "{:?} is not a layout; use {}",
                        l.get_ref(),
                        Layout::NAMES.join(" or ")
                    ),
                )
            })
        };
        let file = |v: &Option<Spanned<String>>, key: &str| -> Result<PathBuf, ConfigError> {
            match v {
                Some(p) if !p.get_ref().trim().is_empty() => Ok(base.join(p.get_ref())),
                Some(p) => Err(self.err(p.span(), key, "must not be empty")),
                None => Err(self.err(raw.kind.span(), key, "is needed for this kind")),
            }
        };
        let unused = |v: &Option<Spanned<String>>, key: &str| match v {
            Some(v) => Err(self.err(
                v.span(),
                key,
                format!("is not used by a {:?} display", raw.kind.get_ref()),
            )),
            None => Ok(()),
        };
        match raw.kind.get_ref().as_str() {
            "touch" => {
                unused(&raw.device, "display.device")?;
                unused(&raw.path, "display.path")?;
                unused(&raw.layout, "display.layout")?;
                Ok(Display::Touch {
                    width_mm: self.panel_width(&raw.width_mm)?,
                })
            }
            kind @ ("framebuffer" | "png" | "none") if raw.width_mm.is_some() => Err(self.err(
                raw.width_mm.as_ref().map_or(0..0, |w| w.span()),
                "display.width_mm",
                format!("is for a touch display, not a {kind:?} one"),
            )),
            "framebuffer" => {
                unused(&raw.path, "display.path")?;
                Ok(Display::Framebuffer {
                    device: file(&raw.device, "display.device")?,
                    layout: layout("framebuffer")?,
                })
            }
            "png" => {
                unused(&raw.device, "display.device")?;
                Ok(Display::Png {
                    path: file(&raw.path, "display.path")?,
                    layout: layout("png")?,
                })
            }
            "none" => {
                unused(&raw.device, "display.device")?;
                unused(&raw.path, "display.path")?;
                unused(&raw.layout, "display.layout")?;
                Ok(Display::None)
            }
            other => Err(self.err(
                raw.kind.span(),
                "display.kind",
                format!("{other:?} is not a display kind; use touch, framebuffer, png or none"),
            )),
        }
    }

    /// `width_mm`: the touch panel's visible width in millimetres, when given.
    fn panel_width(&self, raw: &Option<Spanned<i64>>) -> Result<Option<u16>, ConfigError> {
        let Some(w) = raw else { return Ok(None) };
        u16::try_from(*w.get_ref())
            .ok()
            .filter(|w| PANEL_WIDTH_MM.contains(w))
            .map(Some)
            .ok_or_else(|| {
                self.err(
                    w.span(),
                    "display.width_mm",
                    format!(
                        "{} is not a panel width; give the visible width of the screen in \
                         millimetres ({} to {})",
                        w.get_ref(),
                        PANEL_WIDTH_MM.start(),
                        PANEL_WIDTH_MM.end()
                    ),
                )
            })
    }

    pub(super) fn button_boxes(
        &self,
        raw: Vec<Spanned<RawButtonBox>>,
        survey: &Survey,
        base: &Path,
    ) -> Result<Vec<ButtonBox>, ConfigError> {
        if raw.len() > MAX_BOXES {
            return Err(self.err(
                raw[MAX_BOXES].span(),
                "button_box",
                format!("at most {MAX_BOXES} button boxes per terminal"),
            ));
        }
        let mut boxes: Vec<ButtonBox> = vec![];
        for (i, spanned) in raw.iter().enumerate() {
            let key = |k: &str| format!("button_box[{i}].{k}");
            let b = spanned.get_ref();
            if b.path.get_ref().trim().is_empty() {
                return Err(self.err(b.path.span(), &key("path"), "must not be empty"));
            }
            let path = base.join(b.path.get_ref());
            if boxes.iter().any(|other| other.path == path) {
                return Err(self.err(
                    b.path.span(),
                    &key("path"),
                    format!("{} is named by two button boxes", path.display()),
                ));
            }
            let baud = match &b.baud {
                None => ButtonBox::DEFAULT_BAUD,
                Some(v) => u32::try_from(*v.get_ref())
                    .ok()
                    .filter(|b| BAUDS.contains(b))
                    .ok_or_else(|| {
                        self.err(
                            v.span(),
                            &key("baud"),
                            format!(
                                "{} is not a serial speed; use one of {BAUDS:?}",
                                v.get_ref()
                            ),
                        )
                    })?,
            };
            let list = b.scores.get_ref();
            let max_buttons = usize::from(MAX_BUTTON);
            if list.is_empty() || list.len() > max_buttons {
                return Err(self.err(
                    b.scores.span(),
                    &key("scores"),
                    format!("give the score of each button, 1 to {max_buttons} buttons"),
                ));
            }
            let mut scores = vec![];
            for &s in list {
                match u8::try_from(s) {
                    Ok(s) if survey.scale.contains(s) => scores.push(s),
                    _ => {
                        return Err(self.err(
                            b.scores.span(),
                            &key("scores"),
                            format!(
                                "score {s} is outside the {} scale (1 to {})",
                                survey.scale.as_str(),
                                survey.scale.max()
                            ),
                        ));
                    }
                }
            }
            let listen = match &b.listen_button {
                None => None,
                Some(v) => {
                    let first = scores.len() + 1;
                    let n = usize::try_from(*v.get_ref()).unwrap_or(0);
                    if !(first..=max_buttons).contains(&n) {
                        return Err(self.err(
                            v.span(),
                            &key("listen_button"),
                            format!(
                                "button {} cannot turn speech on: use a button after the \
                                 scored ones, {first} to {max_buttons}",
                                v.get_ref()
                            ),
                        ));
                    }
                    u8::try_from(n).ok()
                }
            };
            boxes.push(ButtonBox {
                path,
                baud,
                scores,
                listen,
            });
        }
        Ok(boxes)
    }
}
