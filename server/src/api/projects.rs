//! Projects and their members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit, name, require, visible_project, ApiPath, Authed, Body};
use crate::auth::{new_id, now_ms};
use crate::http::{ApiError, AppState};
use crate::live::REVOKED;
use crate::tenancy::{Caller, Member, Project, ProjectRole, TenantRole};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project, list_projects))
        .routes(routes!(get_project))
        .routes(routes!(list_members))
        .routes(routes!(set_member, remove_member))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectView {
    #[serde(flatten)]
    project: Project,
    /// The caller's role in the project.
    role: ProjectRole,
}

/// Creates a project; the caller becomes its owner.
#[utoipa::path(post, path = "/projects", tag = "projects", request_body = CreateProject,
    responses((status = 201, body = ProjectView), (status = 403, description = "guests cannot create projects")))]
async fn create_project(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Body(req): Body<CreateProject>,
) -> Result<(StatusCode, Json<ProjectView>), ApiError> {
    let Caller::User(user) = &caller else {
        return Err(ApiError::forbidden("guests cannot create projects"));
    };
    let project = Project {
        id: new_id(),
        tenant_id: user.tenant_id.clone(),
        name: name("name", &req.name, 200)?,
        created_at: now_ms(),
    };
    app.db.create_project(&project, &user.id).await.map_err(ApiError::store)?;
    audit(&app, &caller, "project.create", &project.id, serde_json::json!({"name": project.name})).await;
    Ok((StatusCode::CREATED, Json(ProjectView { project, role: ProjectRole::Owner })))
}

/// The projects the caller belongs to (every project of the organisation for its admins).
#[utoipa::path(get, path = "/projects", tag = "projects", responses((status = 200, body = [ProjectView])))]
async fn list_projects(
    State(app): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<Vec<ProjectView>>, ApiError> {
    let Caller::User(user) = &caller else { return Ok(Json(Vec::new())) };
    let admin = user.tenant_role == TenantRole::Admin;
    let projects = app
        .db
        .projects(&user.tenant_id, (!admin).then_some(user.id.as_str()))
        .await
        .map_err(ApiError::store)?;
    let mut out = Vec::with_capacity(projects.len());
    for project in projects {
        let member = app.db.member_role(&project.id, &user.id).await.map_err(ApiError::store)?;
        if let Some(role) = crate::tenancy::project_role(user, member) {
            out.push(ProjectView { project, role });
        }
    }
    Ok(Json(out))
}

/// One project.
#[utoipa::path(get, path = "/projects/{project_id}", tag = "projects",
    responses((status = 200, body = ProjectView), (status = 404)))]
async fn get_project(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(project_id): ApiPath<String>,
) -> Result<Json<ProjectView>, ApiError> {
    let (project, role) = visible_project(&app, &caller, &project_id).await?;
    Ok(Json(ProjectView { project, role }))
}

/// The members of a project and their roles.
#[utoipa::path(get, path = "/projects/{project_id}/members", tag = "projects",
    responses((status = 200, body = [Member]), (status = 404)))]
async fn list_members(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(project_id): ApiPath<String>,
) -> Result<Json<Vec<Member>>, ApiError> {
    let (project, _) = visible_project(&app, &caller, &project_id).await?;
    Ok(Json(app.db.members(&project.id).await.map_err(ApiError::store)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMember {
    role: ProjectRole,
}

/// Adds a member of the organisation to the project, or changes their role (owners only). A
/// lowered role applies to the member's open boards within seconds.
#[utoipa::path(put, path = "/projects/{project_id}/members/{user_id}", tag = "projects", request_body = SetMember,
    responses((status = 200, body = Member), (status = 403), (status = 404)))]
async fn set_member(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath((project_id, user_id)): ApiPath<(String, String)>,
    Body(req): Body<SetMember>,
) -> Result<Json<Member>, ApiError> {
    let (project, role) = visible_project(&app, &caller, &project_id).await?;
    require(Some(role), ProjectRole::Owner)?;
    if !super::plausible_id(&user_id) {
        return Err(ApiError::not_found("user"));
    }
    let target = app
        .db
        .user(&project.tenant_id, &user_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("user"))?;
    app.db.set_member(&project.id, &target.id, req.role, now_ms()).await.map_err(ApiError::store)?;
    audit(
        &app,
        &caller,
        "member.set",
        &project.id,
        serde_json::json!({"user_id": target.id, "role": req.role}),
    )
    .await;
    // Live connections follow the new role (tenant admins keep owner rights whatever it is).
    if target.tenant_role != TenantRole::Admin {
        let board_role = req.role.board_role();
        app.live
            .set_role_where(board_role, |c| {
                c.project_id == project.id && c.user_id.as_deref() == Some(&target.id)
            })
            .await;
    }
    Ok(Json(Member {
        user_id: target.id,
        email: target.email,
        display_name: target.display_name,
        role: req.role,
    }))
}

/// Removes a member from the project (owners only); their open boards of it close.
#[utoipa::path(delete, path = "/projects/{project_id}/members/{user_id}", tag = "projects",
    responses((status = 204), (status = 403), (status = 404)))]
async fn remove_member(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath((project_id, user_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (project, role) = visible_project(&app, &caller, &project_id).await?;
    require(Some(role), ProjectRole::Owner)?;
    if !super::plausible_id(&user_id) {
        return Err(ApiError::not_found("member"));
    }
    if !app.db.remove_member(&project.id, &user_id).await.map_err(ApiError::store)? {
        return Err(ApiError::not_found("member"));
    }
    audit(&app, &caller, "member.remove", &project.id, serde_json::json!({"user_id": user_id})).await;
    let admin = app
        .db
        .user(&project.tenant_id, &user_id)
        .await
        .map_err(ApiError::store)?
        .is_some_and(|u| u.tenant_role == TenantRole::Admin);
    if !admin {
        app.live
            .close_where(REVOKED, |c| c.project_id == project.id && c.user_id.as_deref() == Some(&user_id));
    }
    Ok(StatusCode::NO_CONTENT)
}
