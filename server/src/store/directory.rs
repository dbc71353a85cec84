//! Accounts, projects, boards, invites, sessions and the audit log.
//!
//! The SQL is written once, in the portable subset both backends accept (`$n` placeholders,
//! `ON CONFLICT`, `RETURNING`, BIGINT milliseconds for times, text ids), and the
//! [`impl_directory`] macro instantiates it for the SQLite and the PostgreSQL pool: the two
//! backends cannot drift apart.

use async_trait::async_trait;

use super::StoreError;
use crate::tenancy::{
    AuditEntry, Board, BoardKind, Guest, GuestRole, Invite, Member, Project, ProjectRole, Tenant, TenantRole,
    User,
};

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub tenant_id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub tenant_role: TenantRole,
}

/// What a token is, once found.
#[derive(Debug, Clone)]
pub enum SessionOwner {
    User(User),
    Guest { guest: Guest, tenant_id: String, invite_usable: bool },
}

/// A token's session.
#[derive(Debug, Clone)]
pub struct Session {
    pub owner: SessionOwner,
    pub expires_at: i64,
}

/// One audit record to write.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub tenant_id: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: serde_json::Value,
}

/// Storage of the tenancy model.
#[async_trait]
pub trait Directory: Send + Sync + 'static {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    /// Fails with [`StoreError::Conflict`] if the email is taken.
    async fn create_user(&self, id: &str, user: &NewUser, now: i64) -> Result<User, StoreError>;
    /// The account and its password hash, by lower-case email.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError>;
    async fn user(&self, tenant_id: &str, user_id: &str) -> Result<Option<User>, StoreError>;
    async fn users(&self, tenant_id: &str) -> Result<Vec<User>, StoreError>;

    async fn create_session(
        &self,
        token_hash: &str,
        tenant_id: &str,
        user_id: Option<&str>,
        guest_id: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// The live (unexpired, unrevoked) session of a token hash.
    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError>;
    /// The live session of `token_hash` and, in the same query, board `board_id` (if it exists)
    /// with the session user's membership role in its project: what a WebSocket upgrade needs,
    /// in one round trip instead of two ([`Directory::session`], then [`Directory::board_for`]).
    async fn session_and_board(
        &self,
        token_hash: &str,
        board_id: &str,
        now: i64,
    ) -> Result<Option<(Session, Option<(Board, Option<ProjectRole>)>)>, StoreError>;
    /// Returns whether a live session was revoked.
    async fn revoke_session(&self, token_hash: &str, now: i64) -> Result<bool, StoreError>;
    /// Revokes every session of a user; returns how many.
    async fn revoke_user_sessions(&self, user_id: &str, now: i64) -> Result<u64, StoreError>;

    /// Creates the project with its creator as owner.
    async fn create_project(&self, project: &Project, owner: &str) -> Result<(), StoreError>;
    async fn project(&self, tenant_id: &str, project_id: &str) -> Result<Option<Project>, StoreError>;
    /// Every project of the tenant (`user_id` None) or those the user is a member of.
    async fn projects(&self, tenant_id: &str, user_id: Option<&str>) -> Result<Vec<Project>, StoreError>;
    async fn member_role(&self, project_id: &str, user_id: &str) -> Result<Option<ProjectRole>, StoreError>;
    async fn members(&self, project_id: &str) -> Result<Vec<Member>, StoreError>;
    async fn set_member(
        &self,
        project_id: &str,
        user_id: &str,
        role: ProjectRole,
        now: i64,
    ) -> Result<(), StoreError>;
    async fn remove_member(&self, project_id: &str, user_id: &str) -> Result<bool, StoreError>;

    /// Creates `board`; `first_update`, when given, is stored as its document's first update
    /// in the same transaction (the containers a board kind needs from the start).
    async fn create_board(
        &self,
        board: &Board,
        created_by: &str,
        first_update: Option<&[u8]>,
    ) -> Result<(), StoreError>;
    async fn board(&self, board_id: &str) -> Result<Option<Board>, StoreError>;
    /// A board and, when `user_id` is given, that user's membership role in its project, in
    /// one query (what every WebSocket upgrade and board request needs).
    async fn board_for(
        &self,
        board_id: &str,
        user_id: Option<&str>,
    ) -> Result<Option<(Board, Option<ProjectRole>)>, StoreError>;
    async fn boards(&self, project_id: &str) -> Result<Vec<Board>, StoreError>;
    async fn rename_board(&self, board_id: &str, title: &str) -> Result<(), StoreError>;
    async fn set_archived(&self, board_id: &str, archived_at: Option<i64>) -> Result<(), StoreError>;
    /// Deletes the board, its invites, guests and every stored document of it.
    async fn delete_board(&self, board_id: &str) -> Result<(), StoreError>;

    async fn create_invite(
        &self,
        invite: &Invite,
        token_hash: &str,
        tenant_id: &str,
    ) -> Result<(), StoreError>;
    async fn invites(&self, board_id: &str) -> Result<Vec<Invite>, StoreError>;
    async fn invite_by_token(&self, token_hash: &str) -> Result<Option<(Invite, String)>, StoreError>;
    async fn revoke_invite(&self, invite_id: &str, now: i64) -> Result<bool, StoreError>;
    async fn create_guest(&self, guest: &Guest, tenant_id: &str, now: i64) -> Result<(), StoreError>;

    async fn audit(&self, entry: NewAudit<'_>, now: i64) -> Result<(), StoreError>;
    async fn audit_log(&self, tenant_id: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;
}

pub(crate) fn parse<T>(text: &str, f: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    f(text).ok_or_else(|| StoreError::Other(format!("unexpected stored value {text:?}")))
}

pub(crate) fn conflict(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Db(e),
    }
}

pub(crate) const USER_COLUMNS: &str = "id, tenant_id, email, display_name, tenant_role, created_at";
pub(crate) const BOARD_COLUMNS: &str = "id, tenant_id, project_id, title, kind, created_at, archived_at";

/// A session's columns (`session_from` reads them), its tables and its condition on the token
/// hash (`$1`) and the time (`$2`): shared by [`Directory::session`] and
/// [`Directory::session_and_board`].
pub(crate) const SESSION_COLUMNS: &str = "s.tenant_id, s.user_id, s.guest_id, s.expires_at,
     u.email, u.display_name AS user_name, u.tenant_role, u.created_at AS user_created,
     g.board_id, g.invite_id, g.display_name AS guest_name,
     i.role AS invite_role, i.revoked_at AS invite_revoked, i.expires_at AS invite_expires";
pub(crate) const SESSION_FROM_JOINS: &str = "FROM session s
     LEFT JOIN app_user u ON u.id = s.user_id AND u.disabled_at IS NULL
     LEFT JOIN guest g ON g.id = s.guest_id
     LEFT JOIN invite i ON i.id = g.invite_id";
pub(crate) const SESSION_WHERE: &str =
    "WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2";

/// The board of a row whose board columns are prefixed `b_` (absent: `b_id` is null), with the
/// `member_role` column.
pub(crate) fn prefixed_board_from(
    row: &impl Columns,
) -> Result<Option<(Board, Option<ProjectRole>)>, StoreError> {
    let Some(id) = row.opt_text("b_id")? else { return Ok(None) };
    let board = Board {
        id,
        tenant_id: row.text("b_tenant_id")?,
        project_id: row.text("b_project_id")?,
        title: row.text("b_title")?,
        kind: parse(&row.text("b_kind")?, BoardKind::parse)?,
        created_at: row.int("b_created_at")?,
        archived_at: row.opt_int("b_archived_at")?,
    };
    let role = match row.opt_text("member_role")? {
        Some(role) => Some(parse(&role, ProjectRole::parse)?),
        None => None,
    };
    Ok(Some((board, role)))
}

/// A session from a row of [`SESSION_COLUMNS`]; `None` when its user was disabled.
pub(crate) fn session_from(row: &impl Columns, now: i64) -> Result<Option<Session>, StoreError> {
    let tenant_id = row.text("tenant_id")?;
    let expires_at = row.int("expires_at")?;
    let owner = match (row.opt_text("user_id")?, row.opt_text("guest_id")?) {
        (Some(id), _) => {
            let Some(email) = row.opt_text("email")? else { return Ok(None) };
            SessionOwner::User(User {
                id,
                tenant_id,
                email,
                display_name: row.text("user_name")?,
                tenant_role: parse(&row.text("tenant_role")?, TenantRole::parse)?,
                created_at: row.int("user_created")?,
            })
        }
        (None, Some(id)) => {
            let revoked = row.opt_int("invite_revoked")?;
            let invite_expires = row.int("invite_expires")?;
            SessionOwner::Guest {
                guest: Guest {
                    id,
                    board_id: row.text("board_id")?,
                    invite_id: row.text("invite_id")?,
                    display_name: row.text("guest_name")?,
                    role: parse(&row.text("invite_role")?, GuestRole::parse)?,
                },
                tenant_id,
                invite_usable: revoked.is_none() && invite_expires > now,
            }
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(Session { owner, expires_at }))
}
pub(crate) const INVITE_COLUMNS: &str = "id, board_id, role, created_by, created_at, expires_at, revoked_at";

/// A result row of either backend, read by column name: the decoding bounds the row mappers
/// need, stated once.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
}

impl<R: sqlx::Row> Columns for R
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
{
    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }
}

