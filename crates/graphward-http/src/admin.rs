//! Administration endpoints: `POST /admin/config/apply` (re-read the config file and apply the
//! settings that can change at runtime).
//!
//! The HTTP crate knows nothing of the configuration: the binary hands it a
//! [`ConfigApplier`] in [`crate::HttpState`]. Only a principal with ADMIN on every graph (and
//! no graph-scoped token) may call these.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::Shared;

/// Code of a configuration that was refused (nothing changed).
pub const CONFIG_INVALID: &str = "Graphward.ClientError.Config.Invalid";

/// What a `config apply` did.
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    /// False when the new configuration was refused (then nothing changed).
    pub ok: bool,
    /// The report, one entry per setting (`applied`, `unchanged`, `needs-restart`, `error`).
    pub report: serde_json::Value,
    /// When refused: the sentence for the operator (names the key and why).
    pub error: Option<String>,
}

/// Re-reads the configuration and applies it; implemented by the binary. Blocks (file reads,
/// key fetches): called on the blocking pool.
pub trait ConfigApplier: Send + Sync + 'static {
    fn apply(&self) -> ApplyOutcome;
}

/// `POST /admin/config/apply`.
pub(crate) async fn config_apply(State(app): State<Shared>, req: Request) -> Response {
    match config_apply_inner(app, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn config_apply_inner(app: Shared, req: Request) -> Result<Response, ApiError> {
    let peer = crate::peer_of(req.extensions());
    let principal = crate::authenticate(&app, req.headers(), peer).await?;
    if !principal.superuser || principal.graph_scope.is_some() {
        return Err(ApiError::forbidden(
            "applying the configuration needs ADMIN ON GRAPH * (and a token not limited to one graph)",
        ));
    }
    let Some(applier) = app.state.config_applier.clone() else {
        return Err(ApiError::not_found(
            crate::error::codes::NOT_FOUND,
            "configuration reload is not available on this server",
        ));
    };
    let user = principal.user.clone().unwrap_or_default();
    let outcome = crate::blocking(move || applier.apply()).await?;
    tracing::info!(user = %user, ok = outcome.ok, "config apply requested over HTTP");
    let mut body = outcome.report;
    if let (Some(message), Some(obj)) = (outcome.error, body.as_object_mut()) {
        obj.insert(
            "errors".to_string(),
            serde_json::json!([{"code": CONFIG_INVALID, "message": message}]),
        );
    }
    let status = if outcome.ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(crate::json_response(status, &body))
}
