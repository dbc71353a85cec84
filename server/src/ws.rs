//! The WebSocket endpoint: `GET /ws/{board_id}?token=...` speaking y-protocols.
//!
//! Each connection runs one task: it reads and decodes frames and hands them to the room, writes
//! what the socket did not take when the room wrote it (the room writes frames straight into
//! the socket, see `room::conn`), and pings. The room never waits for a connection: a full
//! backlog closes it with 1013. Decoding runs on the connection's task, so at most one decode
//! per runtime worker runs at a time.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto::upgrade::{downcast, Parts};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::{Role as WsRole, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, error, info, warn, Instrument};

use crate::http::{ApiError, AppState};
use crate::live::LiveConn;
use crate::room::{ConnHandle, ConnSignal, JoinError, Outbox, RoomSender, WsFrame};
use crate::store::DocKey;
use crate::sync::{decode_frame, Close, ConnId, Principal, Role};
use crate::telemetry;
use crate::tenancy::Caller;

/// The server pings every connection this often.
pub const PING_EVERY: Duration = Duration::from_secs(30);
/// A connection that sent nothing (not even a pong) for this long is closed.
pub const SILENCE_TIMEOUT: Duration = Duration::from_secs(75);
/// How long the close handshake may take before the socket is dropped.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes tungstenite reads from the socket at a time. Its 128 KiB default, allocated per
/// connection, would dominate memory; client frames are small (a note move is ~60 bytes) and
/// larger ones still arrive, in several reads (the buffer grows to hold a frame). 1 KiB instead
/// of 4 KiB: 14.9 instead of 17.7 KB per connection in the rooms benchmark; 256 bytes instead of
/// 1 KiB: 11.3 instead of 11.9 (docs/benchmarks.md). A presence update or a small edit still
/// arrives in one read.
const READ_BUFFER: usize = 256;
/// Bytes tungstenite buffers before writing: it writes only pongs, straight into the outbox.
const WRITE_BUFFER: usize = 0;

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    token: Option<String>,
}

/// Board ids are URL-safe: letters, digits, `-` and `_`, 1 to 64 of them.
pub fn valid_board_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the upgrade handler learnt about the connection, kept for revocation.
struct Authorised {
    principal: Principal,
    role: Role,
    session: String,
    user_id: Option<String>,
    invite_id: Option<String>,
    project_id: String,
}

type Socket = WebSocketStream<ReadSide>;

/// `GET /ws/{board_id}`: the board's document.
pub async fn handler(
    Path(board): Path<String>,
    query: Query<WsQuery>,
    state: State<AppState>,
    request: Request,
) -> Response {
    upgrade(board, Doc::Main, query, state, request).await
}

/// `GET /ws/{board_id}/mine`: the caller's private document on the board (notes written during a
/// silent phase; nobody else receives them until a facilitator reveals them into the board).
pub async fn private_handler(
    Path(board): Path<String>,
    query: Query<WsQuery>,
    state: State<AppState>,
    request: Request,
) -> Response {
    upgrade(board, Doc::Mine, query, state, request).await
}

/// Which document of the board a connection opens.
#[derive(Clone, Copy)]
enum Doc {
    Main,
    Mine,
}

async fn upgrade(
    board: String,
    which: Doc,
    Query(query): Query<WsQuery>,
    State(app): State<AppState>,
    mut request: Request,
) -> Response {
    let started = Instant::now();
    let Some(accept) = upgrade_accept_key(request.headers()) else {
        return ApiError::bad_request("a WebSocket upgrade is expected here").into_response();
    };
    let Some(on_upgrade) = request.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return ApiError::bad_request("this connection cannot be upgraded").into_response();
    };
    if !valid_board_id(&board) {
        return ApiError::not_found("board").into_response();
    }
    let who = match authorise(&app, &board, query.token.as_deref().unwrap_or("")).await {
        Ok(who) => who,
        Err(e) => {
            metrics::counter!(telemetry::UPGRADES, "outcome" => "refused").increment(1);
            return e.into_response();
        }
    };
    let max = app.config.max_message_bytes;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    let outbox_frames = app.config.outbox_frames;
    // Two tasks one after the other: the connection's long-lived task then holds only what
    // `Joined::run` needs, not the larger state of upgrading and joining (an async block keeps
    // its captured values for its whole life). See docs/benchmarks.md, memory.
    tokio::spawn(async move {
        if let Some(joined) = open(on_upgrade, config, outbox_frames, app, board, which, who).await {
            metrics::counter!(telemetry::UPGRADES, "outcome" => "joined").increment(1);
            metrics::histogram!(telemetry::JOIN_SECONDS).record(started.elapsed());
            let span = joined.span.clone();
            tokio::spawn(joined.run().instrument(span));
        }
    });
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [(header::CONNECTION, "upgrade"), (header::UPGRADE, "websocket")],
        [(header::SEC_WEBSOCKET_ACCEPT, accept)],
    )
        .into_response()
}

