//! [`Client`]: one connection to one board, with its yrs document, presence, saved tracking and
//! reconnection.
//!
//! A client is a handle to a background task (one per client) that owns the WebSocket. Local
//! edits are captured by an `observe_update_v1` observer on the document (transactions whose
//! origin is the client's remote origin, i.e. updates it applied from the server, are skipped) and
//! sent by that task. No yrs transaction is ever held across an `.await`.

use std::collections::{BTreeMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{sleep_until, Instant, Sleep};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::sync::Awareness;
use yrs::{ClientID, Doc, Origin, ReadTxn, StateVector, Transact, Update};

use crate::options::redact;
use crate::protocol::{self, ServerMessage};
use crate::{ClientOptions, Error, Listener};

/// Presence of a peer not renewed for this long is dropped (the y-protocols `outdatedTimeout`).
const PRESENCE_TIMEOUT_MS: u64 = 30_000;
/// Our own presence is renewed this often, so peers and the server do not expire it.
const PRESENCE_RENEW: Duration = Duration::from_secs(15);
/// How often presence renewal and expiry are checked.
const PRESENCE_TICK: Duration = Duration::from_secs(3);
/// Local updates written to the socket before a flush.
const SEND_BATCH: usize = 64;
/// How long a close handshake may take.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

static NEXT_CLIENT: AtomicU64 = AtomicU64::new(0);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where a client is in its connection life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Opening the socket (first time or reconnecting).
    Connecting,
    /// The socket is open; the initial sync is not done yet.
    Connected,
    /// The server's sync step 2 has been applied: the document holds the board.
    Synced,
    /// The connection was lost; a reconnect is scheduled.
    Disconnected,
    /// The client stopped for good (closed, final close code, or its first connection failed).
    Closed,
}

/// A snapshot of a client's connection state, from [`Client::state`] or [`Client::watch`].
#[derive(Debug, Clone)]
pub struct ConnectionState {
    /// The current status.
    pub status: Status,
    /// How many times a socket was opened.
    pub connections: u64,
    /// How many times the client synced (once per successful connection).
    pub syncs: u64,
    /// The committed clock of the document's client id, from the server's saved messages.
    pub committed_clock: u32,
    /// Whether the server sent at least one saved message (it has the saved extension).
    pub saved_supported: bool,
    /// Why the client is [`Status::Closed`], once it is.
    pub closed: Option<CloseInfo>,
}

/// Why a connection or the client ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// The WebSocket close code, when the server sent one.
    pub code: Option<u16>,
    /// The close reason or a description of the error.
    pub reason: String,
}

impl CloseInfo {
    fn is_final(&self) -> bool {
        self.code.is_some_and(is_final_code)
    }

    fn to_error(&self) -> Error {
        match self.code {
            Some(code) if is_final_code(code) => Error::Rejected { code, reason: self.reason.clone() },
            _ => Error::Closed(self.reason.clone()),
        }
    }
}

/// Close codes 4400–4499 are final decisions (revocation): never reconnect after them.
pub fn is_final_code(code: u16) -> bool {
    (4400..=4499).contains(&code)
}

/// Something that happened on a client, delivered by [`Client::subscribe`] and to the
/// [`Listener`] of [`ClientOptions::listener`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A socket opened.
    Connected,
    /// The server's sync step 2 was applied; `bytes` is its size.
    Synced {
        /// Size of the sync step 2 update.
        bytes: usize,
    },
    /// A remote update (relayed edit) was applied to the document.
    Remote {
        /// Size of the update.
        bytes: usize,
    },
    /// Peers' presence changed (Yjs client ids).
    Presence {
        /// Peers that appeared.
        added: Vec<u64>,
        /// Peers whose state changed.
        updated: Vec<u64>,
        /// Peers that left or expired.
        removed: Vec<u64>,
    },
    /// The server acknowledged committed state: `clock` is the committed clock of our client id.
    Saved {
        /// Committed clock of the document's client id.
        clock: u32,
    },
    /// The server refused something (y-protocols auth message), e.g. an edit while read-only.
    PermissionDenied {
        /// The server's reason.
        reason: String,
    },
    /// The connection ended; `reconnect_in` is the delay before the next attempt (`None`: none).
    Disconnected {
        /// Close code and reason.
        close: CloseInfo,
        /// Delay before reconnecting, if the client reconnects.
        reconnect_in: Option<Duration>,
    },
    /// The client stopped for good.
    Closed(CloseInfo),
}

