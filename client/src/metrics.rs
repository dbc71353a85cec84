//! A server's histograms, read from its Prometheus endpoint (Atelier's `--metrics-listen`).
//!
//! The load generator scrapes before and after its measured window and reports the server's own
//! view beside what it measured end to end (how long an edit spent inside the server, how long
//! its commits took). Only what that needs is parsed: the `_bucket` lines of histograms in the
//! text exposition format; other lines are skipped. (A general parser would bring a date and a
//! regex library for some thirty lines of use.)
//!
//! ```no_run
//! # async fn demo() -> Result<(), atelier_client::Error> {
//! use atelier_client::metrics::Scrape;
//! let before = Scrape::get("http://127.0.0.1:9090/metrics").await?;
//! // ... load ...
//! let after = Scrape::get("http://127.0.0.1:9090/metrics").await?;
//! if let Some(edits) = after.histogram("atelier_edit_seconds") {
//!     let window = edits.since(before.histogram("atelier_edit_seconds").as_ref());
//!     println!("{} edits, p99 {:?} s", window.count(), window.quantile(0.99));
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use crate::{Api, Error};

/// The histograms of one scrape, by series: the metric's name, with its labels other than `le`
/// in braces when it has any (`atelier_sqlite_checkpoint_seconds{pass="held"}`).
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    histograms: BTreeMap<String, Histogram>,
}

/// One histogram series: cumulative counts per upper bound, ascending, `+Inf` last.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    buckets: Vec<(f64, f64)>,
}

impl Scrape {
    /// Fetches and parses `url` (`http://HOST:PORT/PATH`).
    pub async fn get(url: &str) -> Result<Self, Error> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| Error::InvalidUrl(format!("{url} (only http:// metrics URLs are supported)")))?;
        let path = rest.find('/').map_or("/", |i| &rest[i..]);
        let text = Api::new(url)?.get_text(path).await?;
        Ok(Self::parse(&text))
    }

    /// Parses Prometheus's text exposition format, keeping the histograms.
    pub fn parse(text: &str) -> Self {
        let mut histograms: BTreeMap<String, Histogram> = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, labels, value)) = sample(line) else { continue };
            let Some(metric) = name.strip_suffix("_bucket") else { continue };
            let Ok(count) = value.parse::<f64>() else { continue };
            let mut le = None;
            let mut rest = Vec::new();
            for (k, v) in labels {
                if k == "le" {
                    le = parse_bound(&v);
                } else {
                    rest.push(format!("{k}=\"{v}\""));
                }
            }
            let Some(le) = le else { continue };
            let series =
                if rest.is_empty() { metric.to_owned() } else { format!("{metric}{{{}}}", rest.join(",")) };
            histograms.entry(series).or_default().buckets.push((le, count));
        }
        for h in histograms.values_mut() {
            h.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Self { histograms }
    }

    /// One series, if the server has recorded it.
    pub fn histogram(&self, series: &str) -> Option<Histogram> {
        self.histograms.get(series).cloned()
    }

    /// The series names present.
    pub fn series(&self) -> impl Iterator<Item = &str> {
        self.histograms.keys().map(String::as_str)
    }
}

impl Histogram {
    /// What was recorded since `earlier` (a scrape of the same series; none: everything).
    pub fn since(&self, earlier: Option<&Histogram>) -> Histogram {
        let Some(earlier) = earlier else { return self.clone() };
        let buckets = self
            .buckets
            .iter()
            .map(|&(le, n)| {
                let before = earlier.buckets.iter().find(|(b, _)| *b == le).map_or(0.0, |&(_, n)| n);
                (le, (n - before).max(0.0))
            })
            .collect();
        Histogram { buckets }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.buckets.last().map_or(0, |&(_, n)| n as u64)
    }

    /// The `q` quantile (0–1), interpolated linearly inside its bucket as PromQL's
    /// `histogram_quantile` does; the highest finite bound when it falls in the `+Inf` bucket.
    /// None when nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total;
        let (mut lower, mut below) = (0.0, 0.0);
        for &(le, n) in &self.buckets {
            if n >= rank && n > below {
                if le.is_infinite() {
                    return Some(lower);
                }
                return Some(lower + (le - lower) * (rank - below) / (n - below));
            }
            if le.is_finite() {
                lower = le;
            }
            below = n;
        }
        Some(lower)
    }

    /// The upper bound of the highest bucket holding a value (`+Inf` if beyond the last bound).
    pub fn max_bound(&self) -> Option<f64> {
        let mut below = 0.0;
        let mut max = None;
        for &(le, n) in &self.buckets {
            if n > below {
                max = Some(le);
            }
            below = n;
        }
        max
    }
}

