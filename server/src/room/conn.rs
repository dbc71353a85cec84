//! The room's side of a connection: its bounded outbox and a way to close it.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::sync::{Close, ConnId};

/// Tells a connection's tasks to close the socket, and with which code and reason. It is separate
/// from the outbox so that a full outbox can still be closed.
#[derive(Debug, Default)]
pub struct ConnSignal {
    token: CancellationToken,
    why: Mutex<Option<Close>>,
}

impl ConnSignal {
    /// Asks for the connection to close; the first reason given wins.
    pub fn close(&self, why: Close) {
        if let Ok(mut slot) = self.why.lock() {
            slot.get_or_insert(why);
        }
        self.token.cancel();
    }

    /// Resolves once a close was asked for.
    pub async fn closed(&self) {
        self.token.cancelled().await
    }

    /// The reason given to [`ConnSignal::close`], if any.
    pub fn reason(&self) -> Option<Close> {
        self.why.lock().ok().and_then(|slot| *slot)
    }
}

/// What a room holds for each connection.
#[derive(Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub outbox: mpsc::Sender<Bytes>,
    pub signal: Arc<ConnSignal>,
}
