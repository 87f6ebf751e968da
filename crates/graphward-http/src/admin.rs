//! Administration endpoints.
//!
//! * `POST /admin/config/apply`: re-read the config file and apply the settings that can
//!   change at runtime. The HTTP crate knows nothing of the configuration: the binary hands it
//!   a [`ConfigApplier`] in [`crate::HttpState`]. Authorized as `RELOAD CONFIG` by the engine's
//!   table (`QueryEngine::authorize`): ADMIN on every graph, and no graph-scoped token.
//! * `POST /admin/tls/reload[?listener=bolt|http|all]`: the HTTP form of `RELOAD TLS` (and of
//!   `RELOAD BOLT_SERVER TLS` / `RELOAD HTTP_SERVER TLS`). Needs the `TLS MANAGEMENT` DBMS
//!   privilege, decided by the engine's table as that command. Every listener named goes through the same serialized
//!   [`graphward_tls::TlsManager::reload`] as the other triggers: a complete new configuration
//!   is validated and swapped in one step, and a failure leaves the running one in place.

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use graphward_core::commands::{Command, TlsCommand};
use serde::Deserialize;

use crate::error::{codes, ApiError};
use crate::{authorize, peer_of, Shared};

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
pub(crate) async fn config_apply(
    State(app): State<Shared>,
    req: Request,
) -> Result<Response, ApiError> {
    let peer = crate::peer_of(req.extensions());
    // The HTTP form of `RELOAD CONFIG`: decided by the table as that command.
    let principal = crate::authorize(&app, req.headers(), peer, Command::ReloadConfig).await?;
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

#[derive(Debug, Deserialize)]
pub(crate) struct ReloadParams {
    /// `bolt`, `http` or `all` (the default).
    listener: Option<String>,
}

/// `POST /admin/tls/reload`.
pub(crate) async fn tls_reload(
    State(app): State<Shared>,
    Query(params): Query<ReloadParams>,
    req: Request,
) -> Result<Response, ApiError> {
    let (parts, _body) = req.into_parts();
    let wanted = params.listener.as_deref().unwrap_or("all");
    // The HTTP form of `RELOAD [BOLT_SERVER|HTTP_SERVER] TLS`: decided by the table as that
    // command (an unknown listener is authorized as `RELOAD TLS`, then refused with 400).
    let (bolt, http) = match wanted {
        "bolt" => (true, false),
        "http" => (false, true),
        _ => (true, true),
    };
    let command = Command::Tls(TlsCommand::Reload { bolt, http });
    let principal = authorize(&app, &parts.headers, peer_of(&parts.extensions), command).await?;
    if !matches!(wanted, "bolt" | "http" | "all") {
        return Err(ApiError::bad_request(format!(
            "unknown listener {wanted:?}: use bolt, http or all"
        )));
    }
    let targets: Vec<_> = app
        .state
        .tls_managers
        .iter()
        .filter(|m| wanted == "all" || m.listener() == wanted)
        .cloned()
        .collect();
    if targets.is_empty() {
        let message = if wanted == "all" {
            graphward_tls::NO_TLS_RELOAD_MESSAGE.to_string()
        } else {
            format!(
                "{}: the {wanted} listener has no TLS",
                graphward_tls::NO_TLS_RELOAD_MESSAGE
            )
        };
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::TLS_NOT_CONFIGURED,
            message,
        ));
    }
    let mut reloaded = Vec::new();
    let mut failures = Vec::new();
    for m in targets {
        match m.reload_async().await {
            Ok(_) => {
                let info = m.current().info.clone();
                reloaded.push(serde_json::json!({
                    "listener": m.listener(),
                    "fingerprint_sha256": info.fingerprint_sha256,
                    "not_after": info.not_after,
                }));
            }
            Err(e) => failures.push(format!(
                "{} listener: {e} (the previous certificate stays in use)",
                m.listener()
            )),
        }
    }
    tracing::info!(
        user = principal.user.as_deref().unwrap_or("-"),
        listener = wanted,
        failed = failures.len(),
        "TLS reload requested over HTTP"
    );
    if !failures.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::TLS_RELOAD_FAILED,
            format!("TLS reload failed: {}", failures.join("; ")),
        ));
    }
    Ok(crate::json_response(
        StatusCode::OK,
        &serde_json::json!({ "reloaded": reloaded }),
    ))
}
