//! Named versions of boards (phase changes, a facilitator's request): listing and reading them.
//! Versions taken with a commit are written by `Store::append`, in the commit's transaction.
//! The SQL is written once for both backends, like the directory.

use async_trait::async_trait;

use super::{NewVersion, StoreError};

/// A version's description, without its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub id: String,
    pub label: String,
    pub created_by: String,
    pub created_at: i64,
    pub byte_size: i64,
}

#[async_trait]
pub trait Versions: Send + Sync + 'static {
    /// Stores a version taken outside a commit (at the document's current head).
    async fn add_version(&self, board_id: &str, doc: &str, version: &NewVersion) -> Result<(), StoreError>;
    /// A board's versions of its main document, oldest first.
    async fn versions(&self, board_id: &str) -> Result<Vec<VersionInfo>, StoreError>;
    /// One version with its state (a version of another board answers None).
    async fn version(&self, board_id: &str, id: &str) -> Result<Option<(VersionInfo, Vec<u8>)>, StoreError>;
}

pub(crate) fn info_from(row: &impl super::directory::Columns) -> Result<VersionInfo, StoreError> {
    Ok(VersionInfo {
        id: row.text("id")?,
        label: row.text("label")?,
        created_by: row.text("created_by")?,
        created_at: row.int("created_at")?,
        byte_size: row.int("byte_size")?,
    })
}

macro_rules! impl_versions {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::versions::Versions for $store {
            async fn add_version(
                &self,
                board_id: &str,
                doc: &str,
                v: &$crate::store::NewVersion,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO board_version (id, board_id, doc, seq, label, created_by, created_at, byte_size, state)
                     VALUES ($1, $2, $3,
                             COALESCE((SELECT head FROM doc_head WHERE board_id = $2 AND doc = $3), 0),
                             $4, $5, $6, $7, $8)",
                )
                .bind(&v.id)
                .bind(board_id)
                .bind(doc)
                .bind(&v.label)
                .bind(&v.created_by)
                .bind(v.created_at)
                .bind(v.state.len() as i64)
                .bind(v.state.as_slice())
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn versions(
                &self,
                board_id: &str,
            ) -> Result<Vec<$crate::store::versions::VersionInfo>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, label, created_by, created_at, byte_size FROM board_version
                     WHERE board_id = $1 AND doc = 'main' ORDER BY created_at, seq, id",
                )
                .bind(board_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::store::versions::info_from).collect()
            }

            async fn version(
                &self,
                board_id: &str,
                id: &str,
            ) -> Result<Option<($crate::store::versions::VersionInfo, Vec<u8>)>, StoreError> {
                let row = sqlx::query(
                    "SELECT id, label, created_by, created_at, byte_size, state FROM board_version
                     WHERE board_id = $1 AND id = $2",
                )
                .bind(board_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let info = $crate::store::versions::info_from(&row)?;
                let state: Vec<u8> = sqlx::Row::try_get(&row, "state")?;
                Ok(Some((info, state)))
            }
        }
    };
}

pub(crate) use impl_versions;

/// Inside `Store::append`'s transaction `$tx`: stores the versions of `$batch` at sequence
/// `$head` (written once for both backends).
macro_rules! insert_versions {
    ($tx:ident, $batch:ident, $head:ident) => {
        for v in &$batch.versions {
            sqlx::query(
                "INSERT INTO board_version (id, board_id, doc, seq, label, created_by, created_at, byte_size, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&v.id)
            .bind(&*$batch.key.board)
            .bind(&*$batch.key.doc)
            .bind($head)
            .bind(&v.label)
            .bind(&v.created_by)
            .bind(v.created_at)
            .bind(v.state.len() as i64)
            .bind(v.state.as_slice())
            .execute(&mut *$tx)
            .await?;
        }
    };
}

pub(crate) use insert_versions;
