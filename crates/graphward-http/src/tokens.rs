//! Server-issued tokens, TigerGraph style:
//!
//! * `POST /gsql/v1/tokens` with Basic auth or `{"secret": "..."}`, optional `graph` and
//!   `lifetime` (ms) → `{"token", "expiration", ...}`;
//! * `DELETE /gsql/v1/tokens` with `{"tokens": "t1, t2"}` puts tokens on the caller's block
//!   list; `?clear=true` empties it; `?all=true` refuses every token the caller got until now;
//! * `POST /gsql/v1/tokens/check` with `{"token": "..."}` says whether it is valid, or why not.
//!
//! The work is done by the core [`TokenService`](graphward_core::auth::TokenService)
//! (`graphward-auth`); nothing here ever prints a whole token.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use graphward_core::auth::{
    ClientInfo, Credentials, TokenCheck, TokenRequester, TokenService, TOKEN_DROP_LIMIT,
};
use graphward_core::Error;
use serde_json::{json, Value as J};

use crate::error::{codes, ApiError};
use crate::{authenticate, blocking, json_response, parse_json_body, peer_of, read_body, Shared};

/// Most tokens one drop request may name.
const MAX_TOKENS_PER_DROP: usize = 100;

fn service(app: &Shared) -> Result<Arc<dyn TokenService>, ApiError> {
    app.state.tokens.clone().ok_or_else(|| {
        ApiError::not_found(codes::NOT_FOUND, "server-issued tokens are not enabled")
    })
}

/// Token errors: the drop limit gets its own code and 409; the rest map as usual.
fn api_error(e: Error) -> ApiError {
    if e.detail.as_deref() == Some(TOKEN_DROP_LIMIT) {
        return ApiError::new(
            StatusCode::CONFLICT,
            codes::TOKEN_DROP_LIMIT,
            e.into_data().message,
        );
    }
    ApiError::from(e)
}

fn optional_string(v: &J, key: &str) -> Result<Option<String>, ApiError> {
    match v.get(key) {
        None | Some(J::Null) => Ok(None),
        Some(J::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("`{key}` must be a string"))),
    }
}

/// `lifetime` in milliseconds: a positive integer, or a string of digits.
fn lifetime(v: &J) -> Result<Option<u64>, ApiError> {
    let bad = || ApiError::bad_request("`lifetime` must be a positive number of milliseconds");
    match v.get("lifetime") {
        None | Some(J::Null) => Ok(None),
        Some(J::Number(n)) => n.as_u64().filter(|n| *n > 0).map(Some).ok_or_else(bad),
        Some(J::String(s)) => s
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// `POST /gsql/v1/tokens`
pub(crate) async fn issue(State(app): State<Shared>, req: Request) -> Result<Response, ApiError> {
    let tokens = service(&app)?;
    let (parts, body) = req.into_parts();
    let body = read_body(&app, body).await?;
    let v = parse_json_body(&parts.headers, &body)?;
    if !v.is_object() {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    let graph = optional_string(&v, "graph")?;
    let lifetime = lifetime(&v)?;
    let peer = peer_of(&parts.extensions);
    let requester = match optional_string(&v, "secret")? {
        Some(secret) => TokenRequester::Secret(secret),
        None => {
            if !matches!(
                crate::credentials(&parts.headers),
                Ok(Credentials::Basic { .. })
            ) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    codes::UNAUTHORIZED,
                    "a token is issued for a user name and password (Authorization: Basic) or a secret ({\"secret\": \"...\"})",
                ));
            }
            TokenRequester::Principal(authenticate(&app, &parts.headers, peer.clone()).await?)
        }
    };
    let client = ClientInfo {
        peer: peer.addr,
        protocol: "http",
        client_certificate: None,
    };
    let issued = blocking(move || tokens.issue(&requester, graph.as_deref(), lifetime, &client))
        .await?
        .map_err(api_error)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "error": false,
            "message": "Generate new token successfully.",
            "token": issued.token,
            "expiration": issued.expires_at,
            "issued_at": issued.issued_at,
            "user": issued.user,
            "graph": issued.graph,
        }),
    ))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DropFlags {
    clear: Option<String>,
    all: Option<String>,
}

fn flag(v: &Option<String>, name: &str) -> Result<bool, ApiError> {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(_) => Err(ApiError::bad_request(format!(
            "`{name}` must be true or false"
        ))),
    }
}

