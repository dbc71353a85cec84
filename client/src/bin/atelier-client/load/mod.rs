//! The load generator: scenarios against a server on this machine, one JSON line of results each.
//!
//! Every connection is a real [`atelier_client::Client`] (one task each, small buffers). Writers
//! embed their send time in each note (`t`, microseconds since the generator's epoch) and readers
//! measure delivery latency from it when their map observer sees the value.

mod cold;
mod crowd;
mod fanout;
mod ingest;
mod join_storm;
mod reader;
mod rooms;
mod server_metrics;
pub mod stats;

use std::collections::HashMap;
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use atelier_client::{Api, Client, ClientOptions, Event};
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use yrs::types::map::MapEvent;
use yrs::types::EntryChange;
use yrs::{Any, Doc, Map, MapRef, Observable, Out, Transact, TransactionMut};

use stats::{now_us, CpuWindow, Latency, Proc};

#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// One board, many subscribers, one writer at a fixed rate: delivery latency.
    Fanout(fanout::FanoutArgs),
    /// Many boards with a few writing clients each: connect time, latency, RSS per connection.
    Rooms(rooms::RoomsArgs),
    /// Boards with many updates, loaded by a fresh client after a server restart.
    Cold(cold::ColdArgs),
    /// Writers sending as fast as the server accepts: updates per second seen by a subscriber.
    Ingest(ingest::IngestArgs),
    /// One large board, many clients joining at once: time to synced, server peak RSS.
    JoinStorm(join_storm::JoinStormArgs),
    /// One board, hundreds of participants moving cursors and posting signals (a public evening).
    Crowd(crowd::CrowdArgs),
}

impl LoadArgs {
    fn common(&self) -> &Common {
        match &self.scenario {
            Scenario::Fanout(a) => &a.common,
            Scenario::Rooms(a) => &a.common,
            Scenario::Cold(a) => &a.common,
            Scenario::Ingest(a) => &a.common,
            Scenario::JoinStorm(a) => &a.common,
            Scenario::Crowd(a) => &a.common,
        }
    }

    /// Runtime worker threads.
    pub fn threads(&self) -> usize {
        self.common()
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
            .clamp(1, 64)
    }
}

/// Options shared by every scenario.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The board URL template: `{board}` is replaced by each board id. Only loopback hosts.
    #[arg(long, visible_alias = "url", default_value = "ws://127.0.0.1:8080/ws/{board}")]
    pub url_template: String,
    /// Token sent as `?token=` (and as the bearer token of --api); empty: none.
    #[arg(long, env = "ATELIER_TOKEN", default_value = "")]
    pub token: String,
    /// Atelier's HTTP address (`http://127.0.0.1:8080`): boards are created through its REST
    /// API, in a project named after the board prefix (existing ones with the same titles are
    /// reused), and their ids are used in the URL template. Needs --token or --email/--password.
    #[arg(long)]
    pub api: Option<String>,
    /// Log in with this account (with --api) instead of giving --token.
    #[arg(long, requires = "api")]
    pub email: Option<String>,
    /// The password of --email.
    #[arg(long, env = "ATELIER_PASSWORD", requires = "email")]
    pub password: Option<String>,
    /// Extra query string, e.g. `token=x` for servers that want one in another form.
    #[arg(long)]
    pub query: Option<String>,
    /// Board ids are `PREFIX-N` (default: the scenario name and a random suffix; `cold`
    /// defaults to `cold` so that --prepare-only and --measure-only find the same boards).
    #[arg(long)]
    pub board_prefix: Option<String>,
    /// The server's process id: report its CPU (% of one core) and memory (KB).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// The server's Prometheus endpoint (Atelier's `--metrics-listen`, e.g.
    /// `http://127.0.0.1:9090/metrics`): report its own timings over the measured window
    /// (`server_metrics`: edit latency inside the server, commits, checkpoints, joins).
    #[arg(long)]
    pub metrics_url: Option<String>,
    /// Tokio worker threads of the generator (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Connections opening at the same time.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Do not opt in to Atelier's saved extension (for other servers); preparation then waits
    /// for a sync round trip instead of the saved acknowledgement.
    #[arg(long)]
    pub no_saved: bool,
    /// Hard limit on the whole run, in seconds.
    #[arg(long, default_value_t = 900)]
    pub max_secs: u64,
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let common = args.common().clone();
    check_loopback(&common.url_template)?;
    if let Some(api) = &common.api {
        let ws = api.strip_prefix("http://").map(|rest| format!("ws://{rest}"));
        check_loopback(&ws.context("--api must start with http://")?)?;
    }
    if let Some(pid) = common.server_pid {
        if !Proc::Pid(pid).exists() {
            bail!("--server-pid {pid}: no such process");
        }
    }
    let limit = Duration::from_secs(common.max_secs.max(1));
    let run = async {
        match args.scenario {
            Scenario::Fanout(a) => fanout::run(a).await,
            Scenario::Rooms(a) => rooms::run(a).await,
            Scenario::Cold(a) => cold::run(a).await,
            Scenario::Ingest(a) => ingest::run(a).await,
            Scenario::JoinStorm(a) => join_storm::run(a).await,
            Scenario::Crowd(a) => crowd::run(a).await,
        }
    };
    let report = tokio::time::timeout(limit, run)
        .await
        .with_context(|| format!("the run exceeded --max-secs {}", limit.as_secs()))??;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Refuses any target that is not on this machine's loopback interface.
