//! Persistence: one interface, two backends (embedded SQLite, PostgreSQL). Only this module
//! holds SQL.
//!
//! A board's document is stored as an append-only update log (per-document sequence numbers,
//! assigned under the document's head row, so sequence order is commit order) folded from time
//! to time into a snapshot. Loading is snapshot plus log tail, read in one transaction.
//! Documents are keyed by board *and* document name so a board can later hold several documents
//! (e.g. per-author private notes); today every board has one, [`MAIN_DOC`].

/// Inside a backend's transaction `$tx`: stores `$data` as the first update of board `$board`'s
/// main document (a new board made from a template, or with its kind's first state). Both
/// backends write it the same way; a macro because the transaction types differ.
macro_rules! insert_first_update {
    ($tx:expr, $board:expr, $data:expr) => {{
        sqlx::query("INSERT INTO doc_head (board_id, doc, head) VALUES ($1, $2, 1)")
            .bind($board)
            .bind($crate::store::MAIN_DOC)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("INSERT INTO doc_update (board_id, doc, seq, data) VALUES ($1, $2, 1, $3)")
            .bind($board)
            .bind($crate::store::MAIN_DOC)
            .bind($data)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use insert_first_update;

mod compactor;
mod dedicated;
pub mod directory;
pub mod images;
mod postgres;
mod sqlite;
pub mod templates;
pub mod versions;
mod writer;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

pub use compactor::{fold, state_of, Compactor};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use writer::{AppendOutcome, Writer};

/// Name of the document every board has.
pub const MAIN_DOC: &str = "main";
/// Prefix of the names of participants' private documents (`author:<principal>`).
pub const AUTHOR_PREFIX: &str = "author:";

/// Which document: a board and a document name within it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DocKey {
    pub board: Arc<str>,
    pub doc: Arc<str>,
}

impl DocKey {
    pub fn main(board: impl Into<Arc<str>>) -> Self {
        Self { board: board.into(), doc: Arc::from(MAIN_DOC) }
    }

    /// A participant's private document on a board (notes written during a silent phase, seen
    /// by nobody else until the facilitator reveals them).
    pub fn author(board: impl Into<Arc<str>>, principal: &str) -> Self {
        Self { board: board.into(), doc: Arc::from(format!("{AUTHOR_PREFIX}{principal}")) }
    }

    /// The principal of a private document, if this is one.
    pub fn author_of(&self) -> Option<&str> {
        self.doc.strip_prefix(AUTHOR_PREFIX)
    }
}

impl fmt::Debug for DocKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.board, self.doc)
    }
}

impl fmt::Display for DocKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A snapshot: the document state (a v1 update) covering every log entry up to `upto_seq`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub upto_seq: i64,
    pub data: Vec<u8>,
}

/// Everything needed to open a document.
#[derive(Debug, Default)]
pub struct StoredDoc {
    pub snapshot: Option<Snapshot>,
    /// Log entries after the snapshot, in sequence order.
    pub log: Vec<(i64, Vec<u8>)>,
    /// Yjs client ids bound to principals on this board.
    pub owners: Vec<(u64, String)>,
}

impl StoredDoc {
    /// Sequence number of the newest entry this state covers.
    pub fn head(&self) -> i64 {
        self.log.last().map(|(seq, _)| *seq).or(self.snapshot.as_ref().map(|s| s.upto_seq)).unwrap_or(0)
    }
}

/// Updates of one document to append in a group commit.
#[derive(Debug, Clone)]
pub struct Append {
    pub key: DocKey,
    pub updates: Vec<Vec<u8>>,
    /// New bindings of Yjs client ids to principals (board-wide).
    pub owners: Vec<(u64, String)>,
    /// Versions taken with this batch (at the head it reaches).
    pub versions: Vec<NewVersion>,
}

/// How a group commit lays its batches out in the log: each document's head row is bumped once
/// by everything the commit adds to it, then every batch takes its place after the previous
/// one of the same document, in the order the batches were queued. Both backends write a commit
/// as one statement per table (heads, updates, owners) instead of two per batch: on SQLite each
/// statement is a round trip to sqlx's worker thread (two thread switches), on PostgreSQL a
/// network round trip.
pub(crate) struct AppendPlan<'a> {
    /// Every document once, with the number of updates this commit adds to it, sorted by key:
    /// concurrent commits (several nodes on PostgreSQL) lock head rows in the same order.
    pub docs: Vec<(&'a str, &'a str, i64)>,
}

impl<'a> AppendPlan<'a> {
    pub fn new(batches: &'a [Append]) -> Self {
        let mut docs: Vec<(&str, &str, i64)> = Vec::with_capacity(batches.len());
        for batch in batches {
            docs.push((&batch.key.board, &batch.key.doc, batch.updates.len() as i64));
        }
        docs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        docs.dedup_by(|later, kept| {
            let same = (later.0, later.1) == (kept.0, kept.1);
            if same {
                kept.2 += later.2;
            }
            same
        });
        Self { docs }
    }

    /// Each batch's head (the sequence number of its last update, or the document's head when
    /// it has none), in batch order, given every document's head after the commit as the
    /// database returned it: `(board, doc, head)` rows in any order.
    pub fn batch_heads(
        &self,
        batches: &[Append],
        after: impl IntoIterator<Item = (String, String, i64)>,
    ) -> Result<Vec<i64>, StoreError> {
        // The head each document had before the commit, in `docs` order.
        let mut next: Vec<Option<i64>> = vec![None; self.docs.len()];
        for (board, doc, head) in after {
            let i = self
                .index(&board, &doc)
                .ok_or_else(|| StoreError::Other("a head row for no batch".into()))?;
            next[i] = Some(head - self.docs[i].2);
        }
        let mut heads = Vec::with_capacity(batches.len());
        for batch in batches {
            let i = self
                .index(&batch.key.board, &batch.key.doc)
                .ok_or_else(|| StoreError::Other("a batch's document is not in the plan".into()))?;
            let before =
                next[i].ok_or_else(|| StoreError::Other("a document's head row was not returned".into()))?;
            let head = before + batch.updates.len() as i64;
            next[i] = Some(head);
            heads.push(head);
        }
        Ok(heads)
    }

