//! One error shape for the whole API: `{"errors":[{"code":"...","message":"..."}]}` with an
//! HTTP status that fits the code. Engine errors keep their Neo4j status code; errors the HTTP
//! layer detects itself use codes in the same namespace (`Neo.ClientError.Request.*`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use graphward_core::{Error, ErrorCode};

/// Codes of errors found by the HTTP layer (documented in `openapi.json`).
pub mod codes {
    pub const INVALID: &str = "Neo.ClientError.Request.Invalid";
    pub const INVALID_FORMAT: &str = "Neo.ClientError.Request.InvalidFormat";
    pub const NOT_FOUND: &str = "Neo.ClientError.Request.NotFound";
    pub const METHOD_NOT_ALLOWED: &str = "Neo.ClientError.Request.MethodNotAllowed";
    pub const PAYLOAD_TOO_LARGE: &str = "Neo.ClientError.Request.PayloadTooLarge";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "Neo.ClientError.Request.UnsupportedMediaType";
    pub const TOO_MANY_TRANSACTIONS: &str = "Neo.TransientError.Request.TooManyRequests";
    pub const AUTH_RATE_LIMIT: &str = "Neo.ClientError.Security.AuthenticationRateLimit";
    pub const TRANSACTION_NOT_FOUND: &str = "Neo.ClientError.Transaction.TransactionNotFound";
    pub const TRANSACTION_IN_USE: &str = "Neo.ClientError.Transaction.TransactionInUse";
    pub const QUERY_NOT_FOUND: &str = "Neo.ClientError.Procedure.StoredQueryNotFound";
    pub const RESULT_TOO_LARGE: &str = "Neo.ClientError.General.ResultTooLarge";
    pub const UNAUTHORIZED: &str = "Neo.ClientError.Security.Unauthorized";
    pub const FORBIDDEN: &str = "Neo.ClientError.Security.Forbidden";
    /// A token drop refused because the caller's block list is full (`GSQL.Token.DropLimit`).
    pub const TOKEN_DROP_LIMIT: &str = "Neo.ClientError.Security.TokenDropLimitExceeded";
    pub const INTERNAL: &str = "Neo.DatabaseError.General.UnknownError";
    pub const TLS_NOT_CONFIGURED: &str = "Graphward.ClientError.Tls.NotConfigured";
    pub const TLS_RELOAD_FAILED: &str = "Graphward.ClientError.Tls.ReloadFailed";
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::INVALID, message)
    }
    pub fn bad_format(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, codes::INVALID_FORMAT, message)
    }
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, codes::INTERNAL, message)
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::json!({"errors": [{"code": self.code, "message": self.message}]}).to_string()
    }
}

/// The HTTP status of an engine error.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthorized | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        // Throttled logins are refused logins: 401 (clients re-prompt for credentials), told
        // apart by the code `Neo.ClientError.Security.AuthenticationRateLimit` and Retry-After.
        ErrorCode::AuthRateLimit => StatusCode::UNAUTHORIZED,
        ErrorCode::AuthBusy => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::DatabaseNotFound | ErrorCode::TransactionInvalid => StatusCode::NOT_FOUND,
        ErrorCode::DatabaseExists | ErrorCode::Outdated => StatusCode::CONFLICT,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let e = e.into_data();
        ApiError {
            status: status_of(e.code),
            code: e.code.as_str().to_string(),
            message: e.message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.body()).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"graphward\", Bearer"),
            );
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS || self.code == codes::AUTH_RATE_LIMIT {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_statuses() {
        let e: ApiError = Error::syntax("bad").into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code, "Neo.ClientError.Statement.SyntaxError");
        let e: ApiError = Error::new(ErrorCode::DatabaseNotFound, "x").into();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let e: ApiError = Error::new(ErrorCode::TokenExpired, "x").into();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        let v: serde_json::Value = serde_json::from_str(&e.body()).unwrap_or_default();
        assert_eq!(
            v["errors"][0]["code"],
            "Neo.ClientError.Security.TokenExpired"
        );
    }
}
