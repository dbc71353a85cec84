//! Facilitation rules the server enforces on every change, whatever the client.
//!
//! A modified client can send any CRDT update, so what a role may not do is checked on the
//! server, after the update is applied, from the changes it made (yrs deep events on the
//! board's top-level maps). Refusing part of an update would leave a hole after which the
//! author's later edits never integrate; instead the room reverts a violating update with a
//! compensating change of its own in the same commit (yrs's `UndoManager` scoped to the board,
//! capturing only violating transactions), so every client converges and the author sees the
//! revert. The whole update is reverted, allowed parts included: the web UI never sends such
//! updates, so only a modified client loses anything.
//!
//! The rules (docs/board-schema.md, "Facilitation"):
//! - `meta` holds board settings: only facilitators change them, except that anyone may add
//!   `schema` and `kind` while they are missing (the first editor of a new board writes them).
//! - An item (a `Y.Map` in `notes`, `clusters`, `strokes`, `shapes`, `frames`) whose `locked`
//!   is `true` is changed, moved or deleted by facilitators only, and only facilitators set or
//!   clear `locked`.
//! - During a phase (`meta.phase`, one of `meta.phases`) whose `allow` lists top-level maps,
//!   participants add items to those maps only.

use yrs::types::{EntryChange, Event, PathSegment};
use yrs::{Any, Map, MapRef, Out, ReadTxn, TransactionMut};

use super::Role;

/// Top-level maps of a board whose items the rules look at.
pub const ITEM_ROOTS: [&str; 5] = ["notes", "clusters", "strokes", "shapes", "frames"];
/// The board settings map.
pub const META: &str = "meta";
/// Keys of `meta` anyone may add while missing.
const OPEN_META_KEYS: [&str; 2] = ["schema", "kind"];
/// The key that locks an item.
pub const LOCKED: &str = "locked";

/// Why an update was reverted (sent to its author, safe to show).
pub const SETTINGS_FOR_FACILITATORS: &str = "reverted: board settings are changed by facilitators only";
pub const LOCKED_ITEM: &str = "reverted: this item is locked by a facilitator";
pub const NOT_IN_PHASE: &str = "reverted: the current phase does not allow adding this";
pub const TOO_MANY_ADDS: &str = "reverted: too many additions for now, wait a moment";

/// Items (`Y.Map` entries, as the schema writes them) a transaction added to the board's item
/// maps: what the additions limit counts.
pub fn count_adds(root: &str, txn: &TransactionMut, events: &yrs::types::Events) -> usize {
    if !ITEM_ROOTS.contains(&root) {
        return 0;
    }
    events
        .iter()
        .filter(|e| e.path().is_empty())
        .filter_map(|e| if let Event::Map(e) = e { Some(e) } else { None })
        .map(|e| e.keys(txn).values().filter(|c| matches!(c, EntryChange::Inserted(Out::YMap(_)))).count())
        .sum()
}

/// The board's own limit of additions per participant per minute (`meta.addsPerMinute`), if set.
pub fn adds_per_minute<T: ReadTxn>(txn: &T) -> Option<u64> {
    let meta = txn.get_map(META)?;
    match meta.get(txn, "addsPerMinute")? {
        Out::Any(Any::Number(n)) => n.as_f64().filter(|v| v.is_finite() && *v >= 0.0).map(|v| v as u64),
        _ => None,
    }
}

/// The top-level maps participants may add items to in the current phase (None: any).
fn phase_allows<T: ReadTxn>(txn: &T) -> Option<Vec<String>> {
    let meta = txn.get_map(META)?;
    let Some(Out::Any(Any::String(current))) = meta.get(txn, "phase") else { return None };
    let Some(Out::Any(Any::Array(phases))) = meta.get(txn, "phases") else { return None };
    let phase = phases.iter().find_map(|p| match p {
        Any::Map(p) if matches!(p.get("id"), Some(Any::String(id)) if *id == current) => Some(p.clone()),
        _ => None,
    })?;
    match phase.get("allow") {
        Some(Any::Array(allow)) => Some(
            allow
                .iter()
                .filter_map(|a| if let Any::String(s) = a { Some(s.to_string()) } else { None })
                .collect(),
        ),
        _ => None,
    }
}

