//! The brand's logo: a PNG or SVG file, checked for its size and dimensions wherever a survey
//! config is checked (the collector's `config set`, the terminal), carried inside the config
//! as a `data:` URL, and decoded to pixels for the screens.

use std::io::Cursor;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The largest logo file: it travels inline in a survey config of at most 64 KiB, where
/// base64 makes it a third larger.
pub const MAX_LOGO_BYTES: usize = 32 * 1024;
/// A PNG logo's sides, in pixels.
pub const PNG_SIDES: std::ops::RangeInclusive<u32> = 16..=1024;
/// A PNG logo's most pixels (1 MiB decoded), so that a terminal's memory stays small.
pub const MAX_PNG_PIXELS: u32 = 1024 * 256;
/// How much wider than tall a logo may be; and how much taller than wide.
pub const MAX_WIDE: f32 = 8.0;
pub const MAX_TALL: f32 = 2.0;

/// The first bytes of every PNG file.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoFormat {
    Png,
    Svg,
}

impl LogoFormat {
    pub fn mime(self) -> &'static str {
        match self {
            LogoFormat::Png => "image/png",
            LogoFormat::Svg => "image/svg+xml",
        }
    }
}

/// A checked logo: its file and its size (an SVG's own size, rounded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Logo {
    pub format: LogoFormat,
    pub bytes: Arc<[u8]>,
    pub width: u32,
    pub height: u32,
}

/// A decoded PNG: straight (not premultiplied) RGBA, row by row.
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Logo {
    /// Checks a logo file: a PNG (by its signature) or else an SVG.
    pub fn check(bytes: &[u8]) -> Result<Logo, String> {
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(format!(
                "the logo is {} bytes; at most {MAX_LOGO_BYTES} fit (save it smaller, or as SVG)",
                bytes.len()
            ));
        }
        let (format, (width, height)) = if bytes.starts_with(PNG_SIGNATURE) {
            let png = decode_png(bytes)?;
            (LogoFormat::Png, (png.width, png.height))
        } else {
            (LogoFormat::Svg, svg_size(bytes)?)
        };
        let ratio = width as f32 / height as f32;
        if !(1.0 / MAX_TALL..=MAX_WIDE).contains(&ratio) {
            return Err(format!(
                "the logo is {width} × {height}: at most {MAX_WIDE} times as wide as tall, or \
                 {MAX_TALL} times as tall as wide, fits the screens"
            ));
        }
        Ok(Logo {
            format,
            bytes: bytes.into(),
            width,
            height,
        })
    }

    /// Reads a logo from a `data:image/png;base64,…` or `data:image/svg+xml;base64,…` URL.
    pub fn from_data_url(url: &str) -> Result<Logo, String> {
        let rest = url.strip_prefix("data:").ok_or("is not a data: URL")?;
        let (mime, data) = rest
            .split_once(";base64,")
            .ok_or("is not a base64 data: URL (data:image/png;base64,…)")?;
        if mime != LogoFormat::Png.mime() && mime != LogoFormat::Svg.mime() {
            return Err(format!("is {mime:?}; a logo is image/png or image/svg+xml"));
        }
        let bytes = STANDARD
            .decode(data.trim())
            .map_err(|e| format!("is not valid base64: {e}"))?;
        if mime == LogoFormat::Png.mime() && !bytes.starts_with(PNG_SIGNATURE) {
            return Err("says image/png but is not a PNG".into());
        }
        let logo = Logo::check(&bytes)?;
        if logo.format.mime() != mime {
            return Err(format!("says {mime} but holds {}", logo.format.mime()));
        }
        Ok(logo)
    }

    /// The logo as a data URL, as it travels in a survey config.
    pub fn data_url(&self) -> String {
        format!(
            "data:{};base64,{}",
            self.format.mime(),
            STANDARD.encode(&self.bytes)
        )
    }
}

/// Decodes a PNG to straight RGBA, refusing sizes outside [`PNG_SIDES`] and
/// [`MAX_PNG_PIXELS`] before it allocates their pixels.
pub fn decode_png(bytes: &[u8]) -> Result<Rgba, String> {
    let bad = |e: png::DecodingError| format!("is not a readable PNG: {e}");
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: 8 * MAX_PNG_PIXELS as usize,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(bad)?;
    let (width, height) = (reader.info().width, reader.info().height);
    if !PNG_SIDES.contains(&width)
        || !PNG_SIDES.contains(&height)
        || width.saturating_mul(height) > MAX_PNG_PIXELS
    {
        return Err(format!(
            "the logo is {width} × {height} pixels; each side from {} to {} and at most \
             {MAX_PNG_PIXELS} pixels in all (e.g. 600 × 200)",
            PNG_SIDES.start(),
            PNG_SIDES.end()
        ));
    }
    let size = reader
        .output_buffer_size()
        .ok_or("is a PNG too large to decode")?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(bad)?;
    buf.truncate(info.buffer_size());
    let pixels = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => return Err("is a PNG whose palette did not expand".into()),
    };
    Ok(Rgba {
        width,
        height,
        pixels,
    })
}

/// Options that read an SVG without reaching outside it: no file or URL it names is loaded.
pub fn svg_options() -> usvg::Options<'static> {
    let mut options = usvg::Options::default();
    options.image_href_resolver.resolve_string = Box::new(|_, _| None);
    options
}

/// An SVG logo's own size, after checking that it draws the same everywhere: its lettering
/// as paths (terminals have different fonts) and no pictures from outside it.
fn svg_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is neither a PNG nor an SVG file")?;
    let doc = usvg::roxmltree::Document::parse(text)
        .map_err(|e| format!("is neither a PNG nor a readable SVG file: {e}"))?;
    if doc.root_element().tag_name().name() != "svg" {
        return Err("is neither a PNG nor an SVG file".into());
    }
    for node in doc.descendants().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "text" => {
                return Err(
                    "holds text; convert its lettering to paths (Inkscape: Path > Object to \
                     Path) so that it looks the same on every terminal"
                        .into(),
                );
            }
            "image" | "feImage" | "use" => {
                let outside = node
                    .attributes()
                    .filter(|a| a.name() == "href")
                    .any(|a| !a.value().starts_with('#') && !a.value().starts_with("data:"));
                if outside {
                    return Err(
                        "refers to a file or address outside it; a logo must hold all it shows"
                            .into(),
                    );
                }
            }
            _ => {}
        }
    }
    let tree = usvg::Tree::from_xmltree(&doc, &svg_options())
        .map_err(|e| format!("is not a drawable SVG: {e}"))?;
    let size = tree.size();
    let (w, h) = (size.width().round(), size.height().round());
    if w < 1.0 || h < 1.0 {
        return Err("has no size; give the <svg> a viewBox".into());
    }
    Ok((w as u32, h as u32))
}

#[cfg(test)]
mod tests;
