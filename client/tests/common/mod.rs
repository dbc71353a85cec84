//! Starts the real `atelier` binary for the tests, with an organisation, an admin account and a
//! project to create boards in.
//!
//! The binary is `$ATELIER_BIN` if set, else `target/debug/atelier` of the workspace if it
//! exists (`cargo test --workspace` builds it), else it is built here with `cargo build`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use atelier_client::Api;

pub const WAIT: Duration = Duration::from_secs(15);

pub fn server_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("ATELIER_BIN") {
            let bin = PathBuf::from(bin);
            assert!(bin.exists(), "ATELIER_BIN={} does not exist", bin.display());
            return bin;
        }
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let default = workspace.join("target/debug/atelier");
        if default.exists() {
            return default;
        }
        match escargot::CargoBuild::new()
            .manifest_path(workspace.join("Cargo.toml"))
            .package("atelier-server")
            .bin("atelier")
            .run()
        {
            Ok(run) => run.path().to_path_buf(),
            Err(e) => panic!(
                "the atelier server binary is missing and could not be built ({e}); \
                 run `cargo build -p atelier-server --bin atelier` or set ATELIER_BIN"
            ),
        }
    })
    .clone()
}

/// A running `atelier serve` process, killed on drop.
pub struct Server {
    child: Child,
    pub addr: String,
    /// The Prometheus endpoint, when started with one ([`Server::start_with_metrics`]).
    pub metrics_url: Option<String>,
}

impl Server {
    /// Starts a server on a free loopback port with its data in `dir`.
    pub fn start(dir: &Path) -> Server {
        Self::start_on(dir, "127.0.0.1:0")
    }

    /// Starts a server listening on `listen` with its data in `dir`.
    pub fn start_on(dir: &Path, listen: &str) -> Server {
        Self::spawn(dir, listen, false)
    }

    /// Starts a server on a free loopback port that also serves its metrics on another one.
    pub fn start_with_metrics(dir: &Path) -> Server {
        Self::spawn(dir, "127.0.0.1:0", true)
    }

    fn spawn(dir: &Path, listen: &str, metrics: bool) -> Server {
        let bin = server_bin();
        let mut command = Command::new(&bin);
        if metrics {
            command.env("ATELIER_METRICS_LISTEN", "127.0.0.1:0");
        } else {
            command.env_remove("ATELIER_METRICS_LISTEN");
        }
        let mut child = command
            .arg("serve")
            .env("ATELIER_LISTEN", listen)
            .env("ATELIER_DATA_DIR", dir)
            .env("ATELIER_SQLITE_SYNCHRONOUS", "normal")
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Every line, the pipe kept open and drained.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut next_line = || match rx.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not print its addresses in time");
            }
        };
        let line = next_line();
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
            .trim()
            .to_owned();
        let metrics_url = metrics.then(|| {
            let line = next_line();
            line.strip_prefix("metrics on ")
                .unwrap_or_else(|| panic!("unexpected second line from the server: {line:?}"))
                .trim()
                .to_owned()
        });
        Server { child, addr, metrics_url }
    }

    /// The URL template of the board endpoint.
    pub fn template(&self) -> String {
        format!("ws://{}/ws/{{board}}", self.addr)
    }

    /// Kills the process (a crash, as far as the server knows) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `cond` until it holds or [`WAIT`] passes.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub const EMAIL: &str = "admin@test.example";
pub const PASSWORD: &str = "a-long-test-password";

/// Creates the organisation and its admin in the database under `dir` (`atelier admin`).
pub fn create_tenant(dir: &Path) {
    let out = Command::new(server_bin())
        .args(["admin", "create-tenant", "--name", "Test", "--admin-email", EMAIL])
        .env("ATELIER_DATA_DIR", dir)
        .env("ATELIER_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run atelier admin create-tenant");
    assert!(out.status.success(), "create-tenant failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A server with an admin logged in and a project.
pub struct Atelier {
    pub server: Server,
    pub api: Api,
    pub project: String,
}

impl Atelier {
    pub async fn start(dir: &Path) -> Atelier {
        create_tenant(dir);
        let server = Server::start(dir);
        let mut api = Api::new(format!("http://{}", server.addr)).unwrap();
        api.login(EMAIL, PASSWORD).await.expect("log in");
        let project = api.create_project("Tests").await.expect("create a project");
        Atelier { server, api, project }
    }

    /// A new board.
    pub async fn board(&self) -> String {
        self.api.create_board(&self.project, "test board", "free").await.expect("create a board")
    }

    /// A new session (token) of the admin.
    pub async fn token(&self) -> String {
        let mut api = Api::new(format!("http://{}", self.server.addr)).unwrap();
        api.login(EMAIL, PASSWORD).await.expect("log in")
    }
}
