//! A server started in-process on port 0 and a small y-protocols test client.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atelier::ServeConfig;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;
use yrs::encoding::read::Cursor;
use yrs::sync::{Message, SyncMessage};
use yrs::types::ToJson;
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, Map, MapRef, ReadTxn, StateVector, Transact, TransactionMut, Update};

pub const WAIT: Duration = Duration::from_secs(10);

/// A running server; dropping it does not stop it, [`TestServer::stop`] does.
pub struct TestServer {
    pub addr: SocketAddr,
    pub config: ServeConfig,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), atelier::ServerError>>,
}

impl TestServer {
    pub async fn start(config: ServeConfig) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let listener = atelier::listen(config.listen).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(atelier::run(config.clone(), listener, shutdown.clone()));
        // Ready once the store has run its migrations and answers.
        let deadline = tokio::time::Instant::now() + WAIT;
        while http(addr, "GET", "/readyz", None, None).await.0 != 200 {
            assert!(tokio::time::Instant::now() < deadline, "server not ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { addr, config, shutdown, task }
    }

    /// Graceful shutdown; returns once the server has stopped.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(WAIT, self.task).await.expect("stops in time").expect("join").expect("ok");
    }
}

pub fn config(dir: &tempfile::TempDir) -> ServeConfig {
    ServeConfig::for_dir(dir.path())
}

/// A raw HTTP/1.1 request; returns the status and the JSON body (Null when empty).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let body = body.map(|b| b.to_string());
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(body) = &body {
        head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    raw_http(addr, format!("{head}{}", body.unwrap_or_default()).as_bytes()).await
}

/// An HTTP answer with its raw headers and body.
pub struct RawAnswer {
    pub status: u16,
    /// Header lines, names lower-cased: `name: value`.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A request with a raw body (`content_type`, bytes) and optional extra headers; the answer
/// with its headers and raw body (the server answers these with Content-Length).
pub async fn http_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
    extra: &[(&str, &str)],
) -> RawAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let bytes = body.map(|(_, b)| b).unwrap_or_default();
    if let Some((content_type, b)) = body {
        request.push_str(&format!("Content-Type: {content_type}\r\nContent-Length: {}\r\n", b.len()));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    // The server may answer (413) before reading the whole body and close: ignore write errors.
    let _ = stream.write_all(bytes).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let body = response.get(split + 4..).unwrap_or_default().to_vec();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    RawAnswer { status, headers, body }
}

