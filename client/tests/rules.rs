//! The facilitation rules through the real server binary, with SDK clients: a facilitator (the
//! organisation's admin) and a participant (an editor of the project). What a rule forbids is
//! applied, then reverted by the server's own change in the same commit: both clients converge on
//! the state without it, and the participant is told (`reverted: …`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod common;

use std::time::Duration;

use atelier_client::{Api, Client, ClientOptions, Event};
use common::{eventually, Atelier, WAIT};
use serde_json::json;
use tokio::sync::broadcast;
use yrs::types::ToJson;
use yrs::{Any, Array, ArrayPrelim, Map, MapPrelim, MapRef, Out, Transact, WriteTxn};

/// A board of `kind`, its facilitator and one participant, both connected.
struct Workshop {
    _dir: tempfile::TempDir,
    _at: Atelier,
    fac: Client,
    par: Client,
    /// The participant's id (as written in `votes`, `stars`, `comments`).
    par_id: String,
    par_events: broadcast::Receiver<Event>,
}

impl Workshop {
    async fn open(kind: &str) -> Workshop {
        let dir = tempfile::tempdir().unwrap();
        let at = Atelier::start(dir.path()).await;
        let board = at.api.create_board(&at.project, "atelier test", kind).await.unwrap();
        let user = at
            .api
            .call(
                "POST",
                "/users",
                Some(&json!({"email": "ines.roux@test.example", "password": "ines-password-123", "display_name": "Inès Roux"})),
            )
            .await
            .unwrap();
        let par_id = user["id"].as_str().unwrap().to_owned();
        at.api
            .call(
                "PUT",
                &format!("/projects/{}/members/{par_id}", at.project),
                Some(&json!({"role": "editor"})),
            )
            .await
            .unwrap();
        let mut api = Api::new(format!("http://{}", at.server.addr)).unwrap();
        let par_token = api.login("ines.roux@test.example", "ines-password-123").await.unwrap();
        let opts = |token: &str| ClientOptions::new(at.server.template(), &board).token(token);
        let fac = Client::connect(opts(&at.token().await)).await.unwrap();
        let par = Client::connect(opts(&par_token)).await.unwrap();
        let par_events = par.subscribe();
        Workshop { _dir: dir, _at: at, fac, par, par_id, par_events }
    }

    /// Both clients agree (the server relayed everything both way) and have nothing unsaved.
    /// A round trip on each connection after the saves: a revert is the server's own change,
    /// broadcast with the commit it reverts, so it is on the wire before the round trip's answer
    /// (agreeing alone could catch both clients before the revert arrived).
    async fn settle(&self) {
        for c in [&self.fac, &self.par] {
            tokio::time::timeout(WAIT, c.wait_saved()).await.expect("saved in time").unwrap();
        }
        for c in [&self.fac, &self.par] {
            tokio::time::timeout(WAIT, c.flush()).await.expect("round trip in time").unwrap();
        }
        eventually("both clients agree", || board_json(&self.fac) == board_json(&self.par)).await;
    }

    /// Waits for the participant to be told that an update of theirs was reverted.
    async fn reverted(&mut self) -> String {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.par_events.recv().await {
                    Ok(Event::PermissionDenied { reason }) => return reason,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("events ended: {e}"),
                }
            }
        })
        .await
        .expect("the participant is told about the revert")
    }

    /// Nothing was reverted since the last call (after a settle).
    fn nothing_reverted(&mut self) {
        while let Ok(event) = self.par_events.try_recv() {
            assert!(!matches!(event, Event::PermissionDenied { .. }), "unexpected revert: {event:?}");
        }
    }
}

fn board_json(client: &Client) -> Any {
    let doc = client.doc();
    let roots: Vec<(String, MapRef)> = ["meta", "notes", "clusters", "strokes"]
        .iter()
        .map(|r| (r.to_string(), doc.get_or_insert_map(*r)))
        .collect();
    let txn = doc.transact();
    Any::from(
        roots
            .into_iter()
            .map(|(name, map)| (name, map.to_json(&txn)))
            .collect::<std::collections::HashMap<_, _>>(),
    )
}

/// The keys of a top-level map, sorted.
fn root_keys(client: &Client, root: &str) -> Vec<String> {
    let map = client.doc().get_or_insert_map(root);
    let txn = client.doc().transact();
    let mut keys: Vec<String> = map.keys(&txn).map(str::to_owned).collect();
    keys.sort();
    keys
}

