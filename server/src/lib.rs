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
    let (compactor, compactor_task) = Compactor::spawn(store.clone(), shutdown.clone());
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
