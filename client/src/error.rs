//! The error type of the library.
//!
//! Messages include their cause, so errors carry no separate `source` (printing a chain would
//! repeat it).

/// Everything that can go wrong in the client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL template, board id or query string does not make a valid `ws://` URL.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// Opening the TCP connection or the WebSocket handshake failed.
    #[error("cannot connect to {url}: {error}")]
    Connect {
        /// The URL that was tried (its query string, which may hold a token, is removed).
        url: String,
        /// What failed.
        error: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// The server answered the WebSocket upgrade with an HTTP error status.
    #[error("the server refused the connection to {url} with HTTP {status}")]
    Refused {
        /// The URL that was tried (without its query string).
        url: String,
        /// The HTTP status code, e.g. 401 without a valid token or 404 for an invalid board id.
        status: u16,
    },
    /// Opening the connection took longer than [`crate::ClientOptions::connect_timeout`].
    #[error("connecting to {0} timed out")]
    ConnectTimeout(String),
    /// An established connection failed.
    #[error("connection error: {0}")]
    WebSocket(Box<tokio_tungstenite::tungstenite::Error>),
    /// The server sent a frame that does not decode as y-protocols messages.
    #[error("malformed message from the server: {0}")]
    Protocol(String),
    /// An update from the server decoded but yrs refused to apply it.
    #[error("cannot apply the server's update: {0}")]
    Apply(String),
    /// The server closed the connection with a final close code (4400–4499): the client does
    /// not reconnect.
    #[error("closed by the server with final code {code}: {reason}")]
    Rejected {
        /// The close code.
        code: u16,
        /// The close reason sent by the server.
        reason: String,
    },
    /// The client was closed (by [`crate::Client::close`], a final close code, or because its
    /// first connection failed) before the awaited condition was met.
    #[error("the client is closed: {0}")]
    Closed(String),
    /// A presence state could not be serialised as JSON.
    #[error("presence is not valid JSON: {0}")]
    Json(serde_json::Error),
    /// A REST API call answered with an error status.
    #[error("the API answered HTTP {status}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's error message.
        message: String,
    },
    /// A REST API call failed before an answer (connection, timeout, unreadable answer).
    #[error("API request failed: {0}")]
    Http(String),
    /// Registering the document observer failed (a transaction was open on the document).
    #[error("cannot observe the document: {0}")]
    Observe(String),
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::WebSocket(Box::new(e))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}
