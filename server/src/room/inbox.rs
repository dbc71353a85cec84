//! A room's inbox: a bounded multi-producer queue of commands, drained by the room's actor.
//!
//! The semantics are those of tokio's bounded mpsc channel (senders wait while it is full, the
//! receiver takes up to a round at a time, closing refuses new commands but keeps the queued
//! ones, it ends once every sender is gone), with the memory of a queue that holds only what
//! waits. tokio's channel allocates its slots 32 at a time and keeps a block (about 1 KiB for
//! these commands) plus its header for as long as the board is open: with four clients per
//! board, most of what an open board costs per connection in the rooms benchmark
//! (docs/benchmarks.md).

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Capacity an emptied queue keeps; a burst's larger buffer is released once drained.
const KEEP: usize = 4;

/// Why a command was not queued; it is handed back.
#[derive(Debug)]
pub enum TrySendError<T> {
    Full(T),
    Closed(T),
}

pub fn inbox<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { queue: VecDeque::new(), senders: 1, closed: false }),
        queued: Notify::new(),
        space: Notify::new(),
        cap: cap.max(1),
    });
    (Sender(shared.clone()), Receiver(shared))
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes the receiver: a command was queued, or the last sender went away.
    queued: Notify,
    /// Wakes waiting senders: room was made, or the inbox closed.
    space: Notify,
    cap: usize,
}

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    closed: bool,
}

pub struct Sender<T>(Arc<Shared<T>>);

impl<T> Sender<T> {
    /// Queues `cmd` unless the inbox is full or closed.
    pub fn try_send(&self, cmd: T) -> Result<(), TrySendError<T>> {
        let Ok(mut state) = self.0.state.lock() else { return Err(TrySendError::Closed(cmd)) };
        if state.closed {
            return Err(TrySendError::Closed(cmd));
        }
        if state.queue.len() >= self.0.cap {
            return Err(TrySendError::Full(cmd));
        }
        state.queue.push_back(cmd);
        drop(state);
        self.0.queued.notify_one();
        Ok(())
    }

    /// Queues `cmd`, waiting while the inbox is full; hands it back once the inbox is closed.
    pub async fn send(&self, mut cmd: T) -> Result<(), T> {
        loop {
            // Registered before the check, so that room made in between is not missed.
            let mut space = pin!(self.0.space.notified());
            space.as_mut().enable();
            match self.try_send(cmd) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(back)) => return Err(back),
                Err(TrySendError::Full(back)) => cmd = back,
            }
            space.await;
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        if let Ok(mut state) = self.0.state.lock() {
            state.senders += 1;
        }
        Self(self.0.clone())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = match self.0.state.lock() {
            Ok(mut state) => {
                state.senders -= 1;
                state.senders == 0
            }
            Err(_) => true,
        };
        if last {
            self.0.queued.notify_one();
        }
    }
}

pub struct Receiver<T>(Arc<Shared<T>>);

impl<T> Receiver<T> {
    /// Moves up to `limit` queued commands into `into`, waiting for at least one; 0 once the
    /// inbox is empty and closed or without senders. Cancel-safe: a command leaves the queue
    /// only when it is returned.
    pub async fn recv_many(&mut self, into: &mut Vec<T>, limit: usize) -> usize {
        loop {
            {
                let Ok(mut state) = self.0.state.lock() else { return 0 };
                if !state.queue.is_empty() {
                    let n = state.queue.len().min(limit.max(1));
                    into.extend(state.queue.drain(..n));
                    if state.queue.is_empty() && state.queue.capacity() > KEEP {
                        state.queue = VecDeque::new();
                    }
                    drop(state);
                    self.0.space.notify_waiters();
                    return n;
                }
                if state.closed || state.senders == 0 {
                    return 0;
                }
            }
            // A command queued after the check above leaves a permit (one receiver,
            // `notify_one`): this wait returns at once.
            self.0.queued.notified().await;
        }
    }

    /// The next command, or None once the inbox is empty and closed or without senders.
    pub async fn recv(&mut self) -> Option<T> {
        let mut one = Vec::with_capacity(1);
        self.recv_many(&mut one, 1).await;
        one.pop()
    }

    /// Refuses new commands; those already queued are still received. Waiting senders get
    /// theirs back.
    pub fn close(&mut self) {
        if let Ok(mut state) = self.0.state.lock() {
            state.closed = true;
        }
        self.0.space.notify_waiters();
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let queued = match self.0.state.lock() {
            Ok(mut state) => {
                state.closed = true;
                std::mem::take(&mut state.queue)
            }
            Err(_) => VecDeque::new(),
        };
        // Dropped outside the lock: a command's reply channel wakes its sender.
        drop(queued);
        self.0.space.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_in_order_and_a_full_inbox_makes_senders_wait() {
        let (tx, mut rx) = inbox(2);
        tx.try_send(1).unwrap();
        tx.send(2).await.unwrap();
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        let waiting = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send(3).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "waits while full");
        let mut got = Vec::new();
        assert_eq!(rx.recv_many(&mut got, 10).await, 2);
        assert_eq!(got, vec![1, 2]);
        waiting.await.unwrap().unwrap();
        assert_eq!(rx.recv().await, Some(3));

        let (tx, mut rx) = inbox(1024);
        for i in 0..500 {
            tx.try_send(i).unwrap();
        }
        let mut got = Vec::new();
        assert_eq!(rx.recv_many(&mut got, 1000).await, 500);
        assert!(rx.0.state.lock().unwrap().queue.capacity() <= KEEP, "a burst's buffer is released");
    }

    #[tokio::test]
    async fn closing_keeps_what_is_queued_and_refuses_the_rest() {
        let (tx, mut rx) = inbox(1);
        tx.try_send("queued").unwrap();
        let waiting = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send("late").await })
        };
        tokio::task::yield_now().await;
        rx.close();
        assert_eq!(waiting.await.unwrap(), Err("late"), "a waiting sender gets its command back");
        assert!(matches!(tx.try_send("after"), Err(TrySendError::Closed("after"))));
        assert_eq!(rx.recv().await, Some("queued"));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn the_receiver_wakes_for_a_command_and_ends_with_the_last_sender() {
        let (tx, mut rx) = inbox::<u32>(8);
        let receiver = tokio::spawn(async move {
            let first = rx.recv().await;
            let end = rx.recv().await;
            (first, end)
        });
        tokio::task::yield_now().await;
        tx.try_send(7).unwrap();
        let other = tx.clone();
        drop(tx);
        tokio::task::yield_now().await;
        drop(other);
        assert_eq!(receiver.await.unwrap(), (Some(7), None));

        let (tx, rx) = inbox::<u32>(8);
        drop(rx);
        assert!(matches!(tx.try_send(1), Err(TrySendError::Closed(1))), "no receiver: refused");
    }
}
