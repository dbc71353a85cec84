//! Revocation reaches live connections: removed members, lowered roles, logout, revoked
//! invites, deleted and archived boards, and changes made outside the server.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

/// Waits for a close and returns its code.
async fn closed_code(c: &TestClient) -> u16 {
    c.wait_closed().await.0
}

#[tokio::test]
async fn removing_a_member_closes_their_connection_with_4401() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let eve = TestClient::connect(&fx.url("eve").await).await;
    let bob = TestClient::connect(&fx.url("bob").await).await;
    eve.wait_synced().await;
    let (status, _) = fx
        .admin_call("DELETE", &format!("/api/v1/projects/{}/members/{}", fx.project, fx.user_id("eve")), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(closed_code(&eve).await, 4401);
    assert!(bob.closed().is_none(), "other members stay connected");
    // And eve cannot come back.
    let (status, _) =
        http(fx.addr(), "GET", &format!("/api/v1/boards/{}", fx.board), Some(&fx.token("eve").await), None)
            .await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn a_lowered_role_makes_the_live_connection_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let eve = TestClient::connect(&fx.url("eve").await).await;
    let bob = TestClient::connect(&fx.url("bob").await).await;
    eve.wait_synced().await;
    bob.wait_synced().await;
    eve.set("before", 1);
    bob.wait_until("bob sees eve's first edit", |c| c.keys() == 1).await;

    let path = format!("/api/v1/projects/{}/members/{}", fx.project, fx.user_id("eve"));
    let (status, _) = fx.admin_call("PUT", &path, Some(json!({"role": "viewer"}))).await;
    assert_eq!(status, 200);
    // The downgrade goes through the room's inbox, ahead of eve's next frame.
    tokio::time::sleep(Duration::from_millis(100)).await;
    eve.set("after", 2);
    eve.wait_until("eve is told she may not edit", |c| !c.seen.lock().unwrap().denied.is_empty()).await;
    bob.set("bob", 3);
    bob.wait_until("eve still reads", |_| eve.keys() >= 2).await;
    assert!(
        !bob.notes().as_object().unwrap().contains_key("after"),
        "a viewer's edit reached another client"
    );
    assert!(eve.closed().is_none(), "a downgraded connection stays open for reading");
    server.stop().await;
}

#[tokio::test]
async fn logout_closes_the_tokens_connections() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let token = fx.token("eve").await;
    let eve = TestClient::connect(&fx.url("eve").await).await;
    eve.wait_synced().await;
    let (status, _) = http(fx.addr(), "POST", "/api/v1/auth/logout", Some(&token), None).await;
    assert_eq!(status, 204);
    assert_eq!(closed_code(&eve).await, 4401);
    let (status, _) = http(fx.addr(), "GET", "/api/v1/auth/me", Some(&token), None).await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test]