/// The `Sec-WebSocket-Accept` value for a valid upgrade request (RFC 6455 §4.2.1), or None.
///
/// The upgrade is done here rather than with axum's extractor so that the room can write into
/// the TCP socket itself (see `room::conn`).
fn upgrade_accept_key(headers: &HeaderMap) -> Option<String> {
    let has = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(token)))
    };
    if !has(header::CONNECTION, "upgrade") || !has(header::UPGRADE, "websocket") {
        return None;
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION)?.as_bytes() != b"13" {
        return None;
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    Some(tungstenite::handshake::derive_accept_key(key.as_bytes()))
}

/// Checks the token and the caller's access to the board: 401 without a valid token, 404 when
/// the board does not exist *for this caller* (other tenants' boards look nonexistent).
async fn authorise(app: &AppState, board_id: &str, token: &str) -> Result<Authorised, ApiError> {
    let now = crate::auth::now_ms();
    let (caller, board) = crate::auth::authenticate_for_board(app.db.as_ref(), token, board_id, now)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(ApiError::unauthenticated)?;
    // Other tenants' boards, and boards the caller may not open, look nonexistent.
    let (board, member) = board.ok_or_else(|| ApiError::not_found("board"))?;
    let role =
        crate::tenancy::board_access(&caller, &board, member).ok_or_else(|| ApiError::not_found("board"))?;
    if let Caller::Guest { guest, .. } = &caller {
        if !app.guest_joins.take(&guest.id) {
            return Err(ApiError::too_many("too many connections from this guest, try again in a minute"));
        }
    }
    let (user_id, invite_id) = match &caller {
        Caller::User(user) => (Some(user.id.clone()), None),
        Caller::Guest { guest, .. } => (None, Some(guest.invite_id.clone())),
    };
    Ok(Authorised {
        principal: Principal::new(caller.principal_id()),
        role,
        session: crate::auth::token_hash(token),
        user_id,
        invite_id,
        project_id: board.project_id,
    })
}

/// Completes the upgrade and joins the room: the connection, once in.
async fn open(
    on_upgrade: hyper::upgrade::OnUpgrade,
    config: WebSocketConfig,
    outbox_frames: usize,
    app: AppState,
    board: String,
    which: Doc,
    who: Authorised,
) -> Option<Box<Joined>> {
    let upgraded = match on_upgrade.await {
        Ok(upgraded) => upgraded,
        Err(e) => {
            debug!(error = %e, "upgrade failed");
            metrics::counter!(telemetry::UPGRADES, "outcome" => "failed").increment(1);
            return None;
        }
    };
    // The TCP socket itself: the room writes frames straight into it (see `room::conn`).
    let Ok(Parts { io, read_buf, .. }) = downcast::<TokioIo<TcpStream>>(upgraded) else {
        error!("upgraded connection is not a TCP stream");
        metrics::counter!(telemetry::UPGRADES, "outcome" => "failed").increment(1);
        return None;
    };
    // Bytes the client sent right after its request, if any. `read_buf` is a slice of the
    // HTTP connection's read buffer (8 KiB or more): it must not live as long as the socket.
    let early = read_buf.to_vec();
    drop(read_buf);
    let (read, write) = io.into_inner().into_split();
    let outbox = Outbox::new(write, outbox_frames);
    let read = ReadSide { read, outbox: outbox.clone() };
    let stream = WebSocketStream::from_partially_read(read, early, WsRole::Server, Some(config)).await;
    let key = match which {
        Doc::Main => DocKey::main(board),
        Doc::Mine => DocKey::author(board, who.principal.as_str()),
    };
    let span = tracing::info_span!("ws", doc = %key);
    let id = app.rooms.next_conn_id();
    let signal = Arc::new(ConnSignal::default());
    let handle = ConnHandle { id, outbox: outbox.clone(), signal: signal.clone() };
    let room = match app.rooms.join(&key, handle, who.principal, who.role).instrument(span.clone()).await {
        Ok(room) => room,
        Err(e) => {
            metrics::counter!(telemetry::UPGRADES, "outcome" => "failed").increment(1);
            span.in_scope(|| warn!(conn = id, error = %e, "join refused"));
            signal.close(match e {
                JoinError::ShuttingDown => Close::SHUTDOWN,
                JoinError::Retry | JoinError::Unavailable => Close::RELOAD,
            });
            finish(&outbox, &signal).await;
            return None;
        }
    };
    app.live.register(
        id,
        LiveConn {
            session: who.session,
            user_id: who.user_id,
            invite_id: who.invite_id,
            board_id: key.board.to_string(),
            project_id: who.project_id,
            role: who.role,
            room: room.clone(),
            signal: signal.clone(),
        },
    );
    span.in_scope(|| debug!(conn = id, role = ?who.role, "joined"));
    let open = telemetry::ConnectionOpen::new();
    Some(Box::new(Joined { id, stream, outbox, signal, room, app, span, _open: open }))
}

