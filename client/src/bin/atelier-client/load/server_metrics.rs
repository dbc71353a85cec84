//! The server's own view of a run, from its Prometheus endpoint (`--metrics-url`, Atelier's
//! `--metrics-listen`): scraped when the measured window opens and when it closes, so that a
//! report puts how long an edit spent inside the server beside what the clients measured.

use atelier_client::metrics::{Histogram, Scrape};
use serde_json::{json, Map, Value};
use tokio::task::JoinHandle;

use super::stats::r2;

/// Histograms reported over the measured window: (report key, series).
const WINDOW: &[(&str, &str)] = &[
    ("edit", "atelier_edit_seconds"),
    ("commit", "atelier_commit_seconds"),
    ("checkpoint_beside", "atelier_sqlite_checkpoint_seconds{pass=\"beside\"}"),
    ("checkpoint_held", "atelier_sqlite_checkpoint_seconds{pass=\"held\"}"),
];
/// Histograms reported since the server started (the connections were opened before the window).
const SINCE_START: &[(&str, &str)] = &[("join", "atelier_ws_join_seconds")];

/// A window of the server's metrics; nothing when no URL was given.
pub struct MetricsWindow {
    url: Option<String>,
    before: Option<JoinHandle<Result<Scrape, atelier_client::Error>>>,
}

impl MetricsWindow {
    /// Scrapes in the background: the caller may be a writer keeping a rate.
    pub fn start(url: Option<&str>) -> Self {
        let url = url.map(str::to_owned);
        let before = url.clone().map(|url| tokio::spawn(async move { Scrape::get(&url).await }));
        Self { url, before }
    }

    /// Scrapes again and reports the window (`null` without a URL, `{"error"}` if a scrape failed).
    pub async fn finish(self) -> Value {
        let (Some(url), Some(before)) = (self.url, self.before) else { return Value::Null };
        let before = match before.await {
            Ok(Ok(scrape)) => scrape,
            Ok(Err(e)) => return json!({ "error": e.to_string() }),
            Err(e) => return json!({ "error": e.to_string() }),
        };
        let after = match Scrape::get(&url).await {
            Ok(scrape) => scrape,
            Err(e) => return json!({ "error": e.to_string() }),
        };
        let mut window = Map::new();
        for (key, series) in WINDOW {
            if let Some(h) = after.histogram(series) {
                let h = h.since(before.histogram(series).as_ref());
                if h.count() > 0 {
                    window.insert((*key).into(), summary(&h));
                }
            }
        }
        let mut since_start = Map::new();
        for (key, series) in SINCE_START {
            if let Some(h) = after.histogram(series).filter(|h| h.count() > 0) {
                since_start.insert((*key).into(), summary(&h));
            }
        }
        json!({ "window": window, "since_start": since_start })
    }
}

/// `{count, p50_ms, p90_ms, p99_ms, max_le_ms}`: quantiles interpolated inside the server's
/// buckets, and the upper bound of the highest non-empty one (`null`: beyond the last bound).
fn summary(h: &Histogram) -> Value {
    let ms = |s: Option<f64>| s.filter(|s| s.is_finite()).map(|s| r2(s * 1000.0));
    json!({
        "count": h.count(),
        "p50_ms": ms(h.quantile(0.5)),
        "p90_ms": ms(h.quantile(0.9)),
        "p99_ms": ms(h.quantile(0.99)),
        "max_le_ms": ms(h.max_bound()),
    })
}