/// A small valid PNG (one pixel, any colour), so tests upload real images; `seed` varies the
/// bytes so that uploads are not deduplicated.
pub fn tiny_png(seed: u32) -> Vec<u8> {
    // 1×1 RGBA; the pixel's colour carries the seed. CRCs per the PNG specification.
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    fn adler32(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &d in data {
            a = (a + u32::from(d)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&1u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    let raw = [0u8, (seed & 0xff) as u8, ((seed >> 8) & 0xff) as u8, ((seed >> 16) & 0xff) as u8, 255];
    // zlib stream, one stored (uncompressed) block.
    let mut z = vec![0x78, 0x01, 1, 5, 0, 0xfa, 0xff];
    z.extend_from_slice(&raw);
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Sends raw bytes as an HTTP request; returns the status and the JSON body (Null when empty).
pub async fn raw_http(addr: SocketAddr, request: &[u8]) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).to_string();
    let status: u16 = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    // Chunked bodies: take the first chunk (bodies here are small).
    let body = if text.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body.split_once("\r\n")
            .map(|(_, rest)| rest.rsplit_once("\r\n0\r\n").map_or(rest, |(b, _)| b))
            .unwrap_or("")
    } else {
        body
    };
    (status, serde_json::from_str(body.trim()).unwrap_or(serde_json::Value::Null))
}

/// A tenant with an admin, a project and a board, and participants created on demand (project
/// editors, each with their own login token).
pub struct Fixture {
    pub addr: Mutex<SocketAddr>,
    pub admin: String,
    pub project: String,
    pub board: String,
    tag: u64,
    tokens: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
    users: Mutex<std::collections::HashMap<String, String>>,
}

impl Fixture {
    pub async fn new(server: &TestServer) -> Self {
        Self::on(server.addr, &server.config).await
    }

    /// A fixture on a server at `addr` whose database is `config.db`.
    pub async fn on(addr: SocketAddr, config: &ServeConfig) -> Self {
        let db = config.db.open().await.expect("open db");
        let tag = rand_u64() % 1_000_000_000;
        atelier::admin::create_tenant(db.as_ref(), "Org", &format!("admin{tag}@org.test"), "admin-password")
            .await
            .expect("tenant");
        let admin = atelier::admin::create_token(db.as_ref(), &format!("admin{tag}@org.test"), 3600)
            .await
            .expect("token");
        db.close().await;
        let admin = admin["token"].as_str().expect("token").to_owned();
        let (status, project) = http(
            addr,
            "POST",
            "/api/v1/projects",
            Some(&admin),
            Some(serde_json::json!({"name": "Atelier test"})),
        )
        .await;
        assert_eq!(status, 201, "{project}");
        let project = project["id"].as_str().expect("project id").to_owned();
        let fx = Self {
            addr: Mutex::new(addr),
            admin,
            project,
            board: String::new(),
            tag,
            tokens: Default::default(),
            users: Default::default(),
        };
        let board = fx.new_board().await;
        Self { board, ..fx }
    }

    pub fn addr(&self) -> SocketAddr {
        *self.addr.lock().unwrap()
    }

    /// Points the fixture at a restarted server on the same database.
    pub fn rebind(&self, server: &TestServer) {
        *self.addr.lock().unwrap() = server.addr;
    }

    pub async fn new_board(&self) -> String {
        let (status, board) = http(
            self.addr(),
            "POST",
            &format!("/api/v1/projects/{}/boards", self.project),
            Some(&self.admin),
            Some(serde_json::json!({"title": "Tableau", "kind": "postit"})),
        )
        .await;
        assert_eq!(status, 201, "{board}");
        board["id"].as_str().expect("board id").to_owned()
    }

    /// The login token of participant `name` (created as a project editor on first use).
    pub async fn token(&self, name: &str) -> String {
        self.token_with_role(name, "editor").await
    }

    pub async fn token_with_role(&self, name: &str, role: &str) -> String {
        let mut tokens = self.tokens.lock().await;
        if let Some(token) = tokens.get(name) {
            return token.clone();
        }
        let email = format!("{name}{}@org.test", self.tag);
        let (status, user) = http(
            self.addr(),
            "POST",
            "/api/v1/users",
            Some(&self.admin),
            Some(
                serde_json::json!({"email": email, "password": "participant-password", "display_name": name}),
            ),
        )
        .await;
        assert_eq!(status, 201, "{user}");
        let user_id = user["id"].as_str().expect("user id").to_owned();
        let (status, body) = http(
            self.addr(),
            "PUT",
            &format!("/api/v1/projects/{}/members/{user_id}", self.project),
            Some(&self.admin),
            Some(serde_json::json!({"role": role})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, login) = http(
            self.addr(),
            "POST",
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({"email": email, "password": "participant-password"})),
        )
        .await;
        assert_eq!(status, 200, "{login}");
        let token = login["token"].as_str().expect("token").to_owned();
        tokens.insert(name.to_owned(), token.clone());
        self.users.lock().unwrap().insert(name.to_owned(), user_id);
        token
    }

    /// The user id of a participant created by [`Fixture::token`].
    pub fn user_id(&self, name: &str) -> String {
        self.users.lock().unwrap().get(name).cloned().expect("participant created first")
    }

    /// An authenticated REST call as the tenant admin.
    pub async fn admin_call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        http(self.addr(), method, path, Some(&self.admin.clone()), body).await
    }

    /// The WebSocket URL of the fixture's board for participant `name`.
    pub async fn url(&self, name: &str) -> String {
        self.url_for(&self.board.clone(), name).await
    }

    pub async fn url_for(&self, board: &str, name: &str) -> String {
        let token = self.token(name).await;
        format!("ws://{}/ws/{board}?token={token}", self.addr())
    }
}

