//! `fanout`: one board, S subscribers, one writer moving sticky notes at R updates/s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use atelier_client::Client;
use clap::Args;
use serde_json::{json, Value};
use tokio::time::sleep_until;

use super::reader::{self, Sent};
use super::server_metrics::MetricsWindow;
use super::stats::{now_us, r2, CpuWindow, Latency, Proc};
use super::{
    close_all, connect_all, generator_json, listener, note, reading_doc, server_json, set_note, Common,
    Counters, Recorder, Target,
};

#[derive(Debug, Args)]
pub struct FanoutArgs {
    #[command(flatten)]
    pub common: Common,
    /// Subscribers on the board.
    #[arg(long, default_value_t = 200)]
    subscribers: usize,
    /// Writer updates per second.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// How long the writer writes, warm-up included.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Updates sent during the first seconds are not measured.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Distinct notes the writer moves in turn.
    #[arg(long, default_value_t = 100)]
    notes: usize,
    /// How long to wait for late deliveries after the writer stops.
    #[arg(long, default_value_t = 3)]
    drain_secs: u64,
    /// Subscribers that only read: raw connections that sync, then time each update from the
    /// writer's clock in the relayed frame without applying it (full clients integrate every
    /// update into a yrs document of their own, which can saturate the generator's core first).
    #[arg(long)]
    receive_only: bool,
}

pub async fn run(args: FanoutArgs) -> anyhow::Result<Value> {
    if args.subscribers == 0 || args.subscribers > 20_000 {
        bail!("--subscribers must be between 1 and 20000");
    }
    if !(args.rate > 0.0 && args.rate <= 100_000.0) {
        bail!("--rate must be between 0 and 100000 updates/s");
    }
    if args.secs == 0 || args.secs > 3600 || args.warmup_secs >= args.secs {
        bail!("--secs must be at most 3600 and longer than --warmup-secs");
    }
    let target = Target::prepare(&args.common, "fanout", false, 1).await?;
    let board = target.board(0);
    let counters = Arc::new(Counters::default());
    let rec = Recorder::new();
    let connect_times = Arc::new(Latency::new());

    let wdoc = atelier_client::new_doc();
    let log = Sent::new(&wdoc);
    let t0 = Instant::now();
    let (subs, readers, failed, first_error) = if args.receive_only {
        let url = target.options(&board).url()?;
        let concurrency = args.common.connect_concurrency;
        let (readers, failed, first_error) =
            reader::connect(&url, args.subscribers, concurrency, &log, &rec, &counters, &connect_times).await;
        (Vec::new(), readers, failed, first_error)
    } else {
        let specs = (0..args.subscribers)
            .map(|_| {
                let (doc, reader) = reading_doc(&rec);
                target.options(&board).doc(doc).listener(listener(&counters, Some(reader)))
            })
            .collect();
        let (subs, failed, first_error) =
            connect_all(specs, args.common.connect_concurrency, &connect_times).await;
        let subs: Vec<Client> = subs.into_iter().flatten().collect();
        (subs, Vec::new(), failed, first_error)
    };
    let connect_all_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let connected = subs.len() + readers.len();
    if connected == 0 {
        bail!("no subscriber could connect: {}", first_error.unwrap_or_default());
    }

    let (update_bytes, updates) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    {
        let (b, n) = (update_bytes.clone(), updates.clone());
        wdoc.observe_update_v1("load-bytes", move |_, e| {
            b.fetch_add(e.update.len() as u64, Ordering::Relaxed);
            n.fetch_add(1, Ordering::Relaxed);
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let writer = tokio::time::timeout(
        Duration::from_secs(60),
        Client::connect(target.options(&board).doc(wdoc.clone()).listener(listener(&counters, None))),
    )
    .await
    .context("the writer did not sync within 60s")?
    .context("the writer cannot connect")?;
    let notes = wdoc.get_or_insert_map("notes");
    let keys: Vec<String> = (0..args.notes.max(1)).map(|i| format!("note-{i}")).collect();

    let server = target.server();
    let period = Duration::from_secs_f64(1.0 / args.rate);
    let start = Instant::now();
    let warm_end = start + Duration::from_secs(args.warmup_secs);
    let end = start + Duration::from_secs(args.secs);
    let (mut sent, mut sent_total, mut i) = (0u64, 0u64, 0u64);
    let mut windows: Option<(Option<CpuWindow>, CpuWindow)> = None;
    let mut scrape = None;
    let mut next = start;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if windows.is_none() && now >= warm_end {
            rec.open_window();
            windows = Some((server.map(CpuWindow::start), CpuWindow::start(Proc::Myself)));
            scrape = Some(MetricsWindow::start(args.common.metrics_url.as_deref()));
        }
        if now < next {
            let wake = if windows.is_none() { next.min(warm_end) } else { next };
            sleep_until(wake.min(end).into()).await;
            continue;
        }
        let key = &keys[(i as usize) % keys.len()];
        let (x, y) = ((i * 37 % 1600) as i64, (i * 91 % 900) as i64);
        let t = now_us();
        set_note(&wdoc, &notes, key, note(x, y, t));
        if args.receive_only {
            log.record(&wdoc, t);
        }
        if rec.in_window(t) {
            sent += 1;
        }
        sent_total += 1;
        i += 1;
        next += period;
    }
    rec.close_window();
    let (server_cpu, gen_cpu) = windows.unzip();
    let server_report = server_json(server, server_cpu.flatten().as_ref());
    let generator_report = gen_cpu.map(|c| generator_json(&c)).unwrap_or(Value::Null);
    let server_metrics = match scrape {
        Some(scrape) => scrape.finish().await,
        None => Value::Null,
    };
    let window_secs = (end - warm_end).as_secs_f64();

    let expected = sent * connected as u64;
    let drain_end = Instant::now() + Duration::from_secs(args.drain_secs);
    while rec.delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered = rec.delivered.load(Ordering::Relaxed);
    let n = updates.load(Ordering::Relaxed).max(1);
    let report = json!({
        "scenario": "fanout",
        "params": {
            "url_template": args.common.url_template,
            "board": board,
            "subscribers": args.subscribers,
            "rate": args.rate,
            "secs": args.secs,
            "warmup_secs": args.warmup_secs,
            "notes": args.notes,
            "receive_only": args.receive_only,
        },
        "connected": connected,
        "connect_errors": failed,
        "first_error": first_error,
        "sent": sent,
        "sent_total": sent_total,
        "achieved_rate": r2(sent as f64 / window_secs),
        "expected": expected,
        "delivered": delivered,
        "latency_ms": rec.latency.summary(),
        "connect_sync_ms": connect_times.summary(),
        "connect_all_ms": r2(connect_all_ms),
        "update_bytes_avg": r2(update_bytes.load(Ordering::Relaxed) as f64 / n as f64),
        "window_secs": r2(window_secs),
        "server": server_report,
        "server_metrics": server_metrics,
        "generator": generator_report,
        "errors": counters.json(),
    });
    close_all(subs.into_iter().chain(std::iter::once(writer))).await;
    let closing: Vec<_> = readers.into_iter().map(|r| tokio::spawn(r.close())).collect();
    for c in closing {
        let _ = c.await;
    }
    Ok(report)
}
