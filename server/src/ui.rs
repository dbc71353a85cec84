//! The web whiteboard: the bundle built from `assets/` (committed in `assets/dist/`) embedded in
//! the binary at compile time, so a fresh clone serves the whole UI with no Node installed.
//!
//! - `/`, `/projects/{id}`, `/boards/{id}`, `/join/{invite}`, `/templates`, `/templates/{id}`: the
//!   app shell (`index.html`); the client routes from the path. Never cached (`no-cache`, revalidated by ETag).
//! - `/assets/{file}`: the bundle's files. `index.html` links them as `/assets/app.js?v=HASH`,
//!   where HASH starts the file's SHA-256: a request whose `v` matches the embedded file is
//!   cached for a year as immutable; any other request must revalidate.
//!
//! For front-end development, `atelier serve --ui-dir assets/dist` serves the bundle from that
//! directory instead (read at each request), so a rebuilt bundle shows without rebuilding the
//! server. Production always serves the embedded copy.
//!
//! Every answer carries the security headers: a Content-Security-Policy that allows scripts,
//! styles, images and connections from this origin only (plus WebSockets to this host), no
//! inline script, no framing; `X-Content-Type-Options: nosniff`; `Referrer-Policy: no-referrer`
//! (an invitation link in `/join/...` must never leak through a Referer header).

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Extension, Path, RawQuery};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../assets/dist/"]
struct Dist;

/// How many hex digits of the SHA-256 `index.html` puts in `?v=` (the build script's choice).
const VERSION_HEX: usize = 16;

/// Where the bundle's files come from.
#[derive(Clone, Debug, Default)]
pub enum Source {
    /// The copy embedded at compile time (always, in production).
    #[default]
    Embedded,
    /// A directory read at each request (`--ui-dir`, front-end development).
    Dir(Arc<PathBuf>),
}

/// One file of the bundle: its bytes and their SHA-256.
struct File {
    data: Cow<'static, [u8]>,
    sha256: [u8; 32],
}

impl Source {
    /// `path` is already checked: relative, no empty or dot-led component.
    fn get(&self, path: &str) -> Option<File> {
        match self {
            Source::Embedded => {
                Dist::get(path).map(|f| File { sha256: f.metadata.sha256_hash(), data: f.data })
            }
            Source::Dir(dir) => {
                let data = std::fs::read(dir.join(path)).ok()?;
                use sha2::Digest;
                let sha256 = sha2::Sha256::digest(&data).into();
                Some(File { data: Cow::Owned(data), sha256 })
            }
        }
    }
}

/// The UI routes, for any router state (merged into the main router before its fallback).
pub fn routes<S: Clone + Send + Sync + 'static>(source: Source) -> Router<S> {
    Router::new()
        .route("/", get(shell))
        .route("/projects/{id}", get(shell_with_id))
        .route("/boards/{id}", get(shell_with_id))
        .route("/join/{token}", get(shell_with_id))
        .route("/templates", get(shell))
        .route("/templates/{id}", get(shell_with_id))
        .route("/assets/{*path}", get(asset))
        .layer(Extension(source))
}

async fn shell(Extension(source): Extension<Source>, headers: HeaderMap) -> Response {
    serve_file(&source, "index.html", &headers, Caching::Revalidate)
}

async fn shell_with_id(
    Extension(source): Extension<Source>,
    Path(_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve_file(&source, "index.html", &headers, Caching::Revalidate)
}

async fn asset(
    Extension(source): Extension<Source>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    // The shell is only served at its routes; dotfiles and odd paths are not served at all.
    if path == "index.html"
        || path.contains('\\')
        || path.split('/').any(|part| part.is_empty() || part.starts_with('.'))
    {
        return not_found(&headers);
    }
    let Some(file) = source.get(&path) else { return not_found(&headers) };
    let version = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("v=")).map(str::to_owned));
    let caching = match version {
        Some(v) if v == hex::encode(file.sha256)[..VERSION_HEX] => Caching::Immutable,
        _ => Caching::Revalidate,
    };
    respond(&path, file, &headers, caching)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Caching {
    /// `no-cache`: the browser may keep it but asks (If-None-Match) before each use.
    Revalidate,
    /// A versioned name: the content behind it never changes.
    Immutable,
}

fn serve_file(source: &Source, path: &str, headers: &HeaderMap, caching: Caching) -> Response {
    match source.get(path) {
        Some(file) => respond(path, file, headers, caching),
        None => not_found(headers),
    }
}

fn respond(path: &str, file: File, request: &HeaderMap, caching: Caching) -> Response {
    let etag = format!("\"{}\"", &hex::encode(file.sha256)[..VERSION_HEX]);
    let cache_control = match caching {
        Caching::Revalidate => "no-cache",
        Caching::Immutable => "public, max-age=31536000, immutable",
    };
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)))], file.data.into_owned())
            .into_response()
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, etag);
    }
    security_headers(out, request);
    response
}

fn not_found(request: &HeaderMap) -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))],
        "not found",
    )
        .into_response();
    security_headers(response.headers_mut(), request);
    response
}

/// The content type of an embedded file, by extension (the bundle holds few kinds of files).
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The Host a browser used, if it is a plain host[:port] (used to allow WebSockets to it).
fn plain_host(request: &HeaderMap) -> Option<&str> {
    let host = request.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    plain.then_some(host)
}

