//! A small client of Atelier's REST API (`/api/v1`): log in, create and list projects and
//! boards, log out. Enough to obtain a token and a board id to connect a [`crate::Client`] to.
//!
//! Plain HTTP/1.1 over TCP (`http://` only), one connection per request, JSON in and out.
//!
//! ```no_run
//! # async fn demo() -> Result<(), atelier_client::Error> {
//! use atelier_client::{Api, Client, ClientOptions};
//! let mut api = Api::new("http://127.0.0.1:8080")?;
//! let token = api.login("admin@region.example", "choose-a-long-one").await?;
//! let project = api.create_project("Atelier mobilités").await?;
//! let board = api.create_board(&project, "Idées", "postit").await?;
//! let client = Client::connect(ClientOptions::new("ws://127.0.0.1:8080/ws", board).token(token)).await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Error;

/// Largest response body read.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// A REST API client for one server, with an optional bearer token.
#[derive(Clone)]
pub struct Api {
    authority: String,
    token: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("authority", &self.authority)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Api {
    /// A client of the server at `base`, e.g. `http://127.0.0.1:8080` (a path, if any, is
    /// ignored: the API lives under `/api/v1`).
    pub fn new(base: impl AsRef<str>) -> Result<Self, Error> {
        let base = base.as_ref().trim();
        let rest = base
            .strip_prefix("http://")
            .ok_or_else(|| Error::InvalidUrl(format!("{base} (only http:// API URLs are supported)")))?;
        let authority = rest.split(['/', '?']).next().unwrap_or("").to_owned();
        if authority.is_empty() {
            return Err(Error::InvalidUrl(format!("{base} (no host)")));
        }
        Ok(Self { authority, token: None, timeout: Duration::from_secs(30) })
    }

    /// Uses `token` as the bearer token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The bearer token, once set or obtained by [`Api::login`].
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// `host:port` of the server.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The WebSocket URL template of the same server: `ws://HOST:PORT/ws/{board}`.
    pub fn ws_template(&self) -> String {
        format!("ws://{}/ws/{{board}}", self.authority)
    }

    /// Logs in (`POST /auth/login`); keeps and returns the bearer token.
    pub async fn login(&mut self, email: &str, password: &str) -> Result<String, Error> {
        let body =
            self.call("POST", "/auth/login", Some(&json!({"email": email, "password": password}))).await?;
        let token = str_field(&body, "token")?;
        self.token = Some(token.clone());
        Ok(token)
    }

    /// Revokes the token (`POST /auth/logout`): its live connections are closed with 4401.
    pub async fn logout(&self) -> Result<(), Error> {
        self.call("POST", "/auth/logout", None).await.map(|_| ())
    }

    /// Creates a project; returns its id.
    pub async fn create_project(&self, name: &str) -> Result<String, Error> {
        let body = self.call("POST", "/projects", Some(&json!({"name": name}))).await?;
        str_field(&body, "id")
    }

    /// The projects the caller can see (JSON objects with at least `id` and `name`).
    pub async fn projects(&self) -> Result<Vec<Value>, Error> {
        list(self.call("GET", "/projects", None).await?)
    }

    /// Creates a board of `kind` (`postit`, `demarreur`, `mandats`, `prototypes`, `radar`,
    /// `free`) in a project; returns its id, the board id to connect to.
    pub async fn create_board(&self, project_id: &str, title: &str, kind: &str) -> Result<String, Error> {
        let path = format!("/projects/{project_id}/boards");
        let body = self.call("POST", &path, Some(&json!({"title": title, "kind": kind}))).await?;
        str_field(&body, "id")
    }

    /// The boards of a project (JSON objects with at least `id` and `title`).
    pub async fn boards(&self, project_id: &str) -> Result<Vec<Value>, Error> {
        list(self.call("GET", &format!("/projects/{project_id}/boards"), None).await?)
    }

    /// Calls `METHOD /api/v1{path}` with an optional JSON body; returns the JSON answer, or
    /// [`Error::Api`] for an error status.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, Error> {
        let (status, value) = self.request(method, &format!("/api/v1{path}"), body).await?;
        if status >= 400 {
            let message = value
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            return Err(Error::Api { status, message });
        }
        Ok(value)
    }

