//! Versions through the real server: a facilitator's phase change over the WebSocket keeps a
//! version in the same commit; a participant's attempt is reverted and keeps none; a
//! facilitator keeps one on request; versions survive a restart and hold the board as it was.

use serde_json::json;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{Map, MapPrelim, Text, TextPrelim, Transact};

use crate::support::*;

fn set_phase(client: &TestClient, phase: &str) {
    let meta = client.doc.get_or_insert_map("meta");
    let update = {
        let mut txn = client.doc.transact_mut();
        meta.insert(&mut txn, "phase", phase.to_owned());
        txn.encode_update_v1()
    };
    client.send_raw(Message::Sync(SyncMessage::Update(update)).encode_v1());
}

#[tokio::test]
async fn phase_changes_keep_versions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let server = TestServer::start(cfg.clone()).await;
    let fx = Fixture::new(&server).await;
    let versions = format!("/api/v1/boards/{}/versions", fx.board);
    let facilitator =
        TestClient::connect(&format!("ws://{}/ws/{}?token={}", fx.addr(), fx.board, fx.admin)).await;
    let participant = TestClient::connect(&fx.url("paul").await).await;
    facilitator.wait_synced().await;
    participant.wait_synced().await;

    participant.edit(|txn, notes| {
        let note = notes.insert(txn, "n1", MapPrelim::default());
        note.insert(txn, "type", "note");
        let t = note.insert(txn, "text", TextPrelim::new(""));
        t.insert(txn, 0, "Idée d'avant le vote");
    });
    facilitator.wait_until("the note", |c| c.keys() == 1).await;

    // The participant cannot change the phase: reverted, no version.
    set_phase(&participant, "vote");
    participant
        .wait_until("the revert", |c| {
            c.doc.get_or_insert_map("meta").get(&c.doc.transact(), "phase").is_none()
                && !c.seen.lock().unwrap().denied.is_empty()
        })
        .await;
    let (status, list) = http(fx.addr(), "GET", &versions, Some(&fx.admin), None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list, json!([]), "a reverted phase change keeps nothing");

    // The facilitator's phase change keeps a version.
    set_phase(&facilitator, "vote");
    participant
        .wait_until("the phase", |c| {
            c.doc.get_or_insert_map("meta").get(&c.doc.transact(), "phase").is_some()
        })
        .await;
    let (_, list) = http(fx.addr(), "GET", &versions, Some(&fx.admin), None).await;
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["label"], "phase:vote");

    // On request, with a label; then a restart: both are kept, oldest first.
    let (status, made) =
        http(fx.addr(), "POST", &versions, Some(&fx.admin), Some(json!({"label": "Fin d'atelier"}))).await;
    assert_eq!(status, 201, "{made}");
    let editor = fx.token("paul").await;
    let (status, _) = http(fx.addr(), "GET", &versions, Some(&editor), None).await;
    assert_eq!(status, 403, "versions are for facilitators");
    facilitator.close();
    participant.close();
    server.stop().await;
    let server = TestServer::start(cfg).await;
    fx.rebind(&server);
    let (_, list) = http(fx.addr(), "GET", &versions, Some(&fx.admin), None).await;
    let labels: Vec<&str> = list.as_array().unwrap().iter().map(|v| v["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["phase:vote", "Fin d'atelier"]);

    // A version's content is the board as it was: any Yjs client can load it.
    let id = list[0]["id"].as_str().unwrap();
    let got = http_bytes(fx.addr(), "GET", &format!("{versions}/{id}"), Some(&fx.admin), None, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));
    let board = atelier::boarddoc::read(&got.body).unwrap();
    assert_eq!(board.notes.len(), 1);
    assert_eq!(board.notes[0].text, "Idée d'avant le vote");
    let other = fx.new_board().await;
    let cross = http_bytes(
        fx.addr(),
        "GET",
        &format!("/api/v1/boards/{other}/versions/{id}"),
        Some(&fx.admin),
        None,
        &[],
    )
    .await;
    assert_eq!(cross.status, 404, "a version is reached through its own board only");
    server.stop().await;
}
