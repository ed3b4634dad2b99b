//! Golden pictures of the small-display layouts: each screen of the 320×240 colour and the
//! 128×64 monochrome layout is drawn with embedded-graphics and compared pixel for pixel
//! with its reference in `docs/screenshots/` (viewable there). Drawing is exact, so any
//! difference is a change of the look.
//!
//! After an intended change, regenerate with
//! `CES_UPDATE_SCREENSHOTS=1 cargo test --test small_display` and review the pictures.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use ces_kiosk::display::framebuffer::{Framebuffer, Geometry};
use ces_kiosk::display::{Canvas, Layout, Panel, PngPanel, SyncMark, View, render};
use ces_kiosk::kiosk::Screen;
use ces_kiosk::survey::Scale;

fn view(screen: Screen, scale: Scale, legend: &[u8], sync: SyncMark) -> View {
    View {
        screen,
        language: "en".into(),
        question: "The store made it easy for me to return my item.".into(),
        scale,
        legend: legend
            .iter()
            .enumerate()
            .map(|(i, &s)| (i as u8 + 1, s))
            .collect(),
        sync,
        notice: None,
        reasons: vec![],
    }
}

/// The screens pictured for each layout.
fn screens(layout: Layout) -> Vec<(&'static str, View)> {
    let synced = SyncMark::default();
    let offline = SyncMark {
        offline: true,
        waiting: 3,
    };
    let faces = match layout {
        Layout::Colour320x240 => (Scale::Smiley5, &[1, 2, 3, 4, 5][..]),
        Layout::Mono128x64 => (Scale::Smiley3, &[1, 2, 3][..]),
    };
    vec![
        (
            "question",
            view(Screen::Question, Scale::Ces7, &[1, 3, 4, 5, 7], synced),
        ),
        ("faces", view(Screen::Question, faces.0, faces.1, synced)),
        (
            "thanks",
            view(Screen::Thanks, Scale::Ces7, &[1, 3, 4, 5, 7], synced),
        ),
        (
            "thanks-notice",
            View {
                notice: Some(
                    "You told us returns took too long. Since November a second desk opens \
                     at noon, and the self-service lockers are open until 22:00."
                        .into(),
                ),
                ..view(Screen::Thanks, Scale::Ces7, &[1, 3, 4, 5, 7], synced)
            },
        ),
        (
            "reasons",
            View {
                reasons: [
                    "Waiting time",
                    "Staff could not help",
                    "Finding the right desk",
                    "Forms and paperwork were confusing and far too long",
                    "Payment",
                ]
                .iter()
                .enumerate()
                .map(|(i, r)| (i as u8 + 1, r.to_string()))
                .collect(),
                ..view(Screen::FollowUp, Scale::Ces7, &[1, 3, 4, 5, 7], synced)
            },
        ),
        (
            "offline",
            view(Screen::Question, Scale::Ces7, &[1, 3, 4, 5, 7], offline),
        ),
        (
            "out-of-service",
            view(Screen::OutOfService, Scale::Ces7, &[1, 3, 4, 5, 7], synced),
        ),
    ]
}

fn reference(layout: Layout, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screenshots")
        .join(format!("small-{}-{name}.png", layout.name()))
}

fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn check(layout: Layout) {
    let update = std::env::var_os("CES_UPDATE_SCREENSHOTS").is_some();
    for (name, view) in screens(layout) {
        let canvas = render(layout, &view);
        assert_eq!((canvas.width(), canvas.height()), layout.size());
        let path = reference(layout, name);
        if update {
            std::fs::write(&path, canvas.to_png().unwrap()).unwrap();
            continue;
        }
        let want = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "no reference {}: {e}; create it with CES_UPDATE_SCREENSHOTS=1",
                path.display()
            )
        });
        let (w, h, pixels) = decode(&want);
        assert_eq!((w, h), layout.size(), "{}", path.display());
        assert!(
            pixels == canvas.rgb_bytes(),
            "{} differs from what is drawn now; if the change is intended, regenerate it",
            path.display()
        );
    }
}

#[test]
fn the_colour_layout_matches_its_references() {
    check(Layout::Colour320x240);
}

#[test]
fn the_mono_layout_matches_its_references() {
    check(Layout::Mono128x64);
}

#[test]
fn screens_differ_from_each_other() {
    for layout in [Layout::Colour320x240, Layout::Mono128x64] {
        let drawn: Vec<Canvas> = screens(layout)
            .iter()
            .map(|(_, v)| render(layout, v))
            .collect();
        for (i, a) in drawn.iter().enumerate() {
            for b in &drawn[i + 1..] {
                assert_ne!(a, b, "{} draws two screens alike", layout.name());
            }
        }
    }
}

