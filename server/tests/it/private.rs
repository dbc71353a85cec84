//! Private documents and the reveal, through the real server: during a silent phase each
//! participant writes to `/ws/{board}/mine`; nobody else's connection receives those notes, not
//! even through the board's document, until a facilitator reveals them; then everyone sees them
//! all, once (revealing again adds nothing).

use serde_json::json;
use yrs::{Map, MapPrelim, Text, TextPrelim};

use crate::support::*;

fn add_note(client: &TestClient, id: &str, text: &str) {
    client.edit(|txn, notes| {
        let note = notes.insert(txn, id.to_owned(), MapPrelim::default());
        note.insert(txn, "type", "note");
        let t = note.insert(txn, "text", TextPrelim::new(""));
        t.insert(txn, 0, text);
    });
}

#[tokio::test]
async fn private_notes_stay_private_until_the_reveal() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let mine = |token: &str| format!("ws://{}/ws/{}/mine?token={token}", fx.addr(), fx.board);
    let (alice, bob) = (fx.token("alice").await, fx.token("bob").await);

    let alice_private = TestClient::connect(&mine(&alice)).await;
    let bob_private = TestClient::connect(&mine(&bob)).await;
    let carol_board = TestClient::connect(&fx.url("carol").await).await;
    let bob_board = TestClient::connect(&fx.url("bob").await).await;
    for c in [&alice_private, &bob_private, &carol_board, &bob_board] {
        c.wait_synced().await;
    }
    add_note(&alice_private, "a1", "Des bancs à l'ombre");
    add_note(&bob_private, "b1", "Un marché le soir");
    add_note(&bob_private, "b2", "Des toilettes publiques");

    // Committed: a second connection of the same participant to their private document sees
    // them; another participant's private document is another document.
    let alice_again = TestClient::connect(&mine(&alice)).await;
    alice_again.wait_until("alice's private note", |c| c.keys() == 1).await;
    let bob_again = TestClient::connect(&mine(&bob)).await;
    bob_again.wait_until("bob's private notes", |c| c.keys() == 2).await;
    assert!(bob_again.notes().get("a1").is_none(), "bob's private document holds only his notes");
    // Nothing reached the board's document.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(carol_board.keys(), 0, "carol received nothing");
    assert_eq!(bob_board.keys(), 0, "the board holds none of the private notes");
    // Outsiders cannot open a private document of the board either.
    let (status, _) = ws_upgrade_status(&mine("not-a-token")).await;
    assert_eq!(status, 401);

    // Only facilitators reveal.
    let reveal = format!("/api/v1/boards/{}/reveal", fx.board);
    let (status, _) = http(fx.addr(), "POST", &reveal, Some(&alice), None).await;
    assert_eq!(status, 403);
    let (status, body) = http(fx.addr(), "POST", &reveal, Some(&fx.admin), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"authors": 2, "notes": 3, "refused": 0}));
    carol_board.wait_until("every revealed note on the board", |c| c.keys() == 3).await;
    bob_board.wait_until("every revealed note for bob too", |c| c.keys() == 3).await;
    let notes = carol_board.notes();
    assert_eq!(notes["a1"]["text"], "Des bancs à l'ombre");
    assert_eq!(notes["b2"]["text"], "Des toilettes publiques");

    // Revealing again adds nothing; a note written since is added.
    add_note(&alice_private, "a2", "Plus d'arbres");
    alice_again.wait_until("alice's second note", |c| c.keys() == 2).await;
    let (status, _) = http(fx.addr(), "POST", &reveal, Some(&fx.admin), None).await;
    assert_eq!(status, 200);
    carol_board.wait_until("the later note", |c| c.keys() == 4).await;
    server.stop().await;
}
