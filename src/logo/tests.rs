//! Checks of logo files: what is taken, and what is refused with a clear reason.

use super::*;

/// A PNG of `width` × `height` in `color`.
fn png(width: u32, height: u32, color: png::ColorType) -> Vec<u8> {
    let channels = match color {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        png::ColorType::GrayscaleAlpha => 2,
        _ => 1,
    };
    let mut out = vec![];
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    let data: Vec<u8> = (0..width * height * channels)
        .map(|i| (i % 251) as u8)
        .collect();
    enc.write_header().unwrap().write_image_data(&data).unwrap();
    out
}

const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100">
<rect x="0" y="0" width="100" height="100" rx="20" fill="#7a1f5c"/></svg>"##;

#[test]
fn a_png_is_taken_with_its_size_and_decodes_to_rgba() {
    for color in [
        png::ColorType::Rgba,
        png::ColorType::Rgb,
        png::ColorType::GrayscaleAlpha,
        png::ColorType::Grayscale,
    ] {
        let bytes = png(300, 100, color);
        let logo = Logo::check(&bytes).unwrap();
        assert_eq!(
            (logo.format, logo.width, logo.height),
            (LogoFormat::Png, 300, 100)
        );
        let rgba = decode_png(&bytes).unwrap();
        assert_eq!(rgba.pixels.len(), 300 * 100 * 4, "{color:?}");
    }
}

#[test]
fn an_svg_is_taken_with_the_size_of_its_view_box() {
    let logo = Logo::check(SVG.as_bytes()).unwrap();
    assert_eq!(
        (logo.format, logo.width, logo.height),
        (LogoFormat::Svg, 300, 100)
    );
}

#[test]
fn a_logo_travels_as_a_data_url_and_comes_back_the_same() {
    for bytes in [png(64, 32, png::ColorType::Rgba), SVG.as_bytes().to_vec()] {
        let logo = Logo::check(&bytes).unwrap();
        let url = logo.data_url();
        assert!(url.starts_with(&format!("data:{};base64,", logo.format.mime())));
        assert_eq!(Logo::from_data_url(&url).unwrap(), logo);
    }
}

#[test]
fn files_too_big_too_large_or_of_odd_shape_are_refused_saying_why() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0; MAX_LOGO_BYTES + 1], "at most 32768 fit"),
        (png(2000, 100, png::ColorType::Rgb), "each side from 16 to 1024"),
        (png(1024, 1024, png::ColorType::Rgb), "at most 262144 pixels"),
        (png(8, 8, png::ColorType::Rgb), "each side from 16"),
        (png(900, 100, png::ColorType::Rgb), "at most 8 times as wide"),
        (png(50, 120, png::ColorType::Rgb), "2 times as tall"),
        (b"\x89PNG\r\n\x1a\nbroken".to_vec(), "not a readable PNG"),
        (b"GIF89a....".to_vec(), "neither a PNG nor"),
        (b"<html><body/></html>".to_vec(), "neither a PNG nor an SVG"),
        (
            br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 90 30"><text>Acme</text></svg>"#
                .to_vec(),
            "convert its lettering to paths",
        ),
        (
            br#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 90 30"><image xlink:href="file:///etc/ces-kiosk/logo.png" width="9" height="3"/></svg>"#
                .to_vec(),
            "outside it",
        ),
    ];
    for (bytes, says) in cases {
        let e = Logo::check(&bytes).unwrap_err();
        assert!(e.contains(says), "{says:?} in {e:?}");
    }
}

#[test]
fn data_urls_of_other_kinds_or_broken_base64_are_refused() {
    for (url, says) in [
        ("logo.png", "not a data: URL"),
        ("data:image/png,raw", "not a base64 data: URL"),
        (
            "data:image/gif;base64,R0lG",
            "a logo is image/png or image/svg+xml",
        ),
        ("data:image/png;base64,@@@", "not valid base64"),
    ] {
        let e = Logo::from_data_url(url).unwrap_err();
        assert!(e.contains(says), "{url}: {e}");
    }
    // Said to be a PNG, but an SVG; said to be an SVG, but a PNG.
    let svg = Logo::check(SVG.as_bytes()).unwrap().data_url();
    let e = Logo::from_data_url(&svg.replace("image/svg+xml", "image/png")).unwrap_err();
    assert!(e.contains("says image/png but is not a PNG"), "{e}");
    let png = Logo::check(&png(64, 32, png::ColorType::Rgb))
        .unwrap()
        .data_url();
    let e = Logo::from_data_url(&png.replace("image/png", "image/svg+xml")).unwrap_err();
    assert!(e.contains("says image/svg+xml but holds image/png"), "{e}");
}