/// Items locked before the transaction being judged, as `root/id` (a deleted item's content is
/// no longer readable in the events that delete it, so locks are tracked as they change).
pub type Locks = std::collections::HashSet<String>;

fn lock_key(root: &str, id: &str) -> String {
    format!("{root}/{id}")
}

/// Every locked item of a document (at load).
pub fn scan_locks<T: ReadTxn>(txn: &T) -> Locks {
    let mut locks = Locks::new();
    for root in ITEM_ROOTS {
        if let Some(map) = txn.get_map(root) {
            for (id, value) in map.iter(txn) {
                if is_locked(txn, &value) {
                    locks.insert(lock_key(root, id));
                }
            }
        }
    }
    locks
}

/// Keeps `locks` in step with a transaction's events (every transaction, whoever made it).
pub fn track_locks(root: &str, txn: &TransactionMut, events: &yrs::types::Events, locks: &mut Locks) {
    if !ITEM_ROOTS.contains(&root) {
        return;
    }
    for event in events.iter() {
        let path = event.path();
        let Event::Map(e) = event else { continue };
        match path.front() {
            None => {
                for (id, change) in e.keys(txn) {
                    let key = lock_key(root, id);
                    match change {
                        EntryChange::Inserted(new) | EntryChange::Updated(_, new) if is_locked(txn, new) => {
                            locks.insert(key);
                        }
                        _ => {
                            locks.remove(&key);
                        }
                    }
                }
            }
            Some(PathSegment::Key(id)) if path.len() == 1 && e.keys(txn).contains_key(LOCKED) => {
                let key = lock_key(root, id);
                if locked(txn, e.target()) {
                    locks.insert(key);
                } else {
                    locks.remove(&key);
                }
            }
            _ => {}
        }
    }
}

/// The first rule a transaction breaks, from the deep events of one top-level map and the locks
/// as they were before it.
pub fn check(
    role: Role,
    root: &str,
    txn: &TransactionMut,
    events: &yrs::types::Events,
    locks: &Locks,
) -> Option<&'static str> {
    if role == Role::Facilitator {
        return None;
    }
    for event in events.iter() {
        let path = event.path();
        if root == META {
            if !path.is_empty() {
                return Some(SETTINGS_FOR_FACILITATORS);
            }
            let Event::Map(e) = event else { return Some(SETTINGS_FOR_FACILITATORS) };
            for (key, change) in e.keys(txn) {
                // Two editors opening a new board at once both add `schema` and `kind`: the
                // second write arrives as a change to the same value, which is no change.
                let open = match change {
                    EntryChange::Inserted(_) => true,
                    EntryChange::Updated(old, new) => old == new,
                    EntryChange::Removed(_) => false,
                };
                if !(open && OPEN_META_KEYS.contains(&key.as_ref())) {
                    return Some(SETTINGS_FOR_FACILITATORS);
                }
            }
            continue;
        }
        if !ITEM_ROOTS.contains(&root) {
            continue;
        }
        match path.front() {
            // Items added, replaced or removed.
            None => {
                let Event::Map(e) = event else { continue };
                let keys = e.keys(txn);
                let adds = keys.values().any(|c| matches!(c, EntryChange::Inserted(_)));
                if adds && phase_allows(txn).is_some_and(|allow| !allow.iter().any(|a| a == root)) {
                    return Some(NOT_IN_PHASE);
                }
                for (id, change) in keys {
                    let was_locked = locks.contains(&lock_key(root, id));
                    let breaks = match change {
                        EntryChange::Inserted(new) | EntryChange::Updated(_, new) => {
                            was_locked || is_locked(txn, new)
                        }
                        EntryChange::Removed(_) => was_locked,
                    };
                    if breaks {
                        return Some(LOCKED_ITEM);
                    }
                }
            }
            // Inside one item: its keys, or its text or votes.
            Some(PathSegment::Key(id)) => {
                if path.len() == 1 {
                    if let Event::Map(e) = event {
                        if e.keys(txn).contains_key(LOCKED) {
                            return Some(LOCKED_ITEM);
                        }
                    }
                }
                if locks.contains(&lock_key(root, id)) {
                    return Some(LOCKED_ITEM);
                }
            }
            Some(PathSegment::Index(_)) => {}
        }
    }
    None
}

