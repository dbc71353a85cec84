//! The group-commit writer's own connection, held outside the pool.
//!
//! Every use of a pooled connection costs sqlx two extra round trips to the database (a ping
//! when the pool hands it out, another when it takes it back, in a task of its own). Appends
//! come from one task (the [`Writer`](super::Writer)) several hundred times a second, so on
//! PostgreSQL they keep one connection of their own and pay only for their statements. (Not
//! on SQLite: see `sqlite.rs`.) A connection that failed is dropped and the
//! next append opens a new one: an error may have left it broken (a PostgreSQL restart).

use sqlx::{Connection, Database, Pool};
use tokio::sync::Mutex;

use super::StoreError;

pub(super) struct Dedicated<DB: Database> {
    slot: Mutex<Option<DB::Connection>>,
}

impl<DB: Database> Dedicated<DB> {
    pub fn new() -> Self {
        Self { slot: Mutex::new(None) }
    }

    /// Runs `work` on the connection (opened from `pool`'s options when there is none); the
    /// connection is kept if `work` succeeds, dropped if it fails.
    pub async fn run<T>(
        &self,
        pool: &Pool<DB>,
        work: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut slot = self.slot.lock().await;
        let mut conn = match slot.take() {
            Some(conn) => conn,
            None => pool.acquire().await?.detach(),
        };
        let result = work(&mut conn).await;
        if result.is_ok() {
            *slot = Some(conn);
        }
        result
    }

    /// Closes the connection, if open.
    pub async fn close(&self) {
        if let Some(conn) = self.slot.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}
