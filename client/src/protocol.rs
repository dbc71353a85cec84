//! The wire format: y-protocols messages (sync, awareness, auth, query-awareness) plus Atelier's
//! "saved" extension (message type [`MSG_SAVED`]).
//!
//! [`decode_frame`] decodes a server frame strictly: every message of the frame is decoded (Atelier
//! sends one message per frame, other servers may send several), the frame must be consumed
//! exactly, and a frame with any malformed or unknown message is refused as a whole, so nothing
//! of it is applied. Declared counts are checked against the bytes present before yrs decodes
//! state vectors and presence updates, so a bogus count cannot make it reserve memory.
//!
//! The encoders build one message per frame, which every y-websocket server understands.

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::protocol::{
    MSG_AUTH, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC, MSG_SYNC_STEP_1, MSG_SYNC_STEP_2,
    MSG_SYNC_UPDATE, PERMISSION_DENIED,
};
use yrs::sync::AwarenessUpdate;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{StateVector, Update};

use crate::Error;

/// Message type of Atelier's "saved" extension.
///
/// A client opts in by sending [`saved_opt_in_frame`] (`[90, 0]`). From then on, after each commit
/// that included updates from the connection, the server sends `[90, varByteArray(sv)]` where
/// `sv` is a v1 state vector of the committed clocks of the Yjs client ids the connection wrote
/// with or announced presence with.
pub const MSG_SAVED: u8 = 90;

/// One message received from the server.
#[derive(Debug)]
pub enum ServerMessage {
    /// The server's state vector: answer with a [`step2_frame`] holding what it lacks.
    SyncStep1(StateVector),
    /// The server's answer to our sync step 1: everything we lacked.
    SyncStep2 {
        /// The decoded update.
        update: Update,
        /// Its size on the wire, in bytes.
        len: usize,
    },
    /// An incremental update relayed by the server.
    Update {
        /// The decoded update.
        update: Update,
        /// Its size on the wire, in bytes.
        len: usize,
    },
    /// A presence (awareness) update.
    Awareness(AwarenessUpdate),
    /// The server asks for our presence state.
    QueryAwareness,
    /// A y-protocols auth message; `Some(reason)` when permission is denied (for instance an
    /// edit on a board where the connection is read-only).
    Auth(Option<String>),
    /// Atelier's saved acknowledgement: committed clocks of this connection's client ids.
    Saved(StateVector),
}

fn malformed(what: impl std::fmt::Display) -> Error {
    Error::Protocol(what.to_string())
}

/// Decodes every message of one binary frame from the server, or refuses the whole frame.
pub fn decode_frame(frame: &[u8]) -> Result<Vec<ServerMessage>, Error> {
    if frame.is_empty() {
        return Err(malformed("empty frame"));
    }
    let mut cursor = Cursor::new(frame);
    let mut out = Vec::with_capacity(1);
    while cursor.has_content() {
        let tag: u64 = cursor.read_var().map_err(|_| malformed("bad message type"))?;
        let msg = match tag {
            t if t == u64::from(MSG_SYNC) => {
                let sub: u64 = cursor.read_var().map_err(|_| malformed("bad sync message type"))?;
                let payload = cursor.read_buf().map_err(|_| malformed("truncated sync message"))?;
                match sub {
                    s if s == u64::from(MSG_SYNC_STEP_1) => {
                        ServerMessage::SyncStep1(decode_state_vector(payload)?)
                    }
                    s if s == u64::from(MSG_SYNC_STEP_2) => {
                        ServerMessage::SyncStep2 { update: decode_update(payload)?, len: payload.len() }
                    }
                    s if s == u64::from(MSG_SYNC_UPDATE) => {
                        ServerMessage::Update { update: decode_update(payload)?, len: payload.len() }
                    }
                    other => return Err(malformed(format!("unknown sync message type {other}"))),
                }
            }
            t if t == u64::from(MSG_AWARENESS) => {
                let payload = cursor.read_buf().map_err(|_| malformed("truncated awareness message"))?;
                ServerMessage::Awareness(decode_awareness(payload)?)
            }
            t if t == u64::from(MSG_AUTH) => {
                let sub: u64 = cursor.read_var().map_err(|_| malformed("bad auth message"))?;
                if sub == u64::from(PERMISSION_DENIED) {
                    let reason = cursor.read_string().map_err(|_| malformed("bad auth reason"))?;
                    ServerMessage::Auth(Some(reason.to_owned()))
                } else {
                    ServerMessage::Auth(None)
                }
            }
            t if t == u64::from(MSG_QUERY_AWARENESS) => ServerMessage::QueryAwareness,
            t if t == u64::from(MSG_SAVED) => {
                let payload = cursor.read_buf().map_err(|_| malformed("truncated saved message"))?;
                ServerMessage::Saved(decode_state_vector(payload)?)
            }
            // y-protocols messages carry no length: an unknown type makes the rest of the frame
            // unreadable, so the frame is refused.
            other => return Err(malformed(format!("unknown message type {other}"))),
        };
        out.push(msg);
    }
    Ok(out)
}

/// Decodes a v1 state vector after checking its declared count against the bytes present.
pub fn decode_state_vector(payload: &[u8]) -> Result<StateVector, Error> {
    let mut cursor = Cursor::new(payload);
    let count: u64 = cursor.read_var().map_err(|_| malformed("bad state vector"))?;
    // Each entry takes at least two bytes (client id and clock).
    if count > (payload.len() as u64) / 2 {
        return Err(malformed("state vector count exceeds its bytes"));
    }
    for _ in 0..count {
        let _: u64 = cursor.read_var().map_err(|_| malformed("truncated state vector"))?;
        let _: u32 = cursor.read_var().map_err(|_| malformed("truncated state vector"))?;
    }
    if cursor.has_content() {
        return Err(malformed("trailing bytes after the state vector"));
    }
    StateVector::decode_v1(payload).map_err(|e| malformed(format!("bad state vector: {e}")))
}