/// The new `meta.phase` when a transaction changed it.
pub fn phase_change(root: &str, txn: &TransactionMut, events: &yrs::types::Events) -> Option<String> {
    if root != META {
        return None;
    }
    for event in events.iter() {
        let Event::Map(e) = event else { continue };
        if !event.path().is_empty() {
            continue;
        }
        if let Some(EntryChange::Inserted(v) | EntryChange::Updated(_, v)) = e.keys(txn).get("phase") {
            return Some(match v {
                Out::Any(Any::String(s)) => s.to_string(),
                _ => String::new(),
            });
        }
    }
    None
}

/// Whether a value is an item map with `locked: true`.
fn is_locked<T: ReadTxn>(txn: &T, value: &Out) -> bool {
    match value {
        Out::YMap(map) => locked(txn, map),
        _ => false,
    }
}

fn locked<T: ReadTxn>(txn: &T, map: &MapRef) -> bool {
    matches!(map.get(txn, LOCKED), Some(Out::Any(Any::Bool(true))))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, GetString, Map, MapPrelim, Text, TextPrelim, Transact, Update, WriteTxn};

    use super::*;
    use crate::sync::room::{Room, SERVER_PRINCIPAL};
    use crate::sync::{Effect, Inbound, Limits, Principal};

    const FACILITATOR: u64 = 1;
    const PARTICIPANT: u64 = 2;

    struct Board {
        room: Room,
        fac: Doc,
        par: Doc,
        /// The room clock given with each edit, in ms.
        now: u64,
    }

    impl Board {
        fn new() -> Self {
            let mut room =
                Room::load(None, std::iter::empty(), std::iter::empty(), Limits::default()).unwrap();
            room.join(FACILITATOR, Principal::new("fanny"), Role::Facilitator, 0);
            room.join(PARTICIPANT, Principal::new("paul"), Role::Editor, 0);
            let mut out = Vec::new();
            room.settle(&mut out);
            Self { room, fac: Doc::with_client_id(101), par: Doc::with_client_id(202), now: 0 }
        }

        /// `conn` edits its document; the room applies and commits it; every document receives
        /// what the room relayed. Returns the effects.
        fn edit(&mut self, conn: u64, f: impl FnOnce(&Doc, &mut yrs::TransactionMut)) -> Vec<Effect> {
            let doc = if conn == FACILITATOR { self.fac.clone() } else { self.par.clone() };
            let update = {
                let mut txn = doc.transact_mut();
                f(&doc, &mut txn);
                txn.encode_update_v1()
            };
            let mut out = Vec::new();
            let len = update.len();
            self.room
                .receive(
                    conn,
                    vec![Inbound::Update { update: Update::decode_v1(&update).unwrap(), len }],
                    self.now,
                    &mut out,
                )
                .unwrap();
            if self.room.take_commit().is_some() {
                self.room.committed(&mut out);
            }
            for effect in &out {
                if let Effect::Broadcast { except, frame } = effect {
                    for (id, d) in [(FACILITATOR, &self.fac), (PARTICIPANT, &self.par)] {
                        if *except != Some(id) {
                            apply_frame(d, frame);
                        }
                    }
                }
            }
            out
        }

        fn state(&self, doc: &Doc) -> serde_json::Value {
            let txn = doc.transact();
            let mut out = serde_json::Map::new();
            for root in ["meta", "notes"] {
                if let Some(map) = txn.get_map(root) {
                    out.insert(
                        root.into(),
                        serde_json::to_value(yrs::types::ToJson::to_json(&map, &txn)).unwrap(),
                    );
                }
            }
            serde_json::Value::Object(out)
        }

        /// Every document and the room agree.
        fn converged(&self) -> serde_json::Value {
            let server = Doc::new();
            server
                .transact_mut()
                .apply_update(Update::decode_v1(&self.room.encode_state()).unwrap())
                .unwrap();
            let s = self.state(&server);
            assert_eq!(self.state(&self.fac), s, "the facilitator's document differs from the room's");
            assert_eq!(self.state(&self.par), s, "the participant's document differs from the room's");
            s
        }
    }

    fn apply_frame(doc: &Doc, frame: &[u8]) {
        use yrs::sync::{Message, SyncMessage};
        if let Ok(Message::Sync(SyncMessage::Update(u) | SyncMessage::SyncStep2(u))) =
            Message::decode_v1(frame)
        {
            doc.transact_mut().apply_update(Update::decode_v1(&u).unwrap()).unwrap();
        }
    }

    fn denied(out: &[Effect], conn: u64) -> bool {
        use yrs::sync::Message;
        out.iter().any(|e| matches!(e, Effect::Send(c, f) if *c == conn && matches!(Message::decode_v1(f), Ok(Message::Auth(Some(_))))))
    }

    fn add_note(doc: &Doc, txn: &mut yrs::TransactionMut, id: &str, text: &str, locked: bool) {
        let _ = doc;
        let notes = txn.get_or_insert_map("notes");
        let note = notes.insert(txn, id, MapPrelim::default());
        note.insert(txn, "type", "note");
        note.insert(txn, "xy", Any::from(vec![Any::from(10.0), Any::from(20.0)]));
        let t = note.insert(txn, "text", TextPrelim::new(""));
        t.insert(txn, 0, text);
        if locked {
            note.insert(txn, LOCKED, true);
        }
    }

    fn note<T: ReadTxn>(doc: &Doc, txn: &T, id: &str) -> MapRef {
        let Some(notes) = txn.get_map("notes") else { panic!("no notes") };
        let _ = doc;
        match notes.get(txn, id) {
            Some(Out::YMap(m)) => m,
            other => panic!("no note {id}: {other:?}"),
        }
    }

    #[test]
    fn settings_are_for_facilitators_but_a_new_board_may_be_initialised_by_anyone() {
        let mut b = Board::new();
        let out = b.edit(PARTICIPANT, |_d, txn| {
            let meta = txn.get_or_insert_map("meta");
            meta.insert(txn, "schema", 1.0);
            meta.insert(txn, "kind", "postit");
        });
        assert!(!denied(&out, PARTICIPANT));
        let out = b.edit(PARTICIPANT, |_d, txn| {
            txn.get_or_insert_map("meta").insert(txn, "phase", "vote");
        });
        assert!(denied(&out, PARTICIPANT), "the participant is told");
        let s = b.converged();
        assert_eq!(
            s["meta"],
            serde_json::json!({"schema": 1, "kind": "postit"}),
            "phase reverted everywhere"
        );
        // Writing the same value again (a second editor initialising the board) is no change.
        let out = b.edit(PARTICIPANT, |_d, txn| {
            txn.get_or_insert_map("meta").insert(txn, "kind", "postit");
        });
        assert!(!denied(&out, PARTICIPANT));
        // Changing an existing open key is a settings change too.
        let out = b.edit(PARTICIPANT, |_d, txn| {
            txn.get_or_insert_map("meta").insert(txn, "kind", "radar");
        });
        assert!(denied(&out, PARTICIPANT));
        assert_eq!(b.converged()["meta"]["kind"], "postit");
        // The facilitator may.
        let out = b.edit(FACILITATOR, |_d, txn| {
            txn.get_or_insert_map("meta").insert(txn, "phase", "vote");
        });
        assert!(!denied(&out, FACILITATOR));
        assert_eq!(b.converged()["meta"]["phase"], "vote");
        assert_eq!(b.room.reverted(), 2);
    }

    #[test]
    fn a_locked_item_cannot_be_moved_edited_unlocked_or_deleted_by_a_participant() {
        let mut b = Board::new();
        b.edit(FACILITATOR, |d, txn| add_note(d, txn, "locked", "Consigne de l'atelier", true));
        b.edit(PARTICIPANT, |d, txn| add_note(d, txn, "free", "Mon idée", false));
        let before = b.converged();

        type Attempt = Box<dyn Fn(&Doc, &mut yrs::TransactionMut)>;
        let attempts: Vec<Attempt> = vec![
            Box::new(|d, txn| {
                note(d, txn, "locked").insert(txn, "xy", Any::from(vec![Any::from(500.0), Any::from(500.0)]));
            }),
            Box::new(|d, txn| {
                let Some(Out::YText(t)) = note(d, txn, "locked").get(txn, "text") else { panic!() };
                t.insert(txn, 0, "PIRATÉ ");
            }),
            Box::new(|d, txn| {
                let Some(Out::YText(t)) = note(d, txn, "locked").get(txn, "text") else { panic!() };
                t.remove_range(txn, 0, 8);
            }),
            Box::new(|d, txn| {
                note(d, txn, "locked").insert(txn, LOCKED, false);
            }),
            Box::new(|_d, txn| {
                txn.get_or_insert_map("notes").remove(txn, "locked");
            }),
            // Locking an item is for facilitators too.
            Box::new(|d, txn| {
                note(d, txn, "free").insert(txn, LOCKED, true);
            }),
        ];
        for (i, attempt) in attempts.iter().enumerate() {
            let out = b.edit(PARTICIPANT, |d, txn| attempt(d, txn));
            assert!(denied(&out, PARTICIPANT), "attempt {i} is refused to its author");
            assert_eq!(b.converged(), before, "attempt {i} is reverted for everyone");
        }
        let txn = b.par.transact();
        let Some(Out::YText(t)) = note(&b.par, &txn, "locked").get(&txn, "text") else { panic!() };
        assert_eq!(t.get_string(&txn), "Consigne de l'atelier", "a deleted locked note comes back whole");
        drop(txn);

        // What is not locked stays free for everyone, and the facilitator may do anything.
        let out = b.edit(PARTICIPANT, |d, txn| {
            note(d, txn, "free").insert(txn, "xy", Any::from(vec![Any::from(1.0), Any::from(2.0)]));
        });
        assert!(!denied(&out, PARTICIPANT));
        let out = b.edit(FACILITATOR, |d, txn| {
            note(d, txn, "locked").insert(txn, LOCKED, false);
        });
        assert!(!denied(&out, FACILITATOR));
        let out = b.edit(PARTICIPANT, |d, txn| {
            note(d, txn, "locked").insert(txn, "xy", Any::from(vec![Any::from(3.0), Any::from(4.0)]));
        });
        assert!(!denied(&out, PARTICIPANT), "unlocked by the facilitator: free again");
        let s = b.converged();
        assert_eq!(s["notes"]["locked"]["xy"], serde_json::json!([3, 4]));
        assert_eq!(s["notes"]["free"]["xy"], serde_json::json!([1, 2]));
        assert_eq!(b.room.reverted(), 6);
    }

    #[test]
    fn the_participant_keeps_editing_after_a_revert_and_compensations_are_the_servers() {
        let mut b = Board::new();
        b.edit(FACILITATOR, |d, txn| add_note(d, txn, "locked", "Consigne", true));
        let out = b.edit(PARTICIPANT, |d, txn| {
            note(d, txn, "locked").insert(txn, "xy", Any::from(vec![Any::from(9.0), Any::from(9.0)]));
        });
        assert!(denied(&out, PARTICIPANT));
        // The compensation is broadcast to everyone, its author included.
        assert!(out.iter().any(|e| matches!(e, Effect::Broadcast { except: None, .. })));
        // Later edits of the same client integrate normally (no hole in its history).
        for i in 0..3 {
            let out = b.edit(PARTICIPANT, |d, txn| add_note(d, txn, &format!("n{i}"), "suite", false));
            assert!(!denied(&out, PARTICIPANT));
        }
        let s = b.converged();
        assert_eq!(s["notes"].as_object().unwrap().len(), 4);
        // The room wrote the compensation with a client id of its own, bound to the server.
        let commit_owner_is_server = {
            let mut b2 = Board::new();
            b2.edit(FACILITATOR, |d, txn| add_note(d, txn, "l", "x", true));
            let doc = b2.par.clone();
            let update = {
                let mut txn = doc.transact_mut();
                note(&doc, &txn, "l").insert(&mut txn, "z", "a");
                txn.encode_update_v1()
            };
            let mut out = Vec::new();
            let len = update.len();
            b2.room
                .receive(
                    PARTICIPANT,
                    vec![Inbound::Update { update: Update::decode_v1(&update).unwrap(), len }],
                    0,
                    &mut out,
                )
                .unwrap();
            let commit = b2.room.take_commit().unwrap();
            assert_eq!(commit.updates.len(), 2, "the update and its compensation, in one commit");
            commit.owners.iter().any(|(_, p)| p.as_str() == SERVER_PRINCIPAL)
        };
        assert!(commit_owner_is_server);
    }

    #[test]
    fn a_phase_limits_what_participants_may_add() {
        let mut b = Board::new();
        b.edit(FACILITATOR, |_d, txn| {
            let meta = txn.get_or_insert_map("meta");
            let phases = Any::from(vec![
                Any::from(std::collections::HashMap::from([
                    ("id".to_owned(), Any::from("ecriture")),
                    ("allow".to_owned(), Any::from(vec![Any::from("notes")])),
                ])),
                Any::from(std::collections::HashMap::from([("id".to_owned(), Any::from("libre"))])),
            ]);
            meta.insert(txn, "phases", phases);
            meta.insert(txn, "phase", "ecriture");
        });
        // Notes may be added; a cluster may not.
        let out = b.edit(PARTICIPANT, |d, txn| add_note(d, txn, "n1", "Une idée", false));
        assert!(!denied(&out, PARTICIPANT));
        let out = b.edit(PARTICIPANT, |_d, txn| {
            let clusters = txn.get_or_insert_map("clusters");
            let c = clusters.insert(txn, "c1", MapPrelim::default());
            c.insert(txn, "type", "cluster");
        });
        assert!(denied(&out, PARTICIPANT), "no clusters while writing");
        {
            let txn = b.par.transact();
            assert!(txn.get_map("clusters").is_none_or(|c| c.len(&txn) == 0), "reverted for its author");
        }
        // Existing items may still change; the facilitator may add anything.
        let out = b.edit(PARTICIPANT, |d, txn| {
            note(d, txn, "n1").insert(txn, "xy", Any::from(vec![Any::from(5.0), Any::from(5.0)]));
        });
        assert!(!denied(&out, PARTICIPANT));
        let out = b.edit(FACILITATOR, |_d, txn| {
            let clusters = txn.get_or_insert_map("clusters");
            let c = clusters.insert(txn, "c2", MapPrelim::default());
            c.insert(txn, "type", "cluster");
        });
        assert!(!denied(&out, FACILITATOR));
        // Next phase without limits: participants add clusters again.
        b.edit(FACILITATOR, |_d, txn| {
            txn.get_or_insert_map("meta").insert(txn, "phase", "libre");
        });
        let out = b.edit(PARTICIPANT, |_d, txn| {
            let clusters = txn.get_or_insert_map("clusters");
            let c = clusters.insert(txn, "c3", MapPrelim::default());
            c.insert(txn, "type", "cluster");
        });
        assert!(!denied(&out, PARTICIPANT));
    }

    #[test]
    fn a_phase_change_keeps_a_version_in_the_same_commit() {
        let mut b = Board::new();
        b.edit(PARTICIPANT, |d, txn| add_note(d, txn, "n1", "Avant le vote", false));
        // A participant's attempt is reverted and keeps nothing.
        let out = b.edit(PARTICIPANT, |_d, txn| {
            txn.get_or_insert_map("meta").insert(txn, "phase", "vote");
        });
        assert!(denied(&out, PARTICIPANT));
        // Nothing left behind by the revert either: the next commit keeps no version.
        let doc = b.par.clone();
        let update = {
            let mut txn = doc.transact_mut();
            add_note(&doc, &mut txn, "n2", "Encore", false);
            txn.encode_update_v1()
        };
        let mut out = Vec::new();
        let len = update.len();
        b.room
            .receive(
                PARTICIPANT,
                vec![Inbound::Update { update: Update::decode_v1(&update).unwrap(), len }],
                0,
                &mut out,
            )
            .unwrap();
        assert!(b.room.take_commit().unwrap().versions.is_empty(), "the revert is no phase change");
        b.room.committed(&mut out);
        let mut out = Vec::new();
        let doc = b.fac.clone();
        let update = {
            let mut txn = doc.transact_mut();
            txn.get_or_insert_map("meta").insert(&mut txn, "phase", "vote");
            txn.encode_update_v1()
        };
        let len = update.len();
        b.room
            .receive(
                FACILITATOR,
                vec![Inbound::Update { update: Update::decode_v1(&update).unwrap(), len }],
                0,
                &mut out,
            )
            .unwrap();
        let commit = b.room.take_commit().unwrap();
        assert_eq!(commit.updates.len(), 1);
        assert_eq!(commit.versions.len(), 1, "one version with the phase change");
        let v = &commit.versions[0];
        assert_eq!(v.label, "phase:vote");
        assert_eq!(v.created_by, Principal::new("fanny"));
        let board = crate::boarddoc::read(&v.state).unwrap();
        assert_eq!(board.notes.len(), 2);
        assert_eq!(board.notes[0].text, "Avant le vote");
    }

    #[test]
    fn participants_add_a_limited_number_of_items_per_minute() {
        let mut b = Board::new();
        b.edit(FACILITATOR, |_d, txn| {
            txn.get_or_insert_map("meta").insert(txn, "addsPerMinute", 3.0);
        });
        for i in 0..3 {
            let out = b.edit(PARTICIPANT, |d, txn| add_note(d, txn, &format!("s{i}"), "Signal", false));
            assert!(!denied(&out, PARTICIPANT), "addition {i} is within the limit");
        }
        let out = b.edit(PARTICIPANT, |d, txn| add_note(d, txn, "s3", "Un de trop", false));
        assert!(denied(&out, PARTICIPANT), "the fourth in the same minute is reverted");
        assert!(b.converged()["notes"].get("s3").is_none());
        // Changing existing items is not limited; facilitators are not limited.
        let out = b.edit(PARTICIPANT, |d, txn| {
            note(d, txn, "s0").insert(txn, "xy", Any::from(vec![Any::from(1.0), Any::from(1.0)]));
        });
        assert!(!denied(&out, PARTICIPANT));
        for i in 0..5 {
            let out = b.edit(FACILITATOR, |d, txn| add_note(d, txn, &format!("f{i}"), "Consigne", false));
            assert!(!denied(&out, FACILITATOR));
        }
        // Twenty seconds later, one more is allowed (3 a minute), not two.
        b.now += 20_000;
        let out = b.edit(PARTICIPANT, |d, txn| add_note(d, txn, "s4", "Plus tard", false));
        assert!(!denied(&out, PARTICIPANT));
        let out = b.edit(PARTICIPANT, |d, txn| add_note(d, txn, "s5", "Trop tôt", false));
        assert!(denied(&out, PARTICIPANT));
        let s = b.converged();
        assert!(s["notes"].get("s4").is_some() && s["notes"].get("s5").is_none());
    }
}