enum Command {
    Presence,
    Barrier(oneshot::Sender<()>),
    Close(oneshot::Sender<()>),
}

struct Shared {
    doc: Doc,
    client_id: ClientID,
    board: String,
    awareness: Mutex<Awareness>,
    state: watch::Sender<ConnectionState>,
    events: broadcast::Sender<Event>,
    listener: Option<Listener>,
    /// Local updates that only deleted something. They do not advance the clock, so the saved
    /// extension cannot acknowledge them: a round trip confirms them instead.
    deletes: Arc<AtomicU64>,
    /// `deletes` as of the last successful round trip.
    deletes_confirmed: AtomicU64,
}

impl Shared {
    fn awareness(&self) -> MutexGuard<'_, Awareness> {
        self.awareness.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn emit(&self, event: Event) {
        if let Some(listener) = &self.listener {
            listener(&event);
        }
        let _ = self.events.send(event);
    }

    fn local_clock(&self) -> u32 {
        self.doc.transact().state_vector().get(&self.client_id)
    }
}

/// A connection to one board: a yrs [`Doc`] kept in sync with the server, presence, the saved
/// extension and automatic reconnection.
///
/// Edit [`Client::doc`] with ordinary yrs transactions; every local transaction is sent to the
/// server. Observe remote changes with yrs observers on the document or with
/// [`Client::subscribe`]. Dropping the client closes the connection in the background; prefer
/// [`Client::close`] to wait for it.
///
/// ```no_run
/// # async fn demo() -> Result<(), atelier_client::Error> {
/// use atelier_client::{Client, ClientOptions};
/// use yrs::{Map, Transact};
///
/// let client = Client::connect(ClientOptions::new("ws://127.0.0.1:8080/ws", "board-1").token("ada")).await?;
/// let notes = client.doc().get_or_insert_map("notes");
/// {
///     let mut txn = client.doc().transact_mut();
///     notes.insert(&mut txn, "n1", "hello");
/// } // the transaction ends here, before any .await
/// client.wait_saved().await?;
/// client.close().await?;
/// # Ok(()) }
/// ```
pub struct Client {
    shared: Arc<Shared>,
    cmds: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("board", &self.shared.board)
            .field("client_id", &self.shared.client_id.get())
            .field("status", &self.status())
            .finish()
    }
}

impl Client {
    /// Connects and waits for the initial sync. Fails if the first connection cannot be opened
    /// or ends before it synced (no retry); once synced, the client reconnects as configured.
    ///
    /// Must be called within a Tokio runtime.
    pub async fn connect(opts: ClientOptions) -> Result<Client, Error> {
        let (client, first) = Self::spawn(opts, true)?;
        match first.await {
            Ok(Ok(())) => Ok(client),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(client.closed_error()),
        }
    }

    /// Starts the client in the background and returns at once. It connects, and keeps
    /// reconnecting with backoff, until it is closed or gets a final close code. Use
    /// [`Client::wait_synced`] to wait for the first sync.
    ///
    /// Must be called within a Tokio runtime.
    pub fn start(opts: ClientOptions) -> Result<Client, Error> {
        Self::spawn(opts, false).map(|(client, _)| client)
    }