fn decode_update(payload: &[u8]) -> Result<Update, Error> {
    let mut cursor = Cursor::new(payload);
    let clients: u64 = cursor.read_var().map_err(|_| malformed("bad update"))?;
    // Each client section takes at least three bytes (block count, client id, clock).
    if clients > payload.len() as u64 {
        return Err(malformed("update client count exceeds its bytes"));
    }
    Update::decode_v1(payload).map_err(|e| malformed(format!("bad update: {e}")))
}

fn decode_awareness(payload: &[u8]) -> Result<AwarenessUpdate, Error> {
    let mut cursor = Cursor::new(payload);
    let count: u64 = cursor.read_var().map_err(|_| malformed("bad awareness update"))?;
    // Each entry takes at least three bytes (client id, clock, state length).
    if count > (payload.len() as u64) / 3 {
        return Err(malformed("awareness count exceeds its bytes"));
    }
    for _ in 0..count {
        let _: u64 = cursor.read_var().map_err(|_| malformed("truncated awareness update"))?;
        let _: u32 = cursor.read_var().map_err(|_| malformed("truncated awareness update"))?;
        cursor.read_string().map_err(|_| malformed("truncated awareness update"))?;
    }
    if cursor.has_content() {
        return Err(malformed("trailing bytes after the awareness update"));
    }
    AwarenessUpdate::decode_v1(payload).map_err(|e| malformed(format!("bad awareness update: {e}")))
}

fn sync_frame(sub: u8, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(payload.len() + 8);
    buf.write_var(MSG_SYNC);
    buf.write_var(sub);
    buf.write_buf(payload);
    buf
}

/// `[sync, step 1, state vector]`: "here is what I have, send me what I lack".
pub fn step1_frame(sv: &StateVector) -> Vec<u8> {
    sync_frame(MSG_SYNC_STEP_1, &sv.encode_v1())
}

/// `[sync, step 2, update]`: the answer to a sync step 1.
pub fn step2_frame(update: &[u8]) -> Vec<u8> {
    sync_frame(MSG_SYNC_STEP_2, update)
}

/// `[sync, update, update]`: an incremental update.
pub fn update_frame(update: &[u8]) -> Vec<u8> {
    sync_frame(MSG_SYNC_UPDATE, update)
}

/// `[awareness, update]`: presence states.
pub fn awareness_frame(update: &AwarenessUpdate) -> Vec<u8> {
    let payload = update.encode_v1();
    let mut buf = Vec::with_capacity(payload.len() + 6);
    buf.write_var(MSG_AWARENESS);
    buf.write_buf(&payload);
    buf
}

/// `[query awareness]`: ask the server for everyone's presence.
pub fn query_awareness_frame() -> Vec<u8> {
    vec![MSG_QUERY_AWARENESS]
}

/// `[90, 0]`: opt in to Atelier's saved extension.
pub fn saved_opt_in_frame() -> Vec<u8> {
    vec![MSG_SAVED, 0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, Map, Transact};

    fn an_update() -> Vec<u8> {
        let doc = Doc::with_client_id(7);
        let notes = doc.get_or_insert_map("notes");
        let mut txn = doc.transact_mut();
        notes.insert(&mut txn, "a", 1);
        txn.encode_update_v1()
    }

    fn saved_frame(sv: &StateVector) -> Vec<u8> {
        let mut buf = vec![MSG_SAVED];
        buf.write_buf(sv.encode_v1());
        buf
    }

    #[test]
    fn decodes_every_message_of_a_frame() {
        let mut sv = StateVector::default();
        sv.set_max(yrs::ClientID::new(7), 3);
        let mut frame = step1_frame(&sv);
        frame.extend(update_frame(&an_update()));
        frame.extend(saved_frame(&sv));
        frame.extend(query_awareness_frame());
        let msgs = decode_frame(&frame).expect("valid frame");
        assert_eq!(msgs.len(), 4);
        assert!(matches!(&msgs[0], ServerMessage::SyncStep1(s) if s.get(&yrs::ClientID::new(7)) == 3));
        assert!(matches!(&msgs[1], ServerMessage::Update { .. }));
        assert!(matches!(&msgs[2], ServerMessage::Saved(_)));
        assert!(matches!(&msgs[3], ServerMessage::QueryAwareness));
    }

    #[test]
    fn a_truncated_message_refuses_the_whole_frame() {
        let mut frame = update_frame(&an_update());
        let second = update_frame(&an_update());
        frame.extend_from_slice(&second[..second.len() - 2]);
        assert!(decode_frame(&frame).is_err());
        assert!(decode_frame(&[]).is_err());
    }

    #[test]
    fn unknown_types_and_count_bombs_are_refused() {
        assert!(decode_frame(&[42, 0]).is_err());
        // [awareness, len 5, varint 2^28 entries]
        assert!(decode_frame(&[1, 5, 0x80, 0x80, 0x80, 0x80, 0x01]).is_err());
        // [saved, len 5, varint 2^28 entries]
        assert!(decode_frame(&[MSG_SAVED, 5, 0x80, 0x80, 0x80, 0x80, 0x01]).is_err());
    }

    #[test]
    fn the_opt_in_is_an_empty_length_prefixed_payload() {
        assert_eq!(saved_opt_in_frame(), vec![90, 0]);
    }
}
