//! The task that owns one room: load, rounds of apply → group commit → relay, eviction.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{sleep_until, Instant};
use tracing::{debug, error, info, warn};
use yrs::updates::decoder::Decode;
use yrs::ClientID;

use super::inbox::Receiver;
use super::{Cmd, ConnHandle, JoinError, Shared, WsFrame};
use crate::store::{Append, DocKey, Snapshot};
use crate::sync::{wire, Close, ConnId, Effect, Inbound, Principal, Room};
use crate::telemetry;

/// Commands handled per round, at most; everything they change goes into one commit.
const ROUND: usize = 256;
/// Command slots a quiet room keeps between rounds.
const KEEP_CMDS: usize = 8;
/// Stored boards at least this large are built on a blocking thread while the actor lets
/// joiners in and answers fresh clients from the stored snapshot (see `while_building`);
/// smaller ones build in well under a millisecond, in place.
const BUILD_ASIDE_BYTES: u64 = 64 * 1024;
/// How often presence is checked for expiry.
const TICK: Duration = Duration::from_secs(1);

/// Why the actor stopped.
enum Exit {
    Idle,
    Shutdown,
    Reload(&'static str),
    InboxClosed,
}

pub(super) async fn run(shared: Arc<Shared>, key: DocKey, generation: u64, mut rx: Receiver<Cmd>) {
    let _open = telemetry::RoomOpen::new();
    // Boxed: loading's state (the stored rows, the build) is freed once the room is built, and
    // the task keeps only what the room's life needs (an open board's memory, docs/benchmarks.md).
    let Some(loaded) = Box::pin(load(&shared, &key, generation, &mut rx)).await else { return };
    live(shared, key, generation, rx, loaded).await
}

/// What loading hands to the room's life.
struct Loaded {
    room: Room,
    tail: Tail,
    known_head: Option<i64>,
    /// Commands that arrived while the room was being built.
    backlog: Vec<Cmd>,
}

/// Loads the document and builds its room; None when it cannot (every joiner was refused).
async fn load(shared: &Shared, key: &DocKey, generation: u64, rx: &mut Receiver<Cmd>) -> Option<Box<Loaded>> {
    let loading = Instant::now();
    let stored = match shared.store.load(key).await {
        Ok(stored) => stored,
        Err(e) => {
            error!(error = %e, "cannot load board");
            refuse_all(shared, key, generation, rx, Vec::new(), JoinError::Unavailable).await;
            return None;
        }
    };
    let mut tail = Tail {
        updates: stored.log.len() as u64,
        bytes: stored.log.iter().map(|(_, u)| u.len() as u64).sum(),
        snapshot_bytes: stored.snapshot.as_ref().map_or(0, |s| s.data.len() as u64),
    };
    // The head of the log that the document holds exactly, as long as this room's commits are
    // the only ones (another node appending to the same document makes it unknown).
    let known_head = Some(stored.head());
    // A board stored as a snapshot alone: that snapshot is the whole committed state, and the
    // sync step 2 a fresh client (empty state vector) gets, before and after the room is built.
    // It is sent before yrs has decoded it, so it must first pass the structural check every
    // incoming update passes (a damaged database must not reach clients).
    let stored_state = match (&stored.snapshot, stored.log.is_empty()) {
        (Some(snapshot), true) if crate::sync::validate::check_update_v1(&snapshot.data).is_ok() => {
            Some(wire::step2_frame(snapshot.data.clone()))
        }
        _ => None,
    };
    let limits = shared.config.limits.clone();
    let build = move || {
        catch_unwind(AssertUnwindSafe(|| {
            Room::load(
                stored.snapshot.as_ref().map(|s| s.data.as_slice()),
                stored.log.iter().map(|(_, data)| data.as_slice()),
                stored.owners.iter().map(|(c, p)| (ClientID::new(*c), Principal::new(p.as_str()))),
                limits,
            )
        }))
    };
    let mut backlog = Vec::new();
    let built = if tail.bytes + tail.snapshot_bytes < BUILD_ASIDE_BYTES {
        Ok(build())
    } else {
        let building = tokio::task::spawn_blocking(build);
        while_building(building, rx, &mut backlog, stored_state.as_ref()).await
    };
    let mut room = match built {
        Ok(Ok(Ok(room))) => room,
        Ok(Ok(Err(e))) => {
            error!(error = %e, "stored board does not load");
            refuse_all(shared, key, generation, rx, backlog, JoinError::Unavailable).await;
            return None;
        }
        Ok(Err(_)) | Err(_) => {
            error!("loading the stored board panicked");
            refuse_all(shared, key, generation, rx, backlog, JoinError::Unavailable).await;
            return None;
        }
    };
    if let Some(frame) = stored_state {
        room.prime_full_state(frame);
    }
    debug!(
        bytes = room.board_bytes(),
        log = tail.updates,
        ms = loading.elapsed().as_millis() as u64,
        "loaded"
    );
    if tail.due(shared.config.compact_every) {
        // A long tail makes every load slow: fold it now rather than after more writes.
        compact(shared, key, &room, known_head, &mut tail);
    }
    Some(Box::new(Loaded { room, tail, known_head, backlog }))
}

/// The room's life: rounds of apply, group commit and relay until it is idle, reloads or the
/// server shuts down.
///
/// The room stays where loading put it, on the heap: the task holds a pointer, not a copy.
async fn live(
    shared: Arc<Shared>,
    key: DocKey,
    generation: u64,
    mut rx: Receiver<Cmd>,
    mut loaded: Box<Loaded>,
) {
    let Loaded { room, tail, known_head, backlog } = &mut *loaded;
    let mut actor = Actor {
        conns: HashMap::new(),
        out: Vec::new(),
        snapshots: Vec::new(),
        merges: Vec::new(),
        edits: Vec::new(),
    };
    // Grows with the rounds and is given back after a burst: 256 slots held by every open
    // board were 16 KiB, a quarter of a connection's memory in the rooms benchmark.
    let mut cmds = Vec::new();
    let mut idle_since = Some(Instant::now());
    // One timer for the presence tick, a batched presence flush and the idle eviction.
    let mut next_tick = Instant::now() + TICK;
    let timer = sleep_until(next_tick);
    tokio::pin!(timer);
    let mut armed = Some(next_tick);
    // When the last commit was due, and until when this round's edits wait to be committed
    // with the next ones (a large room, see `Room::edit_batch`).
    let mut last_commit: Option<Instant> = None;
    let mut hold: Option<Instant> = None;
    // The inbox is closed and empty: whatever is held is committed at once.
    let mut inbox_done = false;
    // On shutdown the inbox is closed and what it already holds is still applied and committed
    // (a flush), then every connection is closed with 1001.
    let mut draining = false;
    let exit = loop {
        let idle_deadline = idle_since.filter(|_| !draining).map(|t| t + shared.config.idle);
        let flush_at = room.flush_due().map(|ms| Instant::from_std(shared.epoch) + Duration::from_millis(ms));
        let wake = [flush_at, idle_deadline, hold].into_iter().flatten().fold(next_tick, Instant::min);
        if armed != Some(wake) {
            timer.as_mut().reset(wake);
            armed = Some(wake);
        }
        let result = tokio::select! {
            biased;
            _ = shared.shutdown.cancelled(), if !draining => {
                draining = true;
                rx.close();
                continue;
            }
            _ = std::future::ready(()), if !backlog.is_empty() => {
                // What arrived while the room was being built, first and in order.
                cmds.append(backlog);
                handle(room, &mut actor, &mut cmds, draining, shared.now_ms())
            }
            n = rx.recv_many(&mut cmds, ROUND) => {
                if n == 0 {
                    if !room.has_staged() {
                        break if draining { Exit::Shutdown } else { Exit::InboxClosed };
                    }
                    // Closed and empty, with edits held for a batch window: committed first.
                    inbox_done = true;
                }
                let handled = handle(room, &mut actor, &mut cmds, draining, shared.now_ms());
                if n <= KEEP_CMDS && cmds.capacity() > 4 * KEEP_CMDS {
                    cmds.shrink_to(KEEP_CMDS);
                }
                handled
            }
            _ = &mut timer => {
                armed = None;
                let now = Instant::now();
                if idle_deadline.is_some_and(|at| now >= at) {
                    break Exit::Idle;
                }
                // A batch window that ended (`hold`) needs nothing here: the commit follows.
                if now >= next_tick || flush_at.is_some_and(|at| now >= at) {
                    if now >= next_tick {
                        next_tick = now + TICK;
                    }
                    let now = shared.now_ms();
                    guarded(room, |room, out| { room.tick(now, out); Ok(()) }, &mut actor.out)
                } else {
                    Ok(())
                }
            }
        };
        if let Err(why) = result {
            break Exit::Reload(why);
        }
        actor.deliver(room);

        // A large room's edits wait for the end of the batch window opened by its last commit;
        // reads and snapshot requests, which need a committed state, wait with them.
        if let Some(window) = room.edit_batch().filter(|_| !draining && !inbox_done && room.has_staged()) {
            let until = last_commit.map(|at| at + Duration::from_millis(window));
            if let Some(until) = until.filter(|until| *until > Instant::now()) {
                hold = Some(until);
                continue;
            }
        }
        // The next window opens from when this commit was due, not from when the timer (late
        // by up to a millisecond) woke the room: windows would otherwise drift later and later
        // under a steady flow of edits, each one waiting longer than the last.
        let due = hold.take().map_or_else(Instant::now, |at| at.min(Instant::now()));

        // Commit what this round changed before anyone sees it.
        if let Some(commit) = room.take_commit() {
            last_commit = Some(due);
            let updates = commit.updates.len() as u64;
            let bytes: u64 = commit.updates.iter().map(|u| u.len() as u64).sum();
            let append = Append {
                key: key.clone(),
                updates: commit.updates,
                owners: commit.owners.into_iter().map(|(c, p)| (c.get(), p.as_str().to_owned())).collect(),
                versions: commit
                    .versions
                    .into_iter()
                    .map(|v| crate::store::NewVersion {
                        id: crate::auth::new_id(),
                        label: v.label,
                        created_by: v.created_by.as_str().to_owned(),
                        created_at: crate::auth::now_ms(),
                        state: v.state,
                    })
                    .collect(),
            };
            // Boxed: the commit's wait would otherwise be part of every open room's task.
            let Ok(head) = Box::pin(shared.writer.append(append)).await else {
                break Exit::Reload("commit failed");
            };
            *known_head = known_head.filter(|known| known + updates as i64 == head).map(|_| head);
            tail.updates += updates;
            tail.bytes += bytes;
            if let Err(why) = guarded(
                room,
                |room, out| {
                    room.committed(out);
                    Ok(())
                },
                &mut actor.out,
            ) {
                break Exit::Reload(why);
            }
            if tail.due(shared.config.compact_every) {
                compact(&shared, &key, room, *known_head, tail);
            }
        } else if let Err(why) = guarded(
            room,
            |room, out| {
                room.settle(out);
                Ok(())
            },
            &mut actor.out,
        ) {
            break Exit::Reload(why);
        }
        actor.deliver(room);
        actor.edits_relayed();
        // Asked during this round: answered now that the round is committed.
        for reply in actor.snapshots.drain(..) {
            let _ = reply.send(room.encode_state());
        }
        for (reply, merged) in actor.merges.drain(..) {
            let _ = reply.send(merged);
        }
        idle_since = if actor.conns.is_empty() { idle_since.or(Some(Instant::now())) } else { None };
    };

    // Whatever the reason, nothing uncommitted was ever shown to a client: closing is enough.
    match exit {
        Exit::Idle => {
            shared.forget(&key, generation);
            debug!("evicted after idle time");
            if tail.updates > 0 {
                compact(&shared, &key, room, *known_head, tail);
            }
            refuse_all(&shared, &key, generation, &mut rx, Vec::new(), JoinError::Retry).await;
        }
        Exit::Shutdown => {
            debug!("flushed for shutdown");
            actor.close_all(Close::SHUTDOWN);
            if tail.updates > 0 {
                compact(&shared, &key, room, *known_head, tail);
            }
        }
        Exit::Reload(why) => {
            warn!(reason = why, "room dropped; clients reconnect and resync from the store");
            shared.forget(&key, generation);
            actor.close_all(Close::RELOAD);
            refuse_all(&shared, &key, generation, &mut rx, Vec::new(), JoinError::Retry).await;
        }
        Exit::InboxClosed => {
            actor.close_all(Close::SHUTDOWN);
        }
    }
}

/// The log written since the document's last snapshot.
struct Tail {
    updates: u64,
    bytes: u64,
    /// Size of the last snapshot (the last one this room knows of).
    snapshot_bytes: u64,
}

impl Tail {
    /// Whether folding the log is due: at least `every` updates, and at least a quarter of the
    /// snapshot's size. A fold costs the whole board (encoding it, writing it), so a large
    /// board written fast is folded once per quarter of its size written rather than every
    /// `every` updates: each byte written pays for at most four bytes of folding (ingest into a
    /// 6 MB board: 17,000 instead of 32,000 updates/s when folded every 1,000 updates).
    fn due(&self, every: u64) -> bool {
        self.updates >= every && self.bytes.saturating_mul(4) >= self.snapshot_bytes
    }
}

/// Folds the document's log into a snapshot: from the document itself when it is known to hold
/// exactly the log up to `known_head` (an encode, nothing read back or replayed), otherwise
/// from the store.
fn compact(shared: &Shared, key: &DocKey, room: &Room, known_head: Option<i64>, tail: &mut Tail) {
    match known_head {
        Some(upto_seq) if upto_seq > 0 => {
            let data = room.encode_state();
            tail.snapshot_bytes = data.len() as u64;
            shared.compactor.save(key.clone(), Snapshot { upto_seq, data });
        }
        // The store's fold does not report the size; the last one known stays a fair guess.
        _ => shared.compactor.request(key.clone()),
    }
    tail.updates = 0;
    tail.bytes = 0;
}

/// Applies a round's commands to the room.
fn handle(
    room: &mut Room,
    actor: &mut Actor,
    cmds: &mut Vec<Cmd>,
    draining: bool,
    now: u64,
) -> Result<(), &'static str> {
    guarded(
        room,
        |room, out| {
            for cmd in cmds.drain(..) {
                match cmd {
                    Cmd::Join(join) if draining => {
                        if join.reply.is_none_or(|r| r.send(Err(JoinError::ShuttingDown)).is_err()) {
                            join.conn.signal.close(Close::SHUTDOWN);
                        }
                    }
                    Cmd::Join(join) => {
                        let super::Join { conn, principal, role, reply } = *join;
                        // No reply: it was let in while the room was being built.
                        if reply.is_none_or(|r| r.send(Ok(())).is_ok()) {
                            room.join(conn.id, principal, role, now);
                            actor.conns.insert(conn.id, conn);
                        }
                    }
                    Cmd::Frame { conn, msgs, received } => {
                        // An edit: an update that carries something (a fresh client's sync
                        // step 2 is an empty one).
                        if msgs
                            .iter()
                            .any(|m| matches!(m, Inbound::Update { update, .. } if !update.is_empty()))
                        {
                            actor.edits.push(received);
                        }
                        room.receive(conn, msgs, now, out)?
                    }
                    Cmd::SetRole { conn, role } => room.set_role(conn, role),
                    Cmd::Snapshot { reply } => actor.snapshots.push(reply),
                    Cmd::Merge(merge) => {
                        let super::Merge { author, update, reply } = *merge;
                        let merged = match yrs::Update::decode_v1(&update) {
                            Ok(update) => room.merge(author, update)?,
                            Err(_) => false,
                        };
                        actor.merges.push((reply, merged));
                    }
                    Cmd::Leave { conn } => {
                        actor.conns.remove(&conn);
                        room.leave(conn, out);
                    }
                }
            }
            Ok(())
        },
        &mut actor.out,
    )
}

