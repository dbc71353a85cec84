//! Frames on the wire: strict decoding of incoming frames and encoding of outgoing messages.
//!
//! An incoming binary frame may hold several y-protocols messages back to back. yrs's
//! `MessageReader` ends silently on a truncated message, so frames are walked here message by
//! message and must be consumed exactly; every nested payload goes through
//! [`super::validate`] before yrs decodes it. Outgoing frames always hold one message: the stock
//! `y-websocket` provider reads only the first message of a frame.

use bytes::Bytes;
use yrs::encoding::read::{Cursor, Read};
use yrs::sync::protocol::{
    MSG_AUTH, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC, MSG_SYNC_STEP_1, MSG_SYNC_STEP_2, MSG_SYNC_UPDATE,
};
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{StateVector, Update};

use super::validate;

/// Message type of Atelier's "saved" extension.
///
/// A client opts in by sending `[MSG_SAVED, varByteArray(empty)]`. From then on, after each
/// commit that advanced one of the Yjs client ids this connection wrote with, the server sends
/// `[MSG_SAVED, varByteArray(state vector)]`: the committed clock of each of those client ids,
/// v1-encoded like a sync step 1 state vector. A client whose local clock for its own id is at
/// or below the committed clock knows that all its edits are durably saved.
///
/// 90 is below 128 (one byte as a varUint) and away from the types in use: 0–3 (y-protocols),
/// 4–10 (Hocuspocus), 102 (y-sweet's sync status).
pub const MSG_SAVED: u8 = 90;

/// One decoded incoming message.
#[derive(Debug)]
pub enum Inbound {
    /// "Here is my state vector": answer with what the client lacks.
    Step1(StateVector),
    /// The client's answer to our step 1, or an incremental update. `len` is the wire size.
    Update { update: Update, len: usize },
    /// A presence update.
    Awareness { update: AwarenessUpdate, len: usize },
    /// "Send me everyone's presence."
    QueryAwareness,
    /// A y-protocols auth message; clients have nothing to tell the server with it.
    Auth,
    /// Opt in to the saved extension.
    SavedOptIn,
}

/// Why a frame was refused. The text is safe to send as a close reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("unsupported message type {0}")]
    UnsupportedType(u64),
}

fn malformed(what: impl std::fmt::Display) -> FrameError {
    FrameError::Malformed(what.to_string())
}

/// Decodes every message of one binary frame, or refuses the whole frame.
pub fn decode_frame(frame: &[u8]) -> Result<Vec<Inbound>, FrameError> {
    let mut cursor = Cursor::new(frame);
    let mut out = Vec::new();
    if frame.is_empty() {
        return Err(malformed("empty frame"));
    }
    while cursor.has_content() {
        let tag: u64 = cursor.read_var().map_err(|_| malformed("bad message type"))?;
        let msg = match tag {
            t if t == u64::from(MSG_SYNC) => {
                let sub: u64 = cursor.read_var().map_err(|_| malformed("bad sync type"))?;
                let payload = cursor.read_buf().map_err(|_| malformed("truncated sync message"))?;
                match sub {
                    s if s == u64::from(MSG_SYNC_STEP_1) => {
                        validate::check_state_vector_v1(payload).map_err(malformed)?;
                        let sv =
                            StateVector::decode_v1(payload).map_err(|_| malformed("bad state vector"))?;
                        Inbound::Step1(sv)
                    }
                    s if s == u64::from(MSG_SYNC_STEP_2) || s == u64::from(MSG_SYNC_UPDATE) => {
                        validate::check_update_v1(payload).map_err(malformed)?;
                        let update = Update::decode_v1(payload).map_err(|_| malformed("bad update"))?;
                        Inbound::Update { update, len: payload.len() }
                    }
                    _ => return Err(malformed("unknown sync message type")),
                }
            }
            t if t == u64::from(MSG_AWARENESS) => {
                let payload = cursor.read_buf().map_err(|_| malformed("truncated awareness"))?;
                validate::check_awareness_v1(payload).map_err(malformed)?;
                let update =
                    AwarenessUpdate::decode_v1(payload).map_err(|_| malformed("bad awareness update"))?;
                Inbound::Awareness { update, len: payload.len() }
            }
            t if t == u64::from(MSG_AUTH) => {
                let sub: u64 = cursor.read_var().map_err(|_| malformed("bad auth message"))?;
                if sub == 0 {
                    cursor.read_string().map_err(|_| malformed("bad auth message"))?;
                }
                Inbound::Auth
            }
            t if t == u64::from(MSG_QUERY_AWARENESS) => Inbound::QueryAwareness,
            t if t == u64::from(MSG_SAVED) => {
                cursor.read_buf().map_err(|_| malformed("truncated saved opt-in"))?;
                Inbound::SavedOptIn
            }
            other => return Err(FrameError::UnsupportedType(other)),
        };
        out.push(msg);
    }
    Ok(out)
}

