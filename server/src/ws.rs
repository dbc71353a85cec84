//! The WebSocket endpoint: `GET /ws/{board_id}?token=...` speaking y-protocols.
//!
//! Each connection runs two tasks: this one reads and decodes frames and hands them to the room;
//! a writer task drains the connection's bounded outbox into the socket and sends keepalive
//! pings. The room never waits for a connection: a full outbox closes it with 1013.
//! Decoding runs on the reading task, so at most one decode per runtime worker runs at a time.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role as WsRole, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, info, warn, Instrument};

use crate::http::{ApiError, AppState};
use crate::live::LiveConn;
use crate::room::{outbox, ConnHandle, ConnSignal, JoinError, OutboxReceiver};
use crate::store::DocKey;
use crate::sync::{decode_frame, Close, Principal, Role};
use crate::tenancy::Caller;

/// The server pings every connection this often.
pub const PING_EVERY: Duration = Duration::from_secs(30);
/// A connection that sent nothing (not even a pong) for this long is closed.
pub const SILENCE_TIMEOUT: Duration = Duration::from_secs(75);
/// Messages larger than this go out as fragments of this size. tungstenite copies each frame it
/// writes into the connection's write buffer and keeps that buffer's capacity, so a 4 MB sync
/// step 2 sent whole would leave 4 MB behind in every connection that received it.
pub const FRAGMENT: usize = 32 * 1024;
/// How long the close handshake may take before the socket is dropped.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Bytes tungstenite reads from the socket at a time. Its 128 KiB default, allocated per
/// connection, would dominate memory; client frames are small (a note move is ~60 bytes) and
/// larger ones still arrive, in several reads (the buffer grows to hold a frame). 1 KiB instead
/// of 4 KiB: 14.9 instead of 17.7 KB per connection in the rooms benchmark; 256 bytes instead of
/// 1 KiB: 11.3 instead of 11.9 (docs/benchmarks.md). A presence update or a small edit still
/// arrives in one read.
const READ_BUFFER: usize = 256;
/// Bytes buffered before tungstenite writes to the socket; every send is flushed anyway.
/// (The write buffer's upper bound stays unlimited: a joiner's sync step 2 is as large as the
/// board, and the outbox, not this buffer, bounds what waits for a slow client.)
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

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

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
        Err(e) => return e.into_response(),
    };
    let max = app.config.max_message_bytes;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                debug!(error = %e, "upgrade failed");
                return;
            }
        };
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), WsRole::Server, Some(config)).await;
        let key = match which {
            Doc::Main => DocKey::main(board),
            Doc::Mine => DocKey::author(board, who.principal.as_str()),
        };
        let span = tracing::info_span!("ws", doc = %key);
        connection(socket, app, key, who).instrument(span).await
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
/// The upgrade is done here rather than with axum's extractor so that the socket is a
/// tokio-tungstenite stream whose raw frames can be written: large messages go out as
/// fragments (see [`FRAGMENT`]).
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

async fn connection(socket: Socket, app: AppState, key: DocKey, who: Authorised) {
    let id = app.rooms.next_conn_id();
    let (outbox_tx, outbox_rx) = outbox(app.config.outbox_frames);
    let signal = Arc::new(ConnSignal::default());
    let handle = ConnHandle { id, outbox: outbox_tx, signal: signal.clone() };
    let (sink, stream) = socket.split();
    let writer = tokio::spawn(write_loop(sink, outbox_rx, signal.clone()));

    let room = match app.rooms.join(&key, handle, who.principal, who.role).await {
        Ok(room) => room,
        Err(e) => {
            warn!(conn = id, error = %e, "join refused");
            signal.close(match e {
                JoinError::ShuttingDown => Close::SHUTDOWN,
                JoinError::Retry | JoinError::Unavailable => Close::RELOAD,
            });
            let _ = writer.await;
            return;
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
    debug!(conn = id, role = ?who.role, "joined");
    read_loop(stream, &room, id, &signal).await;
    app.live.unregister(id);
    room.leave(id).await;
    signal.close(Close { code: 1000, reason: "" });
    let _ = writer.await;
    debug!(conn = id, "left");
}

async fn read_loop(
    mut stream: futures_util::stream::SplitStream<Socket>,
    room: &crate::room::RoomSender,
    id: u64,
    signal: &ConnSignal,
) {
    let mut deadline = Instant::now() + SILENCE_TIMEOUT;
    loop {
        // Biased: once a close is asked for (a revocation, say), no further frame is forwarded,
        // even one that arrived at the same time.
        let next = tokio::select! {
            biased;
            _ = signal.closed() => return,
            next = timeout_at(deadline, stream.next()) => next,
        };
        let msg = match next {
            Err(_) => {
                info!(conn = id, "no message or pong for {SILENCE_TIMEOUT:?}, closing");
                signal.close(Close::TIMEOUT);
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                let why = match e {
                    tungstenite::Error::Capacity(_) => Close::TOO_BIG,
                    _ => Close::MALFORMED,
                };
                info!(conn = id, code = why.code, error = %e, "websocket error, closing");
                signal.close(why);
                return;
            }
            Ok(Some(Ok(msg))) => msg,
        };
        deadline = Instant::now() + SILENCE_TIMEOUT;
        match msg {
            Message::Binary(frame) => match decode_frame(&frame) {
                Ok(msgs) => {
                    if !room.frame(id, msgs).await {
                        return;
                    }
                }
                Err(e) => {
                    warn!(conn = id, error = %e, bytes = frame.len(), "refused frame, closing");
                    signal.close(Close::MALFORMED);
                    return;
                }
            },
            Message::Text(_) => {
                warn!(conn = id, "text frame, closing");
                signal.close(Close::TEXT);
                return;
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            Message::Close(_) => return,
        }
    }
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<Socket, Message>,
    mut outbox: OutboxReceiver,
    signal: Arc<ConnSignal>,
) {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            biased;
            _ = signal.closed() => break,
            frame = outbox.recv() => match frame {
                Some(frame) => {
                    // A send waits for socket space; a close request must not wait behind it.
                    tokio::select! {
                        biased;
                        _ = signal.closed() => break,
                        sent = send_frame(&mut sink, frame) => if sent.is_err() {
                            signal.close(Close { code: 1006, reason: "" });
                            return;
                        }
                    }
                }
                None => break,
            },
            _ = ping.tick() => {
                if sink.send(Message::Ping(bytes::Bytes::new())).await.is_err() {
                    signal.close(Close { code: 1006, reason: "" });
                    return;
                }
            }
        }
    }
    let why = signal.reason().unwrap_or(Close { code: 1000, reason: "" });
    // A client that stopped reading must not keep this task alive.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let frame = CloseFrame { code: CloseCode::from(why.code), reason: why.reason.into() };
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
    })
    .await;
}

/// Writes one binary message, as fragments of [`FRAGMENT`] bytes when it is larger.
async fn send_frame(
    sink: &mut futures_util::stream::SplitSink<Socket, Message>,
    frame: bytes::Bytes,
) -> Result<(), tungstenite::Error> {
    if frame.len() <= FRAGMENT {
        return sink.send(Message::Binary(frame)).await;
    }
    let mut start = 0;
    while start < frame.len() {
        let end = (start + FRAGMENT).min(frame.len());
        let opcode = if start == 0 { OpCode::Data(Data::Binary) } else { OpCode::Data(Data::Continue) };
        sink.send(Message::Frame(Frame::message(frame.slice(start..end), opcode, end == frame.len())))
            .await?;
        start = end;
    }
    Ok(())
}
