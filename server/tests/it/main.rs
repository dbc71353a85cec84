//! Integration tests: real servers on port 0, real WebSocket clients, both real stores.

mod abuse;
mod lifecycle;
mod store;
mod support;
mod sync;