/// The Content-Security-Policy of every UI answer. `connect-src 'self'` covers ws(s) to the same
/// host in current browsers; the explicit ws:// and wss:// sources cover the older ones.
fn content_security_policy(request: &HeaderMap) -> String {
    let sockets = plain_host(request).map(|h| format!(" ws://{h} wss://{h}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         font-src 'self'; connect-src 'self'{sockets}; manifest-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'; object-src 'none'"
    )
}

fn security_headers(out: &mut HeaderMap, request: &HeaderMap) {
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(request)) {
        out.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    out.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get(uri: &str, extra: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = Request::get(uri).header(header::HOST, "atelier.example:8080");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let res = routes::<()>(Source::Embedded).oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec();
        (status, headers, body)
    }

    fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
        headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The `?v=` version index.html gives an asset.
    fn linked_version(index: &str, file: &str) -> String {
        let needle = format!("/assets/{file}?v=");
        let start =
            index.find(&needle).unwrap_or_else(|| panic!("index.html does not link {needle}")) + needle.len();
        index[start..].chars().take_while(char::is_ascii_hexdigit).collect()
    }

    #[tokio::test]
    async fn client_routes_serve_the_shell_uncached() {
        let (_, _, root) = get("/", &[]).await;
        for uri in [
            "/",
            "/boards/0190b6a0-0000-7000-8000-000000000001",
            "/projects/p1",
            "/join/abcDEF_123-x",
            "/templates",
            "/templates/t1",
        ] {
            let (status, headers, body) = get(uri, &[]).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8", "{uri}");
            assert_eq!(header(&headers, "cache-control"), "no-cache", "{uri}");
            assert_eq!(body, root, "{uri} serves index.html");
            let text = String::from_utf8(body).unwrap();
            assert!(text.contains("<script type=\"module\" src=\"/assets/app.js?v="), "{uri}");
            assert!(!text.contains("<script>") && !text.contains("style="), "no inline script or style");
        }
    }

    #[tokio::test]
    async fn assets_have_their_content_types() {
        for (uri, expected) in [
            ("/assets/app.js", "text/javascript; charset=utf-8"),
            ("/assets/app.css", "text/css; charset=utf-8"),
            ("/assets/favicon.svg", "image/svg+xml"),
        ] {
            let (status, headers, body) = get(uri, &[]).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert_eq!(header(&headers, "content-type"), expected, "{uri}");
            assert!(!body.is_empty(), "{uri}");
        }
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert_eq!(content_type("x.unknown"), "application/octet-stream");
    }

    #[tokio::test]
    async fn versioned_assets_are_immutable_others_revalidate() {
        let (_, _, index) = get("/", &[]).await;
        let index = String::from_utf8(index).unwrap();
        for file in ["app.js", "app.css"] {
            let v = linked_version(&index, file);
            assert_eq!(v.len(), VERSION_HEX, "{file}");
            let (status, headers, _) = get(&format!("/assets/{file}?v={v}"), &[]).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(header(&headers, "cache-control"), "public, max-age=31536000, immutable", "{file}");
            let (_, headers, _) = get(&format!("/assets/{file}?v=0000000000000000"), &[]).await;
            assert_eq!(header(&headers, "cache-control"), "no-cache", "{file} with a stale version");
            let (_, headers, _) = get(&format!("/assets/{file}"), &[]).await;
            assert_eq!(header(&headers, "cache-control"), "no-cache", "{file} without a version");
            let etag = header(&headers, "etag").to_owned();
            assert_eq!(etag, format!("\"{v}\""));
            let (status, _, body) = get(&format!("/assets/{file}"), &[("if-none-match", &etag)]).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED);
            assert!(body.is_empty());
        }
    }

    #[tokio::test]
    async fn security_headers_on_every_answer() {
        for uri in ["/", "/join/tok", "/assets/app.js", "/assets/missing.js"] {
            let (_, headers, _) = get(uri, &[]).await;
            let csp = header(&headers, "content-security-policy");
            assert!(csp.contains("script-src 'self';"), "{uri}: {csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
            assert!(
                csp.contains("connect-src 'self' ws://atelier.example:8080 wss://atelier.example:8080;"),
                "{uri}: {csp}"
            );
            assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{uri}: {csp}");
            assert_eq!(header(&headers, "x-content-type-options"), "nosniff", "{uri}");
            assert_eq!(header(&headers, "referrer-policy"), "no-referrer", "{uri}");
        }
    }

    #[tokio::test]
    async fn odd_paths_are_not_served() {
        for uri in ["/assets/index.html", "/assets/missing.js", "/assets/.hidden", "/assets/a//b.js"] {
            let (status, headers, _) = get(uri, &[]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(header(&headers, "content-type"), "text/plain; charset=utf-8", "{uri}");
        }
        // A Host header that is not a plain host adds no WebSocket source.
        let (_, headers, _) = get("/", &[]).await;
        assert!(header(&headers, "content-security-policy").contains("ws://atelier.example:8080"));
        let mut odd = HeaderMap::new();
        odd.insert(header::HOST, HeaderValue::from_static("evil.example; script-src *"));
        assert!(!content_security_policy(&odd).contains("evil"));
    }
}
