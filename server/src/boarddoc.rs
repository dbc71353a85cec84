//! What the server reads in a board's Yjs document: the shared types and keys of
//! docs/board-schema.md (the web UI's `assets/src/board/schema.ts` writes them). Pure: takes a
//! v1-encoded state, returns plain data; readers tolerate anything a client may have written.

use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, GetString, Map, MapRef, Out, ReadTxn, Transact, Update};

/// A sticky note, as far as the server needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: String,
    pub text: String,
    /// The cluster it belongs to, if any.
    pub parent: Option<String>,
    pub xy: (f64, f64),
    /// Sum of everyone's dot votes.
    pub votes: f64,
}

/// A cluster (a titled area grouping notes).
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: String,
    pub title: String,
}

/// The parts of a board the server reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    pub notes: Vec<Note>,
    pub clusters: Vec<Cluster>,
}

/// Why a stored state could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the board document does not decode: {0}")]
pub struct Unreadable(String);

/// Reads notes and clusters from a v1-encoded document state. Entries without the right `type`
/// are ignored; items are sorted by id so the result does not depend on map order.
pub fn read(state: &[u8]) -> Result<Board, Unreadable> {
    let doc = Doc::new();
    let update = Update::decode_v1(state).map_err(|e| Unreadable(e.to_string()))?;
    doc.transact_mut().apply_update(update).map_err(|e| Unreadable(e.to_string()))?;
    let txn = doc.transact();
    let mut board = Board::default();
    if let Some(notes) = txn.get_map("notes") {
        for (id, value) in notes.iter(&txn) {
            let Out::YMap(note) = value else { continue };
            if string(&note, &txn, "type").as_deref() != Some("note") {
                continue;
            }
            board.notes.push(Note {
                id: id.to_owned(),
                text: text(&note, &txn, "text"),
                parent: string(&note, &txn, "parent"),
                xy: pair(&note, &txn, "xy"),
                votes: votes(&note, &txn),
            });
        }
    }
    if let Some(clusters) = txn.get_map("clusters") {
        for (id, value) in clusters.iter(&txn) {
            let Out::YMap(cluster) = value else { continue };
            if string(&cluster, &txn, "type").as_deref() != Some("cluster") {
                continue;
            }
            board.clusters.push(Cluster { id: id.to_owned(), title: text(&cluster, &txn, "title") });
        }
    }
    board.notes.sort_by(|a, b| a.id.cmp(&b.id));
    board.clusters.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(board)
}

/// What a session produced on a board, counted (the boards made from one template side by side).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// Notes, prompts included.
    pub notes: u64,
    pub clusters: u64,
    /// Dots placed, summed over every note.
    pub votes: u64,
    /// Notes placed in a slot (a radar's signals, answers of a kind's layout).
    pub signals: u64,
    /// Distinct participants who wrote a note or placed a dot.
    pub participants: u64,
}

/// Counts notes, clusters, dots, signals and participants in a v1-encoded document state.
pub fn tally(state: &[u8]) -> Result<Tally, Unreadable> {
    let doc = Doc::new();
    let update = Update::decode_v1(state).map_err(|e| Unreadable(e.to_string()))?;
    doc.transact_mut().apply_update(update).map_err(|e| Unreadable(e.to_string()))?;
    let txn = doc.transact();
    let mut tally = Tally::default();
    let mut people = std::collections::BTreeSet::new();
    if let Some(notes) = txn.get_map("notes") {
        for (_, value) in notes.iter(&txn) {
            let Out::YMap(note) = value else { continue };
            if string(&note, &txn, "type").as_deref() != Some("note") {
                continue;
            }
            tally.notes += 1;
            tally.votes += votes(&note, &txn).max(0.0) as u64;
            if matches!(note.get(&txn, "slot"), Some(Out::Any(Any::Map(_))) | Some(Out::YMap(_))) {
                tally.signals += 1;
            }
            if let Some(by) = string(&note, &txn, "createdBy").filter(|s| !s.is_empty()) {
                people.insert(by);
            }
            if let Some(Out::YMap(v)) = note.get(&txn, "votes") {
                for (who, _) in v.iter(&txn) {
                    people.insert(who.to_owned());
                }
            }
        }
    }
    if let Some(clusters) = txn.get_map("clusters") {
        tally.clusters = clusters
            .iter(&txn)
            .filter(
                |(_, v)| matches!(v, Out::YMap(c) if string(c, &txn, "type").as_deref() == Some("cluster")),
            )
            .count() as u64;
    }
    tally.participants = people.len() as u64;
    Ok(tally)
}

