//! `ingest`: W writers sending as fast as the server accepts (at most K updates each not yet
//! seen by the subscriber), counted as updates per second seen by one subscriber.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use atelier_client::Client;
use clap::Args;
use serde_json::{json, Value};
use tokio::sync::Notify;
use yrs::{ClientID, Doc};

use super::server_metrics::MetricsWindow;
use super::stats::{now_us, r2, CpuWindow, Latency, Proc};
use super::{
    close_all, connect_all, generator_json, listener, note, reading_doc, server_json, set_note, Common,
    Counters, Recorder, Target,
};

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub common: Common,
    /// Writers on the board.
    #[arg(long, default_value_t = 1)]
    writers: usize,
    /// How long the writers write, warm-up included.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Seconds not counted at the start.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Updates a writer makes before yielding.
    #[arg(long, default_value_t = 50)]
    batch: u32,
    /// Updates per writer sent but not yet seen by the subscriber, at most.
    #[arg(long, default_value_t = 1000)]
    max_in_flight: u32,
    /// Distinct notes each writer moves in turn.
    #[arg(long, default_value_t = 200)]
    notes: usize,
}

pub async fn run(args: IngestArgs) -> anyhow::Result<Value> {
    if args.writers == 0 || args.writers > 1000 {
        bail!("--writers must be between 1 and 1000");
    }
    if args.secs == 0 || args.secs > 3600 || args.warmup_secs >= args.secs {
        bail!("--secs must be at most 3600 and longer than --warmup-secs");
    }
    if args.batch == 0 || args.max_in_flight == 0 {
        bail!("--batch and --max-in-flight must be positive");
    }
    let target = Target::prepare(&args.common, "ingest", false, 1).await?;
    let board = target.board(0);
    let server = target.server();
    let counters = Arc::new(Counters::default());
    let rec = Recorder::new();
    let connect_times = Arc::new(Latency::new());

    // Writers' documents first: the subscriber tracks their client ids' clocks.
    let wdocs: Vec<Doc> = (0..args.writers).map(|_| atelier_client::new_doc()).collect();
    let ids: Vec<ClientID> = wdocs.iter().map(|d| d.client_id()).collect();
    let seen: Arc<Vec<AtomicU32>> = Arc::new(ids.iter().map(|_| AtomicU32::new(0)).collect());
    let notify = Arc::new(Notify::new());

    let (sdoc, reader) = reading_doc(&rec);
    {
        let (ids, seen, notify) = (ids.clone(), seen.clone(), notify.clone());
        sdoc.observe_update_v1("ingest", move |txn, _| {
            let sv = txn.after_state();
            for (id, slot) in ids.iter().zip(seen.iter()) {
                slot.fetch_max(sv.get(id), Ordering::Relaxed);
            }
            notify.notify_waiters();
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let subscriber = tokio::time::timeout(
        Duration::from_secs(60),
        Client::connect(target.options(&board).doc(sdoc).listener(listener(&counters, Some(reader)))),
    )
    .await
    .context("the subscriber did not sync within 60s")?
    .context("the subscriber cannot connect")?;
    let specs = wdocs
        .iter()
        .map(|d| target.options(&board).doc(d.clone()).listener(listener(&counters, None)))
        .collect();
    let (writers, failed, first_error) =
        connect_all(specs, args.common.connect_concurrency, &connect_times).await;
    if writers.iter().any(Option::is_none) {
        bail!("{failed} writer(s) could not connect: {}", first_error.unwrap_or_default());
    }
    let writers: Vec<Client> = writers.into_iter().flatten().collect();

    let start = Instant::now();
    let warm_end = start + Duration::from_secs(args.warmup_secs);
    let end = start + Duration::from_secs(args.secs);
    let mut tasks = tokio::task::JoinSet::new();
    for (w, doc) in wdocs.iter().enumerate() {
        let (doc, seen, notify, rec) = (doc.clone(), seen.clone(), notify.clone(), rec.clone());
        let (batch, max_in_flight, n_notes) = (args.batch, args.max_in_flight, args.notes.max(1));
        tasks.spawn(async move {
            let notes = doc.get_or_insert_map("notes");
            let keys: Vec<String> = (0..n_notes).map(|i| format!("w{w}-{i}")).collect();
            let (mut sent, mut sent_in_window) = (0u32, 0u64);
            while Instant::now() < end {
                let woken = notify.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let in_flight = sent.saturating_sub(seen[w].load(Ordering::Relaxed));
                let room = max_in_flight.saturating_sub(in_flight).min(batch);
                if room == 0 {
                    let _ = tokio::time::timeout(Duration::from_millis(50), woken).await;
                    continue;
                }
                for _ in 0..room {
                    let t = now_us();
                    let i = sent as usize;
                    set_note(
                        &doc,
                        &notes,
                        &keys[i % keys.len()],
                        note((i * 37 % 1600) as i64, (i * 91 % 900) as i64, t),
                    );
                    sent += 1;
                    if rec.in_window(t) {
                        sent_in_window += 1;
                    }
                }
                tokio::task::yield_now().await;
            }
            (sent, sent_in_window)
        });
    }
    let total_seen = |seen: &[AtomicU32]| seen.iter().map(|s| s.load(Ordering::Relaxed) as u64).sum::<u64>();
    tokio::time::sleep_until(warm_end.into()).await;
    rec.open_window();
    let c0 = total_seen(&seen);
    let cpu = (server.map(CpuWindow::start), CpuWindow::start(Proc::Myself));
    let scrape = MetricsWindow::start(args.common.metrics_url.as_deref());
    tokio::time::sleep_until(end.into()).await;
    rec.close_window();
    let c1 = total_seen(&seen);
    let window_secs = (end - warm_end).as_secs_f64();
    let server_report = server_json(server, cpu.0.as_ref());
    let server_metrics = scrape.finish().await;
    let generator_report = generator_json(&cpu.1);
    let (mut sent, mut sent_in_window) = (0u64, 0u64);
    while let Some(Ok((s, w))) = tasks.join_next().await {
        sent += s as u64;
        sent_in_window += w;
    }
    // Let the last updates arrive, to check nothing was lost.
    let drain_end = Instant::now() + Duration::from_secs(5);
    while total_seen(&seen) < sent && Instant::now() < drain_end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = json!({
        "scenario": "ingest",
        "params": {
            "url_template": args.common.url_template,
            "board": board,
            "writers": args.writers,
            "secs": args.secs,
            "warmup_secs": args.warmup_secs,
            "batch": args.batch,
            "max_in_flight": args.max_in_flight,
            "notes": args.notes,
        },
        "updates_per_sec": r2((c1 - c0) as f64 / window_secs),
        "window_secs": r2(window_secs),
        "sent_in_window": sent_in_window,
        "expected": sent,
        "delivered": total_seen(&seen),
        "latency_ms": rec.latency.summary(),
        "connect_sync_ms": connect_times.summary(),
        "server": server_report,
        "server_metrics": server_metrics,
        "generator": generator_report,
        "errors": counters.json(),
    });
    close_all(writers.into_iter().chain(std::iter::once(subscriber))).await;
    Ok(report)
}
