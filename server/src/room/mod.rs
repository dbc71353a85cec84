//! Open boards: the registry of rooms and the actor task that drives each one.
//!
//! Each open document has one actor task that owns its [`crate::sync::Room`] and processes its
//! inbox in rounds: apply every queued message, commit what they changed in one group commit,
//! then relay. The registry maps document keys to actors; two connections arriving together at
//! a document that is not loaded share one actor because insertion goes through the map's
//! entry API, and an actor only removes the entry of its own generation.

mod actor;
mod conn;
mod inbox;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use conn::{ConnHandle, ConnSignal, Outbox, WsFrame, FRAGMENT};

use crate::store::{Compactor, DocKey, Store, StoreError, Writer};
use crate::sync::{ConnId, Inbound, Limits, Principal, Role};

/// Commands waiting in a room's inbox. Connection readers wait when it is full, so a flooding
/// client is slowed by TCP backpressure instead of growing memory.
const INBOX: usize = 1024;

/// What a room is asked to do. Rare, large commands are boxed: every queued command takes the
/// size of the largest one.
pub(crate) enum Cmd {
    Join(Box<Join>),
    Frame {
        conn: ConnId,
        msgs: Vec<Inbound>,
        /// When the frame was read off its socket (`telemetry::stamp`): the edit latency
        /// metric starts there.
        received: u32,
    },
    Leave {
        conn: ConnId,
    },
    SetRole {
        conn: ConnId,
        role: Role,
    },
    /// The committed state of the document, v1-encoded (answered after the round's commit).
    Snapshot {
        reply: oneshot::Sender<Vec<u8>>,
    },
    /// Merge a participant's private document (a whole state) as the room's own change;
    /// answered once committed (false: refused, see `sync::Room::merge`).
    Merge(Box<Merge>),
}

pub(crate) struct Join {
    pub conn: ConnHandle,
    pub principal: Principal,
    pub role: Role,
    /// Taken when the connection is let in before the room is built.
    pub reply: Option<oneshot::Sender<Result<(), JoinError>>>,
}

pub(crate) struct Merge {
    pub author: Principal,
    pub update: Vec<u8>,
    pub reply: oneshot::Sender<bool>,
}

/// Why joining a board failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The room was shutting down or evicting itself: try the registry again.
    #[error("room closing")]
    Retry,
    /// The board could not be loaded from the store.
    #[error("board unavailable")]
    Unavailable,
    /// The server is shutting down.
    #[error("server shutting down")]
    ShuttingDown,
}

#[derive(Clone)]
struct RoomHandle {
    generation: u64,
    tx: inbox::Sender<Cmd>,
}

/// A joined connection's way into its room.
#[derive(Clone)]
pub struct RoomSender {
    tx: inbox::Sender<Cmd>,
}

impl RoomSender {
    /// Queues the messages of one frame; waits while the room's inbox is full.
    pub async fn frame(&self, conn: ConnId, msgs: Vec<Inbound>) -> bool {
        self.send(Cmd::Frame { conn, msgs, received: crate::telemetry::stamp() }).await
    }

    /// Sends a command, waiting while the inbox is full. The wait is boxed: it is rare, and
    /// every connection's task would otherwise carry its state (docs/benchmarks.md, memory).
    async fn send(&self, cmd: Cmd) -> bool {
        match self.tx.try_send(cmd) {
            Ok(()) => true,
            Err(inbox::TrySendError::Full(cmd)) => Box::pin(self.tx.send(cmd)).await.is_ok(),
            Err(inbox::TrySendError::Closed(_)) => false,
        }
    }

    /// Changes a live connection's role (revocation lowers it).
    pub async fn set_role(&self, conn: ConnId, role: Role) {
        let _ = self.tx.send(Cmd::SetRole { conn, role }).await;
    }

    /// Tells the room the connection is gone.
    pub async fn leave(&self, conn: ConnId) {
        self.send(Cmd::Leave { conn }).await;
    }
}

/// Room settings that come from the configuration.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    pub limits: Limits,
    pub idle: Duration,
    pub compact_every: u64,
}

/// Everything a room actor needs from the server, shared.
pub(crate) struct Shared {
    rooms: DashMap<DocKey, RoomHandle>,
    next_generation: AtomicU64,
    next_conn: AtomicU64,
    store: Arc<dyn Store>,
    writer: Writer,
    compactor: Compactor,
    config: RoomConfig,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    epoch: Instant,
}

/// The registry of open rooms.
#[derive(Clone)]
pub struct Rooms {
    shared: Arc<Shared>,
}

