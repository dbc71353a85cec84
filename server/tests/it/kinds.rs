//! Board kinds: `photolangage` (migration 0005) on both backends, and the SQLite table rebuild
//! that keeps every board and everything referencing boards.

use std::borrow::Cow;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Row, SqliteConnection};

use crate::store::PgDb;
use crate::support::*;

async fn photolangage_boards(server: &TestServer) {
    let fx = Fixture::new(server).await;
    let (status, board) = http(
        fx.addr(),
        "POST",
        &format!("/api/v1/projects/{}/boards", fx.project),
        Some(&fx.admin),
        Some(serde_json::json!({"title": "Photo-langage : la mobilité demain", "kind": "photolangage"})),
    )
    .await;
    assert_eq!(status, 201, "{board}");
    assert_eq!(board["kind"], "photolangage");
    let id = board["id"].as_str().unwrap();
    let (status, read) = http(fx.addr(), "GET", &format!("/api/v1/boards/{id}"), Some(&fx.admin), None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["kind"], "photolangage", "stored and read back");
    let (status, list) =
        http(fx.addr(), "GET", &format!("/api/v1/projects/{}/boards", fx.project), Some(&fx.admin), None)
            .await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().iter().any(|b| b["id"] == id && b["kind"] == "photolangage"));
    // An unknown kind is still a clear 400.
    let (status, _) = http(
        fx.addr(),
        "POST",
        &format!("/api/v1/projects/{}/boards", fx.project),
        Some(&fx.admin),
        Some(serde_json::json!({"title": "x", "kind": "photolangue"})),
    )
    .await;
    assert_eq!(status, 400);
    // The OpenAPI document lists the kind.
    let (status, doc) = http(fx.addr(), "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let kinds = &doc["components"]["schemas"]["BoardKind"]["enum"];
    assert!(kinds.as_array().is_some_and(|k| k.contains(&serde_json::json!("photolangage"))), "{kinds}");
}

#[tokio::test]
async fn a_photolangage_board_is_created_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    photolangage_boards(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_photolangage_board_is_created_on_postgres() {
    let pg = PgDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.db.database_url = Some(pg.url.clone());
    let server = TestServer::start(cfg).await;
    photolangage_boards(&server).await;
    server.stop().await;
    drop(pg);
}

/// Tables that reference `board` (directly or through an invite or guest), with their rows.
const DEPENDENTS: [&str; 8] =
    ["board", "invite", "guest", "session", "board_image", "board_version", "project_member", "project"];

async fn counts(conn: &mut SqliteConnection) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in DEPENDENTS {
        let n: i64 =
            sqlx::query(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *conn).await.unwrap().get(0);
        out.push((table.to_owned(), n));
    }
    out
}

async fn sqlite_migrator(up_to: Option<i64>) -> sqlx::migrate::Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/sqlite");
    let mut migrator = sqlx::migrate::Migrator::new(dir).await.unwrap();
    if let Some(last) = up_to {
        let kept: Vec<_> = migrator.migrations.iter().filter(|m| m.version <= last).cloned().collect();
        migrator.migrations = Cow::Owned(kept);
    }
    migrator
}