    fn spawn(
        opts: ClientOptions,
        fail_fast: bool,
    ) -> Result<(Client, oneshot::Receiver<Result<(), Error>>), Error> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Closed("a client must be started within a Tokio runtime".into()))?;
        let url = opts.url()?;
        let doc = opts.doc.clone().unwrap_or_else(crate::new_doc);
        let client_id = doc.client_id();
        let n = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
        let observer_key = format!("atelier-client-{n}");
        let remote_origin = Origin::from(format!("atelier-client-{n}-remote"));

        let (updates_tx, updates_rx) = mpsc::unbounded_channel();
        let skip = remote_origin.clone();
        let deletes = Arc::new(AtomicU64::new(0));
        let counted = deletes.clone();
        doc.observe_update_v1(observer_key.as_str(), move |txn, event| {
            // Runs inside the commit: only hand the bytes over, never open a transaction.
            if txn.origin() == Some(&skip) || event.update.len() <= 2 {
                return; // applied from the server, or an empty transaction (`[0, 0]`)
            }
            // A transaction that only deletes advances no clock: the saved extension cannot
            // acknowledge it (one that also inserts is acknowledged with its insertions).
            if txn.insert_set().is_empty() && !txn.delete_set().is_empty() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            let _ = updates_tx.send(event.update.clone());
        })
        .map_err(|e| Error::Observe(e.to_string()))?;

        let mut awareness = Awareness::new(doc.clone());
        if let Some(state) = &opts.presence {
            awareness.set_local_state_raw(serde_json::to_string(state)?);
        }
        let (state, _) = watch::channel(ConnectionState {
            status: Status::Connecting,
            connections: 0,
            syncs: 0,
            committed_clock: 0,
            saved_supported: false,
            closed: None,
        });
        let (events, _) = broadcast::channel(64);
        let shared = Arc::new(Shared {
            doc,
            client_id,
            board: opts.board.clone(),
            awareness: Mutex::new(awareness),
            state,
            events,
            listener: opts.listener.clone(),
            deletes,
            deletes_confirmed: AtomicU64::new(0),
        });
        let (cmds_tx, cmds_rx) = mpsc::unbounded_channel();
        let (first_tx, first_rx) = oneshot::channel();
        let driver = Driver {
            shared: shared.clone(),
            config: WebSocketConfig::default()
                .read_buffer_size(opts.read_buffer_size)
                .max_message_size(Some(opts.max_message_size))
                .max_frame_size(Some(opts.max_message_size)),
            opts,
            url,
            observer_key,
            remote_origin,
            cmds: cmds_rx,
            updates: updates_rx,
            barriers: Vec::new(),
            first: fail_fast.then_some(first_tx),
        };
        runtime.spawn(driver.run());
        Ok((Client { shared, cmds: cmds_tx }, first_rx))
    }

    /// The board's document. Edit it with yrs transactions; never hold one across an `.await`.
    pub fn doc(&self) -> &Doc {
        &self.shared.doc
    }

    /// The Yjs client id of the document (the one the server binds to this participant).
    pub fn client_id(&self) -> u64 {
        self.shared.client_id.get()
    }

    /// The board id.
    pub fn board(&self) -> &str {
        &self.shared.board
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.shared.state.borrow().status
    }

    /// A snapshot of the connection state.
    pub fn state(&self) -> ConnectionState {
        self.shared.state.borrow().clone()
    }

    /// A receiver that is notified on every change of the connection state.
    pub fn watch(&self) -> watch::Receiver<ConnectionState> {
        self.shared.state.subscribe()
    }

    /// A receiver of [`Event`]s (a lagging receiver loses the oldest ones).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// Whether the current connection is synced.
    pub fn is_synced(&self) -> bool {
        self.status() == Status::Synced
    }

    /// Waits until the current connection is synced (at once if it is). Fails once the client
    /// is closed.
    pub async fn wait_synced(&self) -> Result<(), Error> {
        let mut rx = self.shared.state.subscribe();
        let state = rx
            .wait_for(|s| matches!(s.status, Status::Synced | Status::Closed))
            .await
            .map_err(|_| Error::Closed("the client stopped".into()))?
            .clone();
        match state.closed {
            Some(close) if state.status == Status::Closed => Err(close.to_error()),
            _ => Ok(()),
        }
    }

    /// The clock of the document's client id: how many items this client has created.
    pub fn local_clock(&self) -> u32 {
        self.shared.local_clock()
    }

    /// The committed clock of the document's client id, as last acknowledged by the server.
    pub fn committed_clock(&self) -> u32 {
        self.shared.state.borrow().committed_clock
    }

    /// Whether every local edit is committed by the server (saved extension): the committed
    /// clock of our client id has reached the local clock. A transaction that only deletes does
    /// not advance the clock: after one, this stays false until [`Client::wait_saved`] or
    /// [`Client::flush`] has confirmed it with a round trip.
    pub fn saved(&self) -> bool {
        self.committed_clock() >= self.local_clock()
            && self.shared.deletes_confirmed.load(Ordering::SeqCst)
                >= self.shared.deletes.load(Ordering::SeqCst)
    }

    /// Waits until every edit made before the call is committed by the server. Needs the
    /// saved extension (Atelier): on other servers it waits forever, so use [`Client::flush`]
    /// there, or wrap this in a timeout. Resolves across reconnects; fails if the client is closed
    /// first.
    ///
    /// The saved extension acknowledges clocks, and a transaction that only deletes does not
    /// advance the clock: when there were such transactions since the last round trip, this
    /// also waits for one ([`Client::flush`]), which Atelier answers only after committing them.
    pub async fn wait_saved(&self) -> Result<(), Error> {
        let deletes = self.shared.deletes.load(Ordering::SeqCst);
        let target = self.local_clock();
        let mut rx = self.shared.state.subscribe();
        let state = rx
            .wait_for(|s| s.committed_clock >= target || s.status == Status::Closed)
            .await
            .map_err(|_| Error::Closed("the client stopped".into()))?
            .clone();
        if state.committed_clock >= target {
            if self.shared.deletes_confirmed.load(Ordering::SeqCst) < deletes {
                self.flush().await?;
            }
            return Ok(());
        }
        Err(state.closed.map(|c| c.to_error()).unwrap_or_else(|| Error::Closed("closed".into())))
    }

    /// Waits for a round trip: sends a sync step 1 and waits for the server's answer. Since a
    /// server answers messages in order, every edit made before the call has then been received
    /// and applied by the server (and, on Atelier, committed). Works on any y-websocket server.
    /// Survives reconnects (the next connection's handshake answers it).
    pub async fn flush(&self) -> Result<(), Error> {
        let deletes = self.shared.deletes.load(Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        self.cmds.send(Command::Barrier(tx)).map_err(|_| self.closed_error())?;
        rx.await.map_err(|_| self.closed_error())?;
        self.shared.deletes_confirmed.fetch_max(deletes, Ordering::SeqCst);
        Ok(())
    }

    /// Sets our presence state (any JSON value, e.g. `{"name": "Ada", "cursor": [10, 20]}`) and
    /// sends it.
    pub fn set_presence(&self, state: serde_json::Value) -> Result<(), Error> {
        let json = serde_json::to_string(&state)?;
        self.shared.awareness().set_local_state_raw(json);
        self.cmds.send(Command::Presence).map_err(|_| self.closed_error())
    }

    /// Removes our presence (peers see us leave) and sends the removal.
    pub fn clear_presence(&self) -> Result<(), Error> {
        self.shared.awareness().clean_local_state();
        self.cmds.send(Command::Presence).map_err(|_| self.closed_error())
    }

    /// Our presence state.
    pub fn presence(&self) -> Option<serde_json::Value> {
        let raw = self.shared.awareness().local_state_raw()?;
        serde_json::from_str(&raw).ok()
    }

    /// One peer's presence state (None: unknown, removed, or not valid JSON). Cheaper than
    /// [`Client::peers`] when a [`Event::Presence`] names a few ids among many.
    pub fn peer(&self, id: u64) -> Option<serde_json::Value> {
        self.shared.awareness().state(ClientID::new(id))
    }

    /// Peers' presence states by Yjs client id (ours excluded). A state that is not valid JSON
    /// shows as its raw string.
    pub fn peers(&self) -> BTreeMap<u64, serde_json::Value> {
        let awareness = self.shared.awareness();
        awareness
            .iter()
            .filter(|(id, _)| *id != self.shared.client_id)
            .filter_map(|(id, state)| {
                let raw = state.data?;
                let value =
                    serde_json::from_str(&raw).unwrap_or_else(|_| serde_json::Value::String(raw.to_string()));
                Some((id.get(), value))
            })
            .collect()
    }

    /// Closes the connection: removes our presence, sends a close frame, waits for the
    /// background task to stop.
    pub async fn close(self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        if self.cmds.send(Command::Close(tx)).is_ok() {
            let _ = rx.await;
        }
        Ok(())
    }

    fn closed_error(&self) -> Error {
        let state = self.shared.state.borrow();
        state
            .closed
            .as_ref()
            .map(CloseInfo::to_error)
            .unwrap_or_else(|| Error::Closed("the client stopped".into()))
    }
}

