//! The embedded default: SQLite in WAL mode, one file under the data directory.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tokio::sync::oneshot;
use tracing::warn;

use super::directory::{
    board_from, conflict, impl_directory, invite_from, parse, project_from, user_from, NewAudit, NewUser,
    Session, BOARD_COLUMNS, INVITE_COLUMNS, USER_COLUMNS,
};
use super::{Append, AppendPlan, DocKey, Snapshot, Store, StoreError, StoredDoc};
use crate::telemetry;
use crate::tenancy::{AuditEntry, Board, Guest, Invite, Member, Project, ProjectRole, Tenant, User};

/// How long a statement waits for a lock held by another connection or process (an operator
/// command run while the server runs) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Rows in one multi-row statement of a group commit: 4 parameters each, well under SQLite's
/// 32,766 (a commit with more rows takes several statements).
const ROWS_PER_STATEMENT: usize = 2_000;

/// Multi-row statements of up to this many rows stay prepared in sqlx's per-connection cache;
/// larger ones, whose text differs with every row count, are prepared for one use. Cached,
/// each row count seen kept a prepared statement of several KB on each pooled connection
/// (1.6 MB in the rooms benchmark, `heaptrack`).
const CACHED_ROWS: usize = 4;

/// How often the WAL is copied back into the database file, off the commit path.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

pub struct SqliteStore {
    pool: SqlitePool,
    /// Held by each group commit, and by a checkpoint while it copies what the commits added
    /// during its first pass (see `checkpoints`).
    commits: Arc<tokio::sync::Mutex<()>>,
    /// Dropped with the store: ends the checkpoint task.
    _checkpoints: oneshot::Sender<()>,
}

impl SqliteStore {
    /// Opens (creating if needed) `atelier.db` in `dir`.
    pub async fn open_dir(dir: &Path, synchronous_full: bool) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", dir.display())))?;
        let options = SqliteConnectOptions::new().filename(dir.join("atelier.db"));
        Self::open(options, synchronous_full).await
    }

    /// Opens a `sqlite:` URL.
    pub async fn open_url(url: &str, synchronous_full: bool) -> Result<Self, StoreError> {
        Self::open(SqliteConnectOptions::from_str(url)?, synchronous_full).await
    }

    async fn open(options: SqliteConnectOptions, synchronous_full: bool) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if synchronous_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // SQLite's automatic checkpoint runs inside the commit that fills the WAL past 1,000
            // pages, holding it and every commit queued behind it for a few milliseconds; the
            // store's own task checkpoints instead (`checkpoints`).
            .pragma("wal_autocheckpoint", "0");
        // No ping before handing out a connection: an embedded database's connection does not
        // go stale, and the ping is a round trip to its thread. (The group commit uses the
        // pool too, unlike PostgreSQL's: a connection of its own, the only one never to see
        // another's write, kept a full page cache, 0.5 MB more in the rooms benchmark.)
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        // After the pool's first connection: an in-memory database lives as long as one does.
        migrate(options.foreign_keys(false)).await?;
        let (stop, stopped) = oneshot::channel();
        let commits = Arc::new(tokio::sync::Mutex::new(()));
        tokio::spawn(checkpoints(pool.clone(), commits.clone(), stopped));
        Ok(Self { pool, commits, _checkpoints: stop })
    }
}

/// Copies the WAL into the database file every `CHECKPOINT_EVERY`, until the store is dropped
/// or closed, in two passes: the first beside the group commits (on another pooled connection),
/// without holding them back; the second, holding them back, copies only what they added
/// meanwhile, a few pages. The log is then all copied, so the next commit starts it over from
/// its beginning and the file stays as small as one interval's commits. (A passive checkpoint
/// alone rarely finds a moment without a commit under a steady load, and the WAL then grows
/// without end.) Closing the store's last connection checkpoints what is left.
async fn checkpoints(
    pool: SqlitePool,
    commits: Arc<tokio::sync::Mutex<()>>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = every.tick() => {}
        }
        if pool.is_closed() {
            return;
        }
        let copied = async {
            // One connection for both passes, taken before the commits are held back.
            let mut conn = pool.acquire().await?;
            let beside = std::time::Instant::now();
            checkpoint(&mut conn).await?;
            metrics::histogram!(telemetry::CHECKPOINT_SECONDS, "pass" => "beside").record(beside.elapsed());
            // From asking: the commits queue behind the request while the one in progress ends.
            let held = std::time::Instant::now();
            let _held = commits.lock().await;
            checkpoint(&mut conn).await?;
            metrics::histogram!(telemetry::CHECKPOINT_SECONDS, "pass" => "held").record(held.elapsed());
            Ok::<_, StoreError>(())
        };
        match copied.await {
            Ok(()) | Err(StoreError::Db(sqlx::Error::PoolClosed)) => {}
            Err(e) => warn!(error = %e, "checkpoint failed"),
        }
    }
}

