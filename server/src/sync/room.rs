//! One board's document, presence and connections, driven by plain data.
//!
//! The driver (the room actor) calls [`Room::join`], [`Room::receive`] and [`Room::leave`] as
//! connections come and go, then either hands the [`Commit`] from [`Room::take_commit`] to the
//! store and calls [`Room::committed`], or calls [`Room::settle`] when there is nothing to commit.
//! Document updates and sync replies only leave the room from those two calls, so no client ever
//! receives state that is not committed. Presence is ephemeral and relayed at once.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use yrs::sync::Awareness;
use yrs::updates::decoder::Decode;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, Update, WriteTxn};

use super::wire::{self, Inbound};
use super::{rules, Close, ConnId, Effect, Limits, Principal, Role, BATCH_ABOVE};

/// Presence not renewed for this long is removed (the y-protocols `outdatedTimeout`).
pub const AWARENESS_TIMEOUT_MS: u64 = 30_000;

/// Largest merged relay frame built from consecutive updates of one sender.
const RELAY_MERGE_BYTES: usize = 256 * 1024;

/// The doc observer key used to capture each transaction's update.
const CAPTURE: &str = "atelier-capture";

/// The observer key of the facilitation rules, and the transaction origin of updates they check.
const RULES: &str = "atelier-rules";
const GUARDED: &str = "atelier-guarded";

/// The origin of the room's own changes (compensations): relayed to every connection.
pub const SERVER: ConnId = 0;

/// The principal that owns the room's own Yjs client ids.
pub const SERVER_PRINCIPAL: &str = "atelier:server";

/// What the rules observers see of the transaction being applied.
#[derive(Debug)]
struct Guard {
    role: Role,
    /// The author's participant id (votes, stars and comments are keyed by it).
    participant: String,
    violation: Option<&'static str>,
    /// Locked items before the transaction being judged.
    locks: rules::Locks,
    /// Who held keys in each note's votes and stars before it.
    keyed: rules::Keyed,
    /// The phase the transaction moved the board to, if it did.
    phase_changed: Option<String>,
    /// Items the transaction added, and how many its author may still add.
    adds: usize,
    allowed_adds: usize,
}

/// Updates applied to the document that must be committed before anyone sees them.
#[derive(Debug, Default)]
pub struct Commit {
    /// Each accepted update, as integrated (v1), in order.
    pub updates: Vec<Vec<u8>>,
    /// Yjs client ids seen for the first time on this board, and who wrote with them.
    pub owners: Vec<(ClientID, Principal)>,
    /// Versions of the whole document to keep with this commit (a phase change).
    pub versions: Vec<Version>,
}

/// A version of the document taken by the room.
#[derive(Debug, Clone)]
pub struct Version {
    /// `phase:<id>` for a phase change.
    pub label: String,
    pub created_by: Principal,
    /// The whole document state, v1-encoded.
    pub state: Vec<u8>,
}

impl Commit {
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty() && self.owners.is_empty() && self.versions.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.updates.iter().map(|u| u.len() as u64).sum()
    }
}