#[test]
fn the_mono_layout_uses_only_black_and_white() {
    for (_, v) in screens(Layout::Mono128x64) {
        let c = render(Layout::Mono128x64, &v);
        let bytes = c.rgb_bytes();
        assert!(bytes.iter().all(|&b| b == 0 || b == 255));
    }
}

#[test]
fn a_png_panel_writes_the_screen_it_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("panel.png");
    let mut panel = PngPanel::new(&path, Layout::Mono128x64);
    let (_, v) = screens(Layout::Mono128x64).remove(2);
    panel.show(&v).unwrap();
    let (w, h, pixels) = decode(&std::fs::read(&path).unwrap());
    assert_eq!((w, h), (128, 64));
    assert_eq!(pixels, render(Layout::Mono128x64, &v).rgb_bytes());
}

/// A framebuffer device is memory the kernel scans out; a file of the same size stands in
/// for it here, with the geometry the kernel would report.
#[test]
fn framebuffer_pixels_follow_the_panel_format() {
    let (_, v) = screens(Layout::Colour320x240).remove(0);
    let canvas = render(Layout::Colour320x240, &v);
    let dir = tempfile::tempdir().unwrap();

    // 16 bits RGB565, rows padded beyond 320 pixels.
    let g16 = Geometry {
        width: 320,
        height: 240,
        bits_per_pixel: 16,
        line_length: 704,
        offsets: (11, 5, 0),
    };
    // 32 bits with blue first in memory (XRGB8888), a larger HDMI panel.
    let g32 = Geometry {
        width: 480,
        height: 320,
        bits_per_pixel: 32,
        line_length: 480 * 4,
        offsets: (16, 8, 0),
    };
    for g in [g16, g32] {
        let path = dir.path().join(format!("fb{}", g.bits_per_pixel));
        let file = std::fs::File::options()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let mut fb =
            Framebuffer::with_geometry(&path, file.try_clone().unwrap(), g, Layout::Colour320x240)
                .unwrap();
        fb.show(&v).unwrap();
        let mut memory = vec![0u8; (g.line_length * g.height) as usize];
        file.read_exact_at(&mut memory, 0).unwrap();
        for (x, y) in [(0, 0), (160, 40), (40, 200), (319, 239)] {
            let (r, gr, b) = canvas.pixel(x, y);
            let at = (y * g.line_length) as usize;
            let got = if g.bits_per_pixel == 16 {
                let px = u16::from_le_bytes([
                    memory[at + 2 * x as usize],
                    memory[at + 2 * x as usize + 1],
                ]);
                (
                    (px >> 11) as u8,
                    ((px >> 5) & 0x3f) as u8,
                    (px & 0x1f) as u8,
                )
            } else {
                let i = at + 4 * x as usize;
                (memory[i + 2], memory[i + 1], memory[i])
            };
            let want = if g.bits_per_pixel == 16 {
                (r >> 3, gr >> 2, b >> 3)
            } else {
                (r, gr, b)
            };
            assert_eq!(got, want, "pixel {x},{y} at {} bits", g.bits_per_pixel);
        }
    }

    // A panel smaller than the layout is refused with a clear reason.
    let path = dir.path().join("tiny");
    let file = std::fs::File::create(&path).unwrap();
    let small = Geometry {
        width: 128,
        height: 64,
        bits_per_pixel: 1,
        line_length: 16,
        offsets: (0, 0, 0),
    };
    let e = Framebuffer::with_geometry(&path, file, small, Layout::Colour320x240)
        .err()
        .unwrap();
    assert!(e.to_string().contains("at least 320x240"), "{e}");
}

#[test]
fn a_monochrome_framebuffer_gets_one_bit_per_pixel() {
    let (_, v) = screens(Layout::Mono128x64).remove(0);
    let canvas = render(Layout::Mono128x64, &v);
    let g = Geometry {
        width: 128,
        height: 64,
        bits_per_pixel: 1,
        line_length: 16,
        offsets: (0, 0, 0),
    };
    let bytes = g.encode(&canvas);
    assert_eq!(bytes.len(), 16 * 64);
    let mut lit = 0;
    for y in 0..64 {
        for x in 0..128 {
            let bit = bytes[(y * 16 + x / 8) as usize] >> (x % 8) & 1;
            assert_eq!(bit == 1, canvas.pixel(x, y) == (255, 255, 255), "{x},{y}");
            lit += u32::from(bit);
        }
    }
    assert!(lit > 100, "the question is drawn");
}

#[test]
fn opening_something_that_is_not_a_framebuffer_says_so() {
    let e = Framebuffer::open(Path::new("/dev/null"), Layout::Mono128x64)
        .err()
        .unwrap();
    assert!(e.to_string().contains("not a framebuffer"), "{e}");
    let e = Framebuffer::open(Path::new("/nonexistent/fb9"), Layout::Mono128x64)
        .err()
        .unwrap();
    assert!(e.to_string().contains("/nonexistent/fb9"), "{e}");
}
