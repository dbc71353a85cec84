//! Boards of a project: create, list, read, rename, archive, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit, name, require, visible_board, visible_project, ApiPath, Authed, Body};
use crate::auth::{new_id, now_ms};
use crate::http::{ApiError, AppState};
use crate::live::DELETED;
use crate::sync::Role;
use crate::tenancy::{Board, BoardKind, ProjectRole};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_board, list_boards)).routes(routes!(
        get_board,
        update_board,
        delete_board
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBoard {
    title: String,
    /// Required, unless the board is made from a template (then it takes the template's kind).
    kind: Option<BoardKind>,
    /// A template of the organisation to make the board from, in one step: its kind, layout,
    /// phases, prompts and images.
    template_id: Option<String>,
}

/// Creates a board in a project (facilitators and owners), empty or from a template of the
/// organisation (`template_id`).
#[utoipa::path(post, path = "/projects/{project_id}/boards", tag = "boards", request_body = CreateBoard,
    responses((status = 201, body = Board), (status = 400), (status = 403), (status = 404)))]
async fn create_board(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(project_id): ApiPath<String>,
    Body(req): Body<CreateBoard>,
) -> Result<(StatusCode, Json<Board>), ApiError> {
    let (project, role) = visible_project(&app, &caller, &project_id).await?;
    require(Some(role), ProjectRole::Facilitator)?;
    let title = name("title", &req.title, 200)?;
    let board = if let Some(template_id) = &req.template_id {
        super::templates::create_board_from(&app, &caller, project, title, req.kind, template_id).await?
    } else {
        let board = Board {
            id: new_id(),
            tenant_id: project.tenant_id,
            project_id: project.id,
            title,
            kind: req.kind.ok_or_else(|| ApiError::bad_request("kind is required without template_id"))?,
            created_at: now_ms(),
            archived_at: None,
        };
        let first_update = crate::boarddoc::first_state(board.kind);
        app.db
            .create_board(&board, &caller.principal_id(), first_update.as_deref())
            .await
            .map_err(ApiError::store)?;
        board
    };
    audit(
        &app,
        &caller,
        "board.create",
        &board.id,
        serde_json::json!({"title": board.title, "kind": board.kind, "template": req.template_id}),
    )
    .await;
    Ok((StatusCode::CREATED, Json(board)))
}

/// The boards of a project.
#[utoipa::path(get, path = "/projects/{project_id}/boards", tag = "boards",
    responses((status = 200, body = [Board]), (status = 404)))]
async fn list_boards(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(project_id): ApiPath<String>,
) -> Result<Json<Vec<Board>>, ApiError> {
    let (project, _) = visible_project(&app, &caller, &project_id).await?;
    Ok(Json(app.db.boards(&project.id).await.map_err(ApiError::store)?))
}

/// One board (guests: only the board they were invited to).
#[utoipa::path(get, path = "/boards/{board_id}", tag = "boards", responses((status = 200, body = Board), (status = 404)))]
async fn get_board(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
) -> Result<Json<Board>, ApiError> {
    Ok(Json(visible_board(&app, &caller, &board_id).await?.0))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBoard {
    /// A new title.
    title: Option<String>,
    /// true archives the board (read-only for everyone), false restores it.
    archived: Option<bool>,
}

/// Renames, archives or restores a board (facilitators and owners).
#[utoipa::path(patch, path = "/boards/{board_id}", tag = "boards", request_body = UpdateBoard,
    responses((status = 200, body = Board), (status = 403), (status = 404)))]
async fn update_board(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
    Body(req): Body<UpdateBoard>,
) -> Result<Json<Board>, ApiError> {
    let (mut board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    if let Some(title) = req.title {
        let title = name("title", &title, 200)?;
        app.db.rename_board(&board.id, &title).await.map_err(ApiError::store)?;
        audit(
            &app,
            &caller,
            "board.rename",
            &board.id,
            serde_json::json!({"from": board.title, "to": title}),
        )
        .await;
        board.title = title;
    }
    if let Some(archived) = req.archived {
        if archived != board.archived_at.is_some() {
            let at = archived.then(now_ms);
            app.db.set_archived(&board.id, at).await.map_err(ApiError::store)?;
            board.archived_at = at;
            let action = if archived { "board.archive" } else { "board.unarchive" };
            audit(&app, &caller, action, &board.id, serde_json::json!({})).await;
            if archived {
                app.live.set_role_where(Role::Viewer, |c| c.board_id == board.id).await;
            }
        }
    }
    Ok(Json(board))
}

/// Deletes a board and everything stored of it (owners); its open connections close.
#[utoipa::path(delete, path = "/boards/{board_id}", tag = "boards", responses((status = 204), (status = 403), (status = 404)))]
async fn delete_board(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Owner)?;
    app.live.close_where(DELETED, |c| c.board_id == board.id);
    app.db.delete_board(&board.id).await.map_err(ApiError::store)?;
    audit(&app, &caller, "board.delete", &board.id, serde_json::json!({"title": board.title})).await;
    Ok(StatusCode::NO_CONTENT)
}
