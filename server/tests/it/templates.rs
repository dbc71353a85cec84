//! Tenant templates through the real server, on SQLite and PostgreSQL: a facilitator saves a
//! board with a locked prompt, a participant's note, dots, phases and images as a template; a
//! board made from it in one step has the format (prompt, phases, deck, images readable on the
//! new board) and not the session (the participant's note, the dots, the current phase); the
//! boards made from it are counted side by side; other tenants see nothing of it; roles hold.

use serde_json::{json, Value};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{Any, Map, MapPrelim, Out, Text, TextPrelim, Transact, TransactionMut};

use crate::store::PgDb;
use crate::support::*;

#[tokio::test]
async fn templates_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    scenario(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn templates_on_postgres() {
    let pg = PgDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.db.database_url = Some(pg.url.clone());
    let server = TestServer::start(cfg).await;
    scenario(&server).await;
    server.stop().await;
    drop(pg);
}

/// Edits several top-level maps of a client's document in one update, like a stock client.
fn edit_maps(client: &TestClient, f: impl FnOnce(&mut TransactionMut, &[yrs::MapRef])) {
    let maps: Vec<yrs::MapRef> =
        ["notes", "meta", "shapes"].iter().map(|n| client.doc.get_or_insert_map(*n)).collect();
    let update = {
        let mut txn = client.doc.transact_mut();
        f(&mut txn, &maps);
        txn.encode_update_v1()
    };
    client.send_raw(Message::Sync(SyncMessage::Update(update)).encode_v1());
}

fn note(txn: &mut TransactionMut, notes: &yrs::MapRef, id: &str, text: &str, by: &str) -> yrs::MapRef {
    let n = notes.insert(txn, id, MapPrelim::default());
    n.insert(txn, "type", "note");
    let t = n.insert(txn, "text", TextPrelim::new(""));
    t.insert(txn, 0, text);
    n.insert(txn, "createdBy", by);
    n
}

/// A participant places dots on an existing note (a note added with votes in it is reverted).
fn vote(client: &TestClient, note_id: &str, who: &str, dots: f64) {
    client.edit(|txn, notes| {
        let Some(Out::YMap(n)) = notes.get(txn, note_id) else { panic!("note {note_id}") };
        let votes = n.insert(txn, "votes", MapPrelim::default());
        votes.insert(txn, who, dots);
    });
}

fn meta_value(client: &TestClient, key: &str) -> Option<Out> {
    client.doc.get_or_insert_map("meta").get(&client.doc.transact(), key)
}

async fn upload(addr: std::net::SocketAddr, board: &str, token: &str, seed: u32) -> (String, Vec<u8>) {
    let png = tiny_png(seed);
    let up = http_bytes(
        addr,
        "POST",
        &format!("/api/v1/boards/{board}/images"),
        Some(token),
        Some(("image/png", &png)),
        &[],
    )
    .await;
    assert_eq!(up.status, 201, "{}", up.json());
    (up.json()["id"].as_str().unwrap().to_owned(), png)
}

async fn scenario(server: &TestServer) {
    let fx = Fixture::new(server).await;
    let addr = server.addr;
    let fanny = fx.token_with_role("fanny", "facilitator").await;
    let paul = fx.token("paul").await;
    let vera = fx.token_with_role("vera", "viewer").await;
    let fanny_id = fx.user_id("fanny");
    let paul_id = fx.user_id("paul");

    // The session: the facilitator's locked prompt, phases, the current phase, an open vote, a
    // deck and an image on the board; the participant's note and dots.
    let (deck_image, deck_png) = upload(addr, &fx.board, &fanny, 11).await;
    let (shape_image, shape_png) = upload(addr, &fx.board, &fanny, 12).await;
    let facilitator = TestClient::connect(&fx.url("fanny").await).await;
    let participant = TestClient::connect(&fx.url("paul").await).await;
    facilitator.wait_synced().await;
    participant.wait_synced().await;
    edit_maps(&facilitator, |txn, maps| {
        let (notes, meta, shapes) = (&maps[0], &maps[1], &maps[2]);
        let prompt = note(txn, notes, "prompt", "Quel trajet rêvez-vous le samedi ?", &fanny_id);
        prompt.insert(txn, "locked", true);
        meta.insert(
            txn,
            "phases",
            Any::from(vec![
                Any::from(std::collections::HashMap::from([
                    ("id".to_owned(), Any::from("idees")),
                    ("title".to_owned(), Any::from("Idées")),
                ])),
                Any::from(std::collections::HashMap::from([
                    ("id".to_owned(), Any::from("vote")),
                    ("title".to_owned(), Any::from("Vote")),
                ])),
            ]),
        );
        meta.insert(txn, "phase", "vote");
        meta.insert(txn, "votingOpen", true);
        meta.insert(
            txn,
            "deck",
            Any::from(vec![Any::from(std::collections::HashMap::from([
                ("asset".to_owned(), Any::from(deck_image.as_str())),
                ("name".to_owned(), Any::from("gare.png")),
            ]))]),
        );
        let s = shapes.insert(txn, "photo", MapPrelim::default());
        s.insert(txn, "type", "image");
        s.insert(txn, "asset", shape_image.as_str());
        s.insert(txn, "name", "halle.png");
    });
    participant
        .wait_until("the prompt and the open vote", |c| {
            c.keys() == 1 && matches!(meta_value(c, "votingOpen"), Some(Out::Any(Any::Bool(true))))
        })
        .await;
    participant.edit(|txn, notes| {
        note(txn, notes, "idee-paul", "Un bus de nuit jusqu'à la gare", &paul_id);
    });
    facilitator.wait_until("the participant's note", |c| c.keys() == 2).await;
    vote(&participant, "idee-paul", &paul_id, 2.0);
    facilitator
        .wait_until("the participant's dots", |c| c.notes()["idee-paul"]["votes"][&paul_id] == 2.0)
        .await;

    // Only the board's facilitators save it as a template.
    let body = json!({"board_id": fx.board, "name": "Soirée mobilité"});
    for (who, token) in [("editor", &paul), ("viewer", &vera)] {
        let (status, resp) = http(addr, "POST", "/api/v1/templates", Some(token), Some(body.clone())).await;
        assert_eq!(status, 403, "{who} saves a template: {resp}");
    }
    let (status, resp) = http(
        addr,
        "POST",
        "/api/v1/templates",
        Some(&fanny),
        Some(json!({"board_id": fx.board, "name": "  "})),
    )
    .await;
    assert_eq!(status, 400, "an empty name: {resp}");
    let (status, template) = http(addr, "POST", "/api/v1/templates", Some(&fanny), Some(body)).await;
    assert_eq!(status, 201, "{template}");
    assert_eq!(template["name"], "Soirée mobilité");
    assert_eq!(template["kind"], "postit");
    assert_eq!(template["source_board_id"], fx.board.as_str());
    assert_eq!(template["images"], 2, "both images the board shows are kept: {template}");
    let tid = template["id"].as_str().unwrap().to_owned();

    // Every member of the organisation lists it.
    let (status, list) = http(addr, "GET", "/api/v1/templates", Some(&vera), None).await;
    assert_eq!(status, 200, "{list}");
    assert!(list.as_array().unwrap().iter().any(|t| t["id"] == tid.as_str()), "{list}");

    // A board from it, in one step: the template's kind, even when none is given.
    let boards = format!("/api/v1/projects/{}/boards", fx.project);
    let (status, resp) = http(
        addr,
        "POST",
        &boards,
        Some(&fanny),
        Some(json!({"title": "Autre", "kind": "radar", "template_id": tid})),
    )
    .await;
    assert_eq!(status, 400, "another kind than the template's: {resp}");
    let (status, resp) = http(addr, "POST", &boards, Some(&fanny), Some(json!({"title": "Sans type"}))).await;
    assert_eq!(status, 400, "no kind and no template: {resp}");
    let (status, resp) =
        http(addr, "POST", &boards, Some(&paul), Some(json!({"title": "Soirée 2", "template_id": tid})))
            .await;
    assert_eq!(status, 403, "an editor creates no board: {resp}");
    let (status, resp) = http(
        addr,
        "POST",
        &boards,
        Some(&fanny),
        Some(json!({"title": "Soirée 2", "template_id": "no-such-template"})),
    )
    .await;
    assert_eq!(status, 404, "an unknown template: {resp}");
    let (status, made) = http(
        addr,
        "POST",
        &boards,
        Some(&fanny),
        Some(json!({"title": "Soirée 2 — Lycée", "template_id": tid})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["kind"], "postit");
    let second = made["id"].as_str().unwrap().to_owned();
    let (status, made) = http(
        addr,
        "POST",
        &boards,
        Some(&fx.admin),
        Some(json!({"title": "Soirée 3 — Mairie", "kind": "postit", "template_id": tid})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let third = made["id"].as_str().unwrap().to_owned();

    // The new board has the format, not the session.
    let joiner = TestClient::connect(&fx.url_for(&second, "paul").await).await;
    joiner.wait_until("the template's prompt", |c| c.keys() == 1).await;
    let notes = joiner.notes();
    assert_eq!(notes["prompt"]["text"], "Quel trajet rêvez-vous le samedi ?", "{notes}");
    assert_eq!(notes["prompt"]["locked"], true, "{notes}");
    assert!(notes["prompt"].get("votes").is_none(), "no dots: {notes}");
    assert!(notes.get("idee-paul").is_none(), "no participant's note: {notes}");
    assert!(meta_value(&joiner, "phase").is_none(), "no current phase");
    assert!(meta_value(&joiner, "votingOpen").is_none(), "no open vote");
    let Some(Out::Any(Any::Array(phases))) = meta_value(&joiner, "phases") else {
        panic!("the phases are kept")
    };
    assert_eq!(phases.len(), 2);
    // Its images are its own copies, readable on the new board, named in its document.
    let Some(Out::Any(Any::Array(deck))) = meta_value(&joiner, "deck") else { panic!("the deck is kept") };
    let Any::Map(entry) = &deck[0] else { panic!("a deck entry") };
    let Some(Any::String(new_deck)) = entry.get("asset") else { panic!("an asset") };
    assert_ne!(new_deck.as_ref(), deck_image.as_str(), "a new id on the new board");
    let shape_asset = {
        let shapes = joiner.doc.get_or_insert_map("shapes");
        let txn = joiner.doc.transact();
        let Some(Out::YMap(s)) = shapes.get(&txn, "photo") else { panic!("the image shape is kept") };
        let Some(Out::Any(Any::String(a))) = s.get(&txn, "asset") else { panic!("its asset") };
        a.to_string()
    };
    for (asset, png) in [(new_deck.to_string(), &deck_png), (shape_asset, &shape_png)] {
        let got = http_bytes(
            addr,
            "GET",
            &format!("/api/v1/boards/{second}/images/{asset}"),
            Some(&paul),
            None,
            &[],
        )
        .await;
        assert_eq!(got.status, 200, "image {asset} on the new board");
        assert_eq!(&got.body, png, "the same bytes");
    }

    // A session on the second board: two notes, one placed in a slot, three dots.
    edit_maps(&facilitator, |txn, maps| {
        maps[1].insert(txn, "votingOpen", false);
    });
    let fac2 = TestClient::connect(&fx.url_for(&second, "fanny").await).await;
    fac2.wait_synced().await;
    edit_maps(&fac2, |txn, maps| {
        maps[1].insert(txn, "votingOpen", true);
    });
    joiner
        .wait_until("the vote opens", |c| {
            matches!(meta_value(c, "votingOpen"), Some(Out::Any(Any::Bool(true))))
        })
        .await;
    joiner.edit(|txn, notes| {
        let a = note(txn, notes, "a", "Navette électrique", &paul_id);
        a.insert(
            txn,
            "slot",
            Any::from(std::collections::HashMap::from([("step".to_owned(), Any::from("s1"))])),
        );
        note(txn, notes, "b", "Vélos en libre-service", &paul_id);
    });
    fac2.wait_until("the participant's notes", |c| c.keys() == 3).await;
    vote(&joiner, "a", &paul_id, 2.0);
    vote(&joiner, "b", &paul_id, 1.0);
    fac2.wait_until("the participant's dots", |c| c.notes()["b"]["votes"][&paul_id] == 1.0).await;

    // Side by side.
    let (status, side) =
        http(addr, "GET", &format!("/api/v1/templates/{tid}/boards"), Some(&fanny), None).await;
    assert_eq!(status, 200, "{side}");
    let side = side.as_array().unwrap().clone();
    let ids: Vec<&str> = side.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![second.as_str(), third.as_str()], "the boards made from it, oldest first");
    assert_eq!(
        side[0]["counts"],
        json!({"notes": 3, "clusters": 0, "votes": 3, "signals": 1, "participants": 2}),
        "{side:?}"
    );
    assert_eq!(
        side[1]["counts"],
        json!({"notes": 1, "clusters": 0, "votes": 0, "signals": 0, "participants": 1}),
        "{side:?}"
    );
    assert_eq!(side[0]["title"], "Soirée 2 — Lycée");

    // A member of the organisation outside the project sees the template, not the boards.
    let email = format!("oscar{}@org.test", rand_u64() % 1_000_000_000);
    let (status, user) = http(
        addr,
        "POST",
        "/api/v1/users",
        Some(&fx.admin),
        Some(json!({"email": email, "password": "outsider-password", "display_name": "Oscar Petit"})),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let (_, login) = http(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": "outsider-password"})),
    )
    .await;
    let oscar = login["token"].as_str().unwrap().to_owned();
    let (status, one) = http(addr, "GET", &format!("/api/v1/templates/{tid}"), Some(&oscar), None).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["boards"], 2);
    let (status, seen) =
        http(addr, "GET", &format!("/api/v1/templates/{tid}/boards"), Some(&oscar), None).await;
    assert_eq!((status, seen), (200, json!([])), "boards of a project one is not in stay hidden");

    // Another organisation sees nothing of it and cannot use it.
    let other = Fixture::new(server).await;
    let (status, list) = http(addr, "GET", "/api/v1/templates", Some(&other.admin), None).await;
    assert_eq!(status, 200);
    assert!(!list.to_string().contains(&tid), "{list}");
    for (method, path) in [
        ("GET", format!("/api/v1/templates/{tid}")),
        ("GET", format!("/api/v1/templates/{tid}/boards")),
        ("DELETE", format!("/api/v1/templates/{tid}")),
    ] {
        let (status, resp) = http(addr, method, &path, Some(&other.admin), None).await;
        assert_eq!(status, 404, "another tenant: {method} {path}: {resp}");
    }
    let (status, resp) = http(
        addr,
        "POST",
        &format!("/api/v1/projects/{}/boards", other.project),
        Some(&other.admin),
        Some(json!({"title": "Copie", "template_id": tid})),
    )
    .await;
    assert_eq!(status, 404, "another tenant's template: {resp}");
    let (status, resp) = http(
        addr,
        "POST",
        "/api/v1/templates",
        Some(&other.admin),
        Some(json!({"board_id": fx.board, "name": "Vol"})),
    )
    .await;
    assert_eq!(status, 404, "another tenant's board: {resp}");

    // `"content": "all"` keeps the participants' notes too, never their dots.
    let (status, everything) = http(
        addr,
        "POST",
        "/api/v1/templates",
        Some(&fanny),
        Some(json!({"board_id": fx.board, "name": "Soirée mobilité, avec les idées", "content": "all"})),
    )
    .await;
    assert_eq!(status, 201, "{everything}");
    let (status, resp) = http(
        addr,
        "POST",
        "/api/v1/templates",
        Some(&fanny),
        Some(json!({"board_id": fx.board, "name": "x", "content": "some"})),
    )
    .await;
    assert_eq!(status, 400, "an unknown content: {resp}");

    // The template outlives its source board: its images are its own.
    let (status, _) =
        http(addr, "DELETE", &format!("/api/v1/boards/{}", fx.board), Some(&fx.admin), None).await;
    assert_eq!(status, 204);
    let (_, one) = http(addr, "GET", &format!("/api/v1/templates/{tid}"), Some(&fanny), None).await;
    assert_eq!(one["source_board_id"], Value::Null, "{one}");
    let (status, made) = http(
        addr,
        "POST",
        &boards,
        Some(&fanny),
        Some(json!({"title": "Soirée 4", "template_id": everything["id"]})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let fourth = made["id"].as_str().unwrap().to_owned();
    let late = TestClient::connect(&fx.url_for(&fourth, "fanny").await).await;
    late.wait_until("every note of the template", |c| c.keys() == 2).await;
    let notes = late.notes();
    assert_eq!(notes["idee-paul"]["text"], "Un bus de nuit jusqu'à la gare", "{notes}");
    assert!(notes["idee-paul"].get("votes").is_none(), "no dots: {notes}");
    let Some(Out::Any(Any::Array(deck))) = meta_value(&late, "deck") else { panic!("the deck is kept") };
    let Any::Map(entry) = &deck[0] else { panic!("a deck entry") };
    let Some(Any::String(asset)) = entry.get("asset") else { panic!("an asset") };
    let got =
        http_bytes(addr, "GET", &format!("/api/v1/boards/{fourth}/images/{asset}"), Some(&fanny), None, &[])
            .await;
    assert_eq!((got.status, &got.body), (200, &deck_png), "the deck image, after its first board is gone");
    late.close();

    // Deleting: its author or an admin; the boards made from it stay.
    let (status, resp) = http(addr, "DELETE", &format!("/api/v1/templates/{tid}"), Some(&paul), None).await;
    assert_eq!(status, 403, "{resp}");
    let (status, _) = http(addr, "DELETE", &format!("/api/v1/templates/{tid}"), Some(&fanny), None).await;
    assert_eq!(status, 204);
    let (status, _) = http(addr, "GET", &format!("/api/v1/templates/{tid}"), Some(&fanny), None).await;
    assert_eq!(status, 404);
    let (status, board) = http(addr, "GET", &format!("/api/v1/boards/{second}"), Some(&fanny), None).await;
    assert_eq!(status, 200, "{board}");
    let (_, list): (u16, Value) = http(addr, "GET", "/api/v1/templates", Some(&fanny), None).await;
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Soirée mobilité, avec les idées"]);

    for c in [&facilitator, &participant, &joiner, &fac2] {
        c.close();
    }
}
