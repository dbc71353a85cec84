//! The same store tests against SQLite and against the real PostgreSQL.

use std::sync::Arc;

use atelier::store::{fold, Append, DocKey, PgStore, Snapshot, SqliteStore, Store};
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Map, Text, Transact, Update};

use crate::support::rand_u64;

/// Base URL of the PostgreSQL server used by the tests; a fresh database is created per run.
fn pg_base() -> String {
    std::env::var("ATELIER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, randomly named PostgreSQL database, dropped when the guard is.
pub struct PgDb {
    pub url: String,
    name: String,
}

impl PgDb {
    pub async fn create() -> Self {
        use sqlx::Connection;
        let base = pg_base();
        let name = format!("atelier_it_{}", rand_u64() % 1_000_000_000_000);
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must run at {base} for the tests: {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let url = match base.rsplit_once('/') {
            Some((prefix, _)) => format!("{prefix}/{name}"),
            None => panic!("bad ATELIER_TEST_POSTGRES"),
        };
        Self { url, name }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let base = pg_base();
        // Best effort, on a thread of its own: Drop cannot be async.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&base).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

fn updates(n: usize) -> (Doc, Vec<Vec<u8>>) {
    let doc = Doc::with_client_id(42);
    let text = doc.get_or_insert_text("t");
    let map = doc.get_or_insert_map("m");
    let mut out = Vec::new();
    for i in 0..n {
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "a");
        map.insert(&mut txn, format!("k{}", i % 7), i as i64);
        out.push(txn.encode_update_v1());
    }
    (doc, out)
}

fn replay(snapshot: Option<&Snapshot>, log: &[(i64, Vec<u8>)]) -> Doc {
    let doc = Doc::new();
    for bytes in snapshot.map(|s| &s.data).into_iter().chain(log.iter().map(|(_, d)| d)) {
        doc.transact_mut().apply_update(Update::decode_v1(bytes).unwrap()).unwrap();
    }
    doc
}

/// The state of snapshot + log, v1-encoded (what a room's document would encode).
fn materialise_state(snapshot: Option<&Snapshot>, log: &[(i64, Vec<u8>)]) -> Vec<u8> {
    use yrs::ReadTxn;
    replay(snapshot, log).transact().encode_state_as_update_v1(&yrs::StateVector::default())
}

fn materialise(snapshot: Option<&Snapshot>, log: &[(i64, Vec<u8>)]) -> String {
    let doc = replay(snapshot, log);
    let text = doc.get_or_insert_text("t");
    let txn = doc.transact();
    text.get_string(&txn)
}

async fn exercise(store: Arc<dyn Store>) {
    let key = DocKey::main(format!("board{}", rand_u64()));
    let other = DocKey { board: key.board.clone(), doc: "private-notes".into() };
    let empty = store.load(&key).await.unwrap();
    assert!(empty.snapshot.is_none() && empty.log.is_empty());

    let (_, ups) = updates(30);
    // Two documents of one board and two batches in one group commit.
    let heads = store
        .append(&[
            Append {
                key: key.clone(),
                updates: ups[..10].to_vec(),
                owners: vec![(42, "alice".into())],
                versions: vec![],
            },
            Append { key: other.clone(), updates: ups[..3].to_vec(), owners: vec![], versions: vec![] },
        ])
        .await
        .unwrap();
    assert_eq!(heads, vec![10, 3]);
    let heads = store
        .append(&[Append {
            key: key.clone(),
            updates: ups[10..].to_vec(),
            owners: vec![(42, "mallory".into())],
            versions: vec![],
        }])
        .await
        .unwrap();
    assert_eq!(heads, vec![30]);

    let loaded = store.load(&key).await.unwrap();
    let seqs: Vec<i64> = loaded.log.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>(), "contiguous per-document sequence");
    assert_eq!(loaded.owners, vec![(42, "alice".to_string())], "first binding wins");
    assert_eq!(store.load(&other).await.unwrap().log.len(), 3, "documents are separate");
    let expected = materialise(None, &loaded.log);
    assert_eq!(expected.len(), 30);

    // One commit holding two batches of the same document (around a batch of another one and
    // a batch with no update): they follow each other in queue order.
    let (_, extra) = updates(6);
    let heads = store
        .append(&[
            Append { key: other.clone(), updates: extra[..2].to_vec(), owners: vec![], versions: vec![] },
            Append { key: other.clone(), updates: vec![], owners: vec![(7, "bob".into())], versions: vec![] },
            Append { key: key.clone(), updates: vec![], owners: vec![], versions: vec![] },
            Append {
                key: other.clone(),
                updates: extra[2..].to_vec(),
                owners: vec![(7, "eve".into())],
                versions: vec![],
            },
        ])
        .await
        .unwrap();
    assert_eq!(heads, vec![5, 5, 30, 9]);
    let private = store.load(&other).await.unwrap();
    assert_eq!(private.log.iter().map(|(s, _)| *s).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
    let in_order: Vec<&[u8]> = ups[..3].iter().chain(&extra).map(Vec::as_slice).collect();
    assert_eq!(private.log.iter().map(|(_, u)| u.as_slice()).collect::<Vec<_>>(), in_order);
    assert!(
        private.owners.contains(&(7, "bob".to_string())) && !private.owners.contains(&(7, "eve".to_string()))
    );

    // Compaction folds the log into a snapshot from the store and deletes what it covers.
    assert_eq!(fold(store.as_ref(), &key).await.unwrap(), Some(30));
    let compacted = store.load(&key).await.unwrap();
    assert_eq!(compacted.snapshot.as_ref().map(|s| s.upto_seq), Some(30));
    assert!(compacted.log.is_empty());
    assert_eq!(materialise(compacted.snapshot.as_ref(), &compacted.log), expected);

    // Appends continue after the snapshot; loading is snapshot + tail.
    let (_, more) = updates(35);
    store
        .append(&[Append {
            key: key.clone(),
            updates: more[30..].to_vec(),
            owners: vec![],
            versions: vec![],
        }])
        .await
        .unwrap();
    let tail = store.load(&key).await.unwrap();
    assert_eq!(tail.log.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![31, 32, 33, 34, 35]);
    assert_eq!(materialise(tail.snapshot.as_ref(), &tail.log).len(), 35);

    // A large commit: two batches of one document, 1,200 updates.
    let big = DocKey { board: key.board.clone(), doc: "big".into() };
    let (_, many) = updates(1_200);
    let heads = store
        .append(&[
            Append { key: big.clone(), updates: many[..700].to_vec(), owners: vec![], versions: vec![] },
            Append { key: big.clone(), updates: many[700..].to_vec(), owners: vec![], versions: vec![] },
        ])
        .await
        .unwrap();
    assert_eq!(heads, vec![700, 1_200]);
    let loaded_big = store.load(&big).await.unwrap();
    assert_eq!(loaded_big.log.iter().map(|(s, _)| *s).collect::<Vec<_>>(), (1..=1_200).collect::<Vec<_>>());
    assert!(loaded_big.log.iter().zip(&many).all(|((_, stored), sent)| stored == sent), "in order");

    // A snapshot that covers no more than the current one changes nothing (a compaction that
    // lost the race, or a room's snapshot arriving after the compactor's).
    for upto_seq in [20, 30] {
        let stale = Snapshot { upto_seq, data: vec![0, 0] };
        assert!(!store.replace_snapshot(&key, &stale).await.unwrap());
    }
    assert_eq!(store.load(&key).await.unwrap().log.len(), 5);
    // A newer one replaces it and takes the log it covers, whoever computed it.
    let state = materialise_state(tail.snapshot.as_ref(), &tail.log[..2]);
    assert!(store.replace_snapshot(&key, &Snapshot { upto_seq: 32, data: state }).await.unwrap());
    let newer = store.load(&key).await.unwrap();
    assert_eq!(newer.snapshot.as_ref().map(|s| s.upto_seq), Some(32));
    assert_eq!(newer.log.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![33, 34, 35]);
    assert_eq!(
        materialise(newer.snapshot.as_ref(), &newer.log),
        materialise(tail.snapshot.as_ref(), &tail.log)
    );
    store.ping().await.unwrap();
}

async fn concurrent_appends(store: Arc<dyn Store>) {
    // Many writers on one document: sequence numbers stay contiguous and unique.
    let key = DocKey::main(format!("board{}", rand_u64()));
    let (_, ups) = updates(8);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let key = key.clone();
            let ups = ups.clone();
            tokio::spawn(async move {
                for u in ups {
                    store
                        .append(&[Append {
                            key: key.clone(),
                            updates: vec![u],
                            owners: vec![],
                            versions: vec![],
                        }])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let seqs: Vec<i64> = store.load(&key).await.unwrap().log.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=64).collect::<Vec<_>>());

    // Commits touching the same documents listed in opposite orders (two nodes' group commits):
    // head rows are locked in one order, so none waits for the other (PostgreSQL would abort
    // one of them as a deadlock).
    let a = DocKey::main(format!("board{}", rand_u64()));
    let b = DocKey::main(format!("board{}", rand_u64()));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let (first, second) = if i % 2 == 0 { (a.clone(), b.clone()) } else { (b.clone(), a.clone()) };
            let ups = ups.clone();
            tokio::spawn(async move {
                for u in ups {
                    let batch = |key: &DocKey| Append {
                        key: key.clone(),
                        updates: vec![u.clone()],
                        owners: vec![],
                        versions: vec![],
                    };
                    store.append(&[batch(&first), batch(&second)]).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for key in [&a, &b] {
        let seqs: Vec<i64> = store.load(key).await.unwrap().log.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=64).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path(), false).await.unwrap());
    exercise(store.clone()).await;
    concurrent_appends(store.clone()).await;
    store.close().await;
    // Reopening runs the migrations again (a no-op) and keeps the data.
    let store = SqliteStore::open_dir(dir.path(), true).await.unwrap();
    store.ping().await.unwrap();
}

/// A commit of `bytes` bytes (incompressible, so that each commit fills WAL pages).
fn bulky(key: &DocKey, bytes: usize) -> Append {
    let data = (0..bytes).map(|_| rand_u64() as u8).collect();
    Append { key: key.clone(), updates: vec![data], owners: vec![], versions: vec![] }
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test]
async fn sqlite_copies_the_wal_into_the_database_off_the_commit_path() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path(), true).await.unwrap();
    let db = dir.path().join("atelier.db");
    let before = file_len(&db);
    // 100 commits of 4 KB: a few hundred WAL pages, fewer than the 1,000 at which SQLite's own
    // automatic checkpoint (inside a commit) would copy them.
    let key = DocKey::main(format!("board{}", rand_u64()));
    for _ in 0..100 {
        store.append(&[bulky(&key, 4_000)]).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while file_len(&db) < before + 350_000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database file did not grow: the WAL was not checkpointed ({} bytes)",
            file_len(&db)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(store.load(&key).await.unwrap().log.len(), 100);
}

#[tokio::test]
async fn sqlite_starts_the_wal_over_under_a_steady_write_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path(), false).await.unwrap();
    let wal = dir.path().join("atelier.db-wal");
    let key = DocKey::main(format!("board{}", rand_u64()));
    // Commits back to back until the WAL has started over twice (two checkpoint intervals,
    // more on a busy machine). SQLite starts the log over only at a commit that finds it all
    // copied, which a checkpoint running beside the commits alone never leaves it: the file
    // would then grow with every commit. Each time it starts over, the WAL header's checkpoint
    // sequence number (bytes 12..16, big-endian, in SQLite's file format) goes up by one.
    let started_over = || {
        let header = std::fs::read(&wal).unwrap_or_default();
        header.get(12..16).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let start = tokio::time::Instant::now();
    let mut commits = 0;
    while started_over() < 2 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the WAL was started over {} times in 20 s of {commits} commits ({} bytes)",
            started_over(),
            file_len(&wal)
        );
        store.append(&[bulky(&key, 2_000)]).await.unwrap();
        commits += 1;
    }
    assert_eq!(store.load(&key).await.unwrap().log.len(), commits);
}

#[tokio::test]
async fn postgres_store() {
    let db = PgDb::create().await;
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    exercise(store.clone()).await;
    concurrent_appends(store.clone()).await;
    store.close().await;
}

#[tokio::test]
async fn the_server_runs_on_postgres() {
    use crate::support::*;
    let db = PgDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.db.database_url = Some(db.url.clone());
    let server = TestServer::start(cfg.clone()).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    for i in 0..25 {
        a.set(&format!("n{i}"), i);
    }
    b.wait_until("b has all", |c| c.keys() == 25).await;
    server.stop().await;
    let server = TestServer::start(cfg).await;
    fx.rebind(&server);
    let c = TestClient::connect(&fx.url("carol").await).await;
    c.wait_until("restarted on postgres, c has all", |c| c.keys() == 25).await;
    assert_eq!(c.notes(), b.notes());
    server.stop().await;
    assert!(!dir.path().join("atelier.db").exists(), "no SQLite file when DATABASE_URL is postgres");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_reaches_no_one_and_clients_resync_after_reload() {
    use crate::support::*;
    use sqlx::Connection;
    let db = PgDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.db.database_url = Some(db.url.clone());
    let server = TestServer::start(cfg).await;
    let fx = Fixture::new(&server).await;
    let a = TestClient::connect(&fx.url("alice").await).await;
    let b = TestClient::connect(&fx.url("bob").await).await;
    a.wait_synced().await;
    b.wait_synced().await;
    a.set("committed", 1);
    b.wait_until("b has the first edit", |c| c.keys() == 1).await;

    // Break the log table: the next group commit fails.
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("ALTER TABLE doc_update RENAME TO doc_update_broken").execute(&mut admin).await.unwrap();
    a.set("lost-on-the-server", 2);
    let (code_a, _) = a.wait_closed().await;
    let (code_b, _) = b.wait_closed().await;
    assert_eq!((code_a, code_b), (1013, 1013), "every client of the board is told to reconnect");
    assert_eq!(b.keys(), 1, "the uncommitted edit reached another client");

    // Repair; alice reconnects with her document and resyncs what the store lacks.
    sqlx::query("ALTER TABLE doc_update_broken RENAME TO doc_update").execute(&mut admin).await.unwrap();
    let a2 = TestClient::connect_with(&fx.url("alice").await, a.doc.clone()).await;
    a2.wait_synced().await;
    let c = TestClient::connect(&fx.url("carol").await).await;
    c.wait_until("carol gets both edits after the resync", |c| c.keys() == 2).await;
    server.stop().await;
}
