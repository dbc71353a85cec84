//! Eviction, restart and graceful shutdown keep every committed edit.

use std::time::Duration;

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