/// The room could not keep its document consistent; the driver must drop it and reload the
/// board from the store. Whatever was not committed is lost only on the server: the clients that
/// sent it still hold it and send it again when they resync.
#[derive(Debug, thiserror::Error)]
#[error("room must reload: {0}")]
pub struct Reload(pub &'static str);

/// Error loading a board's stored state into a room.
#[derive(Debug, thiserror::Error)]
#[error("stored board state does not decode or apply: {0}")]
pub struct LoadError(String);

#[derive(Debug)]
struct Peer {
    principal: Principal,
    role: Role,
    /// Yjs client ids this connection wrote with (for the saved extension).
    doc_ids: HashSet<ClientID>,
    /// Presence client ids owned by this connection, with when they were last renewed.
    awareness_ids: HashMap<ClientID, u64>,
    wants_saved: bool,
    /// Token bucket for presence relays, in thousandths of a message.
    tokens_milli: u64,
    last_refill_ms: u64,
    /// Presence changes held back by the rate cap, relayed by [`Room::tick`].
    coalesced: HashSet<ClientID>,
}

#[derive(Debug)]
enum Read {
    /// A new connection: send it our state vector and everyone's presence.
    Hello,
    /// Answer a sync step 1.
    Step1(StateVector),
    /// Acknowledge what is committed of a connection that just opted in to the saved extension.
    Saved,
}

struct Staged {
    origin: ConnId,
    update: Vec<u8>,
}

/// One open board.
pub struct Room {
    doc: Doc,
    awareness: Awareness,
    now_ms: Arc<AtomicU64>,
    captured: Arc<Mutex<Vec<u8>>>,
    limits: Limits,
    owners: HashMap<ClientID, Principal>,
    awareness_owner: HashMap<ClientID, ConnId>,
    /// Boxed: a table of a few connections reserves twice their number of slots, and a peer
    /// is ~200 bytes (rooms benchmark, docs/benchmarks.md).
    conns: HashMap<ConnId, Box<Peer>>,
    /// Stored size: snapshot plus log, including what is staged.
    board_bytes: u64,
    staged: Vec<Staged>,
    staged_owners: Vec<(ClientID, Principal)>,
    staged_versions: Vec<Version>,
    in_flight: Vec<Staged>,
    reads: Vec<(ConnId, Read)>,
    /// Sync step 2 for an empty state vector, shared by every fresh joiner until the doc changes.
    full_state: Option<Bytes>,
    pending_bytes: usize,
    /// Updates dropped because they would leave a gap in a client's history.
    dropped_gapped: u64,
    /// Presence changes gathered for the next batch (large rooms), and when it is due.
    batched: HashSet<ClientID>,
    /// When the next presence flush is due (room clock, ms): a batch, or coalesced changes.
    flush_due: Option<u64>,
    /// The facilitation rules' view of the transaction being applied.
    guard: Arc<Mutex<Guard>>,
    /// Captures violating transactions only; undoing one is the compensation.
    undo: yrs::UndoManager,
    /// Updates reverted by the rules.
    reverted: u64,
    /// Additions allowance per participant: (thousandths of an addition, last refill ms).
    adds: HashMap<Principal, (u64, u64)>,
}

impl Room {
    /// Builds a room from stored state: an optional snapshot and the log updates after it.
    pub fn load<'a>(
        snapshot: Option<&'a [u8]>,
        log: impl IntoIterator<Item = &'a [u8]>,
        owners: impl IntoIterator<Item = (ClientID, Principal)>,
        limits: Limits,
    ) -> Result<Self, LoadError> {
        let owners: HashMap<ClientID, Principal> = owners.into_iter().collect();
        // The room's own client id (compensations) must be nobody's.
        let mut doc = Doc::new();
        while owners.contains_key(&doc.client_id()) {
            doc = Doc::new();
        }
        let mut board_bytes = 0u64;
        // Each stored update gets its own transaction: one huge transaction is superlinear in yrs.
        for bytes in snapshot.into_iter().chain(log) {
            board_bytes += bytes.len() as u64;
            let update = Update::decode_v1(bytes).map_err(|e| LoadError(e.to_string()))?;
            doc.transact_mut().apply_update(update).map_err(|e| LoadError(e.to_string()))?;
        }
        // The facilitation rules: deep observers judge each checked transaction, and an undo
        // manager scoped to the board captures only the ones they found violating.
        let locks = rules::scan_locks(&doc.transact());
        let keyed = rules::Keyed::scan(&doc.transact());
        let guard = Arc::new(Mutex::new(Guard {
            role: Role::Facilitator,
            participant: String::new(),
            violation: None,
            locks,
            keyed,
            phase_changed: None,
            adds: 0,
            allowed_adds: usize::MAX,
        }));
        let capture_guard = guard.clone();
        let mut undo = yrs::UndoManager::with_options(yrs::undo::Options {
            capture_timeout_millis: 0,
            capture_transaction: Some(Arc::new(move |_| {
                capture_guard.lock().map(|g| g.violation.is_some()).unwrap_or(false)
            })),
            ..Default::default()
        });
        undo.include_origin(GUARDED);
        for root in std::iter::once(rules::META).chain(rules::ITEM_ROOTS) {
            let map = doc.get_or_insert_map(root);
            let judge = guard.clone();
            yrs::DeepObservable::observe_deep(&map, RULES, move |txn, events| {
                if let Ok(mut g) = judge.lock() {
                    if g.violation.is_none() {
                        g.violation =
                            rules::check(g.role, &g.participant, root, txn, events, &g.locks, &g.keyed);
                    }
                    rules::track_locks(root, txn, events, &mut g.locks);
                    g.keyed.track(root, txn, events);
                    if let Some(phase) = rules::phase_change(root, txn, events) {
                        g.phase_changed = Some(phase);
                    }
                    g.adds += rules::count_adds(root, txn, events);
                    if g.violation.is_none() && g.role != Role::Facilitator && g.adds > g.allowed_adds {
                        g.violation = Some(rules::TOO_MANY_ADDS);
                    }
                }
            });
            undo.expand_scope(&doc, &map);
        }
        let captured = Arc::new(Mutex::new(Vec::new()));
        let sink = captured.clone();
        doc.observe_update_v1(CAPTURE, move |_, ev| {
            // Runs inside the commit: must not open a transaction. Only stores the bytes.
            if let Ok(mut slot) = sink.lock() {
                *slot = ev.update.clone();
            }
        })
        .map_err(|e| LoadError(e.to_string()))?;
        let now_ms = Arc::new(AtomicU64::new(0));
        let clock = now_ms.clone();
        let awareness = Awareness::with_clock(doc.clone(), move || clock.load(Ordering::Relaxed));
        Ok(Self {
            doc,
            awareness,
            now_ms,
            captured,
            limits,
            owners,
            awareness_owner: HashMap::new(),
            conns: HashMap::new(),
            board_bytes,
            staged: Vec::new(),
            staged_owners: Vec::new(),
            staged_versions: Vec::new(),
            in_flight: Vec::new(),
            reads: Vec::new(),
            full_state: None,
            pending_bytes: 0,
            dropped_gapped: 0,
            batched: HashSet::new(),
            flush_due: None,
            guard,
            undo,
            reverted: 0,
            adds: HashMap::new(),
        })
    }

    /// Number of open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// How long this room's edits may wait to be committed together: a room of more than
    /// [`BATCH_ABOVE`] connections commits at most once per [`Limits::edit_batch_ms`], so that
    /// edits arriving in between cost each participant one frame per author instead of one
    /// each (see [`Room::committed`]). None: commit every round at once.
    pub fn edit_batch(&self) -> Option<u64> {
        (self.limits.edit_batch_ms > 0 && self.conns.len() > BATCH_ABOVE).then_some(self.limits.edit_batch_ms)
    }

    /// Whether anything applied waits to be committed ([`Room::take_commit`] would return it).
    pub fn has_staged(&self) -> bool {
        !(self.staged.is_empty() && self.staged_owners.is_empty() && self.staged_versions.is_empty())
    }

    /// Stored size of the board in bytes (snapshot plus log plus staged updates).
    pub fn board_bytes(&self) -> u64 {
        self.board_bytes
    }

    /// Sets the sync step 2 frame answered to fresh clients (empty state vector) until the
    /// document changes: the stored snapshot the room was built from, when it had no log after
    /// it, spares encoding the whole board for the first joiners.
    pub fn prime_full_state(&mut self, frame: Bytes) {
        self.full_state = Some(frame);
    }

    /// The committed document state, v1-encoded (for tests and exports).
    pub fn encode_state(&self) -> Vec<u8> {
        self.doc.transact().encode_diff_v1(&StateVector::default())
    }

    /// A new connection. It receives our state vector and everyone's presence at the next
    /// [`Room::settle`] or [`Room::committed`].
    pub fn join(&mut self, conn: ConnId, principal: Principal, role: Role, now_ms: u64) {
        let burst = u64::from(self.limits.awareness_per_sec.max(1)) * 1000;
        self.conns.insert(
            conn,
            Box::new(Peer {
                principal,
                role,
                doc_ids: HashSet::new(),
                awareness_ids: HashMap::new(),
                wants_saved: false,
                tokens_milli: burst,
                last_refill_ms: now_ms,
                coalesced: HashSet::new(),
            }),
        );
        self.reads.push((conn, Read::Hello));
    }

    /// Lowers or raises a live connection's role (revocation).
    pub fn set_role(&mut self, conn: ConnId, role: Role) {
        if let Some(peer) = self.conns.get_mut(&conn) {
            peer.role = role;
        }
    }

    /// A connection closed: forget it and remove its presence for everyone (no ghost cursors).
    pub fn leave(&mut self, conn: ConnId, out: &mut Vec<Effect>) {
        let Some(peer) = self.conns.remove(&conn) else { return };
        self.reads.retain(|(c, _)| *c != conn);
        let mut gone = Vec::new();
        for id in peer.awareness_ids.keys() {
            if self.awareness_owner.get(id) == Some(&conn) {
                self.awareness_owner.remove(id);
                self.awareness.remove_state(*id);
                gone.push(*id);
            }
        }
        if !gone.is_empty() {
            if let Ok(update) = self.awareness.update_with_clients(gone) {
                out.push(Effect::Broadcast { except: None, frame: wire::awareness_frame(update) });
            }
        }
    }

    fn close(&mut self, conn: ConnId, why: Close, out: &mut Vec<Effect>) {
        self.leave(conn, out);
        out.push(Effect::Close(conn, why));
    }

    /// Handles the messages of one frame from `conn`.
    pub fn receive(
        &mut self,
        conn: ConnId,
        msgs: Vec<Inbound>,
        now_ms: u64,
        out: &mut Vec<Effect>,
    ) -> Result<(), Reload> {
        self.now_ms.store(now_ms, Ordering::Relaxed);
        for msg in msgs {
            if !self.conns.contains_key(&conn) {
                break; // closed by an earlier message of this frame
            }
            match msg {
                Inbound::Step1(sv) => self.reads.push((conn, Read::Step1(sv))),
                Inbound::Update { update, len } => self.update(conn, update, len, out)?,
                Inbound::Awareness { update, len } => self.presence(conn, update, len, now_ms, out),
                Inbound::QueryAwareness => {
                    if let Some(frame) = self.full_awareness() {
                        out.push(Effect::Send(conn, frame));
                    }
                }
                Inbound::Auth => {}
                Inbound::SavedOptIn => {
                    if let Some(peer) = self.conns.get_mut(&conn) {
                        peer.wants_saved = true;
                    }
                    // Answered with the reads: updates staged in this round are not durable yet.
                    self.reads.push((conn, Read::Saved));
                }
            }
        }
        Ok(())
    }

    fn update(
        &mut self,
        conn: ConnId,
        update: Update,
        len: usize,
        out: &mut Vec<Effect>,
    ) -> Result<(), Reload> {
        let Some(peer) = self.conns.get(&conn) else { return Ok(()) };
        let (principal, role) = (peer.principal.clone(), peer.role);
        let sv = self.doc.transact().state_vector();

        // Client ids whose clock this update advances are the ones it writes as.
        let mut authored = Vec::new();
        let mut leaves_a_hole = false;
        for (client, ranges) in update.insertions(true).iter() {
            let end = ranges.iter().map(|r| r.end).max().unwrap_or(0);
            if end > sv.get(client) {
                authored.push(*client);
                // New content must continue the client's history without a gap: one range
                // starting at or before what we have. yrs 0.28.1 integrates gapped blocks
                // eagerly behind a skip, and overlapping gapped blocks make it wrap a clock
                // (block_store.rs:320, found by fuzzing), corrupting the document. A real
                // client never needs this: whatever we drop here is in its answer to our
                // sync step 1, which starts from our state vector.
                let start = ranges.iter().map(|r| r.start).min().unwrap_or(0);
                if ranges.len() != 1 || start > sv.get(client) {
                    leaves_a_hole = true;
                }
            }
        }
        if leaves_a_hole {
            self.dropped_gapped += 1;
            return Ok(());
        }

        if role == Role::Viewer {
            if authored.is_empty() && !self.deletes_anything_new(&update) {
                return Ok(()); // a stock client's empty step 2: nothing to refuse
            }
            out.push(Effect::Send(conn, wire::denied_frame("read-only: this board is view-only for you")));
            return Ok(());
        }

        if self.board_bytes.saturating_add(len as u64) > self.limits.max_board_bytes {
            self.close(conn, Close::TOO_BIG, out);
            return Ok(());
        }

        let mut new_owners = Vec::new();
        for client in &authored {
            match self.owners.get(client) {
                Some(owner) if *owner == principal => {}
                Some(_) => {
                    self.close(conn, Close::SPOOF, out);
                    return Ok(());
                }
                None => {
                    let announced_by_other = self
                        .awareness_owner
                        .get(client)
                        .and_then(|c| self.conns.get(c))
                        .is_some_and(|p| p.principal != principal);
                    if announced_by_other {
                        self.close(conn, Close::SPOOF, out);
                        return Ok(());
                    }
                    new_owners.push(*client);
                }
            }
        }

        // Facilitators' updates are not checked; everyone else's are judged as they integrate.
        let checked = role != Role::Facilitator;
        let allowed_adds = if checked { self.available_adds(&principal) } else { usize::MAX };
        if let Ok(mut g) = self.guard.lock() {
            g.role = role;
            g.participant = rules::participant_id(principal.as_str()).to_owned();
            g.violation = None;
            g.adds = 0;
            g.allowed_adds = allowed_adds;
        }
        let applied = {
            let mut txn =
                if checked { self.doc.transact_mut_with(GUARDED) } else { self.doc.transact_mut_with(conn) };
            let applied = txn.apply_update(update);
            let missing = txn.has_missing_updates();
            (applied, missing)
        };
        let (violation, phase_changed, adds) = self
            .guard
            .lock()
            .map(|mut g| {
                g.role = Role::Facilitator;
                (g.violation.take(), g.phase_changed.take(), std::mem::take(&mut g.adds))
            })
            .unwrap_or_default();
        if checked && violation.is_none() && adds > 0 {
            self.spend_adds(&principal, adds);
        }
        let integrated = self.captured.lock().map(|mut slot| std::mem::take(&mut *slot)).unwrap_or_default();
        if applied.0.is_err() {
            // The document may hold part of the update: only a reload restores committed state.
            return Err(Reload("an update failed half-way through integration"));
        }
        if applied.1 {
            self.pending_bytes += len;
            if self.pending_bytes > self.limits.max_pending_bytes {
                self.doc.transact_mut().prune_pending();
                self.pending_bytes = 0;
                self.close(conn, Close::PENDING, out);
            }
        } else {
            self.pending_bytes = 0;
        }

        for client in new_owners {
            self.owners.insert(client, principal.clone());
            self.staged_owners.push((client, principal.clone()));
        }
        if let Some(peer) = self.conns.get_mut(&conn) {
            peer.doc_ids.extend(authored);
        }
        // An empty transaction still emits `[0, 0]`.
        if integrated.len() > 2 {
            self.board_bytes += integrated.len() as u64;
            self.full_state = None;
            self.staged.push(Staged { origin: conn, update: integrated });
        }
        if let Some(reason) = violation {
            self.revert(conn, reason, out);
        } else if let Some(phase) = phase_changed {
            // The board as it stands when the facilitator moves to the next phase.
            self.staged_versions.push(Version {
                label: format!("phase:{phase}"),
                created_by: principal.clone(),
                state: self.encode_state(),
            });
        }
        Ok(())
    }

    /// Merges a participant's private document (its whole state) into this one, as the room's
    /// own change: the reveal of a silent phase. Nothing is checked by the facilitation rules
    /// (a facilitator asked for it); the author's Yjs client ids become bound to the author here
    /// too. Returns false, changing nothing, when the state would leave a gap in a client's
    /// history or writes with a client id bound to someone else.
    pub fn merge(&mut self, author: Principal, update: Update) -> Result<bool, Reload> {
        let sv = self.doc.transact().state_vector();
        let mut authored = Vec::new();
        for (client, ranges) in update.insertions(true).iter() {
            let end = ranges.iter().map(|r| r.end).max().unwrap_or(0);
            if end > sv.get(client) {
                let start = ranges.iter().map(|r| r.start).min().unwrap_or(0);
                if ranges.len() != 1 || start > sv.get(client) {
                    return Ok(false);
                }
                match self.owners.get(client) {
                    Some(owner) if *owner != author => return Ok(false),
                    Some(_) => {}
                    None => authored.push(*client),
                }
            }
        }
        let applied = self.doc.transact_mut_with(RULES).apply_update(update);
        let integrated = self.captured.lock().map(|mut slot| std::mem::take(&mut *slot)).unwrap_or_default();
        if let Ok(mut g) = self.guard.lock() {
            g.violation = None;
            g.phase_changed = None;
        }
        if applied.is_err() {
            return Err(Reload("a merge failed half-way through integration"));
        }
        for client in authored {
            self.owners.insert(client, author.clone());
            self.staged_owners.push((client, author.clone()));
        }
        if integrated.len() > 2 {
            self.board_bytes += integrated.len() as u64;
            self.full_state = None;
            self.staged.push(Staged { origin: SERVER, update: integrated });
        }
        Ok(true)
    }

    /// How many items the participant may add now: a token bucket per principal holding one
    /// minute's worth of additions (the board's `meta.addsPerMinute`, else the server's limit).
    fn available_adds(&mut self, principal: &Principal) -> usize {
        let per_minute = rules::adds_per_minute(&self.doc.transact()).unwrap_or(self.limits.adds_per_minute);
        let now = self.now_ms.load(Ordering::Relaxed);
        let capacity = per_minute.saturating_mul(1000);
        let (tokens, last) = self.adds.entry(principal.clone()).or_insert((capacity, now));
        // Thousandths of an addition: per_minute × 1000 per 60,000 ms.
        let refill = now.saturating_sub(*last).saturating_mul(per_minute) / 60;
        *tokens = tokens.saturating_add(refill).min(capacity);
        *last = now;
        usize::try_from(*tokens / 1000).unwrap_or(usize::MAX)
    }

    fn spend_adds(&mut self, principal: &Principal, n: usize) {
        if let Some((tokens, _)) = self.adds.get_mut(principal) {
            *tokens = tokens.saturating_sub((n as u64).saturating_mul(1000));
        }
    }

    /// Reverts the update just applied with a change of the room's own, staged after it (so the
    /// same commit holds both and every client, its author included, converges to the revert),
    /// and tells the author why.
    fn revert(&mut self, conn: ConnId, reason: &'static str, out: &mut Vec<Effect>) {
        self.undo.undo_blocking();
        self.undo.clear_all();
        // The compensation may itself change the phase back: that is no phase change to keep.
        if let Ok(mut g) = self.guard.lock() {
            g.phase_changed = None;
        }
        let compensation =
            self.captured.lock().map(|mut slot| std::mem::take(&mut *slot)).unwrap_or_default();
        if compensation.len() > 2 {
            let me = self.doc.client_id();
            if let std::collections::hash_map::Entry::Vacant(entry) = self.owners.entry(me) {
                let principal = Principal::new(SERVER_PRINCIPAL);
                entry.insert(principal.clone());
                self.staged_owners.push((me, principal));
            }
            self.board_bytes += compensation.len() as u64;
            self.full_state = None;
            self.staged.push(Staged { origin: SERVER, update: compensation });
        }
        self.reverted += 1;
        out.push(Effect::Send(conn, wire::denied_frame(reason)));
    }

    /// Updates reverted by the facilitation rules since the room was loaded.
    pub fn reverted(&self) -> u64 {
        self.reverted
    }

    fn deletes_anything_new(&self, update: &Update) -> bool {
        let ds = update.delete_set();
        if ds.is_empty() {
            return false;
        }
        let deleted = self.doc.transact().snapshot().delete_set;
        !ds.diff(&deleted).is_empty()
    }

    fn presence(
        &mut self,
        conn: ConnId,
        update: yrs::sync::AwarenessUpdate,
        len: usize,
        now_ms: u64,
        out: &mut Vec<Effect>,
    ) {
        if len > self.limits.max_awareness_bytes {
            self.close(conn, Close::TOO_BIG, out);
            return;
        }
        let Some(principal) = self.conns.get(&conn).map(|p| p.principal.clone()) else { return };
        // A stock client re-sends every presence change it receives, peers' included, so
        // entries for client ids this connection does not hold are expected: they are dropped
        // (never applied, never relayed), not treated as an attack.
        let mut accepted = HashMap::new();
        for (client, entry) in update.clients {
            if self.owners.get(&client).is_some_and(|owner| *owner != principal) {
                continue; // someone else's Yjs client id
            }
            if entry.clock == u32::MAX {
                // Removing this state later needs clock + 1: it would wrap (found by fuzzing)
                // and peers would keep a ghost. No real client gets near 4 billion renewals.
                continue;
            }
            let newer = self.awareness.meta(client).is_none_or(|(clock, _)| entry.clock > clock);
            let claims = newer && entry.json.as_ref() != "null";
            match self.awareness_owner.get(&client).copied() {
                Some(holder) if holder == conn => {}
                Some(holder) => {
                    // The same participant reconnecting before its old socket was noticed closed
                    // sends its own state with a higher clock: the new connection takes it over.
                    // Another tab relaying it sends the clock it received: ignored.
                    let same = self.conns.get(&holder).is_some_and(|p| p.principal == principal);
                    if !(same && claims) {
                        continue;
                    }
                    if let Some(old) = self.conns.get_mut(&holder) {
                        old.awareness_ids.remove(&client);
                    }
                }
                None if claims => {}
                None => continue, // a relayed removal or a stale state: nothing to claim
            }
            accepted.insert(client, entry);
        }
        if accepted.is_empty() {
            return;
        }
        let Some(peer) = self.conns.get_mut(&conn) else { return };
        for client in accepted.keys() {
            peer.awareness_ids.insert(*client, now_ms);
            self.awareness_owner.insert(*client, conn);
        }
        let update = yrs::sync::AwarenessUpdate { clients: accepted };
        let changed = match self.awareness.apply_update_summary(update) {
            Ok(Some(summary)) => summary.all_changes(),
            Ok(None) => Vec::new(),
            Err(_) => {
                self.close(conn, Close::MALFORMED, out);
                return;
            }
        };
        if changed.is_empty() {
            return;
        }
        let rate = u64::from(self.limits.awareness_per_sec.max(1));
        let batch = self.limits.presence_batch_ms > 0 && self.conns.len() > BATCH_ABOVE;
        let Some(peer) = self.conns.get_mut(&conn) else { return };
        refill(peer, rate, now_ms);
        if peer.tokens_milli >= 1000 && peer.coalesced.is_empty() {
            peer.tokens_milli -= 1000;
            if batch {
                self.batched.extend(changed);
                self.due(now_ms + self.limits.presence_batch_ms);
            } else if let Ok(update) = self.awareness.update_with_clients(changed) {
                // Echoed to the sender too: the stock client reconnects after 30 s of silence.
                out.push(Effect::Broadcast { except: None, frame: wire::awareness_frame(update) });
            }
        } else {
            peer.coalesced.extend(changed);
            // The next token arrives within 1000 / rate ms.
            self.due(now_ms + 1000 / rate);
        }
    }

    /// Makes sure a presence flush happens by `at` (keeps an earlier one).
    fn due(&mut self, at: u64) {
        self.flush_due = Some(self.flush_due.map_or(at, |due| due.min(at)));
    }

    fn full_awareness(&self) -> Option<Bytes> {
        let update = self.awareness.update().ok()?;
        (!update.clients.is_empty()).then(|| wire::awareness_frame(update))
    }

    fn send_saved(&self, conn: ConnId, out: &mut Vec<Effect>) {
        let Some(peer) = self.conns.get(&conn) else { return };
        if !peer.wants_saved {
            return;
        }
        let sv = self.doc.transact().state_vector();
        let mut mine = StateVector::default();
        for id in peer.doc_ids.iter().chain(peer.awareness_ids.keys()) {
            if self.owners.get(id).is_none_or(|o| *o == peer.principal) {
                mine.set_max(*id, sv.get(id));
            }
        }
        if !mine.is_empty() {
            out.push(Effect::Send(conn, wire::saved_frame(&mine)));
        }
    }

    /// Hands out what must be committed before anyone sees it, if anything. Call
    /// [`Room::committed`] once it is durable.
    pub fn take_commit(&mut self) -> Option<Commit> {
        if !self.has_staged() {
            return None;
        }
        let staged = std::mem::take(&mut self.staged);
        let commit = Commit {
            updates: staged.iter().map(|s| s.update.clone()).collect(),
            owners: std::mem::take(&mut self.staged_owners),
            versions: std::mem::take(&mut self.staged_versions),
        };
        self.in_flight = staged;
        Some(commit)
    }

    /// The last [`Commit`] is durable: relay its updates, acknowledge them, answer reads.
    pub fn committed(&mut self, out: &mut Vec<Effect>) {
        let flight = std::mem::take(&mut self.in_flight);
        let mut origins = HashSet::new();
        // Consecutive updates of one sender go out merged, up to RELAY_MERGE_BYTES: a burst
        // (a paste, a script) costs each other connection a few frames instead of hundreds.
        let mut i = 0;
        while i < flight.len() {
            let origin = flight[i].origin;
            let mut j = i;
            let mut bytes = 0;
            while j < flight.len()
                && flight[j].origin == origin
                && (j == i || bytes + flight[j].update.len() <= RELAY_MERGE_BYTES)
            {
                bytes += flight[j].update.len();
                j += 1;
            }
            let group = &flight[i..j];
            let merged = if group.len() == 1 {
                None
            } else {
                yrs::merge_updates_v1(group.iter().map(|s| s.update.as_slice())).ok()
            };
            origins.insert(origin);
            // Encoded once; the same bytes go to every other connection.
            match merged {
                Some(update) => out.push(Effect::Broadcast {
                    except: (origin != SERVER).then_some(origin),
                    frame: wire::update_frame(&update),
                }),
                None => {
                    for staged in group {
                        out.push(Effect::Broadcast {
                            except: (origin != SERVER).then_some(origin),
                            frame: wire::update_frame(&staged.update),
                        });
                    }
                }
            }
            i = j;
        }
        for conn in origins {
            self.send_saved(conn, out);
        }
        self.settle(out);
    }

    /// Answers the reads (joins, sync step 1) waiting for a consistent, committed state.
    pub fn settle(&mut self, out: &mut Vec<Effect>) {
        if self.reads.is_empty() {
            return;
        }
        let reads = std::mem::take(&mut self.reads);
        let mut saved = Vec::new();
        let txn = self.doc.transact();
        for (conn, read) in reads {
            match read {
                Read::Hello => {
                    out.push(Effect::Send(conn, wire::step1_frame(txn.state_vector())));
                    if let Some(frame) = self.full_awareness() {
                        out.push(Effect::Send(conn, frame));
                    }
                }
                Read::Step1(sv) if sv.is_empty() => {
                    let frame = self
                        .full_state
                        .get_or_insert_with(|| wire::step2_frame(txn.encode_diff_v1(&sv)))
                        .clone();
                    out.push(Effect::Send(conn, frame));
                }
                Read::Step1(sv) => out.push(Effect::Send(conn, wire::step2_frame(txn.encode_diff_v1(&sv)))),
                Read::Saved => saved.push(conn),
            }
        }
        drop(txn);
        for conn in saved {
            self.send_saved(conn, out);
        }
    }

    /// Periodic work: expire presence not renewed for [`AWARENESS_TIMEOUT_MS`] and relay presence
    /// held back by the rate cap.
    pub fn tick(&mut self, now_ms: u64, out: &mut Vec<Effect>) {
        self.now_ms.store(now_ms, Ordering::Relaxed);
        let rate = u64::from(self.limits.awareness_per_sec.max(1));
        let mut expired = Vec::new();
        let mut flush: Vec<ClientID> = self.batched.drain().collect();
        self.flush_due = None;
        for peer in self.conns.values_mut() {
            peer.awareness_ids.retain(|id, seen| {
                if now_ms.saturating_sub(*seen) > AWARENESS_TIMEOUT_MS {
                    expired.push(*id);
                    false
                } else {
                    true
                }
            });
            refill(peer, rate, now_ms);
            if !peer.coalesced.is_empty() && peer.tokens_milli >= 1000 {
                peer.tokens_milli -= 1000;
                flush.extend(peer.coalesced.drain());
            }
        }
        if self.conns.values().any(|p| !p.coalesced.is_empty()) {
            self.flush_due = Some(now_ms + 1000 / rate);
        }
        let mut expired_live = Vec::new();
        for id in expired {
            self.awareness_owner.remove(&id);
            let alive = self.awareness.meta(id).is_some()
                && self
                    .awareness
                    .update_with_clients([id])
                    .is_ok_and(|u| u.clients.values().any(|e| e.json.as_ref() != "null"));
            if alive {
                self.awareness.remove_state(id);
                expired_live.push(id);
            }
        }
        flush.extend(expired_live);
        flush.sort_unstable();
        flush.dedup();
        // One unknown id would fail the whole frame.
        flush.retain(|id| self.awareness.meta(*id).is_some());
        if !flush.is_empty() {
            if let Ok(update) = self.awareness.update_with_clients(flush) {
                out.push(Effect::Broadcast { except: None, frame: wire::awareness_frame(update) });
            }
        }
    }

    /// Updates dropped because they would have left a gap in a client's history (see `update`).
    pub fn dropped_gapped(&self) -> u64 {
        self.dropped_gapped
    }

    /// When presence changes held back (a batch, or the rate cap) are due, on the room clock
    /// (ms); the driver calls [`Room::tick`] then, which relays them in one frame.
    pub fn flush_due(&self) -> Option<u64> {
        self.flush_due
    }

    /// Every connection of the room, for closing them all.
    pub fn connection_ids(&self) -> Vec<ConnId> {
        self.conns.keys().copied().collect()
    }
}