pub(crate) fn user_from(row: &impl Columns) -> Result<User, StoreError> {
    Ok(User {
        id: row.text("id")?,
        tenant_id: row.text("tenant_id")?,
        email: row.text("email")?,
        display_name: row.text("display_name")?,
        tenant_role: parse(&row.text("tenant_role")?, TenantRole::parse)?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn project_from(row: &impl Columns) -> Result<Project, StoreError> {
    Ok(Project {
        id: row.text("id")?,
        tenant_id: row.text("tenant_id")?,
        name: row.text("name")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn board_from(row: &impl Columns) -> Result<Board, StoreError> {
    Ok(Board {
        id: row.text("id")?,
        tenant_id: row.text("tenant_id")?,
        project_id: row.text("project_id")?,
        title: row.text("title")?,
        kind: parse(&row.text("kind")?, BoardKind::parse)?,
        created_at: row.int("created_at")?,
        archived_at: row.opt_int("archived_at")?,
    })
}

pub(crate) fn invite_from(row: &impl Columns) -> Result<Invite, StoreError> {
    Ok(Invite {
        id: row.text("id")?,
        board_id: row.text("board_id")?,
        role: parse(&row.text("role")?, GuestRole::parse)?,
        created_by: row.text("created_by")?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
        revoked_at: row.opt_int("revoked_at")?,
    })
}

/// Implements [`Directory`] for a store whose `pool` field is an sqlx pool.
macro_rules! impl_directory {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::directory::Directory for $store {
            async fn create_tenant(&self, t: &Tenant) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO tenant (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&t.id)
                    .bind(&t.name)
                    .bind(t.created_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn create_user(&self, id: &str, u: &NewUser, now: i64) -> Result<User, StoreError> {
                sqlx::query(
                    "INSERT INTO app_user (id, tenant_id, email, display_name, password_hash, tenant_role, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(&u.tenant_id)
                .bind(u.email.to_lowercase())
                .bind(&u.display_name)
                .bind(&u.password_hash)
                .bind(u.tenant_role.as_str())
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(|e| conflict(e, "email already in use"))?;
                Ok(User {
                    id: id.to_owned(),
                    tenant_id: u.tenant_id.clone(),
                    email: u.email.to_lowercase(),
                    display_name: u.display_name.clone(),
                    tenant_role: u.tenant_role,
                    created_at: now,
                })
            }

            async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLUMNS}, password_hash FROM app_user WHERE email = $1 AND disabled_at IS NULL"
                ))
                .bind(email.to_lowercase())
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(row) => Ok(Some((user_from(&row)?, row.try_get("password_hash")?))),
                    None => Ok(None),
                }
            }

            async fn user(&self, tenant_id: &str, user_id: &str) -> Result<Option<User>, StoreError> {
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM app_user WHERE id = $1 AND tenant_id = $2 AND disabled_at IS NULL"
                ))
                .bind(user_id)
                .bind(tenant_id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(user_from).transpose()
            }

            async fn users(&self, tenant_id: &str) -> Result<Vec<User>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM app_user WHERE tenant_id = $1 AND disabled_at IS NULL ORDER BY email"
                ))
                .bind(tenant_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(user_from).collect()
            }

            async fn create_session(
                &self,
                token_hash: &str,
                tenant_id: &str,
                user_id: Option<&str>,
                guest_id: Option<&str>,
                now: i64,
                expires_at: i64,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO session (token_hash, tenant_id, user_id, guest_id, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(token_hash)
                .bind(tenant_id)
                .bind(user_id)
                .bind(guest_id)
                .bind(now)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
                let row = sqlx::query(&format!(
                    "SELECT {} {} {}",
                    $crate::store::directory::SESSION_COLUMNS,
                    $crate::store::directory::SESSION_FROM_JOINS,
                    $crate::store::directory::SESSION_WHERE
                ))
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                $crate::store::directory::session_from(&row, now)
            }

            async fn session_and_board(
                &self,
                token_hash: &str,
                board_id: &str,
                now: i64,
            ) -> Result<Option<(Session, Option<(Board, Option<ProjectRole>)>)>, StoreError> {
                let row = sqlx::query(&format!(
                    "SELECT {},
                            b.id AS b_id, b.tenant_id AS b_tenant_id, b.project_id AS b_project_id,
                            b.title AS b_title, b.kind AS b_kind, b.created_at AS b_created_at,
                            b.archived_at AS b_archived_at, m.role AS member_role
                     {}
                     LEFT JOIN board b ON b.id = $3
                     LEFT JOIN project_member m ON m.project_id = b.project_id AND m.user_id = s.user_id
                     {}",
                    $crate::store::directory::SESSION_COLUMNS,
                    $crate::store::directory::SESSION_FROM_JOINS,
                    $crate::store::directory::SESSION_WHERE
                ))
                .bind(token_hash)
                .bind(now)
                .bind(board_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let Some(session) = $crate::store::directory::session_from(&row, now)? else { return Ok(None) };
                let board = $crate::store::directory::prefixed_board_from(&row)?;
                Ok(Some((session, board)))
            }

            async fn revoke_session(&self, token_hash: &str, now: i64) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE session SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
                    .bind(token_hash)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn revoke_user_sessions(&self, user_id: &str, now: i64) -> Result<u64, StoreError> {
                let done = sqlx::query("UPDATE session SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                    .bind(user_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn create_project(&self, p: &Project, owner: &str) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO project (id, tenant_id, name, created_by, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&p.id)
                    .bind(&p.tenant_id)
                    .bind(&p.name)
                    .bind(owner)
                    .bind(p.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO project_member (project_id, user_id, role, added_at) VALUES ($1, $2, 'owner', $3)")
                    .bind(&p.id)
                    .bind(owner)
                    .bind(p.created_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn project(&self, tenant_id: &str, project_id: &str) -> Result<Option<Project>, StoreError> {
                let row = sqlx::query("SELECT id, tenant_id, name, created_at FROM project WHERE id = $1 AND tenant_id = $2")
                    .bind(project_id)
                    .bind(tenant_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(project_from).transpose()
            }

            async fn projects(&self, tenant_id: &str, user_id: Option<&str>) -> Result<Vec<Project>, StoreError> {
                let rows = match user_id {
                    None => sqlx::query(
                        "SELECT id, tenant_id, name, created_at FROM project WHERE tenant_id = $1 ORDER BY created_at, id",
                    )
                    .bind(tenant_id)
                    .fetch_all(&self.pool)
                    .await?,
                    Some(user) => sqlx::query(
                        "SELECT p.id, p.tenant_id, p.name, p.created_at FROM project p
                         JOIN project_member m ON m.project_id = p.id
                         WHERE p.tenant_id = $1 AND m.user_id = $2 ORDER BY p.created_at, p.id",
                    )
                    .bind(tenant_id)
                    .bind(user)
                    .fetch_all(&self.pool)
                    .await?,
                };
                rows.iter().map(project_from).collect()
            }

            async fn member_role(&self, project_id: &str, user_id: &str) -> Result<Option<ProjectRole>, StoreError> {
                let role: Option<String> =
                    sqlx::query_scalar("SELECT role FROM project_member WHERE project_id = $1 AND user_id = $2")
                        .bind(project_id)
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await?;
                role.map(|r| parse(&r, ProjectRole::parse)).transpose()
            }

            async fn members(&self, project_id: &str) -> Result<Vec<Member>, StoreError> {
                let rows = sqlx::query(
                    "SELECT m.user_id, u.email, u.display_name, m.role FROM project_member m
                     JOIN app_user u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.email",
                )
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(Member {
                            user_id: row.try_get("user_id")?,
                            email: row.try_get("email")?,
                            display_name: row.try_get("display_name")?,
                            role: parse(&row.try_get::<String, _>("role")?, ProjectRole::parse)?,
                        })
                    })
                    .collect()
            }

            async fn set_member(&self, project_id: &str, user_id: &str, role: ProjectRole, now: i64) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO project_member (project_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(project_id)
                .bind(user_id)
                .bind(role.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn remove_member(&self, project_id: &str, user_id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM project_member WHERE project_id = $1 AND user_id = $2")
                    .bind(project_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn create_board(
                &self,
                b: &Board,
                created_by: &str,
                first_update: Option<&[u8]>,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO board (id, tenant_id, project_id, title, kind, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&b.id)
                .bind(&b.tenant_id)
                .bind(&b.project_id)
                .bind(&b.title)
                .bind(b.kind.as_str())
                .bind(created_by)
                .bind(b.created_at)
                .execute(&mut *tx)
                .await?;
                if let Some(update) = first_update {
                    $crate::store::insert_first_update!(tx, &b.id, update);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn board(&self, board_id: &str) -> Result<Option<Board>, StoreError> {
                let row = sqlx::query(&format!("SELECT {BOARD_COLUMNS} FROM board WHERE id = $1"))
                    .bind(board_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(board_from).transpose()
            }

            async fn board_for(
                &self,
                board_id: &str,
                user_id: Option<&str>,
            ) -> Result<Option<(Board, Option<ProjectRole>)>, StoreError> {
                let row = sqlx::query(
                    "SELECT b.id, b.tenant_id, b.project_id, b.title, b.kind, b.created_at, b.archived_at,
                            m.role AS member_role
                     FROM board b
                     LEFT JOIN project_member m ON m.project_id = b.project_id AND m.user_id = $2
                     WHERE b.id = $1",
                )
                .bind(board_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let board = board_from(&row)?;
                let role = match $crate::store::directory::Columns::opt_text(&row, "member_role")? {
                    Some(role) => Some(parse(&role, ProjectRole::parse)?),
                    None => None,
                };
                Ok(Some((board, role)))
            }

            async fn boards(&self, project_id: &str) -> Result<Vec<Board>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {BOARD_COLUMNS} FROM board WHERE project_id = $1 ORDER BY created_at, id"
                ))
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(board_from).collect()
            }

            async fn rename_board(&self, board_id: &str, title: &str) -> Result<(), StoreError> {
                sqlx::query("UPDATE board SET title = $2 WHERE id = $1")
                    .bind(board_id)
                    .bind(title)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn set_archived(&self, board_id: &str, archived_at: Option<i64>) -> Result<(), StoreError> {
                sqlx::query("UPDATE board SET archived_at = $2 WHERE id = $1")
                    .bind(board_id)
                    .bind(archived_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_board(&self, board_id: &str) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                for sql in [
                    "DELETE FROM session WHERE guest_id IN (SELECT id FROM guest WHERE board_id = $1)",
                    "DELETE FROM guest WHERE board_id = $1",
                    "DELETE FROM invite WHERE board_id = $1",
                    "DELETE FROM board_image WHERE board_id = $1",
                    "DELETE FROM board_version WHERE board_id = $1",
                    "DELETE FROM doc_update WHERE board_id = $1",
                    "DELETE FROM doc_snapshot WHERE board_id = $1",
                    "DELETE FROM doc_head WHERE board_id = $1",
                    "DELETE FROM board_client WHERE board_id = $1",
                    "DELETE FROM board WHERE id = $1",
                ] {
                    sqlx::query(sql).bind(board_id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_invite(&self, i: &Invite, token_hash: &str, tenant_id: &str) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO invite (id, token_hash, tenant_id, board_id, role, created_by, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&i.id)
                .bind(token_hash)
                .bind(tenant_id)
                .bind(&i.board_id)
                .bind(i.role.as_str())
                .bind(&i.created_by)
                .bind(i.created_at)
                .bind(i.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn invites(&self, board_id: &str) -> Result<Vec<Invite>, StoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {INVITE_COLUMNS} FROM invite WHERE board_id = $1 ORDER BY created_at, id"
                ))
                .bind(board_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(invite_from).collect()
            }

            async fn invite_by_token(&self, token_hash: &str) -> Result<Option<(Invite, String)>, StoreError> {
                let row = sqlx::query(&format!("SELECT {INVITE_COLUMNS}, tenant_id FROM invite WHERE token_hash = $1"))
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(row) => Ok(Some((invite_from(&row)?, row.try_get("tenant_id")?))),
                    None => Ok(None),
                }
            }

            async fn revoke_invite(&self, invite_id: &str, now: i64) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE invite SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(invite_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn create_guest(&self, g: &Guest, tenant_id: &str, now: i64) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO guest (id, tenant_id, board_id, invite_id, display_name, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&g.id)
                .bind(tenant_id)
                .bind(&g.board_id)
                .bind(&g.invite_id)
                .bind(&g.display_name)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn audit(&self, e: NewAudit<'_>, now: i64) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO audit_log (tenant_id, actor, action, target, detail, at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(e.tenant_id)
                .bind(e.actor)
                .bind(e.action)
                .bind(e.target)
                .bind(e.detail.to_string())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn audit_log(&self, tenant_id: &str, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, actor, action, target, detail, at FROM audit_log WHERE tenant_id = $1
                     ORDER BY id DESC LIMIT $2",
                )
                .bind(tenant_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let detail: String = row.try_get("detail")?;
                        Ok(AuditEntry {
                            id: row.try_get("id")?,
                            actor: row.try_get("actor")?,
                            action: row.try_get("action")?,
                            target: row.try_get("target")?,
                            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                            at: row.try_get("at")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use impl_directory;
