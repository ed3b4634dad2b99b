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