fn string<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> Option<String> {
    match map.get(txn, key)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

fn text<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> String {
    match map.get(txn, key) {
        Some(Out::YText(t)) => t.get_string(txn),
        Some(Out::Any(Any::String(s))) => s.to_string(),
        _ => String::new(),
    }
}

fn number(any: &Any) -> Option<f64> {
    match any {
        Any::Number(n) => n.as_f64().filter(|v| v.is_finite()),
        _ => None,
    }
}

fn pair<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> (f64, f64) {
    match map.get(txn, key) {
        Some(Out::Any(Any::Array(a))) if a.len() >= 2 => {
            (number(&a[0]).unwrap_or(0.0), number(&a[1]).unwrap_or(0.0))
        }
        _ => (0.0, 0.0),
    }
}

fn votes<T: ReadTxn>(map: &MapRef, txn: &T) -> f64 {
    match map.get(txn, "votes") {
        Some(Out::YMap(v)) => {
            v.iter(txn).filter_map(|(_, n)| if let Out::Any(a) = n { number(&a) } else { None }).sum()
        }
        _ => 0.0,
    }
}

/// The first update of a new board of `kind`: the shared containers its UI would otherwise
/// create on first open. Created once, here, so that two facilitators opening a new board at
/// the same time do not each create their own (a map key set twice keeps one value: the rows
/// added to the other container would be lost). Fabrique des mandats: `matrix.rows`,
/// `matrix.cols` (arrays) and `matrix.cells` (a map), docs/board-schema.md. `None` for kinds
/// that need nothing.
pub fn first_state(kind: crate::tenancy::BoardKind) -> Option<Vec<u8>> {
    use yrs::{ArrayPrelim, MapPrelim};
    match kind {
        crate::tenancy::BoardKind::Mandats => {
            let doc = Doc::new();
            let matrix = doc.get_or_insert_map("matrix");
            let mut txn = doc.transact_mut();
            matrix.insert(&mut txn, "rows", ArrayPrelim::default());
            matrix.insert(&mut txn, "cols", ArrayPrelim::default());
            matrix.insert(&mut txn, "cells", MapPrelim::default());
            Some(txn.encode_update_v1())
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use yrs::{MapPrelim, StateVector, Text, TextPrelim};

    #[test]
    fn reads_notes_and_clusters_as_the_ui_writes_them() {
        let doc = Doc::new();
        let notes = doc.get_or_insert_map("notes");
        let clusters = doc.get_or_insert_map("clusters");
        {
            let mut txn = doc.transact_mut();
            let n = notes.insert(&mut txn, "n2", MapPrelim::default());
            n.insert(&mut txn, "type", "note");
            let t = n.insert(&mut txn, "text", TextPrelim::new(""));
            t.insert(&mut txn, 0, "Des navettes le samedi");
            n.insert(&mut txn, "xy", Any::from(vec![Any::from(10.5), Any::from(-3.0)]));
            n.insert(&mut txn, "parent", "c1");
            let v = n.insert(&mut txn, "votes", MapPrelim::default());
            v.insert(&mut txn, "u1", 2.0);
            v.insert(&mut txn, "g7", 1.0);
            let m = notes.insert(&mut txn, "n1", MapPrelim::default());
            m.insert(&mut txn, "type", "note");
            m.insert(&mut txn, "parent", Any::Null);
            // Not notes: no type, another type, not a map.
            notes.insert(&mut txn, "junk", MapPrelim::default());
            let s = notes.insert(&mut txn, "shape", MapPrelim::default());
            s.insert(&mut txn, "type", "rect");
            notes.insert(&mut txn, "scalar", 3.0);
            let c = clusters.insert(&mut txn, "c1", MapPrelim::default());
            c.insert(&mut txn, "type", "cluster");
            let title = c.insert(&mut txn, "title", TextPrelim::new(""));
            title.insert(&mut txn, 0, "Mobilité");
        }
        let state = doc.transact().encode_state_as_update_v1(&StateVector::default());
        let board = read(&state).unwrap();
        assert_eq!(board.notes.len(), 2);
        assert_eq!(
            board.notes[0],
            Note { id: "n1".into(), text: String::new(), parent: None, xy: (0.0, 0.0), votes: 0.0 }
        );
        assert_eq!(
            board.notes[1],
            Note {
                id: "n2".into(),
                text: "Des navettes le samedi".into(),
                parent: Some("c1".into()),
                xy: (10.5, -3.0),
                votes: 3.0
            }
        );
        assert_eq!(board.clusters, vec![Cluster { id: "c1".into(), title: "Mobilité".into() }]);
    }

    #[test]
    fn an_empty_document_is_an_empty_board_and_garbage_is_an_error() {
        let empty = Doc::new().transact().encode_state_as_update_v1(&StateVector::default());
        assert_eq!(read(&empty).unwrap(), Board::default());
        assert!(read(b"\xff\xff\xff").is_err());
    }
}