fn check_loopback(template: &str) -> anyhow::Result<()> {
    let rest = template.strip_prefix("ws://").context("the URL template must start with ws://")?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').context("unterminated [ in the URL host")?;
        (host, after.strip_prefix(':').unwrap_or("80"))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (authority, "80"),
        }
    };
    let port: u16 = port.parse().with_context(|| format!("bad port in {authority:?}"))?;
    let addrs: Vec<_> =
        (host, port).to_socket_addrs().with_context(|| format!("cannot resolve {host:?}"))?.collect();
    if addrs.is_empty() || !addrs.iter().all(|a| a.ip().is_loopback()) {
        bail!(
            "the load generator only targets loopback addresses (127.0.0.0/8, ::1, localhost), not {host:?}"
        );
    }
    Ok(())
}

/// Where the scenario connects.
#[derive(Debug, Clone)]
pub struct Target {
    pub common: Common,
    pub prefix: String,
    token: String,
    /// Board ids created or found through --api; `PREFIX-N` otherwise.
    boards: Option<Vec<String>>,
}

impl Target {
    /// Resolves the token and, with --api, the ids of `count` boards.
    pub async fn prepare(
        common: &Common,
        scenario: &str,
        fixed_default: bool,
        count: usize,
    ) -> anyhow::Result<Self> {
        let prefix = common.board_prefix.clone().unwrap_or_else(|| {
            if fixed_default {
                scenario.to_owned()
            } else {
                format!("{scenario}-{:08x}", random_u32())
            }
        });
        let mut target = Self { common: common.clone(), prefix, token: common.token.clone(), boards: None };
        let Some(url) = &common.api else { return Ok(target) };
        let mut api = Api::new(url)?;
        match (&common.email, &common.password) {
            (Some(email), Some(password)) => {
                target.token = api.login(email, password).await.context("logging in")?;
            }
            (Some(_), None) => bail!("--email needs --password (or ATELIER_PASSWORD)"),
            _ if common.token.is_empty() => bail!("--api needs --token or --email/--password"),
            _ => api = api.with_token(common.token.clone()),
        }
        let projects = api.projects().await.context("listing projects")?;
        let project = match projects.iter().find(|p| p["name"] == target.prefix.as_str()) {
            Some(p) => p["id"].as_str().context("a project without id")?.to_owned(),
            None => api.create_project(&target.prefix).await.context("creating the project")?,
        };
        let existing: HashMap<String, String> = api
            .boards(&project)
            .await
            .context("listing boards")?
            .into_iter()
            .filter_map(|b| Some((b["title"].as_str()?.to_owned(), b["id"].as_str()?.to_owned())))
            .collect();
        let mut ids = Vec::with_capacity(count);
        for i in 0..count {
            let title = format!("{}-{i}", target.prefix);
            let id = match existing.get(&title) {
                Some(id) => id.clone(),
                None => api.create_board(&project, &title, "free").await.context("creating a board")?,
            };
            ids.push(id);
        }
        target.boards = Some(ids);
        Ok(target)
    }

