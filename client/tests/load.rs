//! The load generator's `fanout` against the real server binary: every update the writer sends
//! is counted once per subscriber, with full clients and with receive-only readers.

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
    let server = Server::start(dir.path());

    let full = fanout(&server, &[]);
    assert_all_delivered(&full);
    assert_eq!(full["params"]["receive_only"], false);

    // Readers time the updates from the writer's clocks instead of applying them.
    let readers = fanout(&server, &["--receive-only"]);
    assert_all_delivered(&readers);
    assert_eq!(readers["params"]["receive_only"], true);
}
