//! Errors with Neo4j-style status codes.
//!
//! Every error a client can see carries a stable [`ErrorCode`] (rendered as the Neo4j status
//! string, e.g. `Neo.ClientError.Statement.SyntaxError`), a human message, and optionally a
//! `detail` naming the openCypher TCK error detail (e.g. `UndefinedVariable`) and a position
//! in the query text.

use std::fmt;

/// The status codes graphward emits. `as_str` gives the Neo4j status string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    SyntaxError,
    SemanticError,
    TypeError,
    ArgumentError,
    ArithmeticError,
    EntityNotFound,
    ParameterMissing,
    ConstraintValidationFailed,
    ProcedureNotFound,
    DatabaseNotFound,
    DatabaseExists,
    TransactionTimedOut,
    /// The transaction ran out of the time the client asked for (`tx_timeout`).
    TransactionTimedOutClientConfiguration,
    /// A transaction tried to write after another one committed since its snapshot: retry it
    /// (a transient error, which the drivers' managed transactions retry by themselves).
    Outdated,
    /// A bookmark the server did not issue, or cannot read.
    InvalidBookmark,
    /// A bookmark names a commit the database has not reached, and it did not reach it
    /// within the bookmark wait (transient: retry later).
    BookmarkTimeout,
    Terminated,
    /// A transaction could not be started: `CALL { ... } IN TRANSACTIONS` (which starts inner
    /// transactions) outside an implicit (auto-commit) transaction.
    TransactionStartFailed,
    TransactionInvalid,
    ResourceLimit,
    /// A query's memory limit, or the server's memory for all queries, would be exceeded.
    MemoryLimit,
    Unauthorized,
    TokenExpired,
    Forbidden,
    /// Too many failed logins for this user from this address (retry after a delay).
    AuthRateLimit,
    /// The server is at its bound on concurrent password checks or unauthenticated
    /// connections (a transient refusal: retry).
    AuthBusy,
    NotSupported,
    /// The database exists but cannot serve this request right now (offline after a failed
    /// startup check, or refusing writes after a storage failure until it recovers).
    DatabaseUnavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::SyntaxError => "Neo.ClientError.Statement.SyntaxError",
            ErrorCode::SemanticError => "Neo.ClientError.Statement.SemanticError",
            ErrorCode::TypeError => "Neo.ClientError.Statement.TypeError",
            ErrorCode::ArgumentError => "Neo.ClientError.Statement.ArgumentError",
            ErrorCode::ArithmeticError => "Neo.ClientError.Statement.ArithmeticError",
            ErrorCode::EntityNotFound => "Neo.ClientError.Statement.EntityNotFound",
            ErrorCode::ParameterMissing => "Neo.ClientError.Statement.ParameterMissing",
            ErrorCode::ConstraintValidationFailed => {
                "Neo.ClientError.Schema.ConstraintValidationFailed"
            }
            ErrorCode::ProcedureNotFound => "Neo.ClientError.Procedure.ProcedureNotFound",
            ErrorCode::DatabaseNotFound => "Neo.ClientError.Database.DatabaseNotFound",
            ErrorCode::DatabaseExists => "Neo.ClientError.Database.ExistingDatabaseFound",
            ErrorCode::TransactionTimedOut => "Neo.ClientError.Transaction.TransactionTimedOut",
            ErrorCode::TransactionTimedOutClientConfiguration => {
                "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration"
            }
            ErrorCode::Outdated => "Neo.TransientError.Transaction.Outdated",
            ErrorCode::InvalidBookmark => "Neo.ClientError.Transaction.InvalidBookmark",
            ErrorCode::BookmarkTimeout => "Neo.TransientError.Transaction.BookmarkTimeout",
            ErrorCode::Terminated => "Neo.TransientError.Transaction.Terminated",
            ErrorCode::TransactionStartFailed => {
                "Neo.DatabaseError.Transaction.TransactionStartFailed"
            }
            ErrorCode::TransactionInvalid => "Neo.ClientError.Transaction.TransactionNotFound",
            ErrorCode::ResourceLimit => "Neo.ClientError.General.ResourceLimitExceeded",
            ErrorCode::MemoryLimit => "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
            ErrorCode::Unauthorized => "Neo.ClientError.Security.Unauthorized",
            ErrorCode::TokenExpired => "Neo.ClientError.Security.TokenExpired",
            ErrorCode::Forbidden => "Neo.ClientError.Security.Forbidden",
            ErrorCode::AuthRateLimit => "Neo.ClientError.Security.AuthenticationRateLimit",
            ErrorCode::AuthBusy => "Neo.TransientError.Security.AuthenticationBusy",
            ErrorCode::NotSupported => "Neo.ClientError.Statement.FeatureNotSupported",
            ErrorCode::DatabaseUnavailable => "Neo.TransientError.General.DatabaseUnavailable",
            ErrorCode::Internal => "Neo.DatabaseError.General.UnknownError",
        }
    }

    /// The GQLSTATUS code sent to Bolt 5.7+ clients alongside the Neo4j code.
    pub fn gql_status(&self) -> &'static str {
        match self {
            ErrorCode::SyntaxError => "42001",
            ErrorCode::SemanticError => "42N00",
            ErrorCode::TypeError => "22G03",
            ErrorCode::ArgumentError => "22N00",
            ErrorCode::ArithmeticError => "22003",
            ErrorCode::EntityNotFound => "42N00",
            ErrorCode::ParameterMissing => "42N51",
            ErrorCode::ConstraintValidationFailed => "22N41",
            ErrorCode::ProcedureNotFound => "42N08",
            ErrorCode::DatabaseNotFound => "22N51",
            ErrorCode::DatabaseExists => "42N11",
            ErrorCode::TransactionTimedOut => "25N05",
            ErrorCode::TransactionTimedOutClientConfiguration => "25N05",
            ErrorCode::Outdated => "40N01",
            ErrorCode::InvalidBookmark => "08N13",
            ErrorCode::BookmarkTimeout => "08N13",
            ErrorCode::Terminated => "25N05",
            ErrorCode::TransactionStartFailed => "25N17",
            ErrorCode::TransactionInvalid => "25N02",
            ErrorCode::ResourceLimit => "53N00",
            ErrorCode::MemoryLimit => "53N00",
            ErrorCode::Unauthorized => "42NFF",
            ErrorCode::TokenExpired => "42NFF",
            ErrorCode::Forbidden => "42NFF",
            ErrorCode::AuthRateLimit => "42NFF",
            ErrorCode::AuthBusy => "53N00",
            ErrorCode::NotSupported => "0A000",
            ErrorCode::DatabaseUnavailable => "08N09",
            ErrorCode::Internal => "50N00",
        }
    }

    /// Client errors are the caller's fault; the rest are transient or database errors.
    pub fn is_client_error(&self) -> bool {
        self.as_str().starts_with("Neo.ClientError")
    }
}

