//! Operator commands (`atelier admin ...`): non-interactive, scripting-friendly, JSON out.
//! They work on the database directly, so they run with or without a server; a running server
//! applies revocations made here to live connections within seconds (its sweep).

use serde_json::{json, Value};

use crate::api::account::new_user;
use crate::auth::{self, new_id, now_ms};
use crate::store::Database;
use crate::tenancy::{Tenant, TenantRole};

/// An operator command failed; the text is for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AdminError(pub String);

fn fail(e: impl std::fmt::Display) -> AdminError {
    AdminError(e.to_string())
}

/// Creates an organisation and its first admin. Returns `{"tenant_id", "admin_user_id"}`.
pub async fn create_tenant(
    db: &dyn Database,
    name: &str,
    email: &str,
    password: &str,
) -> Result<Value, AdminError> {
    let name = crate::api::name("name", name, 200).map_err(|e| fail(e.message))?;
    let tenant = Tenant { id: new_id(), name, created_at: now_ms() };
    let admin = new_user(&tenant.id, email, password.to_owned(), "Admin", TenantRole::Admin)
        .await
        .map_err(|e| fail(e.message))?;
    db.create_tenant(&tenant).await.map_err(fail)?;
    let user = db.create_user(&new_id(), &admin, now_ms()).await.map_err(fail)?;
    Ok(json!({"tenant_id": tenant.id, "admin_user_id": user.id}))
}

/// Creates an account in an organisation. Returns the user.
pub async fn create_user(
    db: &dyn Database,
    tenant_id: &str,
    email: &str,
    password: &str,
    display_name: &str,
    role: TenantRole,
) -> Result<Value, AdminError> {
    let new = new_user(tenant_id, email, password.to_owned(), display_name, role)
        .await
        .map_err(|e| fail(e.message))?;
    let user = db.create_user(&new_id(), &new, now_ms()).await.map_err(fail)?;
    serde_json::to_value(user).map_err(fail)
}

/// Issues a login token for an account, like `POST /auth/login` without the password.
pub async fn create_token(db: &dyn Database, email: &str, ttl_secs: u64) -> Result<Value, AdminError> {
    let (user, _) = db.user_by_email(email).await.map_err(fail)?.ok_or_else(|| fail("no such account"))?;
    let token = auth::new_token();
    let now = now_ms();
    let expires_at = now + (ttl_secs.min(365 * 24 * 3600) * 1000) as i64;
    db.create_session(&auth::token_hash(&token), &user.tenant_id, Some(&user.id), None, now, expires_at)
        .await
        .map_err(fail)?;
    Ok(json!({"token": token, "expires_at": expires_at, "user_id": user.id}))
}

/// Revokes every token of an account. Returns how many.
pub async fn revoke_tokens(db: &dyn Database, email: &str) -> Result<Value, AdminError> {
    let (user, _) = db.user_by_email(email).await.map_err(fail)?.ok_or_else(|| fail("no such account"))?;
    let revoked = db.revoke_user_sessions(&user.id, now_ms()).await.map_err(fail)?;
    Ok(json!({"user_id": user.id, "revoked": revoked}))
}