type Built = Result<std::thread::Result<Result<Room, crate::sync::room::LoadError>>, tokio::task::JoinError>;

/// Waits for the room to be built (decoding a large board takes tens of milliseconds) while
/// taking commands into `backlog`, in order, for the room to handle first. Meanwhile, when the
/// stored board is one snapshot (`stored_state`, its sync step 2 frame): joiners are let in at
/// once, and a joiner's sync step 1 with an empty state vector (a fresh client) is answered
/// with it, so opening a large stored board costs a fresh client the store's read, not the
/// decode. That snapshot is committed state and exactly what the room will hold.
async fn while_building(
    building: tokio::task::JoinHandle<std::thread::Result<Result<Room, crate::sync::room::LoadError>>>,
    rx: &mut Receiver<Cmd>,
    backlog: &mut Vec<Cmd>,
    stored_state: Option<&bytes::Bytes>,
) -> Built {
    tokio::pin!(building);
    // Encoded once for every fresh joiner.
    let stored_state = stored_state.map(WsFrame::binary);
    let mut early: HashMap<ConnId, ConnHandle> = HashMap::new();
    loop {
        let cmd = tokio::select! {
            biased;
            built = &mut building => return built,
            cmd = rx.recv(), if backlog.len() < ROUND => cmd,
        };
        let Some(mut cmd) = cmd else { return building.await };
        if let Some(frame) = &stored_state {
            match &mut cmd {
                Cmd::Join(join) => {
                    if let Some(reply) = join.reply.take() {
                        if reply.send(Ok(())).is_err() {
                            continue; // the connection gave up waiting
                        }
                    }
                    early.insert(join.conn.id, join.conn.clone());
                }
                Cmd::Frame { conn, msgs, .. } => {
                    if let Some(handle) = early.remove(conn) {
                        let fresh =
                            msgs.iter().position(|m| matches!(m, Inbound::Step1(sv) if sv.is_empty()));
                        if let Some(i) = fresh {
                            if handle.outbox.try_send(frame) {
                                msgs.remove(i);
                            }
                        }
                    }
                }
                Cmd::Leave { conn } => {
                    early.remove(conn);
                }
                _ => {}
            }
        }
        backlog.push(cmd);
    }
}