/// A sample line's metric name, labels and value.
type Sample<'a> = (&'a str, Vec<(String, String)>, &'a str);

/// `name{k="v",...} value [timestamp]` → (name, labels, value).
fn sample(line: &str) -> Option<Sample<'_>> {
    let (name, labels, rest) = match line.find('{') {
        Some(open) => {
            let (labels, after) = labels(&line[open + 1..])?;
            (&line[..open], labels, after)
        }
        None => {
            let space = line.find(char::is_whitespace)?;
            (&line[..space], Vec::new(), &line[space..])
        }
    };
    let value = rest.split_whitespace().next()?;
    Some((name.trim(), labels, value))
}

/// Parses `k="v",...}` and returns the labels and what follows the closing brace.
fn labels(mut s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches([' ', ',']);
        if let Some(after) = s.strip_prefix('}') {
            return Some((out, after));
        }
        let eq = s.find('=')?;
        let key = s[..eq].trim().to_owned();
        let mut chars = s[eq + 1..].trim_start().strip_prefix('"')?.char_indices();
        let mut value = String::new();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '"' => break i,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        };
        let quoted = s[eq + 1..].trim_start();
        s = &quoted[1 + end + 1..];
        out.push((key, value));
    }
}

fn parse_bound(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        s => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP atelier_edit_seconds Edit read off its socket to relayed, committed.
# TYPE atelier_edit_seconds histogram
atelier_edit_seconds_bucket{le="0.001"} 10
atelier_edit_seconds_bucket{le="0.002"} 60
atelier_edit_seconds_bucket{le="0.005"} 99
atelier_edit_seconds_bucket{le="+Inf"} 100
atelier_edit_seconds_sum 0.2
atelier_edit_seconds_count 100
atelier_sqlite_checkpoint_seconds_bucket{pass="held",le="0.01"} 3
atelier_sqlite_checkpoint_seconds_bucket{pass="held",le="+Inf"} 4
atelier_ws_connections 12
"#;

    #[test]
    fn reads_histogram_series_and_quantiles() {
        let scrape = Scrape::parse(TEXT);
        assert_eq!(
            scrape.series().collect::<Vec<_>>(),
            ["atelier_edit_seconds", "atelier_sqlite_checkpoint_seconds{pass=\"held\"}"]
        );
        let edits = scrape.histogram("atelier_edit_seconds").unwrap();
        assert_eq!(edits.count(), 100);
        // 50th of 100: 40th of the 50 between 1 and 2 ms.
        assert!((edits.quantile(0.5).unwrap() - 0.0018).abs() < 1e-9);
        // 99th: the last of the 39 between 2 and 5 ms.
        assert!((edits.quantile(0.99).unwrap() - 0.005).abs() < 1e-9);
        // Beyond the last finite bound: that bound.
        assert_eq!(edits.quantile(1.0), Some(0.005));
        assert_eq!(edits.max_bound(), Some(f64::INFINITY));
        let held = scrape.histogram("atelier_sqlite_checkpoint_seconds{pass=\"held\"}").unwrap();
        assert_eq!(held.count(), 4);
    }

    #[test]
    fn subtracts_an_earlier_scrape() {
        let before = Scrape::parse(TEXT).histogram("atelier_edit_seconds").unwrap();
        let after =
            Scrape::parse(&TEXT.replace("} 60", "} 70").replace("} 99", "} 200").replace("} 100", "} 210"))
                .histogram("atelier_edit_seconds")
                .unwrap();
        let window = after.since(Some(&before));
        assert_eq!(window.count(), 110);
        // 10 between 1 and 2 ms, 100 between 2 and 5 ms: the median is in the second bucket.
        let p50 = window.quantile(0.5).unwrap();
        assert!(p50 > 0.002 && p50 < 0.005, "{p50}");
        assert_eq!(window.max_bound(), Some(f64::INFINITY));
        assert_eq!(Histogram::default().quantile(0.5), None);
    }

    #[test]
    fn parses_escaped_label_values_and_skips_other_lines() {
        let scrape = Scrape::parse(
            "x_bucket{a=\"q\\\"uo,te\",le=\"1\"} 2\nx_bucket{a=\"q\\\"uo,te\",le=\"+Inf\"} 2\ngarbage\n",
        );
        let h = scrape.histogram("x{a=\"q\"uo,te\"}").unwrap();
        assert_eq!(h.count(), 2);
    }
}
