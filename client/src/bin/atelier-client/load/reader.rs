//! Receive-only subscribers: raw y-websocket connections that sync, then time each update the
//! writer sent from the writer's clock in the relayed frame, without applying it anywhere.
//!
//! A full client integrates every relayed update into its own yrs document and runs its
//! observers: 200 of them at 200 updates/s are 40,000 integrations a second, which saturate the
//! generator's core before a slower machine's server (the generator, not the server, then sets
//! the latency). A reader decodes each frame (the same parsing as the SDK) and reads the clock
//! ranges of the writer's items in it; every writer transaction in those ranges is delivered.
//! The writer's client id must reach the reader unchanged: y-sweet 0.9.1 truncates ids to 32
//! bits, so the writer's document comes from `atelier_client::new_doc`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier_client::protocol::{decode_frame, step2_frame, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use yrs::block::ClientID;
use yrs::{Doc, ReadTxn, Transact};

use super::stats::{now_us, Latency};
use super::{connect_bounded, Counters, Recorder};

/// What the writer sent: for each of its transactions, its client's clock once applied and the
/// send time carried in the note. Clocks only grow, so the log is sorted by them.
pub struct Sent {
    client: ClientID,
    log: Mutex<Vec<(u32, i64)>>,
}

impl Sent {
    /// The log of the writer whose document is `doc`.
    pub fn new(doc: &Doc) -> Arc<Self> {
        Arc::new(Self { client: doc.client_id(), log: Mutex::new(Vec::new()) })
    }

    /// Records the transaction just applied to `doc`, sent at `t` (µs).
    pub fn record(&self, doc: &Doc, t: i64) {
        let clock = doc.transact().state_vector().get(&self.client);
        if let Ok(mut log) = self.log.lock() {
            log.push((clock, t));
        }
    }

    /// Calls `f` with the send time of each transaction whose clock is in `(after, upto]`.
    fn each_between(&self, after: u32, upto: u32, mut f: impl FnMut(i64)) {
        let Ok(log) = self.log.lock() else { return };
        let from = log.partition_point(|&(clock, _)| clock <= after);
        for &(_, t) in log[from..].iter().take_while(|&&(clock, _)| clock <= upto) {
            f(t);
        }
    }
}

/// One connected reader: dropped or closed, its connection is closed.
pub struct Reader {
    close: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Reader {
    /// Closes the connection (a normal close) and waits for it, two seconds at most.
    pub async fn close(mut self) {
        if let Some(close) = self.close.take() {
            let _ = close.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.task).await;
    }
}

/// Opens `n` readers on `url`, at most `concurrency` connecting at a time, each recording its
/// connect+sync time into `times`. Returns the readers that synced, how many failed and the
/// first error.
pub async fn connect(
    url: &str,
    n: usize,
    concurrency: usize,
    sent: &Arc<Sent>,
    rec: &Arc<Recorder>,
    counters: &Arc<Counters>,
    times: &Arc<Latency>,
) -> (Vec<Reader>, usize, Option<String>) {
    let connects = (0..n).map(|_| open(url.to_owned(), sent.clone(), rec.clone(), counters.clone()));
    let (readers, failed, first_error) = connect_bounded(connects, concurrency, times).await;
    (readers.into_iter().flatten().collect(), failed, first_error)
}

/// Connects, sends an empty sync step 1 and waits for the server's step 2, then reads on in a
/// task of its own.
async fn open(
    url: String,
    sent: Arc<Sent>,
    rec: Arc<Recorder>,
    counters: Arc<Counters>,
) -> Result<Reader, String> {
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    // [sync, step 1, length 1, empty state vector]
    ws.send(Message::Binary(vec![0u8, 0, 1, 0].into())).await.map_err(|e| e.to_string())?;
    let mut seen = 0u32;
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(frame))) => {
                let msgs = decode_frame(&frame).map_err(|e| e.to_string())?;
                let synced = msgs.iter().any(|m| matches!(m, ServerMessage::SyncStep2 { .. }));
                // What the board held before is not a delivery: only the clock is kept.
                deliver(&msgs, &sent, &mut seen, |_| {});
                answer(&mut ws, &msgs).await?;
                if synced {
                    break;
                }
            }
            Some(Ok(Message::Close(close))) => return Err(format!("closed before syncing: {close:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("closed before syncing".to_owned()),
        }
    }
    let (close, mut closing) = oneshot::channel();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut closing => {
                    let _ = ws.close(None).await;
                    // Read until the server's close answers ours.
                    let _ = tokio::time::timeout(Duration::from_secs(1), async {
                        while let Some(Ok(_)) = ws.next().await {}
                    })
                    .await;
                    return;
                }
                msg = ws.next() => match msg {
                    Some(Ok(Message::Binary(frame))) => {
                        let Ok(msgs) = decode_frame(&frame) else {
                            lost(&counters, "undecodable frame".to_owned());
                            return;
                        };
                        let now = now_us();
                        deliver(&msgs, &sent, &mut seen, |t| rec.seen(t, now));
                        if answer(&mut ws, &msgs).await.is_err() {
                            lost(&counters, "write failed".to_owned());
                            return;
                        }
                    }
                    // tungstenite queues the pong: send it now, the reader writes nothing else.
                    Some(Ok(Message::Ping(_))) => {
                        let _ = ws.flush().await;
                    }
                    Some(Ok(Message::Close(close))) => {
                        lost(&counters, format!("{close:?}"));
                        return;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        lost(&counters, e.to_string());
                        return;
                    }
                    None => {
                        lost(&counters, "connection ended".to_owned());
                        return;
                    }
                }
            }
        }
    });
    Ok(Reader { close: Some(close), task })
}

