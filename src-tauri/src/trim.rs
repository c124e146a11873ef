//! Tray-only mode gives back the file pages it does not use. Starting maps and touches much of the binary
//! and of WebKit's libraries (WebKit is linked, though never started in this mode): about 50 MB of file
//! pages stay mapped, while the tray, the reminders and the sync timer run from a small part of them.
//! A few seconds after start the process asks the kernel to reclaim its file-backed mappings
//! (`MADV_PAGEOUT`, Linux 5.4+), as Windows trims a minimized app's working set. What the tray then uses
//! comes back on first touch; pages that other processes map too are left alone by the kernel.
//!
//! Measured with scripts/bench-desktop.sh (release, Xvfb), the window closed and an idle minute later:
//! 66-69 MB PSS before, 28-29 MB after, of which about 10 MB are file pages the minute's work brought back.
//! The cost is a read from disk (or the page cache) of whatever a later window needs again.

use std::time::Duration;

/// How long after start the pages are given back: past start-up, the first tray refresh and the first
/// sync (which the timer starts after 3 s).
pub const AFTER_START: Duration = Duration::from_secs(8);

/// The address ranges of the file-backed mappings in `maps` (the text of /proc/self/maps): each line is
/// "start-end perms offset dev inode [path]", and a file's path is absolute, while anonymous memory has
/// none and kernel areas are in brackets ([heap], [stack], [vdso]...).
pub fn file_ranges(maps: &str) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let path = fields.nth(4)?;
            // Device mappings (a GPU's, under /dev) are not page cache; the kernel refuses them.
            if !path.starts_with('/') || path.starts_with("/dev/") {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (end > start).then_some((start, end - start))
        })
        .collect()
}

/// Gives back this process's file pages after [`AFTER_START`], on a thread of its own.
#[cfg(target_os = "linux")]
pub fn file_pages_later() {
    let spawned = std::thread::Builder::new()
        .name("punctual-trim".into())
        .spawn(|| {
            std::thread::sleep(AFTER_START);
            if let Err(e) = page_out_file_mappings() {
                eprintln!("punctual-desktop: file pages not given back: {e}");
            }
        });
    if let Err(e) = spawned {
        eprintln!("punctual-desktop: cannot start giving back file pages: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
pub fn file_pages_later() {}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn page_out_file_mappings() -> std::io::Result<()> {
    use rustix::mm::{madvise, Advice};
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    let (mut advised, mut refused) = (0, None);
    for (start, len) in file_ranges(&maps) {
        // SAFETY: MADV_PAGEOUT only asks the kernel to reclaim pages; it changes no memory this process can
        // observe (a clean file page is read again from its file, a dirty one is kept or swapped), so any
        // range is sound to advise. A mapping that went away since /proc was read fails with ENOMEM.
        match unsafe { madvise(start as *mut std::ffi::c_void, len, Advice::LinuxPageOut) } {
            Ok(()) => advised += 1,
            // EINVAL: a locked or device mapping, or a kernel before 5.4 (no MADV_PAGEOUT at all).
            Err(e) => refused = Some(e),
        }
    }
    match refused {
        Some(e) if advised == 0 => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_file_backed_mappings_are_taken() {
        let maps = "\
5581a0000000-5581a0400000 r--p 00000000 fd:01 123 /usr/bin/punctual-desktop
5581a0400000-5581a1400000 r-xp 00400000 fd:01 123 /usr/bin/punctual-desktop
5581a3000000-5581a3100000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
7f0000100000-7f0000200000 r--s 00000000 fd:01 456 /var/cache/fontconfig/x.cache-8
7f0000300000-7f0000301000 r--p 00000000 fd:01 789 /usr/lib/lib with spaces.so
7f0000400000-7f0000500000 rw-s 00000000 00:05 42 /dev/dri/renderD128
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
7ffc00100000-7ffc00102000 r-xp 00000000 00:00 0 [vdso]
garbage line
";
        assert_eq!(
            file_ranges(maps),
            vec![
                (0x5581_a000_0000, 0x40_0000),
                (0x5581_a040_0000, 0x100_0000),
                (0x7f00_0010_0000, 0x10_0000),
                (0x7f00_0030_0000, 0x1000),
            ],
            "the binary's and libraries' mappings and a mapped file, but not the heap, anonymous memory, \
             the stack, the vDSO or a device, and a path with spaces still counts"
        );
    }

    /// Resident file-backed memory of this process, in kB (RssFile in /proc/self/status).
    #[cfg(target_os = "linux")]
    fn rss_file_kb() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("status reads");
        status
            .lines()
            .find_map(|l| l.strip_prefix("RssFile:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("RssFile is reported")
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn paging_out_gives_back_file_pages_and_the_process_goes_on() {
        let before = rss_file_kb();
        page_out_file_mappings().expect("the kernel takes the advice (Linux 5.4+)");
        let after = rss_file_kb();
        assert!(
            after < before,
            "the test binary's own pages are mapped by this process alone, so some are reclaimed: \
             {before} kB -> {after} kB"
        );
        // Reclaimed code and data come back on use.
        let ranges = file_ranges(&std::fs::read_to_string("/proc/self/maps").expect("maps"));
        assert!(
            !ranges.is_empty(),
            "the process still runs and reads its own mappings"
        );
    }
}
