//! Bad input closes that one connection with a reason; the board and the others carry on.

use yrs::updates::encoder::Encode;
use yrs::{Doc, Map, Transact};

use crate::support::*;

async fn board_with_two(server: &TestServer) -> (Fixture, TestClient, TestClient) {
    let fx = Fixture::new(server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    b.wait_synced().await;
    a.set("before", 1);
    b.wait_until("b has before", |c| c.keys() == 1).await;
    (fx, a, b)
}

/// After the attack the two honest clients still edit together.
async fn still_works(a: &TestClient, b: &TestClient, n: usize) {
    a.set(&format!("after{n}"), 2);
    b.wait_until("b has the edit made after the attack", |c| c.keys() == n).await;
    assert!(a.closed().is_none() && b.closed().is_none());
}

#[tokio::test]
async fn malformed_frames_close_only_their_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let (fx, a, b) = board_with_two(&server).await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", vec![0xff, 0xff, 0xff]),
        ("truncated update", vec![0, 2, 10, 1, 2]),
        ("unknown sync type", vec![0, 7, 0]),
        ("awareness count bomb", vec![1, 5, 0x80, 0x80, 0x80, 0x80, 0x01]),
        ("update client-count bomb", vec![0, 2, 5, 0x80, 0x80, 0x80, 0x80, 0x01]),
        ("state vector bomb", vec![0, 0, 5, 0x80, 0x80, 0x80, 0x80, 0x01]),
        ("empty frame", vec![]),
    ];
    for (i, (name, frame)) in cases.into_iter().enumerate() {
        let m = TestClient::connect(&fx.url("mallory").await).await;
        m.wait_synced().await;
        m.send_raw(frame);
        let (code, reason) = m.wait_closed().await;
        assert!(code == 1007 || code == 1003, "{name}: closed with {code} {reason}");
        assert!(!reason.is_empty(), "{name}: a close reason is given");
        still_works(&a, &b, i + 2).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn text_frames_and_oversized_messages_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.max_message_bytes = 64 * 1024;
    let server = TestServer::start(cfg).await;
    let (fx, a, b) = board_with_two(&server).await;

    let m = TestClient::connect(&fx.url("mallory").await).await;
    m.wait_synced().await;
    let big = "x".repeat(100 * 1024);
    m.edit(|txn, map| {
        map.insert(txn, "big", big.as_str());
    });
    let (code, _) = m.wait_closed().await;
    assert_eq!(code, 1009);
    still_works(&a, &b, 2).await;
    assert!(!b.notes().as_object().unwrap().contains_key("big"), "oversized update reached a client");
    server.stop().await;
}

#[tokio::test]
async fn board_size_cap_refuses_the_update_that_would_exceed_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.max_board_bytes = 20 * 1024;
    let server = TestServer::start(cfg).await;
    let (fx, a, b) = board_with_two(&server).await;
    let m = TestClient::connect(&fx.url("mallory").await).await;
    m.wait_synced().await;
    let big = "y".repeat(30 * 1024);
    m.edit(|txn, map| {
        map.insert(txn, "big", big.as_str());
    });
    let (code, _) = m.wait_closed().await;
    assert_eq!(code, 1009);
    still_works(&a, &b, 2).await;
    server.stop().await;
}

