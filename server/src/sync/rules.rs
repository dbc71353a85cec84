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
//! - Dot votes (a note's `votes`, `Y.Map<participantId, number>`): a participant changes only
//!   their own key, only while `meta.votingOpen` is true, with whole numbers of at least 1, and
//!   never above `meta.votesPerParticipant` (default 5) in total over the board's notes that
//!   are not hidden unless that total did not increase. Dots on a hidden note do not count (the
//!   participant no longer sees it; they count again once it is shown) and none may be added
//!   there. A note added with votes in it is reverted (copies carry none).
//! - Stars (a note's `stars`, `Y.Map<participantId, true>`): only one's own key.
//! - A note's whole `votes` or `stars` map is replaced or removed by a participant only while it
//!   held their keys alone (an undo of one's first dot or star removes the map it created); what
//!   a map held is indexed before each transaction ([`Keyed`]).
//! - `hidden` (any item) and a cluster's `status` are set, changed and cleared by facilitators
//!   only; an item added already hidden, or a cluster added with a status, is reverted.
//! - Comments (a note's `comments`, `Y.Array` of `{id, by, text, at}`): participants insert
//!   entries each by their own id, and remove their own only (the whole array too, while it
//!   held theirs alone); removing others' comments is for facilitators. Who wrote a removed
//!   entry comes from the index kept before the transaction ([`Keyed`]).

use yrs::types::{Change, EntryChange, Event, PathSegment};
use yrs::{Any, Array, ArrayRef, Map, MapRef, Out, ReadTxn, TransactionMut};

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
pub const OTHERS_VOTES: &str = "reverted: you may only change your own dots";
pub const VOTING_CLOSED: &str = "reverted: no vote is open";
pub const VOTE_BUDGET: &str = "reverted: no dots left in your budget";
pub const VOTE_HIDDEN: &str = "reverted: this note is hidden by a facilitator";
pub const VOTE_VALUE: &str = "reverted: a vote is a whole number of dots, at least 1";
pub const COPIED_VOTES: &str = "reverted: a new note carries no votes";
pub const OTHERS_STARS: &str = "reverted: you may only star for yourself";
pub const HIDDEN_FOR_FACILITATORS: &str = "reverted: items are hidden and shown by facilitators only";
pub const STATUS_FOR_FACILITATORS: &str = "reverted: a cluster's status is set by facilitators only";
pub const COMMENT_AUTHOR: &str = "reverted: a comment may only be added in your own name";
pub const COMMENT_REMOVED: &str = "reverted: you may only remove your own comments";

/// Item keys the rules look at (docs/board-schema.md).
pub const HIDDEN: &str = "hidden";
pub const VOTES: &str = "votes";
pub const STARS: &str = "stars";
pub const COMMENTS: &str = "comments";
pub const STATUS: &str = "status";
/// The dot budget when `meta.votesPerParticipant` is absent.
pub const DEFAULT_VOTES_PER_PARTICIPANT: f64 = 5.0;

/// The participant id of a connection's principal (`user:<id>` or `guest:<id>`): what the
/// schema keys votes, stars and comments by.
pub fn participant_id(principal: &str) -> &str {
    principal.strip_prefix("user:").or_else(|| principal.strip_prefix("guest:")).unwrap_or(principal)
}

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

/// Whose keys each note's `votes` (with their dots) and `stars` held before the transaction
/// being judged: replacing or removing one of these maps is judged from what it held, which the
/// events that remove it no longer show. Kept like [`Locks`].
#[derive(Debug, Default)]
pub struct Keyed {
    votes: std::collections::HashMap<String, std::collections::HashMap<String, f64>>,
    stars: std::collections::HashMap<String, Vec<String>>,
    /// Per note: its comments as `(id, by)`, in order.
    comments: std::collections::HashMap<String, Vec<(String, String)>>,
}

impl Keyed {
    /// Every note's keys (at load).
    pub fn scan<T: ReadTxn>(txn: &T) -> Self {
        let mut keyed = Self::default();
        if let Some(notes) = txn.get_map("notes") {
            let ids: Vec<String> = notes.keys(txn).map(str::to_owned).collect();
            for id in ids {
                keyed.refresh(txn, &notes, &id);
            }
        }
        keyed
    }

    /// Keeps the index in step with a transaction's events on `notes` (every transaction).
    pub fn track(&mut self, root: &str, txn: &TransactionMut, events: &yrs::types::Events) {
        if root != "notes" {
            return;
        }
        let Some(notes) = txn.get_map("notes") else { return };
        let mut touched = std::collections::HashSet::new();
        for event in events.iter() {
            match event.path().front() {
                None => {
                    if let Event::Map(e) = event {
                        touched.extend(e.keys(txn).keys().map(|k| k.to_string()));
                    }
                }
                Some(PathSegment::Key(id)) => {
                    touched.insert(id.to_string());
                }
                Some(PathSegment::Index(_)) => {}
            }
        }
        for id in touched {
            self.refresh(txn, &notes, &id);
        }
    }

