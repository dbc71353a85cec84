//! Folds a document's update log into a snapshot, reading from the store (not from a live
//! room), so it stays right when several nodes append to the same document.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn, Instrument};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use super::{DocKey, Snapshot, Store, StoreError, StoredDoc};

/// Compaction requests waiting; more are dropped (they are hints: the next one will do).
const QUEUE: usize = 1024;

/// Handle to the background compaction task.
#[derive(Clone)]
pub struct Compactor {
    tx: mpsc::Sender<DocKey>,
}

impl Compactor {
    /// Starts the task. Once `stop` is cancelled it compacts what is already queued, then ends.
    pub fn spawn(store: Arc<dyn Store>, stop: CancellationToken) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(store, rx, stop).instrument(tracing::info_span!("compactor")));
        (Self { tx }, task)
    }

    /// Asks for `key` to be compacted soon.
    pub fn request(&self, key: DocKey) {
        let _ = self.tx.try_send(key);
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<DocKey>, stop: CancellationToken) {
    let mut keys = Vec::new();
    loop {
        let stopping = tokio::select! {
            n = rx.recv_many(&mut keys, QUEUE) => {
                if n == 0 {
                    return;
                }
                false
            }
            _ = stop.cancelled() => {
                rx.close();
                while let Ok(key) = rx.try_recv() {
                    keys.push(key);
                }
                true
            }
        };
        let unique: HashSet<DocKey> = keys.drain(..).collect();
        for key in unique {
            match fold(store.as_ref(), &key).await {
                Ok(Some(upto)) => debug!(doc = %key, upto, "compacted"),
                Ok(None) => {}
                Err(e) => warn!(doc = %key, error = %e, "compaction failed; the log stays as it is"),
            }
        }
        if stopping {
            return;
        }
    }
}

/// Folds the log of `key` into its snapshot in one transaction. Returns the sequence number the
/// new snapshot covers, or None if there was nothing to fold or another compaction won.
pub async fn fold(store: &dyn Store, key: &DocKey) -> Result<Option<i64>, StoreError> {
    let stored = store.load(key).await?;
    if stored.log.is_empty() {
        return Ok(None);
    }
    let based_on = stored.snapshot.as_ref().map_or(0, |s| s.upto_seq);
    let upto_seq = stored.head();
    let data = tokio::task::spawn_blocking(move || state_of(stored))
        .await
        .map_err(|e| StoreError::Other(format!("compaction task failed: {e}")))??;
    let replaced = store.replace_snapshot(key, based_on, &Snapshot { upto_seq, data }).await?;
    Ok(replaced.then_some(upto_seq))
}

/// Applies snapshot and log to a fresh document, one transaction per update (merging hundreds
/// of thousands of updates in one `merge_updates` call, or one transaction, is superlinear).
pub fn state_of(stored: StoredDoc) -> Result<Vec<u8>, StoreError> {
    let doc = Doc::new();
    let snapshot = stored.snapshot.map(|s| s.data);
    for bytes in snapshot.iter().chain(stored.log.iter().map(|(_, data)| data)) {
        let update = Update::decode_v1(bytes)
            .map_err(|e| StoreError::Other(format!("stored update does not decode: {e}")))?;
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| StoreError::Other(format!("stored update does not apply: {e}")))?;
    }
    // Includes anything still waiting for dependencies, so nothing in the log is dropped.
    let data = doc.transact().encode_state_as_update_v1(&StateVector::default());
    Ok(data)
}
