//! The SDK against the real server binary: convergence, saved, reconnect with offline edits,
//! presence, final close codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod common;

use std::time::Duration;

use atelier_client::{Api, Client, ClientOptions, Error, Event, Status};
use common::{eventually, Atelier, Server, WAIT};
use yrs::types::ToJson;
use yrs::{Any, Map, Transact};

fn opts(server: &Server, board: &str, token: &str) -> ClientOptions {
    ClientOptions::new(server.template(), board).token(token)
}

/// A server, a board and two tokens (two sessions of the admin).
async fn setup(dir: &std::path::Path) -> (Atelier, String, String, String) {
    let at = Atelier::start(dir).await;
    let board = at.board().await;
    let (t1, t2) = (at.token().await, at.token().await);
    (at, board, t1, t2)
}

fn set(client: &Client, key: &str, value: impl Into<Any>) {
    let notes = client.doc().get_or_insert_map("notes");
    let mut txn = client.doc().transact_mut();
    notes.insert(&mut txn, key, value.into());
}

fn notes_json(client: &Client) -> Any {
    let notes = client.doc().get_or_insert_map("notes");
    let txn = client.doc().transact();
    notes.to_json(&txn)
}

fn has(client: &Client, key: &str) -> bool {
    let notes = client.doc().get_or_insert_map("notes");
    let txn = client.doc().transact();
    notes.get(&txn, key).is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_converge() {
    let dir = tempfile::tempdir().unwrap();
    let (at, b, alice_token, bob_token) = setup(dir.path()).await;
    let server = &at.server;
    let alice = Client::connect(opts(server, &b, &alice_token)).await.unwrap();
    let bob = Client::connect(opts(server, &b, &bob_token)).await.unwrap();
    let mut bob_events = bob.subscribe();
    // The documents the SDK makes carry 32-bit client ids, as the stock Yjs client's do (servers
    // on older yrs would truncate longer ones).
    for c in [&alice, &bob] {
        assert!(c.doc().client_id().get() <= u64::from(u32::MAX), "{:?}", c.doc().client_id());
    }

    // Concurrent edits on both sides, including a conflict on the same key.
    for i in 0..20 {
        set(&alice, &format!("a{i}"), i as i64);
        set(&bob, &format!("b{i}"), i as i64);
    }
    set(&alice, "same", "alice");
    set(&bob, "same", "bob");

    eventually("both see 41 notes and agree", || {
        let (a, b) = (notes_json(&alice), notes_json(&bob));
        matches!(&a, Any::Map(m) if m.len() == 41) && a == b
    })
    .await;
    // Bob was told about remote changes.
    let got_remote = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(Event::Remote { .. }) = bob_events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(got_remote.is_ok(), "bob saw a remote update event");

    // A third client syncing from scratch gets the same board.
    let carol = Client::connect(opts(server, &b, &at.token().await)).await.unwrap();
    assert_eq!(notes_json(&carol), notes_json(&alice));
    for c in [alice, bob, carol] {
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_saved_resolves_once_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (at, b, token, _) = setup(dir.path()).await;
    let client = Client::connect(opts(&at.server, &b, &token)).await.unwrap();
    assert!(client.saved(), "nothing to save yet");
    for i in 0..50 {
        set(&client, &format!("n{i}"), i as i64);
    }
    assert!(client.local_clock() >= 50);
    tokio::time::timeout(WAIT, client.wait_saved()).await.expect("saved in time").unwrap();
    assert!(client.saved());
    assert!(client.committed_clock() >= client.local_clock());
    assert!(client.state().saved_supported);
    // flush() is a round trip that works everywhere.
    set(&client, "late", true);
    tokio::time::timeout(WAIT, client.flush()).await.expect("round trip in time").unwrap();
    // A deletion advances no clock: saved() waits for a round trip to confirm it.
    {
        let notes = client.doc().get_or_insert_map("notes");
        let mut txn = client.doc().transact_mut();
        notes.remove(&mut txn, "n0");
    }
    assert!(!client.saved(), "an unconfirmed deletion is not saved");
    tokio::time::timeout(WAIT, client.wait_saved()).await.expect("saved in time").unwrap();
    assert!(client.saved());
    client.close().await.unwrap();

    // What was acknowledged survives a crash of the server.
    drop(at);
    let server = Server::start(dir.path());
    let reader = Client::connect(opts(&server, &b, &token)).await.unwrap();
    assert!(has(&reader, "n49"));
    assert!(!has(&reader, "n0"), "the deletion was saved too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_after_restart_resyncs_offline_edits() {
    let dir = tempfile::tempdir().unwrap();
    let (at, b, token, _) = setup(dir.path()).await;
    let mut server = at.server;
    let addr = server.addr.clone();
    let alice = Client::connect(opts(&server, &b, &token)).await.unwrap();
    set(&alice, "before", 1);
    tokio::time::timeout(WAIT, alice.wait_saved()).await.expect("saved").unwrap();

    server.kill();
    let mut watch = alice.watch();
    tokio::time::timeout(WAIT, watch.wait_for(|s| s.status != Status::Synced))
        .await
        .expect("notices")
        .unwrap();
    // Offline edits.
    set(&alice, "offline-1", "x");
    set(&alice, "offline-2", "y");
    assert!(!alice.saved());

    // Same port, same data: the client reconnects by itself and resyncs. A round trip asked
    // for while offline is answered once the offline edits are on the server.
    let data = dir.path().to_owned();
    let restart = tokio::task::spawn_blocking(move || Server::start_on(&data, &addr));
    let (flushed, server) = tokio::join!(tokio::time::timeout(WAIT, alice.flush()), restart);
    flushed.expect("round trip after the restart").unwrap();
    let server = server.unwrap();
    let probe = Client::connect(opts(&server, &b, &token)).await.unwrap();
    assert!(has(&probe, "offline-2"), "the round trip came after the offline edits");
    probe.close().await.unwrap();
    tokio::time::timeout(WAIT, watch.wait_for(|s| s.syncs >= 2 && s.status == Status::Synced))
        .await
        .expect("resynced in time")
        .unwrap();
    tokio::time::timeout(WAIT, alice.wait_saved()).await.expect("offline edits saved").unwrap();
    assert!(alice.state().connections >= 2);

    let bob = Client::connect(opts(&server, &b, &token)).await.unwrap();
    for key in ["before", "offline-1", "offline-2"] {
        assert!(has(&bob, key), "bob sees {key}");
    }
    // And the reconnected client still relays live edits both ways.
    set(&bob, "from-bob", 2);
    eventually("alice sees bob's edit", || has(&alice, "from-bob")).await;
    alice.close().await.unwrap();
    bob.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_seen_by_a_peer() {
    let dir = tempfile::tempdir().unwrap();
    let (at, b, alice_token, bob_token) = setup(dir.path()).await;
    let server = &at.server;
    let alice = Client::connect(opts(server, &b, &alice_token).presence(None)).await.unwrap();
    let bob = Client::connect(opts(server, &b, &bob_token)).await.unwrap();
    let mut events = bob.subscribe();
    alice.set_presence(serde_json::json!({"name": "Alice", "cursor": [3, 4]})).unwrap();
    let alice_id = alice.client_id();
    eventually("bob sees alice's presence", || {
        bob.peers().get(&alice_id).is_some_and(|p| p["name"] == "Alice")
    })
    .await;
    let mut saw_event = false;
    while let Ok(event) = events.try_recv() {
        saw_event |= matches!(event, Event::Presence { ref added, .. } if added.contains(&alice_id));
    }
    assert!(saw_event, "a presence event named alice");
    // Alice sees bob's default presence too, but not herself among the peers.
    eventually("alice sees bob", || alice.peers().contains_key(&bob.client_id())).await;
    assert!(!alice.peers().contains_key(&alice_id));

    // Leaving removes the presence.
    alice.close().await.unwrap();
    eventually("alice's presence is gone", || !bob.peers().contains_key(&alice_id)).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    bob.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_fails_clearly_and_final_codes_stop_reconnecting() {
    let dir = tempfile::tempdir().unwrap();
    let (at, b, token, _) = setup(dir.path()).await;
    // No token, a bad token: 401; an unknown board: 404. connect() gives up at once.
    let err = Client::connect(ClientOptions::new(at.server.template(), &b)).await.unwrap_err();
    assert!(matches!(err, Error::Refused { status: 401, .. }), "{err}");
    let err = Client::connect(opts(&at.server, "no-such-board", &token)).await.unwrap_err();
    assert!(matches!(err, Error::Refused { status: 404, .. }), "{err}");
    // Nothing listening.
    let err = Client::connect(ClientOptions::new("ws://127.0.0.1:9/ws", "b").token("t")).await.unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");

    // Logging out closes the session's connections with 4401, a final code: no reconnect.
    let client = Client::connect(opts(&at.server, &b, &token)).await.unwrap();
    Api::new(format!("http://{}", at.server.addr)).unwrap().with_token(&token).logout().await.unwrap();
    let mut watch = client.watch();
    tokio::time::timeout(WAIT, watch.wait_for(|s| s.status == Status::Closed))
        .await
        .expect("closed")
        .unwrap();
    let state = client.state();
    assert_eq!(state.closed.as_ref().and_then(|c| c.code), Some(4401), "{state:?}");
    assert!(matches!(client.wait_synced().await, Err(Error::Rejected { code: 4401, .. })));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(client.state().connections, 1, "no reconnection after a final close code");
}

/// Takes 80 s: run with `cargo test -p atelier-client -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn an_idle_connection_outlives_the_keepalive_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (at, b, token, _) = setup(dir.path()).await;
    // No presence: only the answers to the server's pings keep the connection alive.
    let client = Client::connect(opts(&at.server, &b, &token).presence(None)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(80)).await;
    let state = client.state();
    assert_eq!((state.status, state.connections), (Status::Synced, 1), "{state:?}");
}