/// How a session (one open socket) ended.
enum End {
    /// The client was closed by its owner.
    Requested(Option<oneshot::Sender<()>>),
    /// The connection ended; `synced` tells whether it had synced.
    Lost { close: CloseInfo, synced: bool },
}

/// The background task of one client.
struct Driver {
    shared: Arc<Shared>,
    opts: ClientOptions,
    config: WebSocketConfig,
    url: String,
    observer_key: String,
    remote_origin: Origin,
    cmds: mpsc::UnboundedReceiver<Command>,
    updates: mpsc::UnboundedReceiver<Vec<u8>>,
    /// Round trips not sent yet: they wait until our sync step 2 went out on a connection (so
    /// the server has every local edit), then a sync step 1 is sent for them.
    barriers: Vec<oneshot::Sender<()>>,
    /// Set by [`Client::connect`]: the outcome of the first connection.
    first: Option<oneshot::Sender<Result<(), Error>>>,
}

async fn open(url: &str, config: WebSocketConfig, timeout: Duration) -> Result<Ws, Error> {
    let shown = redact(url);
    match tokio::time::timeout(timeout, tokio_tungstenite::connect_async_with_config(url, Some(config), true))
        .await
    {
        Err(_) => Err(Error::ConnectTimeout(shown)),
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(tungstenite::Error::Http(response))) => {
            Err(Error::Refused { url: shown, status: response.status().as_u16() })
        }
        Ok(Err(e)) => Err(Error::Connect { url: shown, error: Box::new(e) }),
    }
}

