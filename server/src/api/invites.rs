//! Guest invitations: a link that lets anyone holding it join one board, with no account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit, name, require, visible_board, ApiPath, Authed, Body};
use crate::auth::{self, new_id, now_ms};
use crate::http::{ApiError, AppState};
use crate::live::REVOKED;
use crate::tenancy::{Board, Caller, Guest, GuestRole, Invite, ProjectRole};

/// Longest an invite may live.
const MAX_INVITE_SECS: u64 = 90 * 24 * 3600;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invite, list_invites))
        .routes(routes!(revoke_invite))
        .routes(routes!(revoke_board_invite))
        .routes(routes!(accept_invite))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    role: GuestRole,
    /// Lifetime in seconds (60 to 90 days).
    expires_in_secs: u64,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedInvite {
    /// The secret of the link; shown once, stored only as a hash.
    token: String,
    /// The link to give to guests.
    url: String,
    invite: Invite,
}

/// Creates an invitation to a board (facilitators and owners).
#[utoipa::path(post, path = "/boards/{board_id}/invites", tag = "invites", request_body = CreateInvite,
    responses((status = 201, body = CreatedInvite), (status = 403), (status = 404)))]
async fn create_invite(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
    Body(req): Body<CreateInvite>,
) -> Result<(StatusCode, Json<CreatedInvite>), ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    if !(60..=MAX_INVITE_SECS).contains(&req.expires_in_secs) {
        return Err(ApiError::bad_request(format!("expires_in_secs must be 60 to {MAX_INVITE_SECS}")));
    }
    let now = now_ms();
    let token = auth::new_token();
    let invite = Invite {
        id: new_id(),
        board_id: board.id.clone(),
        role: req.role,
        created_by: caller.principal_id(),
        created_at: now,
        expires_at: now + (req.expires_in_secs * 1000) as i64,
        revoked_at: None,
    };
    app.db
        .create_invite(&invite, &auth::token_hash(&token), &board.tenant_id)
        .await
        .map_err(ApiError::store)?;
    audit(
        &app,
        &caller,
        "invite.create",
        &board.id,
        serde_json::json!({"invite_id": invite.id, "role": invite.role, "expires_at": invite.expires_at}),
    )
    .await;
    let base = app.config.public_url.clone().unwrap_or_else(|| format!("http://{}", app.config.listen));
    let url = format!("{}/join/{token}", base.trim_end_matches('/'));
    Ok((StatusCode::CREATED, Json(CreatedInvite { token, url, invite })))
}

/// The invitations of a board (facilitators and owners).
#[utoipa::path(get, path = "/boards/{board_id}/invites", tag = "invites",
    responses((status = 200, body = [Invite]), (status = 403), (status = 404)))]
async fn list_invites(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
) -> Result<Json<Vec<Invite>>, ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    Ok(Json(app.db.invites(&board.id).await.map_err(ApiError::store)?))
}

/// Revokes an invitation (facilitators and owners of its board); its guests are disconnected.
#[utoipa::path(delete, path = "/invites/{invite_token}", tag = "invites",
    responses((status = 204), (status = 403), (status = 404)))]
async fn revoke_invite(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(invite_token): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if !super::plausible_id(&invite_token) {
        return Err(ApiError::not_found("invite"));
    }
    let (invite, _) = app
        .db
        .invite_by_token(&auth::token_hash(&invite_token))
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    let (board, role) =
        visible_board(&app, &caller, &invite.board_id).await.map_err(|_| ApiError::not_found("invite"))?;
    require(role, ProjectRole::Facilitator)?;
    app.db.revoke_invite(&invite.id, now_ms()).await.map_err(ApiError::store)?;
    audit(&app, &caller, "invite.revoke", &board.id, serde_json::json!({"invite_id": invite.id})).await;
    app.live.close_where(REVOKED, |c| c.invite_id.as_deref() == Some(invite.id.as_str()));
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes an invitation by its id, from the board's list (facilitators and owners): the link's
/// secret is not needed, so any facilitator can end any invitation of the board from any device.
#[utoipa::path(delete, path = "/boards/{board_id}/invites/{invite_id}", tag = "invites",
    responses((status = 204), (status = 403), (status = 404)))]
async fn revoke_board_invite(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath((board_id, invite_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (board, role) = visible_board(&app, &caller, &board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    let invites = app.db.invites(&board.id).await.map_err(ApiError::store)?;
    let invite =
        invites.into_iter().find(|i| i.id == invite_id).ok_or_else(|| ApiError::not_found("invite"))?;
    app.db.revoke_invite(&invite.id, now_ms()).await.map_err(ApiError::store)?;
    audit(&app, &caller, "invite.revoke", &board.id, serde_json::json!({"invite_id": invite.id})).await;
    app.live.close_where(REVOKED, |c| c.invite_id.as_deref() == Some(invite.id.as_str()));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// A guest token for REST and the WebSocket, valid until the invite expires or is revoked.
    token: String,
    expires_at: i64,
    guest: Guest,
    board: Board,
}

/// Joins a board as a guest under a display name; no account, no other token needed.
#[utoipa::path(post, path = "/invites/{invite_token}/accept", tag = "invites", request_body = AcceptInvite, security(()),
    responses((status = 201, body = Accepted), (status = 404, description = "unknown, expired or revoked invite")))]
async fn accept_invite(
    State(app): State<AppState>,
    ApiPath(invite_token): ApiPath<String>,
    Body(req): Body<AcceptInvite>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    if !super::plausible_id(&invite_token) {
        return Err(ApiError::not_found("invite"));
    }
    let now = now_ms();
    let (invite, tenant_id) = app
        .db
        .invite_by_token(&auth::token_hash(&invite_token))
        .await
        .map_err(ApiError::store)?
        .filter(|(invite, _)| invite.usable(now))
        .ok_or_else(|| ApiError::not_found("invite"))?;
    let board = app
        .db
        .board(&invite.board_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    let guest = Guest {
        id: new_id(),
        board_id: board.id.clone(),
        invite_id: invite.id.clone(),
        display_name: name("display_name", &req.display_name, 80)?,
        role: invite.role,
    };
    app.db.create_guest(&guest, &tenant_id, now).await.map_err(ApiError::store)?;
    let token = auth::new_token();
    app.db
        .create_session(&auth::token_hash(&token), &tenant_id, None, Some(&guest.id), now, invite.expires_at)
        .await
        .map_err(ApiError::store)?;
    let caller = Caller::Guest { guest: guest.clone(), tenant_id };
    audit(
        &app,
        &caller,
        "invite.accept",
        &board.id,
        serde_json::json!({"invite_id": invite.id, "display_name": guest.display_name}),
    )
    .await;
    Ok((StatusCode::CREATED, Json(Accepted { token, expires_at: invite.expires_at, guest, board })))
}