pub fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// What the test client saw.
#[derive(Default)]
pub struct Seen {
    pub closed: Option<(u16, String)>,
    pub saved: Vec<StateVector>,
    pub denied: Vec<String>,
    pub awareness: Vec<yrs::sync::AwarenessUpdate>,
    pub synced: bool,
    /// The sync messages received, in order: "step1", "step2", "update".
    pub sync_order: Vec<&'static str>,
}

/// A y-protocols client over tokio-tungstenite holding its own yrs document.
pub struct TestClient {
    pub doc: Doc,
    pub seen: Arc<Mutex<Seen>>,
    out: mpsc::UnboundedSender<WsMessage>,
}

impl TestClient {
    pub async fn connect(url: &str) -> Self {
        Self::connect_with(url, Doc::new()).await
    }

    pub async fn connect_with(url: &str, doc: Doc) -> Self {
        // A joiner's sync step 2 is one frame as large as the board.
        let mut ws_config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
        ws_config.max_frame_size = Some(128 << 20);
        ws_config.max_message_size = Some(128 << 20);
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(ws_config), false).await.expect("connect");
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<WsMessage>();
        tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
        });
        let seen = Arc::new(Mutex::new(Seen::default()));
        let client = Self { doc: doc.clone(), seen: seen.clone(), out: out.clone() };
        let step1 = Message::Sync(SyncMessage::SyncStep1(doc.transact().state_vector())).encode_v1();
        client.send_raw(step1);
        tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                match msg {
                    Ok(WsMessage::Binary(frame)) => handle(&doc, &seen, &out, &frame),
                    Ok(WsMessage::Close(frame)) => {
                        let (code, reason) = frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((u16::from(CloseCode::Status), String::new()));
                        seen.lock().unwrap().closed = Some((code, reason));
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let mut seen = seen.lock().unwrap();
            seen.closed.get_or_insert((1006, String::new()));
        });
        client
    }

    pub fn send_raw(&self, bytes: Vec<u8>) {
        let _ = self.out.send(WsMessage::Binary(bytes.into()));
    }

    /// Edits the local document and sends the update, like a stock client does.
    pub fn edit(&self, f: impl FnOnce(&mut TransactionMut, &MapRef)) {
        let map = self.doc.get_or_insert_map("notes");
        let update = {
            let mut txn = self.doc.transact_mut();
            f(&mut txn, &map);
            txn.encode_update_v1()
        };
        self.send_raw(Message::Sync(SyncMessage::Update(update)).encode_v1());
    }

    pub fn set(&self, key: &str, value: i64) {
        self.edit(|txn, map| {
            map.insert(txn, key.to_string(), value);
        });
    }

    pub fn notes(&self) -> serde_json::Value {
        let map = self.doc.get_or_insert_map("notes");
        let txn = self.doc.transact();
        serde_json::to_value(map.to_json(&txn)).expect("json")
    }

    pub fn keys(&self) -> usize {
        self.doc.get_or_insert_map("notes").len(&self.doc.transact()) as usize
    }

    pub async fn wait_until(&self, what: &str, mut pred: impl FnMut(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !pred(self) {
            if tokio::time::Instant::now() > deadline {
                let mut notes = self.notes().to_string();
                notes.truncate(300);
                panic!("timed out waiting until {what}; notes = {notes}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_synced(&self) {
        self.wait_until("synced", |c| c.seen.lock().unwrap().synced).await;
    }

    pub async fn wait_closed(&self) -> (u16, String) {
        self.wait_until("closed", |c| c.seen.lock().unwrap().closed.is_some()).await;
        self.seen.lock().unwrap().closed.clone().expect("closed")
    }

    pub fn closed(&self) -> Option<(u16, String)> {
        self.seen.lock().unwrap().closed.clone()
    }

    pub fn close(&self) {
        let _ = self.out.send(WsMessage::Close(None));
    }
}

fn handle(doc: &Doc, seen: &Mutex<Seen>, out: &mpsc::UnboundedSender<WsMessage>, frame: &[u8]) {
    // The server sends one message per frame: decode exactly one and require nothing to follow.
    let mut decoder = DecoderV1::new(Cursor::new(frame));
    let msg = Message::decode(&mut decoder).expect("server frame decodes");
    assert_eq!(msg.encode_v1().len(), frame.len(), "server sent more than one message in a frame");
    match msg {
        Message::Sync(SyncMessage::SyncStep1(sv)) => {
            seen.lock().unwrap().sync_order.push("step1");
            let diff = doc.transact().encode_diff_v1(&sv);
            let reply = Message::Sync(SyncMessage::SyncStep2(diff)).encode_v1();
            let _ = out.send(WsMessage::Binary(reply.into()));
        }
        Message::Sync(SyncMessage::SyncStep2(u)) => {
            doc.transact_mut().apply_update(Update::decode_v1(&u).expect("update")).expect("apply");
            let mut seen = seen.lock().unwrap();
            seen.synced = true;
            seen.sync_order.push("step2");
        }
        Message::Sync(SyncMessage::Update(u)) => {
            doc.transact_mut().apply_update(Update::decode_v1(&u).expect("update")).expect("apply");
            seen.lock().unwrap().sync_order.push("update");
        }
        Message::Awareness(a) => seen.lock().unwrap().awareness.push(a),
        Message::Auth(reason) => seen.lock().unwrap().denied.push(reason.unwrap_or_default()),
        Message::Custom(atelier::sync::MSG_SAVED, payload) => {
            let sv = StateVector::decode_v1(&payload).expect("saved payload");
            seen.lock().unwrap().saved.push(sv);
        }
        other => panic!("unexpected message {other:?}"),
    }
}

/// Tries a WebSocket upgrade: 101 when it is accepted (the socket is then closed at once),
/// otherwise the HTTP status and JSON body (Null when not JSON) of the refusal.
pub async fn ws_upgrade_status(url: &str) -> (u16, serde_json::Value) {
    match tokio_tungstenite::connect_async(url).await {
        Ok((mut ws, response)) => {
            let _ = ws.close(None).await;
            (response.status().as_u16(), serde_json::Value::Null)
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(serde_json::Value::Null);
            (response.status().as_u16(), body)
        }
        Err(e) => panic!("upgrade to {url} failed without an HTTP answer: {e}"),
    }
}

/// An awareness (presence) frame announcing `state` (JSON) for `doc`'s client id.
pub fn presence_frame(doc: &Doc, state: &str) -> Vec<u8> {
    let mut awareness = yrs::sync::Awareness::new(doc.clone());
    awareness.set_local_state_raw(state);
    Message::Awareness(awareness.update().expect("awareness update")).encode_v1()
}

/// Peak resident memory of a process, in KB (Linux).
pub fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The shipped binary in a process of its own (so that its memory can be read), on SQLite in
/// `dir`. Killed when dropped.
pub struct ChildServer {
    pub addr: SocketAddr,
    pub pid: u32,
    pub config: ServeConfig,
    _child: tokio::process::Child,
}

impl ChildServer {
    pub async fn start(dir: &tempfile::TempDir) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_atelier"))
            .arg("serve")
            .env("ATELIER_LISTEN", "127.0.0.1:0")
            .env("ATELIER_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next_line().await.unwrap().unwrap();
        let addr: SocketAddr = first.trim_start_matches("listening on http://").parse().unwrap();
        let pid = child.id().unwrap();
        let mut config = config(dir);
        config.listen = addr;
        let deadline = tokio::time::Instant::now() + WAIT;
        while http(addr, "GET", "/readyz", None, None).await.0 != 200 {
            assert!(tokio::time::Instant::now() < deadline, "server not ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self { addr, pid, config, _child: child }
    }
}