#[tokio::test]
async fn the_sqlite_kind_migration_keeps_every_board_and_what_references_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("atelier.db");
    // A database as the previous release left it (migrations up to 0004), with foreign keys on
    // as the server's connections have them.
    let options = SqliteConnectOptions::new().filename(&file).create_if_missing(true).foreign_keys(true);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    sqlite_migrator(Some(4)).await.run(&mut conn).await.unwrap();
    let seed = [
        "INSERT INTO tenant VALUES ('t1', 'Région', 1)",
        "INSERT INTO app_user VALUES ('u1', 't1', 'camille.martin@region.test', 'Camille Martin', 'x', 'admin', 1, NULL)",
        "INSERT INTO project VALUES ('p1', 't1', 'Mobilités', 'user:u1', 1)",
        "INSERT INTO project_member VALUES ('p1', 'u1', 'owner', 1)",
        "INSERT INTO board VALUES ('b1', 't1', 'p1', 'Atelier post-it', 'postit', 'user:u1', 1, NULL)",
        "INSERT INTO board VALUES ('b2', 't1', 'p1', 'Radar', 'radar', 'user:u1', 2, 3)",
        "INSERT INTO invite VALUES ('i1', 'hash1', 't1', 'b1', 'editor', 'user:u1', 1, 99, NULL)",
        "INSERT INTO invite VALUES ('i2', 'hash2', 't1', 'b2', 'viewer', 'user:u1', 1, 99, NULL)",
        "INSERT INTO guest VALUES ('g1', 't1', 'b1', 'i1', 'Inès Roux', 1)",
        "INSERT INTO session VALUES ('s1', 't1', NULL, 'g1', 1, 99, NULL)",
        "INSERT INTO session VALUES ('s2', 't1', 'u1', NULL, 1, 99, NULL)",
        "INSERT INTO board_image VALUES ('m1', 'b1', 'image/png', 1, 1, 3, 'sha', x'010203', 'user:u1', 1)",
        "INSERT INTO board_version VALUES ('v1', 'b1', 'b1', 4, 'phase:vote', 'user:u1', 1, 2, x'0000')",
    ];
    for sql in seed {
        sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let before = counts(&mut conn).await;
    assert_eq!(before[0], ("board".to_owned(), 2));

    // Run with foreign keys on, the rebuild would cascade-delete: the migration refuses to run.
    let refused = sqlite_migrator(None).await.run(&mut conn).await;
    assert!(refused.is_err(), "0005 refuses to run with foreign keys on");
    assert_eq!(counts(&mut conn).await, before, "nothing lost by the refused attempt");
    conn.close().await.unwrap();

    // The store runs it the right way.
    let store = atelier::store::SqliteStore::open_dir(dir.path(), false).await.unwrap();
    atelier::store::Store::close(&store).await;
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    assert_eq!(counts(&mut conn).await, before, "every board and every row referencing one survive");
    let b2: (String, String, Option<i64>) =
        sqlx::query_as("SELECT title, kind, archived_at FROM board WHERE id = 'b2'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(b2, ("Radar".to_owned(), "radar".to_owned(), Some(3)));
    assert!(sqlx::query("PRAGMA foreign_key_check").fetch_all(&mut conn).await.unwrap().is_empty());
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(applied.contains(&5), "{applied:?}");

    // The new kind is allowed, an unknown one still refused.
    sqlx::query("INSERT INTO board (id, tenant_id, project_id, title, kind, created_by, created_at) VALUES ('b3', 't1', 'p1', 'Photo', 'photolangage', 'user:u1', 5)")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(sqlx::query("INSERT INTO board (id, tenant_id, project_id, title, kind, created_by, created_at) VALUES ('b4', 't1', 'p1', 'X', 'nope', 'user:u1', 5)")
        .execute(&mut conn)
        .await
        .is_err());
    // The references point at the rebuilt table: deleting a board still takes what is its.
    sqlx::query("DELETE FROM board WHERE id = 'b1'").execute(&mut conn).await.unwrap();
    for (table, left) in
        [("invite", 1), ("guest", 0), ("session", 1), ("board_image", 0), ("board_version", 0), ("board", 2)]
    {
        let n: i64 =
            sqlx::query(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut conn).await.unwrap().get(0);
        assert_eq!(n, left, "{table} after deleting b1");
    }
    // And a board referencing a missing project is still refused (foreign keys enforced).
    assert!(sqlx::query("INSERT INTO board (id, tenant_id, project_id, title, kind, created_at) VALUES ('b5', 't1', 'nope', 'X', 'free', 5)")
        .execute(&mut conn)
        .await
        .is_err());
    conn.close().await.unwrap();
}

/// A new fabrique des mandats board starts with its matrix containers (`boarddoc::first_state`):
/// two facilitators who open it at once and each add a row both keep their row. Were the
/// containers created by each client, one `matrix.rows` would replace the other and its row
/// would be lost.
#[tokio::test]
async fn a_mandats_board_starts_with_its_matrix_so_concurrent_first_rows_both_stay() {
    use yrs::updates::encoder::Encode;
    use yrs::{Array, ArrayRef, MapPrelim, MapRef, ReadTxn, Transact};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(&dir)).await;
    let fx = Fixture::new(&server).await;
    let (status, board) = http(
        fx.addr(),
        "POST",
        &format!("/api/v1/projects/{}/boards", fx.project),
        Some(&fx.admin),
        Some(serde_json::json!({"title": "Fabrique des mandats", "kind": "mandats"})),
    )
    .await;
    assert_eq!(status, 201, "{board}");
    let id = board["id"].as_str().unwrap().to_owned();
    let ada = TestClient::connect(&fx.url_for(&id, "ada").await).await;
    let bob = TestClient::connect(&fx.url_for(&id, "bob").await).await;
    ada.wait_synced().await;
    bob.wait_synced().await;
    let rows = |c: &TestClient| -> Option<ArrayRef> {
        let matrix: MapRef = c.doc.get_or_insert_map("matrix");
        let txn = c.doc.transact();
        match yrs::Map::get(&matrix, &txn, "rows") {
            Some(yrs::Out::YArray(a)) => Some(a),
            _ => None,
        }
    };
    for (client, name) in [(&ada, "Ada"), (&bob, "Bob")] {
        let rows = rows(client).expect("matrix.rows is there on first sync");
        let update = {
            let mut txn = client.doc.transact_mut();
            let row = rows.push_back(&mut txn, MapPrelim::default());
            yrs::Map::insert(&row, &mut txn, "label", name);
            txn.encode_update_v1()
        };
        client.send_raw(yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(update)).encode_v1());
    }
    for client in [&ada, &bob] {
        client.wait_until("both rows", |c| rows(c).is_some_and(|r| r.len(&c.doc.transact()) == 2)).await;
    }
    // Other kinds start empty.
    let postit = fx.new_board().await;
    let reader = TestClient::connect(&fx.url_for(&postit, "ada").await).await;
    reader.wait_synced().await;
    assert_eq!(reader.doc.transact().root_refs().count(), 0);
    server.stop().await;
}
