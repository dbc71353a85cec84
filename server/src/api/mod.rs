//! The REST API under `/api/v1`: JSON in and out, errors as `{"error": {"code", "message"}}`.
//!
//! Every handler resolves the caller from `Authorization: Bearer`, then checks tenant →
//! project → board → role before touching anything. What another tenant owns, or what a caller
//! may not see, answers 404 exactly like what does not exist. The router and the OpenAPI
//! document are built from the same `#[utoipa::path]` annotations, so they cannot disagree.

pub mod account;
mod boards;
mod images;
mod invites;
mod projects;
mod reveal;
mod suggestions;
mod templates;
mod versions;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Router;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::http::{ApiError, AppState};
use crate::store::directory::NewAudit;
use crate::tenancy::{board_access, project_role, Board, Caller, Project, ProjectRole};

#[derive(OpenApi)]
#[openapi(
    info(title = "Atelier API", description = "Tenants, projects, boards, members and invites of Atelier."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "auth"), (name = "projects"), (name = "boards"), (name = "invites"), (name = "templates"), (name = "admin"))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes (relative to `/api/v1`) and their OpenAPI document.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(account::routes())
        .merge(projects::routes())
        .merge(boards::routes())
        .merge(images::routes())
        .merge(suggestions::routes())
        .merge(versions::routes())
        .merge(reveal::routes())
        .merge(templates::routes())
        .merge(invites::routes())
        .split_for_parts();
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    (router, doc)
}

/// The authenticated caller of a request.
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let caller = crate::auth::authenticate(app.db.as_ref(), token, crate::auth::now_ms())
            .await
            .map_err(ApiError::store)?
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(Self(caller))
    }
}

/// The raw bearer token of a request.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The peer address, when the server was started with connect info.
pub struct PeerAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// A JSON object body. Rejections answer in the API's error format: 415 without a JSON content
/// type, 413 over the size limit, 400 for anything else (malformed JSON, not an object, unknown,
/// missing or mistyped fields).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| {
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !json_type {
            return Err(ApiError {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message: "send JSON with Content-Type: application/json".into(),
            });
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    code: "payload_too_large",
                    message: "the body is too large".into(),
                }
            } else {
                ApiError::bad_request("the body could not be read")
            }
        })?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| ApiError::bad_request("the body is not valid JSON"))?;
        if !value.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        // Deserialised from the bytes, not the parsed value, so that duplicate fields are refused.
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))
    }
}

/// Path parameters; one that does not even decode names nothing, so it answers 404.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Self(v))
            .map_err(|_| ApiError::not_found("resource"))
    }
}

/// Query parameters, with rejections in the API's error format (400).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Self(v))
            .map_err(|_| ApiError::bad_request("invalid query parameters"))
    }
}

/// Whether a client-given id can name anything: ids and tokens are ASCII letters, digits, `-`
/// and `_`. Checked before any query, so odd bytes never reach the database.
pub fn plausible_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Trims and bounds a name given by a client.
pub fn name(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{field} must be 1 to {max} characters, without control characters"
        )));
    }
    Ok(value.to_owned())
}

/// A project the caller may see, with the caller's effective role in it. Guests see no project;
/// other tenants' projects and projects the caller is not a member of answer 404.
pub async fn visible_project(
    app: &AppState,
    caller: &Caller,
    project_id: &str,
) -> Result<(Project, ProjectRole), ApiError> {
    let Caller::User(user) = caller else { return Err(ApiError::not_found("project")) };
    if !plausible_id(project_id) {
        return Err(ApiError::not_found("project"));
    }
    let project = app
        .db
        .project(&user.tenant_id, project_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("project"))?;
    let member = app.db.member_role(&project.id, &user.id).await.map_err(ApiError::store)?;
    let role = project_role(user, member).ok_or_else(|| ApiError::not_found("project"))?;
    Ok((project, role))
}

/// A board the caller may see: the board, the caller's membership in its project (None for
/// guests and non-members) and the caller's board role. Other tenants' boards, and boards a guest
/// was not invited to, answer 404 like boards that do not exist. One query.
pub async fn board_role(
    app: &AppState,
    caller: &Caller,
    board_id: &str,
) -> Result<(Board, Option<ProjectRole>, crate::sync::Role), ApiError> {
    if !plausible_id(board_id) {
        return Err(ApiError::not_found("board"));
    }
    let user_id = match caller {
        Caller::User(user) => Some(user.id.as_str()),
        Caller::Guest { .. } => None,
    };
    let (board, member) = app
        .db
        .board_for(board_id, user_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("board"))?;
    let role = board_access(caller, &board, member).ok_or_else(|| ApiError::not_found("board"))?;
    Ok((board, member, role))
}

/// A board the caller may see, with the caller's effective project role (None for guests).
pub async fn visible_board(
    app: &AppState,
    caller: &Caller,
    board_id: &str,
) -> Result<(Board, Option<ProjectRole>), ApiError> {
    let (board, member, _) = board_role(app, caller, board_id).await?;
    let role = match caller {
        Caller::User(user) => project_role(user, member),
        Caller::Guest { .. } => None,
    };
    Ok((board, role))
}

/// Requires a project role of at least `needed`.
pub fn require(role: Option<ProjectRole>, needed: ProjectRole) -> Result<(), ApiError> {
    match role {
        Some(role) if role.at_least(needed) => Ok(()),
        _ => Err(ApiError::forbidden(match needed {
            ProjectRole::Owner => "only the project's owners may do this",
            ProjectRole::Facilitator => "only the project's facilitators may do this",
            _ => "your role does not allow this",
        })),
    }
}

/// Writes an audit record; a failure is logged, it does not undo the action.
pub async fn audit(app: &AppState, caller: &Caller, action: &str, target: &str, detail: serde_json::Value) {
    let entry =
        NewAudit { tenant_id: caller.tenant_id(), actor: &caller.principal_id(), action, target, detail };
    if let Err(e) = app.db.audit(entry, crate::auth::now_ms()).await {
        tracing::error!(error = %e, action, "audit write failed");
    }
}
