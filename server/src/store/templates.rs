//! Tenant templates: a board's format (layout, kind, phases, prompts, image deck) kept without
//! the session's contributions, and the boards made from them. The SQL is written once for both
//! backends, like the directory.
//!
//! A template holds its own copy of the images its state names (it outlives its source board);
//! a board made from it gets copies of them under new ids, in the transaction that creates the
//! board with its first state.

use async_trait::async_trait;

use super::StoreError;
use crate::tenancy::{Board, ProjectRole};

/// A template's description, without its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInfo {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// The board kind (as stored: `BoardKind::as_str`).
    pub kind: String,
    pub source_board_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub byte_size: i64,
    /// How many images it holds.
    pub images: i64,
    /// How many boards were made from it (still existing).
    pub boards: i64,
}

/// A template to store.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub kind: String,
    pub state: Vec<u8>,
    pub source_board_id: String,
    pub created_by: String,
    pub created_at: i64,
    /// Ids of the source board's images the state names (unknown ids are skipped).
    pub images: Vec<String>,
}

#[async_trait]
pub trait Templates: Send + Sync + 'static {
    /// Stores a template and copies the named images of its source board, in one transaction.
    async fn add_template(&self, template: &NewTemplate) -> Result<(), StoreError>;
    /// A tenant's templates, newest first.
    async fn templates(&self, tenant_id: &str) -> Result<Vec<TemplateInfo>, StoreError>;
    /// One template of a tenant, with its state (another tenant's answers None).
    async fn template(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<(TemplateInfo, Vec<u8>)>, StoreError>;
    /// The ids of a template's images.
    async fn template_images(&self, template_id: &str) -> Result<Vec<String>, StoreError>;
    async fn delete_template(&self, id: &str) -> Result<(), StoreError>;
    /// In one transaction: creates `board` made from `template_id`, copies the template's images
    /// to it (`(template image id, new board image id)` pairs) and stores `state` as its
    /// document's first update.
    async fn create_board_from_template(
        &self,
        board: &Board,
        created_by: &str,
        template_id: &str,
        images: &[(String, String)],
        state: &[u8],
    ) -> Result<(), StoreError>;
    /// The boards made from a template, oldest first, each with `user_id`'s membership role in
    /// its project (None for non-members).
    async fn template_boards(
        &self,
        template_id: &str,
        user_id: &str,
    ) -> Result<Vec<(Board, Option<ProjectRole>)>, StoreError>;
}

pub(crate) const TEMPLATE_COLUMNS: &str =
    "t.id, t.tenant_id, t.name, t.kind, t.source_board_id, t.created_by, \
     t.created_at, CAST(LENGTH(t.state) AS BIGINT) AS byte_size, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM board_template_image i WHERE i.template_id = t.id) AS images, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM board b WHERE b.template_id = t.id) AS boards";

pub(crate) fn info_from(row: &impl super::directory::Columns) -> Result<TemplateInfo, StoreError> {
    Ok(TemplateInfo {
        id: row.text("id")?,
        tenant_id: row.text("tenant_id")?,
        name: row.text("name")?,
        kind: row.text("kind")?,
        source_board_id: row.opt_text("source_board_id")?,
        created_by: row.text("created_by")?,
        created_at: row.int("created_at")?,
        byte_size: row.int("byte_size")?,
        images: row.int("images")?,
        boards: row.int("boards")?,
    })
}