    /// `GET {path}` (outside `/api/v1`, e.g. `/metrics` on a metrics listener); returns the body
    /// as text, or [`Error::Api`] for an error status.
    pub async fn get_text(&self, path: &str) -> Result<String, Error> {
        let (status, body) = self.exchange("GET", path, None, "*/*").await?;
        let text =
            String::from_utf8(body).map_err(|_| Error::Http(format!("GET {path}: the body is not UTF-8")))?;
        if status >= 400 {
            return Err(Error::Api { status, message: text });
        }
        Ok(text)
    }

    /// One HTTP request: returns the status and the JSON body (`null` when empty).
    async fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), Error> {
        let (status, raw) = self.exchange(method, path, body, "application/json").await?;
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok((status, Value::Null));
        }
        let value = serde_json::from_slice(&raw)
            .map_err(|e| Error::Http(format!("{method} {path}: HTTP {status}, body is not JSON: {e}")))?;
        Ok((status, value))
    }

    /// One HTTP request: returns the status and the body.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        accept: &str,
    ) -> Result<(u16, Vec<u8>), Error> {
        let http = |what: String| Error::Http(format!("{method} {path}: {what}"));
        let exchange = async {
            let mut stream = TcpStream::connect(&self.authority).await.map_err(|e| http(e.to_string()))?;
            let payload = body.map(|b| b.to_string()).unwrap_or_default();
            let mut head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: {accept}\r\n",
                self.authority
            );
            if let Some(token) = &self.token {
                head.push_str(&format!("Authorization: Bearer {token}\r\n"));
            }
            if body.is_some() {
                head.push_str("Content-Type: application/json\r\n");
            }
            head.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
            stream.write_all(head.as_bytes()).await.map_err(|e| http(e.to_string()))?;
            stream.write_all(payload.as_bytes()).await.map_err(|e| http(e.to_string()))?;
            let mut raw = Vec::new();
            (&mut stream)
                .take(MAX_RESPONSE as u64 + 64 * 1024)
                .read_to_end(&mut raw)
                .await
                .map_err(|e| http(e.to_string()))?;
            parse_response(&raw).map_err(http)
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| http("timed out".into()))?
    }
}

fn str_field(body: &Value, field: &str) -> Result<String, Error> {
    body.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Http(format!("the answer has no {field:?}: {body}")))
}

fn list(body: Value) -> Result<Vec<Value>, Error> {
    match body {
        Value::Array(items) => Ok(items),
        other => Err(Error::Http(format!("expected a JSON array, got {other}"))),
    }
}

/// Parses an HTTP/1.1 response read to the end (`Connection: close`): status and body.
fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let mut body = &raw[split + 4..];
    let decoded;
    if chunked {
        let mut out = Vec::new();
        loop {
            let eol = body.windows(2).position(|w| w == b"\r\n").ok_or("bad chunk")?;
            let size_line = std::str::from_utf8(&body[..eol]).map_err(|_| "bad chunk size")?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| "bad chunk size")?;
            body = &body[eol + 2..];
            if size == 0 {
                break;
            }
            if body.len() < size + 2 || out.len() + size > MAX_RESPONSE {
                return Err("truncated or oversized chunked body".into());
            }
            out.extend_from_slice(&body[..size]);
            body = &body[size + 2..];
        }
        decoded = out;
        body = &decoded;
    }
    Ok((status, body.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_responses() {
        let plain = b"HTTP/1.1 201 Created\r\ncontent-length: 9\r\n\r\n{\"id\":\"x\"}";
        assert_eq!(parse_response(plain).unwrap(), (201, b"{\"id\":\"x\"}".to_vec()));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[1,2\r\n2\r\n,3\r\n1\r\n]\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), (200, b"[1,2,3]".to_vec()));
        assert_eq!(parse_response(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap(), (204, Vec::new()));
        assert!(parse_response(b"garbage").is_err());
        assert!(Api::new("https://x").is_err());
        assert_eq!(
            Api::new("http://127.0.0.1:8080/").unwrap().ws_template(),
            "ws://127.0.0.1:8080/ws/{board}"
        );
    }
}
