//! The room's side of a connection: the socket's write half with a bounded backlog, and a way
//! to close it.
//!
//! A frame reaches a client without waking any task in the usual case: the room encodes it once
//! as a WebSocket frame for all its recipients ([`WsFrame`]) and writes it straight into each
//! socket with a non-blocking write ([`Outbox::try_send`]). Only what a socket does not take at
//! once waits in the connection's backlog, which the connection's own task drains as the socket
//! becomes writable ([`Outbox::drain`]). Every write, the room's and the task's, happens under
//! the backlog's lock and only when nothing waits before it, so frames leave in order.
//!
//! Why not a writer task per connection behind a channel: the task wakeup, the channel and the
//! per-connection copy into tungstenite's buffer cost as much CPU as the socket write itself in
//! the fanout benchmark, and the task ~1 KB of memory per connection (docs/benchmarks.md).

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex};

use bytes::{Buf, Bytes};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_util::sync::CancellationToken;

use crate::sync::{Close, ConnId};

/// Messages larger than this go out as fragments of this size, so that a client can start
/// reading a large sync step 2 before the last byte is written.
pub const FRAGMENT: usize = 32 * 1024;

/// Tells a connection's task to close the socket, and with which code and reason. It is separate
/// from the outbox so that a full outbox can still be closed.
#[derive(Debug, Default)]
pub struct ConnSignal {
    token: CancellationToken,
    why: Mutex<Option<Close>>,
}

impl ConnSignal {
    /// Asks for the connection to close; the first reason given wins.
    pub fn close(&self, why: Close) {
        if let Ok(mut slot) = self.why.lock() {
            slot.get_or_insert(why);
        }
        self.token.cancel();
    }

    /// Resolves once a close was asked for.
    pub async fn closed(&self) {
        self.token.cancelled().await
    }

    /// The reason given to [`ConnSignal::close`], if any.
    pub fn reason(&self) -> Option<Close> {
        self.why.lock().ok().and_then(|slot| *slot)
    }
}

/// What a room holds for each connection.
#[derive(Clone)]
pub struct ConnHandle {
    pub id: ConnId,
    pub outbox: Arc<Outbox>,
    pub signal: Arc<ConnSignal>,
}

/// One or more complete server-to-client WebSocket frames, encoded once and written as they are
/// to every recipient (a server's frames are not masked, so they are the same for all).
#[derive(Clone, Debug)]
pub struct WsFrame(Parts);

#[derive(Clone, Debug)]
enum Parts {
    /// Header and payload in one buffer (a message of up to [`FRAGMENT`] bytes).
    One(Bytes),
    /// Fragment headers, each followed by its slice of the message: a large message (a board's
    /// whole state, shared by every fresh joiner) is never copied.
    Many(Arc<[Bytes]>),
}

impl WsFrame {
    /// A binary message; above [`FRAGMENT`] bytes, as a run of fragments.
    pub fn binary(message: &Bytes) -> WsFrame {
        if message.len() <= FRAGMENT {
            let mut out = Vec::with_capacity(message.len() + 4);
            Self::format(Frame::message(message.clone(), OpCode::Data(Data::Binary), true), &mut out);
            return WsFrame(Parts::One(out.into()));
        }
        let mut parts = Vec::with_capacity(2 * message.len().div_ceil(FRAGMENT));
        let mut start = 0;
        while start < message.len() {
            let end = (start + FRAGMENT).min(message.len());
            let opcode = if start == 0 { OpCode::Data(Data::Binary) } else { OpCode::Data(Data::Continue) };
            let header = FrameHeader { is_final: end == message.len(), opcode, ..FrameHeader::default() };
            let mut head = Vec::with_capacity(14);
            let _ = header.format((end - start) as u64, &mut head);
            parts.push(Bytes::from(head));
            parts.push(message.slice(start..end));
            start = end;
        }
        WsFrame(Parts::Many(parts.into()))
    }

    /// A keepalive ping with no payload.
    pub fn ping() -> WsFrame {
        let mut out = Vec::with_capacity(2);
        Self::format(Frame::ping(Bytes::new()), &mut out);
        WsFrame(Parts::One(out.into()))
    }

