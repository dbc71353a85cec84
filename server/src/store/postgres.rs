//! PostgreSQL, for production and for several nodes sharing one database.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool, Postgres, Row};

use super::dedicated::Dedicated;
use super::directory::{
    board_from, conflict, impl_directory, invite_from, parse, project_from, user_from, NewAudit, NewUser,
    Session, BOARD_COLUMNS, INVITE_COLUMNS, USER_COLUMNS,
};
use super::{Append, AppendPlan, DocKey, Snapshot, Store, StoreError, StoredDoc};
use crate::tenancy::{AuditEntry, Board, Guest, Invite, Member, Project, ProjectRole, Tenant, User};

/// How long to wait for a pooled connection before reporting the database unreachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// A pooled connection idle this long is pinged before use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

pub struct PgStore {
    pool: PgPool,
    /// The group commit's own connection (see `dedicated`).
    writer: Dedicated<Postgres>,
}

impl PgStore {
    /// Connects and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings a connection when it comes back to the pool; pinging it again when it is
            // handed out, a round trip to the server for every query, is only worth it after it
            // sat idle (a database restarted meanwhile): joins and board loads each save one.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_AFTER_IDLE {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await?;
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        Ok(Self { pool, writer: Dedicated::new() })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        // One statement, so one snapshot of the database for the three reads (a statement
        // sees the database as of its start, CTE included) and one round trip instead of a
        // transaction of six: the snapshot (part 0), the updates after it in order (part 1),
        // the board's client owners (part 2).
        let rows = sqlx::query(
            "WITH snap AS (SELECT upto_seq, data FROM doc_snapshot WHERE board_id = $1 AND doc = $2)
             SELECT 0 AS part, upto_seq AS n, data, NULL::text AS principal FROM snap
             UNION ALL
             SELECT 1, u.seq, u.data, NULL FROM doc_update u
              WHERE u.board_id = $1 AND u.doc = $2 AND u.seq > COALESCE((SELECT upto_seq FROM snap), 0)
             UNION ALL
             SELECT 2, c.client_id, NULL, c.principal FROM board_client c WHERE c.board_id = $1
             ORDER BY part, n",
        )
        .bind(&*key.board)
        .bind(&*key.doc)
        .fetch_all(&self.pool)
        .await?;
        let mut snapshot = None;
        let mut log = Vec::new();
        let mut owners = Vec::new();
        for row in rows {
            let n: i64 = row.get(1);
            match row.get::<i32, _>(0) {
                0 => snapshot = Some(Snapshot { upto_seq: n, data: row.get(2) }),
                1 => log.push((n, row.get::<Vec<u8>, _>(2))),
                _ => owners.push((n as u64, row.get::<String, _>(3))),
            }
        }
        Ok(StoredDoc { snapshot, log, owners })
    }

    async fn append(&self, batches: &[Append]) -> Result<Vec<i64>, StoreError> {
        self.writer.run(&self.pool, async |conn| append_on(conn, batches).await).await
    }

    async fn replace_snapshot(&self, key: &DocKey, snapshot: &Snapshot) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Serialise with appends and other compactors of this document.
        sqlx::query("SELECT head FROM doc_head WHERE board_id = $1 AND doc = $2 FOR UPDATE")
            .bind(&*key.board)
            .bind(&*key.doc)
            .fetch_optional(&mut *tx)
            .await?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT upto_seq FROM doc_snapshot WHERE board_id = $1 AND doc = $2")
                .bind(&*key.board)
                .bind(&*key.doc)
                .fetch_optional(&mut *tx)
                .await?;
        if current.unwrap_or(0) >= snapshot.upto_seq {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO doc_snapshot (board_id, doc, upto_seq, format, data) VALUES ($1, $2, $3, 1, $4)
             ON CONFLICT (board_id, doc) DO UPDATE SET upto_seq = EXCLUDED.upto_seq,
               format = EXCLUDED.format, data = EXCLUDED.data, updated_at = now()",
        )
        .bind(&*key.board)
        .bind(&*key.doc)
        .bind(snapshot.upto_seq)
        .bind(snapshot.data.as_slice())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM doc_update WHERE board_id = $1 AND doc = $2 AND seq <= $3")
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
            "SELECT doc FROM doc_head WHERE board_id = $1 AND substr(doc, 1, length($2)) = $2 ORDER BY doc",
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
        self.writer.close().await;
        self.pool.close().await;
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

