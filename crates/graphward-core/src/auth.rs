//! The narrow authentication interface shared by every protocol (Bolt, HTTP).
//!
//! Protocol crates turn what the client sent (a Bolt HELLO/LOGON auth map, an HTTP
//! `Authorization` header, a verified TLS client certificate) into [`Credentials`] and ask an
//! [`Authenticator`] for a [`Principal`]. The implementation lives in `graphward-auth`;
//! [`AllowAll`] is the one allow-all (authentication disabled, tests).

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
    /// `GET /metrics` (the Prometheus scrape): the figures name every database, the open
    /// transactions and the certificates' expiry, so reading them is a privilege of its own.
    Metrics,
}

impl DbmsPrivilege {
    /// Every DBMS privilege, for parsing and listing.
    pub const ALL: [DbmsPrivilege; 2] = [DbmsPrivilege::TlsManagement, DbmsPrivilege::Metrics];

    /// The name as written in GRANT/REVOKE and shown by SHOW PRIVILEGES (`TLS MANAGEMENT`).
    pub fn as_str(&self) -> &'static str {
        match self {
            DbmsPrivilege::TlsManagement => "TLS MANAGEMENT",
            DbmsPrivilege::Metrics => "METRICS",
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
    /// takes effect at once). The default allows no one.
    fn allows(&self, principal: &Principal, privilege: DbmsPrivilege) -> bool {
        let _ = (principal, privilege);
        false
    }
}

/// The one authenticator that lets everyone in with every right: a server started with
/// `--auth-disabled` (`graphward-auth`'s `AuthService` answers with it) and tests, over Bolt
/// and HTTP alike. The principal's user is the Basic user name, if one was given (it is not
/// checked), so explicit transactions still belong to whoever opened them.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Authenticator for AllowAll {
    fn authenticate(&self, credentials: &Credentials, _client: &ClientInfo) -> Result<Principal> {
        let user = match credentials {
            Credentials::Basic { user, .. } => Some(user.clone()),
            _ => None,
        };
        Ok(Principal {
            user,
            ..Principal::default()
        })
    }

    fn allows(&self, _principal: &Principal, _privilege: DbmsPrivilege) -> bool {
        true
    }
}

/// A token the server issued. `Debug` masks the token.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub user: String,
    pub graph: Option<String>,
    /// `iat` and `exp`, seconds since the epoch.
    pub issued_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &mask_token(&self.token))
            .field("user", &self.user)
            .field("graph", &self.graph)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Who asks for a token: a principal authenticated by password, or a user secret.
#[derive(Clone)]
pub enum TokenRequester {
    Principal(Principal),
    Secret(String),
}

impl std::fmt::Debug for TokenRequester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRequester::Principal(p) => write!(f, "Principal({:?})", p.user),
            TokenRequester::Secret(_) => write!(f, "Secret(****)"),
        }
    }
}

/// The answer of a token check. Never holds the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    Valid {
        user: String,
        graph: Option<String>,
        expires_at: i64,
    },
    /// `code` is the refusal code (`JWT-EXPIRATION`, `JWT-BLOCKED`, ...); `message` shows the
    /// token masked.
    Invalid { code: String, message: String },
}

/// The error detail (`Error::detail`) of a drop refused because the caller's block list is full.
pub const TOKEN_DROP_LIMIT: &str = "TOKEN-DROP-LIMIT";

/// Server-issued tokens and the block list (the HTTP `/gsql/v1/tokens` endpoints). Methods may
/// block: async callers must use a blocking thread pool.
pub trait TokenService: Send + Sync + 'static {
    /// Issue a token for the requester, optionally limited to `graph`, living `lifetime_ms`
    /// (the server's default when `None`).
    fn issue(
        &self,
        requester: &TokenRequester,
        graph: Option<&str>,
        lifetime_ms: Option<u64>,
        client: &ClientInfo,
    ) -> Result<IssuedToken>;
    /// Put tokens on their users' block lists (a caller may drop only its own tokens unless
    /// it is an administrator). Returns how many entries were added. A drop that would
    /// overfill a block list fails with detail [`TOKEN_DROP_LIMIT`] and changes nothing.
    fn drop_tokens(&self, caller: &Principal, tokens: &[String]) -> Result<usize>;
    /// Empty the caller's block list; returns how many live entries it held.
    fn clear_dropped(&self, caller: &Principal) -> Result<usize>;
    /// Refuse every token of the caller issued up to now; returns the time (seconds since
    /// the epoch) from which tokens are accepted again.
    fn revoke_all(&self, caller: &Principal) -> Result<i64>;
    /// Is this token valid now, and if not, why.
    fn check(&self, token: &str) -> TokenCheck;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Denies everything it is not told to allow: the trait's defaults.
    struct Minimal;

    impl Authenticator for Minimal {
        fn authenticate(&self, _: &Credentials, _: &ClientInfo) -> Result<Principal> {
            Ok(Principal::default())
        }
    }

    #[test]
    fn allow_all_names_the_basic_user_and_allows_every_dbms_privilege() {
        let client = ClientInfo::default();
        let basic = Credentials::Basic {
            user: "ann".into(),
            password: "anything".into(),
        };
        let p = AllowAll.authenticate(&basic, &client).ok();
        assert_eq!(p.as_ref().and_then(|p| p.user.as_deref()), Some("ann"));
        let anonymous = AllowAll.authenticate(&Credentials::None, &client).ok();
        assert_eq!(anonymous.as_ref().map(|p| p.user.is_none()), Some(true));
        let p = p.unwrap_or_default();
        assert!(AllowAll.recheck(&p).is_ok());
        for privilege in DbmsPrivilege::ALL {
            assert!(AllowAll.allows(&p, privilege));
            // The default allows no one: rights come from the implementation's store.
            assert!(!Minimal.allows(&p, privilege));
        }
    }
}