/// Runs `f` in one transaction of `client`'s document.
fn edit(client: &Client, f: impl FnOnce(&mut yrs::TransactionMut)) {
    let mut txn = client.doc().transact_mut();
    f(&mut txn);
}

/// A note with `id` and the given plain keys (plus an empty `votes` map).
fn add_note(client: &Client, id: &str, keys: &[(&str, Any)]) {
    edit(client, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let note = notes.insert(txn, id, MapPrelim::default());
        note.insert(txn, "type", "note");
        note.insert(txn, "xy", Any::from(vec![Any::from(0.0), Any::from(0.0)]));
        for (k, v) in keys {
            note.insert(txn, *k, v.clone());
        }
        note.insert(txn, "votes", MapPrelim::default());
    });
}

fn set_meta(client: &Client, key: &str, value: Any) {
    edit(client, |txn| {
        txn.get_or_insert_map("meta").insert(txn, key, value);
    });
}

/// `notes[id][key]` as JSON (None: absent, or no such note).
fn note_key(client: &Client, id: &str, key: &str) -> Option<Any> {
    let notes = client.doc().get_or_insert_map("notes");
    let txn = client.doc().transact();
    match notes.get(&txn, id)? {
        Out::YMap(note) => note.get(&txn, key).map(|v| v.to_json(&txn)),
        _ => None,
    }
}

fn has_note(client: &Client, id: &str) -> bool {
    let notes = client.doc().get_or_insert_map("notes");
    let txn = client.doc().transact();
    notes.get(&txn, id).is_some()
}

/// `notes[id][map][key]` (a nested map such as `votes` or `stars`).
fn entry(client: &Client, id: &str, map: &str, key: &str) -> Option<Any> {
    match note_key(client, id, map)? {
        Any::Map(m) => m.get(key).cloned(),
        _ => None,
    }
}

