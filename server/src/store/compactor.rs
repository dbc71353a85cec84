//! Folds a document's update log into a snapshot, in the background.
//!
//! Two ways in: [`Compactor::save`] stores a state a room encoded from its document at a head
//! it knows to be exactly the store's (nothing to read back, nothing to replay), and
//! [`Compactor::request`] folds from the store (snapshot + log replayed into a fresh document),
//! for when a room cannot vouch for its state: another node appended to the same document, or
//! the board is not open.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::{debug, warn, Instrument};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use super::{DocKey, Snapshot, Store, StoreError, StoredDoc};

/// Compaction requests waiting; more are dropped (they are hints: the next one will do).
const QUEUE: usize = 1024;

enum Job {
    Fold(DocKey),
    Save(DocKey, Snapshot),
}

/// Handle to the background compaction task.
#[derive(Clone)]
pub struct Compactor {
    tx: mpsc::Sender<Job>,
}

impl Compactor {
    /// Starts the task. It ends once every handle is dropped and what was queued is done.
    pub fn spawn(store: Arc<dyn Store>) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(store, rx).instrument(tracing::info_span!("compactor")));
        (Self { tx }, task)
    }

    /// Asks for `key` to be compacted soon, from the store.
    pub fn request(&self, key: DocKey) {
        let _ = self.tx.try_send(Job::Fold(key));
    }

    /// Stores `snapshot` as the snapshot of `key`: the caller vouches that it holds exactly
    /// the log up to `snapshot.upto_seq`.
    pub fn save(&self, key: DocKey, snapshot: Snapshot) {
        let _ = self.tx.try_send(Job::Save(key, snapshot));
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::new();
    // Ends once every handle is gone and the queue is empty: on shutdown the rooms, closing
    // last, fold their logs on their way out, and that work is done before the store closes.
    while rx.recv_many(&mut jobs, QUEUE).await > 0 {
        // Per document, the newest state saved wins; a fold is only needed where none was.
        let mut saves: HashMap<DocKey, Snapshot> = HashMap::new();
        let mut folds = HashSet::new();
        for job in jobs.drain(..) {
            match job {
                Job::Save(key, snapshot) => {
                    if saves.get(&key).is_none_or(|s| s.upto_seq < snapshot.upto_seq) {
                        saves.insert(key, snapshot);
                    }
                }
                Job::Fold(key) => {
                    folds.insert(key);
                }
            }
        }
        for (key, snapshot) in saves {
            folds.remove(&key);
            match store.replace_snapshot(&key, &snapshot).await {
                Ok(true) => debug!(doc = %key, upto = snapshot.upto_seq, "snapshot saved"),
                Ok(false) => {}
                Err(e) => warn!(doc = %key, error = %e, "saving a snapshot failed; the log stays as it is"),
            }
        }
        for key in folds {
            match fold(store.as_ref(), &key).await {
                Ok(Some(upto)) => debug!(doc = %key, upto, "compacted"),
                Ok(None) => {}
                Err(e) => warn!(doc = %key, error = %e, "compaction failed; the log stays as it is"),
            }
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
    let upto_seq = stored.head();
    let data = tokio::task::spawn_blocking(move || state_of(stored))
        .await
        .map_err(|e| StoreError::Other(format!("compaction task failed: {e}")))??;
    let replaced = store.replace_snapshot(key, &Snapshot { upto_seq, data }).await?;
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
