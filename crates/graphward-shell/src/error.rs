//! Errors of the shell, each worded so that a person knows what to do next.

use std::fmt;

use crate::client::ServerError;

const UNAUTHORIZED: &str = "Neo.ClientError.Security.Unauthorized";
const TOKEN_EXPIRED: &str = "Neo.ClientError.Security.TokenExpired";

#[derive(Debug)]
pub enum ShellError {
    /// Could not reach or set up the server connection (TCP, TLS, handshake); the message
    /// says what to change.
    Connect(String),
    /// The server refused the credentials.
    Auth(ServerError),
    /// A statement or command failed on the server.
    Server(ServerError),
    /// The server said something this client does not understand.
    Protocol(String),
    /// The connection broke.
    ConnectionLost(String),
    /// Ctrl-C stopped the query (RESET sent; the connection is usable).
    Interrupted,
    /// A shell command was used wrongly (nothing was sent).
    Usage(String),
}

impl ShellError {
    pub(crate) fn lost(e: std::io::Error) -> ShellError {
        ShellError::ConnectionLost(e.to_string())
    }

    /// A failure answering HELLO/LOGON is an authentication problem.
    pub(crate) fn into_auth(self) -> ShellError {
        match self {
            ShellError::Server(e) => ShellError::Auth(e),
            other => other,
        }
    }

    /// The Neo4j status code, when the server gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ShellError::Auth(e) | ShellError::Server(e) => Some(&e.code),
            _ => None,
        }
    }

    /// Whether the connection must be opened again before going on.
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            ShellError::ConnectionLost(_) | ShellError::Protocol(_) | ShellError::Connect(_)
        )
    }
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShellError::Connect(m) => f.write_str(m),
            ShellError::Auth(e) if e.code == TOKEN_EXPIRED => write!(
                f,
                "token expired: get a new token and pass it with --token-file ({}: {})",
                e.code, e.message
            ),
            ShellError::Auth(e) if e.code == UNAUTHORIZED => write!(
                f,
                "authentication failed: {} ({}); check --username/--password or the token",
                e.message, e.code
            ),
            ShellError::Auth(e) => write!(f, "authentication failed: {}: {}", e.code, e.message),
            ShellError::Server(e) => write!(f, "{}: {}", e.code, e.message),
            ShellError::Protocol(m) => write!(f, "protocol error: {m}"),
            ShellError::ConnectionLost(m) => write!(f, "connection lost: {m}"),
            ShellError::Interrupted => f.write_str("query interrupted"),
            ShellError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ShellError {}