    fn refresh<T: ReadTxn>(&mut self, txn: &T, notes: &MapRef, id: &str) {
        self.votes.remove(id);
        self.stars.remove(id);
        self.comments.remove(id);
        let Some(Out::YMap(note)) = notes.get(txn, id) else { return };
        if let Some(Out::YArray(comments)) = note.get(txn, COMMENTS) {
            let held = comment_authors(txn, &comments);
            if !held.is_empty() {
                self.comments.insert(id.to_owned(), held);
            }
        }
        if let Some(Out::YMap(votes)) = note.get(txn, VOTES) {
            let held: std::collections::HashMap<String, f64> =
                votes.iter(txn).map(|(who, v)| (who.to_owned(), dots(&v).unwrap_or(0.0))).collect();
            if !held.is_empty() {
                self.votes.insert(id.to_owned(), held);
            }
        }
        if let Some(Out::YMap(stars)) = note.get(txn, STARS) {
            let held: Vec<String> = stars.keys(txn).map(str::to_owned).collect();
            if !held.is_empty() {
                self.stars.insert(id.to_owned(), held);
            }
        }
    }
}

/// The first rule a transaction breaks, from the deep events of one top-level map and the locks
/// as they were before it. `participant` is the author's participant id ([`participant_id`]).
pub fn check(
    role: Role,
    participant: &str,
    root: &str,
    txn: &TransactionMut,
    events: &yrs::types::Events,
    locks: &Locks,
    keyed: &Keyed,
) -> Option<&'static str> {
    if role == Role::Facilitator {
        return None;
    }
    // How much the author's dots on the notes that are not hidden grew in this transaction.
    let mut votes_delta = 0.0;
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
                    if let EntryChange::Inserted(Out::YMap(item)) | EntryChange::Updated(_, Out::YMap(item)) =
                        change
                    {
                        if let Some(reason) = check_new_item(participant, root, txn, item) {
                            return Some(reason);
                        }
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
                let field = match path.get(1) {
                    Some(PathSegment::Key(k)) => Some(k.as_ref()),
                    _ => None,
                };
                // This event's change to the author's dots on this note: on a hidden note it does
                // not count against the budget, and it may only take dots back.
                let mut delta = 0.0;
                let result = match (path.len(), event) {
                    (1, Event::Map(e)) => check_item_keys(participant, root, id, txn, e, keyed, &mut delta),
                    (2, Event::Map(e)) if root == "notes" && field == Some(VOTES) => {
                        check_votes_change(participant, txn, e, &mut delta)
                    }
                    (2, Event::Map(e)) if root == "notes" && field == Some(STARS) => {
                        if e.keys(txn).keys().all(|k| k.as_ref() == participant) {
                            Ok(())
                        } else {
                            Err(OTHERS_STARS)
                        }
                    }
                    (2, Event::Array(e)) if root == "notes" && field == Some(COMMENTS) => {
                        check_comments_change(participant, id, txn, e, keyed)
                    }
                    // Below a vote, star or comment (a client nesting shared types there).
                    (_, _) if root == "notes" && path.len() > 2 => match field {
                        Some(VOTES) => Err(OTHERS_VOTES),
                        Some(STARS) => Err(OTHERS_STARS),
                        Some(COMMENTS) => Err(COMMENT_AUTHOR),
                        _ => Ok(()),
                    },
                    _ => Ok(()),
                };
                if let Err(reason) = result {
                    return Some(reason);
                }
                if delta != 0.0 {
                    if note_hidden(txn, id) {
                        if delta > 0.0 {
                            return Some(VOTE_HIDDEN);
                        }
                    } else {
                        votes_delta += delta;
                    }
                }
            }
            Some(PathSegment::Index(_)) => {}
        }
    }
    if votes_delta > 0.0 && own_votes(participant, txn) > votes_per_participant(txn) {
        return Some(VOTE_BUDGET);
    }
    None
}

/// An item a participant added (or put in place of another): no hiding, no status, no votes,
/// and stars and comments in their own name only.
fn check_new_item(
    participant: &str,
    root: &str,
    txn: &TransactionMut,
    item: &MapRef,
) -> Option<&'static str> {
    if matches!(item.get(txn, HIDDEN), Some(Out::Any(Any::Bool(true)))) {
        return Some(HIDDEN_FOR_FACILITATORS);
    }
    if root == "clusters" && item.get(txn, STATUS).is_some() {
        return Some(STATUS_FOR_FACILITATORS);
    }
    if root != "notes" {
        return None;
    }
    match item.get(txn, VOTES) {
        None => {}
        Some(Out::YMap(votes)) if votes.len(txn) == 0 => {}
        Some(_) => return Some(COPIED_VOTES),
    }
    if let Some(stars) = item.get(txn, STARS) {
        if !only_own_keys(participant, txn, &stars) {
            return Some(OTHERS_STARS);
        }
    }
    if let Some(comments) = item.get(txn, COMMENTS) {
        if !own_comments(participant, txn, &comments) {
            return Some(COMMENT_AUTHOR);
        }
    }
    None
}

