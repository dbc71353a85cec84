//! Rust client SDK for Atelier (see issue: the client and load generator).