    pub fn board(&self, i: usize) -> String {
        match &self.boards {
            Some(ids) => ids.get(i).cloned().unwrap_or_default(),
            None => format!("{}-{i}", self.prefix),
        }
    }

    /// Options for a load connection: no presence, small read buffer, reconnect on.
    pub fn options(&self, board: &str) -> ClientOptions {
        let mut opts = ClientOptions::new(self.common.url_template.clone(), board)
            .saved_extension(!self.common.no_saved)
            .presence(None)
            .read_buffer_size(4096);
        if !self.token.is_empty() {
            opts = opts.token(self.token.clone());
        }
        if let Some(q) = &self.common.query {
            opts = opts.query(q.clone());
        }
        opts
    }

    pub fn server(&self) -> Option<Proc> {
        self.common.server_pid.map(Proc::Pid)
    }

    /// Waits until everything `client` wrote is on the server: the saved acknowledgement, or
    /// a sync round trip with --no-saved.
    pub async fn settle(&self, client: &Client, timeout: Duration) -> anyhow::Result<()> {
        let wait = async {
            if self.common.no_saved {
                client.flush().await
            } else {
                client.wait_saved().await
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(r) => r.context("the connection ended before the server confirmed the writes"),
            Err(_) if !self.common.no_saved && !client.state().saved_supported => bail!(
                "no saved acknowledgement within {}s: the server may not have the saved extension (use --no-saved)",
                timeout.as_secs()
            ),
            Err(_) => bail!("the server did not confirm the writes within {}s", timeout.as_secs()),
        }
    }
}

/// Opens a raw socket to `url`, sends an empty sync step 1 and returns how long it took until a
/// whole sync step 2 message (`[0, 1, ...]`) had arrived, without decoding it: what the server
/// takes to deliver, whatever the generator's CPU. None if none arrived within 120 s.
pub async fn receive_step2(url: String) -> Option<Duration> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
    use tokio_tungstenite::tungstenite::Message;
    let start = Instant::now();
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(1 << 30);
    config.max_frame_size = Some(1 << 30);
    let run = async {
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), false).await.ok()?;
        // [sync, step 1, length 1, empty state vector]
        ws.send(Message::Binary(vec![0u8, 0, 1, 0].into())).await.ok()?;
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Binary(frame) = msg {
                if frame.starts_with(&[0, 1]) {
                    let elapsed = start.elapsed();
                    let _ = ws.close(None).await;
                    return Some(elapsed);
                }
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(120), run).await.ok().flatten()
}

