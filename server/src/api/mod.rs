//! The REST API under `/api/v1`: JSON in and out, errors as `{"error": {"code", "message"}}`.
//!
//! Every handler resolves the caller from `Authorization: Bearer`, then checks tenant →
//! project → board → role before touching anything. What another tenant owns, or what a caller
//! may not see, answers 404 exactly like what does not exist. The router and the OpenAPI
//! document are built from the same `#[utoipa::path]` annotations, so they cannot disagree.

pub mod account;
mod boards;
mod invites;
mod projects;

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::JsonRejection;
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
    tags((name = "auth"), (name = "projects"), (name = "boards"), (name = "invites"), (name = "admin"))
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

/// A JSON body whose rejections (wrong content type, malformed JSON, unknown or missing
/// fields, too large) answer in the API's error format.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let (code, message) = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ("unsupported_media_type", "send JSON with Content-Type: application/json".to_owned())
        }
        JsonRejection::JsonDataError(e) => (
            "bad_request",
            format!(
                "invalid body: {}",
                e.body_text()
                    .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
            ),
        ),
        JsonRejection::JsonSyntaxError(_) => ("bad_request", "the body is not valid JSON".to_owned()),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload_too_large", "the body is too large".to_owned())
        }
        _ => ("bad_request", "the body could not be read".to_owned()),
    };
    ApiError { status, code, message }
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

/// A board the caller may see, with the caller's effective project role (None for guests).
pub async fn visible_board(
    app: &AppState,
    caller: &Caller,
    board_id: &str,
) -> Result<(Board, Option<ProjectRole>), ApiError> {
    let board =
        app.db.board(board_id).await.map_err(ApiError::store)?.ok_or_else(|| ApiError::not_found("board"))?;
    let member = match caller {
        Caller::User(user) if user.tenant_id == board.tenant_id => {
            app.db.member_role(&board.project_id, &user.id).await.map_err(ApiError::store)?
        }
        _ => None,
    };
    board_access(caller, &board, member).ok_or_else(|| ApiError::not_found("board"))?;
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
