//! Eviction, restart and graceful shutdown keep every committed edit.

use std::time::Duration;

use yrs::Map;

use crate::support::*;

#[tokio::test]
async fn eviction_and_reload_give_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.room_idle_secs = 1;
    cfg.compact_every = 7; // also exercise compaction folding part of the log
    let server = TestServer::start(cfg).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    a.wait_synced().await;
    for i in 0..30 {
        a.set(&format!("n{i}"), i);
    }
    let b = TestClient::connect(&fx.url("bob").await).await;
    b.wait_until("b has all", |c| c.keys() == 30).await;
    let before = b.notes();
    a.close();
    b.close();
    a.wait_closed().await;
    b.wait_closed().await;
    tokio::time::sleep(Duration::from_millis(2500)).await; // past the idle time: evicted

    let c = TestClient::connect(&fx.url("carol").await).await;
    c.wait_until("reloaded board has all", |c| c.keys() == 30).await;
    assert_eq!(c.notes(), before);
    server.stop().await;
}

/// The stored board: its snapshot's head, its log's sequence numbers, and its notes' keys.
async fn stored(
    cfg: &atelier::ServeConfig,
    board: &str,
) -> (Option<i64>, Vec<i64>, std::collections::BTreeSet<String>) {
    use yrs::updates::decoder::Decode;
    use yrs::Transact;
    let db = cfg.db.open().await.expect("open db");
    let stored = db.load(&atelier::store::DocKey::main(board)).await.expect("load");
    db.close().await;
    let doc = yrs::Doc::new();
    for bytes in stored.snapshot.iter().map(|s| &s.data).chain(stored.log.iter().map(|(_, d)| d)) {
        doc.transact_mut().apply_update(yrs::Update::decode_v1(bytes).expect("decode")).expect("apply");
    }
    let notes = doc.get_or_insert_map("notes");
    let keys = notes.keys(&doc.transact()).map(str::to_owned).collect();
    (stored.snapshot.map(|s| s.upto_seq), stored.log.iter().map(|(seq, _)| *seq).collect(), keys)
}

/// The stored board once `done` holds of it (compactions are background work), or as it is
/// after 5 s.
async fn stored_once(
    cfg: &atelier::ServeConfig,
    board: &str,
    done: impl Fn(&(Option<i64>, Vec<i64>, std::collections::BTreeSet<String>)) -> bool,
) -> (Option<i64>, Vec<i64>, std::collections::BTreeSet<String>) {
    let mut last = stored(cfg, board).await;
    for _ in 0..100 {
        if done(&last) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        last = stored(cfg, board).await;
    }
    last
}

/// A server folding logs every 5 updates, a board and a synced client on it.
async fn board_folding_every_5() -> (tempfile::TempDir, atelier::ServeConfig, TestServer, Fixture, TestClient)
{
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.compact_every = 5;
    let server = TestServer::start(cfg.clone()).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    a.wait_synced().await;
    (dir, cfg, server, fx, a)
}