impl Rooms {
    pub fn new(
        store: Arc<dyn Store>,
        writer: Writer,
        compactor: Compactor,
        config: RoomConfig,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                rooms: DashMap::new(),
                next_generation: AtomicU64::new(1),
                next_conn: AtomicU64::new(1),
                store,
                writer,
                compactor,
                config,
                shutdown,
                tasks: TaskTracker::new(),
                epoch: Instant::now(),
            }),
        }
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> ConnId {
        self.shared.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Number of rooms in memory.
    pub fn open_rooms(&self) -> usize {
        self.shared.rooms.len()
    }

    /// Joins `conn` to the document `key`, loading it if needed.
    pub async fn join(
        &self,
        key: &DocKey,
        conn: ConnHandle,
        principal: Principal,
        role: Role,
    ) -> Result<RoomSender, JoinError> {
        // A room that is evicting itself answers Retry; the next attempt finds its entry gone.
        for _ in 0..8 {
            if self.shared.shutdown.is_cancelled() {
                return Err(JoinError::ShuttingDown);
            }
            let handle = self.handle(key);
            let (reply, answer) = oneshot::channel();
            let cmd = Cmd::Join(Box::new(Join {
                conn: conn.clone(),
                principal: principal.clone(),
                role,
                reply: Some(reply),
            }));
            if handle.tx.send(cmd).await.is_err() {
                self.forget(key, handle.generation);
                continue;
            }
            match answer.await {
                Ok(Ok(())) => return Ok(RoomSender { tx: handle.tx }),
                Ok(Err(JoinError::Retry)) | Err(_) => self.forget(key, handle.generation),
                Ok(Err(e)) => return Err(e),
            }
        }
        Err(JoinError::Unavailable)
    }

    /// The committed state of a document, v1-encoded: from its room when it is open (so it
    /// includes everything committed so far), else from the store, without opening a room.
    pub async fn snapshot(&self, key: &DocKey) -> Result<Vec<u8>, StoreError> {
        let open = self.shared.rooms.get(key).map(|h| h.tx.clone());
        if let Some(tx) = open {
            let (reply, answer) = oneshot::channel();
            if tx.send(Cmd::Snapshot { reply }).await.is_ok() {
                if let Ok(state) = answer.await {
                    return Ok(state);
                }
            }
            // The room closed meanwhile: everything it held is committed, read the store.
        }
        let stored = self.shared.store.load(key).await?;
        tokio::task::spawn_blocking(move || crate::store::state_of(stored))
            .await
            .map_err(|e| StoreError::Other(format!("reading the board failed: {e}")))?
    }

    /// Merges a private document's state into the document `key` (loading it if needed), as
    /// the room's own change, committed before this returns. False: refused (a gap, or client
    /// ids of someone else).
    pub async fn merge(&self, key: &DocKey, author: Principal, update: Vec<u8>) -> Result<bool, JoinError> {
        for _ in 0..8 {
            if self.shared.shutdown.is_cancelled() {
                return Err(JoinError::ShuttingDown);
            }
            let handle = self.handle(key);
            let (reply, answer) = oneshot::channel();
            let cmd = Cmd::Merge(Box::new(Merge { author: author.clone(), update: update.clone(), reply }));
            if handle.tx.send(cmd).await.is_err() {
                self.forget(key, handle.generation);
                continue;
            }
            match answer.await {
                Ok(merged) => return Ok(merged),
                Err(_) => self.forget(key, handle.generation),
            }
        }
        Err(JoinError::Unavailable)
    }

    /// The actor of `key`, spawned (without awaiting anything) if there is none.
    fn handle(&self, key: &DocKey) -> RoomHandle {
        self.shared
            .rooms
            .entry(key.clone())
            .or_insert_with(|| {
                let generation = self.shared.next_generation.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = inbox::inbox(INBOX);
                let shared = self.shared.clone();
                let span = tracing::info_span!("room", doc = %key, generation);
                self.shared.tasks.spawn(tracing::Instrument::instrument(
                    actor::run(shared, key.clone(), generation, rx),
                    span,
                ));
                RoomHandle { generation, tx }
            })
            .clone()
    }

    /// Removes the entry of `key` only if it is still generation `generation`.
    fn forget(&self, key: &DocKey, generation: u64) {
        self.shared.rooms.remove_if(key, |_, h| h.generation == generation);
    }

    /// Waits until every room actor has finished (after the shutdown token is cancelled).
    pub async fn wait_closed(&self) {
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
    }
}

impl Shared {
    fn forget(&self, key: &DocKey, generation: u64) {
        self.rooms.remove_if(key, |_, h| h.generation == generation);
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

#[cfg(test)]
mod size_tests {
    /// An inbox block holds 32 commands at the size of the largest: joins and merges are boxed
    /// so that a frame, the common command, sets it.
    #[test]
    fn a_command_is_no_larger_than_a_frame() {
        assert!(std::mem::size_of::<super::Cmd>() <= 40, "{} bytes", std::mem::size_of::<super::Cmd>());
    }
}
