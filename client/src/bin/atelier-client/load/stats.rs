//! Measurements: latency histograms, process CPU and memory from /proc, a least-squares fit.

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Microseconds since the generator's epoch (shared by every writer and reader of the run).
pub fn now_us() -> i64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as i64
}

/// A thread-safe latency histogram in microseconds (1 µs to 1 hour, 3 significant digits), with
/// the exact maximum.
pub struct Latency(Mutex<(Histogram<u64>, u64)>);

impl Latency {
    pub fn new() -> Self {
        match Histogram::new_with_bounds(1, 3_600_000_000, 3) {
            Ok(h) => Self(Mutex::new((h, 0))),
            Err(e) => panic!("constant histogram bounds refused: {e}"),
        }
    }

    pub fn record_us(&self, us: i64) {
        let us = us.max(1) as u64;
        if let Ok(mut guard) = self.0.lock() {
            let (h, max) = &mut *guard;
            h.saturating_record(us);
            *max = (*max).max(us);
        }
    }

    pub fn record(&self, d: std::time::Duration) {
        self.record_us(d.as_micros() as i64);
    }

    /// `{count, p50, p90, p99, max, mean}` in milliseconds.
    pub fn summary(&self) -> Value {
        let Ok(guard) = self.0.lock() else { return Value::Null };
        let (h, max) = &*guard;
        if h.is_empty() {
            return json!({ "count": 0 });
        }
        let ms = |us: u64| (us as f64 / 1000.0 * 1000.0).round() / 1000.0;
        json!({
            "count": h.len(),
            "p50": ms(h.value_at_quantile(0.50)),
            "p90": ms(h.value_at_quantile(0.90)),
            "p99": ms(h.value_at_quantile(0.99)),
            "max": ms(*max),
            "mean": ((h.mean() / 1000.0) * 1000.0).round() / 1000.0,
        })
    }
}

/// Clock ticks per second of /proc/PID/stat times.
fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// A process to watch: the server (`--server-pid`) or the generator itself.
#[derive(Debug, Clone, Copy)]
pub enum Proc {
    Pid(u32),
    Myself,
}

impl Proc {
    fn path(&self, file: &str) -> String {
        match self {
            Proc::Pid(pid) => format!("/proc/{pid}/{file}"),
            Proc::Myself => format!("/proc/self/{file}"),
        }
    }

    /// utime + stime in seconds.
    pub fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(self.path("stat")).ok()?;
        // The command name may hold spaces: fields start after the last ')'.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / clock_ticks())
    }

    /// (VmRSS, VmHWM) in KB.
    pub fn memory_kb(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(self.path("status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    pub fn rss_kb(&self) -> Option<u64> {
        self.memory_kb().map(|(rss, _)| rss)
    }

    pub fn exists(&self) -> bool {
        std::path::Path::new(&self.path("stat")).exists()
    }
}

/// CPU use of a process over a window, as a percentage of one core.
pub struct CpuWindow {
    proc: Proc,
    start: Option<(Instant, f64)>,
}

impl CpuWindow {
    pub fn start(proc: Proc) -> Self {
        Self { proc, start: proc.cpu_secs().map(|c| (Instant::now(), c)) }
    }

    pub fn percent(&self) -> Option<f64> {
        let (at, cpu0) = self.start?;
        let cpu1 = self.proc.cpu_secs()?;
        let secs = at.elapsed().as_secs_f64();
        (secs > 0.0).then(|| ((cpu1 - cpu0) / secs * 1000.0).round() / 10.0)
    }
}

/// Least-squares line through `(x, y)`: `(slope, intercept)`.
pub fn least_squares(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let sx: f64 = points.iter().map(|p| p.0).sum();
    let sy: f64 = points.iter().map(|p| p.1).sum();
    let sxx: f64 = points.iter().map(|p| p.0 * p.0).sum();
    let sxy: f64 = points.iter().map(|p| p.0 * p.1).sum();
    let den = n * sxx - sx * sx;
    if den.abs() < f64::EPSILON {
        return None;
    }
    let slope = (n * sxy - sx * sy) / den;
    Some((slope, (sy - slope * sx) / n))
}

/// Rounds to 2 decimals for the report.
pub fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_line_and_reads_proc() {
        let (slope, intercept) = least_squares(&[(1.0, 12.0), (2.0, 14.0), (3.0, 16.0)]).unwrap();
        assert!((slope - 2.0).abs() < 1e-9 && (intercept - 10.0).abs() < 1e-9);
        assert!(least_squares(&[(1.0, 1.0)]).is_none());
        assert!(Proc::Myself.cpu_secs().is_some());
        let (rss, hwm) = Proc::Myself.memory_kb().unwrap();
        assert!(rss > 0 && hwm >= rss);
        let lat = Latency::new();
        for us in [1000, 2000, 3000] {
            lat.record_us(us);
        }
        assert_eq!(lat.summary()["count"], 3);
        assert_eq!(lat.summary()["max"], 3.0);
    }
}
