//! `cold`: boards of N updates, then the time a fresh client takes from socket open to its sync
//! step 2 applied, on boards the server has to load (run --prepare-only, restart or evict the
//! server, then --measure-only).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use atelier_client::{Client, Event};
use clap::Args;
use serde_json::{json, Value};
use yrs::{Any, Map, Transact};

use super::server_metrics::MetricsWindow;
use super::stats::{r2, CpuWindow, Latency, Proc};
use super::{counting_doc, generator_json, note, server_json, Common, Target};

#[derive(Debug, Args)]
pub struct ColdArgs {
    #[command(flatten)]
    pub common: Common,
    /// Updates written to each board, one message each (see --batch).
    #[arg(long, default_value_t = 20_000)]
    updates: usize,
    /// Write the changes this many to a transaction, so one message each: the board ends with
    /// the same notes, its history in fewer, larger updates. For servers whose cost per incoming
    /// update makes 20,000 single changes impractical (y-sweet 0.9.1).
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Every update creates a new note (20,000 updates ≈ 660 KB, or 960 KB with
    /// --text-bytes 8); otherwise the updates move --notes notes around.
    #[arg(long)]
    distinct: bool,
    /// A text of this many characters in every note written (0: position and time only).
    #[arg(long, default_value_t = 0)]
    text_bytes: usize,
    /// Notes moved when not --distinct.
    #[arg(long, default_value_t = 100)]
    notes: usize,
    /// Boards prepared and measured (one fresh client each, one after the other).
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Only write the boards.
    #[arg(long, conflicts_with = "measure_only")]
    prepare_only: bool,
    /// Only measure boards written by an earlier --prepare-only run with the same
    /// --board-prefix, --updates, --distinct and --notes.
    #[arg(long)]
    measure_only: bool,
    /// Measure with a raw socket that only receives the sync step 2, without decoding it: the
    /// server's part (loading from the store, encoding, sending) without the client's.
    #[arg(long)]
    receive_only: bool,
}

pub async fn run(args: ColdArgs) -> anyhow::Result<Value> {
    if args.updates == 0 || args.updates > 1_000_000 || args.repeat == 0 || args.repeat > 1000 {
        bail!("--updates must be 1..1000000 and --repeat 1..1000");
    }
    if args.batch == 0 || args.batch > args.updates {
        bail!("--batch must be 1..=--updates");
    }
    let target = Target::prepare(&args.common, "cold", true, args.repeat).await?;
    let server = target.server();
    let expected_len = if args.distinct { args.updates } else { args.updates.min(args.notes.max(1)) };
    let mut report = json!({
        "scenario": "cold",
        "params": {
            "url_template": args.common.url_template,
            "board_prefix": target.prefix,
            "updates": args.updates,
            "batch": args.batch,
            "distinct": args.distinct,
            "notes": args.notes,
            "repeat": args.repeat,
            "text_bytes": args.text_bytes,
            "receive_only": args.receive_only,
            "mode": if args.prepare_only { "prepare" } else if args.measure_only { "measure" } else { "prepare+measure" },
        },
    });
    if !args.measure_only {
        let prepared = prepare(&args, &target).await?;
        report["prepare"] = prepared;
    }
    if !args.prepare_only {
        let cpu = (server.map(CpuWindow::start), CpuWindow::start(Proc::Myself));
        let scrape = MetricsWindow::start(args.common.metrics_url.as_deref());
        let times = Latency::new();
        let mut samples = Vec::with_capacity(args.repeat);
        let mut complete = 0usize;
        let mut bytes = 0u64;
        for i in 0..args.repeat {
            let board = target.board(i);
            if args.receive_only {
                let url = target.options(&board).url()?;
                let elapsed = super::receive_step2(url)
                    .await
                    .with_context(|| format!("board {board}: no sync step 2"))?;
                times.record(elapsed);
                samples.push(r2(elapsed.as_secs_f64() * 1000.0));
                complete += 1;
                continue;
            }
            let step2 = Arc::new(AtomicU64::new(0));
            let s = step2.clone();
            let opts = target.options(&board).saved_extension(false).listener(Arc::new(move |e: &Event| {
                if let Event::Synced { bytes } = e {
                    s.store(*bytes as u64, Ordering::Relaxed);
                }
            }));
            let doc = atelier_client::new_doc();
            let notes = doc.get_or_insert_map("notes");
            let start = Instant::now();
            let client =
                tokio::time::timeout(Duration::from_secs(120), Client::connect(opts.doc(doc.clone())))
                    .await
                    .with_context(|| format!("board {board}: no sync within 120s"))?
                    .with_context(|| format!("board {board}: cannot connect"))?;
            let elapsed = start.elapsed();
            times.record(elapsed);
            samples.push(r2(elapsed.as_secs_f64() * 1000.0));
            let len = notes.len(&doc.transact()) as usize;
            if len == expected_len {
                complete += 1;
            } else {
                eprintln!("cold: board {board} has {len} notes, expected {expected_len} (was it prepared?)");
            }
            bytes = step2.load(Ordering::Relaxed);
            let _ = tokio::time::timeout(Duration::from_secs(2), client.close()).await;
        }
        report["expected"] = json!(args.repeat);
        report["delivered"] = json!(complete);
        report["sync_ms"] = times.summary();
        report["sync_samples_ms"] = json!(samples);
        report["step2_bytes"] = json!(bytes);
        report["server"] = server_json(server, cpu.0.as_ref());
        report["generator"] = generator_json(&cpu.1);
        report["server_metrics"] = scrape.finish().await;
    }
    Ok(report)
}

/// Writes every board and waits until the server has all of it.
async fn prepare(args: &ColdArgs, target: &Target) -> anyhow::Result<Value> {
    let times = Latency::new();
    let mut bytes_total = 0u64;
    for i in 0..args.repeat {
        let board = target.board(i);
        let (doc, written) = counting_doc()?;
        // Presence lets Atelier acknowledge saved state right after a reconnect.
        let opts = target.options(&board).presence(Some(json!({}))).doc(doc.clone());
        let client = tokio::time::timeout(Duration::from_secs(60), Client::connect(opts))
            .await
            .with_context(|| format!("board {board}: no sync within 60s"))?
            .with_context(|| format!("board {board}: cannot connect"))?;
        let notes = doc.get_or_insert_map("notes");
        if notes.len(&doc.transact()) > 0 {
            bail!("board {board} already has notes: use another --board-prefix (or --measure-only)");
        }
        let start = Instant::now();
        for first in (0..args.updates).step_by(args.batch) {
            let last = (first + args.batch).min(args.updates);
            {
                // One transaction, so one update message, per batch.
                let mut txn = doc.transact_mut();
                for j in first..last {
                    let key =
                        if args.distinct { format!("n{j}") } else { format!("n{}", j % args.notes.max(1)) };
                    let mut value = note((j * 37 % 1600) as i64, (j * 91 % 900) as i64, j as i64);
                    if let (Any::Map(fields), true) = (&mut value, args.text_bytes > 0) {
                        let text: String = format!("{j:0width$}", width = args.text_bytes)
                            .chars()
                            .take(args.text_bytes)
                            .collect();
                        std::sync::Arc::make_mut(fields).insert("text".to_owned(), Any::from(text));
                    }
                    notes.insert(&mut txn, key, value);
                }
            }
            if first / 1000 != last / 1000 {
                tokio::task::yield_now().await;
            }
        }
        target.settle(&client, Duration::from_secs(300)).await.with_context(|| format!("board {board}"))?;
        times.record(start.elapsed());
        bytes_total += written.load(Ordering::Relaxed);
        let _ = tokio::time::timeout(Duration::from_secs(2), client.close()).await;
    }
    Ok(json!({
        "boards": args.repeat,
        "write_ms": times.summary(),
        "update_bytes_per_board": bytes_total / args.repeat as u64,
    }))
}
