//! `atelier-client`: print or edit an Atelier board (or any y-websocket board) from the command
//! line, and generate load against a server on this machine.

mod board;
mod load;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use atelier_client::{Client, ClientOptions};
use clap::{Args, Parser, Subcommand};

/// Command line client and load generator for Atelier boards.
#[derive(Debug, Parser)]
#[command(name = "atelier-client", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connect, sync and print the board's content as JSON, then exit.
    Print(PrintArgs),
    /// Apply a scripted edit to the board's `notes` map, wait until it is saved, exit.
    Edit(EditArgs),
    /// Generate load against a server on this machine and print one JSON line of results.
    Load(load::LoadArgs),
}

/// Which board on which server.
#[derive(Debug, Args)]
struct BoardArgs {
    /// The server's board endpoint, `ws://HOST/ws` (the board id is appended) or a template
    /// with `{board}`, e.g. `ws://127.0.0.1:1234/{board}` for @y/websocket-server.
    #[arg(
        long,
        visible_alias = "url-template",
        env = "ATELIER_URL",
        default_value = "ws://127.0.0.1:8080/ws"
    )]
    url: String,
    /// The board id.
    #[arg(long)]
    board: String,
    /// The access token (sent as `?token=`); Atelier requires one.
    #[arg(long, env = "ATELIER_TOKEN")]
    token: Option<String>,
    /// An extra query string, e.g. `token=x&room=y`.
    #[arg(long)]
    query: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
}

impl BoardArgs {
    fn options(&self) -> ClientOptions {
        let mut opts =
            ClientOptions::new(self.url.clone(), self.board.clone()).presence(None).reconnect(false);
        if let Some(token) = &self.token {
            opts = opts.token(token.clone());
        }
        if let Some(query) = &self.query {
            opts = opts.query(query.clone());
        }
        opts
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }
}

#[derive(Debug, Args)]
struct PrintArgs {
    #[command(flatten)]
    target: BoardArgs,
    /// Root types to print, as `name` (a map) or `name:map|array|text|xml`; repeat or separate
    /// with commas. Other roots found in the document are printed too, typed as well as can be.
    #[arg(long = "root", value_delimiter = ',', default_value = "notes")]
    roots: Vec<String>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
}

#[derive(Debug, Args)]
struct EditArgs {
    #[command(flatten)]
    target: BoardArgs,
    /// Set a key of the map to a JSON value: `--set n1='{"text":"hi","x":10}'`. Repeatable.
    #[arg(long = "set", value_name = "KEY=JSON")]
    sets: Vec<String>,
    /// Remove a key from the map. Repeatable.
    #[arg(long = "delete", value_name = "KEY")]
    deletes: Vec<String>,
    /// The root map to edit.
    #[arg(long, default_value = "notes")]
    map: String,
    /// Do not wait for Atelier's saved acknowledgement (for servers without the saved
    /// extension): wait for a sync round trip instead, which proves the server received the edit.
    #[arg(long)]
    no_wait_saved: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Command::Load(args) => args.threads(),
        _ => 2,
    };
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("atelier-client: cannot start the runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Print(args) => print(args).await,
            Command::Edit(args) => edit(args).await,
            Command::Load(args) => load::run(args).await,
        }
    });
    // Connection tasks may still be closing: do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("atelier-client: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn connect(target: &BoardArgs, opts: ClientOptions) -> anyhow::Result<Client> {
    let url = opts.url()?;
    let shown = url.split('?').next().unwrap_or(&url).to_owned();
    tokio::time::timeout(target.timeout(), Client::connect(opts))
        .await
        .with_context(|| format!("no sync from {shown} within {}s", target.timeout().as_secs()))?
        .with_context(|| format!("cannot sync board {:?}", target.board))
}

async fn print(args: PrintArgs) -> anyhow::Result<()> {
    let roots = board::parse_roots(&args.roots)?;
    // Reading only: no presence, no saved opt-in.
    let client = connect(&args.target, args.target.options().saved_extension(false)).await?;
    let json = board::to_json(client.doc(), &roots);
    let out = if args.pretty { serde_json::to_string_pretty(&json)? } else { serde_json::to_string(&json)? };
    println!("{out}");
    let _ = tokio::time::timeout(Duration::from_secs(2), client.close()).await;
    Ok(())
}

async fn edit(args: EditArgs) -> anyhow::Result<()> {
    if args.sets.is_empty() && args.deletes.is_empty() {
        bail!("nothing to do: give at least one --set KEY=JSON or --delete KEY");
    }
    let sets = args.sets.iter().map(|s| board::parse_set(s)).collect::<anyhow::Result<Vec<_>>>()?;
    let opts = args.target.options().saved_extension(!args.no_wait_saved);
    let client = connect(&args.target, opts).await?;
    let changed = board::apply_edit(client.doc(), &args.map, &sets, &args.deletes);
    let timeout = args.target.timeout();
    if args.no_wait_saved {
        tokio::time::timeout(timeout, client.flush())
            .await
            .context("the server did not answer the round trip in time")?
            .context("the connection ended before the server confirmed the edit")?;
        eprintln!("edited {changed} key(s) of {:?}; the server received the edit", args.map);
    } else {
        match tokio::time::timeout(timeout, client.wait_saved()).await {
            Ok(result) => result.context("the connection ended before the edit was saved")?,
            Err(_) if !client.state().saved_supported => bail!(
                "the server sent no saved acknowledgement within {}s; it may not have Atelier's saved \
                 extension (use --no-wait-saved for other servers)",
                timeout.as_secs()
            ),
            Err(_) => bail!("the edit was not saved within {}s", timeout.as_secs()),
        }
        eprintln!("edited {changed} key(s) of {:?}; saved", args.map);
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), client.close()).await;
    Ok(())
}
