//! Clients converge through the server; the saved extension; presence.

use std::collections::HashMap;
use std::time::Duration;

use yrs::sync::{Awareness, Message};
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Transact};

use crate::support::*;

#[tokio::test]
async fn clients_converge_and_a_late_joiner_gets_everything() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    b.wait_synced().await;
    for i in 0..50 {
        a.set(&format!("a{i}"), i);
        b.set(&format!("b{i}"), i);
    }
    a.wait_until("a has 100 notes", |c| c.keys() == 100).await;
    b.wait_until("b has 100 notes", |c| c.keys() == 100).await;
    assert_eq!(a.notes(), b.notes());

    let late = TestClient::connect(&fx.url("carol").await).await;
    late.wait_until("late joiner has 100 notes", |c| c.keys() == 100).await;
    assert_eq!(late.notes(), a.notes());
    server.stop().await;
}

#[tokio::test]
async fn concurrent_first_joins_share_one_room() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let mut urls = Vec::new();
    for i in 0..12 {
        urls.push(fx.url(&format!("p{i}")).await);
    }
    let clients = futures_util::future::join_all(urls.iter().map(|u| TestClient::connect(u))).await;
    for (i, c) in clients.iter().enumerate() {
        c.set(&format!("k{i}"), i as i64);
    }
    for c in &clients {
        c.wait_until("every client sees every key", |c| c.keys() == 12).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn saved_extension_reports_committed_clock_only_to_who_asked() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    a.send_raw(vec![atelier::sync::MSG_SAVED, 0]);
    for i in 0..20 {
        a.set(&format!("n{i}"), i);
    }
    let me = a.doc.client_id();
    let local_clock = a.doc.transact().state_vector().get(&me);
    assert!(local_clock > 0);
    a.wait_until("saved reaches the local clock", |c| {
        c.seen.lock().unwrap().saved.iter().any(|sv| sv.get(&me) >= local_clock)
    })
    .await;
    b.wait_until("b got the notes", |c| c.keys() == 20).await;
    assert!(b.seen.lock().unwrap().saved.is_empty(), "a client that did not opt in got saved messages");
    server.stop().await;
}

fn awareness_frame(doc: &yrs::Doc, state: &str) -> Vec<u8> {
    let mut aw = Awareness::new(doc.clone());
    aw.set_local_state_raw(state);
    Message::Awareness(aw.update().unwrap()).encode_v1()
}

