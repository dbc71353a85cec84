//! `rooms`: B boards × C clients, each client writing at r updates/s; connect time, latency, and
//! the server's RSS as the connection count grows.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use atelier_client::Client;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use yrs::{Doc, MapRef};

use super::server_metrics::MetricsWindow;
use super::stats::{least_squares, now_us, r2, CpuWindow, Latency, Proc};
use super::{
    close_all, connect_all, generator_json, listener, note, random_u32, reading_doc, server_json, set_note,
    Common, Counters, Recorder, Target,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Ramp {
    /// Board after board: each step adds whole boards (rooms and their connections).
    Boards,
    /// Client after client: the first step opens every board, later steps add connections only.
    Clients,
}

#[derive(Debug, Args)]
pub struct RoomsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Boards.
    #[arg(long, default_value_t = 500)]
    boards: usize,
    /// Clients per board.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Updates per second written by each client.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// Measured seconds with every client connected (after the warm-up).
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Seconds of traffic with every client connected before measuring.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Connection steps; the server's RSS is sampled after each.
    #[arg(long, default_value_t = 4)]
    steps: usize,
    /// Seconds of traffic after each step before sampling the RSS.
    #[arg(long, default_value_t = 2)]
    step_secs: u64,
    /// Order in which connections are added.
    #[arg(long, value_enum, default_value_t = Ramp::Boards)]
    ramp: Ramp,
    /// How long to wait for late deliveries after the window.
    #[arg(long, default_value_t = 3)]
    drain_secs: u64,
}

/// A connected client as the write scheduler sees it.
struct Writer {
    doc: Doc,
    notes: MapRef,
    key: String,
    board: usize,
    next: Instant,
}

