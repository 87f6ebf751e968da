//! The narrow authentication interface shared by every protocol (Bolt, HTTP).
//!
//! Protocol crates turn what the client sent (a Bolt HELLO/LOGON auth map, an HTTP
//! `Authorization` header, a verified TLS client certificate) into [`Credentials`] and ask an
//! [`Authenticator`] for a [`Principal`]. The implementation lives in `graphward-auth`.

use std::net::SocketAddr;

use crate::engine::Principal;
use crate::error::Result;

/// What a client presented.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials (Bolt scheme `none`, or no `Authorization` header).
    None,
    Basic {
        user: String,
        password: String,
    },
    /// A JWT bearer token.
    Bearer {
        token: String,
    },
    /// A client certificate the TLS layer verified; `names` are its subject CN and SANs.
    ClientCertificate {
        names: Vec<String>,
    },
}

impl std::fmt::Debug for Credentials {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => write!(f, "None"),
            Credentials::Basic { user, .. } => {
                write!(f, "Basic {{ user: {user:?}, password: **** }}")
            }
            Credentials::Bearer { token } => write!(f, "Bearer {{ token: {} }}", mask_token(token)),
            Credentials::ClientCertificate { names } => {
                write!(f, "ClientCertificate {{ names: {names:?} }}")
            }
        }
    }
}

/// Mask a token for logs and error messages: first 4 and last 4 characters (`eyJh****4WgE`).
pub fn mask_token(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() <= 12 {
        return "****".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Where a request comes from (for rate limiting and logs).
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub peer: Option<SocketAddr>,
    /// `bolt`, `http`, ...
    pub protocol: &'static str,
    /// The names (subject CN, DNS and e-mail SANs) of the client certificate the TLS layer
    /// verified on this connection, if any. A client that sends no other credentials is
    /// authenticated as the first name that is a user.
    pub client_certificate: Option<Vec<String>>,
}

/// A server-wide (DBMS) privilege, granted apart from the per-graph levels
/// (`GRANT TLS MANAGEMENT ON DBMS TO name`). ADMIN on every graph includes all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DbmsPrivilege {
    /// `RELOAD ... TLS`, `SHOW TLS`, `POST /admin/tls/reload`.
    TlsManagement,
}

impl DbmsPrivilege {
    /// Every DBMS privilege, for parsing and listing.
    pub const ALL: [DbmsPrivilege; 1] = [DbmsPrivilege::TlsManagement];

    /// The name as written in GRANT/REVOKE and shown by SHOW PRIVILEGES (`TLS MANAGEMENT`).
    pub fn as_str(&self) -> &'static str {
        match self {
            DbmsPrivilege::TlsManagement => "TLS MANAGEMENT",
        }
    }
}

/// Authenticates clients. Implementations may block (password hashing costs tens of
/// milliseconds by design): async callers must use a blocking thread pool.
pub trait Authenticator: Send + Sync + 'static {
    /// Authenticate; `Err` with `Unauthorized` (or `TokenExpired`) and a message that never
    /// contains the whole token or the password.
    fn authenticate(&self, credentials: &Credentials, client: &ClientInfo) -> Result<Principal>;

    /// Re-check a principal authenticated earlier (a token may have expired or been blocked
    /// since). Called at each BEGIN and auto-commit RUN on Bolt.
    fn recheck(&self, principal: &Principal) -> Result<()> {
        let _ = principal;
        Ok(())
    }

    /// Whether the principal holds a DBMS privilege now (checked at each use, so a REVOKE
    /// takes effect at once). The default allows superusers only.
    fn allows(&self, principal: &Principal, privilege: DbmsPrivilege) -> bool {
        let _ = privilege;
        principal.superuser
    }
}