#[tokio::test]
async fn an_update_written_with_another_participants_client_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let (fx, a, b) = board_with_two(&server).await;
    // Mallory forges an update under alice's client id at a clock alice has not reached yet,
    // which would make the server drop alice's next real edit as "already known".
    let forged = {
        let doc = Doc::with_client_id(a.doc.client_id().get());
        let map = doc.get_or_insert_map("notes");
        let mut txn = doc.transact_mut();
        for i in 0..5 {
            map.insert(&mut txn, format!("forged{i}"), 1);
        }
        txn.encode_update_v1()
    };
    let m = TestClient::connect(&fx.url("mallory").await).await;
    m.wait_synced().await;
    m.send_raw(yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(forged)).encode_v1());
    let (code, _) = m.wait_closed().await;
    assert_eq!(code, 1008);
    still_works(&a, &b, 2).await;
    assert_eq!(a.notes(), b.notes());

    // The binding survives a restart: it is stored.
    server.stop().await;
    let server = TestServer::start(config(&dir)).await;
    fx.rebind(&server);
    let m = TestClient::connect(&fx.url("mallory").await).await;
    m.wait_synced().await;
    let forged = {
        let doc = Doc::with_client_id(a.doc.client_id().get());
        let map = doc.get_or_insert_map("notes");
        let mut txn = doc.transact_mut();
        for i in 0..10 {
            map.insert(&mut txn, format!("forged{i}"), 1);
        }
        txn.encode_update_v1()
    };
    m.send_raw(yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(forged)).encode_v1());
    assert_eq!(m.wait_closed().await.0, 1008);
    // Alice herself, reconnecting with the same token and client id, may write.
    let a2 = TestClient::connect_with(&fx.url("alice").await, a.doc.clone()).await;
    a2.wait_synced().await;
    a2.set("back", 3);
    let c = TestClient::connect(&fx.url("carol").await).await;
    c.wait_until("carol sees alice's edit after reconnect", |c| c.notes().get("back").is_some()).await;
    assert!(a2.closed().is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_closed_with_1013_and_others_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.outbox_frames = 16;
    let server = TestServer::start(cfg).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    a.wait_synced().await;

    // A raw socket that completes the upgrade and then never reads.
    let (ws, _) = tokio_tungstenite::connect_async(fx.url("sloth").await).await.unwrap();
    let payload = "z".repeat(48 * 1024);
    a.send_raw(vec![atelier::sync::MSG_SAVED, 0]);
    // Enough data to fill the kernel's socket buffers and then the 16-frame outbox.
    for i in 0..400 {
        a.edit(|txn, map| {
            map.insert(txn, format!("big{i}"), payload.as_str());
        });
    }
    let me = a.doc.client_id();
    let clock = yrs::ReadTxn::state_vector(&a.doc.transact()).get(&me);
    a.wait_until("every edit is committed", |c| {
        c.seen.lock().unwrap().saved.iter().any(|sv| sv.get(&me) >= clock)
    })
    .await;
    // Everyone else carries on: a late joiner gets every update, the writer is not closed.
    let c = TestClient::connect(&fx.url("carol").await).await;
    c.wait_until("carol received everything", |c| c.keys() == 400).await;
    assert!(a.closed().is_none() && c.closed().is_none());
    // The slow socket was closed: reading it now ends with a close frame saying so.
    use futures_util::StreamExt;
    let (_, mut stream) = ws.split();
    let mut close = None;
    while let Some(Ok(msg)) = tokio::time::timeout(WAIT, stream.next()).await.unwrap() {
        if let tokio_tungstenite::tungstenite::Message::Close(frame) = msg {
            close = frame.map(|f| u16::from(f.code));
            break;
        }
    }
    assert_eq!(close, Some(1013));
    server.stop().await;
}

#[tokio::test]
async fn count_bombs_do_not_make_the_server_allocate() {
    // Each of these frames is a few bytes that declare 2^28 entries; yrs alone reserves
    // ~0.5 GB for one of them. The shipped binary runs in its own process so that its peak
    // memory can be read.
    let dir = tempfile::tempdir().unwrap();
    let server = ChildServer::start(&dir).await;
    let (addr, cfg, pid) = (server.addr, server.config.clone(), server.pid);
    let fx = Fixture::on(addr, &cfg).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    b.wait_synced().await;
    // Accounts first: password hashing (argon2, 19 MiB each) is not what is measured.
    let mut urls = Vec::new();
    for round in 0..4 {
        urls.push(fx.url(&format!("m{round}")).await);
    }
    let before = peak_rss_kb(pid);
    let bombs: Vec<Vec<u8>> = vec![
        vec![1, 5, 0x80, 0x80, 0x80, 0x80, 0x01],    // awareness clients
        vec![0, 2, 5, 0x80, 0x80, 0x80, 0x80, 0x01], // update clients
        vec![0, 1, 5, 0x80, 0x80, 0x80, 0x80, 0x01], // step 2 clients
        vec![0, 0, 5, 0x80, 0x80, 0x80, 0x80, 0x01], // state vector entries
        vec![0, 2, 7, 0, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00], // delete-set clients
    ];
    for url in &urls {
        for bomb in &bombs {
            let m = TestClient::connect(url).await;
            m.send_raw(bomb.clone());
            assert_eq!(m.wait_closed().await.0, 1007);
        }
    }
    let grown_mb = (peak_rss_kb(pid) - before) / 1024;
    assert!(grown_mb < 50, "peak memory of the server grew by {grown_mb} MB");
    still_works(&a, &b, 1).await;
}