/// Encodes one message into a frame.
pub fn frame(msg: &Message) -> Bytes {
    Bytes::from(msg.encode_v1())
}

/// `[sync, update, bytes]`.
pub fn update_frame(update: &[u8]) -> Bytes {
    frame(&Message::Sync(SyncMessage::Update(update.to_vec())))
}

/// `[sync, step 2, bytes]`.
pub fn step2_frame(update: Vec<u8>) -> Bytes {
    frame(&Message::Sync(SyncMessage::SyncStep2(update)))
}

/// `[sync, step 1, state vector]`.
pub fn step1_frame(sv: StateVector) -> Bytes {
    frame(&Message::Sync(SyncMessage::SyncStep1(sv)))
}

/// `[awareness, update]`.
pub fn awareness_frame(update: AwarenessUpdate) -> Bytes {
    frame(&Message::Awareness(update))
}

/// `[auth, permission denied, reason]`.
pub fn denied_frame(reason: &str) -> Bytes {
    frame(&Message::Auth(Some(reason.to_string())))
}

/// `[saved, state vector]`.
pub fn saved_frame(committed: &StateVector) -> Bytes {
    frame(&Message::Custom(MSG_SAVED, committed.encode_v1()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, GetString, Text, Transact};

    fn text_update() -> Vec<u8> {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "bonjour");
        txn.encode_update_v1()
    }

    #[test]
    fn decodes_several_messages_in_one_frame() {
        let mut frame = update_frame(&text_update()).to_vec();
        frame.extend_from_slice(&step1_frame(StateVector::default()));
        frame.extend_from_slice(&[MSG_SAVED, 0]);
        let msgs = decode_frame(&frame).expect("valid frame");
        assert!(matches!(msgs[0], Inbound::Update { .. }));
        assert!(matches!(msgs[1], Inbound::Step1(_)));
        assert!(matches!(msgs[2], Inbound::SavedOptIn));
        assert_eq!(msgs.len(), 3);
    }

    #[test]
    fn truncated_trailing_message_refuses_the_frame() {
        // MessageReader would stop silently at the truncated second message.
        let mut frame = update_frame(&text_update()).to_vec();
        let second = update_frame(&text_update());
        frame.extend_from_slice(&second[..second.len() - 3]);
        assert!(decode_frame(&frame).is_err());
    }

    #[test]
    fn awareness_count_bomb_is_refused_before_allocating() {
        // [awareness, len 5, varint 2^28 clients]: yrs alone reserves ~0.5 GB for this.
        let frame = [1u8, 5, 0x80, 0x80, 0x80, 0x80, 0x01];
        assert!(decode_frame(&frame).is_err());
    }

    #[test]
    fn unknown_type_is_refused() {
        assert_eq!(decode_frame(&[42, 0]).err(), Some(FrameError::UnsupportedType(42)));
    }

    #[test]
    fn outgoing_update_roundtrips_through_yrs() {
        let bytes = text_update();
        let frame = update_frame(&bytes);
        let msgs = decode_frame(&frame).expect("valid");
        let Inbound::Update { update, .. } = msgs.into_iter().next().expect("one") else {
            panic!("not an update")
        };
        let doc = Doc::new();
        doc.transact_mut().apply_update(update).expect("applies");
        assert_eq!(doc.get_or_insert_text("t").get_string(&doc.transact()), "bonjour");
    }
}