    fn index(&self, board: &str, doc: &str) -> Option<usize> {
        self.docs.binary_search_by(|d| (d.0, d.1).cmp(&(board, doc))).ok()
    }
}

/// Every update of a commit with its sequence number, given the batches' heads.
pub(crate) fn sequenced<'a>(
    batches: &'a [Append],
    heads: &'a [i64],
) -> impl Iterator<Item = (&'a DocKey, i64, &'a [u8])> {
    batches.iter().zip(heads).flat_map(|(batch, head)| {
        let first = head - batch.updates.len() as i64 + 1;
        batch.updates.iter().enumerate().map(move |(i, u)| (&batch.key, first + i as i64, u.as_slice()))
    })
}

/// A named version of a document, to store.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub id: String,
    pub label: String,
    pub created_by: String,
    pub created_at: i64,
    /// The whole document state, v1-encoded.
    pub state: Vec<u8>,
}

/// A storage failure. Its text is for logs only, never for clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("{0}")]
    Other(String),
}

/// Everything the server stores: documents and the tenancy model, in one database.
pub trait Database:
    Store + directory::Directory + images::Images + versions::Versions + templates::Templates
{
}

impl<T: Store + directory::Directory + images::Images + versions::Versions + templates::Templates> Database
    for T
{
}

/// The storage interface the rest of the server uses.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads a document's snapshot, log tail and client-id owners in one consistent read.
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError>;

    /// Appends every batch in one transaction (group commit). Returns, per batch, the sequence
    /// number of its last update (the document's new head).
    async fn append(&self, batches: &[Append]) -> Result<Vec<i64>, StoreError>;

    /// In one transaction: makes `snapshot` the snapshot of `key` and deletes the log entries
    /// it covers, unless the current snapshot already covers as much (`upto_seq` at least as
    /// high). Returns false, changing nothing, in that case: another compaction got there
    /// first. A snapshot at `upto_seq` N must hold every update of the log up to N, whoever
    /// computed it (the compactor from the store, or a room from its document, see
    /// `room::actor`), so the newer one is always the one to keep.
    async fn replace_snapshot(&self, key: &DocKey, snapshot: &Snapshot) -> Result<bool, StoreError>;

    /// The names of a board's stored documents whose name starts with `prefix`, sorted.
    async fn docs(&self, board_id: &str, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Closes the connection pool.
    async fn close(&self);

    /// A short name for logs: "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
}

/// Opens the store named by `database_url` (PostgreSQL or SQLite), or the embedded SQLite
/// database in `data_dir`, and runs the migrations.
pub async fn open(
    database_url: Option<&str>,
    data_dir: &std::path::Path,
    sqlite_synchronous_full: bool,
) -> Result<Arc<dyn Database>, StoreError> {
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PgStore::connect(url).await?))
        }
        Some(url) if url.starts_with("sqlite:") => {
            Ok(Arc::new(SqliteStore::open_url(url, sqlite_synchronous_full).await?))
        }
        Some(_) => Err(StoreError::Other(
            "DATABASE_URL must start with postgres://, postgresql:// or sqlite:".into(),
        )),
        None => Ok(Arc::new(SqliteStore::open_dir(data_dir, sqlite_synchronous_full).await?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(board: &str, doc: &str, n: usize) -> Append {
        Append {
            key: DocKey { board: board.into(), doc: doc.into() },
            updates: (0..n).map(|i| vec![i as u8]).collect(),
            owners: vec![],
            versions: vec![],
        }
    }

    #[test]
    fn a_commit_bumps_each_head_once_in_key_order_and_batches_follow_queue_order() {
        let batches =
            [batch("b", "main", 2), batch("a", "main", 1), batch("b", "main", 3), batch("a", "x", 0)];
        let plan = AppendPlan::new(&batches);
        assert_eq!(plan.docs, vec![("a", "main", 1), ("a", "x", 0), ("b", "main", 5)]);
        // The database's rows after the commit, in any order: b/main was at 10, a/main at 0.
        let after = [("b", "main", 15), ("a", "x", 4), ("a", "main", 1)]
            .map(|(b, d, h)| (b.to_string(), d.to_string(), h));
        let heads = plan.batch_heads(&batches, after).unwrap();
        assert_eq!(heads, vec![12, 1, 15, 4]);
        let seqs: Vec<(&str, i64, u8)> =
            sequenced(&batches, &heads).map(|(k, seq, u)| (&*k.board, seq, u[0])).collect();
        assert_eq!(
            seqs,
            vec![("b", 11, 0), ("b", 12, 1), ("a", 1, 0), ("b", 13, 0), ("b", 14, 1), ("b", 15, 2)]
        );
    }

    #[test]
    fn a_missing_or_unknown_head_row_is_an_error_not_a_guess() {
        let batches = [batch("a", "main", 1), batch("b", "main", 1)];
        let plan = AppendPlan::new(&batches);
        let only_a = [("a".to_string(), "main".to_string(), 1)];
        assert!(plan.batch_heads(&batches, only_a).is_err());
        let stranger = [("a", 1), ("b", 1), ("c", 1)].map(|(b, h)| (b.to_string(), "main".to_string(), h));
        assert!(plan.batch_heads(&batches, stranger).is_err());
    }
}
