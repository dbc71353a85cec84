//! Images on boards through the real server, on SQLite and PostgreSQL: upload, download with its
//! headers, deduplication, the checks on the bytes, the size limits and quota, and who may do
//! what (the isolation matrix covers every caller; these cover the rules' edges).

use serde_json::json;

use crate::store::PgDb;
use crate::support::*;

#[tokio::test]
async fn images_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.max_image_bytes = 64 * 1024;
    cfg.max_board_image_bytes = 2048;
    let server = TestServer::start(cfg).await;
    scenario(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn images_on_postgres() {
    let pg = PgDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    cfg.db.database_url = Some(pg.url.clone());
    cfg.max_image_bytes = 64 * 1024;
    cfg.max_board_image_bytes = 2048;
    let server = TestServer::start(cfg).await;
    scenario(&server).await;
    server.stop().await;
    drop(pg);
}

async fn scenario(server: &TestServer) {
    let fx = Fixture::new(server).await;
    let addr = server.addr;
    let editor = fx.token("edith").await;
    let viewer = fx.token_with_role("victor", "viewer").await;
    let images = format!("/api/v1/boards/{}/images", fx.board);

    // Upload: the type and size come from the bytes, whatever the declared image type.
    let png = tiny_png(1);
    let up = http_bytes(addr, "POST", &images, Some(&editor), Some(("image/jpeg", &png)), &[]).await;
    assert_eq!(up.status, 201, "{}", up.json());
    let image = up.json();
    assert_eq!(image["content_type"], "image/png");
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(1), Some(1)));
    assert_eq!(image["bytes"].as_u64(), Some(png.len() as u64));
    let id = image["id"].as_str().unwrap().to_owned();

    // The same bytes again: the same image, not a second copy.
    let again = http_bytes(addr, "POST", &images, Some(&fx.admin), Some(("image/png", &png)), &[]).await;
    assert_eq!(again.status, 200, "{}", again.json());
    assert_eq!(again.json()["id"], id.as_str());

    // Download: exact bytes, sniffed type, locked down, cacheable privately, revalidatable.
    let url = format!("{images}/{id}");
    let got = http_bytes(addr, "GET", &url, Some(&viewer), None, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, png, "the stored bytes come back unchanged");
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(got.header("content-security-policy"), Some("default-src 'none'; sandbox"));
    assert_eq!(got.header("cache-control"), Some("private, max-age=31536000, immutable"));
    let etag = got.header("etag").expect("an etag").to_owned();
    let cached = http_bytes(addr, "GET", &url, Some(&viewer), None, &[("If-None-Match", &etag)]).await;
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    let anonymous = http_bytes(addr, "GET", &url, None, None, &[]).await;
    assert_eq!(anonymous.status, 401);

    // A viewer reads but cannot upload.
    let refused =
        http_bytes(addr, "POST", &images, Some(&viewer), Some(("image/png", &tiny_png(2))), &[]).await;
    assert_eq!(refused.status, 403, "{}", refused.json());
    assert_eq!(refused.json()["error"]["code"], "forbidden");

    // What is not a supported image is refused with a clear error, whatever it claims to be.
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    for (content_type, bytes) in [
        ("image/svg+xml", &svg[..]),
        ("image/png", &svg[..]),
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("text/plain", &png[..]),
    ] {
        let r = http_bytes(addr, "POST", &images, Some(&editor), Some((content_type, bytes)), &[]).await;
        assert_eq!(r.status, 415, "{content_type}: {}", r.json());
        assert_eq!(r.json()["error"]["code"], "unsupported_media_type");
    }
    // Too large for one image.
    let mut big = tiny_png(3);
    big.resize(65 * 1024, 0);
    let r = http_bytes(addr, "POST", &images, Some(&editor), Some(("image/png", &big)), &[]).await;
    assert_eq!(r.status, 413, "{}", r.json());

    // The board's quota (2048 bytes here): uploads succeed until the next would pass it.
    let mut stored = png.len();
    let mut seed = 10;
    loop {
        let next = tiny_png(seed);
        seed += 1;
        let r = http_bytes(addr, "POST", &images, Some(&editor), Some(("image/png", &next)), &[]).await;
        if stored + next.len() > 2048 {
            assert_eq!(r.status, 413, "{}", r.json());
            assert_eq!(r.json()["error"]["code"], "board_images_full");
            break;
        }
        assert_eq!(r.status, 201, "{}", r.json());
        stored += next.len();
    }

    // An image is reachable only through its own board.
    let other = fx.new_board().await;
    let cross =
        http_bytes(addr, "GET", &format!("/api/v1/boards/{other}/images/{id}"), Some(&fx.admin), None, &[])
            .await;
    assert_eq!(cross.status, 404);
    let odd = http_bytes(addr, "GET", &format!("{images}/..%2F{id}"), Some(&fx.admin), None, &[]).await;
    assert_eq!(odd.status, 404);

    // An archived board takes no new image; its images are still shown.
    let (status, _) = http(
        addr,
        "PATCH",
        &format!("/api/v1/boards/{}", fx.board),
        Some(&fx.admin),
        Some(json!({"archived": true})),
    )
    .await;
    assert_eq!(status, 200);
    let r = http_bytes(addr, "POST", &images, Some(&fx.admin), Some(("image/png", &tiny_png(99))), &[]).await;
    assert_eq!(r.status, 403, "{}", r.json());
    assert_eq!(http_bytes(addr, "GET", &url, Some(&viewer), None, &[]).await.status, 200);

    // Deleting the board deletes its images from the store.
    let (status, _) =
        http(addr, "DELETE", &format!("/api/v1/boards/{}", fx.board), Some(&fx.admin), None).await;
    assert_eq!(status, 204);
    let db = server.config.db.open().await.unwrap();
    assert!(db.image(&fx.board, &id).await.unwrap().is_none(), "the board's images are deleted with it");
    db.close().await;
}
