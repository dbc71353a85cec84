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

use crate::store::directory::{Directory, SessionOwner};
use crate::store::StoreError;
use crate::tenancy::Caller;

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
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let Some(session) = dir.session(&token_hash(token), now).await? else { return Ok(None) };
    Ok(match session.owner {
        SessionOwner::User(user) => Some(Caller::User(user)),
        SessionOwner::Guest { guest, tenant_id, invite_usable: true } => {
            Some(Caller::Guest { guest, tenant_id })
        }
        SessionOwner::Guest { invite_usable: false, .. } => None,
    })
}

/// Counts failed logins per account and per address in fixed windows.
#[derive(Default)]
pub struct LoginLimiter {
    accounts: Mutex<HashMap<String, (Instant, u32)>>,
    addresses: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginLimiter {
    /// Whether another attempt is allowed now.
    pub fn allowed(&self, email: &str, addr: Option<IpAddr>) -> bool {
        let now = Instant::now();
        let under = |entry: Option<&(Instant, u32)>, max| {
            entry.is_none_or(|(start, count)| now.duration_since(*start) > LOGIN_WINDOW || *count < max)
        };
        let account_ok =
            self.accounts.lock().map(|m| under(m.get(email), MAX_FAILURES_PER_ACCOUNT)).unwrap_or(false);
        let address_ok = match addr {
            Some(addr) => {
                self.addresses.lock().map(|m| under(m.get(&addr), MAX_FAILURES_PER_ADDRESS)).unwrap_or(false)
            }
            None => true,
        };
        account_ok && address_ok
    }

    pub fn failed(&self, email: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        fn bump<K: std::hash::Hash + Eq>(map: &Mutex<HashMap<K, (Instant, u32)>>, key: K, now: Instant) {
            if let Ok(mut map) = map.lock() {
                if map.len() > 100_000 {
                    map.retain(|_, (start, _)| now.duration_since(*start) <= LOGIN_WINDOW);
                }
                let entry = map.entry(key).or_insert((now, 0));
                if now.duration_since(entry.0) > LOGIN_WINDOW {
                    *entry = (now, 0);
                }
                entry.1 += 1;
            }
        }
        bump(&self.accounts, email.to_owned(), now);
        if let Some(addr) = addr {
            bump(&self.addresses, addr, now);
        }
    }

    pub fn succeeded(&self, email: &str) {
        if let Ok(mut map) = self.accounts.lock() {
            map.remove(email);
        }
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
}
