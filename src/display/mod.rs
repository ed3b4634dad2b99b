//! Small displays of button terminals, drawn with embedded-graphics: what a screen shows
//! ([`View`]), the two layouts (`layout`: a 320×240 colour panel and a 128×64 monochrome
//! one), and where the pixels go: a Linux framebuffer (`framebuffer`) or a PNG file
//! (`canvas`). The touch UI does not use this module; both take their colours from
//! `crate::theme`.

pub mod canvas;
mod follow_up;
pub mod framebuffer;
mod layout;

use std::path::Path;

use crate::kiosk::Screen;
use crate::survey::Scale;

pub use crate::config::Layout;
pub use canvas::Canvas;

/// Draws `view` on a new canvas of `layout`'s size.
pub fn render(layout: Layout, view: &View) -> Canvas {
    let (w, h) = layout.size();
    let mut canvas = Canvas::new(w, h);
    match layout {
        Layout::Colour320x240 => layout::colour(&mut canvas, view),
        Layout::Mono128x64 => layout::mono(&mut canvas, view),
    }
    canvas
}

/// Everything a small display shows at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub screen: Screen,
    pub language: String,
    pub question: String,
    pub scale: Scale,
    /// Each button and the score it gives, in button order.
    pub legend: Vec<(u8, u8)>,
    pub sync: SyncMark,
    /// "You said, we did" under the thank-you, in the visitor's language.
    pub notice: Option<String>,
    /// The follow-up's reasons in the visitor's language, each with the button that
    /// chooses it (shown on the follow-up screen).
    pub reasons: Vec<(u8, String)>,
}

/// The status mark for staff: whether the terminal is offline and how many answers wait.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncMark {
    pub offline: bool,
    pub waiting: u64,
}

/// A panel that shows views.
pub trait Panel: Send {
    fn show(&mut self, view: &View) -> Result<(), DisplayError>;
}

#[derive(Debug, thiserror::Error)]
pub enum DisplayError {
    #[error("cannot open the display {path}: {source}")]
    Open {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the display {path} is {found}; the {layout} layout needs {wanted}")]
    Unsuitable {
        path: std::path::PathBuf,
        layout: &'static str,
        found: String,
        wanted: String,
    },
    #[error("cannot draw on the display {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Writes each view to a PNG file (replaced atomically, so a viewer never sees half).
pub struct PngPanel {
    path: std::path::PathBuf,
    layout: Layout,
}

impl PngPanel {
    pub fn new(path: &Path, layout: Layout) -> PngPanel {
        PngPanel {
            path: path.to_owned(),
            layout,
        }
    }
}

impl Panel for PngPanel {
    fn show(&mut self, view: &View) -> Result<(), DisplayError> {
        let write = |source| DisplayError::Write {
            path: self.path.clone(),
            source,
        };
        let png = render(self.layout, view).to_png().map_err(write)?;
        let tmp = self.path.with_extension("png.tmp");
        std::fs::write(&tmp, png).map_err(write)?;
        std::fs::rename(&tmp, &self.path).map_err(write)
    }
}