/// The keys of an existing item a participant changed.
fn check_item_keys(
    participant: &str,
    root: &str,
    id: &str,
    txn: &TransactionMut,
    e: &yrs::types::map::MapEvent,
    keyed: &Keyed,
    votes_delta: &mut f64,
) -> Result<(), &'static str> {
    for (key, change) in e.keys(txn) {
        match key.as_ref() {
            HIDDEN => return Err(HIDDEN_FOR_FACILITATORS),
            STATUS if root == "clusters" => return Err(STATUS_FOR_FACILITATORS),
            // Votes, stars and comments are created the first time someone uses them. Replacing
            // or removing a map is allowed only while it held the author's keys alone (what an
            // undo of one's first dot or star does); a removed map's content is no longer
            // readable here, so it comes from the index kept before the transaction.
            VOTES if root == "notes" => {
                let mut changed = false;
                if let EntryChange::Updated(..) | EntryChange::Removed(_) = change {
                    let old = keyed.votes.get(id);
                    for (who, n) in old.into_iter().flatten() {
                        if who != participant {
                            return Err(OTHERS_VOTES);
                        }
                        *votes_delta -= n;
                        changed = true;
                    }
                }
                match change {
                    EntryChange::Inserted(Out::YMap(votes)) | EntryChange::Updated(_, Out::YMap(votes)) => {
                        for (who, value) in votes.iter(txn) {
                            if who != participant {
                                return Err(OTHERS_VOTES);
                            }
                            *votes_delta += dots(&value).ok_or(VOTE_VALUE)?;
                            changed = true;
                        }
                    }
                    EntryChange::Removed(_) => {}
                    _ => return Err(OTHERS_VOTES),
                }
                if changed && !voting_open(txn) {
                    return Err(VOTING_CLOSED);
                }
            }
            STARS if root == "notes" => {
                if let EntryChange::Updated(..) | EntryChange::Removed(_) = change {
                    if keyed.stars.get(id).is_some_and(|old| old.iter().any(|who| who != participant)) {
                        return Err(OTHERS_STARS);
                    }
                }
                match change {
                    EntryChange::Inserted(stars) | EntryChange::Updated(_, stars) => {
                        if !only_own_keys(participant, txn, stars) {
                            return Err(OTHERS_STARS);
                        }
                    }
                    EntryChange::Removed(_) => {}
                }
            }
            COMMENTS if root == "notes" => {
                if let EntryChange::Updated(..) | EntryChange::Removed(_) = change {
                    if keyed.comments.get(id).is_some_and(|old| old.iter().any(|(_, by)| by != participant)) {
                        return Err(COMMENT_REMOVED);
                    }
                }
                match change {
                    EntryChange::Inserted(comments) | EntryChange::Updated(_, comments) => {
                        if !own_comments(participant, txn, comments) {
                            return Err(COMMENT_AUTHOR);
                        }
                    }
                    EntryChange::Removed(_) => {}
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Changes inside an existing `votes` map.
fn check_votes_change(
    participant: &str,
    txn: &TransactionMut,
    e: &yrs::types::map::MapEvent,
    votes_delta: &mut f64,
) -> Result<(), &'static str> {
    let keys = e.keys(txn);
    if keys.keys().any(|k| k.as_ref() != participant) {
        return Err(OTHERS_VOTES);
    }
    if !keys.is_empty() && !voting_open(txn) {
        return Err(VOTING_CLOSED);
    }
    for change in keys.values() {
        let (old, new) = match change {
            EntryChange::Inserted(new) => (0.0, dots(new).ok_or(VOTE_VALUE)?),
            EntryChange::Updated(old, new) => (dots(old).unwrap_or(0.0), dots(new).ok_or(VOTE_VALUE)?),
            EntryChange::Removed(old) => (dots(old).unwrap_or(0.0), 0.0),
        };
        *votes_delta += new - old;
    }
    Ok(())
}

/// Changes inside an existing `comments` array of note `id`: insertions in one's own name,
/// removals of one's own comments. A removed entry is no longer readable here: the entries
/// before the transaction (`keyed`) that are no longer in the array are the removed ones.
fn check_comments_change(
    participant: &str,
    id: &str,
    txn: &TransactionMut,
    e: &yrs::types::array::ArrayEvent,
    keyed: &Keyed,
) -> Result<(), &'static str> {
    let mut removed = false;
    for change in e.delta(txn) {
        match change {
            Change::Removed(_) => removed = true,
            Change::Added(entries) => {
                if !entries.iter().all(|c| own_comment(participant, c)) {
                    return Err(COMMENT_AUTHOR);
                }
            }
            Change::Retain(_) => {}
        }
    }
    if removed {
        let mut now = comment_authors(txn, e.target());
        for (comment, by) in keyed.comments.get(id).into_iter().flatten() {
            match now.iter().position(|(c, b)| c == comment && b == by) {
                Some(at) => {
                    now.swap_remove(at);
                }
                None if by == participant => {}
                None => return Err(COMMENT_REMOVED),
            }
        }
    }
    Ok(())
}

/// The `(id, by)` of each entry of a comments array, in order (empty strings when missing).
fn comment_authors<T: ReadTxn>(txn: &T, comments: &ArrayRef) -> Vec<(String, String)> {
    comments
        .iter(txn)
        .map(|c| match c {
            Out::Any(Any::Map(m)) => {
                let text = |k: &str| match m.get(k) {
                    Some(Any::String(s)) => s.to_string(),
                    _ => String::new(),
                };
                (text("id"), text("by"))
            }
            _ => (String::new(), String::new()),
        })
        .collect()
}

/// A number of dots: a whole number of at least 1.
fn dots(value: &Out) -> Option<f64> {
    match value {
        Out::Any(Any::Number(n)) => n.as_f64().filter(|v| v.is_finite() && v.fract() == 0.0 && *v >= 1.0),
        _ => None,
    }
}

fn only_own_keys(participant: &str, txn: &TransactionMut, value: &Out) -> bool {
    match value {
        Out::YMap(map) => map.keys(txn).all(|k| k == participant),
        _ => false,
    }
}

fn own_comments(participant: &str, txn: &TransactionMut, value: &Out) -> bool {
    match value {
        Out::YArray(array) => own_comment_list(participant, txn, array),
        _ => false,
    }
}

fn own_comment_list(participant: &str, txn: &TransactionMut, array: &ArrayRef) -> bool {
    array.iter(txn).all(|c| own_comment(participant, &c))
}

/// A comment entry: a plain object whose `by` is the participant.
fn own_comment(participant: &str, entry: &Out) -> bool {
    match entry {
        Out::Any(Any::Map(m)) => matches!(m.get("by"), Some(Any::String(by)) if by.as_ref() == participant),
        _ => false,
    }
}

/// Whether a dot vote is open (`meta.votingOpen`).
fn voting_open<T: ReadTxn>(txn: &T) -> bool {
    txn.get_map(META)
        .is_some_and(|meta| matches!(meta.get(txn, "votingOpen"), Some(Out::Any(Any::Bool(true)))))
}

/// Each participant's budget of dots (`meta.votesPerParticipant`, default 5).
fn votes_per_participant<T: ReadTxn>(txn: &T) -> f64 {
    let set = txn.get_map(META).and_then(|meta| match meta.get(txn, "votesPerParticipant") {
        Some(Out::Any(Any::Number(n))) => n.as_f64().filter(|v| v.is_finite()),
        _ => None,
    });
    set.unwrap_or(DEFAULT_VOTES_PER_PARTICIPANT)
}

/// Whether the note `id` is hidden by a facilitator (`hidden: true`), as the document stands.
fn note_hidden<T: ReadTxn>(txn: &T, id: &str) -> bool {
    match txn.get_map("notes").and_then(|notes| notes.get(txn, id)) {
        Some(Out::YMap(note)) => matches!(note.get(txn, HIDDEN), Some(Out::Any(Any::Bool(true)))),
        _ => false,
    }
}

/// The participant's dots over every note that is not hidden, as the document stands: what
/// counts against their budget (dots on a hidden note count again once it is shown).
fn own_votes<T: ReadTxn>(participant: &str, txn: &T) -> f64 {
    let Some(notes) = txn.get_map("notes") else { return 0.0 };
    notes
        .iter(txn)
        .filter_map(|(_, note)| match note {
            Out::YMap(note) if matches!(note.get(txn, HIDDEN), Some(Out::Any(Any::Bool(true)))) => None,
            Out::YMap(note) => match note.get(txn, VOTES) {
                Some(Out::YMap(votes)) => votes.get(txn, participant).as_ref().and_then(|v| match v {
                    Out::Any(Any::Number(n)) => n.as_f64().filter(|v| v.is_finite() && *v > 0.0),
                    _ => None,
                }),
                _ => None,
            },
            _ => None,
        })
        .sum()
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

    // ---- votes, stars, hidden, status, comments ----------------------------------------------

    /// The reason the room gave `conn` for a revert in `out`, if it reverted.
    fn reason(out: &[Effect], conn: u64) -> Option<String> {
        use yrs::sync::Message;
        out.iter().find_map(|e| match e {
            Effect::Send(c, f) if *c == conn => match Message::decode_v1(f) {
                Ok(Message::Auth(Some(r))) => Some(r),
                _ => None,
            },
            _ => None,
        })
    }

    fn set_meta(b: &mut Board, key: &'static str, value: impl Into<Any> + 'static) {
        let value = value.into();
        let out = b.edit(FACILITATOR, move |_d, txn| {
            txn.get_or_insert_map("meta").insert(txn, key, value);
        });
        assert!(!denied(&out, FACILITATOR));
    }

    /// The note's `key` map, created as the web UI does the first time (`noteVotes`).
    fn sub_map(txn: &mut yrs::TransactionMut, id: &str, key: &str) -> MapRef {
        let n = match txn.get_map("notes").and_then(|m| m.get(txn, id)) {
            Some(Out::YMap(m)) => m,
            other => panic!("no note {id}: {other:?}"),
        };
        match n.get(txn, key) {
            Some(Out::YMap(m)) => m,
            _ => n.insert(txn, key, MapPrelim::default()),
        }
    }

    fn comment(id: &str, by: &str, text: &str) -> Any {
        Any::from(std::collections::HashMap::from([
            ("id".to_owned(), Any::from(id)),
            ("by".to_owned(), Any::from(by)),
            ("text".to_owned(), Any::from(text)),
            ("at".to_owned(), Any::from(1_700_000_000_000.0)),
        ]))
    }

    fn comments_of(txn: &mut yrs::TransactionMut, id: &str) -> yrs::ArrayRef {
        let n = match txn.get_map("notes").and_then(|m| m.get(txn, id)) {
            Some(Out::YMap(m)) => m,
            other => panic!("no note {id}: {other:?}"),
        };
        match n.get(txn, COMMENTS) {
            Some(Out::YArray(a)) => a,
            _ => n.insert(txn, COMMENTS, yrs::ArrayPrelim::from(Vec::<Any>::new())),
        }
    }

    /// `conn` tries `f`; asserts it is reverted with `why` and leaves the board as it was.
    fn refused(b: &mut Board, conn: u64, why: &str, f: impl FnOnce(&Doc, &mut yrs::TransactionMut)) {
        let before = b.converged();
        let out = b.edit(conn, f);
        assert_eq!(reason(&out, conn).as_deref(), Some(why));
        assert_eq!(b.converged(), before, "{why}: reverted for everyone");
    }

    fn allowed(b: &mut Board, conn: u64, f: impl FnOnce(&Doc, &mut yrs::TransactionMut)) {
        let out = b.edit(conn, f);
        assert_eq!(reason(&out, conn), None);
        b.converged();
    }

    #[test]
    fn the_participant_id_is_the_principal_without_its_kind() {
        assert_eq!(participant_id("user:0193a7"), "0193a7");
        assert_eq!(participant_id("guest:0193b8"), "0193b8");
        assert_eq!(participant_id("paul"), "paul");
    }

    #[test]
    fn dot_votes_are_ones_own_while_a_vote_is_open_and_within_the_budget() {
        let mut b = Board::new();
        for id in ["n1", "n2", "n3"] {
            b.edit(FACILITATOR, |d, txn| add_note(d, txn, id, "Une idée", false));
        }
        // No vote open: no dots.
        refused(&mut b, PARTICIPANT, VOTING_CLOSED, |_d, txn| {
            sub_map(txn, "n1", VOTES).insert(txn, "paul", 1.0);
        });
        set_meta(&mut b, "votingOpen", true);
        set_meta(&mut b, "votesPerParticipant", 3.0);
        // Own dots within the budget, the first time creating the note's `votes` map.
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "n1", VOTES).insert(txn, "paul", 2.0);
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "n2", VOTES).insert(txn, "paul", 1.0);
        });
        // A fourth dot is over the budget of 3, on an existing map or a new one.
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |_d, txn| {
            sub_map(txn, "n1", VOTES).insert(txn, "paul", 3.0);
        });
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |_d, txn| {
            sub_map(txn, "n3", VOTES).insert(txn, "paul", 1.0);
        });
        // Facilitators vote freely; nobody else touches their key.
        allowed(&mut b, FACILITATOR, |_d, txn| {
            sub_map(txn, "n1", VOTES).insert(txn, "fanny", 7.0);
        });
        refused(&mut b, PARTICIPANT, OTHERS_VOTES, |_d, txn| {
            sub_map(txn, "n1", VOTES).insert(txn, "fanny", 1.0);
        });
        refused(&mut b, PARTICIPANT, OTHERS_VOTES, |_d, txn| {
            sub_map(txn, "n1", VOTES).remove(txn, "fanny");
        });
        // Replacing or removing a note's whole `votes` map takes everyone's dots.
        refused(&mut b, PARTICIPANT, OTHERS_VOTES, |d, txn| {
            note(d, txn, "n1").insert(txn, VOTES, MapPrelim::default());
        });
        refused(&mut b, PARTICIPANT, OTHERS_VOTES, |d, txn| {
            note(d, txn, "n1").remove(txn, VOTES);
        });
        // Whole numbers of at least 1 only.
        for bad in [Any::from(1.5), Any::from(0.0), Any::from(-1.0), Any::from("2"), Any::Bool(true)] {
            refused(&mut b, PARTICIPANT, VOTE_VALUE, move |_d, txn| {
                sub_map(txn, "n1", VOTES).insert(txn, "paul", bad);
            });
        }
        // A lowered budget: the participant (3 dots) may take dots back and move them, not add.
        set_meta(&mut b, "votesPerParticipant", 1.0);
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "n1", VOTES).insert(txn, "paul", 1.0);
            sub_map(txn, "n3", VOTES).insert(txn, "paul", 1.0);
        });
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |_d, txn| {
            sub_map(txn, "n3", VOTES).insert(txn, "paul", 2.0);
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "n2", VOTES).remove(txn, "paul");
        });
        // A copied note carries no votes, not even one's own within the budget.
        set_meta(&mut b, "votesPerParticipant", 5.0);
        refused(&mut b, PARTICIPANT, COPIED_VOTES, |d, txn| {
            add_note(d, txn, "copy", "Une idée", false);
            sub_map(txn, "copy", VOTES).insert(txn, "paul", 1.0);
        });
        allowed(&mut b, PARTICIPANT, |d, txn| {
            add_note(d, txn, "copy", "Une idée", false);
            sub_map(txn, "copy", VOTES);
        });
        // The default budget is 5.
        b.edit(FACILITATOR, |_d, txn| {
            txn.get_or_insert_map("meta").remove(txn, "votesPerParticipant");
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "copy", VOTES).insert(txn, "paul", 3.0);
        });
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |_d, txn| {
            sub_map(txn, "n2", VOTES).insert(txn, "paul", 1.0);
        });
        // Undoing one's first dot on a note removes the `votes` map it created: allowed while
        // the map holds the author's dots alone (n3), and the dots count as taken back.
        allowed(&mut b, PARTICIPANT, |d, txn| {
            note(d, txn, "n3").remove(txn, VOTES);
        });
        allowed(&mut b, PARTICIPANT, |d, txn| {
            let votes = note(d, txn, "n3").insert(txn, VOTES, MapPrelim::default());
            votes.insert(txn, "paul", 1.0);
        });
        // Replacing one's own map with more dots than the budget allows is still over it.
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |d, txn| {
            let votes = note(d, txn, "n3").insert(txn, VOTES, MapPrelim::default());
            votes.insert(txn, "paul", 2.0);
        });
        // Once the vote is closed, dots stay where they are.
        set_meta(&mut b, "votingOpen", false);
        refused(&mut b, PARTICIPANT, VOTING_CLOSED, |_d, txn| {
            sub_map(txn, "copy", VOTES).remove(txn, "paul");
        });
        refused(&mut b, PARTICIPANT, VOTING_CLOSED, |d, txn| {
            note(d, txn, "n3").remove(txn, VOTES);
        });
        let s = b.converged();
        assert_eq!(s["notes"]["n1"]["votes"], serde_json::json!({"paul": 1, "fanny": 7}));
        assert_eq!(s["notes"]["n2"]["votes"], serde_json::json!({}));
        assert_eq!(s["notes"]["n3"]["votes"], serde_json::json!({"paul": 1}));
        assert_eq!(s["notes"]["copy"]["votes"], serde_json::json!({"paul": 3}));
    }

    #[test]
    fn dots_on_a_hidden_note_do_not_count_against_the_budget_and_none_are_added_there() {
        let mut b = Board::new();
        for id in ["s1", "s2", "s3"] {
            b.edit(FACILITATOR, |d, txn| add_note(d, txn, id, "Un signal", false));
        }
        set_meta(&mut b, "votingOpen", true);
        set_meta(&mut b, "votesPerParticipant", 3.0);
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "s1", VOTES).insert(txn, "paul", 2.0);
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "s2", VOTES).insert(txn, "paul", 1.0);
        });
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |_d, txn| {
            sub_map(txn, "s3", VOTES).insert(txn, "paul", 1.0);
        });
        // The facilitator hides s1: its two dots no longer count, the participant votes elsewhere.
        allowed(&mut b, FACILITATOR, |d, txn| {
            note(d, txn, "s1").insert(txn, HIDDEN, true);
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "s3", VOTES).insert(txn, "paul", 1.0);
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "s2", VOTES).insert(txn, "paul", 2.0);
        });
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |_d, txn| {
            sub_map(txn, "s3", VOTES).insert(txn, "paul", 2.0);
        });
        // No dot is added on a hidden note, and moving one from it to a visible note raises the
        // total that counts.
        refused(&mut b, PARTICIPANT, VOTE_HIDDEN, |_d, txn| {
            sub_map(txn, "s1", VOTES).insert(txn, "paul", 3.0);
        });
        refused(&mut b, PARTICIPANT, VOTE_HIDDEN, |_d, txn| {
            sub_map(txn, "s2", VOTES).remove(txn, "paul");
            sub_map(txn, "s1", VOTES).insert(txn, "paul", 3.0);
        });
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |_d, txn| {
            sub_map(txn, "s1", VOTES).insert(txn, "paul", 1.0);
            sub_map(txn, "s3", VOTES).insert(txn, "paul", 2.0);
        });
        // Dots are taken back from a hidden note (its whole map too, when it held one's alone).
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "s1", VOTES).insert(txn, "paul", 1.0);
        });
        // Shown again, its dot counts again: 4 of 3, the participant may take dots back, not add.
        allowed(&mut b, FACILITATOR, |d, txn| {
            note(d, txn, "s1").remove(txn, HIDDEN);
        });
        refused(&mut b, PARTICIPANT, VOTE_BUDGET, |_d, txn| {
            sub_map(txn, "s2", VOTES).insert(txn, "paul", 3.0);
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "s2", VOTES).remove(txn, "paul");
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "s3", VOTES).insert(txn, "paul", 2.0);
        });
        // Hidden again: removing its whole `votes` map (one's own dots alone) is taking them back.
        allowed(&mut b, FACILITATOR, |d, txn| {
            note(d, txn, "s1").insert(txn, HIDDEN, true);
        });
        allowed(&mut b, PARTICIPANT, |d, txn| {
            note(d, txn, "s1").remove(txn, VOTES);
        });
        let s = b.converged();
        assert!(s["notes"]["s1"].get("votes").is_none());
        assert_eq!(s["notes"]["s2"]["votes"], serde_json::json!({}));
        assert_eq!(s["notes"]["s3"]["votes"], serde_json::json!({"paul": 2}));
    }

    #[test]
    fn stars_are_ones_own() {
        let mut b = Board::new();
        b.edit(FACILITATOR, |d, txn| add_note(d, txn, "q1", "Comment venir à la mairie ?", false));
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "q1", STARS).insert(txn, "paul", true);
        });
        allowed(&mut b, FACILITATOR, |_d, txn| {
            sub_map(txn, "q1", STARS).insert(txn, "fanny", true);
        });
        refused(&mut b, PARTICIPANT, OTHERS_STARS, |_d, txn| {
            sub_map(txn, "q1", STARS).remove(txn, "fanny");
        });
        refused(&mut b, PARTICIPANT, OTHERS_STARS, |_d, txn| {
            sub_map(txn, "q1", STARS).insert(txn, "ines", true);
        });
        refused(&mut b, PARTICIPANT, OTHERS_STARS, |d, txn| {
            note(d, txn, "q1").remove(txn, STARS);
        });
        refused(&mut b, PARTICIPANT, OTHERS_STARS, |d, txn| {
            add_note(d, txn, "q2", "Copie", false);
            sub_map(txn, "q2", STARS).insert(txn, "fanny", true);
        });
        allowed(&mut b, PARTICIPANT, |d, txn| {
            add_note(d, txn, "q3", "Ma question", false);
            sub_map(txn, "q3", STARS).insert(txn, "paul", true);
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            sub_map(txn, "q1", STARS).remove(txn, "paul");
        });
        // Undoing one's first star removes the map it created: fine while it is one's alone.
        allowed(&mut b, PARTICIPANT, |d, txn| {
            note(d, txn, "q3").remove(txn, STARS);
        });
        let s = b.converged();
        assert_eq!(s["notes"]["q1"]["stars"], serde_json::json!({"fanny": true}));
        assert!(s["notes"]["q3"].get("stars").is_none());
    }

    #[test]
    fn only_facilitators_hide_and_show_items() {
        let mut b = Board::new();
        b.edit(PARTICIPANT, |d, txn| add_note(d, txn, "s1", "Signal faible", false));
        refused(&mut b, PARTICIPANT, HIDDEN_FOR_FACILITATORS, |d, txn| {
            note(d, txn, "s1").insert(txn, HIDDEN, true);
        });
        allowed(&mut b, FACILITATOR, |d, txn| {
            note(d, txn, "s1").insert(txn, HIDDEN, true);
        });
        refused(&mut b, PARTICIPANT, HIDDEN_FOR_FACILITATORS, |d, txn| {
            note(d, txn, "s1").insert(txn, HIDDEN, false);
        });
        refused(&mut b, PARTICIPANT, HIDDEN_FOR_FACILITATORS, |d, txn| {
            note(d, txn, "s1").remove(txn, HIDDEN);
        });
        refused(&mut b, PARTICIPANT, HIDDEN_FOR_FACILITATORS, |d, txn| {
            add_note(d, txn, "s2", "Caché d'avance", false);
            note(d, txn, "s2").insert(txn, HIDDEN, true);
        });
        refused(&mut b, PARTICIPANT, HIDDEN_FOR_FACILITATORS, |_d, txn| {
            let frames = txn.get_or_insert_map("frames");
            let f = frames.insert(txn, "f1", MapPrelim::default());
            f.insert(txn, HIDDEN, true);
        });
        allowed(&mut b, PARTICIPANT, |d, txn| {
            add_note(d, txn, "s3", "Visible", false);
            note(d, txn, "s3").insert(txn, HIDDEN, false);
        });
        allowed(&mut b, FACILITATOR, |d, txn| {
            note(d, txn, "s1").insert(txn, HIDDEN, false);
        });
        assert_eq!(b.converged()["notes"]["s1"]["hidden"], false);
    }

    #[test]
    fn only_facilitators_set_a_clusters_status() {
        let mut b = Board::new();
        let cluster = |txn: &mut yrs::TransactionMut, id: &str| -> MapRef {
            let clusters = txn.get_or_insert_map("clusters");
            match clusters.get(txn, id) {
                Some(Out::YMap(m)) => m,
                _ => {
                    let c = clusters.insert(txn, id, MapPrelim::default());
                    c.insert(txn, "type", "cluster");
                    c
                }
            }
        };
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            cluster(txn, "c1").insert(txn, "title", "Mobilité");
        });
        refused(&mut b, PARTICIPANT, STATUS_FOR_FACILITATORS, |_d, txn| {
            cluster(txn, "c1").insert(txn, STATUS, "explore");
        });
        allowed(&mut b, FACILITATOR, |_d, txn| {
            cluster(txn, "c1").insert(txn, STATUS, "explore");
        });
        refused(&mut b, PARTICIPANT, STATUS_FOR_FACILITATORS, |_d, txn| {
            cluster(txn, "c1").insert(txn, STATUS, "aside");
        });
        refused(&mut b, PARTICIPANT, STATUS_FOR_FACILITATORS, |_d, txn| {
            cluster(txn, "c1").remove(txn, STATUS);
        });
        refused(&mut b, PARTICIPANT, STATUS_FOR_FACILITATORS, |_d, txn| {
            cluster(txn, "c2").insert(txn, STATUS, "explored");
        });
        // Other keys of the cluster stay free.
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            cluster(txn, "c1").insert(txn, "title", "Mobilités douces");
        });
        allowed(&mut b, FACILITATOR, |_d, txn| {
            cluster(txn, "c1").insert(txn, STATUS, "explored");
        });
        let server = Doc::new();
        server.transact_mut().apply_update(Update::decode_v1(&b.room.encode_state()).unwrap()).unwrap();
        let txn = server.transact();
        let Some(Out::YMap(c1)) = txn.get_map("clusters").unwrap().get(&txn, "c1") else { panic!() };
        assert_eq!(c1.get(&txn, STATUS), Some(Out::Any(Any::from("explored"))));
        assert_eq!(txn.get_map("clusters").unwrap().len(&txn), 1, "c2 was reverted");
    }

    #[test]
    fn comments_are_added_and_removed_in_ones_own_name() {
        let mut b = Board::new();
        b.edit(FACILITATOR, |d, txn| add_note(d, txn, "r1", "Vélos en libre-service", false));
        b.edit(FACILITATOR, |d, txn| add_note(d, txn, "r2", "Tiers-lieux", false));
        // The first comment creates the array.
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            comments_of(txn, "r1").push_back(txn, comment("k1", "paul", "Déjà vu à Nantes"));
        });
        allowed(&mut b, FACILITATOR, |_d, txn| {
            comments_of(txn, "r1").push_back(txn, comment("k2", "fanny", "Source ?"));
        });
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            comments_of(txn, "r1").insert(txn, 1, comment("k3", "paul", "Article de 2024"));
        });
        refused(&mut b, PARTICIPANT, COMMENT_AUTHOR, |_d, txn| {
            comments_of(txn, "r1").push_back(txn, comment("k4", "fanny", "Faux commentaire"));
        });
        refused(&mut b, PARTICIPANT, COMMENT_AUTHOR, |_d, txn| {
            comments_of(txn, "r1").push_back(txn, "texte seul");
        });
        refused(&mut b, PARTICIPANT, COMMENT_AUTHOR, |_d, txn| {
            comments_of(txn, "r2").push_back(txn, comment("k5", "fanny", "Au nom d'un autre"));
        });
        // r1 holds k1 (paul), k3 (paul), k2 (fanny).
        refused(&mut b, PARTICIPANT, COMMENT_REMOVED, |_d, txn| {
            comments_of(txn, "r1").remove(txn, 2);
        });
        refused(&mut b, PARTICIPANT, COMMENT_REMOVED, |_d, txn| {
            comments_of(txn, "r1").remove_range(txn, 1, 2);
        });
        // One's own comment is taken back.
        allowed(&mut b, PARTICIPANT, |_d, txn| {
            comments_of(txn, "r1").remove(txn, 0);
        });
        // The whole array goes only while it holds one's own comments alone.
        refused(&mut b, PARTICIPANT, COMMENT_REMOVED, |d, txn| {
            note(d, txn, "r1").insert(txn, COMMENTS, yrs::ArrayPrelim::from(Vec::<Any>::new()));
        });
        refused(&mut b, PARTICIPANT, COMMENT_REMOVED, |d, txn| {
            note(d, txn, "r1").remove(txn, COMMENTS);
        });
        refused(&mut b, PARTICIPANT, COMMENT_AUTHOR, |d, txn| {
            add_note(d, txn, "r3", "Copie", false);
            comments_of(txn, "r3").push_back(txn, comment("k6", "fanny", "Copié"));
        });
        allowed(&mut b, PARTICIPANT, |d, txn| {
            add_note(d, txn, "r4", "Mon signal", false);
            comments_of(txn, "r4").push_back(txn, comment("k7", "paul", "Vu hier"));
        });
        allowed(&mut b, PARTICIPANT, |d, txn| {
            note(d, txn, "r4").remove(txn, COMMENTS);
        });
        // Facilitators moderate.
        allowed(&mut b, FACILITATOR, |_d, txn| {
            comments_of(txn, "r1").remove(txn, 1);
        });
        let s = b.converged();
        let by: Vec<_> =
            s["notes"]["r1"]["comments"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
        assert_eq!(by, vec![serde_json::json!("k3")]);
        assert!(s["notes"].get("r3").is_none());
        assert!(s["notes"]["r4"].get("comments").is_none());
    }
}