/// A document that counts the bytes of the updates its local transactions produce.
pub fn counting_doc() -> anyhow::Result<(Doc, Arc<AtomicU64>)> {
    let doc = atelier_client::new_doc();
    let written = Arc::new(AtomicU64::new(0));
    let w = written.clone();
    doc.observe_update_v1("load-bytes", move |_, e| {
        w.fetch_add(e.update.len() as u64, Ordering::Relaxed);
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((doc, written))
}

pub fn random_u32() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

/// Counters shared by the connections of a run (filled by their listeners).
#[derive(Debug, Default)]
pub struct Counters {
    pub disconnects: AtomicU64,
    pub resyncs: AtomicU64,
    pub denied: AtomicU64,
    pub last_close: std::sync::Mutex<Option<String>>,
}

impl Counters {
    pub fn json(&self) -> Value {
        json!({
            "disconnects": self.disconnects.load(Ordering::Relaxed),
            "resyncs": self.resyncs.load(Ordering::Relaxed),
            "permission_denied": self.denied.load(Ordering::Relaxed),
            "last_close": self.last_close.lock().ok().and_then(|c| c.clone()),
        })
    }
}

/// What readers record: latency of values sent within the window, and how many were delivered.
pub struct Recorder {
    pub latency: Latency,
    pub delivered: AtomicU64,
    window_start: AtomicI64,
    window_end: AtomicI64,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            latency: Latency::new(),
            delivered: AtomicU64::new(0),
            window_start: AtomicI64::new(i64::MAX),
            window_end: AtomicI64::new(i64::MAX),
        })
    }

    /// Count values sent from now on.
    pub fn open_window(&self) -> i64 {
        let now = now_us();
        self.window_start.store(now, Ordering::SeqCst);
        now
    }

    /// Stop counting values sent from now on (later deliveries of earlier values still count).
    pub fn close_window(&self) -> i64 {
        let now = now_us();
        self.window_end.store(now, Ordering::SeqCst);
        now
    }

    pub fn in_window(&self, t: i64) -> bool {
        t >= self.window_start.load(Ordering::Relaxed) && t < self.window_end.load(Ordering::Relaxed)
    }

    fn seen(&self, t: i64, now: i64) {
        if self.in_window(t) {
            self.latency.record_us(now - t);
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One reader's state: its recorder, and whether its first sync is done (values arriving in
/// the initial sync are not deliveries).
pub struct Reader {
    pub synced: AtomicBool,
}

/// A document whose `notes` map reports every remote value with a `t` to `rec`.
pub fn reading_doc(rec: &Arc<Recorder>) -> (Doc, Arc<Reader>) {
    let doc = atelier_client::new_doc();
    let notes = doc.get_or_insert_map("notes");
    let reader = Arc::new(Reader { synced: AtomicBool::new(false) });
    let (rec, me) = (rec.clone(), reader.clone());
    notes.observe("load", move |txn: &TransactionMut, event: &MapEvent| {
        // Local edits have no origin; the client applies remote ones with its own origin.
        if txn.origin().is_none() || !me.synced.load(Ordering::Relaxed) {
            return;
        }
        let now = now_us();
        for change in event.keys(txn).values() {
            if let EntryChange::Inserted(v) | EntryChange::Updated(_, v) = change {
                if let Some(t) = sent_at(v) {
                    rec.seen(t, now);
                }
            }
        }
    });
    (doc, reader)
}

/// A listener that counts disconnects and marks the reader synced.
pub fn listener(counters: &Arc<Counters>, reader: Option<Arc<Reader>>) -> atelier_client::Listener {
    let counters = counters.clone();
    Arc::new(move |event: &Event| match event {
        Event::Synced { .. } => {
            if let Some(r) = &reader {
                if r.synced.swap(true, Ordering::Relaxed) {
                    counters.resyncs.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        // A lost connection, or the end of a client that we did not close ourselves.
        Event::Disconnected { close, .. } | Event::Closed(close)
            if matches!(event, Event::Disconnected { .. }) || close.code != Some(1000) =>
        {
            counters.disconnects.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut last) = counters.last_close.lock() {
                *last = Some(format!("{:?} {}", close.code, close.reason));
            }
        }
        Event::PermissionDenied { .. } => {
            counters.denied.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    })
}

/// A sticky note position with its send time: `{x, y, t}`.
pub fn note(x: i64, y: i64, t: i64) -> Any {
    Any::from(HashMap::from([
        ("x".to_owned(), Any::from(x)),
        ("y".to_owned(), Any::from(y)),
        ("t".to_owned(), Any::from(t)),
    ]))
}

/// The `t` of a note value.
pub fn sent_at(v: &Out) -> Option<i64> {
    let Out::Any(Any::Map(m)) = v else { return None };
    match m.get("t")? {
        Any::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Sets one note in its own transaction (one update, one message).
pub fn set_note(doc: &Doc, notes: &MapRef, key: &str, value: Any) {
    let mut txn = doc.transact_mut();
    notes.insert(&mut txn, key, value);
}

/// Connects every client (at most `concurrency` at a time), recording each connect+sync time.
/// Returns the clients in order (`None` for failures), how many failed and the first error.
pub async fn connect_all(
    specs: Vec<ClientOptions>,
    concurrency: usize,
    times: &Arc<Latency>,
) -> (Vec<Option<Client>>, usize, Option<String>) {
    let connects =
        specs.into_iter().map(|opts| async move { Client::connect(opts).await.map_err(|e| e.to_string()) });
    connect_bounded(connects, concurrency, times).await
}

/// Runs each connect (a future that resolves once synced), at most `concurrency` at a time and
/// each within 60 s, recording the time each took from its turn to its sync. Returns the
/// connections in order (`None` for failures), how many failed and the first error.
pub async fn connect_bounded<T, F>(
    connects: impl IntoIterator<Item = F>,
    concurrency: usize,
    times: &Arc<Latency>,
) -> (Vec<Option<T>>, usize, Option<String>)
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, String>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, connect) in connects.into_iter().enumerate() {
        let (gate, times) = (gate.clone(), times.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let start = Instant::now();
            let result = match tokio::time::timeout(Duration::from_secs(60), connect).await {
                Ok(Ok(conn)) => {
                    times.record(start.elapsed());
                    Ok(conn)
                }
                Ok(Err(e)) => Err(e),
                Err(_) => Err("no sync within 60s".to_owned()),
            };
            (i, result)
        });
    }
    let mut out: Vec<Option<T>> = Vec::new();
    let mut failed = 0;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = match joined {
            Ok(done) => done,
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e.to_string());
                continue;
            }
        };
        if out.len() <= i {
            out.resize_with(i + 1, || None);
        }
        match result {
            Ok(conn) => out[i] = Some(conn),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    (out, failed, first_error)
}

/// Closes every client, a bounded number at a time, within a few seconds.
pub async fn close_all(clients: impl IntoIterator<Item = Client>) {
    let mut tasks = tokio::task::JoinSet::new();
    for c in clients {
        tasks.spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(2), c.close()).await;
        });
    }
    let _ =
        tokio::time::timeout(Duration::from_secs(5), async { while tasks.join_next().await.is_some() {} })
            .await;
}