/// Runs one passive checkpoint.
async fn checkpoint(conn: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    let _: (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(conn).await?;
    Ok(())
}

/// Runs the migrations on a connection of its own with foreign keys off (`options`), then
/// checks that they broke no foreign key and closes it; the store's pool has them on. A
/// migration that rebuilds a table (SQLite cannot change a CHECK in place) drops the old table,
/// which with foreign keys on would delete every row referencing it; sqlx runs each SQLite
/// migration in a transaction, where `PRAGMA foreign_keys` cannot change, so it is set before.
async fn migrate(options: SqliteConnectOptions) -> Result<(), StoreError> {
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    let check = "PRAGMA foreign_key_check";
    let ran = async {
        let before = sqlx::query(check).fetch_all(&pool).await?.len();
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        let after = sqlx::query(check).fetch_all(&pool).await?.len();
        if after > before {
            let broken = after - before;
            return Err(StoreError::Other(format!("{broken} rows break a foreign key after migrating")));
        }
        Ok(())
    }
    .await;
    pool.close().await;
    ran
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        // One read transaction: WAL gives it a consistent view, so a compaction committing
        // between the snapshot read and the log read cannot hide rows.
        let mut tx = self.pool.begin().await?;
        let snapshot = sqlx::query("SELECT upto_seq, data FROM doc_snapshot WHERE board_id = ? AND doc = ?")
            .bind(&*key.board)
            .bind(&*key.doc)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| Snapshot { upto_seq: row.get(0), data: row.get(1) });
        let after = snapshot.as_ref().map_or(0, |s| s.upto_seq);
        let log = sqlx::query(
            "SELECT seq, data FROM doc_update WHERE board_id = ? AND doc = ? AND seq > ? ORDER BY seq",
        )
        .bind(&*key.board)
        .bind(&*key.doc)
        .bind(after)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| (row.get::<i64, _>(0), row.get::<Vec<u8>, _>(1)))
        .collect();
        let owners = sqlx::query("SELECT client_id, principal FROM board_client WHERE board_id = ?")
            .bind(&*key.board)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|row| (row.get::<i64, _>(0) as u64, row.get::<String, _>(1)))
            .collect();
        tx.commit().await?;
        Ok(StoredDoc { snapshot, log, owners })
    }

    async fn append(&self, batches: &[Append]) -> Result<Vec<i64>, StoreError> {
        let _commit = self.commits.lock().await;
        let plan = AppendPlan::new(batches);
        let mut tx = self.pool.begin().await?;
        let mut after = Vec::with_capacity(plan.docs.len());
        for chunk in plan.docs.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO doc_head (board_id, doc, head) ");
            q.push_values(chunk, |mut row, (board, doc, n)| {
                row.push_bind(*board).push_bind(*doc).push_bind(*n);
            });
            q.push(
                " ON CONFLICT (board_id, doc) DO UPDATE SET head = head + excluded.head
                  RETURNING board_id, doc, head",
            );
            for row in q.build().persistent(chunk.len() <= CACHED_ROWS).fetch_all(&mut *tx).await? {
                after.push((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
            }
        }
        let heads = plan.batch_heads(batches, after)?;
        let updates: Vec<_> = super::sequenced(batches, &heads).collect();
        for chunk in updates.chunks(ROWS_PER_STATEMENT) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO doc_update (board_id, doc, seq, data) ");
            q.push_values(chunk, |mut row, (key, seq, data)| {
                row.push_bind(&*key.board).push_bind(&*key.doc).push_bind(*seq).push_bind(*data);
            });
            q.build().persistent(chunk.len() <= CACHED_ROWS).execute(&mut *tx).await?;
        }
        let owners: Vec<_> = batches
            .iter()
            .flat_map(|b| {
                b.owners.iter().map(move |(client, principal)| (&*b.key.board, *client as i64, principal))
            })
            .collect();
        for chunk in owners.chunks(ROWS_PER_STATEMENT) {
            let mut q =
                QueryBuilder::<Sqlite>::new("INSERT INTO board_client (board_id, client_id, principal) ");
            q.push_values(chunk, |mut row, (board, client, principal)| {
                row.push_bind(*board).push_bind(*client).push_bind(principal.as_str());
            });
            q.push(" ON CONFLICT (board_id, client_id) DO NOTHING");
            q.build().persistent(chunk.len() <= CACHED_ROWS).execute(&mut *tx).await?;
        }
        for (batch, head) in batches.iter().zip(&heads) {
            let head = *head;
            super::versions::insert_versions!(tx, batch, head);
        }
        tx.commit().await?;
        Ok(heads)
    }

    async fn replace_snapshot(&self, key: &DocKey, snapshot: &Snapshot) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Take the write lock first so the check and the write see the same state.
        sqlx::query("UPDATE doc_head SET head = head WHERE board_id = ? AND doc = ?")
            .bind(&*key.board)
            .bind(&*key.doc)
            .execute(&mut *tx)
            .await?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT upto_seq FROM doc_snapshot WHERE board_id = ? AND doc = ?")
                .bind(&*key.board)
                .bind(&*key.doc)
                .fetch_optional(&mut *tx)
                .await?;
        if current.unwrap_or(0) >= snapshot.upto_seq {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO doc_snapshot (board_id, doc, upto_seq, format, data) VALUES (?, ?, ?, 1, ?)
             ON CONFLICT (board_id, doc) DO UPDATE SET upto_seq = excluded.upto_seq,
               format = excluded.format, data = excluded.data,
               updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(&*key.board)
        .bind(&*key.doc)
        .bind(snapshot.upto_seq)
        .bind(snapshot.data.as_slice())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM doc_update WHERE board_id = ? AND doc = ? AND seq <= ?")
            .bind(&*key.board)
            .bind(&*key.doc)
            .bind(snapshot.upto_seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn docs(&self, board_id: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM doc_head WHERE board_id = ?1 AND substr(doc, 1, length(?2)) = ?2 ORDER BY doc",
        )
        .bind(board_id)
        .bind(prefix)
        .fetch_all(&self.pool)
        .await?;
        Ok(names)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

impl_directory!(SqliteStore);
super::images::impl_images!(SqliteStore);
super::versions::impl_versions!(SqliteStore);
super::templates::impl_templates!(SqliteStore);
