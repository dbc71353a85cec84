//! Who is calling: passwords, bearer tokens, sessions, login rate limits.
//!
//! Passwords are hashed with argon2id. Tokens are 256 random bits; only their SHA-256 is stored
//! (a fast hash is right for high-entropy secrets, and lets every request find its session with
//! one indexed lookup). A token is a login session or a guest's session on one board.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::store::directory::{Directory, Session, SessionOwner};
use crate::store::StoreError;
use crate::tenancy::{Board, Caller, ProjectRole};

/// How long a login session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Failed logins allowed per account, and per address, within [`LOGIN_WINDOW`].
pub const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
pub const MAX_FAILURES_PER_ADDRESS: u32 = 30;
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh random id (UUIDv7: time-ordered, 74 random bits).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A fresh bearer token.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("atl_{}", hex::encode(bytes))
}

/// What is stored of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with argon2id (slow on purpose: call from a blocking thread).
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Other(format!("password hashing failed: {e}")))
}

/// Checks a password against its argon2 hash (slow on purpose: call from a blocking thread).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to verify against when the account does not exist, so that a login for an unknown
/// email costs the same time as one for a known email.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that never matches").unwrap_or_default())
}

/// Resolves a bearer token to its caller, if the session is live (and, for a guest, if the
/// invite is still usable).
pub async fn authenticate(dir: &dyn Directory, token: &str, now: i64) -> Result<Option<Caller>, StoreError> {
    if !plausible_token(token) {
        return Ok(None);
    }
    Ok(dir.session(&token_hash(token), now).await?.and_then(caller_of))
}

/// [`authenticate`] and the board `board_id` (if it exists, with the caller's membership role
/// in its project) in one store query: what every WebSocket upgrade needs.
pub async fn authenticate_for_board(
    dir: &dyn Directory,
    token: &str,
    board_id: &str,
    now: i64,
) -> Result<Option<(Caller, Option<(Board, Option<ProjectRole>)>)>, StoreError> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let Some((session, board)) = dir.session_and_board(&token_hash(token), board_id, now).await? else {
        return Ok(None);
    };
    Ok(caller_of(session).map(|caller| (caller, board)))
}

fn plausible_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 200
}

fn caller_of(session: Session) -> Option<Caller> {
    match session.owner {
        SessionOwner::User(user) => Some(Caller::User(user)),
        SessionOwner::Guest { guest, tenant_id, invite_usable: true } => {
            Some(Caller::Guest { guest, tenant_id })
        }
        SessionOwner::Guest { invite_usable: false, .. } => None,
    }
}

/// Counts events per key in fixed windows; memory is bounded by pruning expired windows.
struct Windowed<K> {
    window: Duration,
    max: u32,
    counts: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: std::hash::Hash + Eq> Windowed<K> {
    fn new(window: Duration, max: u32) -> Self {
        Self { window, max, counts: Mutex::new(HashMap::new()) }
    }

    /// Whether the key is still under its limit.
    fn allowed(&self, key: &K) -> bool {
        let now = Instant::now();
        self.counts.lock().is_ok_and(|m| {
            m.get(key)
                .is_none_or(|(start, count)| now.duration_since(*start) > self.window || *count < self.max)
        })
    }

    /// Counts one event.
    fn hit(&self, key: K) {
        let now = Instant::now();
        if let Ok(mut map) = self.counts.lock() {
            if map.len() > 100_000 {
                map.retain(|_, (start, _)| now.duration_since(*start) <= self.window);
            }
            let entry = map.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) > self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }

    fn reset(&self, key: &K) {
        if let Ok(mut map) = self.counts.lock() {
            map.remove(key);
        }
    }
}

/// Counts failed logins per account and per address in fixed windows.
pub struct LoginLimiter {
    accounts: Windowed<String>,
    addresses: Windowed<IpAddr>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self {
            accounts: Windowed::new(LOGIN_WINDOW, MAX_FAILURES_PER_ACCOUNT),
            addresses: Windowed::new(LOGIN_WINDOW, MAX_FAILURES_PER_ADDRESS),
        }
    }
}

impl LoginLimiter {
    /// Whether another attempt is allowed now.
    pub fn allowed(&self, email: &str, addr: Option<IpAddr>) -> bool {
        self.accounts.allowed(&email.to_owned()) && addr.is_none_or(|addr| self.addresses.allowed(&addr))
    }

    pub fn failed(&self, email: &str, addr: Option<IpAddr>) {
        self.accounts.hit(email.to_owned());
        if let Some(addr) = addr {
            self.addresses.hit(addr);
        }
    }

    pub fn succeeded(&self, email: &str) {
        self.accounts.reset(&email.to_owned());
    }
}

/// WebSocket joins a guest may make per minute. Keyed on the guest, never on the address: a
/// public evening puts hundreds of people behind one venue address. The stock client
/// reconnects at most every 2.5 s (24 a minute), so a flaky connection stays under it.
pub const MAX_GUEST_JOINS_PER_MINUTE: u32 = 60;

/// Limits how often each guest opens a connection.
pub struct GuestJoins(Windowed<String>);

impl Default for GuestJoins {
    fn default() -> Self {
        Self(Windowed::new(Duration::from_secs(60), MAX_GUEST_JOINS_PER_MINUTE))
    }
}

impl GuestJoins {
    /// Counts a join of `guest_id`; false if the guest is over its limit.
    pub fn take(&self, guest_id: &str) -> bool {
        let key = guest_id.to_owned();
        if !self.0.allowed(&key) {
            return false;
        }
        self.0.hit(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "wrong"));
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert!(!token_hash(&a).contains(&a));
    }

    #[test]
    fn login_limits_per_account_and_address() {
        let limiter = LoginLimiter::default();
        let addr: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..MAX_FAILURES_PER_ACCOUNT {
            assert!(limiter.allowed("a@x", Some(addr)));
            limiter.failed("a@x", Some(addr));
        }
        assert!(!limiter.allowed("a@x", Some(addr)));
        assert!(limiter.allowed("b@x", Some(addr)), "another account from the same address");
    }

    #[test]
    fn guest_joins_are_limited_per_guest() {
        let joins = GuestJoins::default();
        for _ in 0..MAX_GUEST_JOINS_PER_MINUTE {
            assert!(joins.take("g1"));
        }
        assert!(!joins.take("g1"));
        assert!(joins.take("g2"), "another guest (behind the same address) is not affected");
    }
}
