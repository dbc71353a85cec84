//! The server's Prometheus endpoint (`--metrics-listen`), read through the SDK's scraper: the
//! gauges follow connections and boards, edits and commits are timed, refused upgrades and
//! closes are counted, and the public port does not serve it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod common;

use atelier_client::metrics::Scrape;
use atelier_client::{Api, Client, ClientOptions, Error};
use common::{create_tenant, eventually, Server, EMAIL, PASSWORD, WAIT};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use yrs::{Map, Transact};

/// The value of an unlabelled sample (a gauge or a counter), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_connections_edits_and_commits() {
    let dir = tempfile::tempdir().unwrap();
    create_tenant(dir.path());
    let server = Server::start_with_metrics(dir.path());
    let url = server.metrics_url.clone().expect("started with metrics");
    let metrics = Api::new(&url).unwrap();
    let text = || async { metrics.get_text("/metrics").await.unwrap() };

    let mut api = Api::new(format!("http://{}", server.addr)).unwrap();
    let token = api.login(EMAIL, PASSWORD).await.unwrap();
    let project = api.create_project("Métriques").await.unwrap();
    let board = api.create_board(&project, "Tableau", "free").await.unwrap();
    let before = Scrape::get(&url).await.unwrap();
    assert_eq!(sample(&text().await, "atelier_ws_connections"), 0.0);

    let opts = || ClientOptions::new(server.template(), &board).token(&token);
    let (alice, bob) = (Client::connect(opts()).await.unwrap(), Client::connect(opts()).await.unwrap());
    let now = text().await;
    assert_eq!(sample(&now, "atelier_ws_connections"), 2.0, "{now}");
    assert_eq!(sample(&now, "atelier_rooms_open"), 1.0, "{now}");
    assert_eq!(sample(&now, "atelier_ws_upgrades_total{outcome=\"joined\"}"), 2.0, "{now}");

    let edits = 12;
    let notes = alice.doc().get_or_insert_map("notes");
    for i in 0..edits {
        notes.insert(&mut alice.doc().transact_mut(), format!("n{i}"), i as f64);
        tokio::time::timeout(WAIT, alice.wait_saved()).await.expect("saved in time").unwrap();
    }
    eventually("bob has every note", || {
        bob.doc().get_or_insert_map("notes").len(&bob.doc().transact()) == edits as u32
    })
    .await;

    let after = Scrape::get(&url).await.unwrap();
    let window = |series: &str| after.histogram(series).unwrap().since(before.histogram(series).as_ref());
    let timed = window("atelier_edit_seconds");
    assert_eq!(timed.count(), edits, "each edit, sent alone and saved, is timed once");
    assert!(timed.quantile(0.5).unwrap() > 0.0);
    assert!(window("atelier_commit_seconds").count() >= 1);
    assert_eq!(after.histogram("atelier_ws_join_seconds").unwrap().count(), 2);
    assert!(sample(&text().await, "atelier_updates_committed_total") >= edits as f64);

    // A refused upgrade is counted and joins nothing.
    let refused = Client::connect(ClientOptions::new(server.template(), &board).token("not-a-token")).await;
    assert!(matches!(refused, Err(Error::Refused { status: 401, .. })), "{refused:?}");
    assert_eq!(sample(&text().await, "atelier_ws_upgrades_total{outcome=\"refused\"}"), 1.0);

    // Leaving brings the gauge back down.
    alice.close().await.unwrap();
    bob.close().await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while sample(&text().await, "atelier_ws_connections") != 0.0 {
        assert!(tokio::time::Instant::now() < deadline, "connections gauge stays up");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    assert_eq!(sample(&text().await, "atelier_ws_closed_total{code=\"1000\",reason=\"closed\"}"), 2.0);

    // A malformed frame closes its connection with 1007, counted by code and reason.
    let url = format!("ws://{}/ws/{board}?token={token}", server.addr);
    let (mut raw, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    raw.send(Message::Binary(vec![0x7f, 0x00].into())).await.unwrap();
    let closed = tokio::time::timeout(WAIT, async {
        while let Some(Ok(msg)) = raw.next().await {
            if let Message::Close(frame) = msg {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .expect("closed in time");
    assert_eq!(closed, Some(1007));
    let deadline = tokio::time::Instant::now() + WAIT;
    let malformed = "atelier_ws_closed_total{code=\"1007\",reason=\"malformed message\"}";
    while sample(&text().await, malformed) != 1.0 {
        assert!(tokio::time::Instant::now() < deadline, "1007 not counted: {}", text().await);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The public port does not serve the metrics.
    let public = Api::new(format!("http://{}", server.addr)).unwrap().get_text("/metrics").await;
    assert!(matches!(public, Err(Error::Api { status: 404, .. })), "{public:?}");
}
