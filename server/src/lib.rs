//! Atelier: a self-hostable real-time collaboration server for co-design workshops.
//!
//! [`run`] is the one entry point, used by the `atelier` binary and by every test: it takes a
//! bound listener and a shutdown token, so tests start servers on port 0 and stop them at will.
//! See ARCHITECTURE.md for the code map and the invariants.

pub mod admin;
pub mod api;
pub mod auth;
pub mod boarddoc;
pub mod config;
pub mod http;
pub mod live;
pub mod room;
pub mod store;
pub mod suggest;
pub mod sync;
pub mod telemetry;
pub mod tenancy;
pub mod ui;
pub mod ws;

use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use config::{DbConfig, ServeConfig};

use crate::room::{RoomConfig, Rooms};
use crate::store::{Compactor, Writer};

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the store: {0}")]
    Store(#[from] store::StoreError),
    #[error("server IO error: {0}")]
    Io(#[from] std::io::Error),
}

/// Connections the kernel completes and queues while the server is busy accepting others. A
/// join storm (a room of 150 opening one link at once, a public evening) connects faster than
/// the accept loop drains: with the 128 that `TcpListener::bind` asks for, the kernel dropped
/// the SYNs beyond it and those clients waited for TCP's 1 s retransmission (docs/benchmarks.md).
/// Linux caps it at `net.core.somaxconn` (4096 by default).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds the server's listening socket, with [`LISTEN_BACKLOG`] and `SO_REUSEADDR` (a restart
/// does not wait for the old connections' TIME_WAIT).
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves on `listener` until `shutdown` is cancelled, then shuts down gracefully: stop
/// accepting, let every room finish its round (everything shown to a client is already
/// committed), close sockets with 1001, close the store; all bounded by the configured deadline.
pub async fn run(
    mut config: ServeConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    // The address actually bound (port 0 picks one): links in invites point at it.
    config.listen = listener.local_addr()?;
    let store = config.db.open().await?;
    info!(backend = store.backend(), "store ready");
    let (writer, writer_task) = Writer::spawn(store.clone());
    let (compactor, compactor_task) = Compactor::spawn(store.clone());
    let rooms = Rooms::new(
        store.clone(),
        writer,
        compactor,
        RoomConfig { limits: config.limits(), idle: config.room_idle(), compact_every: config.compact_every },
        shutdown.clone(),
    );
    let deadline = Duration::from_secs(config.shutdown_secs);
    let live = live::Live::default();
    let sweeper = tokio::spawn(live.clone().sweep_forever(store.clone(), shutdown.clone()));
    let state = http::AppState {
        config: Arc::new(config),
        db: store.clone(),
        rooms: rooms.clone(),
        live,
        limiter: Arc::new(auth::LoginLimiter::default()),
        guest_joins: Arc::new(auth::GuestJoins::default()),
    };
    let app = http::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();

    // Nagle's algorithm would hold small frames back for up to ~40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            warn!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let stop = shutdown.clone();
    axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await?;

    info!("shutting down: closing rooms");
    if tokio::time::timeout(deadline, rooms.wait_closed()).await.is_err() {
        warn!("rooms did not close within {deadline:?}");
    }
    // Rooms hold the writer and compactor handles; once they are gone the tasks drain and end.
    drop(rooms);
    if tokio::time::timeout(deadline, writer_task).await.is_err() {
        warn!("group commit did not finish within {deadline:?}");
    }
    // Rooms asked on their way out for their logs to be folded: loading them next time is then
    // one snapshot instead of a long tail.
    if tokio::time::timeout(deadline, compactor_task).await.is_err() {
        warn!("compaction did not finish within {deadline:?}");
    }
    sweeper.abort();
    store.close().await;
    info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// A burst of connections larger than the old backlog is queued by the kernel while nothing
    /// accepts: none of them waits for a SYN retransmission (1 s), which is what a join storm's
    /// slowest clients did.
    #[tokio::test]
    async fn listener_queues_a_burst_of_connections() {
        let listener = super::listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let burst = 400;
        let connects = (0..burst).map(|_| {
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_millis(700), tokio::net::TcpStream::connect(addr)).await
            })
        });
        let mut connected = Vec::new();
        for connect in connects.collect::<Vec<_>>() {
            if let Ok(Ok(stream)) = connect.await.unwrap() {
                connected.push(stream);
            }
        }
        assert_eq!(connected.len(), burst, "connections dropped by a full accept queue");
        drop(listener);
    }
}
