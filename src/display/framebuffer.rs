//! A Linux framebuffer device (`/dev/fbN`: SPI TFTs through fbtft or tinydrm, OLEDs through
//! ssd1307fb, HDMI panels) as a small-display target. The geometry and pixel format come
//! from the kernel; each view is converted and written in one go, at the panel's top left.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::{Canvas, DisplayError, Layout, Panel, View};

/// How pixels are laid out in the framebuffer's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub width: u32,
    pub height: u32,
    /// 1 (monochrome, least significant bit first, as ssd1307fb), 16 (RGB565) or 32.
    pub bits_per_pixel: u32,
    /// Bytes from one row to the next.
    pub line_length: u32,
    /// Bit offsets of red, green and blue in a 32-bit pixel.
    pub offsets: (u32, u32, u32),
}

impl Geometry {
    /// The bytes of `canvas` in this format; the rest of each row and of the panel stays 0.
    pub fn encode(&self, canvas: &Canvas) -> Vec<u8> {
        let mut out = vec![0u8; (self.line_length * self.height) as usize];
        let (w, h) = (
            canvas.width().min(self.width),
            canvas.height().min(self.height),
        );
        for y in 0..h {
            let row = (y * self.line_length) as usize;
            for x in 0..w {
                let (r, g, b) = canvas.pixel(x, y);
                match self.bits_per_pixel {
                    1 => {
                        let lit =
                            u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114 >= 128_000;
                        if lit {
                            out[row + (x / 8) as usize] |= 1 << (x % 8);
                        }
                    }
                    16 => {
                        let v = (u16::from(r) >> 3) << 11
                            | (u16::from(g) >> 2) << 5
                            | u16::from(b) >> 3;
                        let at = row + (x * 2) as usize;
                        out[at..at + 2].copy_from_slice(&v.to_le_bytes());
                    }
                    _ => {
                        let (ro, go, bo) = self.offsets;
                        let v = u32::from(r) << ro | u32::from(g) << go | u32::from(b) << bo;
                        let at = row + (x * 4) as usize;
                        out[at..at + 4].copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
        }
        out
    }
}

/// A framebuffer device showing one layout.
pub struct Framebuffer {
    path: PathBuf,
    file: File,
    geometry: Geometry,
    layout: Layout,
}

impl Framebuffer {
    /// Opens `/dev/fbN`, asks the kernel for its geometry and checks it suits `layout`.
    pub fn open(path: &Path, layout: Layout) -> Result<Framebuffer, DisplayError> {
        let open_err = |source| DisplayError::Open {
            path: path.to_owned(),
            source,
        };
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(open_err)?;
        let geometry = query(&file).map_err(open_err)?;
        Framebuffer::with_geometry(path, file, geometry, layout)
    }

    /// A framebuffer whose geometry is known: for a file standing in for a device.
    pub fn with_geometry(
        path: &Path,
        file: File,
        geometry: Geometry,
        layout: Layout,
    ) -> Result<Framebuffer, DisplayError> {
        let (w, h) = layout.size();
        let bpp_ok = match layout {
            Layout::Colour320x240 => matches!(geometry.bits_per_pixel, 16 | 32),
            Layout::Mono128x64 => matches!(geometry.bits_per_pixel, 1 | 16 | 32),
        };
        if geometry.width < w || geometry.height < h || !bpp_ok {
            return Err(DisplayError::Unsuitable {
                path: path.to_owned(),
                layout: layout.name(),
                found: format!(
                    "{}x{} at {} bits per pixel",
                    geometry.width, geometry.height, geometry.bits_per_pixel
                ),
                wanted: format!(
                    "at least {w}x{h} at {}",
                    if layout == Layout::Mono128x64 {
                        "1, 16 or 32 bits"
                    } else {
                        "16 or 32 bits"
                    }
                ),
            });
        }
        Ok(Framebuffer {
            path: path.to_owned(),
            file,
            geometry,
            layout,
        })
    }
}

impl Panel for Framebuffer {
    fn show(&mut self, view: &View) -> Result<(), DisplayError> {
        let bytes = self.geometry.encode(&super::render(self.layout, view));
        self.file
            .write_all_at(&bytes, 0)
            .map_err(|source| DisplayError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

/// `struct fb_bitfield` of `<linux/fb.h>`.
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Bitfield {
    offset: u32,
    length: u32,
    msb_right: u32,
}

/// `struct fb_var_screeninfo` of `<linux/fb.h>`.
#[repr(C)]
#[derive(Default)]
struct VarScreenInfo {
    xres: u32,
    yres: u32,
    xres_virtual: u32,
    yres_virtual: u32,
    xoffset: u32,
    yoffset: u32,
    bits_per_pixel: u32,
    grayscale: u32,
    red: Bitfield,
    green: Bitfield,
    blue: Bitfield,
    transp: Bitfield,
    nonstd: u32,
    activate: u32,
    height: u32,
    width: u32,
    accel_flags: u32,
    timing: [u32; 7],
    sync: u32,
    vmode: u32,
    rotate: u32,
    colorspace: u32,
    reserved: [u32; 4],
}

/// `struct fb_fix_screeninfo` of `<linux/fb.h>`.
#[repr(C)]
#[derive(Default)]
struct FixScreenInfo {
    id: [u8; 16],
    smem_start: libc::c_ulong,
    smem_len: u32,
    kind: u32,
    type_aux: u32,
    visual: u32,
    xpanstep: u16,
    ypanstep: u16,
    ywrapstep: u16,
    line_length: u32,
    mmio_start: libc::c_ulong,
    mmio_len: u32,
    accel: u32,
    capabilities: u16,
    reserved: [u16; 2],
}

const FBIOGET_VSCREENINFO: libc::c_ulong = 0x4600;
const FBIOGET_FSCREENINFO: libc::c_ulong = 0x4602;

fn query(file: &File) -> std::io::Result<Geometry> {
    let mut var = VarScreenInfo::default();
    let mut fix = FixScreenInfo::default();
    // SAFETY: both structs match the kernel's layout and live for the duration of the call.
    let ok = unsafe {
        libc::ioctl(file.as_raw_fd(), FBIOGET_VSCREENINFO as _, &mut var) == 0
            && libc::ioctl(file.as_raw_fd(), FBIOGET_FSCREENINFO as _, &mut fix) == 0
    };
    if !ok {
        let e = std::io::Error::last_os_error();
        return Err(std::io::Error::new(
            e.kind(),
            format!("not a framebuffer device ({e})"),
        ));
    }
    Ok(Geometry {
        width: var.xres,
        height: var.yres,
        bits_per_pixel: var.bits_per_pixel,
        line_length: fix.line_length,
        offsets: (var.red.offset, var.green.offset, var.blue.offset),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn kernel_structs_have_the_kernel_sizes() {
        assert_eq!(std::mem::size_of::<VarScreenInfo>(), 160);
        assert_eq!(std::mem::size_of::<FixScreenInfo>(), 80);
    }
}