fn keys(prefix: &str, n: usize) -> std::collections::BTreeSet<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[tokio::test]
async fn an_open_board_folds_its_log_from_its_own_document() {
    let (_dir, cfg, server, fx, a) = board_folding_every_5().await;
    for i in 0..23 {
        a.set(&format!("n{i}"), i);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The snapshot follows the log while the board stays open: after every commit, fewer than
    // `compact_every` updates are left after it. (Where the folds fall depends on how the
    // edits were grouped into commits.)
    let folded = |(snapshot, log, _): &(Option<i64>, Vec<i64>, _)| {
        snapshot.is_some_and(|upto| upto + log.len() as i64 == 23) && log.len() < 5
    };
    let last = stored_once(&cfg, &fx.board, folded).await;
    assert!(folded(&last), "snapshot {:?}, log {:?}", last.0, last.1);
    let (snapshot, log, notes) = last;
    assert_eq!(
        log,
        ((snapshot.unwrap() + 1)..(snapshot.unwrap() + 1 + log.len() as i64)).collect::<Vec<_>>()
    );
    assert_eq!(notes, keys("n", 23), "snapshot + log hold every edit");
    server.stop().await;
}

#[tokio::test]
async fn a_board_written_elsewhere_too_is_folded_from_the_store() {
    // Another node (here: the store used directly) appends to the board while it is open: the
    // room's document no longer holds the whole log, so its snapshot must not replace it.
    let (_dir, cfg, server, fx, a) = board_folding_every_5().await;
    a.set("first", 0);
    stored_once(&cfg, &fx.board, |(_, _, notes)| notes.contains("first")).await;

    let elsewhere = yrs::Doc::with_client_id(777_001);
    let notes = elsewhere.get_or_insert_map("notes");
    let update = {
        use yrs::Transact;
        let mut txn = elsewhere.transact_mut();
        yrs::Map::insert(&notes, &mut txn, "from-elsewhere", 1);
        txn.encode_update_v1()
    };
    let db = cfg.db.open().await.expect("open db");
    let key = atelier::store::DocKey::main(fx.board.as_str());
    db.append(&[atelier::store::Append { key, updates: vec![update], owners: vec![], versions: vec![] }])
        .await
        .expect("append elsewhere");
    db.close().await;

    for i in 0..12 {
        a.set(&format!("n{i}"), i);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let last = stored_once(&cfg, &fx.board, |(snapshot, _, notes)| {
        snapshot.is_some_and(|upto| upto >= 10) && notes.len() == 14
    })
    .await;
    let (snapshot, log, notes) = last;
    assert!(snapshot.is_some_and(|upto| upto >= 10), "snapshot {snapshot:?}, log {log:?}");
    let mut want = keys("n", 12);
    want.insert("first".into());
    want.insert("from-elsewhere".into());
    assert_eq!(notes, want, "the other node's edit survived compaction");
    server.stop().await;
}

#[tokio::test]
async fn a_fresh_client_gets_a_large_stored_board_while_its_room_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    a.wait_synced().await;
    // ~400 KB in one edit; a graceful shutdown folds it into a snapshot with no log after it.
    a.edit(|txn, notes| {
        for i in 0..6000 {
            notes.insert(txn, format!("note-{i:04}"), format!("idée numéro {i} pour la vallée, à trier"));
        }
    });
    let b = TestClient::connect(&fx.url("bob").await).await;
    b.wait_until("b has the board", |c| c.keys() == 6000).await;
    let before = b.notes();
    server.stop().await;
    let (snapshot, log, _) = stored(&config(&dir), &fx.board).await;
    assert!(snapshot.is_some() && log.is_empty(), "shutdown folds the log: {snapshot:?} {log:?}");

    let server = TestServer::start(config(&dir)).await;
    fx.rebind(&server);
    let c = TestClient::connect(&fx.url("carol").await).await;
    c.wait_until("the stored board arrives", |c| c.keys() == 6000).await;
    assert_eq!(c.notes(), before);
    // Answered from the stored snapshot before the room, once built, sent its own step 1.
    let order = c.seen.lock().unwrap().sync_order.clone();
    assert_eq!(order.first(), Some(&"step2"), "{order:?}");
    // The room built meanwhile works as ever: edits both ways, a client holding state syncs.
    c.wait_until("the room's step 1 follows", |c| c.seen.lock().unwrap().sync_order.contains(&"step1")).await;
    c.set("after-restart", 1);
    let copy = yrs::Doc::new();
    {
        use yrs::updates::decoder::Decode;
        use yrs::{ReadTxn, Transact};
        let state = c.doc.transact().encode_state_as_update_v1(&yrs::StateVector::default());
        copy.transact_mut().apply_update(yrs::Update::decode_v1(&state).unwrap()).unwrap();
    }
    let d = TestClient::connect_with(&fx.url("dave").await, copy).await;
    d.set("from-dave", 2);
    c.wait_until("c gets d's edit", |c| c.keys() == 6002).await;
    let e = TestClient::connect(&fx.url("erin").await).await;
    e.wait_until("a later fresh client gets everything", |c| c.keys() == 6002).await;
    server.stop().await;
}

#[tokio::test]
async fn a_damaged_stored_board_reaches_no_client() {
    // A large snapshot that is not a Yjs update (a damaged database): the room cannot be built,
    // no joiner receives the stored bytes (they fail the structural check that lets a stored
    // snapshot be sent before it is decoded), and each is told to reconnect.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let server = TestServer::start(cfg.clone()).await;
    let fx = Fixture::new(&server).await;
    server.stop().await;
    let db = cfg.db.open().await.expect("open db");
    let key = atelier::store::DocKey::main(fx.board.as_str());
    let damaged = atelier::store::Snapshot { upto_seq: 1, data: vec![0xff; 200 * 1024] };
    db.append(&[atelier::store::Append {
        key: key.clone(),
        updates: vec![vec![0, 0]],
        owners: vec![],
        versions: vec![],
    }])
    .await
    .expect("append");
    assert!(db.replace_snapshot(&key, &damaged).await.expect("snapshot"));
    db.close().await;

    let server = TestServer::start(cfg).await;
    fx.rebind(&server);
    let c = TestClient::connect(&fx.url("carol").await).await;
    let (code, _) = c.wait_closed().await;
    assert_eq!(code, 1013, "told to reconnect");
    assert!(c.seen.lock().unwrap().sync_order.is_empty(), "{:?}", c.seen.lock().unwrap().sync_order);
    server.stop().await;
}

#[tokio::test]
async fn restart_and_graceful_shutdown_keep_everything() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    for i in 0..40 {
        a.set(&format!("n{i}"), i);
    }
    b.wait_until("b has all", |c| c.keys() == 40).await;
    let before = b.notes();
    server.stop().await;
    let (code, _) = b.wait_closed().await;
    assert_eq!(code, 1001, "graceful shutdown closes sockets with 1001");

    let server = TestServer::start(config(&dir)).await;
    fx.rebind(&server);
    let c = TestClient::connect(&fx.url("carol").await).await;
    c.wait_until("restarted board has all", |c| c.keys() == 40).await;
    assert_eq!(c.notes(), before);
    server.stop().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    for path in ["/healthz", "/readyz"] {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut body = String::new();
        stream.read_to_string(&mut body).await.unwrap();
        assert!(body.starts_with("HTTP/1.1 200"), "{path}: {body}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_storm_on_a_large_board_does_not_leave_a_copy_per_connection() {
    // Each joiner receives one sync step 2 as large as the board. Written whole, tungstenite
    // would copy it into the connection's write buffer and keep that capacity: 30 joiners of a
    // 4 MB board would hold 120 MB. Written in fragments, they hold a fragment each.
    let dir = tempfile::tempdir().unwrap();
    let server = ChildServer::start(&dir).await;
    let fx = Fixture::on(server.addr, &server.config).await;
    let writer = TestClient::connect(&fx.url("writer").await).await;
    writer.wait_synced().await;
    let text = "lorem ipsum ".repeat(40_000); // ~480 KB per note
    for i in 0..8 {
        writer.edit(|txn, map| {
            map.insert(txn, format!("n{i}"), text.as_str());
        });
    }
    writer.wait_until("the board is written", |c| c.keys() == 8).await;
    let mut urls = Vec::new();
    for i in 0..30 {
        urls.push(fx.url(&format!("joiner{i}")).await);
    }
    let check = TestClient::connect(&fx.url("check").await).await;
    check.wait_until("the board is committed", |c| c.keys() == 8).await;
    let before = peak_rss_kb(server.pid);
    let joiners = futures_util::future::join_all(urls.iter().map(|u| TestClient::connect(u))).await;
    for j in &joiners {
        j.wait_until("joiner synced the whole board", |c| c.keys() == 8).await;
    }
    let grown_mb = (peak_rss_kb(server.pid) - before) / 1024;
    assert!(grown_mb < 40, "the server's peak memory grew by {grown_mb} MB for 30 joiners of a 4 MB board");
}

/// An edit waiting for the end of a large room's batch window when the server shuts down is
/// committed before the room closes, like every edit the room has taken.
#[tokio::test]
async fn shutdown_commits_edits_held_for_a_batch_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.edit_batch_ms = 60_000;
    // Every commit folds the log: nothing is left for the fold at shutdown to carry.
    cfg.compact_every = 1;
    let server = TestServer::start(cfg.clone()).await;
    let fx = Fixture::new(&server).await;
    let board = fx.new_board().await;
    let mut clients = Vec::new();
    for i in 0..17 {
        let client = TestClient::connect(&fx.url_for(&board, &format!("p{i}")).await).await;
        client.wait_synced().await;
        clients.push(client);
    }
    // The first edit is committed at once and opens a window of a minute; the second waits.
    clients[0].set("first", 1);
    clients[1].wait_until("observer has the first edit", |c| c.keys() == 1).await;
    clients[0].set("held", 2);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(clients[1].keys(), 1, "the second edit waits for the window");
    server.stop().await;

    let server = TestServer::start(cfg).await;
    fx.rebind(&server);
    let fresh = TestClient::connect(&fx.url_for(&board, "fresh").await).await;
    fresh.wait_synced().await;
    fresh.wait_until("the held edit was committed at shutdown", |c| c.keys() == 2).await;
    server.stop().await;
}
