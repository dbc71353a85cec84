//! How to reach a board and how the connection behaves.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use yrs::Doc;

use crate::{Error, Event};

/// A callback run on the connection task for every [`Event`], before it is broadcast.
///
/// It runs synchronously: it must be quick and must not block or open a transaction on the
/// document. Useful to record events of thousands of connections without a task each.
pub type Listener = Arc<dyn Fn(&Event) + Send + Sync>;

/// Where and how to connect. Built with [`ClientOptions::new`] and the builder methods.
///
/// ```
/// use atelier_client::ClientOptions;
/// let opts = ClientOptions::new("ws://127.0.0.1:8080/ws/{board}", "workshop-1").token("ada");
/// assert_eq!(opts.url().unwrap(), "ws://127.0.0.1:8080/ws/workshop-1?token=ada");
/// // A stock y-websocket server: no token, board in the path.
/// let opts = ClientOptions::new("ws://127.0.0.1:1234/{board}", "b").query("room=x");
/// assert_eq!(opts.url().unwrap(), "ws://127.0.0.1:1234/b?room=x");
/// ```
#[derive(Clone)]
pub struct ClientOptions {
    pub(crate) url_template: String,
    pub(crate) board: String,
    pub(crate) token: Option<String>,
    pub(crate) query: Option<String>,
    pub(crate) doc: Option<Doc>,
    pub(crate) saved: bool,
    pub(crate) reconnect: bool,
    pub(crate) backoff_initial: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) silence_timeout: Duration,
    pub(crate) presence: Option<serde_json::Value>,
    pub(crate) read_buffer_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) listener: Option<Listener>,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("url_template", &self.url_template)
            .field("board", &self.board)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("query", &self.query)
            .field("saved", &self.saved)
            .field("reconnect", &self.reconnect)
            .field("backoff_initial", &self.backoff_initial)
            .field("backoff_max", &self.backoff_max)
            .field("connect_timeout", &self.connect_timeout)
            .field("silence_timeout", &self.silence_timeout)
            .field("presence", &self.presence)
            .field("read_buffer_size", &self.read_buffer_size)
            .field("max_message_size", &self.max_message_size)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// Options for `board` on the server described by `url_template`.
    ///
    /// The template is a `ws://` URL in which `{board}` is replaced by the (percent-encoded)
    /// board id: `ws://HOST/ws/{board}` for Atelier, `ws://HOST:1234/{board}` for
    /// `@y/websocket-server`. A template without `{board}` gets `/{board}` appended, so
    /// `ws://HOST/ws` works too.
    ///
    /// Defaults: no token, the saved extension on, reconnect on with a backoff of 100 ms doubling
    /// up to 2.5 s (like the stock provider), presence `{}` (like the stock provider, which also
    /// lets Atelier acknowledge saved state right after a reconnect), 10 s connect timeout, 75 s
    /// silence timeout, 16 KiB read buffer, 128 MiB largest message.
    pub fn new(url_template: impl Into<String>, board: impl Into<String>) -> Self {
        Self {
            url_template: url_template.into(),
            board: board.into(),
            token: None,
            query: None,
            doc: None,
            saved: true,
            reconnect: true,
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_millis(2500),
            connect_timeout: Duration::from_secs(10),
            silence_timeout: Duration::from_secs(75),
            presence: Some(serde_json::Value::Object(serde_json::Map::new())),
            read_buffer_size: 16 * 1024,
            max_message_size: 128 * 1024 * 1024,
            listener: None,
        }
    }

    /// The token sent as the `token` query parameter (Atelier names the participant with it).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// An extra query string appended as is (`a=1&b=2`, without a leading `?`).
    pub fn query(mut self, query: impl Into<String>) -> Self {
        let q = query.into();
        let q = q.trim_start_matches(['?', '&']).to_owned();
        self.query = (!q.is_empty()).then_some(q);
        self
    }

    /// Use this document instead of a new one (its client id is the one the server sees; make it
    /// with [`crate::new_doc`] for a 32-bit one, as stock Yjs clients have).
    pub fn doc(mut self, doc: Doc) -> Self {
        self.doc = Some(doc);
        self
    }

    /// Opt in to Atelier's saved extension (default on). Turn it off for servers that do not
    /// have it; `@y/websocket-server` ignores the opt-in, but other servers may close on it.
    pub fn saved_extension(mut self, on: bool) -> Self {
        self.saved = on;
        self
    }

    /// Reconnect after the connection is lost (default on). Close codes 4400–4499 are final
    /// whatever this says.
    pub fn reconnect(mut self, on: bool) -> Self {
        self.reconnect = on;
        self
    }

    /// The reconnect delay: `initial` after a lost connection, doubled after each failed attempt,
    /// at most `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max.max(initial);
        self
    }

    /// How long the TCP connect and WebSocket handshake may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// A connection on which nothing (not even a ping) arrives for this long is closed and
    /// reconnected. Atelier and y-websocket servers ping every 30 s.
    pub fn silence_timeout(mut self, timeout: Duration) -> Self {
        self.silence_timeout = timeout;
        self
    }

    /// The initial presence state (`None`: announce no presence until
    /// [`crate::Client::set_presence`]).
    pub fn presence(mut self, state: Option<serde_json::Value>) -> Self {
        self.presence = state;
        self
    }

    /// Bytes read from the socket at a time (the per-connection read buffer).
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes.max(512);
        self
    }

    /// The largest message accepted from the server (a sync step 2 is as large as the board).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// A callback run for every [`Event`] on the connection task (see [`Listener`]).
    pub fn listener(mut self, listener: Listener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// The board id.
    pub fn board_id(&self) -> &str {
        &self.board
    }

    /// The URL the client connects to, token included.
    pub fn url(&self) -> Result<String, Error> {
        let template = self.url_template.trim();
        if !template.starts_with("ws://") {
            return Err(Error::InvalidUrl(format!("{} (only ws:// URLs are supported)", redact(template))));
        }
        if self.board.is_empty() {
            return Err(Error::InvalidUrl("empty board id".into()));
        }
        let board = encode_component(&self.board);
        let mut url = if template.contains("{board}") {
            template.replace("{board}", &board)
        } else {
            let (path, query) = match template.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (template, None),
            };
            let mut url = format!("{}/{board}", path.trim_end_matches('/'));
            if let Some(q) = query {
                url.push('?');
                url.push_str(q);
            }
            url
        };
        let authority = url["ws://".len()..].split(['/', '?']).next().unwrap_or("");
        if authority.is_empty() {
            return Err(Error::InvalidUrl(format!("{} (no host)", redact(&url))));
        }
        let mut params = Vec::new();
        if let Some(token) = &self.token {
            params.push(format!("token={}", encode_component(token)));
        }
        if let Some(q) = &self.query {
            params.push(q.clone());
        }
        if !params.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&params.join("&"));
        }
        Ok(url)
    }
}

/// The URL without its query string (which may carry a token), for messages.
pub(crate) fn redact(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_owned()
}

/// Percent-encodes everything but the RFC 3986 unreserved characters.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls_from_templates() {
        let o = ClientOptions::new("ws://h:1/ws", "b1").token("a b&c");
        assert_eq!(o.url().unwrap(), "ws://h:1/ws/b1?token=a%20b%26c");
        let o = ClientOptions::new("ws://h:1/ws/", "b1").query("?x=1");
        assert_eq!(o.url().unwrap(), "ws://h:1/ws/b1?x=1");
        let o = ClientOptions::new("ws://h/{board}?v=2", "b").token("t").query("x=1");
        assert_eq!(o.url().unwrap(), "ws://h/b?v=2&token=t&x=1");
        assert!(ClientOptions::new("http://h/ws", "b").url().is_err());
        assert!(ClientOptions::new("ws:///x", "b").url().is_err());
        assert!(ClientOptions::new("ws://h/ws", "").url().is_err());
        assert_eq!(redact("ws://h/b?token=secret"), "ws://h/b");
    }
}