/// When an error was detected: while compiling the query, or while running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Compile,
    Runtime,
}

/// A position in the query text (1-based line and column, 0-based byte offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

/// An error: its data in one box, so that a `Result` is no larger than its value (the
/// engine passes `Result<Value>` and `Result<()>` along every row, and an error is rare).
/// The fields are read and changed through it ([`ErrorData`]).
#[derive(Clone, PartialEq)]
pub struct Error(Box<ErrorData>);

/// What an [`Error`] says.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorData {
    pub code: ErrorCode,
    pub message: String,
    /// openCypher TCK error detail, e.g. `UndefinedVariable`, `InvalidArgumentType`.
    pub detail: Option<String>,
    pub phase: Phase,
    pub position: Option<Position>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let phase = match code {
            ErrorCode::SyntaxError | ErrorCode::SemanticError => Phase::Compile,
            _ => Phase::Runtime,
        };
        Error(Box::new(ErrorData {
            code,
            message: message.into(),
            detail: None,
            phase,
            position: None,
        }))
    }
    /// The error's data, out of its box (to move a field out).
    pub fn into_data(self) -> ErrorData {
        *self.0
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn with_phase(mut self, phase: Phase) -> Self {
        self.phase = phase;
        self
    }
    pub fn at(mut self, position: Position) -> Self {
        self.position = Some(position);
        self
    }
    pub fn syntax(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::SyntaxError, message)
    }
    pub fn semantic(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::SemanticError, message)
    }
    pub fn type_error(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::TypeError, message)
    }
    pub fn argument(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::ArgumentError, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }
}

impl std::ops::Deref for Error {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("detail", &self.detail)
            .field("phase", &self.phase)
            .field("position", &self.position)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(p) = self.position {
            write!(
                f,
                " (line {}, column {}, offset {})",
                p.line, p.column, p.offset
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
