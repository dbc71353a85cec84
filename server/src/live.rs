//! The live connections, by who they are, so that revocation reaches them mid-session.
//!
//! REST actions that remove access (logout, member removed, role lowered, invite revoked,
//! board archived or deleted) call [`Live`] right away; a sweep every few seconds re-checks every
//! live connection against the database, which also catches changes made by another process
//! (`atelier admin`, another node).

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::room::{ConnSignal, RoomSender};
use crate::store::directory::Directory;
use crate::sync::{Close, ConnId, Role};
use crate::tenancy::{board_access, Caller};

/// How often every live connection is re-checked against the database.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3);

/// Final: access was withdrawn; the stock client does not reconnect after 44xx codes.
pub const REVOKED: Close = Close { code: 4401, reason: "access revoked" };
/// Final: the board no longer exists.
pub const DELETED: Close = Close { code: 4404, reason: "board deleted" };

/// One authorised WebSocket connection.
pub struct LiveConn {
    pub session: String,
    pub user_id: Option<String>,
    pub invite_id: Option<String>,
    pub board_id: String,
    pub project_id: String,
    pub role: Role,
    pub room: RoomSender,
    pub signal: Arc<ConnSignal>,
}

/// Registry of live connections. Cloning is cheap.
#[derive(Clone, Default)]
pub struct Live {
    conns: Arc<DashMap<ConnId, LiveConn>>,
}

impl Live {
    pub fn register(&self, conn: ConnId, live: LiveConn) {
        self.conns.insert(conn, live);
    }

    pub fn unregister(&self, conn: ConnId) {
        self.conns.remove(&conn);
    }

    pub fn len(&self) -> usize {
        self.conns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Closes every connection matching `pred` with `why`.
    pub fn close_where(&self, why: Close, pred: impl Fn(&LiveConn) -> bool) -> usize {
        let mut closed = 0;
        self.conns.retain(|_, c| {
            if pred(c) {
                c.signal.close(why);
                closed += 1;
                false
            } else {
                true
            }
        });
        closed
    }

    /// Sets the role of every connection matching `pred` (a lowered role takes effect on the
    /// connection's next message).
    pub async fn set_role_where(&self, role: Role, pred: impl Fn(&LiveConn) -> bool) {
        let targets: Vec<(ConnId, RoomSender)> = self
            .conns
            .iter_mut()
            .filter(|c| pred(c.value()) && c.role != role)
            .map(|mut c| {
                c.role = role;
                (*c.key(), c.room.clone())
            })
            .collect();
        for (conn, room) in targets {
            room.set_role(conn, role).await;
        }
    }

    /// Re-checks every live connection against the database until `stop`.
    pub async fn sweep_forever(self, dir: Arc<dyn Directory>, stop: CancellationToken) {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = self.sweep(dir.as_ref()).await {
                warn!(error = %e, "revocation sweep failed");
            }
        }
    }

    async fn sweep(&self, dir: &dyn Directory) -> Result<(), crate::store::StoreError> {
        let now = crate::auth::now_ms();
        let snapshot: Vec<(ConnId, String, String, Role)> =
            self.conns.iter().map(|c| (*c.key(), c.session.clone(), c.board_id.clone(), c.role)).collect();
        let mut verdicts = std::collections::HashMap::new();
        for (conn, session, board_id, role) in snapshot {
            let key = (session.clone(), board_id.clone());
            if !verdicts.contains_key(&key) {
                let verdict = access_by_hash(dir, &session, &board_id, now).await?;
                verdicts.insert(key.clone(), verdict);
            }
            match verdicts.get(&key).copied().flatten() {
                None => {
                    if let Some((_, c)) = self.conns.remove(&conn) {
                        info!(conn, "access gone, closing connection");
                        c.signal.close(REVOKED);
                    }
                }
                Some(now_role) if now_role != role => {
                    debug!(conn, ?now_role, "role changed");
                    let room = self.conns.get_mut(&conn).map(|mut c| {
                        c.role = now_role;
                        c.room.clone()
                    });
                    if let Some(room) = room {
                        room.set_role(conn, now_role).await;
                    }
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// The role a session (by token hash) has on a board now, or None.
async fn access_by_hash(
    dir: &dyn Directory,
    session_hash: &str,
    board_id: &str,
    now: i64,
) -> Result<Option<Role>, crate::store::StoreError> {
    use crate::store::directory::SessionOwner;
    let Some(session) = dir.session(session_hash, now).await? else { return Ok(None) };
    let caller = match session.owner {
        SessionOwner::User(user) => Caller::User(user),
        SessionOwner::Guest { guest, tenant_id, invite_usable: true } => Caller::Guest { guest, tenant_id },
        SessionOwner::Guest { .. } => return Ok(None),
    };
    let Some(board) = dir.board(board_id).await? else { return Ok(None) };
    let member = match &caller {
        Caller::User(u) => dir.member_role(&board.project_id, &u.id).await?,
        Caller::Guest { .. } => None,
    };
    Ok(board_access(&caller, &board, member))
}