#[tokio::test]
async fn presence_is_echoed_relayed_and_removed_when_a_connection_closes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    b.wait_synced().await;
    let a_id = a.doc.client_id();
    a.send_raw(awareness_frame(&a.doc, r#"{"user":{"name":"Alix"}}"#));
    let has_state = |c: &TestClient, id, live: bool| {
        c.seen
            .lock()
            .unwrap()
            .awareness
            .iter()
            .any(|u| u.clients.get(&id).is_some_and(|e| (e.json.as_ref() != "null") == live))
    };
    a.wait_until("sender gets its own presence echoed", |c| has_state(c, a_id, true)).await;
    b.wait_until("b sees a's presence", |c| has_state(c, a_id, true)).await;

    a.close();
    b.wait_until("b sees a's presence removed", |c| has_state(c, a_id, false)).await;
    server.stop().await;
}

#[tokio::test]
async fn presence_under_someone_elses_client_id_is_dropped_not_relayed() {
    // A stock client re-sends peers' presence, so this is not a reason to close; but a forged
    // state must never reach anyone.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    b.wait_synced().await;
    a.set("x", 1); // binds alice's client id to alice
    a.send_raw(awareness_frame(&a.doc, r#"{"user":{"name":"Alix"}}"#));
    b.wait_until("b sees alice", |c| !c.seen.lock().unwrap().awareness.is_empty()).await;

    let forger = yrs::Doc::with_client_id(a.doc.client_id().get());
    let m = TestClient::connect(&fx.url("mallory").await).await;
    m.wait_synced().await;
    // A much higher clock: would win if it were applied.
    let mut aw = Awareness::new(forger.clone());
    for _ in 0..5 {
        aw.set_local_state_raw(r#"{"user":{"name":"forged"}}"#);
    }
    m.send_raw(Message::Awareness(aw.update().unwrap()).encode_v1());
    // Mallory's own presence, sent after the forgery, proves the forgery was processed.
    m.send_raw(awareness_frame(&m.doc, r#"{"user":{"name":"Mallory"}}"#));
    let m_id = m.doc.client_id();
    b.wait_until("b sees mallory's own presence", |c| {
        c.seen.lock().unwrap().awareness.iter().any(|u| u.clients.contains_key(&m_id))
    })
    .await;
    let forged_seen = b
        .seen
        .lock()
        .unwrap()
        .awareness
        .iter()
        .any(|u| u.clients.values().any(|e| e.json.contains("forged")));
    assert!(!forged_seen, "a forged presence state was relayed");
    assert!(m.closed().is_none() && a.closed().is_none());
    server.stop().await;
}

#[tokio::test]
async fn one_message_per_frame_even_for_a_multi_message_request() {
    // The test client asserts that every server frame holds exactly one message; ask for
    // several replies in one frame.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    a.wait_synced().await;
    a.set("x", 1);
    let b = TestClient::connect(&fx.url("bob").await).await;
    let mut frame = Message::Sync(yrs::sync::SyncMessage::SyncStep1(Default::default())).encode_v1();
    frame.extend(Message::AwarenessQuery.encode_v1());
    frame.extend(awareness_frame(&b.doc, "{}"));
    b.send_raw(frame);
    b.wait_until("b has x", |c| c.keys() == 1).await;
    b.wait_until("b got presence", |c| !c.seen.lock().unwrap().awareness.is_empty()).await;
    assert!(b.closed().is_none());
    let _ = HashMap::<u8, u8>::new();
    server.stop().await;
}

#[tokio::test]
async fn a_ping_is_answered_between_frames_and_a_client_close_gets_a_close() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::Message as Ws;

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let writer = TestClient::connect(&fx.url("alice").await).await;
    writer.wait_synced().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(fx.url("rita").await).await.unwrap();
    macro_rules! next {
        () => {
            tokio::time::timeout(WAIT, ws.next()).await.expect("a frame in time")
        };
    }
    // Edits stream to the raw client while it pings: the pong comes back whole between them.
    for i in 0..200 {
        writer.set(&format!("n{i}"), i);
    }
    ws.send(Ws::Ping(b"still there?".to_vec().into())).await.unwrap();
    let mut binary = 0;
    loop {
        match next!() {
            Some(Ok(Ws::Pong(payload))) => {
                assert_eq!(&payload[..], b"still there?");
                break;
            }
            Some(Ok(Ws::Binary(_))) => binary += 1,
            other => panic!("expected binary frames then a pong, got {other:?}"),
        }
    }
    assert!(binary >= 1, "the server's sync step 1 came first");
    ws.send(Ws::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }))).await.unwrap();
    let code = loop {
        match next!() {
            Some(Ok(Ws::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(Ws::Binary(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, Some(1000));
    server.stop().await;
}

/// In a room of more than 16 connections, edits arriving within the batch window after a
/// commit wait for its end and reach the others as one frame; in a room of 16 each edit is
/// relayed at once. The window is long here (300 ms) so that the two edits, 40 ms apart, fall
/// in it on a slow machine too; without batching they are two commits, two frames.
#[tokio::test]
async fn a_large_room_relays_edits_of_one_batch_window_in_one_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.edit_batch_ms = 300;
    let server = TestServer::start(cfg).await;
    let fx = Fixture::new(&server).await;
    for (connections, frames) in [(17, 1), (16, 2)] {
        let board = fx.new_board().await;
        let mut clients = Vec::new();
        for i in 0..connections {
            let client = TestClient::connect(&fx.url_for(&board, &format!("p{i}")).await).await;
            client.wait_synced().await;
            clients.push(client);
        }
        let (writer, observer) = (&clients[0], &clients[1]);
        // The first edit is committed at once and opens the window.
        writer.set("a", 1);
        observer.wait_until("observer has a", |c| c.keys() == 1).await;
        let before = observer.seen.lock().unwrap().sync_order.len();
        writer.set("b", 2);
        tokio::time::sleep(Duration::from_millis(40)).await;
        writer.set("c", 3);
        observer.wait_until("observer has b and c", |c| c.keys() == 3).await;
        let updates =
            observer.seen.lock().unwrap().sync_order[before..].iter().filter(|m| **m == "update").count();
        assert_eq!(updates, frames, "update frames for two edits in a room of {connections}");
        for client in &clients {
            client.close();
        }
    }
    server.stop().await;
}
