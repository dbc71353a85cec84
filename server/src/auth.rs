//! Who is connecting. Until accounts, tenants and roles exist, a connection's token *names* its
//! principal: the same token is the same participant (so a reconnecting client keeps its Yjs
//! client ids), different tokens are different participants, and every participant may edit.
//! The token is hashed before it is used anywhere, so it is never stored or logged in clear.

use sha2::{Digest, Sha256};

use crate::sync::{Principal, Role};

/// Longest token accepted, in bytes.
const MAX_TOKEN: usize = 512;

/// Why a connection was not authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("a token is required (?token=...)")]
    MissingToken,
    #[error("the token is not valid")]
    BadToken,
}

/// Resolves the `token` query parameter of a WebSocket connection.
pub fn authorise(token: Option<&str>) -> Result<(Principal, Role), AuthError> {
    let token = token.filter(|t| !t.is_empty()).ok_or(AuthError::MissingToken)?;
    if token.len() > MAX_TOKEN {
        return Err(AuthError::BadToken);
    }
    let digest = Sha256::digest(token.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Ok((Principal::new(format!("token:{hex}")), Role::Editor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_token_same_principal_and_never_in_clear() {
        let (a, _) = authorise(Some("secret-a")).expect("ok");
        let (a2, _) = authorise(Some("secret-a")).expect("ok");
        let (b, _) = authorise(Some("secret-b")).expect("ok");
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert!(!a.as_str().contains("secret"));
        assert_eq!(authorise(None).err(), Some(AuthError::MissingToken));
        assert_eq!(authorise(Some("")).err(), Some(AuthError::MissingToken));
    }
}
