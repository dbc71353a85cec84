//! Login, logout, the caller, the tenant's users and its audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit, bearer, name, ApiQuery, Authed, Body, PeerAddr};
use crate::auth::{self, now_ms};
use crate::http::{ApiError, AppState};
use crate::store::directory::NewUser;
use crate::tenancy::{AuditEntry, Caller, TenantRole, User};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_user, list_users))
        .routes(routes!(audit_log))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for REST (`Authorization: Bearer`) and the WebSocket (`?token=`).
    token: String,
    expires_at: i64,
    user: User,
}

/// Exchanges email and password for a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, description = "wrong email or password"),
        (status = 429, description = "too many failed attempts")))]
async fn login(
    State(app): State<AppState>,
    PeerAddr(addr): PeerAddr,
    Body(req): Body<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let email = req.email.trim().to_lowercase();
    if email.len() > 254 || email.chars().any(char::is_control) {
        return Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_credentials",
            message: "wrong email or password".into(),
        });
    }
    if !app.limiter.allowed(&email, addr) {
        return Err(ApiError::too_many("too many failed logins, try again later"));
    }
    let found = app.db.user_by_email(&email).await.map_err(ApiError::store)?;
    let password = req.password;
    let (user, ok) = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) => {
            let ok = auth::verify_password(&hash, &password);
            (Some(user), ok)
        }
        None => {
            // Same work for an unknown email: no timing oracle for which accounts exist.
            let _ = auth::verify_password(auth::decoy_hash(), &password);
            (None, false)
        }
    })
    .await
    .map_err(|_| ApiError::internal())?;
    let Some(user) = user.filter(|_| ok) else {
        app.limiter.failed(&email, addr);
        return Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_credentials",
            message: "wrong email or password".into(),
        });
    };
    app.limiter.succeeded(&email);
    let token = auth::new_token();
    let now = now_ms();
    let expires_at = now + auth::SESSION_TTL.as_millis() as i64;
    app.db
        .create_session(&auth::token_hash(&token), &user.tenant_id, Some(&user.id), None, now, expires_at)
        .await
        .map_err(ApiError::store)?;
    Ok(Json(LoginResponse { token, expires_at, user }))
}

/// Revokes the caller's token; its live connections close within seconds.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204), (status = 401)))]
async fn logout(
    State(app): State<AppState>,
    Authed(_caller): Authed,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, ApiError> {
    let hash = auth::token_hash(bearer(&headers).ok_or_else(ApiError::unauthenticated)?);
    app.db.revoke_session(&hash, now_ms()).await.map_err(ApiError::store)?;
    app.live.close_where(crate::live::REVOKED, |c| c.session == hash);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    /// "user" or "guest".
    kind: &'static str,
    user: Option<User>,
    guest: Option<crate::tenancy::Guest>,
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401)))]
async fn me(Authed(caller): Authed) -> Json<Me> {
    Json(match caller {
        Caller::User(user) => Me { kind: "user", user: Some(user), guest: None },
        Caller::Guest { guest, .. } => Me { kind: "guest", user: None, guest: Some(guest) },
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    email: String,
    password: String,
    display_name: String,
    #[serde(default = "member")]
    tenant_role: TenantRole,
}

fn member() -> TenantRole {
    TenantRole::Member
}

fn admin(caller: &Caller) -> Result<&User, ApiError> {
    match caller {
        Caller::User(user) if user.tenant_role == TenantRole::Admin => Ok(user),
        _ => Err(ApiError::forbidden("only the organisation's admins may do this")),
    }
}

/// Validates a new account's fields and hashes its password (on a blocking thread).
pub async fn new_user(
    tenant_id: &str,
    email: &str,
    password: String,
    display_name: &str,
    tenant_role: TenantRole,
) -> Result<NewUser, ApiError> {
    let email = email.trim().to_lowercase();
    let printable = email.chars().all(|c| !c.is_control() && !c.is_whitespace());
    if email.len() > 254
        || !printable
        || !email.contains('@')
        || email.starts_with('@')
        || email.ends_with('@')
    {
        return Err(ApiError::bad_request("email is not a valid address"));
    }
    if password.chars().count() < 10 || password.len() > 1024 {
        return Err(ApiError::bad_request("password must be 10 to 1024 characters"));
    }
    let display_name = name("display_name", display_name, 80)?;
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(ApiError::store)?;
    Ok(NewUser { tenant_id: tenant_id.to_owned(), email, display_name, password_hash, tenant_role })
}

/// Creates an account in the caller's organisation (admins only).
#[utoipa::path(post, path = "/users", tag = "admin", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403), (status = 409, description = "email in use")))]
async fn create_user(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Body(req): Body<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let me = admin(&caller)?;
    let new = new_user(&me.tenant_id, &req.email, req.password, &req.display_name, req.tenant_role).await?;
    let user = app.db.create_user(&auth::new_id(), &new, now_ms()).await.map_err(ApiError::store)?;
    audit(
        &app,
        &caller,
        "user.create",
        &user.id,
        serde_json::json!({"email": user.email, "tenant_role": user.tenant_role}),
    )
    .await;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The accounts of the caller's organisation (admins only).
#[utoipa::path(get, path = "/users", tag = "admin", responses((status = 200, body = [User]), (status = 403)))]
async fn list_users(
    State(app): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<Vec<User>>, ApiError> {
    let me = admin(&caller)?;
    Ok(Json(app.db.users(&me.tenant_id).await.map_err(ApiError::store)?))
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Most recent entries to return (default 100, at most 1000).
    limit: Option<i64>,
}

/// The organisation's audit log, newest first (admins only).
#[utoipa::path(get, path = "/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = [AuditEntry]), (status = 403)))]
async fn audit_log(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let me = admin(&caller)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(app.db.audit_log(&me.tenant_id, limit).await.map_err(ApiError::store)?))
}
