//! Figures of a process from `/proc/<pid>` (`pid` may be `self`), Linux only.

/// CPU seconds (user + system) of a process, from `/proc/<pid>/stat` (clock ticks of 1/100 s,
/// Linux's USER_HZ).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: the fields after it follow the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Bytes a process has caused to be written to storage (`write_bytes` of `/proc/<pid>/io`);
/// 0 when unknown.
pub fn write_bytes(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("write_bytes:").map(|v| v.trim().to_string()))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds the calling thread has run, in nanoseconds' precision (the first field of
/// `/proc/thread-self/schedstat`); `/proc/<pid>/stat` counts in 10 ms ticks, too coarse for
/// the microseconds one query costs a client.
pub fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}
