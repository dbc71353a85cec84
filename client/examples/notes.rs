//! Adds a few sticky notes to a board, waits until the server has saved them, prints the board.
//!
//! ```sh
//! cargo run --release -p atelier-server -- serve            # in another terminal
//! cargo run -p atelier-client --example notes -- ws://127.0.0.1:8080/ws my-board my-token
//! ```

use std::collections::HashMap;
use std::time::Duration;

use atelier_client::{Client, ClientOptions};
use yrs::types::ToJson;
use yrs::{Any, Map, Transact};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:8080/ws".into());
    let board = args.next().unwrap_or_else(|| "example-board".into());
    let token = args.next().unwrap_or_else(|| "example".into());

    let opts = ClientOptions::new(url, board).token(token);
    let client = tokio::time::timeout(Duration::from_secs(10), Client::connect(opts)).await??;
    client.set_presence(serde_json::json!({ "name": "notes example" }))?;

    let notes = client.doc().get_or_insert_map("notes");
    {
        // One transaction, one update sent to the server. It ends before any `.await`.
        let mut txn = client.doc().transact_mut();
        let start = notes.len(&txn);
        for (i, text) in ["Écouter les usagers", "Prototyper vite", "Tester en mairie"].iter().enumerate() {
            let note = HashMap::from([
                ("text".to_owned(), Any::from(*text)),
                ("x".to_owned(), Any::from(40 + 220 * i as i64)),
                ("y".to_owned(), Any::from(80)),
                ("color".to_owned(), Any::from("#ffe066")),
            ]);
            notes.insert(
                &mut txn,
                format!("note-{}-{}", client.client_id(), start as usize + i),
                Any::from(note),
            );
        }
    }

    tokio::time::timeout(Duration::from_secs(10), client.wait_saved()).await??;
    println!("saved (committed clock {} of client {})", client.committed_clock(), client.client_id());

    let board = {
        let txn = client.doc().transact();
        notes.to_json(&txn)
    };
    println!("{}", serde_json::to_string_pretty(&board)?);
    client.close().await?;
    Ok(())
}
