//! Images placed on boards: stored in the database beside their board (served only to those who
//! may see it, deleted with it). The SQL is written once for both backends, like the directory.

use async_trait::async_trait;

use super::StoreError;

/// An image's description, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub id: String,
    pub board_id: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub byte_size: i64,
    pub sha256: String,
}

/// An image with its bytes.
#[derive(Debug, Clone)]
pub struct StoredImage {
    pub info: ImageInfo,
    pub data: Vec<u8>,
}

/// What [`Images::add_image`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Stored under the new id.
    New(ImageInfo),
    /// The board already holds these bytes: that image.
    Existing(ImageInfo),
    /// Storing it would take the board's images past the quota.
    OverQuota,
}

#[async_trait]
pub trait Images: Send + Sync + 'static {
    /// Stores an image unless the board already holds the same bytes or would pass `quota`
    /// bytes of images; one transaction, so concurrent uploads cannot pass the quota together
    /// on PostgreSQL beyond one image each (SQLite serialises writers).
    async fn add_image(
        &self,
        image: &StoredImage,
        created_by: &str,
        now: i64,
        quota: i64,
    ) -> Result<Added, StoreError>;
    /// One image of one board (an id of another board answers None).
    async fn image(&self, board_id: &str, image_id: &str) -> Result<Option<StoredImage>, StoreError>;
}

pub(crate) fn info_from<R: sqlx::Row>(row: &R) -> Result<ImageInfo, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let dim = |v: i64| u32::try_from(v).unwrap_or(0);
    Ok(ImageInfo {
        id: row.try_get("id")?,
        board_id: row.try_get("board_id")?,
        content_type: row.try_get("content_type")?,
        width: dim(row.try_get("width")?),
        height: dim(row.try_get("height")?),
        byte_size: row.try_get("byte_size")?,
        sha256: row.try_get("sha256")?,
    })
}

macro_rules! impl_images {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::images::Images for $store {
            async fn add_image(
                &self,
                image: &$crate::store::images::StoredImage,
                created_by: &str,
                now: i64,
                quota: i64,
            ) -> Result<$crate::store::images::Added, StoreError> {
                use $crate::store::images::{info_from, Added};
                const COLUMNS: &str = "id, board_id, content_type, CAST(width AS BIGINT) AS width, \
                                       CAST(height AS BIGINT) AS height, byte_size, sha256";
                let info = &image.info;
                let mut tx = self.pool.begin().await?;
                let existing = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM board_image WHERE board_id = $1 AND sha256 = $2"
                ))
                .bind(&info.board_id)
                .bind(&info.sha256)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(row) = existing {
                    return Ok(Added::Existing(info_from(&row)?));
                }
                let used: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(byte_size), 0) AS BIGINT) FROM board_image WHERE board_id = $1",
                )
                .bind(&info.board_id)
                .fetch_one(&mut *tx)
                .await?;
                if used.saturating_add(info.byte_size) > quota {
                    return Ok(Added::OverQuota);
                }
                sqlx::query(
                    "INSERT INTO board_image
                       (id, board_id, content_type, width, height, byte_size, sha256, data, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&info.id)
                .bind(&info.board_id)
                .bind(&info.content_type)
                .bind(i64::from(info.width))
                .bind(i64::from(info.height))
                .bind(info.byte_size)
                .bind(&info.sha256)
                .bind(&image.data)
                .bind(created_by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Added::New(info.clone()))
            }

            async fn image(
                &self,
                board_id: &str,
                image_id: &str,
            ) -> Result<Option<$crate::store::images::StoredImage>, StoreError> {
                let row = sqlx::query(
                    "SELECT id, board_id, content_type, CAST(width AS BIGINT) AS width,
                            CAST(height AS BIGINT) AS height, byte_size, sha256, data
                     FROM board_image WHERE board_id = $1 AND id = $2",
                )
                .bind(board_id)
                .bind(image_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let info = $crate::store::images::info_from(&row)?;
                let data: Vec<u8> = sqlx::Row::try_get(&row, "data")?;
                Ok(Some($crate::store::images::StoredImage { info, data }))
            }
        }
    };
}

pub(crate) use impl_images;
