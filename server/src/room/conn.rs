//! The room's side of a connection: its bounded outbox and a way to close it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::Notify;
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
    pub outbox: OutboxSender,
    pub signal: Arc<ConnSignal>,
}

/// A connection's bounded outbox: the room queues frames without ever waiting, the connection's
/// writer task drains them into the socket.
///
/// Not a tokio mpsc channel, for memory: a bounded tokio channel allocates, per connection and
/// up front, a block of 32 slots (1 KiB of `Bytes`) and a header padded to cache lines
/// (~0.5 KiB), about a tenth of what a connection cost in the rooms benchmark
/// (docs/benchmarks.md). This queue starts empty and holds only what is waiting, usually
/// nothing or a frame or two. Semantics are the channel's: `try_send` fails when `cap` frames
/// wait (a slow client) or the writer is gone; `recv` ends once every sender is dropped.
pub fn outbox(cap: usize) -> (OutboxSender, OutboxReceiver) {
    let shared = Arc::new(Outbox {
        state: Mutex::new(OutboxState { frames: VecDeque::new(), senders: 1, receiving: true }),
        ready: Notify::new(),
        cap: cap.max(1),
    });
    (OutboxSender(shared.clone()), OutboxReceiver(shared))
}

struct Outbox {
    state: Mutex<OutboxState>,
    /// Wakes the writer: a frame was queued or the last sender went away.
    ready: Notify,
    cap: usize,
}

struct OutboxState {
    frames: VecDeque<Bytes>,
    senders: usize,
    receiving: bool,
}

/// Capacity kept by an emptied queue; a backlog's larger buffer is released once drained.
const OUTBOX_KEEP: usize = 8;

/// The room's end of an outbox.
pub struct OutboxSender(Arc<Outbox>);

impl OutboxSender {
    /// Queues a frame without waiting. False when the outbox is full or its writer is gone.
    pub fn try_send(&self, frame: Bytes) -> bool {
        let Ok(mut state) = self.0.state.lock() else { return false };
        if !state.receiving || state.frames.len() >= self.0.cap {
            return false;
        }
        state.frames.push_back(frame);
        drop(state);
        self.0.ready.notify_one();
        true
    }
}

impl Clone for OutboxSender {
    fn clone(&self) -> Self {
        if let Ok(mut state) = self.0.state.lock() {
            state.senders += 1;
        }
        Self(self.0.clone())
    }
}

impl Drop for OutboxSender {
    fn drop(&mut self) {
        let last = match self.0.state.lock() {
            Ok(mut state) => {
                state.senders -= 1;
                state.senders == 0
            }
            Err(_) => true,
        };
        if last {
            self.0.ready.notify_one();
        }
    }
}

/// The writer's end of an outbox.
pub struct OutboxReceiver(Arc<Outbox>);

impl OutboxReceiver {
    /// The next frame, or None once every sender is dropped and the queue is empty.
    /// Cancel-safe (the writer polls it in a `select!`): a frame leaves the queue only when returned.
    pub async fn recv(&mut self) -> Option<Bytes> {
        loop {
            {
                let Ok(mut state) = self.0.state.lock() else { return None };
                if let Some(frame) = state.frames.pop_front() {
                    if state.frames.is_empty() && state.frames.capacity() > OUTBOX_KEEP {
                        state.frames = VecDeque::new();
                    }
                    return Some(frame);
                }
                if state.senders == 0 {
                    return None;
                }
            }
            // A notification sent between the check above and this await is kept as a permit
            // (one receiver, `notify_one`), so none is lost.
            self.0.ready.notified().await;
        }
    }
}

impl Drop for OutboxReceiver {
    fn drop(&mut self) {
        if let Ok(mut state) = self.0.state.lock() {
            state.receiving = false;
            state.frames = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outbox_is_bounded_ordered_and_closes_both_ways() {
        let (tx, mut rx) = outbox(2);
        assert!(tx.try_send(Bytes::from_static(b"a")));
        assert!(tx.try_send(Bytes::from_static(b"b")));
        assert!(!tx.try_send(Bytes::from_static(b"c")), "a full outbox refuses");
        assert_eq!(rx.recv().await.as_deref(), Some(&b"a"[..]));
        assert!(tx.try_send(Bytes::from_static(b"c")));
        let other = tx.clone();
        drop(tx);
        assert_eq!(rx.recv().await.as_deref(), Some(&b"b"[..]));
        assert_eq!(rx.recv().await.as_deref(), Some(&b"c"[..]));
        // Waits while a sender remains; ends when the last one goes.
        let waiting = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(other);
        assert_eq!(waiting.await.unwrap(), None);

        let (tx, rx) = outbox(4);
        drop(rx);
        assert!(!tx.try_send(Bytes::from_static(b"x")), "no writer: refused");
    }

    #[tokio::test]
    async fn outbox_wakes_a_waiting_writer_and_releases_a_drained_backlog() {
        let (tx, mut rx) = outbox(1024);
        let reader = tokio::spawn(async move {
            let first = rx.recv().await;
            (first, rx)
        });
        tokio::task::yield_now().await;
        assert!(tx.try_send(Bytes::from_static(b"late")));
        let (first, mut rx) = reader.await.unwrap();
        assert_eq!(first.as_deref(), Some(&b"late"[..]));
        for _ in 0..500 {
            assert!(tx.try_send(Bytes::from_static(b"f")));
        }
        for _ in 0..500 {
            rx.recv().await.unwrap();
        }
        assert!(rx.0.state.lock().unwrap().frames.capacity() <= OUTBOX_KEEP);
    }
}
