//! Tenants, people, projects, boards, invites and the rules of who may do what. Plain data:
//! the store reads and writes these records, `api` and `ws` ask [`board_access`] and the
//! `allows_*` methods what a caller may do. No IO here.

use serde::{Deserialize, Serialize};

use crate::sync::Role;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

string_enum!(
    /// A person's role in their organisation: admins manage members and see every project.
    TenantRole { Admin = "admin", Member = "member" }
);

string_enum!(
    /// A member's role in a project, from most to least powerful.
    ProjectRole { Owner = "owner", Facilitator = "facilitator", Editor = "editor", Viewer = "viewer" }
);

string_enum!(
    /// What a guest invited to one board may do.
    GuestRole { Editor = "editor", Viewer = "viewer" }
);

string_enum!(
    /// The workshop method a board is laid out for.
    BoardKind {
        Postit = "postit",
        Demarreur = "demarreur",
        Mandats = "mandats",
        Prototypes = "prototypes",
        Radar = "radar",
        Free = "free",
        Photolangage = "photolangage",
    }
);

impl ProjectRole {
    fn rank(self) -> u8 {
        match self {
            Self::Owner => 3,
            Self::Facilitator => 2,
            Self::Editor => 1,
            Self::Viewer => 0,
        }
    }

    /// At least as powerful as `other`.
    pub fn at_least(self, other: ProjectRole) -> bool {
        self.rank() >= other.rank()
    }

    /// Adds and removes members, changes roles, deletes boards.
    pub fn manages_members(self) -> bool {
        self.at_least(ProjectRole::Owner)
    }

    /// Creates, renames and archives boards; invites guests.
    pub fn facilitates(self) -> bool {
        self.at_least(ProjectRole::Facilitator)
    }

    /// What the role allows on a board's content.
    pub fn board_role(self) -> Role {
        if self.at_least(ProjectRole::Facilitator) {
            Role::Facilitator
        } else if self.at_least(ProjectRole::Editor) {
            Role::Editor
        } else {
            Role::Viewer
        }
    }
}

impl GuestRole {
    pub fn board_role(self) -> Role {
        match self {
            Self::Editor => Role::Editor,
            Self::Viewer => Role::Viewer,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub display_name: String,
    pub tenant_role: TenantRole,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Project {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Board {
    pub id: String,
    pub tenant_id: String,
    pub project_id: String,
    pub title: String,
    pub kind: BoardKind,
    pub created_at: i64,
    pub archived_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: ProjectRole,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invite {
    pub id: String,
    pub board_id: String,
    pub role: GuestRole,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl Invite {
    pub fn usable(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Guest {
    pub id: String,
    pub board_id: String,
    pub invite_id: String,
    pub display_name: String,
    pub role: GuestRole,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    pub at: i64,
}

/// Who is calling, once their token is checked.
#[derive(Debug, Clone)]
pub enum Caller {
    User(User),
    Guest { guest: Guest, tenant_id: String },
}

impl Caller {
    pub fn tenant_id(&self) -> &str {
        match self {
            Caller::User(u) => &u.tenant_id,
            Caller::Guest { tenant_id, .. } => tenant_id,
        }
    }

    /// The principal Yjs client ids are bound to, and the audit log names.
    pub fn principal_id(&self) -> String {
        match self {
            Caller::User(u) => format!("user:{}", u.id),
            Caller::Guest { guest, .. } => format!("guest:{}", guest.id),
        }
    }

    pub fn display_name(&self) -> &str {
        match self {
            Caller::User(u) => &u.display_name,
            Caller::Guest { guest, .. } => &guest.display_name,
        }
    }
}

/// The role a caller has on a board, or None if the board must look nonexistent to them.
///
/// `member_role` is the caller's role in the board's project (None if not a member). Tenant
/// admins act as owners of every project of their tenant. Archived boards are read-only.
pub fn board_access(caller: &Caller, board: &Board, member_role: Option<ProjectRole>) -> Option<Role> {
    if caller.tenant_id() != board.tenant_id {
        return None;
    }
    let role = match caller {
        Caller::User(user) => project_role(user, member_role)?.board_role(),
        Caller::Guest { guest, .. } if guest.board_id == board.id => guest.role.board_role(),
        Caller::Guest { .. } => return None,
    };
    Some(if board.archived_at.is_some() { Role::Viewer } else { role })
}

/// A user's effective role in a project: their membership, or owner for tenant admins.
pub fn project_role(user: &User, member_role: Option<ProjectRole>) -> Option<ProjectRole> {
    match user.tenant_role {
        TenantRole::Admin => Some(ProjectRole::Owner),
        TenantRole::Member => member_role,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(tenant: &str, role: TenantRole) -> Caller {
        Caller::User(User {
            id: "u".into(),
            tenant_id: tenant.into(),
            email: "u@x".into(),
            display_name: "U".into(),
            tenant_role: role,
            created_at: 0,
        })
    }

    fn board(tenant: &str, archived: bool) -> Board {
        Board {
            id: "b".into(),
            tenant_id: tenant.into(),
            project_id: "p".into(),
            title: "t".into(),
            kind: BoardKind::Postit,
            created_at: 0,
            archived_at: archived.then_some(1),
        }
    }

    #[test]
    fn access_rules() {
        let b = board("t1", false);
        assert_eq!(board_access(&user("t2", TenantRole::Admin), &b, Some(ProjectRole::Owner)), None);
        assert_eq!(board_access(&user("t1", TenantRole::Member), &b, None), None);
        assert_eq!(board_access(&user("t1", TenantRole::Admin), &b, None), Some(Role::Facilitator));
        assert_eq!(
            board_access(&user("t1", TenantRole::Member), &b, Some(ProjectRole::Facilitator)),
            Some(Role::Facilitator)
        );
        assert_eq!(
            board_access(&user("t1", TenantRole::Member), &b, Some(ProjectRole::Viewer)),
            Some(Role::Viewer)
        );
        assert_eq!(
            board_access(&user("t1", TenantRole::Member), &b, Some(ProjectRole::Editor)),
            Some(Role::Editor)
        );
        assert_eq!(
            board_access(&user("t1", TenantRole::Member), &board("t1", true), Some(ProjectRole::Owner)),
            Some(Role::Viewer)
        );
        let guest = |board_id: &str, role| Caller::Guest {
            tenant_id: "t1".into(),
            guest: Guest {
                id: "g".into(),
                board_id: board_id.into(),
                invite_id: "i".into(),
                display_name: "G".into(),
                role,
            },
        };
        assert_eq!(board_access(&guest("b", GuestRole::Viewer), &b, None), Some(Role::Viewer));
        assert_eq!(board_access(&guest("b", GuestRole::Editor), &b, None), Some(Role::Editor));
        assert_eq!(board_access(&guest("other", GuestRole::Editor), &b, None), None);
    }
}
