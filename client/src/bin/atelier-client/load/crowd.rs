//! `crowd`: one board, many participants at once (a public evening on a radar board): each
//! moves their cursor at a fixed rate and posts a few signals (notes) during the window.
//! Reports cursor (presence) and signal delivery latency, presence frames per receiver, and the
//! server's CPU and RSS. Relayed one by one, 500 cursors at 1 Hz would be 250,000 frames a
//! second; the server batches presence in large rooms.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use atelier_client::{Client, Event};
use clap::Args;
use serde_json::{json, Value};
use yrs::{Doc, MapRef};

use super::server_metrics::MetricsWindow;
use super::stats::{now_us, r2, CpuWindow, Latency, Proc};
use super::{
    close_all, connect_all, generator_json, listener, note, random_u32, reading_doc, server_json, set_note,
    Common, Counters, Recorder, Target,
};

#[derive(Debug, Args)]
pub struct CrowdArgs {
    #[command(flatten)]
    pub common: Common,
    /// Participants on the board.
    #[arg(long, default_value_t = 500)]
    participants: usize,
    /// Cursor moves per second per participant.
    #[arg(long, default_value_t = 1.0)]
    cursor_hz: f64,
    /// Signals (notes) each participant posts during the measured window.
    #[arg(long, default_value_t = 1)]
    signals: usize,
    /// Participants that also measure cursor latency (every participant receives everything).
    #[arg(long, default_value_t = 20)]
    observers: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Seconds of cursor traffic before measuring.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// How long to wait for late deliveries after the window.
    #[arg(long, default_value_t = 3)]
    drain_secs: u64,
}

struct Participant {
    client: Arc<Client>,
    doc: Doc,
    notes: MapRef,
    index: usize,
    next_move: Instant,
    /// When each of its signals is due (within the window), soonest last.
    signals: Vec<Instant>,
}