/// One group commit on the writer's connection: one statement, so one round trip; a commit
/// carrying versions (a phase change) runs it in a transaction with the versions.
async fn append_on(conn: &mut PgConnection, batches: &[Append]) -> Result<Vec<i64>, StoreError> {
    if batches.iter().all(|b| b.versions.is_empty()) {
        return log(conn, batches).await;
    }
    let mut tx = conn.begin().await?;
    let heads = log(&mut tx, batches).await?;
    for (batch, head) in batches.iter().zip(&heads) {
        let head = *head;
        super::versions::insert_versions!(tx, batch, head);
    }
    tx.commit().await?;
    Ok(heads)
}

/// The statement of a group commit: head rows, log rows and client bindings. Returns each
/// batch's head.
async fn log(conn: &mut PgConnection, batches: &[Append]) -> Result<Vec<i64>, StoreError> {
    let plan = AppendPlan::new(batches);
    let (boards, docs, counts): (Vec<&str>, Vec<&str>, Vec<i64>) =
        plan.docs.iter().map(|(b, d, n)| (*b, *d, *n)).collect();
    // Each update's place counted back from its document's new head (0: the last), in batch
    // order, the order `AppendPlan::batch_heads` gives the batches.
    let mut left = counts.clone();
    let (mut u_boards, mut u_docs, mut backs, mut data) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for batch in batches {
        let i = plan
            .index(&batch.key.board, &batch.key.doc)
            .ok_or_else(|| StoreError::Other("a batch's document is not in the plan".into()))?;
        for update in &batch.updates {
            left[i] -= 1;
            u_boards.push(&*batch.key.board);
            u_docs.push(&*batch.key.doc);
            backs.push(left[i]);
            data.push(update.as_slice());
        }
    }
    let (o_boards, (clients, principals)): (Vec<&str>, (Vec<i64>, Vec<&str>)) = batches
        .iter()
        .flat_map(|b| b.owners.iter().map(move |(c, p)| (&*b.key.board, (*c as i64, p.as_str()))))
        .collect();
    // The head rows stay locked until the statement commits: concurrent writers of the same
    // document (other nodes) queue there, so sequence order is commit order; rows are locked in
    // key order. The log rows take their numbers from the heads the same statement returns.
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "WITH heads AS (
           INSERT INTO doc_head (board_id, doc, head)
           SELECT b, d, n FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(b, d, n) ORDER BY b, d
           ON CONFLICT (board_id, doc) DO UPDATE SET head = doc_head.head + EXCLUDED.head
           RETURNING board_id, doc, head
         ), logged AS (
           INSERT INTO doc_update (board_id, doc, seq, data)
           SELECT u.b, u.d, h.head - u.back, u.data
             FROM unnest($4::text[], $5::text[], $6::bigint[], $7::bytea[]) AS u(b, d, back, data)
             JOIN heads h ON h.board_id = u.b AND h.doc = u.d
           RETURNING 1
         ), owned AS (
           INSERT INTO board_client (board_id, client_id, principal)
           SELECT * FROM unnest($8::text[], $9::bigint[], $10::text[])
           ON CONFLICT (board_id, client_id) DO NOTHING
         )
         -- Every update logged, or the whole statement fails (division by zero): it cannot
         -- miss, the log rows join the heads on the same keys, but a commit is all or nothing.
         SELECT board_id, doc, head FROM heads
          WHERE 1 / ((SELECT count(*) FROM logged) = $11)::int = 1",
    )
    .bind(&boards)
    .bind(&docs)
    .bind(&counts)
    .bind(&u_boards)
    .bind(&u_docs)
    .bind(&backs)
    .bind(&data)
    .bind(&o_boards)
    .bind(&clients)
    .bind(&principals)
    .bind(data.len() as i64)
    .fetch_all(&mut *conn)
    .await?;
    plan.batch_heads(batches, rows)
}

impl_directory!(PgStore);
super::images::impl_images!(PgStore);
super::versions::impl_versions!(PgStore);
super::templates::impl_templates!(PgStore);