/// The clock ranges of the writer's items in the updates of a frame, as `(after, upto]` pairs
/// of transaction end clocks (see [`Sent::record`]).
fn writer_ranges(msgs: &[ServerMessage], sent: &Sent) -> Vec<(u32, u32)> {
    let mut ranges = Vec::new();
    for m in msgs {
        if let ServerMessage::Update { update, .. } | ServerMessage::SyncStep2 { update, .. } = m {
            for (client, clocks) in update.insertions(true).iter() {
                if *client == sent.client {
                    ranges.extend(clocks.into_iter().map(|r| (r.start, r.end)));
                }
            }
        }
    }
    ranges
}

/// Records each writer transaction carried by `msgs` and not seen before (`seen`: the highest
/// end clock delivered so far) as delivered now.
fn deliver(msgs: &[ServerMessage], sent: &Sent, seen: &mut u32, mut f: impl FnMut(i64)) {
    for (start, end) in writer_ranges(msgs, sent) {
        if end > *seen {
            sent.each_between(start.max(*seen), end, &mut f);
            *seen = end;
        }
    }
}

/// Answers the server's sync step 1 as an empty client does: with an empty update.
async fn answer<S>(ws: &mut S, msgs: &[ServerMessage]) -> Result<(), String>
where
    S: SinkExt<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    if msgs.iter().any(|m| matches!(m, ServerMessage::SyncStep1(_))) {
        ws.send(Message::Binary(step2_frame(&[0, 0]).into())).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn lost(counters: &Counters, why: String) {
    counters.disconnects.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut last) = counters.last_close.lock() {
        *last = Some(why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{Map, Update};

    /// Each transaction's clock is recorded, and a merged update of several of them (what a
    /// server batching one author's edits relays) delivers each of them once.
    #[test]
    fn clocks_of_a_merged_update_deliver_each_transaction_once() {
        let doc = Doc::new();
        let notes = doc.get_or_insert_map("notes");
        let sent = Sent::new(&doc);
        let mut updates = Vec::new();
        for (i, t) in [100i64, 200, 300].into_iter().enumerate() {
            let before = doc.transact().state_vector();
            {
                let mut txn = doc.transact_mut();
                notes.insert(&mut txn, "note-1", i as i64);
            }
            sent.record(&doc, t);
            updates.push(doc.transact().encode_state_as_update_v1(&before));
        }
        let first = Update::decode_v1(&updates[0]).unwrap();
        let merged = Update::merge_updates(vec![
            Update::decode_v1(&updates[1]).unwrap(),
            Update::decode_v1(&updates[2]).unwrap(),
        ]);
        let frame = |u: Update| vec![ServerMessage::Update { update: u, len: 0 }];

        let mut seen = 0;
        let mut got = Vec::new();
        for msgs in [frame(first), frame(merged)] {
            deliver(&msgs, &sent, &mut seen, |t| got.push(t));
        }
        assert_eq!(got, vec![100, 200, 300]);
        // The same update again (a resync) is not a second delivery.
        let again = Update::decode_v1(&updates[2]).unwrap();
        deliver(&frame(again), &sent, &mut seen, |t| got.push(t));
        assert_eq!(got.len(), 3);
        // Another client's update carries no clock of the writer's: nothing delivered.
        let other = Doc::new();
        other.get_or_insert_map("notes").insert(&mut other.transact_mut(), "x", 1);
        let theirs =
            Update::decode_v1(&other.transact().encode_state_as_update_v1(&Default::default())).unwrap();
        assert!(writer_ranges(&frame(theirs), &sent).is_empty());
    }
}
