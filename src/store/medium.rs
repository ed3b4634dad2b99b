//! Whether the database lies on a filesystem that survives a reboot: a database in RAM
//! (tmpfs, ramfs, or the overlay of a read-only root, whose changes live in RAM) loses every
//! unsynced answer at the next power cut. Read from `/proc/self/mountinfo`.

use std::path::{Path, PathBuf};

/// A filesystem whose contents are gone after a reboot, and why we think so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volatile {
    /// Where it is mounted.
    pub mount: PathBuf,
    /// What it is, for people: "tmpfs (RAM)", "an overlay whose changes live in RAM", …
    pub what: String,
}

/// The volatile filesystem holding `path` (or the nearest folder of it that exists), if the
/// one holding it is volatile; `None` for a filesystem that keeps its data, or when the
/// mount table cannot be read (then nothing is claimed).
pub fn volatile(path: &Path) -> Option<Volatile> {
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mounts = parse(&table);
    let place = existing(path)?;
    judge(&mounts, &place)
}

/// One line of the mount table.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Mount {
    point: PathBuf,
    fs: String,
    options: String,
}

/// The nearest existing folder of `path`, with symbolic links resolved.
fn existing(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    absolute.ancestors().find_map(|p| p.canonicalize().ok())
}

fn judge(mounts: &[Mount], place: &Path) -> Option<Volatile> {
    let mount = holding(mounts, place)?;
    let volatile = |what: String| {
        Some(Volatile {
            mount: mount.point.clone(),
            what,
        })
    };
    match mount.fs.as_str() {
        "tmpfs" | "ramfs" => volatile(format!("{} (RAM)", mount.fs)),
        "overlay" => {
            // The writable layer holds every change: in RAM, they are lost at a reboot. One
            // that cannot be seen from here (Raspberry Pi OS's overlay mode mounts it in
            // the initramfs only) is taken for RAM, the common case of a read-only root.
            let upper = mount
                .options
                .split(',')
                .find_map(|o| o.strip_prefix("upperdir="))
                .map(unescape);
            match upper.and_then(|u| Path::new(&u).canonicalize().ok()) {
                Some(upper) => match holding(mounts, &upper) {
                    Some(m) if m.fs == "tmpfs" || m.fs == "ramfs" => volatile(format!(
                        "an overlay whose changes live in RAM ({} at {})",
                        m.fs,
                        m.point.display()
                    )),
                    _ => None,
                },
                None => volatile(
                    "an overlay whose writable layer is out of sight (a read-only root's \
                     overlay keeps its changes in RAM)"
                        .to_owned(),
                ),
            }
        }
        _ => None,
    }
}

/// The mount whose mount point is the longest prefix of `place` (the last one mounted wins).
fn holding<'a>(mounts: &'a [Mount], place: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| place.starts_with(&m.point))
        .max_by_key(|(i, m)| (m.point.components().count(), *i))
        .map(|(_, m)| m)
}

/// `/proc/self/mountinfo`: `id parent dev root point options [tags…] - fs source super`.
fn parse(table: &str) -> Vec<Mount> {
    table
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let dash = fields.iter().position(|f| *f == "-")?;
            Some(Mount {
                point: PathBuf::from(unescape(fields.get(4)?)),
                fs: (*fields.get(dash + 1)?).to_owned(),
                options: (*fields.get(dash + 3).unwrap_or(&"")).to_owned(),
            })
        })
        .collect()
}

/// The table writes a space, tab, newline and backslash in a path as `\040`, `\011`, `\012`, `\134`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Raspberry Pi OS root in overlay mode with a data partition, as its mount table reads.
    const PI_OVERLAY: &str = "\
21 1 0:19 / / rw,relatime - overlay overlay rw,lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work
22 21 179:1 / /boot/firmware rw,relatime - vfat /dev/mmcblk0p1 rw
23 21 179:3 / /var/lib/ces-kiosk rw,noatime - ext4 /dev/mmcblk0p3 rw
24 21 0:21 / /run rw,nosuid - tmpfs tmpfs rw,size=188000k
25 21 0:22 / /media/my\\040data rw - tmpfs tmpfs rw
";

    /// Debian's overlayroot: the writable layer is visible under /media/root-rw.
    const OVERLAYROOT: &str = "\
20 1 0:30 / /media/root-rw rw,relatime - tmpfs tmpfs-root rw
21 1 0:31 / / rw,relatime - overlay overlayroot rw,lowerdir=/media/root-ro,upperdir=/media/root-rw/overlay,workdir=/media/root-rw/overlay-workdir/_
";

    #[test]
    fn a_read_only_roots_overlay_is_volatile_and_its_data_partition_is_not() {
        let mounts = parse(PI_OVERLAY);
        let root = judge(&mounts, Path::new("/var/lib/other")).expect("volatile");
        assert_eq!(root.mount, Path::new("/"));
        assert!(root.what.contains("overlay"), "{}", root.what);
        assert_eq!(judge(&mounts, Path::new("/var/lib/ces-kiosk")), None);
        assert_eq!(judge(&mounts, Path::new("/var/lib/ces-kiosk/db")), None);
        assert!(judge(&mounts, Path::new("/run/ces")).is_some());
        let spaced = judge(&mounts, Path::new("/media/my data/x")).expect("tmpfs");
        assert_eq!(spaced.what, "tmpfs (RAM)");
    }

    #[test]
    fn an_overlay_is_judged_by_where_its_changes_live() {
        let mounts = parse(OVERLAYROOT);
        // /media/root-rw does not exist on this machine: out of sight, taken for RAM.
        assert!(judge(&mounts, Path::new("/var/lib")).is_some());
        // An overlay whose upper layer lies on a disk (a container's root) keeps its data.
        let disk = parse(
            "1 0 8:1 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/tmp,workdir=/w\n\
             2 1 8:2 / /tmp rw - ext4 /dev/sda2 rw\n",
        );
        assert_eq!(judge(&disk, Path::new("/var")), None);
    }

    #[test]
    fn this_machines_ram_disk_is_found_from_the_real_mount_table() {
        let found = volatile(Path::new("/dev/shm/no-such-folder/answers.db"));
        assert_eq!(found.map(|v| v.mount), Some(PathBuf::from("/dev/shm")));
    }
}
