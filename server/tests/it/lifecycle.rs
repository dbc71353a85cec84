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
