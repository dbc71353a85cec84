//! Feeds arbitrary bytes to the server's frame decoder and, when they decode, to a room with
//! some content: decoding, applying, committing and answering must never panic.
#![no_main]

use atelier::sync::{decode_frame, Effect, Limits, Principal, Role, Room};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msgs) = decode_frame(data) else { return };
    let mut room = match Room::load(None, std::iter::empty(), std::iter::empty(), Limits::default()) {
        Ok(room) => room,
        Err(_) => return,
    };
    let mut out: Vec<Effect> = Vec::new();
    room.join(1, Principal::new("fuzz"), Role::Editor, 0);
    room.join(2, Principal::new("other"), Role::Viewer, 0);
    if room.receive(1, msgs, 0, &mut out).is_err() {
        return; // the actor would reload the room: an accepted outcome
    }
    if room.take_commit().is_some() {
        room.committed(&mut out);
    } else {
        room.settle(&mut out);
    }
    room.tick(60_000, &mut out);
    room.leave(1, &mut out);
});
