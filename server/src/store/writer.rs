//! Group commit: one task appends the updates of every room in shared transactions.
//!
//! Rooms send their batch and wait for the reply; while a transaction is running, new batches
//! queue up and go into the next one. One writer suits SQLite's single-writer model and keeps
//! PostgreSQL at one commit (one fsync) per round instead of one per update.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tracing::{error, Instrument};

use super::{Append, Store};
use crate::telemetry;

/// Batches waiting in the writer's queue before rooms wait to enqueue.
const QUEUE: usize = 4096;
/// Most batches in one transaction.
const MAX_BATCHES_PER_COMMIT: usize = 512;

struct Job {
    append: Append,
    reply: oneshot::Sender<AppendOutcome>,
}

/// The result of one append: the document's new head, or failure (details are in the log).
pub type AppendOutcome = Result<i64, ()>;

/// Handle to the group-commit task. Cloning is cheap; the task ends when every handle is gone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub fn spawn(store: Arc<dyn Store>) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(store, rx).instrument(tracing::info_span!("writer")));
        (Self { tx }, task)
    }

    /// Appends one document's updates; resolves once they are committed.
    pub async fn append(&self, append: Append) -> AppendOutcome {
        let (reply, done) = oneshot::channel();
        self.tx.send(Job { append, reply }).await.map_err(|_| ())?;
        done.await.map_err(|_| ())?
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCHES_PER_COMMIT);
    while rx.recv_many(&mut jobs, MAX_BATCHES_PER_COMMIT).await > 0 {
        let (appends, replies): (Vec<_>, Vec<_>) = jobs.drain(..).map(|j| (j.append, j.reply)).unzip();
        let started = std::time::Instant::now();
        match store.append(&appends).await {
            Ok(heads) => {
                metrics::histogram!(telemetry::COMMIT_SECONDS).record(started.elapsed());
                metrics::histogram!(telemetry::COMMIT_BATCHES).record(appends.len() as f64);
                let updates: usize = appends.iter().map(|a| a.updates.len()).sum();
                metrics::counter!(telemetry::UPDATES_COMMITTED).increment(updates as u64);
                for (reply, head) in replies.into_iter().zip(heads) {
                    let _ = reply.send(Ok(head));
                }
            }
            Err(e) => {
                error!(error = %e, batches = appends.len(), "group commit failed");
                for reply in replies {
                    let _ = reply.send(Err(()));
                }
            }
        }
    }
}
