//! Clustering suggestions through the real server: notes written by a WebSocket client in the
//! board schema's layout are read from the open room's committed state, then from the store
//! after a restart; only facilitators may ask; clustered notes are left out unless asked.

use serde_json::{json, Value};
use yrs::{Map, MapPrelim, Text, TextPrelim};

use crate::support::*;

const MOBILITY: [&str; 6] = [
    "Plus de bus le soir pour rentrer du travail",
    "Des bus plus fréquents entre les villages",
    "Le bus du samedi ne passe qu'une fois",
    "Un bus scolaire ouvert aux habitants",
    "Horaires des bus affichés à chaque arrêt",
    "Navette bus vers la gare le dimanche",
];
const CANTEEN: [&str; 6] = [
    "Des produits locaux à la cantine",
    "Une cantine bio avec des repas végétariens",
    "Menus de la cantine choisis avec les enfants",
    "Moins de gaspillage à la cantine",
    "Les producteurs locaux livrent la cantine",
    "Une cantine avec des légumes du potager",
];

fn add_note(client: &TestClient, id: &str, text: &str, parent: Option<&str>) {
    client.edit(|txn, notes| {
        let note = notes.insert(txn, id.to_owned(), MapPrelim::default());
        note.insert(txn, "type", "note");
        let t = note.insert(txn, "text", TextPrelim::new(""));
        t.insert(txn, 0, text);
        match parent {
            Some(p) => note.insert(txn, "parent", p.to_owned()),
            None => note.insert(txn, "parent", yrs::Any::Null),
        };
    });
}

async fn ask(addr: std::net::SocketAddr, board: &str, token: &str, body: Value) -> (u16, Value) {
    http(addr, "POST", &format!("/api/v1/boards/{board}/suggestions/clusters"), Some(token), Some(body)).await
}

/// The suggested groups as sets of note ids, sorted.
fn groups(answer: &Value) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = answer["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut ids: Vec<String> =
                c["note_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
            ids.sort();
            ids
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn suggestions_group_the_notes_of_a_board() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&dir);
    let server = TestServer::start(cfg.clone()).await;
    let fx = Fixture::new(&server).await;
    let writer = TestClient::connect(&fx.url("edith").await).await;
    writer.wait_synced().await;
    for (i, text) in MOBILITY.iter().enumerate() {
        add_note(&writer, &format!("m{i}"), text, None);
    }
    for (i, text) in CANTEEN.iter().enumerate() {
        add_note(&writer, &format!("c{i}"), text, None);
    }
    // A note already in a cluster, and an entry that is not a note.
    add_note(&writer, "x0", "Des bus électriques pour la cantine", Some("cluster-1"));
    writer.edit(|txn, notes| {
        notes.insert(txn, "not-a-note", 3);
    });
    // Relayed only once committed: the reader seeing everything means the room committed it.
    let reader = TestClient::connect(&fx.url("rita").await).await;
    reader.wait_until("the reader has every note", |c| c.keys() == 14).await;

    let expected: Vec<Vec<String>> = {
        let mut g = vec![
            (0..6).map(|i| format!("c{i}")).collect::<Vec<_>>(),
            (0..6).map(|i| format!("m{i}")).collect::<Vec<_>>(),
        ];
        g.sort();
        g
    };
    let (status, answer) = ask(fx.addr(), &fx.board, &fx.admin, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["notes_considered"], 12, "the clustered note is left out: {answer}");
    assert_eq!(groups(&answer), expected, "{answer}");
    let titles: Vec<String> = answer["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(titles.iter().any(|t| t.contains("bus")), "{titles:?}");
    assert!(titles.iter().any(|t| t.contains("cantine")), "{titles:?}");

    let (status, all) = ask(fx.addr(), &fx.board, &fx.admin, json!({"include_clustered": true})).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["notes_considered"], 13);

    // Editors and viewers may not ask; bad options are a 400 in the API's format.
    let editor = fx.token("edith").await;
    let (status, body) = ask(fx.addr(), &fx.board, &editor, json!({})).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = ask(fx.addr(), &fx.board, &fx.admin, json!({"options": {"max_clusters": 0}})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "bad_request");
    let (status, _) = ask(fx.addr(), &fx.board, &fx.admin, json!({"unknown": 1})).await;
    assert_eq!(status, 400);

    // After a restart the board is read from the store (no room open): same groups.
    writer.close();
    reader.close();
    server.stop().await;
    let server = TestServer::start(cfg).await;
    fx.rebind(&server);
    let (status, again) = ask(fx.addr(), &fx.board, &fx.admin, json!({})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(groups(&again), expected);
    server.stop().await;
}