/// A connection in its room: what its task holds while it lives.
struct Joined {
    id: ConnId,
    stream: Socket,
    outbox: Arc<Outbox>,
    signal: Arc<ConnSignal>,
    room: RoomSender,
    app: AppState,
    span: tracing::Span,
    /// Counted in the connections gauge while it lives.
    _open: telemetry::ConnectionOpen,
}

impl Joined {
    /// Boxed so that the task's future does not hold a copy of it.
    async fn run(mut self: Box<Self>) {
        self.serve().await;
        self.app.live.unregister(self.id);
        self.room.leave(self.id).await;
        self.signal.close(Close::NORMAL);
        if let Some(why) = self.signal.reason() {
            metrics::counter!(telemetry::CLOSES, "code" => why.code.to_string(), "reason" => why.describe())
                .increment(1);
        }
        finish(&self.outbox, &self.signal).await;
        debug!(conn = self.id, "left");
    }

    /// Reads and decodes frames and hands them to the room, writes what the socket did not take
    /// at once (see [`Outbox`]), pings, and closes a silent connection. One timer serves the
    /// pings and the silence deadline.
    async fn serve(&mut self) {
        let id = self.id;
        let mut deadline = Instant::now() + SILENCE_TIMEOUT;
        let mut ping_due = Instant::now() + PING_EVERY;
        let timer = tokio::time::sleep_until(ping_due.min(deadline));
        tokio::pin!(timer);
        loop {
            // Biased: once a close is asked for (a revocation, say), no further frame is
            // forwarded, even one that arrived at the same time.
            let next = tokio::select! {
                biased;
                _ = self.signal.closed() => return,
                e = self.outbox.drain() => {
                    debug!(conn = id, error = %e, "socket write failed");
                    self.signal.close(Close::GONE);
                    return;
                }
                _ = &mut timer => {
                    let now = Instant::now();
                    if now >= deadline {
                        info!(conn = id, "no message or pong for {SILENCE_TIMEOUT:?}, closing");
                        self.signal.close(Close::TIMEOUT);
                        return;
                    }
                    if now >= ping_due {
                        self.outbox.send_control(&WsFrame::ping());
                        ping_due = now + PING_EVERY;
                    }
                    // The deadline moves with every message; the timer catches up only here.
                    timer.as_mut().reset(ping_due.min(deadline));
                    continue;
                }
                next = self.stream.next() => next,
            };
            let msg = match next {
                None => return,
                Some(Err(e)) => {
                    let why = match e {
                        tungstenite::Error::Capacity(_) => Close::TOO_BIG,
                        tungstenite::Error::Io(_) | tungstenite::Error::ConnectionClosed => Close::GONE,
                        _ => Close::MALFORMED,
                    };
                    info!(conn = id, code = why.code, error = %e, "websocket error, closing");
                    self.signal.close(why);
                    return;
                }
                Some(Ok(msg)) => msg,
            };
            deadline = Instant::now() + SILENCE_TIMEOUT;
            match msg {
                Message::Binary(frame) => match decode_frame(&frame) {
                    Ok(msgs) => {
                        if !self.room.frame(id, msgs).await {
                            return;
                        }
                    }
                    Err(e) => {
                        warn!(conn = id, error = %e, bytes = frame.len(), "refused frame, closing");
                        self.signal.close(Close::MALFORMED);
                        return;
                    }
                },
                Message::Text(_) => {
                    warn!(conn = id, "text frame, closing");
                    self.signal.close(Close::TEXT);
                    return;
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                // Answered by the close frame `finish` sends.
                Message::Close(_) => return,
            }
        }
    }
}

/// Sends the close frame (unless the socket is broken) after the frame being written, drops
/// what waited behind it, and ends the sending side; bounded by [`CLOSE_TIMEOUT`] so that a
/// client that stopped reading cannot keep the connection.
async fn finish(outbox: &Outbox, signal: &ConnSignal) {
    let why = signal.reason().unwrap_or(Close::NORMAL);
    let frame = (why != Close::GONE).then(|| WsFrame::close(why));
    outbox.close_with(frame.as_ref());
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, outbox.flush()).await;
    outbox.shutdown();
}

/// The socket as tungstenite reads it: the TCP read half, and for what tungstenite writes by
/// itself (the pong answering a client's ping) the connection's outbox, so that those bytes
/// queue behind the frame being written instead of splitting it.
struct ReadSide {
    read: OwnedReadHalf,
    outbox: Arc<Outbox>,
}

impl AsyncRead for ReadSide {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for ReadSide {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // tungstenite writes whole frames from its buffer; they are taken whole.
        self.outbox.send_control(&WsFrame::encoded(bytes::Bytes::copy_from_slice(buf)));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
