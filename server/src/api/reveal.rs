//! The reveal of a silent phase. While participants write in silence, each one's notes go to a
//! private document of the board (`/ws/{board_id}/mine`, stored as `author:<principal>`), which
//! nobody else receives: hidden content never reaches another participant's connection. The
//! facilitator's reveal merges every private document into the board, as the server's own
//! change, committed before the answer; everyone then sees every note. Merging is idempotent:
//! revealing again adds only what was written since.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit, require, visible_board, ApiPath, Authed};
use crate::http::{ApiError, AppState};
use crate::store::{DocKey, AUTHOR_PREFIX};
use crate::sync::Principal;
use crate::tenancy::ProjectRole;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reveal))
}

#[derive(Serialize, ToSchema)]
pub struct Revealed {
    /// Participants whose private notes were merged.
    authors: usize,
    /// Notes in those private documents.
    notes: usize,
    /// Private documents that could not be merged (they would have left a hole in a client's
    /// history, or were written with someone else's client ids); their notes stay private.
    refused: usize,
}

/// Reveals the participants' private notes into the board (facilitators and owners).
#[utoipa::path(post, path = "/boards/{board_id}/reveal", tag = "boards",
    responses((status = 200, body = Revealed), (status = 403), (status = 404)))]
async fn reveal(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
) -> Result<Json<Revealed>, ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    let main = DocKey::main(board.id.as_str());
    let mut out = Revealed { authors: 0, notes: 0, refused: 0 };
    for doc in app.db.docs(&board.id, AUTHOR_PREFIX).await.map_err(ApiError::store)? {
        let key = DocKey { board: main.board.clone(), doc: doc.into() };
        let Some(author) = key.author_of().map(Principal::new) else { continue };
        let state = app.rooms.snapshot(&key).await.map_err(ApiError::store)?;
        let notes = crate::boarddoc::read(&state).map(|b| b.notes.len()).unwrap_or(0);
        let merged = app.rooms.merge(&main, author, state).await.map_err(|e| {
            tracing::error!(error = %e, "reveal: the board could not be opened");
            ApiError::internal()
        })?;
        if merged {
            out.authors += 1;
            out.notes += notes;
        } else {
            out.refused += 1;
        }
    }
    audit(
        &app,
        &caller,
        "board.reveal",
        &board.id,
        serde_json::json!({"authors": out.authors, "notes": out.notes, "refused": out.refused}),
    )
    .await;
    Ok(Json(out))
}