/// The `server` object of a report.
pub fn server_json(proc: Option<Proc>, cpu: Option<&CpuWindow>) -> Value {
    let Some(proc) = proc else { return Value::Null };
    let (rss, hwm) = proc.memory_kb().unzip();
    json!({
        "pid": match proc { Proc::Pid(p) => Some(p), Proc::Myself => None },
        "cpu_pct": cpu.and_then(|c| c.percent()),
        "rss_kb": rss,
        "hwm_kb": hwm,
    })
}

/// The `generator` object of a report.
pub fn generator_json(cpu: &CpuWindow) -> Value {
    let (rss, hwm) = Proc::Myself.memory_kb().unzip();
    json!({ "cpu_pct": cpu.percent(), "rss_kb": rss, "hwm_kb": hwm })
}

/// Samples a process's RSS every 20 ms until dropped; `peak()` is the largest seen.
pub struct PeakRss {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    pub fn start(proc: Proc) -> Self {
        let peak = Arc::new(AtomicU64::new(proc.rss_kb().unwrap_or(0)));
        let p = peak.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tick.tick().await;
                if let Some(rss) = proc.rss_kb() {
                    p.fetch_max(rss, Ordering::Relaxed);
                }
            }
        });
        Self { peak, task }
    }

    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for PeakRss {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(check_loopback("ws://127.0.0.1:8080/ws/{board}").is_ok());
        assert!(check_loopback("ws://127.1.2.3/{board}").is_ok());
        assert!(check_loopback("ws://[::1]:1234/{board}").is_ok());
        assert!(check_loopback("ws://localhost:1234/{board}").is_ok());
        assert!(check_loopback("ws://10.0.0.1:8080/ws").is_err());
        assert!(check_loopback("ws://192.168.1.1/ws").is_err());
        assert!(check_loopback("http://127.0.0.1/ws").is_err());
    }

    #[test]
    fn notes_carry_their_send_time() {
        let doc = atelier_client::new_doc();
        let notes = doc.get_or_insert_map("notes");
        set_note(&doc, &notes, "n1", note(10, 20, 123_456_789_012));
        let txn = doc.transact();
        let v = notes.get(&txn, "n1").unwrap();
        assert_eq!(sent_at(&v), Some(123_456_789_012));
    }
}