pub async fn run(args: CrowdArgs) -> anyhow::Result<Value> {
    let n = args.participants;
    if !(2..=5000).contains(&n) {
        bail!("--participants must be between 2 and 5000");
    }
    if !(args.cursor_hz > 0.0 && args.cursor_hz <= 60.0) {
        bail!("--cursor-hz must be between 0 and 60");
    }
    if args.secs == 0 || args.secs > 3600 || args.signals > 100 {
        bail!("--secs must be 1..3600 and --signals at most 100");
    }
    let target = Target::prepare(&args.common, "crowd", false, 1).await?;
    let board = target.board(0);
    let server = target.server();
    let counters = Arc::new(Counters::default());
    let rec = Recorder::new();
    let connect_times = Arc::new(Latency::new());

    let mut specs = Vec::with_capacity(n);
    let mut docs = Vec::with_capacity(n);
    for _ in 0..n {
        let (doc, reader) = reading_doc(&rec);
        docs.push(doc.clone());
        specs.push(target.options(&board).doc(doc).listener(listener(&counters, Some(reader))));
    }
    let t0 = Instant::now();
    let (got, failed, first_error) =
        connect_all(specs, args.common.connect_concurrency, &connect_times).await;
    let connect_all_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let mut participants = Vec::with_capacity(n);
    let period = Duration::from_secs_f64(1.0 / args.cursor_hz);
    let phase = u64::from(random_u32());
    for (index, (client, doc)) in got.into_iter().zip(docs).enumerate() {
        let Some(client) = client else { continue };
        let offset = period.mul_f64(((phase + index as u64 * 7919) % 1000) as f64 / 1000.0);
        let notes = doc.get_or_insert_map("notes");
        participants.push(Participant {
            client: Arc::new(client),
            doc,
            notes,
            index,
            next_move: Instant::now() + offset,
            signals: Vec::new(),
        });
    }
    if participants.len() < 2 {
        bail!("fewer than two participants connected: {}", first_error.unwrap_or_default());
    }
    let connected = participants.len() as u64;

    // Observers: cursor latency from the `t` in each changed peer state, and frames received.
    let stop = Arc::new(AtomicBool::new(false));
    let cursor_latency = Arc::new(Latency::new());
    let presence_events = Arc::new(AtomicU64::new(0));
    let cursor_updates = Arc::new(AtomicU64::new(0));
    let lagged = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let mut observers = tokio::task::JoinSet::new();
    for p in participants.iter().take(args.observers.min(participants.len())) {
        let client = p.client.clone();
        let mut events = client.subscribe();
        let (stop, latency, frames, updates, lagged, measuring) = (
            stop.clone(),
            cursor_latency.clone(),
            presence_events.clone(),
            cursor_updates.clone(),
            lagged.clone(),
            measuring.clone(),
        );
        observers.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let event = match tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
                    Ok(Ok(event)) => event,
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(k))) => {
                        lagged.fetch_add(k, Ordering::Relaxed);
                        continue;
                    }
                    Ok(Err(_)) => break,
                    Err(_) => continue,
                };
                let Event::Presence { added, updated, .. } = event else { continue };
                if !measuring.load(Ordering::Relaxed) {
                    continue;
                }
                let now = now_us();
                frames.fetch_add(1, Ordering::Relaxed);
                for id in added.iter().chain(&updated) {
                    let Some(t) = client.peer(*id).and_then(|s| s.get("t").and_then(Value::as_i64)) else {
                        continue;
                    };
                    updates.fetch_add(1, Ordering::Relaxed);
                    latency.record_us(now - t);
                }
            }
        });
    }

    // Everyone appears (first cursor), then the warm-up, then the measured window.
    let move_cursor = |p: &Participant, seq: u64| {
        let t = now_us();
        let x = ((p.index as u64 * 37 + seq * 13) % 1600) as i64;
        let y = ((p.index as u64 * 91 + seq * 7) % 900) as i64;
        let state = json!({"user": {"name": format!("Participant {}", p.index)}, "cursor": [x, y], "t": t});
        let _ = p.client.set_presence(state);
    };
    for p in &participants {
        move_cursor(p, 0);
    }
    let expected = Arc::new(AtomicU64::new(0));
    let posted = Arc::new(AtomicU64::new(0));
    let moves = Arc::new(AtomicU64::new(0));
    let window = Duration::from_secs(args.secs);
    let warmup = Duration::from_secs(args.warmup_secs);
    let start = Instant::now();
    let window_at = start + warmup;
    for p in &mut participants {
        // Spread each participant's signals over the window (not in its last 10 %).
        p.signals = (0..args.signals)
            .map(|k| {
                let spread = ((phase + p.index as u64 * 104_729 + k as u64 * 7_919) % 900) as f64 / 1000.0;
                window_at + window.mul_f64(spread)
            })
            .collect();
        p.signals.sort_unstable_by(|a, b| b.cmp(a));
    }
    let scheduler = {
        let (stop, rec, expected, posted, moves) =
            (stop.clone(), rec.clone(), expected.clone(), posted.clone(), moves.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(5));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let now = Instant::now();
                for p in participants.iter_mut() {
                    if p.next_move <= now {
                        seq += 1;
                        move_cursor(p, seq);
                        moves.fetch_add(1, Ordering::Relaxed);
                        p.next_move += period;
                        if p.next_move < now {
                            p.next_move = now + period;
                        }
                    }
                    while p.signals.last().is_some_and(|at| *at <= now) {
                        p.signals.pop();
                        let t = now_us();
                        let key = format!("signal-{}-{}", p.index, p.signals.len());
                        set_note(&p.doc, &p.notes, &key, note((seq % 1600) as i64, (seq % 900) as i64, t));
                        if rec.in_window(t) {
                            posted.fetch_add(1, Ordering::Relaxed);
                            expected.fetch_add(connected - 1, Ordering::Relaxed);
                        }
                    }
                }
            }
            participants
        })
    };

    tokio::time::sleep_until(window_at.into()).await;
    rec.open_window();
    measuring.store(true, Ordering::Relaxed);
    let moves_before = moves.load(Ordering::Relaxed);
    let cpu = (server.map(CpuWindow::start), CpuWindow::start(Proc::Myself));
    let scrape = MetricsWindow::start(args.common.metrics_url.as_deref());
    let window_start = Instant::now();
    tokio::time::sleep(window).await;
    measuring.store(false, Ordering::Relaxed);
    rec.close_window();
    let window_secs = window_start.elapsed().as_secs_f64();
    let server_report = server_json(server, cpu.0.as_ref());
    let server_metrics = scrape.finish().await;
    let generator_report = generator_json(&cpu.1);
    let moves_in_window = moves.load(Ordering::Relaxed) - moves_before;
    let expected = expected.load(Ordering::Relaxed);
    let drain_end = Instant::now() + Duration::from_secs(args.drain_secs);
    while rec.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let participants = scheduler.await?;
    while observers.join_next().await.is_some() {}

    let observer_count = args.observers.min(participants.len()) as f64;
    let frames = presence_events.load(Ordering::Relaxed) as f64;
    let report = json!({
        "scenario": "crowd",
        "params": {
            "url_template": args.common.url_template,
            "board_prefix": target.prefix,
            "participants": n,
            "cursor_hz": args.cursor_hz,
            "signals": args.signals,
            "observers": args.observers,
            "secs": args.secs,
            "warmup_secs": args.warmup_secs,
        },
        "connected": connected,
        "connect_errors": failed,
        "first_error": first_error,
        "connect_sync_ms": connect_times.summary(),
        "connect_all_ms": r2(connect_all_ms),
        "cursor_moves_per_sec": r2(moves_in_window as f64 / window_secs),
        "cursor_latency_ms": cursor_latency.summary(),
        "cursor_updates_seen": cursor_updates.load(Ordering::Relaxed),
        "presence_frames_per_receiver_per_sec": r2(frames / observer_count.max(1.0) / window_secs),
        "observer_events_lagged": lagged.load(Ordering::Relaxed),
        "signals_posted": posted.load(Ordering::Relaxed),
        "signal_expected": expected,
        "signal_delivered": rec.delivered.load(Ordering::Relaxed),
        "signal_latency_ms": rec.latency.summary(),
        "window_secs": r2(window_secs),
        "server": server_report,
        "server_metrics": server_metrics,
        "generator": generator_report,
        "errors": counters.json(),
    });
    let clients: Vec<Client> =
        participants.into_iter().filter_map(|p| Arc::try_unwrap(p.client).ok()).collect();
    close_all(clients).await;
    Ok(report)
}
