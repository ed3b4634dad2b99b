//! What the benchmark programs share: summary statistics and a line about the machine.

/// "median …, p99 …, min …, max …" of `v` (sorted in place).
pub fn stats(v: &mut [f64], unit: &str) -> String {
    v.sort_by(f64::total_cmp);
    let pct = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    format!(
        "median {:.3} {unit}, p99 {:.3} {unit}, min {:.3}, max {:.3}",
        pct(0.5),
        pct(0.99),
        v[0],
        v[v.len() - 1]
    )
}

/// CPU model, cores and kernel.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {}", kernel.trim())
}

/// CPU time of each live thread of a process, in nanoseconds (from schedstat), by thread id.
fn cpu_ns(pid: u32) -> std::collections::HashMap<String, u64> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| {
            let path = t.ok()?.path();
            let stat = std::fs::read_to_string(path.join("schedstat")).ok()?;
            let ns = stat.split_whitespace().next()?.parse::<u64>().ok()?;
            Some((path.file_name()?.to_string_lossy().into_owned(), ns))
        })
        .collect()
}

/// Watches process `pid` for `idle` and says how much CPU it used meanwhile, per thread, so
/// that a thread ending in between cannot make the sum go backwards (it is left out, and
/// said so).
pub fn idle_cpu(pid: u32, idle: std::time::Duration) -> String {
    let before = cpu_ns(pid);
    std::thread::sleep(idle);
    let after = cpu_ns(pid);
    let ended = before.keys().filter(|t| !after.contains_key(*t)).count();
    let used: u64 = after
        .iter()
        .map(|(tid, ns)| ns - before.get(tid).copied().unwrap_or(0))
        .sum();
    let note = if ended > 0 {
        format!(" ({ended} threads ended meanwhile; their last CPU time is not counted)")
    } else {
        String::new()
    };
    format!(
        "CPU while idle for {} s: {:.3} ms ({:.4}% of one core){note}",
        idle.as_secs(),
        used as f64 / 1e6,
        used as f64 / idle.as_nanos() as f64 * 100.0
    )
}