fn binary(frame: Vec<u8>) -> Message {
    Message::binary(frame)
}

impl Driver {
    async fn run(mut self) {
        let mut failures: u32 = 0;
        loop {
            self.shared.state.send_modify(|s| s.status = Status::Connecting);
            let opened = {
                let url = self.url.clone();
                let attempt = open(&url, self.config, self.opts.connect_timeout);
                tokio::pin!(attempt);
                loop {
                    tokio::select! {
                        result = &mut attempt => break result,
                        cmd = self.cmds.recv() => match cmd {
                            None => return self.finish(None, CloseInfo { code: None, reason: "client dropped".into() }),
                            Some(Command::Close(done)) => {
                                return self.finish(Some(done), CloseInfo { code: None, reason: "closed by the client".into() })
                            }
                            Some(Command::Barrier(tx)) => self.barriers.push(tx),
                            Some(Command::Presence) => {} // sent on open
                        }
                    }
                }
            };
            let close = match opened {
                Ok(ws) => match self.session(ws).await {
                    End::Requested(done) => {
                        return self.finish(
                            done,
                            CloseInfo { code: Some(1000), reason: "closed by the client".into() },
                        )
                    }
                    End::Lost { close, synced } => {
                        if synced {
                            failures = 0;
                        } else {
                            failures = failures.saturating_add(1);
                        }
                        close
                    }
                },
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let refused = matches!(e, Error::Refused { status: 401 | 403 | 404, .. });
                    if refused || self.first.is_some() {
                        let close = CloseInfo { code: None, reason: e.to_string() };
                        if let Some(first) = self.first.take() {
                            let _ = first.send(Err(e));
                        }
                        return self.finish(None, close);
                    }
                    CloseInfo { code: None, reason: e.to_string() }
                }
            };
            if close.is_final() || !self.opts.reconnect || self.first.is_some() {
                if let Some(first) = self.first.take() {
                    let _ = first.send(Err(close.to_error()));
                }
                return self.finish(None, close);
            }
            // Like the stock provider: 100 ms after a lost connection, doubled after each failed
            // attempt, capped.
            let delay =
                self.opts.backoff_initial.saturating_mul(1u32 << failures.min(16)).min(self.opts.backoff_max);
            self.shared.state.send_modify(|s| s.status = Status::Disconnected);
            self.shared.emit(Event::Disconnected { close, reconnect_in: Some(delay) });
            let wake = Instant::now() + delay;
            loop {
                tokio::select! {
                    _ = sleep_until(wake) => break,
                    cmd = self.cmds.recv() => match cmd {
                        None => return self.finish(None, CloseInfo { code: None, reason: "client dropped".into() }),
                        Some(Command::Close(done)) => {
                            return self.finish(Some(done), CloseInfo { code: None, reason: "closed by the client".into() })
                        }
                        Some(Command::Barrier(tx)) => self.barriers.push(tx),
                        Some(Command::Presence) => {}
                    },
                    // Edits made while offline are in the document: the next handshake's
                    // sync step 2 carries them, so their individual updates are not needed.
                    Some(_) = self.updates.recv() => {}
                }
            }
        }
    }

    fn finish(&mut self, done: Option<oneshot::Sender<()>>, close: CloseInfo) {
        let _ = self.shared.doc.unobserve_update_v1(self.observer_key.as_str());
        self.barriers.clear();
        if let Some(first) = self.first.take() {
            let _ = first.send(Err(close.to_error()));
        }
        self.shared.state.send_modify(|s| {
            s.status = Status::Closed;
            s.closed = Some(close.clone());
        });
        self.shared.emit(Event::Closed(close));
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    /// The awareness frame for our own state (or its removal).
    fn own_presence_frame(&self) -> Option<Vec<u8>> {
        let awareness = self.shared.awareness();
        awareness.meta(self.shared.client_id)?;
        let update = awareness.update_with_clients([self.shared.client_id]).ok()?;
        Some(protocol::awareness_frame(&update))
    }

    fn has_presence(&self) -> bool {
        self.shared.awareness().local_state_raw().is_some()
    }

    /// Our answer to the server's sync step 1: everything it lacks. Updates captured before the
    /// answer are in it, so they are dropped from the send queue while the read transaction
    /// keeps new ones from committing.
    fn answer_step1(&mut self, sv: &StateVector) -> Vec<u8> {
        let txn = self.shared.doc.transact();
        let diff = txn.encode_diff_v1(sv);
        while self.updates.try_recv().is_ok() {}
        drop(txn);
        protocol::step2_frame(&diff)
    }

    /// For a server that sent its sync step 2 without a step 1: send everything we have.
    fn full_state_update(&mut self) -> Vec<u8> {
        let txn = self.shared.doc.transact();
        let all = txn.encode_diff_v1(&StateVector::default());
        while self.updates.try_recv().is_ok() {}
        drop(txn);
        protocol::update_frame(&all)
    }

    fn apply_remote(&self, update: Update) -> Result<(), Error> {
        let mut txn = self.shared.doc.transact_mut_with(self.remote_origin.clone());
        txn.apply_update(update).map_err(|e| Error::Apply(e.to_string()))
    }

    async fn session(&mut self, mut ws: Ws) -> End {
        self.shared.state.send_modify(|s| {
            s.status = Status::Connected;
            s.connections += 1;
        });
        self.shared.emit(Event::Connected);
        let mut synced = false;
        // Whether our sync step 2 went out: local updates wait for it, so the server never gets
        // an update whose dependencies (edits made offline) it lacks.
        let mut answered = false;
        // The round trips waiting for the answer of each sync step 1 we sent, in order.
        let mut waiting: VecDeque<Vec<oneshot::Sender<()>>> = VecDeque::new();

        let mut hello = vec![protocol::step1_frame(&self.shared.doc.transact().state_vector())];
        waiting.push_back(Vec::new());
        if let Some(frame) = self.own_presence_frame() {
            hello.push(frame);
        }
        if self.opts.saved {
            // After our presence: Atelier answers the opt-in with the committed clocks of the
            // client ids announced so far, which acknowledges edits committed before a reconnect.
            hello.push(protocol::saved_opt_in_frame());
        }
        let mut sent = Ok(());
        for frame in hello {
            sent = ws.feed(binary(frame)).await;
            if sent.is_err() {
                break;
            }
        }
        if sent.is_ok() {
            sent = ws.flush().await;
        }
        if let Err(e) = sent {
            return self.lost(waiting, CloseInfo { code: None, reason: e.to_string() }, synced);
        }

        let silence = self.opts.silence_timeout;
        let mut silence_timer: Pin<Box<Sleep>> = Box::pin(sleep_until(Instant::now() + silence));
        let mut tick = tokio::time::interval_at(Instant::now() + PRESENCE_TICK, PRESENCE_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_renewal = Instant::now();

        loop {
            tokio::select! {
                msg = ws.next() => {
                    silence_timer.as_mut().reset(Instant::now() + silence);
                    let frame = match msg {
                        None => return self.lost(waiting, CloseInfo { code: None, reason: "connection closed".into() }, synced),
                        Some(Err(e)) => return self.lost(waiting, CloseInfo { code: None, reason: e.to_string() }, synced),
                        Some(Ok(Message::Binary(frame))) => frame,
                        Some(Ok(Message::Close(frame))) => {
                            let close = match frame {
                                Some(f) => CloseInfo { code: Some(u16::from(f.code)), reason: f.reason.to_string() },
                                None => CloseInfo { code: Some(1005), reason: String::new() },
                            };
                            // Let tungstenite send its reply to the close.
                            let _ = tokio::time::timeout(CLOSE_WAIT, ws.next()).await;
                            return self.lost(waiting, close, synced);
                        }
                        Some(Ok(Message::Text(_))) => {
                            let close = CloseInfo { code: Some(1003), reason: "the server sent a text frame".into() };
                            return self.fail(ws, waiting, close, synced).await;
                        }
                        Some(Ok(_)) => continue, // ping, pong: tungstenite answers pings itself
                    };
                    let msgs = match protocol::decode_frame(&frame) {
                        Ok(msgs) => msgs,
                        Err(e) => {
                            tracing::warn!(board = %self.shared.board, error = %e, "refused a frame from the server");
                            let close = CloseInfo { code: Some(1007), reason: e.to_string() };
                            return self.fail(ws, waiting, close, synced).await;
                        }
                    };
                    drop(frame);
                    for msg in msgs {
                        let was_answered = answered;
                        let mut replies = match self.handle(msg, &mut synced, &mut answered, &mut waiting) {
                            Ok(reply) => reply.into_iter().collect::<Vec<_>>(),
                            Err(e) => {
                                tracing::warn!(board = %self.shared.board, error = %e, "cannot apply a server message");
                                let close = CloseInfo { code: Some(1007), reason: e.to_string() };
                                return self.fail(ws, waiting, close, synced).await;
                            }
                        };
                        if answered && !was_answered && !self.barriers.is_empty() {
                            // Our step 2 goes first: the answer to this step 1 proves the server
                            // has every local edit, offline ones included.
                            waiting.push_back(std::mem::take(&mut self.barriers));
                            replies.push(protocol::step1_frame(&self.shared.doc.transact().state_vector()));
                        }
                        for reply in replies {
                            if let Err(e) = ws.send(binary(reply)).await {
                                return self.lost(waiting, CloseInfo { code: None, reason: e.to_string() }, synced);
                            }
                        }
                    }
                }
                Some(update) = self.updates.recv(), if answered => {
                    let mut result = ws.feed(binary(protocol::update_frame(&update))).await;
                    let mut n = 1;
                    while result.is_ok() && n < SEND_BATCH {
                        match self.updates.try_recv() {
                            Ok(update) => {
                                result = ws.feed(binary(protocol::update_frame(&update))).await;
                                n += 1;
                            }
                            Err(_) => break,
                        }
                    }
                    if result.is_ok() {
                        result = ws.flush().await;
                    }
                    if let Err(e) = result {
                        return self.lost(waiting, CloseInfo { code: None, reason: e.to_string() }, synced);
                    }
                }
                cmd = self.cmds.recv() => {
                    let frame = match cmd {
                        None => return self.close_session(ws, None).await,
                        Some(Command::Close(done)) => return self.close_session(ws, Some(done)).await,
                        Some(Command::Presence) => {
                            last_renewal = Instant::now();
                            self.own_presence_frame()
                        }
                        Some(Command::Barrier(tx)) if answered => {
                            // Edits made before the barrier was asked for are already queued:
                            // they must reach the server before its sync step 1, or the answer
                            // could come back before they are committed (select! picks either
                            // channel first).
                            while let Ok(update) = self.updates.try_recv() {
                                if let Err(e) = ws.feed(binary(protocol::update_frame(&update))).await {
                                    return self.lost(waiting, CloseInfo { code: None, reason: e.to_string() }, synced);
                                }
                            }
                            waiting.push_back(vec![tx]);
                            Some(protocol::step1_frame(&self.shared.doc.transact().state_vector()))
                        }
                        Some(Command::Barrier(tx)) => {
                            self.barriers.push(tx); // sent once our step 2 is out
                            None
                        }
                    };
                    if let Some(frame) = frame {
                        if let Err(e) = ws.send(binary(frame)).await {
                            return self.lost(waiting, CloseInfo { code: None, reason: e.to_string() }, synced);
                        }
                    }
                }
                _ = tick.tick() => {
                    let mut frames = Vec::new();
                    if last_renewal.elapsed() >= PRESENCE_RENEW && self.has_presence() {
                        last_renewal = Instant::now();
                        let mut awareness = self.shared.awareness();
                        if let Some(raw) = awareness.local_state_raw() {
                            awareness.set_local_state_raw(raw);
                        }
                        drop(awareness);
                        frames.extend(self.own_presence_frame());
                    }
                    let removed = self.expire_peers();
                    if !removed.is_empty() {
                        self.shared.emit(Event::Presence { added: vec![], updated: vec![], removed });
                    }
                    for frame in frames {
                        if let Err(e) = ws.send(binary(frame)).await {
                            return self.lost(waiting, CloseInfo { code: None, reason: e.to_string() }, synced);
                        }
                    }
                }
                _ = silence_timer.as_mut() => {
                    let close = CloseInfo { code: None, reason: format!("nothing received for {silence:?}") };
                    return self.fail(ws, waiting, close, synced).await;
                }
            }
        }
    }

    /// Handles one server message; returns the frame to answer with, if any.
    fn handle(
        &mut self,
        msg: ServerMessage,
        synced: &mut bool,
        answered: &mut bool,
        waiting: &mut VecDeque<Vec<oneshot::Sender<()>>>,
    ) -> Result<Option<Vec<u8>>, Error> {
        match msg {
            ServerMessage::SyncStep1(sv) => {
                *answered = true;
                Ok(Some(self.answer_step1(&sv)))
            }
            ServerMessage::SyncStep2 { update, len } => {
                self.apply_remote(update)?;
                for tx in waiting.pop_front().unwrap_or_default() {
                    let _ = tx.send(());
                }
                let mut reply = None;
                if !*answered {
                    *answered = true;
                    reply = Some(self.full_state_update());
                }
                if !*synced {
                    *synced = true;
                    self.shared.state.send_modify(|s| {
                        s.status = Status::Synced;
                        s.syncs += 1;
                    });
                    self.shared.emit(Event::Synced { bytes: len });
                    if let Some(first) = self.first.take() {
                        let _ = first.send(Ok(()));
                    }
                } else {
                    self.shared.emit(Event::Remote { bytes: len });
                }
                Ok(reply)
            }
            ServerMessage::Update { update, len } => {
                self.apply_remote(update)?;
                self.shared.emit(Event::Remote { bytes: len });
                Ok(None)
            }
            ServerMessage::Awareness(update) => {
                let summary = {
                    let mut awareness = self.shared.awareness();
                    awareness.apply_update_summary(update).map_err(|e| Error::Protocol(e.to_string()))?
                };
                if let Some(summary) = summary {
                    let me = self.shared.client_id;
                    let ids = |v: Vec<ClientID>| {
                        v.into_iter().filter(|c| *c != me).map(|c| c.get()).collect::<Vec<_>>()
                    };
                    let (added, updated, removed) =
                        (ids(summary.added), ids(summary.updated), ids(summary.removed));
                    if !(added.is_empty() && updated.is_empty() && removed.is_empty()) {
                        self.shared.emit(Event::Presence { added, updated, removed });
                    }
                }
                Ok(None)
            }
            ServerMessage::QueryAwareness => {
                let awareness = self.shared.awareness();
                Ok(awareness.update().ok().map(|u| protocol::awareness_frame(&u)))
            }
            ServerMessage::Auth(Some(reason)) => {
                self.shared.emit(Event::PermissionDenied { reason });
                Ok(None)
            }
            ServerMessage::Auth(None) => Ok(None),
            ServerMessage::Saved(sv) => {
                let clock = sv.get(&self.shared.client_id);
                let mut advanced = false;
                self.shared.state.send_modify(|s| {
                    s.saved_supported = true;
                    if clock > s.committed_clock {
                        s.committed_clock = clock;
                        advanced = true;
                    }
                });
                if advanced {
                    self.shared.emit(Event::Saved { clock });
                }
                Ok(None)
            }
        }
    }

    /// Drops peers whose presence was not renewed in time (servers that do not expire it).
    fn expire_peers(&self) -> Vec<u64> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut awareness = self.shared.awareness();
        let stale: Vec<ClientID> = awareness
            .iter()
            .filter(|(id, state)| {
                *id != self.shared.client_id
                    && state.data.is_some()
                    && now_ms.saturating_sub(state.last_updated) > PRESENCE_TIMEOUT_MS
            })
            .map(|(id, _)| id)
            .collect();
        for id in &stale {
            awareness.remove_state(*id);
        }
        stale.into_iter().map(|c| c.get()).collect()
    }

    /// The session ended: round trips waiting for an answer are sent again on the next connection.
    fn lost(&mut self, waiting: VecDeque<Vec<oneshot::Sender<()>>>, close: CloseInfo, synced: bool) -> End {
        for txs in waiting {
            self.barriers.extend(txs);
        }
        End::Lost { close, synced }
    }

    /// We end the session because of a protocol problem: close with the given code.
    async fn fail(
        &mut self,
        mut ws: Ws,
        waiting: VecDeque<Vec<oneshot::Sender<()>>>,
        close: CloseInfo,
        synced: bool,
    ) -> End {
        let code = close.code.map(CloseCode::from).unwrap_or(CloseCode::Away);
        let reason: String = close.reason.chars().take(100).collect();
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            let _ = ws.close(Some(CloseFrame { code, reason: reason.into() })).await;
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
        self.lost(waiting, close, synced)
    }

    /// The owner closes the client: announce that we leave, then close the socket.
    async fn close_session(&mut self, mut ws: Ws, done: Option<oneshot::Sender<()>>) -> End {
        let leaving = {
            let mut awareness = self.shared.awareness();
            if awareness.local_state_raw().is_some() {
                awareness.clean_local_state();
                awareness.update_with_clients([self.shared.client_id]).ok()
            } else {
                None
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            if let Some(update) = leaving {
                let _ = ws.send(binary(protocol::awareness_frame(&update))).await;
            }
            let _ = ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() })).await;
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
        End::Requested(done)
    }
}
