//! Versions of a board: kept automatically at each phase change (in the commit that changed the
//! phase) and on a facilitator's request; listed and read by facilitators (a version may hold
//! what participants could not see at the time). A version's content is the whole document as
//! a Yjs v1 update, which any Yjs client can load.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit, name, plausible_id, require, visible_board, ApiPath, Authed, Body};
use crate::auth::{new_id, now_ms};
use crate::http::{ApiError, AppState};
use crate::store::versions::VersionInfo;
use crate::store::{DocKey, NewVersion, MAIN_DOC};
use crate::tenancy::ProjectRole;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_version, list_versions)).routes(routes!(get_version))
}

/// A version of a board.
#[derive(Serialize, ToSchema)]
pub struct Version {
    id: String,
    /// `phase:<id>` when taken at a phase change; otherwise the label a facilitator gave.
    label: String,
    /// Who took it (the facilitator who changed the phase, or asked for it).
    created_by: String,
    created_at: i64,
    /// Size of its content in bytes.
    bytes: i64,
}

impl From<VersionInfo> for Version {
    fn from(v: VersionInfo) -> Self {
        Self {
            id: v.id,
            label: v.label,
            created_by: v.created_by,
            created_at: v.created_at,
            bytes: v.byte_size,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVersion {
    /// What this version is (1 to 200 characters).
    label: String,
}

/// Keeps the board as it is now under a label (facilitators and owners).
#[utoipa::path(post, path = "/boards/{board_id}/versions", tag = "boards", request_body = CreateVersion,
    responses((status = 201, body = Version), (status = 403), (status = 404)))]
async fn create_version(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
    Body(req): Body<CreateVersion>,
) -> Result<(StatusCode, Json<Version>), ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    let label = name("label", &req.label, 200)?;
    let state = app.rooms.snapshot(&DocKey::main(board.id.as_str())).await.map_err(ApiError::store)?;
    let version =
        NewVersion { id: new_id(), label, created_by: caller.principal_id(), created_at: now_ms(), state };
    app.db.add_version(&board.id, MAIN_DOC, &version).await.map_err(ApiError::store)?;
    audit(&app, &caller, "version.create", &board.id, serde_json::json!({"version": version.id})).await;
    Ok((
        StatusCode::CREATED,
        Json(Version {
            bytes: version.state.len() as i64,
            id: version.id,
            label: version.label,
            created_by: version.created_by,
            created_at: version.created_at,
        }),
    ))
}

/// The versions of a board, oldest first (facilitators and owners).
#[utoipa::path(get, path = "/boards/{board_id}/versions", tag = "boards",
    responses((status = 200, body = [Version]), (status = 403), (status = 404)))]
async fn list_versions(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
) -> Result<Json<Vec<Version>>, ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    let versions = app.db.versions(&board.id).await.map_err(ApiError::store)?;
    Ok(Json(versions.into_iter().map(Version::from).collect()))
}

/// One version's content: the whole document as a Yjs v1 update (facilitators and owners).
#[utoipa::path(get, path = "/boards/{board_id}/versions/{version_id}", tag = "boards",
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 403), (status = 404)))]
async fn get_version(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath((board_id, version_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    if !plausible_id(&version_id) {
        return Err(ApiError::not_found("version"));
    }
    let (_, state) = app
        .db
        .version(&board.id, &version_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("version"))?;
    let mut response = state.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}
