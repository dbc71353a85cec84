//! Who may do what, checked on the real server: the isolation matrix (every caller × every
//! endpoint of the OpenAPI document, and the WebSocket upgrade, on SQLite and PostgreSQL), the
//! viewer's WebSocket, hostile REST input, tokens and invites, and the OpenAPI document against
//! the router.
//!
//! Checks collect their failures and report them all at once, each naming the caller and the
//! request, so that one wrong answer does not hide the others.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use atelier::store::{Database, DocKey};
use atelier::tenancy::{GuestRole, Invite};
use serde_json::{json, Value};
use yrs::updates::decoder::Decode;
use yrs::{Map, Transact, Update};

use crate::store::PgDb;
use crate::support::*;

const PASSWORD: &str = "access-test-password";

// ---------------------------------------------------------------------------------------------
// The matrix.
// ---------------------------------------------------------------------------------------------

/// The callers of the matrix. A* are of tenant A, `AdminB` of tenant B.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Who {
    /// No Authorization header at all.
    Anonymous,
    /// A well-formed token that the server never issued.
    BadToken,
    AdminA,
    Owner,
    Facilitator,
    Editor,
    Viewer,
    /// A member of tenant A who is not in project P.
    Outsider,
    /// Guest invited to board X.
    GuestX,
    /// Guest invited to board Y (same project, not X).
    GuestY,
    AdminB,
}

use Who::*;

/// The column order of [`MATRIX`] and [`WS_MATRIX`].
const CALLERS: [Who; 11] =
    [Anonymous, BadToken, AdminA, Owner, Facilitator, Editor, Viewer, Outsider, GuestX, GuestY, AdminB];

struct Row {
    method: &'static str,
    /// As written in the OpenAPI document, relative to /api/v1.
    path: &'static str,
    expect: [u16; 11],
}

const fn row(method: &'static str, path: &'static str, expect: [u16; 11]) -> Row {
    Row { method, path, expect }
}