    /// A close frame with the code and reason of `why`.
    pub fn close(why: Close) -> WsFrame {
        let mut out = Vec::with_capacity(4 + why.reason.len());
        let frame = CloseFrame { code: CloseCode::from(why.code), reason: why.reason.into() };
        Self::format(Frame::close(Some(frame)), &mut out);
        WsFrame(Parts::One(out.into()))
    }

    /// Bytes the protocol layer encoded itself (a pong).
    pub fn encoded(bytes: Bytes) -> WsFrame {
        WsFrame(Parts::One(bytes))
    }

    fn format(frame: Frame, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail.
        let _ = frame.format(out);
    }

    fn parts(&self) -> &[Bytes] {
        match &self.0 {
            Parts::One(bytes) => std::slice::from_ref(bytes),
            Parts::Many(parts) => parts,
        }
    }
}

/// A connection's way out: the socket's write half and what waits for it.
///
/// Semantics are those of a bounded channel whose sender never waits: [`Outbox::try_send`]
/// fails when `cap` frames already wait (a client that does not read) or once the connection is
/// closing.
pub struct Outbox {
    state: Mutex<Backlog>,
    socket: OwnedWriteHalf,
    /// Wakes the connection's task: the backlog went from empty to not empty.
    queued: Notify,
    cap: usize,
}

/// Buffers written in one vectored write at most.
const WRITE_SLICES: usize = 16;

struct Backlog {
    chunks: VecDeque<Chunk>,
    /// Frames waiting whose first byte is not written yet.
    waiting: usize,
    open: bool,
}

struct Chunk {
    bytes: Bytes,
    /// The first chunk of a frame none of which is written yet.
    starts_frame: bool,
}

impl Backlog {
    /// Forgets the first `n` bytes queued (they were written).
    fn consume(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else { return };
            if front.starts_frame {
                front.starts_frame = false;
                self.waiting -= 1;
            }
            if n < front.bytes.len() {
                front.bytes.advance(n);
                return;
            }
            n -= front.bytes.len();
            self.chunks.pop_front();
        }
    }
}

impl Outbox {
    pub fn new(socket: OwnedWriteHalf, cap: usize) -> Arc<Outbox> {
        Arc::new(Outbox {
            state: Mutex::new(Backlog { chunks: VecDeque::new(), waiting: 0, open: true }),
            socket,
            queued: Notify::new(),
            cap: cap.max(1),
        })
    }

    /// Sends a frame without waiting: written now if the socket takes it, queued otherwise.
    /// False when `cap` frames already wait or the connection is closing.
    pub fn try_send(&self, frame: &WsFrame) -> bool {
        self.try_send_all(&[frame])
    }

    /// Sends frames in order without waiting, in one write when the socket takes them all (a
    /// round's frames for one participant: several authors' edits, their presence). False,
    /// sending none, when `cap` frames already wait or the connection is closing.
    pub fn try_send_all(&self, frames: &[&WsFrame]) -> bool {
        let Ok(mut backlog) = self.state.lock() else { return false };
        if !backlog.open || backlog.waiting >= self.cap {
            return false;
        }
        self.push(&mut backlog, frames);
        true
    }

    /// Sends a control frame (a ping, a pong) whatever the backlog holds.
    pub fn send_control(&self, frame: &WsFrame) {
        if let Ok(mut backlog) = self.state.lock() {
            if backlog.open {
                self.push(&mut backlog, &[frame]);
            }
        }
    }

    /// Stops taking frames and queues `last` after the frame being written; frames that waited
    /// untouched are dropped (the client resyncs when it reconnects).
    pub fn close_with(&self, last: Option<&WsFrame>) {
        let Ok(mut backlog) = self.state.lock() else { return };
        if !backlog.open {
            return;
        }
        backlog.open = false;
        // The rest of a frame already started must go, or the stream would be corrupt.
        let started = backlog.chunks.front().is_some_and(|c| !c.starts_frame);
        let keep = if started {
            1 + backlog.chunks.iter().skip(1).take_while(|c| !c.starts_frame).count()
        } else {
            0
        };
        backlog.chunks.truncate(keep);
        backlog.waiting = 0;
        if let Some(frame) = last {
            self.push(&mut backlog, &[frame]);
        }
    }

