//! Rust client for Atelier boards, and for any server speaking the y-websocket protocol.
//!
//! A [`Client`] connects to one board, keeps a yrs [`yrs::Doc`] in sync with it and reconnects
//! with backoff when the connection is lost:
//!
//! - **Sync:** sends a sync step 1 when the socket opens, answers the server's step 1 with a
//!   step 2 (which carries the edits made while offline), applies the server's step 2 and
//!   updates. Every server frame is decoded strictly ([`protocol::decode_frame`]).
//! - **Edits:** edit [`Client::doc`] with yrs transactions; each local transaction's update is
//!   sent. Updates applied from the server are not sent back (origin filter).
//! - **Remote changes:** yrs observers on the document, or [`Client::subscribe`] for [`Event`]s.
//! - **Presence:** [`Client::set_presence`], [`Client::peers`].
//! - **Saved:** Atelier's saved extension tells which edits are committed: [`Client::saved`],
//!   [`Client::wait_saved`]. [`Client::flush`] is a round trip that works with every server.
//! - **Reconnect:** 100 ms after a lost connection, doubling per failed attempt up to 2.5 s;
//!   close codes 4400–4499 are final.
//!
//! [`Api`] is a small client of Atelier's REST API, to log in and create boards; [`metrics`]
//! reads a server's Prometheus histograms.
//!
//! The crate also ships the `atelier-client` command line (print and edit a board, and a load
//! generator); see the README.

#![warn(missing_docs)]

mod api;
mod client;
mod error;
pub mod metrics;
mod options;
pub mod protocol;

pub use api::Api;
pub use client::{is_final_code, Client, CloseInfo, ConnectionState, Event, Status};
pub use error::Error;
pub use options::{ClientOptions, Listener};

/// A new document with a random 32-bit client id, as the stock Yjs client makes them.
///
/// yrs's `Doc::new` draws 53-bit ids. Servers built on older yrs (y-sweet 0.9.1, on yrs 0.19)
/// read client ids in v1 updates as 32-bit and keep the author's edits under a truncated id:
/// the client's state vector then no longer names what the server holds (seen with y-sweet:
/// the relayed edits carried another 32-bit id, the 7-byte varint decoded with shifts that wrap
/// at 32 bits), so by the sync protocol a resync would send the client its own edits again
/// under the other id. [`Client`] uses this for the document it
/// creates; pass documents made here to [`ClientOptions::doc`].
pub fn new_doc() -> yrs::Doc {
    yrs::Doc::with_client_id(u64::from(rand::random::<u32>()))
}

/// The yrs version this crate is built with, re-exported so applications use the same types.
pub use yrs;
