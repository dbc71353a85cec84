//! The sync core: the Yjs sync and awareness protocol for one board, as plain data in and out.
//!
//! Nothing in this module does IO: no sockets, no database, no clock reads. The room actor
//! (`crate::room`) feeds it decoded frames and the current time, executes the [`Effect`]s it
//! returns, and commits the batches it hands out before telling it so. That split is what makes
//! the durability contract testable with plain data: [`Room`] never emits a document update, or a
//! sync reply, that the actor has not confirmed as committed.

pub mod room;
pub mod rules;
pub mod validate;
pub mod wire;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

pub use room::{Commit, Room};
pub use wire::{decode_frame, Inbound, MSG_SAVED};

/// Identifies one WebSocket connection within the process.
pub type ConnId = u64;

/// The stable identity behind a connection: a user or a guest. Yjs client ids are bound to it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Principal(Arc<str>);

impl Principal {
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Principal({})", self.0)
    }
}

/// What a connection may do on a board, decided when it connects (and lowered by revocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// May change everything, including what facilitation protects (board settings in `meta`,
    /// locks): the project's facilitators and owners.
    Facilitator,
    /// May read and change the board, within the facilitation rules ([`rules`]).
    Editor,
    /// Receives the board and everyone's presence; every update with new content is refused.
    Viewer,
}

impl Role {
    /// Whether this role may change the board at all.
    pub fn can_edit(self) -> bool {
        !matches!(self, Role::Viewer)
    }
}

/// Per-board limits enforced by the core.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_board_bytes: u64,
    pub max_awareness_bytes: usize,
    pub awareness_per_sec: u32,
    pub max_pending_bytes: usize,
    /// In a room of more than [`BATCH_ABOVE`] connections, presence changes are gathered for
    /// this many milliseconds and relayed as one frame (0: relay each at once).
    pub presence_batch_ms: u64,
    /// In a room of more than [`BATCH_ABOVE`] connections, edits are committed, and so relayed,
    /// at most once every this many milliseconds: those arriving in between wait and go out
    /// together, merged per author (0: each round at once). See [`Room::edit_batch`].
    pub edit_batch_ms: u64,
    /// Items (notes, shapes, ...) one participant may add per minute, unless the board sets its
    /// own `meta.addsPerMinute` (a public evening: a few signals each). Facilitators are not
    /// limited. A burst up to one minute's worth passes at once (a paste of many notes).
    pub adds_per_minute: u64,
}

/// Rooms up to this many connections relay each presence change and each edit at once (a
/// workshop's cursors and drags at full rate); larger rooms batch them (see
/// [`Limits::presence_batch_ms`], [`Limits::edit_batch_ms`]): relayed one by one, 500 cursors
/// moving at 1 Hz would be 250,000 frames a second, and a note dragged at 60 updates a second
/// on a public evening's board one frame per participant for each of them.
pub const BATCH_ABOVE: usize = 16;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_board_bytes: 64 * 1024 * 1024,
            max_awareness_bytes: 16 * 1024,
            awareness_per_sec: 30,
            max_pending_bytes: 1024 * 1024,
            presence_batch_ms: 50,
            edit_batch_ms: 10,
            adds_per_minute: 200,
        }
    }
}

/// A WebSocket close code and a short reason safe to show to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: &'static str,
}

impl Close {
    /// A short description for logs and metrics: the reason, or for the codes sent without one
    /// what they mean.
    pub fn describe(&self) -> &'static str {
        match (self.code, self.reason) {
            (_, reason) if !reason.is_empty() => reason,
            (1000, _) => "closed",
            (1006, _) => "connection lost",
            _ => "",
        }
    }

    /// The connection ended normally (1000).
    pub const NORMAL: Close = Close { code: 1000, reason: "" };
    /// The socket broke: no close frame can be sent (1006 is never sent on the wire).
    pub const GONE: Close = Close { code: 1006, reason: "" };
    /// The client sent bytes that are not a valid message (RFC 6455: 1007 invalid payload).
    pub const MALFORMED: Close = Close { code: 1007, reason: "malformed message" };
    /// A message or the board would exceed a configured size (1009 message too big).
    pub const TOO_BIG: Close = Close { code: 1009, reason: "message or board too large" };
    /// An update or presence state claims a Yjs client id bound to someone else (1008 policy).
    pub const SPOOF: Close = Close { code: 1008, reason: "client id belongs to another participant" };
    /// Too many updates waiting for missing dependencies (1008 policy).
    pub const PENDING: Close = Close { code: 1008, reason: "too many updates with missing dependencies" };
    /// The client does not read fast enough; reconnecting resyncs it (1013 try again later).
    pub const SLOW: Close = Close { code: 1013, reason: "client too slow, reconnect to resync" };
    /// The board could not be saved or failed internally; it reloads, reconnecting resyncs.
    pub const RELOAD: Close = Close { code: 1013, reason: "board reloading, reconnect to resync" };
    /// The server is shutting down (1001 going away).
    pub const SHUTDOWN: Close = Close { code: 1001, reason: "server shutting down" };
    /// No pong or message for too long.
    pub const TIMEOUT: Close = Close { code: 1001, reason: "keepalive timeout" };
    /// A text frame: the protocol is binary only (1003 unsupported data).
    pub const TEXT: Close = Close { code: 1003, reason: "binary frames only" };
}

/// What the core asks its driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send one frame to one connection.
    Send(ConnId, Bytes),
    /// Send the same frame to every connection of the board, except `except` when set.
    Broadcast { except: Option<ConnId>, frame: Bytes },
    /// Close a connection. The core has already forgotten it.
    Close(ConnId, Close),
}