/// Runs a room call, turning a panic into a reload: a panic inside yrs may leave the document
/// inconsistent, and the store still holds every committed update.
fn guarded(
    room: &mut Room,
    f: impl FnOnce(&mut Room, &mut Vec<Effect>) -> Result<(), crate::sync::room::Reload>,
    out: &mut Vec<Effect>,
) -> Result<(), &'static str> {
    match catch_unwind(AssertUnwindSafe(|| f(room, out))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(reload)) => Err(reload.0),
        Err(_) => {
            error!("room panicked");
            Err("panic")
        }
    }
}

/// Stops taking commands: every queued join is answered `answer`.
async fn refuse_all(
    shared: &Shared,
    key: &DocKey,
    generation: u64,
    rx: &mut Receiver<Cmd>,
    backlog: Vec<Cmd>,
    answer: JoinError,
) {
    shared.forget(key, generation);
    rx.close();
    let refuse = |cmd| {
        if let Cmd::Join(join) = cmd {
            // Let in while the room was being built: closed, the client reconnects.
            if join.reply.is_none_or(|r| r.send(Err(answer)).is_err()) {
                join.conn.signal.close(Close::RELOAD);
            }
        }
    };
    backlog.into_iter().for_each(refuse);
    while let Some(cmd) = rx.recv().await {
        refuse(cmd);
    }
}

