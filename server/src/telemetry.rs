//! Operational metrics: what the server counts and times, served in Prometheus's text format on
//! a listener of their own (`--metrics-listen`, off by default).
//!
//! The modules record through the `metrics` facade (a no-op until a recorder is installed, as in
//! the tests that embed [`crate::run`]); the binary installs the Prometheus recorder, which is
//! process-wide, and serves it with [`serve`]. The metric names below are a contract with
//! dashboards and with the load generator (`atelier_client::metrics`), which reads the server's
//! own view of a benchmark beside its end-to-end one.
//!
//! No label names a tenant, project, board or person: the endpoint says how the server is
//! doing, never who is using it, and its series do not grow with the number of boards. It is
//! still meant for the operator's network only (bind it to loopback or a private address).

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::http::header;
use axum::routing::get;
use axum::Router;
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// Open WebSocket connections (joined to a room).
pub const CONNECTIONS: &str = "atelier_ws_connections";
/// WebSocket upgrade requests answered, by outcome: `joined`, `refused` (no valid token, a board
/// the caller may not open, a guest over its join rate), `failed` (the upgrade or the join).
pub const UPGRADES: &str = "atelier_ws_upgrades_total";
/// Connections closed, by close code and reason (`closed`: by the client; `connection lost`;
/// otherwise the reason sent with the code, e.g. `client too slow, reconnect to resync`).
pub const CLOSES: &str = "atelier_ws_closed_total";
/// From an upgrade request's arrival to the connection being in its room (the token and board
/// read from the store, the upgrade, the join, the board's load if it was not open).
pub const JOIN_SECONDS: &str = "atelier_ws_join_seconds";
/// Boards open in memory (one room each).
pub const ROOMS: &str = "atelier_rooms_open";
/// From the frame carrying an edit being read off its socket to the edit's relay into the last
/// recipient's socket: the wait in the room's inbox, the apply, a batch window if any, the
/// commit, the writes. What the last peer waits for, minus the network.
pub const EDIT_SECONDS: &str = "atelier_edit_seconds";
/// One group commit (every room's batches in one transaction), as the store took it.
pub const COMMIT_SECONDS: &str = "atelier_commit_seconds";
/// Updates written by group commits.
pub const UPDATES_COMMITTED: &str = "atelier_updates_committed_total";
/// Room batches in one group commit.
pub const COMMIT_BATCHES: &str = "atelier_commit_batches";
/// SQLite: one checkpoint pass; `pass` is `beside` (beside the commits) or `held` (commits held
/// back, from asking for them to be held to letting them go).
pub const CHECKPOINT_SECONDS: &str = "atelier_sqlite_checkpoint_seconds";

/// Bucket bounds of every `_seconds` histogram: fine where commits and relays live (below
/// 20 ms), coarse up to the seconds a board's load or a stalled disk can take.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// How often the recorder folds recorded values into its buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the process's Prometheus recorder, once; later calls return the same handle.
pub fn install() -> Result<PrometheusHandle, String> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE.get_or_init(|| build().map_err(|e| format!("cannot install the metrics recorder: {e}"))).clone()
}

fn build() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
            SECONDS_BUCKETS,
        )?
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(COMMIT_BATCHES.into()),
            BATCH_BUCKETS,
        )?
        .install_recorder()?;
    describe_gauge!(CONNECTIONS, "Open WebSocket connections.");
    describe_counter!(UPGRADES, "WebSocket upgrade requests answered, by outcome.");
    describe_counter!(CLOSES, "WebSocket connections closed, by close code and reason.");
    describe_histogram!(JOIN_SECONDS, Unit::Seconds, "Upgrade request to connection in its room.");
    describe_gauge!(ROOMS, "Boards open in memory.");
    describe_histogram!(EDIT_SECONDS, Unit::Seconds, "Edit read off its socket to relayed, committed.");
    describe_histogram!(COMMIT_SECONDS, Unit::Seconds, "One group commit in the store.");
    describe_counter!(UPDATES_COMMITTED, "Updates written by group commits.");
    describe_histogram!(COMMIT_BATCHES, "Room batches in one group commit.");
    describe_histogram!(
        CHECKPOINT_SECONDS,
        Unit::Seconds,
        "SQLite checkpoint pass (beside or holding the commits)."
    );
    Ok(handle)
}

/// Serves `GET /metrics` on `listener` until `shutdown`, and keeps the recorder's upkeep.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, shutdown: CancellationToken) {
    let upkeep = {
        let handle = handle.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = every.tick() => handle.run_upkeep(),
                }
            }
        })
    };
    let app =
        Router::new().route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move {
                    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
                }
            }),
        );
    let addr = listener.local_addr().map_or_else(|_| "?".into(), |a: SocketAddr| a.to_string());
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await {
        warn!(error = %e, %addr, "metrics listener failed");
    }
    upkeep.abort();
}

/// A timestamp for latency metrics: microseconds since the process's first stamp, wrapping
/// every 71 minutes. Four bytes in every queued frame where an `Instant` would take sixteen (the
/// room's commands are sized to a frame, see `room::size_tests`).
pub fn stamp() -> u32 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u32
}

/// Time from stamp `earlier` to stamp `later` (right for anything shorter than 71 minutes).
pub fn between(earlier: u32, later: u32) -> Duration {
    Duration::from_micros(u64::from(later.wrapping_sub(earlier)))
}

/// A gauge counting things while they are open ([`Open`]).
pub trait Gauge {
    const NAME: &'static str;
}

/// The [`CONNECTIONS`] gauge.
pub enum Connections {}
impl Gauge for Connections {
    const NAME: &'static str = CONNECTIONS;
}

/// The [`ROOMS`] gauge.
pub enum Rooms {}
impl Gauge for Rooms {
    const NAME: &'static str = ROOMS;
}

/// Counts one open thing in gauge `G` while it lives. No bytes: a connection's memory is
/// measured in the benchmarks.
pub struct Open<G: Gauge>(PhantomData<G>);

/// One open WebSocket connection.
pub type ConnectionOpen = Open<Connections>;
/// One open board (its room's actor).
pub type RoomOpen = Open<Rooms>;

impl<G: Gauge> Open<G> {
    pub fn new() -> Self {
        metrics::gauge!(G::NAME).increment(1.0);
        Self(PhantomData)
    }
}

impl<G: Gauge> Default for Open<G> {
    fn default() -> Self {
        Self::new()
    }
}

impl<G: Gauge> Drop for Open<G> {
    fn drop(&mut self) {
        metrics::gauge!(G::NAME).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_measure_across_the_wrap() {
        assert_eq!(between(10, 2_010), Duration::from_millis(2));
        // 71 minutes in, the counter wraps; an edit stamped just before still measures right.
        assert_eq!(between(u32::MAX - 999, 1_000), Duration::from_micros(2_000));
        let a = stamp();
        std::thread::sleep(Duration::from_millis(3));
        assert!(between(a, stamp()) >= Duration::from_millis(3));
    }
}