/// Every endpoint of the API and the exact status each caller gets.
///
/// Targets: `{project_id}` is project P; `{board_id}` is board X, except for DELETE where it is
/// a fresh board of P (no guest is invited to it); `{user_id}` is a spare member of P, added
/// again before each DELETE; `{invite_token}` is a fresh invite to X; `{template_id}` is a fresh
/// template saved from X by the facilitator (POST /templates saves X). Logout uses a fresh token
/// of the caller. Login and accept ignore the caller's token: the credentials or the invite link
/// are what count (the link is a capability: whoever holds it joins, from any tenant).
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //                                                         anon bad  admA own  fac  edit view out  gstX gstY admB
    row("POST",   "/auth/login",                              [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    row("POST",   "/auth/logout",                             [401, 401, 204, 204, 204, 204, 204, 204, 204, 204, 204]),
    row("GET",    "/auth/me",                                 [401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    row("POST",   "/projects",                                [401, 401, 201, 201, 201, 201, 201, 201, 403, 403, 201]),
    row("GET",    "/projects",                                [401, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    row("GET",    "/projects/{project_id}",                   [401, 401, 200, 200, 200, 200, 200, 404, 404, 404, 404]),
    row("GET",    "/projects/{project_id}/members",           [401, 401, 200, 200, 200, 200, 200, 404, 404, 404, 404]),
    row("PUT",    "/projects/{project_id}/members/{user_id}", [401, 401, 200, 200, 403, 403, 403, 404, 404, 404, 404]),
    row("DELETE", "/projects/{project_id}/members/{user_id}", [401, 401, 204, 204, 403, 403, 403, 404, 404, 404, 404]),
    row("POST",   "/projects/{project_id}/boards",            [401, 401, 201, 201, 201, 403, 403, 404, 404, 404, 404]),
    row("GET",    "/projects/{project_id}/boards",            [401, 401, 200, 200, 200, 200, 200, 404, 404, 404, 404]),
    row("GET",    "/boards/{board_id}",                       [401, 401, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    row("PATCH",  "/boards/{board_id}",                       [401, 401, 200, 200, 200, 403, 403, 404, 403, 404, 404]),
    row("DELETE", "/boards/{board_id}",                       [401, 401, 204, 204, 403, 403, 403, 404, 404, 404, 404]),
    row("POST",   "/boards/{board_id}/images",                [401, 401, 201, 201, 201, 201, 403, 404, 201, 404, 404]),
    row("GET",    "/boards/{board_id}/images/{image_id}",     [401, 401, 200, 200, 200, 200, 200, 404, 200, 404, 404]),
    row("POST",   "/boards/{board_id}/suggestions/clusters",  [401, 401, 200, 200, 200, 403, 403, 404, 403, 404, 404]),
    row("POST",   "/boards/{board_id}/versions",              [401, 401, 201, 201, 201, 403, 403, 404, 403, 404, 404]),
    row("POST",   "/boards/{board_id}/reveal",                [401, 401, 200, 200, 200, 403, 403, 404, 403, 404, 404]),
    row("GET",    "/boards/{board_id}/versions",              [401, 401, 200, 200, 200, 403, 403, 404, 403, 404, 404]),
    row("GET",    "/boards/{board_id}/versions/{version_id}", [401, 401, 200, 200, 200, 403, 403, 404, 403, 404, 404]),
    row("POST",   "/boards/{board_id}/invites",               [401, 401, 201, 201, 201, 403, 403, 404, 403, 404, 404]),
    row("GET",    "/boards/{board_id}/invites",               [401, 401, 200, 200, 200, 403, 403, 404, 403, 404, 404]),
    row("DELETE", "/invites/{invite_token}",                  [401, 401, 204, 204, 204, 403, 403, 404, 403, 404, 404]),
    row("DELETE", "/boards/{board_id}/invites/{invite_id}",   [401, 401, 204, 204, 204, 403, 403, 404, 404, 404, 404]),
    row("POST",   "/invites/{invite_token}/accept",           [201, 201, 201, 201, 201, 201, 201, 201, 201, 201, 201]),
    row("POST",   "/users",                                   [401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 201]),
    row("GET",    "/users",                                   [401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 200]),
    row("GET",    "/audit",                                   [401, 401, 200, 403, 403, 403, 403, 403, 403, 403, 200]),
    row("POST",   "/templates",                               [401, 401, 201, 201, 201, 403, 403, 404, 403, 404, 404]),
    row("GET",    "/templates",                               [401, 401, 200, 200, 200, 200, 200, 200, 403, 403, 200]),
    row("GET",    "/templates/{template_id}",                 [401, 401, 200, 200, 200, 200, 200, 200, 404, 404, 404]),
    row("DELETE", "/templates/{template_id}",                 [401, 401, 204, 403, 204, 403, 403, 403, 404, 404, 404]),
    row("GET",    "/templates/{template_id}/boards",          [401, 401, 200, 200, 200, 200, 200, 200, 404, 404, 404]),
];

/// `GET /ws/{X}?token=`: 101 when the upgrade is accepted.
#[rustfmt::skip]
const WS_MATRIX: [u16; 11] =
    //  anon bad  admA own  fac  edit view out  gstX gstY admB
       [401, 401, 101, 101, 101, 101, 101, 404, 101, 404, 404];

#[tokio::test]
async fn isolation_matrix_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    matrix(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn isolation_matrix_on_postgres() {
    let pg = PgDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.db.database_url = Some(pg.url.clone());
    let server = TestServer::start(cfg).await;
    matrix(&server).await;
    server.stop().await;
    drop(pg);
}

async fn matrix(server: &TestServer) {
    let w = World::build(server).await;
    let addr = w.addr;
    let mut c = Checks::new(addr);

    // The matrix covers exactly the endpoints the OpenAPI document lists.
    let listed = operations(&openapi(addr).await);
    let covered: BTreeSet<(String, String)> =
        MATRIX.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    for missing in listed.difference(&covered) {
        c.fail(format!(
            "the OpenAPI document lists {} {} but the access matrix does not cover it",
            missing.0, missing.1
        ));
    }
    for extra in covered.difference(&listed) {
        c.fail(format!(
            "the access matrix tests {} {} but the OpenAPI document does not list it",
            extra.0, extra.1
        ));
    }

    for row in MATRIX {
        for (who, expected) in CALLERS.into_iter().zip(row.expect) {
            let path = w.target(row).await;
            let token = if row.path == "/auth/logout" { w.fresh_token(who).await } else { w.token(who) };
            let mut body = request_body(row.method, row.path, w.next(), &w.login_email);
            if (row.method, row.path) == ("POST", "/templates") {
                body = Some(json!({"board_id": w.board_x, "name": format!("Modèle {}", w.next())}));
            }
            let what = format!("{who:?} {} {} (as /api/v1{path})", row.method, row.path);
            let (status, resp) = if row.path.contains("/images") {
                // Images travel as raw bytes, not JSON.
                let png = tiny_png(u32::try_from(w.next()).unwrap_or(0));
                let body = (row.method == "POST").then_some(("image/png", png.as_slice()));
                let answer =
                    http_bytes(addr, row.method, &format!("/api/v1{path}"), token.as_deref(), body, &[])
                        .await;
                (answer.status, answer.json())
            } else {
                call(addr, row.method, &path, token.as_deref(), body).await
            };
            c.status(&what, status, expected, &resp);
            if status == 404 && resp["error"]["message"] == "route not found" {
                c.fail(format!("{what}: answered by the router's fallback, the route does not exist"));
            }
        }
    }

    // The WebSocket upgrade follows the same rules.
    for (who, expected) in CALLERS.into_iter().zip(WS_MATRIX) {
        let url = w.ws_url(&w.board_x, w.token(who).as_deref());
        let (status, body) = ws_upgrade_status(&url).await;
        c.status(&format!("{who:?} WebSocket upgrade to board X"), status, expected, &body);
    }
    for (who, board, expected, what) in [
        (GuestX, w.board_y.clone(), 404, "guest of X, board Y"),
        (AdminA, w.b_board.clone(), 404, "admin of A, a board of tenant B"),
        (AdminB, w.b_board.clone(), 101, "admin of B, its own board"),
        (AdminA, "no-such-board".to_owned(), 404, "admin of A, a board that does not exist"),
    ] {
        let (status, body) = ws_upgrade_status(&w.ws_url(&board, w.token(who).as_deref())).await;
        c.status(&format!("WebSocket upgrade: {what}"), status, expected, &body);
    }
    let (status, body) = ws_upgrade_status(&w.ws_url(&w.board_x, Some(""))).await;
    c.status("WebSocket upgrade with an empty token", status, 401, &body);

    // What each caller's project list shows.
    let a_projects =
        ids(&c.expect("AdminA lists projects", "GET", "/projects", w.tok(AdminA), None, 200).await);
    c.check(a_projects.contains(&w.project), "AdminA's project list lacks P (admins see every project)");
    c.check(
        a_projects.len() >= 7,
        format!("AdminA sees every project of A (P + 6 made by the matrix): {a_projects:?}"),
    );
    let b_list = c.expect("AdminB lists projects", "GET", "/projects", w.tok(AdminB), None, 200).await;
    let b_projects = ids(&b_list);
    c.check(b_projects.contains(&w.b_project), "AdminB's project list lacks B's own project");
    for id in &b_projects {
        c.check(!a_projects.contains(id), format!("AdminB's project list shows project {id} of tenant A"));
    }
    c.check(!b_list.to_string().contains(&w.tenant_a), "AdminB's project list mentions tenant A");
    for (who, role) in [
        (AdminA, "owner"),
        (Owner, "owner"),
        (Facilitator, "facilitator"),
        (Editor, "editor"),
        (Viewer, "viewer"),
    ] {
        let list =
            c.expect(&format!("{who:?} lists projects"), "GET", "/projects", w.tok(who), None, 200).await;
        let p = list.as_array().and_then(|l| l.iter().find(|p| p["id"] == w.project.as_str())).cloned();
        c.check(
            p.as_ref().is_some_and(|p| p["role"] == role),
            format!("{who:?}'s project list shows P with role {role}: {p:?}"),
        );
    }
    let outsider =
        ids(&c.expect("Outsider lists projects", "GET", "/projects", w.tok(Outsider), None, 200).await);
    c.check(!outsider.contains(&w.project), "Outsider's project list shows P");
    for who in [GuestX, GuestY] {
        let list =
            c.expect(&format!("{who:?} lists projects"), "GET", "/projects", w.tok(who), None, 200).await;
        c.check(list == json!([]), format!("{who:?} gets an empty project list, got {list}"));
    }

    // Users and audit of B never show tenant A; A's audit log records what happened in A.
    let b_users = c.expect("AdminB lists users", "GET", "/users", w.tok(AdminB), None, 200).await;
    c.check(
        !b_users.to_string().contains("@a.test"),
        format!("AdminB's user list shows A's users: {b_users}"),
    );
    let b_audit =
        c.expect("AdminB reads the audit", "GET", "/audit?limit=1000", w.tok(AdminB), None, 200).await;
    for id in [&w.project, &w.board_x, &w.board_y] {
        c.check(
            !b_audit.to_string().contains(id.as_str()),
            format!("AdminB's audit log mentions {id} of tenant A"),
        );
    }
    let a_audit =
        c.expect("AdminA reads the audit", "GET", "/audit?limit=1000", w.tok(AdminA), None, 200).await;
    for action in [
        "project.create",
        "member.set",
        "member.remove",
        "board.create",
        "board.delete",
        "invite.create",
        "invite.revoke",
        "invite.accept",
    ] {
        c.check(
            a_audit.as_array().is_some_and(|l| l.iter().any(|e| e["action"] == action)),
            format!("A's audit log has no {action} entry"),
        );
    }

    // The other direction: tenant A does not see B either, and people cross no tenant line.
    let b_project = format!("/projects/{}", w.b_project);
    c.expect("AdminA reads B's project", "GET", &b_project, w.tok(AdminA), None, 404).await;
    c.expect("AdminA reads B's board", "GET", &format!("/boards/{}", w.b_board), w.tok(AdminA), None, 404)
        .await;
    c.expect(
        "AdminA deletes B's board",
        "DELETE",
        &format!("/boards/{}", w.b_board),
        w.tok(AdminA),
        None,
        404,
    )
    .await;
    c.expect(
        "AdminB reads its own board",
        "GET",
        &format!("/boards/{}", w.b_board),
        w.tok(AdminB),
        None,
        200,
    )
    .await;
    let add_b = format!("/projects/{}/members/{}", w.project, w.admin_b_id);
    c.expect("Owner adds B's admin to P", "PUT", &add_b, w.tok(Owner), Some(json!({"role": "viewer"})), 404)
        .await;
    let add_outsider_to_b = format!("{b_project}/members/{}", w.outsider_id);
    c.expect(
        "AdminB adds A's outsider to B's project",
        "PUT",
        &add_outsider_to_b,
        w.tok(AdminB),
        Some(json!({"role": "viewer"})),
        404,
    )
    .await;

    // Guests may not change the board they were invited to (a throwaway board and guest).
    let (board, guest) = w.board_with_guest().await;
    let on_board = format!("/boards/{board}");
    c.expect(
        "guest archives its own board",
        "PATCH",
        &on_board,
        Some(&guest),
        Some(json!({"archived": true})),
        403,
    )
    .await;
    c.expect("guest deletes its own board", "DELETE", &on_board, Some(&guest), None, 403).await;
    // Archiving is for facilitators and up.
    c.expect(
        "Editor archives board X",
        "PATCH",
        &format!("/boards/{}", w.board_x),
        w.tok(Editor),
        Some(json!({"archived": true})),
        403,
    )
    .await;
    let archived = c
        .expect(
            "Facilitator archives a board",
            "PATCH",
            &on_board,
            w.tok(Facilitator),
            Some(json!({"archived": true})),
            200,
        )
        .await;
    c.check(archived["archived_at"].is_i64(), format!("archiving sets archived_at: {archived}"));
    let restored = c
        .expect(
            "Facilitator restores a board",
            "PATCH",
            &on_board,
            w.tok(Facilitator),
            Some(json!({"archived": false})),
            200,
        )
        .await;
    c.check(restored["archived_at"].is_null(), format!("restoring clears archived_at: {restored}"));

    // Nothing refused above changed anything: X, its guest and P's members are intact.
    let x = c
        .expect(
            "AdminA reads X after the matrix",
            "GET",
            &format!("/boards/{}", w.board_x),
            w.tok(AdminA),
            None,
            200,
        )
        .await;
    c.check(x["title"] == "Tableau X" && x["archived_at"].is_null(), format!("board X unchanged: {x}"));
    c.expect(
        "GuestX reads X after the matrix",
        "GET",
        &format!("/boards/{}", w.board_x),
        w.tok(GuestX),
        None,
        200,
    )
    .await;
    let members = c
        .expect(
            "Owner lists members",
            "GET",
            &format!("/projects/{}/members", w.project),
            w.tok(Owner),
            None,
            200,
        )
        .await;
    for (id, role) in [(&w.facilitator_id, "facilitator"), (&w.editor_id, "editor"), (&w.viewer_id, "viewer")]
    {
        c.check(
            members
                .as_array()
                .is_some_and(|l| l.iter().any(|m| m["user_id"] == id.as_str() && m["role"] == role)),
            format!("member {id} is still {role}: {members}"),
        );
    }

    w.db.close().await;
    c.finish("isolation matrix");
}

/// Tenants A and B and everyone of the matrix.
struct World {
    addr: SocketAddr,
    db: Arc<dyn Database>,
    tenant_a: String,
    tokens: HashMap<Who, String>,
    /// For minting fresh tokens: (tenant, user id, guest id).
    principals: HashMap<Who, (String, Option<String>, Option<String>)>,
    project: String,
    board_x: String,
    board_y: String,
    /// A member of tenant A, target of the member rows.
    spare_id: String,
    outsider_id: String,
    facilitator_id: String,
    editor_id: String,
    viewer_id: String,
    admin_b_id: String,
    /// An account that only logs in.
    login_email: String,
    b_project: String,
    b_board: String,
    counter: AtomicU64,
}

impl World {
    async fn build(server: &TestServer) -> Self {
        let addr = server.addr;
        let db = server.config.db.open().await.expect("open db");
        let a = atelier::admin::create_tenant(db.as_ref(), "Région A", "admin@a.test", PASSWORD)
            .await
            .expect("A");
        let b = atelier::admin::create_tenant(db.as_ref(), "Région B", "admin@b.test", PASSWORD)
            .await
            .expect("B");
        let tenant_a = a["tenant_id"].as_str().expect("tenant").to_owned();
        let tenant_b = b["tenant_id"].as_str().expect("tenant").to_owned();
        let admin_a = mint(db.as_ref(), "admin@a.test").await;
        let admin_b = mint(db.as_ref(), "admin@b.test").await;

        // Accounts of tenant A, made by its admin (in parallel: password hashing is slow).
        let names = ["owner", "facilitator", "editor", "viewer", "outsider", "spare", "login"];
        let ids: Vec<String> = futures_util::future::join_all(names.iter().map(|name| {
            let body = json!({"email": format!("{name}@a.test"), "password": PASSWORD, "display_name": name});
            let admin = admin_a.clone();
            async move {
                let user =
                    expect(addr, "AdminA creates a user", "POST", "/users", Some(&admin), Some(body), 201)
                        .await;
                user["id"].as_str().expect("user id").to_owned()
            }
        }))
        .await;
        let id = |name: &str| ids[names.iter().position(|n| *n == name).expect("name")].clone();
        let mut tokens = HashMap::new();
        let mut principals = HashMap::new();
        tokens.insert(AdminA, admin_a.clone());
        tokens.insert(AdminB, admin_b.clone());
        principals.insert(AdminA, (tenant_a.clone(), a["admin_user_id"].as_str().map(str::to_owned), None));
        let admin_b_id = b["admin_user_id"].as_str().expect("id").to_owned();
        principals.insert(AdminB, (tenant_b.clone(), Some(admin_b_id.clone()), None));
        for (who, name) in [
            (Owner, "owner"),
            (Facilitator, "facilitator"),
            (Editor, "editor"),
            (Viewer, "viewer"),
            (Outsider, "outsider"),
        ] {
            tokens.insert(who, mint(db.as_ref(), &format!("{name}@a.test")).await);
            principals.insert(who, (tenant_a.clone(), Some(id(name)), None));
        }

        // P, made by its owner, who adds the other roles.
        let p = expect(
            addr,
            "Owner creates P",
            "POST",
            "/projects",
            Some(&tokens[&Owner]),
            Some(json!({"name": "Projet P"})),
            201,
        )
        .await;
        assert_eq!(p["role"], "owner", "the creator of a project is its owner: {p}");
        let project = p["id"].as_str().expect("project id").to_owned();
        for name in ["facilitator", "editor", "viewer"] {
            let path = format!("/projects/{project}/members/{}", id(name));
            expect(
                addr,
                "Owner adds a member",
                "PUT",
                &path,
                Some(&tokens[&Owner]),
                Some(json!({"role": name})),
                200,
            )
            .await;
        }

        // Boards X and Y, made by the facilitator, each with a guest.
        let mut boards = Vec::new();
        for title in ["Tableau X", "Tableau Y"] {
            let body = json!({"title": title, "kind": "postit"});
            let board = expect(
                addr,
                "Facilitator creates a board",
                "POST",
                &format!("/projects/{project}/boards"),
                Some(&tokens[&Facilitator]),
                Some(body),
                201,
            )
            .await;
            boards.push(board["id"].as_str().expect("board id").to_owned());
        }
        for (who, board, role) in [(GuestX, &boards[0], "editor"), (GuestY, &boards[1], "viewer")] {
            let invite = invite(addr, &tokens[&Facilitator], board, role).await;
            let accepted = accept(addr, &invite, &format!("{who:?}")).await;
            tokens.insert(who, accepted["token"].as_str().expect("guest token").to_owned());
            principals
                .insert(who, (tenant_a.clone(), None, accepted["guest"]["id"].as_str().map(str::to_owned)));
        }

        // Tenant B has a project and a board of its own.
        let bp = expect(
            addr,
            "AdminB creates a project",
            "POST",
            "/projects",
            Some(&admin_b),
            Some(json!({"name": "Projet B"})),
            201,
        )
        .await;
        let b_project = bp["id"].as_str().expect("id").to_owned();
        let body = json!({"title": "Tableau B", "kind": "radar"});
        let bb = expect(
            addr,
            "AdminB creates a board",
            "POST",
            &format!("/projects/{b_project}/boards"),
            Some(&admin_b),
            Some(body),
            201,
        )
        .await;

        Self {
            addr,
            db,
            tenant_a,
            tokens,
            principals,
            project,
            board_x: boards[0].clone(),
            board_y: boards[1].clone(),
            spare_id: id("spare"),
            outsider_id: id("outsider"),
            facilitator_id: id("facilitator"),
            editor_id: id("editor"),
            viewer_id: id("viewer"),
            admin_b_id,
            login_email: "login@a.test".into(),
            b_project,
            b_board: bb["id"].as_str().expect("id").to_owned(),
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// The caller's standing token (None for the anonymous caller).
    fn token(&self, who: Who) -> Option<String> {
        match who {
            Anonymous => None,
            BadToken => Some(atelier::auth::new_token()),
            _ => Some(self.tokens[&who].clone()),
        }
    }

    fn tok(&self, who: Who) -> Option<&str> {
        self.tokens.get(&who).map(String::as_str)
    }

    /// A new token of the caller, for calls that end it (logout).
    async fn fresh_token(&self, who: Who) -> Option<String> {
        let Some((tenant, user, guest)) = self.principals.get(&who) else { return self.token(who) };
        let token = atelier::auth::new_token();
        let now = atelier::auth::now_ms();
        self.db
            .create_session(
                &atelier::auth::token_hash(&token),
                tenant,
                user.as_deref(),
                guest.as_deref(),
                now,
                now + 3_600_000,
            )
            .await
            .expect("session");
        Some(token)
    }

    /// The concrete path of a row (fresh objects for destructive calls).
    async fn target(&self, row: &Row) -> String {
        let destructive = row.method == "DELETE";
        let mut path = row.path.replace("{project_id}", &self.project);
        if path.contains("{user_id}") {
            if destructive {
                let re_add = format!("/projects/{}/members/{}", self.project, self.spare_id);
                expect(
                    self.addr,
                    "AdminA adds the spare member",
                    "PUT",
                    &re_add,
                    self.tok(AdminA),
                    Some(json!({"role": "viewer"})),
                    200,
                )
                .await;
            }
            path = path.replace("{user_id}", &self.spare_id);
        }
        if path.contains("{board_id}") {
            let board = if destructive { self.fresh_board().await } else { self.board_x.clone() };
            path = path.replace("{board_id}", &board);
            if path.contains("{invite_id}") {
                let created = expect(
                    self.addr,
                    "AdminA invites to the board",
                    "POST",
                    &format!("/boards/{board}/invites"),
                    self.tok(AdminA),
                    Some(json!({"role": "viewer", "expires_in_secs": 3600})),
                    201,
                )
                .await;
                path = path.replace("{invite_id}", created["invite"]["id"].as_str().expect("invite id"));
            }
        }
        if path.contains("{version_id}") {
            let version = expect(
                self.addr,
                "AdminA keeps a version of X",
                "POST",
                &format!("/boards/{}/versions", self.board_x),
                self.tok(AdminA),
                Some(json!({"label": "avant"})),
                201,
            )
            .await;
            path = path.replace("{version_id}", version["id"].as_str().expect("version id"));
        }
        if path.contains("{image_id}") {
            let png = tiny_png(u32::try_from(self.next()).unwrap_or(0));
            let up = http_bytes(
                self.addr,
                "POST",
                &format!("/api/v1/boards/{}/images", self.board_x),
                self.tok(AdminA),
                Some(("image/png", &png)),
                &[],
            )
            .await;
            assert_eq!(up.status, 201, "AdminA uploads an image to X: {}", up.json());
            path = path.replace("{image_id}", up.json()["id"].as_str().expect("image id"));
        }
        if path.contains("{template_id}") {
            // Saved by the facilitator of X: DELETE is for its author and the tenant's admins.
            let template = expect(
                self.addr,
                "Facilitator saves X as a template",
                "POST",
                "/templates",
                self.tok(Facilitator),
                Some(json!({"board_id": self.board_x, "name": format!("Modèle {}", self.next())})),
                201,
            )
            .await;
            path = path.replace("{template_id}", template["id"].as_str().expect("template id"));
        }
        if path.contains("{invite_token}") {
            let token = invite(self.addr, &self.tokens[&AdminA], &self.board_x, "viewer").await;
            path = path.replace("{invite_token}", &token);
        }
        path
    }

    async fn fresh_board(&self) -> String {
        let body = json!({"title": format!("Jetable {}", self.next()), "kind": "free"});
        let path = format!("/projects/{}/boards", self.project);
        let board =
            expect(self.addr, "AdminA creates a board", "POST", &path, self.tok(AdminA), Some(body), 201)
                .await;
        board["id"].as_str().expect("board id").to_owned()
    }

    /// A fresh board of P and the token of an editor guest of it.
    async fn board_with_guest(&self) -> (String, String) {
        let board = self.fresh_board().await;
        let invite = invite(self.addr, &self.tokens[&AdminA], &board, "editor").await;
        let accepted = accept(self.addr, &invite, "Invitée").await;
        (board, accepted["token"].as_str().expect("token").to_owned())
    }

    fn ws_url(&self, board: &str, token: Option<&str>) -> String {
        match token {
            Some(token) => format!("ws://{}/ws/{board}?token={token}", self.addr),
            None => format!("ws://{}/ws/{board}", self.addr),
        }
    }
}

/// A valid request body for an endpoint (None for those without one).
fn request_body(method: &str, path: &str, n: u64, login_email: &str) -> Option<Value> {
    Some(match (method, path) {
        ("POST", "/auth/login") => json!({"email": login_email, "password": PASSWORD}),
        ("POST", "/projects") => json!({"name": format!("Projet {n}")}),
        ("PUT", "/projects/{project_id}/members/{user_id}") => json!({"role": "viewer"}),
        ("POST", "/projects/{project_id}/boards") => {
            json!({"title": format!("Tableau {n}"), "kind": "postit"})
        }
        ("PATCH", "/boards/{board_id}") => json!({"title": "Tableau X"}),
        ("POST", "/boards/{board_id}/suggestions/clusters") => json!({}),
        ("POST", "/boards/{board_id}/versions") => json!({"label": format!("Version {n}")}),
        ("POST", "/boards/{board_id}/invites") => json!({"role": "viewer", "expires_in_secs": 3600}),
        ("POST", "/invites/{invite_token}/accept") => json!({"display_name": format!("Invité {n}")}),
        ("POST", "/users") => {
            json!({"email": format!("new{n}@example.test"), "password": PASSWORD, "display_name": format!("Nouveau {n}")})
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// The viewer's WebSocket.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_viewer_reads_and_is_seen_but_its_edits_are_refused_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let server = TestServer::start(cfg.clone()).await;
    let fx = Fixture::new(&server).await;
    fx.token_with_role("vera", "viewer").await;

    let editor = TestClient::connect(&fx.url("edith").await).await;
    editor.wait_synced().await;
    editor.set("from-editor", 1);
    editor.set("second", 2);
    let viewer = TestClient::connect(&fx.url("vera").await).await;
    viewer.wait_until("the viewer has the editor's notes", |c| c.keys() == 2).await;

    // The viewer's presence reaches the editor.
    let vera = viewer.doc.client_id();
    viewer.send_raw(presence_frame(&viewer.doc, r#"{"user":{"name":"Vera"}}"#));
    editor
        .wait_until("the editor sees the viewer's presence", |c| {
            c.seen
                .lock()
                .unwrap()
                .awareness
                .iter()
                .any(|u| u.clients.get(&vera).is_some_and(|e| e.json.contains("Vera")))
        })
        .await;

    // Its edit is refused with permission-denied; the connection stays open and keeps reading.
    viewer.set("evil", 666);
    viewer
        .wait_until("the viewer is told permission denied", |c| !c.seen.lock().unwrap().denied.is_empty())
        .await;
    let reason = viewer.seen.lock().unwrap().denied[0].clone();
    assert!(!reason.is_empty(), "the permission-denied message gives a reason");
    editor.set("after-refusal", 3);
    viewer.wait_until("the viewer still receives edits", |c| c.notes().get("after-refusal").is_some()).await;
    assert!(viewer.closed().is_none(), "the viewer's connection was closed: {:?}", viewer.closed());

    // The editor never receives it: a barrier written by someone else arrives, the edit does not.
    let other = TestClient::connect(&fx.url("otto").await).await;
    other.wait_synced().await;
    other.set("barrier", 4);
    editor.wait_until("the editor receives the barrier", |c| c.notes().get("barrier").is_some()).await;
    assert!(
        editor.notes().get("evil").is_none(),
        "the editor received the viewer's edit: {}",
        editor.notes()
    );
    assert!(other.notes().get("evil").is_none(), "a joiner received the viewer's edit: {}", other.notes());
    assert!(viewer.closed().is_none(), "the viewer's connection was closed: {:?}", viewer.closed());

    // Not in the store.
    let board = fx.board.clone();
    server.stop().await;
    let db = cfg.db.open().await.expect("open db");
    let stored = db.load(&DocKey::main(board.as_str())).await.expect("load");
    db.close().await;
    let doc = yrs::Doc::new();
    for bytes in stored.snapshot.iter().map(|s| &s.data).chain(stored.log.iter().map(|(_, d)| d)) {
        doc.transact_mut().apply_update(Update::decode_v1(bytes).expect("stored update")).expect("apply");
    }
    let notes = doc.get_or_insert_map("notes");
    let keys: BTreeSet<String> = notes.keys(&doc.transact()).map(str::to_owned).collect();
    let want: BTreeSet<String> =
        ["from-editor", "second", "after-refusal", "barrier"].map(String::from).into();
    assert_eq!(keys, want, "the stored board");

    // Nor after a restart, for a fresh client.
    let server = TestServer::start(cfg).await;
    fx.rebind(&server);
    let fresh = TestClient::connect(&fx.url("fiona").await).await;
    fresh.wait_until("the restarted board has the editors' notes", |c| c.keys() == 4).await;
    assert!(fresh.notes().get("evil").is_none(), "the viewer's edit survived a restart: {}", fresh.notes());
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Hostile REST input.
// ---------------------------------------------------------------------------------------------

const MAX_BODY: usize = 4096;

#[tokio::test]
async fn hostile_rest_input_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.max_body_bytes = MAX_BODY;
    let server = TestServer::start(cfg).await;
    hostile(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn hostile_rest_input_on_postgres() {
    let pg = PgDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.max_body_bytes = MAX_BODY;
    cfg.db.database_url = Some(pg.url.clone());
    let server = TestServer::start(cfg).await;
    hostile(&server).await;
    server.stop().await;
    drop(pg);
}

async fn hostile(server: &TestServer) {
    let fx = Fixture::new(server).await;
    let addr = server.addr;
    let admin = Some(fx.admin.as_str());
    let (project, board) = (fx.project.clone(), fx.board.clone());
    let mut c = Checks::new(addr);
    let user = c
        .expect(
            "create a member",
            "POST",
            "/users",
            admin,
            Some(json!({"email": "m@h.test", "password": PASSWORD, "display_name": "M"})),
            201,
        )
        .await;
    let user_id = user["id"].as_str().expect("user id").to_owned();
    let invite_token = invite(addr, &fx.admin, &board, "viewer").await;
    let boards_path = format!("/projects/{project}/boards");
    let board_path = format!("/boards/{board}");
    let member_path = format!("/projects/{project}/members/{user_id}");
    let invites_path = format!("{board_path}/invites");
    let accept_path = format!("/invites/{invite_token}/accept");

    // Bodies over the configured limit: 413 in the API's format, nothing created. The name
    // would be valid once trimmed, so only the limit refuses it.
    let padded = format!("{{\"name\": \"Trop gros{}\"}}", " ".repeat(2 * MAX_BODY));
    let (status, body) = raw_http(
        addr,
        &request("POST", "/projects", admin, &[("Content-Type", "application/json")], padded.as_bytes()),
    )
    .await;
    c.status("oversized body with Content-Length", status, 413, &body);
    let chunked = format!("{:x}\r\n{padded}\r\n0\r\n\r\n", padded.len());
    let headers = [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")];
    let (status, body) =
        raw_http(addr, &request("POST", "/projects", admin, &headers, chunked.as_bytes())).await;
    c.status("oversized chunked body", status, 413, &body);
    let projects = c.expect("list projects", "GET", "/projects", admin, None, 200).await;
    c.check(
        !projects.to_string().contains("Trop gros"),
        format!("an oversized body created a project: {projects}"),
    );

    // Malformed JSON: 400.
    for (what, bytes) in [
        ("truncated JSON", &b"{\"name\": \"x\""[..]),
        ("not JSON", b"name=x"),
        ("an array", b"[\"From an array\"]"),
        ("null", b"null"),
        ("an empty body", b""),
        ("a wrong type", b"{\"name\": 42}"),
        ("a missing field", b"{}"),
        ("invalid UTF-8", b"{\"name\": \"\xff\xfe\"}"),
        ("a duplicate field", b"{\"name\": \"a\", \"name\": \"b\"}"),
    ] {
        let (status, body) = raw_http(
            addr,
            &request("POST", "/projects", admin, &[("Content-Type", "application/json")], bytes),
        )
        .await;
        c.status(&format!("POST /projects with {what}"), status, 400, &body);
    }
    let projects = c.expect("list projects", "GET", "/projects", admin, None, 200).await;
    c.check(ids(&projects).len() == 1, format!("a malformed body created a project: {projects}"));

    // Unknown fields: 400 on every endpoint that takes a body, and nothing is stored.
    let projects_before = ids(&projects).len();
    let with_extra = |mut v: Value, field: &str| {
        v[field] = json!("sneaky");
        Some(v)
    };
    let n = AtomicU64::new(1000);
    let valid = |method: &str, template: &str| {
        request_body(method, template, n.fetch_add(1, Ordering::Relaxed), "m@h.test").expect("body")
    };
    for (method, template, path, field) in [
        ("POST", "/auth/login", "/auth/login".to_owned(), "remember_me"),
        ("POST", "/projects", "/projects".to_owned(), "tenant_id"),
        ("POST", "/projects/{project_id}/boards", boards_path.clone(), "project_id"),
        ("PATCH", "/boards/{board_id}", board_path.clone(), "archived_at"),
        ("PUT", "/projects/{project_id}/members/{user_id}", member_path.clone(), "tenant_role"),
        ("POST", "/boards/{board_id}/invites", invites_path.clone(), "board_id"),
        ("POST", "/invites/{invite_token}/accept", accept_path.clone(), "role"),
        ("POST", "/users", "/users".to_owned(), "tenant_id"),
    ] {
        let mut body = valid(method, template);
        if template == "/boards/{board_id}" {
            body = json!({"title": "Renamed by a sneaky request"});
        }
        c.expect(
            &format!("{method} {template} with unknown field {field:?}"),
            method,
            &path,
            admin,
            with_extra(body, field),
            400,
        )
        .await;
    }
    let projects = c.expect("list projects", "GET", "/projects", admin, None, 200).await;
    c.check(
        ids(&projects).len() == projects_before,
        format!("a body with an unknown field created a project: {projects}"),
    );
    let boards = c.expect("list boards", "GET", &boards_path, admin, None, 200).await;
    c.check(
        boards.as_array().is_some_and(|l| l.len() == 1),
        format!("a body with an unknown field created a board: {boards}"),
    );
    let b = c.expect("read the board", "GET", &board_path, admin, None, 200).await;
    c.check(b["title"] == "Tableau", format!("a body with an unknown field renamed the board: {b}"));
    let members =
        c.expect("list members", "GET", &format!("/projects/{project}/members"), admin, None, 200).await;
    c.check(
        !members.to_string().contains(&user_id),
        format!("a body with an unknown field added a member: {members}"),
    );
    let invites = c.expect("list invites", "GET", &invites_path, admin, None, 200).await;
    c.check(
        invites.as_array().is_some_and(|l| l.len() == 1),
        format!("a body with an unknown field created an invite: {invites}"),
    );
    let users = c.expect("list users", "GET", "/users", admin, None, 200).await;
    c.check(
        users.as_array().is_some_and(|l| l.len() == 2),
        format!("a body with an unknown field created a user: {users}"),
    );
    let audit = c.expect("read the audit", "GET", "/audit", admin, None, 200).await;
    c.check(
        !audit.to_string().contains("invite.accept"),
        format!("a body with an unknown field accepted an invite: {audit}"),
    );

    // Wrong content type: 415, nothing created.
    for (what, headers) in [
        ("text/plain", vec![("Content-Type", "text/plain")]),
        ("a form", vec![("Content-Type", "application/x-www-form-urlencoded")]),
        ("no content type", vec![]),
    ] {
        let (status, body) =
            raw_http(addr, &request("POST", "/projects", admin, &headers, b"{\"name\": \"Plain\"}")).await;
        c.status(&format!("POST /projects with {what}"), status, 415, &body);
    }
    let projects = c.expect("list projects", "GET", "/projects", admin, None, 200).await;
    c.check(
        !projects.to_string().contains("Plain"),
        format!("a non-JSON body created a project: {projects}"),
    );

    // SQL-looking strings are data: stored and returned verbatim, tables intact.
    let before =
        ids(&c.expect("list projects before SQL strings", "GET", "/projects", admin, None, 200).await).len();
    for sql in [
        "'; DROP TABLE board; --",
        "Robert'); DROP TABLE project;--",
        "\" OR 1=1 --",
        "%_\\' ; SELECT * FROM session",
    ] {
        let p = c
            .expect(
                &format!("project named {sql:?}"),
                "POST",
                "/projects",
                admin,
                Some(json!({"name": sql})),
                201,
            )
            .await;
        c.check(p["name"] == sql, format!("project name not verbatim: {p}"));
        let id = p["id"].as_str().unwrap_or_default().to_owned();
        let read = c
            .expect(&format!("read project {sql:?}"), "GET", &format!("/projects/{id}"), admin, None, 200)
            .await;
        c.check(read["name"] == sql, format!("project name not verbatim when read: {read}"));
        let b = c
            .expect(
                &format!("board titled {sql:?}"),
                "POST",
                &format!("/projects/{id}/boards"),
                admin,
                Some(json!({"title": sql, "kind": "mandats"})),
                201,
            )
            .await;
        c.check(b["title"] == sql, format!("board title not verbatim: {b}"));
        let read = c
            .expect(
                &format!("read board {sql:?}"),
                "GET",
                &format!("/boards/{}", b["id"].as_str().unwrap_or_default()),
                admin,
                None,
                200,
            )
            .await;
        c.check(read["title"] == sql, format!("board title not verbatim when read: {read}"));
        let g = c
            .expect(
                &format!("guest named {sql:?}"),
                "POST",
                &accept_path,
                None,
                Some(json!({"display_name": sql})),
                201,
            )
            .await;
        c.check(g["guest"]["display_name"] == sql, format!("guest name not verbatim: {g}"));
        c.expect(
            &format!("login as {sql:?}"),
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": sql, "password": sql})),
            401,
        )
        .await;
        let encoded = sql.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
        c.expect(&format!("project id {sql:?}"), "GET", &format!("/projects/{encoded}"), admin, None, 404)
            .await;
        c.expect(&format!("board id {sql:?}"), "GET", &format!("/boards/{encoded}"), admin, None, 404).await;
    }
    let projects = c.expect("list projects after SQL strings", "GET", "/projects", admin, None, 200).await;
    c.check(
        ids(&projects).len() == before + 4,
        format!("projects after SQL strings ({before} before): {projects}"),
    );
    let boards = c.expect("list boards after SQL strings", "GET", &boards_path, admin, None, 200).await;
    c.check(boards.as_array().is_some_and(|l| l.len() == 1), format!("boards after SQL strings: {boards}"));
    c.expect("the fixture's board after SQL strings", "GET", &board_path, admin, None, 200).await;

    // Names: bounded, not blank, no control characters.
    let long = |n: usize| "é".repeat(n);
    let p = c
        .expect(
            "project name of 200 characters",
            "POST",
            "/projects",
            admin,
            Some(json!({"name": long(200)})),
            201,
        )
        .await;
    c.check(p["name"] == long(200).as_str(), "a 200-character name is stored whole");
    let b = c
        .expect(
            "title of 200 characters",
            "POST",
            &boards_path,
            admin,
            Some(json!({"title": long(200), "kind": "free"})),
            201,
        )
        .await;
    c.check(b["title"] == long(200).as_str(), "a 200-character title is stored whole");
    let mut bad_names: Vec<(String, String)> = vec![
        ("empty".into(), String::new()),
        ("spaces".into(), "   ".into()),
        ("whitespace".into(), "\t\n \r".into()),
        ("NUL".into(), "a\u{0}b".into()),
        ("newline".into(), "line\nbreak".into()),
        ("bell".into(), "ding\u{7}".into()),
        ("escape sequence".into(), "\u{1b}[31mred".into()),
        ("DEL".into(), "del\u{7f}".into()),
        ("C1 control".into(), "next\u{85}line".into()),
    ];
    bad_names.push(("201 characters".into(), long(201)));
    for (what, bad) in &bad_names {
        c.expect(
            &format!("project name: {what}"),
            "POST",
            "/projects",
            admin,
            Some(json!({"name": bad})),
            400,
        )
        .await;
        c.expect(
            &format!("board title: {what}"),
            "POST",
            &boards_path,
            admin,
            Some(json!({"title": bad, "kind": "postit"})),
            400,
        )
        .await;
        c.expect(
            &format!("board rename: {what}"),
            "PATCH",
            &board_path,
            admin,
            Some(json!({"title": bad})),
            400,
        )
        .await;
    }
    for (what, bad) in bad_names
        .iter()
        .filter(|(w, _)| w != "201 characters")
        .chain([("81 characters".to_owned(), long(81))].iter())
    {
        c.expect(
            &format!("guest name: {what}"),
            "POST",
            &accept_path,
            None,
            Some(json!({"display_name": bad})),
            400,
        )
        .await;
        let body = json!({"email": "bad-name@h.test", "password": PASSWORD, "display_name": bad});
        c.expect(&format!("user display name: {what}"), "POST", "/users", admin, Some(body), 400).await;
    }
    // An email is an address: control characters make it invalid (and must not reach the SQL).
    for (what, email) in
        [("NUL", "nul\u{0}@h.test"), ("newline", "new\nline@h.test"), ("escape", "esc\u{1b}@h.test")]
    {
        let body = json!({"email": email, "password": PASSWORD, "display_name": "Ctl"});
        c.expect(&format!("user email with {what}"), "POST", "/users", admin, Some(body), 400).await;
        c.expect(
            &format!("login email with {what}"),
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
            401,
        )
        .await;
    }

    // Enumerations and numbers.
    for (what, method, path, body) in [
        ("kind whiteboard", "POST", &boards_path, json!({"title": "T", "kind": "whiteboard"})),
        ("kind in capitals", "POST", &boards_path, json!({"title": "T", "kind": "POSTIT"})),
        ("kind null", "POST", &boards_path, json!({"title": "T", "kind": null})),
        ("member role admin", "PUT", &member_path, json!({"role": "admin"})),
        ("member role empty", "PUT", &member_path, json!({"role": ""})),
        ("invite role owner", "POST", &invites_path, json!({"role": "owner", "expires_in_secs": 3600})),
        ("invite lifetime 59 s", "POST", &invites_path, json!({"role": "viewer", "expires_in_secs": 59})),
        (
            "invite lifetime negative",
            "POST",
            &invites_path,
            json!({"role": "viewer", "expires_in_secs": -3600}),
        ),
        (
            "invite lifetime 90 days + 1 s",
            "POST",
            &invites_path,
            json!({"role": "viewer", "expires_in_secs": 90 * 24 * 3600 + 1}),
        ),
        (
            "invite lifetime a string",
            "POST",
            &invites_path,
            json!({"role": "viewer", "expires_in_secs": "3600"}),
        ),
        ("archived a string", "PATCH", &board_path, json!({"archived": "yes"})),
        (
            "tenant role root",
            "POST",
            &"/users".to_owned(),
            json!({"email": "r@h.test", "password": PASSWORD, "display_name": "R", "tenant_role": "root"}),
        ),
    ] {
        c.expect(what, method, path, admin, Some(body), 400).await;
    }

    // Odd paths and queries: 404 or 400, always in the API's format, never a server error.
    let long_id = "a".repeat(2000);
    for (what, method, path, body, expected) in [
        ("NUL in a project id", "GET", "/projects/a%00b".to_owned(), None, 404),
        ("NUL in a board id", "GET", "/boards/a%00b".to_owned(), None, 404),
        ("NUL in a board id (PATCH)", "PATCH", "/boards/a%00b".to_owned(), Some(json!({"title": "T"})), 404),
        (
            "NUL in a member id",
            "PUT",
            format!("/projects/{project}/members/a%00b"),
            Some(json!({"role": "viewer"})),
            404,
        ),
        ("NUL in a member id (DELETE)", "DELETE", format!("/projects/{project}/members/a%00b"), None, 404),
        (
            "NUL in an invite token",
            "POST",
            "/invites/a%00b/accept".to_owned(),
            Some(json!({"display_name": "N"})),
            404,
        ),
        ("a 2000-character board id", "GET", format!("/boards/{long_id}"), None, 404),
        ("a 2000-character project id", "GET", format!("/projects/{long_id}/boards"), None, 404),
        ("an id that is not UTF-8 names nothing", "GET", "/boards/%FF%FE".to_owned(), None, 404),
        ("an audit limit that is not a number", "GET", "/audit?limit=abc".to_owned(), None, 400),
        (
            "an audit limit that overflows",
            "GET",
            "/audit?limit=99999999999999999999999".to_owned(),
            None,
            400,
        ),
    ] {
        c.expect(what, method, &path, admin, body, expected).await;
    }
    c.expect("a negative audit limit is clamped", "GET", "/audit?limit=-5", admin, None, 200).await;
    // A method the route does not have.
    let (status, body) = call(addr, "PUT", "/projects", admin, Some(json!({"name": "x"}))).await;
    c.status("PUT /projects (no such method)", status, 405, &body);

    c.finish("hostile REST input");
}

/// A raw request to `/api/v1{path}`; adds Content-Length unless the body is chunked.
fn request(method: &str, path: &str, token: Option<&str>, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} /api/v1{path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("transfer-encoding")) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

// ---------------------------------------------------------------------------------------------
// Tokens and invites.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn expired_and_revoked_tokens_and_invites_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let addr = server.addr;
    let fx = Fixture::new(&server).await;
    let db = server.config.db.open().await.expect("open db");
    let mut c = Checks::new(addr);
    let admin = Some(fx.admin.as_str());
    let me = c.expect("admin reads itself", "GET", "/auth/me", admin, None, 200).await;
    let tenant = me["user"]["tenant_id"].as_str().expect("tenant").to_owned();
    let admin_id = me["user"]["id"].as_str().expect("id").to_owned();
    let board_path = format!("/boards/{}", fx.board);
    let ws = |token: &str| format!("ws://{addr}/ws/{}?token={token}", fx.board);
    let now = atelier::auth::now_ms();

    // Sessions written through the Directory: the expired one is refused, the live one works.
    let session = |expires_at: i64| {
        let db = db.clone();
        let admin_id = admin_id.clone();
        let tenant = tenant.clone();
        async move {
            let token = atelier::auth::new_token();
            db.create_session(
                &atelier::auth::token_hash(&token),
                &tenant,
                Some(&admin_id),
                None,
                now - 120_000,
                expires_at,
            )
            .await
            .expect("session");
            token
        }
    };
    let live = session(now + 60_000).await;
    c.expect("a live session", "GET", "/auth/me", Some(&live), None, 200).await;
    let expired = session(now - 1_000).await;
    c.expect("an expired session", "GET", "/auth/me", Some(&expired), None, 401).await;
    c.expect("an expired session reads a board", "GET", &board_path, Some(&expired), None, 401).await;
    let (status, body) = ws_upgrade_status(&ws(&expired)).await;
    c.status("an expired session at the WebSocket upgrade", status, 401, &body);

    // Logout ends the token on REST and at the upgrade.
    fx.token("lou").await;
    let email = format!("lou{}", me["user"]["email"].as_str().expect("email").trim_start_matches("admin"));
    let login = c
        .expect(
            "log in",
            "POST",
            "/auth/login",
            None,
            Some(json!({"email": email, "password": "participant-password"})),
            200,
        )
        .await;
    let token = login["token"].as_str().unwrap_or_default().to_owned();
    c.expect("before logout", "GET", "/auth/me", Some(&token), None, 200).await;
    let (status, body) = ws_upgrade_status(&ws(&token)).await;
    c.status("upgrade before logout", status, 101, &body);
    c.expect("logout", "POST", "/auth/logout", Some(&token), None, 204).await;
    c.expect("after logout", "GET", "/auth/me", Some(&token), None, 401).await;
    c.expect("after logout, read a board", "GET", &board_path, Some(&token), None, 401).await;
    c.expect("logout again", "POST", "/auth/logout", Some(&token), None, 401).await;
    let (status, body) = ws_upgrade_status(&ws(&token)).await;
    c.status("upgrade after logout", status, 401, &body);

    // An invite whose expiry has passed (written through the Directory: the API asks for at
    // least 60 s) is refused at accept; a valid row written the same way is accepted.
    let stored_invite = |expires_at: i64| {
        let db = db.clone();
        let tenant = tenant.clone();
        let board = fx.board.clone();
        let admin_id = admin_id.clone();
        async move {
            let token = atelier::auth::new_token();
            let invite = Invite {
                id: atelier::auth::new_id(),
                board_id: board,
                role: GuestRole::Editor,
                created_by: format!("user:{admin_id}"),
                created_at: now - 120_000,
                expires_at,
                revoked_at: None,
            };
            db.create_invite(&invite, &atelier::auth::token_hash(&token), &tenant).await.expect("invite");
            token
        }
    };
    let expired_invite = stored_invite(now - 1_000).await;
    c.expect(
        "accept an expired invite",
        "POST",
        &format!("/invites/{expired_invite}/accept"),
        None,
        Some(json!({"display_name": "Tard"})),
        404,
    )
    .await;
    let valid_invite = stored_invite(now + 3_600_000).await;
    c.expect(
        "accept a valid stored invite",
        "POST",
        &format!("/invites/{valid_invite}/accept"),
        None,
        Some(json!({"display_name": "Tôt"})),
        201,
    )
    .await;
    c.expect(
        "accept an unknown invite",
        "POST",
        &format!("/invites/{}/accept", atelier::auth::new_token()),
        None,
        Some(json!({"display_name": "X"})),
        404,
    )
    .await;
    c.expect(
        "revoke an unknown invite",
        "DELETE",
        &format!("/invites/{}", atelier::auth::new_token()),
        admin,
        None,
        404,
    )
    .await;

    // A guest token lives as long as its invite.
    let short = stored_invite(atelier::auth::now_ms() + 1_500).await;
    let accepted = c
        .expect(
            "accept a short invite",
            "POST",
            &format!("/invites/{short}/accept"),
            None,
            Some(json!({"display_name": "Bref"})),
            201,
        )
        .await;
    let guest = accepted["token"].as_str().unwrap_or_default().to_owned();
    c.expect("the short guest reads its board", "GET", &board_path, Some(&guest), None, 200).await;
    tokio::time::sleep(Duration::from_millis(1_800)).await;
    c.expect("the guest after its invite expired", "GET", "/auth/me", Some(&guest), None, 401).await;
    c.expect(
        "the guest reads its board after its invite expired",
        "GET",
        &board_path,
        Some(&guest),
        None,
        401,
    )
    .await;
    let (status, body) = ws_upgrade_status(&ws(&guest)).await;
    c.status("the guest's upgrade after its invite expired", status, 401, &body);
    c.expect(
        "accept the short invite after it expired",
        "POST",
        &format!("/invites/{short}/accept"),
        None,
        Some(json!({"display_name": "Bref"})),
        404,
    )
    .await;

    // A revoked invite: accept refused, its guests' tokens dead on REST and at the upgrade.
    let revoked = invite(addr, &fx.admin, &fx.board, "editor").await;
    let accepted = c
        .expect(
            "accept before revocation",
            "POST",
            &format!("/invites/{revoked}/accept"),
            None,
            Some(json!({"display_name": "Révoquée"})),
            201,
        )
        .await;
    let guest = accepted["token"].as_str().unwrap_or_default().to_owned();
    c.expect("guest before revocation", "GET", &board_path, Some(&guest), None, 200).await;
    let (status, body) = ws_upgrade_status(&ws(&guest)).await;
    c.status("guest upgrade before revocation", status, 101, &body);
    c.expect("revoke", "DELETE", &format!("/invites/{revoked}"), admin, None, 204).await;
    c.expect(
        "accept after revocation",
        "POST",
        &format!("/invites/{revoked}/accept"),
        None,
        Some(json!({"display_name": "Trop tard"})),
        404,
    )
    .await;
    c.expect("guest after revocation", "GET", "/auth/me", Some(&guest), None, 401).await;
    c.expect("guest reads its board after revocation", "GET", &board_path, Some(&guest), None, 401).await;
    let (status, body) = ws_upgrade_status(&ws(&guest)).await;
    c.status("guest upgrade after revocation", status, 401, &body);
    let invites = c.expect("list invites", "GET", &format!("{board_path}/invites"), admin, None, 200).await;
    c.check(
        invites.as_array().is_some_and(|l| l.iter().any(|i| i["revoked_at"].is_i64())),
        format!("the revoked invite is listed with revoked_at: {invites}"),
    );

    db.close().await;
    c.finish("tokens and invites");
}

#[tokio::test]
async fn failed_logins_are_limited_per_account_not_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let mut c = Checks::new(server.addr);
    for name in ["locked", "neighbour"] {
        let body = json!({"email": format!("{name}@l.test"), "password": PASSWORD, "display_name": name});
        c.expect(&format!("create {name}"), "POST", "/users", Some(&fx.admin), Some(body), 201).await;
    }
    let login = |email: &str, password: &str| Some(json!({"email": email, "password": password}));
    for attempt in 1..=5 {
        let what = format!("wrong password, attempt {attempt}");
        c.expect(&what, "POST", "/auth/login", None, login("locked@l.test", "not-the-password"), 401).await;
    }
    let body = c
        .expect(
            "right password after 5 failures",
            "POST",
            "/auth/login",
            None,
            login("locked@l.test", PASSWORD),
            429,
        )
        .await;
    c.check(body.get("token").is_none(), "a rate-limited login returned a token");
    c.expect(
        "another account, same address",
        "POST",
        "/auth/login",
        None,
        login("neighbour@l.test", PASSWORD),
        200,
    )
    .await;
    c.expect(
        "the email in capitals is the same account",
        "POST",
        "/auth/login",
        None,
        login("LOCKED@l.test", PASSWORD),
        429,
    )
    .await;
    c.finish("login rate limiting");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_operation_of_the_openapi_document_is_routed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let addr = server.addr;
    let fx = Fixture::new(&server).await;
    let mut c = Checks::new(addr);

    let doc = openapi(addr).await;
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "the document declares OpenAPI 3.x, got {:?}", doc["openapi"]);
    assert!(doc["info"]["title"].is_string(), "the document has a title");
    assert_eq!(doc["servers"][0]["url"], "/api/v1", "the paths are relative to /api/v1");
    let ops = operations(&doc);
    assert!(ops.len() >= 20, "the document lists the API: {ops:?}");

    // The router's fallback is recognisable, and so is a wrong method.
    let (status, body) = call(addr, "GET", "/no-such-route", Some(&fx.admin), None).await;
    assert_eq!((status, body["error"]["message"].as_str()), (404, Some("route not found")), "{body}");

    let placeholder = "00000000-0000-7000-8000-000000000000";
    let invite_placeholder = format!("atl_{}", "0".repeat(64));
    for (n, (method, template)) in ops.iter().enumerate() {
        let mut path = template.clone();
        while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
            let name = &path[open + 1..close];
            let value = if name.contains("token") { invite_placeholder.as_str() } else { placeholder };
            path.replace_range(open..=close, value);
        }
        let op = &doc["paths"][template.as_str()][method.to_lowercase()];
        let body = if op.get("requestBody").is_some() {
            Some(request_body(method, template, n as u64, "nobody@example.test").unwrap_or_else(|| json!({})))
        } else {
            None
        };
        let token = if template == "/auth/logout" {
            let db = server.config.db.open().await.expect("db");
            let me = http(addr, "GET", "/api/v1/auth/me", Some(&fx.admin), None).await.1;
            let t = atelier::admin::create_token(
                db.as_ref(),
                me["user"]["email"].as_str().unwrap_or_default(),
                60,
            )
            .await
            .expect("token");
            db.close().await;
            t["token"].as_str().unwrap_or_default().to_owned()
        } else {
            fx.admin.clone()
        };
        let (status, resp) = call(addr, method, &path, Some(&token), body).await;
        let what = format!("{method} {template} (as /api/v1{path})");
        if status == 0 || status == 405 || (status == 404 && resp["error"]["message"] == "route not found") {
            c.fail(format!("{what}: not routed, answered {status} {resp}"));
            continue;
        }
        if status >= 400 {
            if let Err(e) = check_error(status, &resp) {
                c.fail(format!("{what}: {e}"));
            }
        }
        c.check(
            op["responses"].get(status.to_string()).is_some(),
            format!("{what}: answered {status}, which the document does not declare: {}", op["responses"]),
        );
    }
    c.finish("OpenAPI document");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

/// A request to `/api/v1{path}`.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    http(addr, method, &format!("/api/v1{path}"), token, body).await
}

/// A set-up request that must answer `status`; panics otherwise.
async fn expect(
    addr: SocketAddr,
    what: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    status: u16,
) -> Value {
    let (got, resp) = call(addr, method, path, token, body).await;
    assert_eq!(got, status, "{what}: {method} /api/v1{path} answered {got} {resp}");
    resp
}

/// A login token for an account, issued like `atelier admin create-token`.
async fn mint(db: &dyn Database, email: &str) -> String {
    let t = atelier::admin::create_token(db, email, 3600).await.expect("token");
    t["token"].as_str().expect("token").to_owned()
}

/// Creates an invite to `board`; returns its token.
async fn invite(addr: SocketAddr, token: &str, board: &str, role: &str) -> String {
    let path = format!("/boards/{board}/invites");
    let body = json!({"role": role, "expires_in_secs": 3600});
    let created = expect(addr, "create an invite", "POST", &path, Some(token), Some(body), 201).await;
    assert!(
        created["url"].as_str().is_some_and(|u| u.contains(created["token"].as_str().unwrap_or("?"))),
        "{created}"
    );
    created["token"].as_str().expect("invite token").to_owned()
}

/// Accepts an invite anonymously; returns `{"token", "guest", "board"}`.
async fn accept(addr: SocketAddr, invite: &str, name: &str) -> Value {
    let path = format!("/invites/{invite}/accept");
    expect(addr, "accept an invite", "POST", &path, None, Some(json!({"display_name": name})), 201).await
}

async fn openapi(addr: SocketAddr) -> Value {
    let (status, doc) = http(addr, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200, "GET /api/v1/openapi.json: {doc}");
    assert!(doc.is_object(), "the OpenAPI document is JSON");
    doc
}

/// (METHOD, path) of every operation the OpenAPI document lists.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
            if METHODS.contains(&method.as_str()) {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The ids of a list of objects.
fn ids(list: &Value) -> Vec<String> {
    list.as_array().into_iter().flatten().filter_map(|p| p["id"].as_str().map(str::to_owned)).collect()
}

/// Text that must never reach a client.
const LEAKS: [&str; 11] = [
    "sqlx",
    "database",
    "sqlite",
    "postgres",
    "panicked",
    "/src/",
    ".rs:",
    "select ",
    "insert into",
    "constraint",
    "backtrace",
];

/// An error body is exactly `{"error": {"code", "message"}}`, its code fits the status, and it
/// holds no internal text.
fn check_error(status: u16, body: &Value) -> Result<(), String> {
    let text = body.to_string();
    let lower = text.to_lowercase();
    if let Some(leak) = LEAKS.iter().find(|l| lower.contains(*l)) {
        return Err(format!("the error body leaks internal text ({leak:?}): {text}"));
    }
    let shaped = body.as_object().is_some_and(|o| o.len() == 1)
        && body["error"].as_object().is_some_and(|e| e.len() == 2)
        && body["error"]["code"].as_str().is_some_and(|s| !s.is_empty())
        && body["error"]["message"].as_str().is_some_and(|s| !s.is_empty());
    if !shaped {
        return Err(format!("the error body is not {{\"error\": {{\"code\", \"message\"}}}}: {text}"));
    }
    let code = body["error"]["code"].as_str().unwrap_or_default();
    let expected: &[&str] = match status {
        400 => &["bad_request"],
        401 => &["unauthenticated", "invalid_credentials"],
        403 => &["forbidden"],
        404 => &["not_found"],
        409 => &["conflict"],
        413 => &["payload_too_large"],
        415 => &["unsupported_media_type"],
        429 => &["rate_limited"],
        500 => &["internal"],
        _ => return Ok(()),
    };
    if !expected.contains(&code) {
        return Err(format!(
            "error code {code:?} does not fit status {status} (expected one of {expected:?})"
        ));
    }
    Ok(())
}

/// Collects failures; [`Checks::finish`] reports them all.
struct Checks {
    addr: SocketAddr,
    failures: Vec<String>,
}

impl Checks {
    fn new(addr: SocketAddr) -> Self {
        Self { addr, failures: Vec::new() }
    }

    fn fail(&mut self, message: impl Into<String>) {
        self.failures.push(message.into());
    }

    fn check(&mut self, ok: bool, message: impl Into<String>) {
        if !ok {
            self.fail(message);
        }
    }

    /// Checks a status, and the error format of any refusal.
    fn status(&mut self, what: &str, status: u16, expected: u16, body: &Value) {
        if status != expected {
            self.fail(format!("{what}: expected {expected}, got {status} {body}"));
        }
        if status >= 400 {
            if let Err(e) = check_error(status, body) {
                self.fail(format!("{what}: {e}"));
            }
        }
    }

    /// Sends a request to `/api/v1{path}`, checks its status; returns the body.
    async fn expect(
        &mut self,
        what: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let (status, resp) = call(self.addr, method, path, token, body).await;
        self.status(&format!("{what} ({method} /api/v1{path})"), status, expected, &resp);
        resp
    }

    fn finish(self, name: &str) {
        assert!(
            self.failures.is_empty(),
            "{name}: {} failure(s):\n  {}",
            self.failures.len(),
            self.failures.join("\n  ")
        );
    }
}