    /// Queues `frames` and, if nothing waited before them, writes what the socket takes now;
    /// the connection's task is woken for the rest.
    fn push(&self, backlog: &mut Backlog, frames: &[&WsFrame]) {
        let was_empty = backlog.chunks.is_empty();
        for frame in frames {
            for (i, bytes) in frame.parts().iter().enumerate() {
                backlog.chunks.push_back(Chunk { bytes: bytes.clone(), starts_frame: i == 0 });
            }
            backlog.waiting += 1;
        }
        // Full (WouldBlock) or broken: the task's next write reports a broken socket.
        if was_empty && !matches!(self.write(backlog), Ok(true)) {
            self.queued.notify_one();
        }
    }

    /// Writes what waits while the socket takes it. Ok(true) once nothing waits.
    fn write(&self, backlog: &mut Backlog) -> io::Result<bool> {
        while let Some(front) = backlog.chunks.front() {
            let written = if backlog.chunks.len() == 1 {
                self.socket.try_write(&front.bytes)
            } else {
                let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
                let mut n = 0;
                for (slice, chunk) in slices.iter_mut().zip(&backlog.chunks) {
                    *slice = IoSlice::new(&chunk.bytes);
                    n += 1;
                }
                self.socket.try_write_vectored(&slices[..n])
            };
            match written {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => backlog.consume(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        // Released once drained: a backlog is rare (a new socket's first frames, a slow client),
        // and an emptied buffer kept by every connection was 160 bytes each.
        if backlog.chunks.capacity() > 0 {
            backlog.chunks = VecDeque::new();
        }
        Ok(true)
    }

    fn write_some(&self) -> io::Result<bool> {
        let Ok(mut backlog) = self.state.lock() else {
            return Err(io::Error::other("outbox lock poisoned"));
        };
        self.write(&mut backlog)
    }

    /// The connection task's part: writes the backlog as the socket becomes writable, forever;
    /// returns only the error of a broken socket. Cancel-safe: what is left stays queued.
    pub async fn drain(&self) -> io::Error {
        loop {
            match self.write_some() {
                Err(e) => return e,
                // A frame queued after this check leaves a permit: the wait below returns.
                Ok(true) => self.queued.notified().await,
                Ok(false) => {
                    if let Err(e) = self.socket.writable().await {
                        return e;
                    }
                }
            }
        }
    }

    /// Writes everything that waits.
    pub async fn flush(&self) -> io::Result<()> {
        while !self.write_some()? {
            self.socket.writable().await?;
        }
        Ok(())
    }

    /// Ends the socket's sending side (the client sees the end of the stream).
    pub fn shutdown(&self) {
        let _ = socket2::SockRef::from(self.socket.as_ref()).shutdown(std::net::Shutdown::Write);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};

    /// A connected pair: the server's outbox and the client's socket.
    async fn pair(cap: usize) -> (Arc<Outbox>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (read, write) = server.into_split();
        // The read half is not needed; dropping it does not close the socket.
        drop(read);
        (Outbox::new(write, cap), client)
    }

    fn message(n: usize, byte: u8) -> Bytes {
        Bytes::from(vec![byte; n])
    }

    /// Reads one whole binary message (reassembling fragments) from a client socket.
    async fn read_message(client: &mut TcpStream) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let mut head = [0u8; 2];
            client.read_exact(&mut head).await.unwrap();
            let fin = head[0] & 0x80 != 0;
            assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
            let len = match head[1] & 0x7f {
                126 => client.read_u16().await.unwrap() as usize,
                127 => client.read_u64().await.unwrap() as usize,
                n => n as usize,
            };
            let start = out.len();
            out.resize(start + len, 0);
            client.read_exact(&mut out[start..]).await.unwrap();
            if fin {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn frames_written_directly_and_from_the_backlog_arrive_whole_and_in_order() {
        let (outbox, mut client) = pair(1024).await;
        // 3 MB: more than a socket buffer holds, so most of it waits in the backlog and the
        // small frames sent after it must wait behind it.
        let big = message(3_000_000, 7);
        assert!(outbox.try_send(&WsFrame::binary(&big)));
        assert!(outbox.try_send(&WsFrame::binary(&message(10, 1))));
        assert!(outbox.try_send(&WsFrame::binary(&message(70_000, 2))));
        let drain = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.drain().await })
        };
        assert_eq!(read_message(&mut client).await, big);
        assert_eq!(read_message(&mut client).await, vec![1; 10]);
        assert_eq!(read_message(&mut client).await, vec![2; 70_000]);
        // The backlog is empty: the next frame goes straight into the socket.
        assert!(outbox.try_send(&WsFrame::binary(&message(5, 3))));
        assert_eq!(read_message(&mut client).await, vec![3; 5]);
        assert_eq!(outbox.state.lock().unwrap().chunks.capacity(), 0);
        drain.abort();
    }

    #[tokio::test]
    async fn frames_sent_together_arrive_in_order_and_a_full_backlog_refuses_them_all() {
        let (outbox, mut client) = pair(3).await;
        let (small, large, last) = (message(10, 1), message(100_000, 2), message(3, 3));
        let frames = [WsFrame::binary(&small), WsFrame::binary(&large), WsFrame::binary(&last)];
        assert!(outbox.try_send_all(&frames.iter().collect::<Vec<_>>()));
        let drain = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.drain().await })
        };
        assert_eq!(read_message(&mut client).await, small);
        assert_eq!(read_message(&mut client).await, large);
        assert_eq!(read_message(&mut client).await, last);
        drain.abort();

        // A client that does not read: once `cap` frames wait, a batch is refused whole.
        let huge = WsFrame::binary(&message(4_000_000, 9));
        while outbox.try_send(&huge) {}
        let waiting = outbox.state.lock().unwrap().waiting;
        assert!(!outbox.try_send_all(&[&frames[0], &frames[2]]));
        assert_eq!(outbox.state.lock().unwrap().waiting, waiting, "nothing of a refused batch is queued");
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_fills_the_backlog_and_is_refused() {
        let (outbox, _client) = pair(4).await;
        let frame = WsFrame::binary(&message(1_000_000, 9));
        let mut taken = 0;
        while outbox.try_send(&frame) {
            taken += 1;
            assert!(taken < 100, "the backlog is bounded");
        }
        assert_eq!(outbox.state.lock().unwrap().waiting, 4);
    }

    #[tokio::test]
    async fn closing_finishes_the_frame_being_written_then_sends_the_close() {
        let (outbox, mut client) = pair(1024).await;
        // Far more than a socket buffer takes at once: the write stops part-way.
        let big = message(16_000_000, 4);
        assert!(outbox.try_send(&WsFrame::binary(&big)));
        assert!(!outbox.state.lock().unwrap().chunks[0].starts_frame, "written in part");
        assert!(outbox.try_send(&WsFrame::binary(&message(10, 5))));
        outbox.close_with(Some(&WsFrame::close(Close::SHUTDOWN)));
        assert!(!outbox.try_send(&WsFrame::binary(&message(10, 6))), "closing: refused");
        let flush = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                outbox.flush().await.unwrap();
                outbox.shutdown();
            })
        };
        // The partly written frame is finished (the stream stays valid); the waiting one is dropped.
        assert_eq!(read_message(&mut client).await, big);
        let mut close = Vec::new();
        client.read_to_end(&mut close).await.unwrap();
        assert_eq!(close[0], 0x88, "a final close frame");
        assert_eq!(u16::from_be_bytes([close[2], close[3]]), Close::SHUTDOWN.code);
        assert_eq!(&close[4..], Close::SHUTDOWN.reason.as_bytes());
        flush.await.unwrap();
    }
}