/// The tokens named by `{"tokens": "t1, t2"}` (a comma-separated string or a list).
fn token_list(v: &J) -> Result<Vec<String>, ApiError> {
    let list: Vec<String> = match v.get("tokens") {
        Some(J::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        Some(J::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| ApiError::bad_request("`tokens` must hold strings"))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(ApiError::bad_request(
            "the body must be {\"tokens\": \"<token>, <token>\"} (or use ?clear=true / ?all=true)",
        )),
    };
    if list.is_empty() {
        return Err(ApiError::bad_request("`tokens` names no token"));
    }
    if list.len() > MAX_TOKENS_PER_DROP {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_TOKENS_PER_DROP} tokens per request"
        )));
    }
    Ok(list)
}

/// `DELETE /gsql/v1/tokens[?clear=true|?all=true]`
pub(crate) async fn drop_tokens(
    State(app): State<Shared>,
    flags: Result<Query<DropFlags>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let tokens = service(&app)?;
    let Query(flags) =
        flags.map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
    let (clear, all) = (flag(&flags.clear, "clear")?, flag(&flags.all, "all")?);
    let (parts, body) = req.into_parts();
    let principal = authenticate(&app, &parts.headers, peer_of(&parts.extensions)).await?;
    let body = read_body(&app, body).await?;
    // The body must be JSON (or empty) even when the flags make it unused.
    let v = parse_json_body(&parts.headers, &body)?;
    if clear && all {
        return Err(ApiError::bad_request("use either clear=true or all=true"));
    }
    if (clear || all) && v.get("tokens").is_some() {
        return Err(ApiError::bad_request(
            "`tokens` cannot be combined with clear=true or all=true",
        ));
    }
    if all || clear {
        let (message, key, n) = blocking(move || {
            if all {
                tokens.revoke_all(&principal).map(|from| {
                    (
                        "Every token of this user issued until now is refused.",
                        "revoked_before",
                        from,
                    )
                })
            } else {
                tokens.clear_dropped(&principal).map(|n| {
                    (
                        "The block list of this user is empty.",
                        "cleared",
                        i64::try_from(n).unwrap_or(i64::MAX),
                    )
                })
            }
        })
        .await?
        .map_err(api_error)?;
        return Ok(json_response(
            StatusCode::OK,
            &json!({"error": false, "message": message, key: n}),
        ));
    }
    let list = token_list(&v)?;
    let named = list.len();
    let n = blocking(move || tokens.drop_tokens(&principal, &list))
        .await?
        .map_err(api_error)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "error": false,
            "message": "Tokens dropped.",
            "dropped": n,
            "tokens": named,
        }),
    ))
}

/// `POST /gsql/v1/tokens/check` with `{"token": "..."}`. Needs no other credentials: holding
/// the token is what it checks.
pub(crate) async fn check(State(app): State<Shared>, req: Request) -> Result<Response, ApiError> {
    let tokens = service(&app)?;
    let (parts, body) = req.into_parts();
    let body = read_body(&app, body).await?;
    let v = parse_json_body(&parts.headers, &body)?;
    let Some(token) = optional_string(&v, "token")? else {
        return Err(ApiError::bad_request(
            "the body must be {\"token\": \"<token>\"}",
        ));
    };
    let result = blocking(move || tokens.check(&token)).await?;
    let body = match result {
        TokenCheck::Valid {
            user,
            graph,
            expires_at,
        } => json!({
            "valid": true,
            "user": user,
            "graph": graph,
            "expiration": expires_at,
        }),
        TokenCheck::Invalid { code, message } => json!({
            "valid": false,
            "code": code,
            "message": message,
        }),
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bodies_are_checked() {
        assert_eq!(lifetime(&json!({})).ok(), Some(None));
        assert_eq!(lifetime(&json!({"lifetime": 5000})).ok(), Some(Some(5000)));
        assert_eq!(
            lifetime(&json!({"lifetime": "5000"})).ok(),
            Some(Some(5000))
        );
        for bad in [json!(0), json!(-1), json!(1.5), json!("x"), json!([1])] {
            assert!(lifetime(&json!({ "lifetime": bad })).is_err());
        }
        assert_eq!(
            token_list(&json!({"tokens": " a, b ,,c"})).ok(),
            Some(vec!["a".to_string(), "b".into(), "c".into()])
        );
        assert!(token_list(&json!({"tokens": " , "})).is_err());
        assert!(token_list(&json!({"tokens": [1]})).is_err());
        assert!(token_list(&json!({})).is_err());
        assert!(flag(&Some("TRUE".into()), "all").unwrap_or(false));
        assert!(flag(&Some("maybe".into()), "all").is_err());
        let e = api_error(
            Error::new(graphward_core::ErrorCode::ResourceLimit, "x").with_detail(TOKEN_DROP_LIMIT),
        );
        assert_eq!(e.status, StatusCode::CONFLICT);
    }
}