/// The texts of `notes.signal.comments`, in order.
fn comment_texts(client: &Client) -> Vec<String> {
    let Some(Any::Array(list)) = note_key(client, "signal", "comments") else { return Vec::new() };
    list.iter()
        .filter_map(|c| match c {
            Any::Map(m) => match m.get("text") {
                Some(Any::String(t)) => Some(t.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Sets `notes[id][map][key] = value` (a nested map such as `votes` or `stars`).
fn set_in(client: &Client, id: &str, map: &str, key: &str, value: Any) {
    edit(client, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let Some(Out::YMap(note)) = notes.get(txn, id) else { panic!("no note {id}") };
        let inner = match note.get(txn, map) {
            Some(Out::YMap(m)) => m,
            _ => note.insert(txn, map, MapPrelim::default()),
        };
        inner.insert(txn, key, value);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_for_facilitators() {
    let mut w = Workshop::open("postit").await;
    set_meta(&w.par, "votingOpen", Any::Bool(true));
    assert!(w.reverted().await.starts_with("reverted:"));
    w.settle().await;
    assert_eq!(root_keys(&w.par, "meta"), Vec::<String>::new(), "the participant's setting is gone");
    set_meta(&w.fac, "votingOpen", Any::Bool(true));
    w.settle().await;
    w.nothing_reverted();
    assert_eq!(root_keys(&w.par, "meta"), vec!["votingOpen".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_items_stay_put() {
    let mut w = Workshop::open("postit").await;
    add_note(&w.fac, "prompt", &[("locked", Any::Bool(true))]);
    w.settle().await;
    // Moving it and deleting it are both undone for everyone.
    edit(&w.par, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let Some(Out::YMap(note)) = notes.get(txn, "prompt") else { panic!() };
        note.insert(txn, "xy", Any::from(vec![Any::from(500.0), Any::from(0.0)]));
    });
    w.reverted().await;
    w.settle().await;
    assert_eq!(note_key(&w.fac, "prompt", "xy"), Some(Any::from(vec![Any::from(0.0), Any::from(0.0)])));
    edit(&w.par, |txn| {
        txn.get_or_insert_map("notes").remove(txn, "prompt");
    });
    w.reverted().await;
    w.settle().await;
    assert!(has_note(&w.par, "prompt"), "the deleted locked note is back");
    // Unlocking is for facilitators too.
    edit(&w.par, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let Some(Out::YMap(note)) = notes.get(txn, "prompt") else { panic!() };
        note.remove(txn, "locked");
    });
    w.reverted().await;
    w.settle().await;
    assert_eq!(note_key(&w.fac, "prompt", "locked"), Some(Any::Bool(true)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phase_limits_what_participants_add() {
    let mut w = Workshop::open("postit").await;
    let phases = Any::from(vec![Any::from(
        [
            ("id".to_owned(), Any::from("ecrire")),
            ("title".to_owned(), Any::from("Écrire")),
            ("allow".to_owned(), Any::from(vec![Any::from("notes")])),
        ]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>(),
    )]);
    set_meta(&w.fac, "phases", phases);
    set_meta(&w.fac, "phase", Any::from("ecrire"));
    w.settle().await;
    edit(&w.par, |txn| {
        let strokes = txn.get_or_insert_map("strokes");
        let s = strokes.insert(txn, "s1", MapPrelim::default());
        s.insert(txn, "type", "stroke");
        s.insert(txn, "points", ArrayPrelim::default());
    });
    w.reverted().await;
    add_note(&w.par, "idea", &[]);
    w.settle().await;
    assert!(has_note(&w.fac, "idea"), "notes are allowed in this phase");
    assert_eq!(root_keys(&w.fac, "strokes"), Vec::<String>::new(), "the stroke was reverted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn additions_per_minute_are_limited() {
    let mut w = Workshop::open("radar").await;
    set_meta(&w.fac, "addsPerMinute", Any::from(3.0));
    w.settle().await;
    for i in 0..5 {
        add_note(&w.par, &format!("signal{i}"), &[]);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    w.reverted().await;
    w.settle().await;
    let kept = (0..5).filter(|i| has_note(&w.fac, &format!("signal{i}"))).count();
    assert_eq!(kept, 3, "a burst of one minute's worth passes, the rest is reverted");
    // Facilitators are not limited.
    for i in 0..5 {
        add_note(&w.fac, &format!("fac{i}"), &[]);
    }
    w.settle().await;
    assert_eq!((0..5).filter(|i| has_note(&w.par, &format!("fac{i}"))).count(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_votes_respect_the_budget_and_belong_to_their_voter() {
    let mut w = Workshop::open("postit").await;
    add_note(&w.fac, "a", &[]);
    add_note(&w.fac, "b", &[]);
    w.settle().await;
    let me = w.par_id.clone();
    // No vote is open: a dot is reverted.
    set_in(&w.par, "a", "votes", &me, Any::from(1.0));
    assert!(w.reverted().await.starts_with("reverted:"));
    w.settle().await;
    assert_eq!(
        note_key(&w.fac, "a", "votes"),
        Some(Any::from(std::collections::HashMap::<String, Any>::new()))
    );
    // Open with 2 dots each: two dots pass, a third is reverted.
    set_meta(&w.fac, "votesPerParticipant", Any::from(2.0));
    set_meta(&w.fac, "votingOpen", Any::Bool(true));
    w.settle().await;
    set_in(&w.par, "a", "votes", &me, Any::from(1.0));
    set_in(&w.par, "b", "votes", &me, Any::from(1.0));
    w.settle().await;
    w.nothing_reverted();
    set_in(&w.par, "b", "votes", &me, Any::from(2.0));
    w.reverted().await;
    w.settle().await;
    assert_eq!(entry(&w.fac, "b", "votes", &me), Some(Any::from(1.0)), "the third dot is reverted");
    // Someone else's dots are not the participant's to write.
    set_in(&w.par, "a", "votes", "someone-else", Any::from(1.0));
    w.reverted().await;
    w.settle().await;
    assert_eq!(entry(&w.fac, "a", "votes", "someone-else"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stars_are_ones_own() {
    let mut w = Workshop::open("demarreur").await;
    add_note(&w.fac, "q", &[]);
    w.settle().await;
    let me = w.par_id.clone();
    set_in(&w.par, "q", "stars", &me, Any::Bool(true));
    w.settle().await;
    w.nothing_reverted();
    assert_eq!(entry(&w.fac, "q", "stars", &me), Some(Any::Bool(true)));
    set_in(&w.par, "q", "stars", "someone-else", Any::Bool(true));
    w.reverted().await;
    w.settle().await;
    assert_eq!(entry(&w.fac, "q", "stars", "someone-else"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_and_triage_are_for_facilitators() {
    let mut w = Workshop::open("radar").await;
    add_note(&w.par, "signal", &[]);
    w.settle().await;
    // A participant cannot hide (moderate) a signal; a facilitator can, and it stays hidden.
    edit(&w.par, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let Some(Out::YMap(note)) = notes.get(txn, "signal") else { panic!() };
        note.insert(txn, "hidden", true);
    });
    w.reverted().await;
    w.settle().await;
    assert_eq!(note_key(&w.fac, "signal", "hidden"), None);
    edit(&w.fac, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let Some(Out::YMap(note)) = notes.get(txn, "signal") else { panic!() };
        note.insert(txn, "hidden", true);
    });
    w.settle().await;
    edit(&w.par, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let Some(Out::YMap(note)) = notes.get(txn, "signal") else { panic!() };
        note.remove(txn, "hidden");
    });
    w.reverted().await;
    w.settle().await;
    assert_eq!(note_key(&w.par, "signal", "hidden"), Some(Any::Bool(true)));
    // The triage of a cluster (a notion clé) is the facilitator's.
    edit(&w.fac, |txn| {
        let clusters = txn.get_or_insert_map("clusters");
        let c = clusters.insert(txn, "notion", MapPrelim::default());
        c.insert(txn, "type", "cluster");
    });
    w.settle().await;
    edit(&w.par, |txn| {
        let clusters = txn.get_or_insert_map("clusters");
        let Some(Out::YMap(c)) = clusters.get(txn, "notion") else { panic!() };
        c.insert(txn, "status", "explored");
    });
    w.reverted().await;
    w.settle().await;
    let clusters = w.fac.doc().get_or_insert_map("clusters");
    let txn = w.fac.doc().transact();
    let Some(Out::YMap(c)) = clusters.get(&txn, "notion") else { panic!("the cluster is there") };
    assert_eq!(c.get(&txn, "status"), None, "the participant's triage is reverted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_are_added_and_removed_in_ones_own_name() {
    let mut w = Workshop::open("radar").await;
    add_note(&w.fac, "signal", &[]);
    w.settle().await;
    let comment = |by: &str, text: &str| {
        Any::from(
            [
                ("id", Any::from(text)),
                ("by", Any::from(by)),
                ("text", Any::from(text)),
                ("at", Any::from(0.0)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<std::collections::HashMap<_, _>>(),
        )
    };
    let push = |client: &Client, value: Any| {
        edit(client, |txn| {
            let notes = txn.get_or_insert_map("notes");
            let Some(Out::YMap(note)) = notes.get(txn, "signal") else { panic!() };
            let list = match note.get(txn, "comments") {
                Some(Out::YArray(a)) => a,
                _ => note.insert(txn, "comments", ArrayPrelim::default()),
            };
            list.push_back(txn, value);
        });
    };
    push(&w.fac, comment("facilitator", "Source ?"));
    w.settle().await;
    let me = w.par_id.clone();
    push(&w.par, comment(&me, "Vu dans la presse locale"));
    w.settle().await;
    w.nothing_reverted();
    push(&w.par, comment("facilitator", "faux"));
    w.reverted().await;
    w.settle().await;
    assert_eq!(comment_texts(&w.fac), vec!["Source ?", "Vu dans la presse locale"]);
    // Deleting someone's comment is reverted.
    edit(&w.par, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let Some(Out::YMap(note)) = notes.get(txn, "signal") else { panic!() };
        let Some(Out::YArray(list)) = note.get(txn, "comments") else { panic!() };
        list.remove(txn, 0);
    });
    w.reverted().await;
    w.settle().await;
    assert_eq!(comment_texts(&w.fac), vec!["Source ?", "Vu dans la presse locale"]);
    // Deleting one's own is allowed.
    edit(&w.par, |txn| {
        let notes = txn.get_or_insert_map("notes");
        let Some(Out::YMap(note)) = notes.get(txn, "signal") else { panic!() };
        let Some(Out::YArray(list)) = note.get(txn, "comments") else { panic!() };
        list.remove(txn, 1);
    });
    w.settle().await;
    w.nothing_reverted();
    assert_eq!(comment_texts(&w.fac), vec!["Source ?"]);
}
