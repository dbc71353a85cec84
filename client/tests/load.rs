//! The load generator's `fanout` against the real server binary: every update the writer sends
//! is counted once per subscriber, with full clients and with receive-only readers; with
//! `--metrics-url`, the server's own timings of the measured window.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod common;

use std::process::Command;

use common::{create_tenant, Server, EMAIL, PASSWORD};
use serde_json::Value;

fn fanout(server: &Server, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_atelier-client"))
        .args(["load", "fanout", "--api", &format!("http://{}", server.addr), "--email", EMAIL])
        .args(["--url-template", &server.template()])
        .args(["--subscribers", "4", "--rate", "40", "--secs", "3", "--warmup-secs", "1"])
        .args(extra)
        .env("ATELIER_PASSWORD", PASSWORD)
        .output()
        .expect("run atelier-client");
    assert!(out.status.success(), "atelier-client failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON report")
}

fn assert_all_delivered(report: &Value) {
    assert_eq!(report["connected"], 4, "{report}");
    let (sent, expected, delivered) = (
        report["sent"].as_u64().unwrap(),
        report["expected"].as_u64().unwrap(),
        report["delivered"].as_u64().unwrap(),
    );
    // 40 updates/s over the 2 s measured (the first second is warm-up).
    assert!(sent >= 60, "sent only {sent}: {report}");
    assert_eq!(expected, sent * 4, "{report}");
    assert_eq!(delivered, expected, "{report}");
    assert_eq!(report["latency_ms"]["count"].as_u64(), Some(delivered), "{report}");
    assert_eq!(report["errors"]["disconnects"], 0, "{report}");
}

#[test]
fn fanout_counts_every_update_once_per_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    create_tenant(dir.path());
    let server = Server::start_with_metrics(dir.path());

    let full = fanout(&server, &[]);
    assert_all_delivered(&full);
    assert_eq!(full["params"]["receive_only"], false);
    assert!(full["server_metrics"].is_null(), "no --metrics-url, no server view: {full}");

    // Readers time the updates from the writer's clocks instead of applying them.
    let metrics_url = server.metrics_url.clone().expect("started with metrics");
    let readers = fanout(&server, &["--receive-only", "--metrics-url", &metrics_url]);
    assert_all_delivered(&readers);
    assert_eq!(readers["params"]["receive_only"], true);

    // The server timed the window's edits itself: about as many as were sent in it (the
    // scrapes and the window's edges are a few edits apart), none from the warm-up.
    let edits = &readers["server_metrics"]["window"]["edit"];
    let (sent, sent_total) = (readers["sent"].as_u64().unwrap(), readers["sent_total"].as_u64().unwrap());
    let counted = edits["count"].as_u64().unwrap_or_else(|| panic!("no edit timings: {readers}"));
    assert!(counted + 10 >= sent && counted < sent_total, "{counted} edits timed, {sent} sent: {readers}");
    assert!(edits["p50_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{readers}");
    let commits = &readers["server_metrics"]["window"]["commit"];
    assert!(commits["count"].as_u64().is_some_and(|n| n > 0), "{readers}");
    // Both runs' connections joined (4 subscribers and a writer each, and the API's checks).
    let joins = readers["server_metrics"]["since_start"]["join"]["count"].as_u64().unwrap_or(0);
    assert!(joins >= 10, "{joins} joins timed: {readers}");
}

/// `cold --batch`: the same board written in fewer, larger updates, synced whole by a fresh client.
#[test]
fn cold_writes_the_same_board_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    create_tenant(dir.path());
    let server = Server::start(dir.path());
    let cold = |batch: &str, prefix: &str| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_atelier-client"))
            .args(["load", "cold", "--api", &format!("http://{}", server.addr), "--email", EMAIL])
            .args(["--url-template", &server.template(), "--board-prefix", prefix])
            .args(["--updates", "300", "--distinct", "--text-bytes", "8", "--repeat", "1", "--batch", batch])
            .env("ATELIER_PASSWORD", PASSWORD)
            .output()
            .expect("run atelier-client");
        assert!(out.status.success(), "atelier-client failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON report")
    };
    let single = cold("1", "single");
    let batched = cold("100", "batched");
    for report in [&single, &batched] {
        assert_eq!(report["delivered"], 1, "the fresh client found every note: {report}");
    }
    assert_eq!(batched["params"]["batch"], 100);
    // Three updates instead of 300: fewer bytes on the wire, the same board.
    let bytes = |r: &Value| r["prepare"]["update_bytes_per_board"].as_u64().unwrap();
    assert!(bytes(&batched) < bytes(&single), "{batched} {single}");
    // The same board either way (its writer's random client id may take a byte more or less).
    let step2 = |r: &Value| r["step2_bytes"].as_i64().unwrap();
    assert!(step2(&single) > 10_000 && (step2(&single) - step2(&batched)).abs() <= 4, "{batched} {single}");
}