struct Actor {
    conns: HashMap<ConnId, ConnHandle>,
    out: Vec<Effect>,
    /// Snapshot requests of the current round.
    snapshots: Vec<tokio::sync::oneshot::Sender<Vec<u8>>>,
    /// Merges of the current round, answered after its commit.
    merges: Vec<(tokio::sync::oneshot::Sender<bool>, bool)>,
    /// When the frames carrying this round's edits were read off their sockets.
    edits: Vec<u32>,
}

impl Actor {
    /// Records how long this round's edits took from their sockets to being relayed, committed.
    fn edits_relayed(&mut self) {
        if self.edits.is_empty() {
            return;
        }
        let (now, latency) = (telemetry::stamp(), metrics::histogram!(telemetry::EDIT_SECONDS));
        for received in self.edits.drain(..) {
            latency.record(telemetry::between(received, now));
        }
        if self.edits.capacity() > 4 * KEEP_CMDS {
            self.edits.shrink_to(KEEP_CMDS);
        }
    }

    /// Executes the room's effects: frames are written straight into the sockets (see
    /// `conn`), all of a round's frames for one connection in one write. A connection whose
    /// backlog is full is closed with 1013 and leaves the room, which may produce more effects
    /// (its presence removal).
    fn deliver(&mut self, room: &mut Room) {
        while !self.out.is_empty() {
            let effects = std::mem::take(&mut self.out);
            // Encoded once, written as is into every recipient's socket.
            let frames: Vec<Option<WsFrame>> = effects
                .iter()
                .map(|effect| match effect {
                    Effect::Send(_, frame) | Effect::Broadcast { frame, .. } => Some(WsFrame::binary(frame)),
                    Effect::Close(..) => None,
                })
                .collect();
            let mut gone = Vec::new();
            let mut closing = Vec::new();
            let mut batch: Vec<&WsFrame> = Vec::new();
            for (id, handle) in &self.conns {
                // This connection's frames in order, up to the room closing it.
                let mut close = None;
                for (effect, frame) in effects.iter().zip(&frames) {
                    match effect {
                        Effect::Send(to, _) if to == id => batch.extend(frame),
                        Effect::Broadcast { except, .. } if *except != Some(*id) => batch.extend(frame),
                        Effect::Close(to, why) if to == id => {
                            close = Some(*why);
                            break;
                        }
                        _ => {}
                    }
                }
                let sent = batch.is_empty() || handle.outbox.try_send_all(&batch);
                batch.clear();
                match close {
                    // The room already let it go: closed, whether its last frames fitted or not.
                    Some(why) => closing.push((*id, why)),
                    None if !sent => gone.push(*id),
                    None => {}
                }
            }
            for (conn, why) in closing {
                if let Some(handle) = self.conns.remove(&conn) {
                    info!(conn, code = why.code, reason = why.reason, "closing connection");
                    handle.signal.close(why);
                }
            }
            for conn in gone {
                if let Some(handle) = self.conns.remove(&conn) {
                    if handle.signal.reason().is_none() {
                        handle.signal.close(Close::SLOW);
                        info!(conn, "closing slow connection");
                    }
                    room.leave(conn, &mut self.out);
                }
            }
        }
    }

    fn close_all(&mut self, why: Close) {
        for (_, handle) in self.conns.drain() {
            handle.signal.close(why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tail;

    #[test]
    fn a_fold_waits_for_enough_updates_and_for_a_quarter_of_the_snapshot() {
        let tail = |updates, bytes, snapshot_bytes| Tail { updates, bytes, snapshot_bytes };
        assert!(!tail(999, 60_000, 10_000).due(1000), "too few updates");
        assert!(tail(1000, 60_000, 10_000).due(1000), "a small board: every 1,000 updates");
        assert!(tail(1000, 60_000, 0).due(1000), "no snapshot yet");
        assert!(!tail(1000, 60_000, 6_000_000).due(1000), "a 6 MB board: not after 60 KB");
        assert!(tail(25_000, 1_500_000, 6_000_000).due(1000), "a 6 MB board: after 1.5 MB");
    }
}