fn refill(peer: &mut Peer, rate: u64, now_ms: u64) {
    let elapsed = now_ms.saturating_sub(peer.last_refill_ms);
    peer.last_refill_ms = now_ms;
    peer.tokens_milli = (peer.tokens_milli + elapsed * rate).min(rate * 1000);
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::encoder::Encode;
    use yrs::Map;

    fn room() -> Room {
        Room::load(None, std::iter::empty(), std::iter::empty(), Limits::default()).expect("empty room")
    }

    fn who(name: &str) -> Principal {
        Principal::new(name)
    }

    fn edit(doc: &Doc, key: &str) -> Inbound {
        let map = doc.get_or_insert_map("notes");
        let bytes = {
            let mut txn = doc.transact_mut();
            map.insert(&mut txn, key, 1);
            txn.encode_update_v1()
        };
        let len = bytes.len();
        Inbound::Update { update: Update::decode_v1(&bytes).expect("decodes"), len }
    }

    fn carries_update(effect: &Effect) -> bool {
        let frame = match effect {
            Effect::Send(_, f) | Effect::Broadcast { frame: f, .. } => f,
            Effect::Close(..) => return false,
        };
        matches!(
            Message::decode_v1(frame),
            Ok(Message::Sync(SyncMessage::Update(_))) | Ok(Message::Sync(SyncMessage::SyncStep2(_)))
        )
    }

    #[test]
    fn updates_reach_nobody_before_their_commit() {
        let mut room = room();
        let mut out = Vec::new();
        room.join(1, who("alice"), Role::Editor, 0);
        room.join(2, who("bob"), Role::Editor, 0);
        room.settle(&mut out);
        out.clear();

        let alice = Doc::with_client_id(11);
        room.receive(1, vec![edit(&alice, "a")], 0, &mut out).expect("ok");
        // Bob asks for the state in the same round: he must not get the uncommitted edit.
        room.receive(2, vec![Inbound::Step1(StateVector::default())], 0, &mut out).expect("ok");
        assert!(out.iter().all(|e| !carries_update(e)), "something left before the commit: {out:?}");

        let commit = room.take_commit().expect("something to commit");
        assert_eq!(commit.updates.len(), 1);
        assert_eq!(commit.owners, vec![(ClientID::new(11), who("alice"))]);
        room.committed(&mut out);
        assert!(out
            .iter()
            .any(|e| matches!(e, Effect::Broadcast { except: Some(1), .. }) && carries_update(e)));
        assert!(
            out.iter().any(|e| matches!(e, Effect::Send(2, _)) && carries_update(e)),
            "bob's step 2 after the commit"
        );
    }

    #[test]
    fn the_saved_acknowledgement_never_covers_an_uncommitted_update() {
        let mut room = room();
        let mut out = Vec::new();
        room.join(1, who("alice"), Role::Editor, 0);
        room.settle(&mut out);
        out.clear();
        let alice = Doc::with_client_id(11);
        // An update, then the opt-in, in one round: the acknowledgement must wait for the commit.
        room.receive(1, vec![edit(&alice, "a"), Inbound::SavedOptIn], 0, &mut out).expect("ok");
        let saved = |out: &[Effect]| {
            out.iter().any(|e| matches!(e, Effect::Send(1, f) if matches!(Message::decode_v1(f), Ok(Message::Custom(wire::MSG_SAVED, _)))))
        };
        assert!(!saved(&out), "acknowledged before the commit");
        room.take_commit().expect("staged");
        room.committed(&mut out);
        assert!(saved(&out), "acknowledged after the commit");
    }

    #[test]
    fn a_viewer_is_told_no_and_keeps_reading() {
        let mut room = room();
        let mut out = Vec::new();
        room.join(1, who("vera"), Role::Viewer, 0);
        // A stock client's empty sync step 2 is accepted silently.
        let empty = Update::decode_v1(&[0, 0]).expect("empty update");
        room.receive(1, vec![Inbound::Update { update: empty, len: 2 }], 0, &mut out).expect("ok");
        assert!(out.is_empty());
        // Content is refused with a permission-denied message, and nothing is staged.
        room.receive(1, vec![edit(&Doc::with_client_id(5), "x")], 0, &mut out).expect("ok");
        assert!(room.take_commit().is_none());
        assert!(
            matches!(&out[..], [Effect::Send(1, f)] if matches!(Message::decode_v1(f), Ok(Message::Auth(Some(_)))))
        );
        assert_eq!(room.connections(), 1, "the viewer stays connected");
    }

    #[test]
    fn a_lowered_role_takes_effect_on_the_next_message() {
        let mut room = room();
        let mut out = Vec::new();
        room.join(1, who("eve"), Role::Editor, 0);
        let doc = Doc::with_client_id(9);
        room.receive(1, vec![edit(&doc, "a")], 0, &mut out).expect("ok");
        assert!(room.take_commit().is_some());
        room.committed(&mut out);
        room.set_role(1, Role::Viewer);
        room.receive(1, vec![edit(&doc, "b")], 0, &mut out).expect("ok");
        assert!(room.take_commit().is_none());
    }

    fn presence(client: u64, clock: u32, json: &str) -> Inbound {
        let mut clients = HashMap::new();
        clients.insert(
            ClientID::new(client),
            yrs::sync::awareness::AwarenessUpdateEntry { clock, json: json.into() },
        );
        let update = yrs::sync::AwarenessUpdate { clients };
        let len = update.encode_v1().len();
        Inbound::Awareness { update, len }
    }

    fn awareness_of(effect: &Effect) -> Option<yrs::sync::AwarenessUpdate> {
        match effect {
            Effect::Broadcast { frame, .. } | Effect::Send(_, frame) => match Message::decode_v1(frame) {
                Ok(Message::Awareness(u)) => Some(u),
                _ => None,
            },
            Effect::Close(..) => None,
        }
    }

    #[test]
    fn presence_expires_after_thirty_silent_seconds() {
        let mut room = room();
        let mut out = Vec::new();
        room.join(1, who("alice"), Role::Editor, 0);
        room.join(2, who("bob"), Role::Editor, 0);
        room.receive(1, vec![presence(11, 1, r#"{"name":"A"}"#)], 0, &mut out).expect("ok");
        out.clear();
        room.tick(AWARENESS_TIMEOUT_MS - 1, &mut out);
        assert!(out.is_empty(), "not expired yet");
        room.tick(AWARENESS_TIMEOUT_MS + 1, &mut out);
        let removal = out.iter().find_map(awareness_of).expect("a removal is broadcast");
        assert_eq!(removal.clients[&ClientID::new(11)].json.as_ref(), "null");
    }

    #[test]
    fn presence_over_the_rate_cap_is_coalesced_not_lost() {
        let mut room = Room::load(
            None,
            std::iter::empty(),
            std::iter::empty(),
            Limits { awareness_per_sec: 2, ..Limits::default() },
        )
        .expect("room");
        let mut out = Vec::new();
        room.join(1, who("alice"), Role::Editor, 0);
        for clock in 1..=6 {
            room.receive(1, vec![presence(11, clock, &format!(r#"{{"x":{clock}}}"#))], 10, &mut out)
                .expect("ok");
        }
        assert_eq!(out.iter().filter_map(awareness_of).count(), 2, "burst of 2 relayed at once");
        assert!(room.flush_due().is_some());
        out.clear();
        room.tick(600, &mut out);
        let latest = out.iter().find_map(awareness_of).expect("coalesced state relayed");
        assert_eq!(latest.clients[&ClientID::new(11)].json.as_ref(), r#"{"x":6}"#);
    }

    #[test]
    fn large_rooms_relay_presence_in_batches_small_rooms_at_once() {
        // A small room: each change is relayed at once.
        let mut small = room();
        let mut out = Vec::new();
        for conn in 1..=BATCH_ABOVE as u64 {
            small.join(conn, who(&format!("p{conn}")), Role::Editor, 0);
        }
        small.receive(1, vec![presence(101, 1, "{}")], 0, &mut out).expect("ok");
        assert_eq!(out.iter().filter_map(awareness_of).count(), 1);
        assert!(small.flush_due().is_none());

        // A large room: changes wait for the batch, then go out together in one frame.
        let mut large = room();
        let n = BATCH_ABOVE as u64 + 40;
        for conn in 1..=n {
            large.join(conn, who(&format!("p{conn}")), Role::Editor, 0);
        }
        out.clear();
        for conn in 1..=n {
            large
                .receive(conn, vec![presence(100 + conn, 1, &format!(r#"{{"c":{conn}}}"#))], 5, &mut out)
                .expect("ok");
        }
        assert_eq!(out.iter().filter_map(awareness_of).count(), 0, "nothing relayed before the batch");
        assert_eq!(large.flush_due(), Some(5 + Limits::default().presence_batch_ms));
        large.tick(55, &mut out);
        let frames: Vec<_> = out.iter().filter_map(awareness_of).collect();
        assert_eq!(frames.len(), 1, "one frame for the whole batch");
        assert_eq!(frames[0].clients.len(), n as usize);
        assert!(matches!(out[0], Effect::Broadcast { except: None, .. }), "everyone, senders included");
        assert!(large.flush_due().is_none());

        // Batching off: at once, whatever the size.
        let mut off = Room::load(
            None,
            std::iter::empty(),
            std::iter::empty(),
            Limits { presence_batch_ms: 0, ..Limits::default() },
        )
        .expect("room");
        for conn in 1..=n {
            off.join(conn, who(&format!("p{conn}")), Role::Editor, 0);
        }
        out.clear();
        off.receive(1, vec![presence(101, 1, "{}")], 0, &mut out).expect("ok");
        assert_eq!(out.iter().filter_map(awareness_of).count(), 1);
    }

    #[test]
    fn leaving_removes_the_presence_of_every_client_of_the_connection() {
        let mut room = room();
        let mut out = Vec::new();
        room.join(1, who("alice"), Role::Editor, 0);
        room.join(2, who("bob"), Role::Editor, 0);
        room.receive(1, vec![presence(11, 1, "{}"), presence(12, 1, "{}")], 0, &mut out).expect("ok");
        out.clear();
        room.leave(1, &mut out);
        let removal = out.iter().find_map(awareness_of).expect("removal broadcast");
        let mut gone: Vec<u64> = removal.clients.keys().map(|c| c.get()).collect();
        gone.sort();
        assert_eq!(gone, vec![11, 12]);
        assert!(removal.clients.values().all(|e| e.json.as_ref() == "null"));
    }

    #[test]
    fn reloading_stored_updates_gives_the_same_document() {
        let mut room = room();
        let mut out = Vec::new();
        room.join(1, who("alice"), Role::Editor, 0);
        let doc = Doc::with_client_id(3);
        for i in 0..10 {
            room.receive(1, vec![edit(&doc, &format!("k{i}"))], 0, &mut out).expect("ok");
        }
        let commit = room.take_commit().expect("commit");
        room.committed(&mut out);
        let owners = commit.owners.clone();
        let reloaded =
            Room::load(None, commit.updates.iter().map(|u| u.as_slice()), owners, Limits::default())
                .expect("reload");
        assert_eq!(reloaded.encode_state(), room.encode_state());
    }
}

#[cfg(test)]
mod fuzz_regressions {
    use super::*;

    /// Found by `cargo fuzz run frame`: a sync step 2 whose GC block replaces an integrated
    /// skip at a clock before the skip's start; yrs 0.28.1 subtracts with overflow in
    /// `BlockStore::push` (block_store.rs:320).
    #[test]
    fn gc_block_before_an_integrated_skip_does_not_take_the_room_down() {
        let frame = [
            0, 1, 13, 1, 1, 8, 255, 118, 0, 232, 4, 1, 0, 1, 5, 0, 0, 1, 13, 1, 1, 8, 255, 114, 0, 232, 4, 1,
            0, 1, 5, 0,
        ];
        let msgs = wire::decode_frame(&frame).expect("structurally valid");
        let mut room = Room::load(None, std::iter::empty(), std::iter::empty(), Limits::default()).unwrap();
        let empty = room.encode_state();
        let mut out = Vec::new();
        room.join(1, Principal::new("p"), Role::Editor, 0);
        room.receive(1, msgs, 0, &mut out).expect("no reload needed");
        assert!(room.take_commit().is_none(), "a gapped update was staged");
        assert_eq!(room.encode_state(), empty, "the document changed");
        assert_eq!(room.dropped_gapped(), 2);
    }

    /// Found by `cargo fuzz run frame`: presence at clock u32::MAX made the removal at expiry
    /// overflow (`remove_state` adds one to the clock).
    #[test]
    fn presence_at_the_last_clock_is_ignored() {
        let frame = [1, 138, 0, 1, 255, 255, 39, 255, 255, 255, 255, 15, 0];
        let msgs = wire::decode_frame(&frame[..]).expect("structurally valid");
        assert!(
            matches!(&msgs[..], [Inbound::Awareness { update, .. }] if update.clients.values().all(|e| e.clock == u32::MAX))
        );
        let mut room = Room::load(None, std::iter::empty(), std::iter::empty(), Limits::default()).unwrap();
        let mut out = Vec::new();
        room.join(1, Principal::new("p"), Role::Editor, 0);
        room.receive(1, msgs, 0, &mut out).unwrap();
        assert!(out.is_empty(), "a state that could never be removed was accepted and relayed");
        room.tick(60_000, &mut out);
        room.leave(1, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn an_update_continuing_the_history_is_still_accepted() {
        let doc = Doc::with_client_id(8);
        let text = doc.get_or_insert_text("t");
        let mut updates = Vec::new();
        for word in ["a", "b", "c"] {
            let mut txn = doc.transact_mut();
            yrs::Text::insert(&text, &mut txn, 0, word);
            updates.push(txn.encode_update_v1());
        }
        let mut room = Room::load(None, std::iter::empty(), std::iter::empty(), Limits::default()).unwrap();
        let mut out = Vec::new();
        room.join(1, Principal::new("p"), Role::Editor, 0);
        // The third update alone leaves a gap: dropped.
        let third = Update::decode_v1(&updates[2]).unwrap();
        room.receive(1, vec![Inbound::Update { update: third, len: updates[2].len() }], 0, &mut out).unwrap();
        assert!(room.take_commit().is_none());
        // In order, all three are accepted.
        for bytes in &updates {
            let update = Update::decode_v1(bytes).unwrap();
            room.receive(1, vec![Inbound::Update { update, len: bytes.len() }], 0, &mut out).unwrap();
        }
        assert_eq!(room.take_commit().map(|c| c.updates.len()), Some(3));
    }
}
