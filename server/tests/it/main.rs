//! Integration tests: real servers on port 0, real WebSocket clients, both real stores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod access;
mod images;
mod kinds;
mod lifecycle;
mod private;
mod revocation;
mod store;
mod suggestions;
mod support;
mod sync;
mod templates;
mod versions;
