//! Clustering suggestions for a board (post-it workshops): the server reads the board's notes
//! from its committed state and proposes named groups (server/src/suggest, docs/clustering.md).
//! Facilitators only: it reads every note of the board at once. Nothing is written: the
//! facilitator accepts, edits or rejects each suggestion in the board itself.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{require, visible_board, ApiPath, Authed, Body};
use crate::http::{ApiError, AppState};
use crate::store::DocKey;
use crate::suggest::{self, Options, SuggestError, Suggestions};
use crate::tenancy::ProjectRole;

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
    responses((status = 200, body = SuggestResponse), (status = 400), (status = 403), (status = 404)))]
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
    let result = tokio::task::spawn_blocking(move || {
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
