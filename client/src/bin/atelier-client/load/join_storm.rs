//! `join-storm`: one large board, then K clients joining at once: time to synced, server RSS.

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
use super::{
    close_all, connect_all, counting_doc, generator_json, listener, receive_step2, server_json, Common,
    Counters, PeakRss, Target,
};

#[derive(Debug, Args)]
pub struct JoinStormArgs {
    #[command(flatten)]
    pub common: Common,
    /// Approximate size of the board, in bytes of updates written.
    #[arg(long, default_value_t = 4_000_000)]
    board_bytes: u64,
    /// Clients joining at once.
    #[arg(long, default_value_t = 150)]
    clients: usize,
    /// Characters of text per sticky note.
    #[arg(long, default_value_t = 200)]
    note_chars: usize,
    /// Notes per transaction while preparing.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Joiners that only receive: each opens a socket, sends sync step 1 and stops the clock when
    /// the server's whole sync step 2 has arrived, without decoding or applying it. This measures
    /// the server's delivery; full clients (the default) also pay for decoding a large document
    /// on the generator's one core.
    #[arg(long)]
    receive_only: bool,
}

pub async fn run(args: JoinStormArgs) -> anyhow::Result<Value> {
    if args.clients == 0 || args.clients > 20_000 {
        bail!("--clients must be between 1 and 20000");
    }
    if args.board_bytes == 0 || args.board_bytes > 512 * 1024 * 1024 {
        bail!("--board-bytes must be between 1 and 512 MiB");
    }
    let target = Target::prepare(&args.common, "join-storm", false, 1).await?;
    let board = target.board(0);
    let server = target.server();
    let counters = Arc::new(Counters::default());

    // Prepare the board.
    let (doc, written) = counting_doc()?;
    let writer = tokio::time::timeout(
        Duration::from_secs(60),
        Client::connect(target.options(&board).presence(Some(json!({}))).doc(doc.clone())),
    )
    .await
    .context("the writer did not sync within 60s")?
    .context("the writer cannot connect")?;
    let notes = doc.get_or_insert_map("notes");
    let text: String =
        "Atelier du futur, idée à prototyper ! ".chars().cycle().take(args.note_chars).collect();
    let prepare_start = Instant::now();
    let mut count = 0usize;
    while written.load(Ordering::Relaxed) < args.board_bytes {
        {
            let mut txn = doc.transact_mut();
            for _ in 0..args.batch.max(1) {
                let value = Any::from(std::collections::HashMap::from([
                    ("text".to_owned(), Any::from(format!("{count} {text}"))),
                    ("x".to_owned(), Any::from((count * 37 % 1600) as i64)),
                    ("y".to_owned(), Any::from((count * 91 % 900) as i64)),
                    ("color".to_owned(), Any::from("#ffe066")),
                ]));
                notes.insert(&mut txn, format!("note-{count}"), value);
                count += 1;
            }
        }
        tokio::task::yield_now().await;
    }
    target.settle(&writer, Duration::from_secs(300)).await.context("preparing the board")?;
    let prepare_ms = prepare_start.elapsed().as_secs_f64() * 1000.0;
    let _ = tokio::time::timeout(Duration::from_secs(2), writer.close()).await;

    // The storm.
    let before = server.and_then(|p| p.memory_kb());
    let peak = server.map(PeakRss::start);
    let cpu = (server.map(CpuWindow::start), CpuWindow::start(Proc::Myself));
    let scrape = MetricsWindow::start(args.common.metrics_url.as_deref());
    let times = Arc::new(Latency::new());
    let step2 = Arc::new(AtomicU64::new(0));
    let storm_start = Instant::now();
    // Full clients decode and apply the board; receive-only joiners just time its arrival.
    let (delivered, clients, docs, failed, first_error) = if args.receive_only {
        let url = target.options(&board).url()?;
        let received = receive_only(&url, args.clients, &times).await;
        (received, Vec::new(), Vec::new(), args.clients - received, None)
    } else {
        let mut docs = Vec::with_capacity(args.clients);
        let specs = (0..args.clients)
            .map(|_| {
                let d = atelier_client::new_doc();
                docs.push(d.clone());
                let (s, counting) = (step2.clone(), listener(&counters, None));
                target
                    .options(&board)
                    .saved_extension(false)
                    .max_message_size(1024 * 1024 * 1024)
                    .doc(d)
                    .listener(Arc::new(move |e: &Event| {
                        if let Event::Synced { bytes } = e {
                            s.fetch_max(*bytes as u64, Ordering::Relaxed);
                        }
                        counting(e);
                    }))
            })
            .collect();
        let (clients, failed, first_error) = connect_all(specs, args.clients, &times).await;
        let complete = clients
            .iter()
            .zip(&docs)
            .filter(|(c, d)| c.is_some() && d.get_or_insert_map("notes").len(&d.transact()) as usize == count)
            .count();
        (complete, clients, docs, failed, first_error)
    };
    let storm_ms = storm_start.elapsed().as_secs_f64() * 1000.0;
    let server_report = server_json(server, cpu.0.as_ref());
    let server_metrics = scrape.finish().await;
    let generator_report = generator_json(&cpu.1);
    let peak_kb = peak.as_ref().map(|p| p.peak());
    drop(peak);
    let mut report = json!({
        "scenario": "join-storm",
        "params": {
            "url_template": args.common.url_template,
            "board": board,
            "board_bytes": args.board_bytes,
            "clients": args.clients,
            "note_chars": args.note_chars,
            "receive_only": args.receive_only,
        },
        "notes": count,
        "written_bytes": written.load(Ordering::Relaxed),
        "prepare_ms": r2(prepare_ms),
        "expected": args.clients,
        "delivered": delivered,
        "connect_errors": failed,
        "first_error": first_error,
        "storm_ms": r2(storm_ms),
        "server_before": before.map(|(rss, hwm)| json!({"rss_kb": rss, "hwm_kb": hwm})),
        "server_peak_rss_kb": peak_kb,
        "server": server_report,
        "server_metrics": server_metrics,
        "generator": generator_report,
        "errors": counters.json(),
    });
    if args.receive_only {
        report["received_ms"] = times.summary();
    } else {
        report["synced_ms"] = times.summary();
        report["step2_bytes"] = json!(step2.load(Ordering::Relaxed));
    }
    drop(docs);
    close_all(clients.into_iter().flatten()).await;
    Ok(report)
}

/// Opens `clients` raw sockets at once (see [`receive_step2`]) and records each time into
/// `times`. Returns how many received a sync step 2.
async fn receive_only(url: &str, clients: usize, times: &Arc<Latency>) -> usize {
    let tasks: Vec<_> = (0..clients).map(|_| tokio::spawn(receive_step2(url.to_owned()))).collect();
    let mut received = 0;
    for task in tasks {
        if let Ok(Some(elapsed)) = task.await {
            times.record(elapsed);
            received += 1;
        }
    }
    received
}