pub async fn run(args: RoomsArgs) -> anyhow::Result<Value> {
    let total = args.boards.saturating_mul(args.clients);
    if args.boards == 0 || args.clients == 0 || total > 50_000 {
        bail!("--boards × --clients must be between 1 and 50000");
    }
    if !(args.rate > 0.0 && args.rate <= 1000.0) {
        bail!("--rate must be between 0 and 1000 updates/s per client");
    }
    if args.secs == 0 || args.secs > 3600 || args.steps == 0 || args.steps > 100 {
        bail!("--secs must be 1..3600 and --steps 1..100");
    }
    let target = Target::prepare(&args.common, "rooms", false, args.boards).await?;
    let server = target.server();
    let counters = Arc::new(Counters::default());
    let rec = Recorder::new();
    let connect_times = Arc::new(Latency::new());
    let period = Duration::from_secs_f64(1.0 / args.rate);

    // (board, client) in connection order.
    let order: Vec<(usize, usize)> = match args.ramp {
        Ramp::Boards => (0..args.boards).flat_map(|b| (0..args.clients).map(move |c| (b, c))).collect(),
        Ramp::Clients => (0..args.clients).flat_map(|c| (0..args.boards).map(move |b| (b, c))).collect(),
    };
    let writers: Arc<Mutex<Vec<Writer>>> = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let connected_per_board: Arc<Vec<AtomicU64>> =
        Arc::new((0..args.boards).map(|_| AtomicU64::new(0)).collect());
    let expected = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));

    // One task writes for every connected client when its turn comes.
    let scheduler = {
        let (writers, per_board, expected, sent, stop, rec) = (
            writers.clone(),
            connected_per_board.clone(),
            expected.clone(),
            sent.clone(),
            stop.clone(),
            rec.clone(),
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(5));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let now = Instant::now();
                let Ok(mut writers) = writers.lock() else { return };
                for w in writers.iter_mut() {
                    if w.next > now {
                        continue;
                    }
                    seq += 1;
                    let t = now_us();
                    set_note(
                        &w.doc,
                        &w.notes,
                        &w.key,
                        note((seq * 37 % 1600) as i64, (seq * 91 % 900) as i64, t),
                    );
                    if rec.in_window(t) {
                        sent.fetch_add(1, Ordering::Relaxed);
                        let peers = per_board[w.board].load(Ordering::Relaxed).saturating_sub(1);
                        expected.fetch_add(peers, Ordering::Relaxed);
                    }
                    w.next += period;
                    if w.next < now {
                        w.next = now + period; // fell behind: do not burst
                    }
                }
            }
        })
    };

    let baseline_kb = server.and_then(|p| p.rss_kb());
    let mut points: Vec<(usize, u64)> = Vec::new();
    let mut clients: Vec<Client> = Vec::with_capacity(total);
    let (mut failed, mut first_error) = (0usize, None);
    let chunk = total.div_ceil(args.steps);
    let mut connect_all_ms = 0.0;
    for step in order.chunks(chunk) {
        let mut specs = Vec::with_capacity(step.len());
        let mut docs = Vec::with_capacity(step.len());
        for &(b, c) in step {
            let (doc, reader) = reading_doc(&rec);
            docs.push((doc.clone(), b, c));
            specs.push(target.options(&target.board(b)).doc(doc).listener(listener(&counters, Some(reader))));
        }
        let t0 = Instant::now();
        let (got, f, e) = connect_all(specs, args.common.connect_concurrency, &connect_times).await;
        connect_all_ms += t0.elapsed().as_secs_f64() * 1000.0;
        failed += f;
        if first_error.is_none() {
            first_error = e;
        }
        let phase = random_u32() as u64;
        if let Ok(mut ws) = writers.lock() {
            for (i, (client, (doc, b, c))) in got.into_iter().zip(docs).enumerate() {
                let Some(client) = client else { continue };
                connected_per_board[b].fetch_add(1, Ordering::Relaxed);
                let offset = period.mul_f64(((phase + i as u64 * 7919) % 1000) as f64 / 1000.0);
                let notes = doc.get_or_insert_map("notes");
                ws.push(Writer {
                    doc,
                    notes,
                    key: format!("note-{c}"),
                    board: b,
                    next: Instant::now() + offset,
                });
                clients.push(client);
            }
        }
        tokio::time::sleep(Duration::from_secs(args.step_secs)).await;
        if let Some(rss) = server.and_then(|p| p.rss_kb()) {
            points.push((clients.len(), rss));
        }
    }
    if clients.is_empty() {
        bail!("no client could connect: {}", first_error.unwrap_or_default());
    }

    tokio::time::sleep(Duration::from_secs(args.warmup_secs)).await;
    rec.open_window();
    let cpu = (server.map(CpuWindow::start), CpuWindow::start(Proc::Myself));
    let scrape = MetricsWindow::start(args.common.metrics_url.as_deref());
    let window_start = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.secs)).await;
    rec.close_window();
    let window_secs = window_start.elapsed().as_secs_f64();
    let server_report = server_json(server, cpu.0.as_ref());
    let generator_report = generator_json(&cpu.1);
    let server_metrics = scrape.finish().await;
    stop.store(true, Ordering::Relaxed);
    let _ = scheduler.await;

    let expected = expected.load(Ordering::Relaxed);
    let drain_end = Instant::now() + Duration::from_secs(args.drain_secs);
    while rec.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let fit = least_squares(&points.iter().map(|&(n, kb)| (n as f64, kb as f64)).collect::<Vec<_>>());
    let sent = sent.load(Ordering::Relaxed);
    let report = json!({
        "scenario": "rooms",
        "params": {
            "url_template": args.common.url_template,
            "board_prefix": target.prefix,
            "boards": args.boards,
            "clients": args.clients,
            "rate": args.rate,
            "secs": args.secs,
            "warmup_secs": args.warmup_secs,
            "steps": args.steps,
            "step_secs": args.step_secs,
            "ramp": format!("{:?}", args.ramp).to_lowercase(),
        },
        "connected": clients.len(),
        "connect_errors": failed,
        "first_error": first_error,
        "connect_sync_ms": connect_times.summary(),
        "connect_all_ms": r2(connect_all_ms),
        "sent": sent,
        "achieved_rate": r2(sent as f64 / window_secs),
        "expected": expected,
        "delivered": rec.delivered.load(Ordering::Relaxed),
        "latency_ms": rec.latency.summary(),
        "window_secs": r2(window_secs),
        "rss": {
            "baseline_kb": baseline_kb,
            "points": points.iter().map(|&(n, kb)| json!({"connections": n, "rss_kb": kb})).collect::<Vec<_>>(),
            "kb_per_connection": fit.map(|(slope, _)| r2(slope)),
            "intercept_kb": fit.map(|(_, intercept)| r2(intercept)),
        },
        "server": server_report,
        "server_metrics": server_metrics,
        "generator": generator_report,
        "errors": counters.json(),
    });
    drop(writers);
    close_all(clients).await;
    Ok(report)
}