async fn revocation_made_outside_the_server_applies_within_seconds() {
    // `atelier admin revoke-tokens` writes to the database only; the server's sweep notices.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let eve = TestClient::connect(&fx.url("eve").await).await;
    eve.wait_synced().await;
    let db = server.config.db.open().await.unwrap();
    let email = http(fx.addr(), "GET", "/api/v1/auth/me", Some(&fx.token("eve").await), None).await.1["user"]
        ["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    atelier::admin::revoke_tokens(db.as_ref(), &email).await.unwrap();
    assert_eq!(closed_code(&eve).await, 4401);
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test]
async fn guests_join_by_invite_and_leave_when_it_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let (status, invite) = fx
        .admin_call(
            "POST",
            &format!("/api/v1/boards/{}/invites", fx.board),
            Some(json!({"role": "editor", "expires_in_secs": 3600})),
        )
        .await;
    assert_eq!(status, 201, "{invite}");
    let invite_token = invite["token"].as_str().unwrap().to_owned();
    // The link points at the port actually bound, not the configured port 0.
    assert_eq!(invite["url"].as_str().unwrap(), format!("http://{}/join/{invite_token}", fx.addr()));
    let (status, accepted) = http(
        fx.addr(),
        "POST",
        &format!("/api/v1/invites/{invite_token}/accept"),
        None,
        Some(json!({"display_name": "Élu invité"})),
    )
    .await;
    assert_eq!(status, 201, "{accepted}");
    let guest_token = accepted["token"].as_str().unwrap().to_owned();
    let guest = TestClient::connect(&format!("ws://{}/ws/{}?token={guest_token}", fx.addr(), fx.board)).await;
    let bob = TestClient::connect(&fx.url("bob").await).await;
    guest.wait_synced().await;
    guest.set("question", 1);
    bob.wait_until("bob sees the guest's note", |c| c.keys() == 1).await;

    // The guest token opens no other board.
    let other = fx.new_board().await;
    let (status, _) =
        http(fx.addr(), "GET", &format!("/api/v1/boards/{other}"), Some(&guest_token), None).await;
    assert_eq!(status, 404);

    let (status, _) = fx.admin_call("DELETE", &format!("/api/v1/invites/{invite_token}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(closed_code(&guest).await, 4401);
    let (status, _) = http(
        fx.addr(),
        "POST",
        &format!("/api/v1/invites/{invite_token}/accept"),
        None,
        Some(json!({"display_name": "Late"})),
    )
    .await;
    assert_eq!(status, 404, "a revoked invite cannot be accepted");
    let (status, _) = http(fx.addr(), "GET", "/api/v1/auth/me", Some(&guest_token), None).await;
    assert_eq!(status, 401, "a revoked invite's guest token is dead");
    server.stop().await;
}

#[tokio::test]
async fn an_invite_revoked_by_id_from_the_board_list_disconnects_its_guests() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let invites = format!("/api/v1/boards/{}/invites", fx.board);
    let (status, created) =
        fx.admin_call("POST", &invites, Some(json!({"role": "editor", "expires_in_secs": 3600}))).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let (_, accepted) = http(
        fx.addr(),
        "POST",
        &format!("/api/v1/invites/{token}/accept"),
        None,
        Some(json!({"display_name": "Invitée"})),
    )
    .await;
    let guest_token = accepted["token"].as_str().unwrap().to_owned();
    let guest = TestClient::connect(&format!("ws://{}/ws/{}?token={guest_token}", fx.addr(), fx.board)).await;
    guest.wait_synced().await;

    // Another facilitator, who never saw the link's secret, ends it from the board's list.
    let (_, list) = fx.admin_call("GET", &invites, None).await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let other_board = fx.new_board().await;
    let (status, _) =
        fx.admin_call("DELETE", &format!("/api/v1/boards/{other_board}/invites/{id}"), None).await;
    assert_eq!(status, 404, "an invite is revoked through its own board only");
    let (status, _) = fx.admin_call("DELETE", &format!("{invites}/{id}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(closed_code(&guest).await, 4401);
    let (status, _) = http(fx.addr(), "GET", "/api/v1/auth/me", Some(&guest_token), None).await;
    assert_eq!(status, 401, "the guest's token is dead");
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_board_closes_it_with_4404_and_archiving_makes_it_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let bob = TestClient::connect(&fx.url("bob").await).await;
    bob.wait_synced().await;
    bob.set("x", 1);
    let carol = TestClient::connect(&fx.url("carol").await).await;
    carol.wait_until("x is committed", |c| c.keys() == 1).await;

    let (status, board) = fx
        .admin_call("PATCH", &format!("/api/v1/boards/{}", fx.board), Some(json!({"archived": true})))
        .await;
    assert_eq!(status, 200);
    assert!(board["archived_at"].is_i64());
    tokio::time::sleep(Duration::from_millis(100)).await;
    bob.set("y", 2);
    bob.wait_until("bob is refused on an archived board", |c| !c.seen.lock().unwrap().denied.is_empty())
        .await;
    let dave = TestClient::connect(&fx.url("dave").await).await;
    dave.wait_synced().await;
    assert_eq!(dave.keys(), 1, "only the edit made before archiving is on the board");

    let (status, _) = fx.admin_call("DELETE", &format!("/api/v1/boards/{}", fx.board), None).await;
    assert_eq!(status, 204);
    assert_eq!(closed_code(&bob).await, 4404);
    let (status, _) = fx.admin_call("GET", &format!("/api/v1/boards/{}", fx.board), None).await;
    assert_eq!(status, 404);
    // Every audit record of the lifecycle is there.
    let (_, audit) = fx.admin_call("GET", "/api/v1/audit", None).await;
    let actions: Vec<&str> =
        audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["board.create", "member.set", "board.archive", "board.delete"] {
        assert!(actions.contains(&expected), "audit log lacks {expected}: {actions:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn guest_joins_are_limited_per_guest_not_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let (_, invite) = fx
        .admin_call(
            "POST",
            &format!("/api/v1/boards/{}/invites", fx.board),
            Some(json!({"role": "viewer", "expires_in_secs": 3600})),
        )
        .await;
    let invite_token = invite["token"].as_str().unwrap().to_owned();
    let mut guests = Vec::new();
    for name in ["Citoyenne A", "Citoyen B"] {
        let (status, accepted) = http(
            fx.addr(),
            "POST",
            &format!("/api/v1/invites/{invite_token}/accept"),
            None,
            Some(json!({"display_name": name})),
        )
        .await;
        assert_eq!(status, 201);
        guests.push(format!(
            "ws://{}/ws/{}?token={}",
            fx.addr(),
            fx.board,
            accepted["token"].as_str().unwrap()
        ));
    }
    for _ in 0..atelier::auth::MAX_GUEST_JOINS_PER_MINUTE {
        assert_eq!(ws_upgrade_status(&guests[0]).await.0, 101);
    }
    let (status, body) = ws_upgrade_status(&guests[0]).await;
    assert_eq!(status, 429, "{body}");
    // Both guests come from 127.0.0.1: the second one is not affected.
    assert_eq!(ws_upgrade_status(&guests[1]).await.0, 101);
    server.stop().await;
}
