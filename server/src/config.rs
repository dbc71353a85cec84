//! Server configuration: every option is a command-line flag and an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::sync::Limits;

/// Where the data lives; shared by `atelier serve` and `atelier admin`.
#[derive(Debug, Clone, Args)]
pub struct DbConfig {
    /// Directory of the embedded SQLite database, used when no DATABASE_URL is given.
    #[arg(long, env = "ATELIER_DATA_DIR", default_value = "./atelier-data")]
    pub data_dir: PathBuf,

    /// Database to use instead of the embedded SQLite one: `postgres://user@host/db` or
    /// `sqlite://path/to/file.db`. The password part is never logged.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// SQLite durability: `full` syncs the write-ahead log on every group commit (survives power
    /// loss), `normal` survives a crash of the process but not of the machine.
    #[arg(long, env = "ATELIER_SQLITE_SYNCHRONOUS", default_value = "full", value_parser = ["full", "normal"])]
    pub sqlite_synchronous: String,
}

impl DbConfig {
    /// The embedded SQLite database in `dir`.
    pub fn sqlite_dir(dir: impl Into<PathBuf>) -> Self {
        Self { data_dir: dir.into(), database_url: None, sqlite_synchronous: "normal".into() }
    }

    /// Opens the database and runs the migrations.
    pub async fn open(&self) -> Result<std::sync::Arc<dyn crate::store::Database>, crate::store::StoreError> {
        crate::store::open(self.database_url.as_deref(), &self.data_dir, self.sqlite_synchronous == "full")
            .await
    }
}

/// Options of `atelier serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on. Port 0 picks a free port; the chosen address is printed on the
    /// first line of standard output (`listening on http://ADDR`).
    #[arg(long, env = "ATELIER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Serve Prometheus metrics at `GET /metrics` on this address (off by default). Meant for
    /// the operator's network: bind it to loopback or a private address. Port 0 picks a free
    /// port, printed on standard output after the listening line (`metrics on http://ADDR/metrics`).
    #[arg(long, env = "ATELIER_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    #[command(flatten)]
    pub db: DbConfig,

    /// Seconds a board stays in memory after its last connection closed.
    #[arg(long, env = "ATELIER_ROOM_IDLE_SECS", default_value_t = 60)]
    pub room_idle_secs: u64,

    /// Largest WebSocket message a client may send, in bytes.
    #[arg(long, env = "ATELIER_MAX_MESSAGE_BYTES", default_value_t = 1024 * 1024)]
    pub max_message_bytes: usize,

    /// Largest stored size of one board (snapshot plus update log), in bytes. An update that
    /// would grow a board past it is refused and its connection closed.
    #[arg(long, env = "ATELIER_MAX_BOARD_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_board_bytes: u64,

    /// Frames a connection may have queued for sending before it counts as too slow and is
    /// closed with 1013 (the client reconnects and resyncs).
    #[arg(long, env = "ATELIER_OUTBOX_FRAMES", default_value_t = 1024)]
    pub outbox_frames: usize,

    /// Updates in the log of a board, since its snapshot, that trigger a compaction (once the
    /// log is also a quarter of the snapshot's size: docs/durability.md).
    #[arg(long, env = "ATELIER_COMPACT_EVERY", default_value_t = 1000)]
    pub compact_every: u64,

    /// Seconds allowed for a graceful shutdown (flush rooms, close sockets) before exiting anyway.
    #[arg(long, env = "ATELIER_SHUTDOWN_SECS", default_value_t = 10)]
    pub shutdown_secs: u64,

    /// Largest awareness (presence) message, in bytes.
    #[arg(long, env = "ATELIER_MAX_AWARENESS_BYTES", default_value_t = 16 * 1024)]
    pub max_awareness_bytes: usize,

    /// Awareness messages a connection may send per second before its presence is coalesced
    /// (the latest state is still delivered, at most this often).
    #[arg(long, env = "ATELIER_AWARENESS_PER_SEC", default_value_t = 30)]
    pub awareness_per_sec: u32,

    /// In rooms of more than 16 connections, presence changes are gathered for this many
    /// milliseconds and relayed together in one frame (0 relays each change at once).
    #[arg(long, env = "ATELIER_PRESENCE_BATCH_MS", default_value_t = 50)]
    pub presence_batch_ms: u64,

    /// In rooms of more than 16 connections, a board commits and relays edits at most once
    /// every this many milliseconds; edits arriving in between go out together, one frame per
    /// author for each participant (0 relays each round's edits at once).
    #[arg(long, env = "ATELIER_EDIT_BATCH_MS", default_value_t = 10)]
    pub edit_batch_ms: u64,

    /// Items one participant may add to a board per minute (notes, shapes...), unless the board
    /// sets its own limit (`meta.addsPerMinute`); facilitators are not limited.
    #[arg(long, env = "ATELIER_ADDS_PER_MINUTE", default_value_t = 200)]
    pub adds_per_minute: u64,

    /// Bytes of updates waiting for missing dependencies that a board may hold in memory.
    #[arg(long, env = "ATELIER_MAX_PENDING_BYTES", default_value_t = 1024 * 1024)]
    pub max_pending_bytes: usize,

    /// The address people use to reach this server, for the links in invites
    /// (e.g. `https://atelier.example.org`). Defaults to `http://` + the listen address.
    #[arg(long, env = "ATELIER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Largest request body accepted by the REST API, in bytes.
    #[arg(long, env = "ATELIER_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// Largest image that may be uploaded to a board, in bytes.
    #[arg(long, env = "ATELIER_MAX_IMAGE_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_image_bytes: usize,

    /// Largest total size of one board's images, in bytes.
    #[arg(long, env = "ATELIER_MAX_BOARD_IMAGE_BYTES", default_value_t = 256 * 1024 * 1024)]
    pub max_board_image_bytes: u64,

    /// Serve the web UI from this directory (e.g. `assets/dist`, read at each request) instead
    /// of the copy embedded in the binary. For front-end development only.
    #[arg(long, env = "ATELIER_UI_DIR")]
    pub ui_dir: Option<PathBuf>,
}

impl ServeConfig {
    /// A configuration for tests and embedding: listens on a free loopback port, data in `dir`.
    pub fn for_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_listen: None,
            db: DbConfig::sqlite_dir(dir),
            room_idle_secs: 60,
            max_message_bytes: 1024 * 1024,
            max_board_bytes: 64 * 1024 * 1024,
            outbox_frames: 1024,
            compact_every: 1000,
            shutdown_secs: 10,
            max_awareness_bytes: 16 * 1024,
            awareness_per_sec: 30,
            presence_batch_ms: 50,
            edit_batch_ms: 10,
            adds_per_minute: 200,
            max_pending_bytes: 1024 * 1024,
            public_url: None,
            max_body_bytes: 64 * 1024,
            max_image_bytes: 10 * 1024 * 1024,
            max_board_image_bytes: 256 * 1024 * 1024,
            ui_dir: None,
        }
    }

    pub fn room_idle(&self) -> Duration {
        Duration::from_secs(self.room_idle_secs)
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_board_bytes: self.max_board_bytes,
            max_awareness_bytes: self.max_awareness_bytes,
            awareness_per_sec: self.awareness_per_sec,
            presence_batch_ms: self.presence_batch_ms,
            edit_batch_ms: self.edit_batch_ms,
            adds_per_minute: self.adds_per_minute,
            max_pending_bytes: self.max_pending_bytes,
        }
    }
}
