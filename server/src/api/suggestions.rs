//! Clustering suggestions for a board (post-it workshops): the server reads the board's notes
//! from its committed state and proposes named groups (server/src/suggest, docs/clustering.md).
//! Facilitators only: it reads every note of the board at once. Nothing is written: the
//! facilitator accepts, edits or rejects each suggestion in the board itself.
//!
//! A suggestion is CPU work (about a second and 100 MB at the cap of 5,000 notes): at most
//! [`AT_ONCE`] run at a time, server-wide; a request that cannot start within [`WAIT`] gets a
//! 429, so no facilitator can take the server's cores or memory by asking many times at once.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, SemaphorePermit};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, visible_board, ApiPath, Authed, Body};
use crate::http::{ApiError, AppState};
use crate::store::DocKey;
use crate::suggest::{self, Options, SuggestError, Suggestions};
use crate::tenancy::ProjectRole;

/// Suggestions computed at the same time, server-wide.
const AT_ONCE: usize = 2;
/// How long a request waits for its turn before a 429.
const WAIT: Duration = Duration::from_secs(20);
static RUNNING: Semaphore = Semaphore::const_new(AT_ONCE);

/// A turn to compute, or a 429 when none frees up within `wait`.
async fn turn(slots: &Semaphore, wait: Duration) -> Result<SemaphorePermit<'_>, ApiError> {
    match tokio::time::timeout(wait, slots.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(ApiError::too_many("other suggestions are being computed, try again in a moment")),
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(suggest_clusters))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SuggestRequest {
    /// Tuning (language, number and size of groups); defaults apply to what is missing.
    #[serde(default)]
    options: Option<Options>,
    /// Also group notes that already belong to a cluster (default: only the others).
    #[serde(default)]
    include_clustered: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestResponse {
    /// Notes read and grouped.
    notes_considered: usize,
    #[serde(flatten)]
    suggestions: Suggestions,
}

/// Proposes named groups of the board's notes by textual similarity (facilitators and owners).
#[utoipa::path(post, path = "/boards/{board_id}/suggestions/clusters", tag = "boards",
    request_body = SuggestRequest,
    responses((status = 200, body = SuggestResponse), (status = 400), (status = 403), (status = 404),
        (status = 429, description = "other suggestions are being computed: try again")))]
async fn suggest_clusters(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
    Body(req): Body<SuggestRequest>,
) -> Result<Json<SuggestResponse>, ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    let options = req.options.unwrap_or_default();
    let state = app.rooms.snapshot(&DocKey::main(board.id.as_str())).await.map_err(ApiError::store)?;
    let include_clustered = req.include_clustered;
    let permit = turn(&RUNNING, WAIT).await?;
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let read = crate::boarddoc::read(&state).map_err(|e| {
            tracing::error!(error = %e, "stored board does not read");
            ApiError::internal()
        })?;
        let notes: Vec<suggest::Note> = read
            .notes
            .into_iter()
            .filter(|n| include_clustered || n.parent.is_none())
            .map(|n| suggest::Note { id: n.id, text: n.text })
            .collect();
        let count = notes.len();
        suggest::suggest(&notes, &options).map(|s| (count, s)).map_err(|e| match e {
            SuggestError::InvalidOption(_) | SuggestError::TooManyNotes { .. } => {
                ApiError::bad_request(e.to_string())
            }
            // Ids come from the board document: any client may have written odd ones.
            SuggestError::IdTooLong { .. } | SuggestError::DuplicateId(_) => {
                ApiError::bad_request("the board holds notes with unusable ids")
            }
        })
    })
    .await
    .map_err(|_| ApiError::internal())??;
    let (notes_considered, suggestions) = result;
    Ok(Json(SuggestResponse { notes_considered, suggestions }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_waits_its_turn_then_gets_a_429() {
        static SLOTS: Semaphore = Semaphore::const_new(1);
        let first = turn(&SLOTS, Duration::from_millis(10)).await.expect("a free slot");
        let refused = turn(&SLOTS, Duration::from_millis(50)).await.expect_err("no slot");
        assert_eq!(refused.status, axum::http::StatusCode::TOO_MANY_REQUESTS);
        // A turn that frees up while a request waits goes to it.
        let waiting = tokio::spawn(turn(&SLOTS, Duration::from_secs(5)));
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(first);
        assert!(waiting.await.unwrap().is_ok());
    }
}