macro_rules! impl_templates {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::templates::Templates for $store {
            async fn add_template(&self, t: &$crate::store::templates::NewTemplate) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO board_template
                       (id, tenant_id, name, kind, state, source_board_id, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&t.id)
                .bind(&t.tenant_id)
                .bind(&t.name)
                .bind(&t.kind)
                .bind(t.state.as_slice())
                .bind(&t.source_board_id)
                .bind(&t.created_by)
                .bind(t.created_at)
                .execute(&mut *tx)
                .await?;
                for image in &t.images {
                    sqlx::query(
                        "INSERT INTO board_template_image
                           (template_id, id, content_type, width, height, byte_size, sha256, data)
                         SELECT $1, id, content_type, width, height, byte_size, sha256, data
                         FROM board_image WHERE board_id = $2 AND id = $3",
                    )
                    .bind(&t.id)
                    .bind(&t.source_board_id)
                    .bind(image)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn templates(
                &self,
                tenant_id: &str,
            ) -> Result<Vec<$crate::store::templates::TemplateInfo>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM board_template t WHERE t.tenant_id = $1 ORDER BY t.created_at DESC, t.id",
                    $crate::store::templates::TEMPLATE_COLUMNS
                ))
                .bind(tenant_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::store::templates::info_from).collect()
            }

            async fn template(
                &self,
                tenant_id: &str,
                id: &str,
            ) -> Result<Option<($crate::store::templates::TemplateInfo, Vec<u8>)>, StoreError> {
                let row = sqlx::query(&format!(
                    "SELECT {}, t.state FROM board_template t WHERE t.tenant_id = $1 AND t.id = $2",
                    $crate::store::templates::TEMPLATE_COLUMNS
                ))
                .bind(tenant_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let info = $crate::store::templates::info_from(&row)?;
                let state: Vec<u8> = sqlx::Row::try_get(&row, "state")?;
                Ok(Some((info, state)))
            }

            async fn template_images(&self, template_id: &str) -> Result<Vec<String>, StoreError> {
                let ids: Vec<String> =
                    sqlx::query_scalar("SELECT id FROM board_template_image WHERE template_id = $1 ORDER BY id")
                        .bind(template_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(ids)
            }

            async fn delete_template(&self, id: &str) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                for sql in [
                    "UPDATE board SET template_id = NULL WHERE template_id = $1",
                    "DELETE FROM board_template_image WHERE template_id = $1",
                    "DELETE FROM board_template WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_board_from_template(
                &self,
                b: &$crate::tenancy::Board,
                created_by: &str,
                template_id: &str,
                images: &[(String, String)],
                state: &[u8],
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO board (id, tenant_id, project_id, title, kind, created_by, created_at, template_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&b.id)
                .bind(&b.tenant_id)
                .bind(&b.project_id)
                .bind(&b.title)
                .bind(b.kind.as_str())
                .bind(created_by)
                .bind(b.created_at)
                .bind(template_id)
                .execute(&mut *tx)
                .await?;
                for (from, to) in images {
                    sqlx::query(
                        "INSERT INTO board_image
                           (id, board_id, content_type, width, height, byte_size, sha256, data, created_by, created_at)
                         SELECT $1, $2, content_type, width, height, byte_size, sha256, data, $3, $4
                         FROM board_template_image WHERE template_id = $5 AND id = $6",
                    )
                    .bind(to)
                    .bind(&b.id)
                    .bind(created_by)
                    .bind(b.created_at)
                    .bind(template_id)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?;
                }
                $crate::store::insert_first_update!(tx, &b.id, state);
                tx.commit().await?;
                Ok(())
            }

            async fn template_boards(
                &self,
                template_id: &str,
                user_id: &str,
            ) -> Result<Vec<($crate::tenancy::Board, Option<$crate::tenancy::ProjectRole>)>, StoreError> {
                let rows = sqlx::query(
                    "SELECT b.id, b.tenant_id, b.project_id, b.title, b.kind, b.created_at, b.archived_at,
                            m.role AS member_role
                     FROM board b
                     LEFT JOIN project_member m ON m.project_id = b.project_id AND m.user_id = $2
                     WHERE b.template_id = $1
                     ORDER BY b.created_at, b.id",
                )
                .bind(template_id)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                let mut boards = Vec::with_capacity(rows.len());
                for row in &rows {
                    let board = $crate::store::directory::board_from(row)?;
                    let role = match $crate::store::directory::Columns::opt_text(row, "member_role")? {
                        Some(role) => Some($crate::store::directory::parse(&role, $crate::tenancy::ProjectRole::parse)?),
                        None => None,
                    };
                    boards.push((board, role));
                }
                Ok(boards)
            }
        }
    };
}

pub(crate) use impl_templates;
