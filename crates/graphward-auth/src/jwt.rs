//! JWT bearer tokens: verification (RFC 8725 pipeline) and the refusal categories.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use graphward_core::auth::mask_token;
use graphward_core::engine::{Principal, TokenRef};
use graphward_core::{Error, ErrorCode, Result};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value as Json;

use crate::service::AuthService;
use crate::store::UserRecord;

/// Why a token was refused. Each kind has a stable code, documented in docs/auth.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    Format,
    Verification,
    Expiration,
    NotYetValid,
    Issuer,
    Audience,
    UserDoesNotExist,
    GraphDoesNotExist,
    GraphScope,
    Blocked,
    Other,
}

impl RefusalKind {
    /// The stable code (also the category name in messages).
    pub fn code(&self) -> &'static str {
        match self {
            RefusalKind::Format => "JWT-FORMAT",
            RefusalKind::Verification => "JWT-VERIFICATION",
            RefusalKind::Expiration => "JWT-EXPIRATION",
            RefusalKind::NotYetValid => "JWT-NOT-YET-VALID",
            RefusalKind::Issuer => "JWT-ISSUER",
            RefusalKind::Audience => "JWT-AUDIENCE",
            RefusalKind::UserDoesNotExist => "JWT-USER-DOES-NOT-EXIST",
            RefusalKind::GraphDoesNotExist => "JWT-GRAPH-DOES-NOT-EXIST",
            RefusalKind::GraphScope => "JWT-GRAPH-SCOPE",
            RefusalKind::Blocked => "JWT-BLOCKED",
            RefusalKind::Other => "JWT-OTHER",
        }
    }
    pub fn title(&self) -> &'static str {
        match self {
            RefusalKind::Format => "Format",
            RefusalKind::Verification => "Verification",
            RefusalKind::Expiration => "Expiration",
            RefusalKind::NotYetValid => "Not yet valid",
            RefusalKind::Issuer => "Issuer",
            RefusalKind::Audience => "Audience",
            RefusalKind::UserDoesNotExist => "User does not exist",
            RefusalKind::GraphDoesNotExist => "Graph does not exist",
            RefusalKind::GraphScope => "Graph scope",
            RefusalKind::Blocked => "Blocked",
            RefusalKind::Other => "Other",
        }
    }
}

/// A refused token: its category and a detail that never contains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub detail: String,
}

impl Refusal {
    pub fn new(kind: RefusalKind, detail: impl Into<String>) -> Self {
        Refusal {
            kind,
            detail: detail.into(),
        }
    }
    pub fn other(detail: impl Into<String>) -> Self {
        Refusal::new(RefusalKind::Other, detail)
    }
    /// The message clients and logs see: category, code, masked token, detail.
    pub fn message(&self, token: &str) -> String {
        format!(
            "Token refused ({}, {}): {} [token {}]",
            self.kind.title(),
            self.kind.code(),
            self.detail,
            mask_token(token)
        )
    }
    /// As a core error: `TokenExpired` for an expired token, `Unauthorized` otherwise.
    pub fn into_error(self, token: &str) -> Error {
        let code = match self.kind {
            RefusalKind::Expiration => ErrorCode::TokenExpired,
            _ => ErrorCode::Unauthorized,
        };
        Error::new(code, self.message(token)).with_detail(self.kind.code())
    }
}

/// Default largest token accepted (bytes), checked before any decoding.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 16 * 1024;
/// Default longest lifetime of an external token (`Security.JWT.MaxLifetime`): 24 hours.
pub const DEFAULT_MAX_LIFETIME: u64 = 24 * 3600;
/// Largest NumericDate accepted in `exp`, `nbf`, `iat`: 9999-12-31T23:59:59Z.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;
/// Default clock leeway, and the most that may be configured.
pub const DEFAULT_LEEWAY: u64 = 60;
pub const MAX_LEEWAY: u64 = 300;
/// How often the JWKS is refreshed, and how soon an unknown `kid` may trigger a refetch.
const JWKS_REFRESH: Duration = Duration::from_secs(600);
const JWKS_UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(60);
/// Most verified tokens remembered.
const CACHE_CAPACITY: usize = 10_000;

/// The JWT settings (`Security.JWT.*`). Key values are given as content, `@path`, or an
/// `https://` URL.
#[derive(Clone, Default)]
pub struct JwtConfig {
    pub hmac_secret: Option<String>,
    pub public_key: Option<String>,
    pub jwks_url: Option<String>,
    pub issuer: Option<String>,
    /// Accepted audiences (the token's `aud` must contain one of them).
    pub audience: Vec<String>,
    /// Clock leeway in seconds (at most 300).
    pub leeway: u64,
    /// Longest accepted `exp - iat` (`exp - now` without `iat`), in seconds. The server's
    /// setting defaults to [`DEFAULT_MAX_LIFETIME`].
    pub max_lifetime: Option<u64>,
    /// Refuse ECDSA signatures whose `s` is in the upper half of the curve order (low-s
    /// only). Off by default: common issuers (PyJWT, OpenSSL-based signers) do not normalise
    /// and about half their ES256 tokens are high-s. The block list does not depend on it: a
    /// token's identity is its signed part, so an `(r, n-s)` twin is the same token.
    pub require_low_s: bool,
    pub max_token_size: usize,
    /// CA file for https key URLs (else `SSL_CA_CERT`, else the system roots).
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field(
                "hmac_secret",
                &self.hmac_secret.as_ref().map(|s| shown_source(s)),
            )
            .field(
                "public_key",
                &self.public_key.as_ref().map(|s| shown_source(s)),
            )
            .field("jwks_url", &self.jwks_url)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("max_lifetime", &self.max_lifetime)
            .field("require_low_s", &self.require_low_s)
            .field("max_token_size", &self.max_token_size)
            .finish()
    }
}

/// How a key setting may be shown: a path or a URL, never inline content.
fn shown_source(s: &str) -> String {
    if s.starts_with('@') || s.starts_with("https://") {
        s.to_string()
    } else {
        "(inline, hidden)".to_string()
    }
}

impl JwtConfig {
    pub fn is_configured(&self) -> bool {
        self.hmac_secret.is_some() || self.public_key.is_some() || self.jwks_url.is_some()
    }
}

/// A key bound to one algorithm family, and the algorithms it accepts.
#[derive(Clone)]
struct Key {
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
    /// Where the key came from, for messages.
    origin: String,
}

/// Read a key setting: content, `@path`, or an https URL.
fn load_source(value: &str, ca: Option<&std::path::Path>) -> std::result::Result<Vec<u8>, String> {
    if let Some(path) = value.strip_prefix('@') {
        std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
    } else if value.starts_with("https://") {
        crate::fetch::get(value, ca)
    } else if value.starts_with("http://") {
        Err("key URLs must use https://".to_string())
    } else {
        Ok(value.as_bytes().to_vec())
    }
}

fn hmac_key(secret: &[u8], origin: &str) -> std::result::Result<Key, String> {
    let secret = trim_newline(secret);
    // The hash output sizes: HS256 32 bytes, HS384 48, HS512 64.
    let algorithms: Vec<Algorithm> = [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ]
    .into_iter()
    .filter(|(_, n)| secret.len() >= *n)
    .map(|(a, _)| a)
    .collect();
    if algorithms.is_empty() {
        return Err(format!(
            "the HMAC secret ({origin}) is {} bytes; at least 32 bytes (the SHA-256 output) are required",
            secret.len()
        ));
    }
    Ok(Key {
        key: DecodingKey::from_secret(secret),
        algorithms,
        origin: origin.to_string(),
    })
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &b[..end]
}

/// A PEM public key: RSA (RS*, PS*), EC (ES256/ES384) or Ed25519 (EdDSA).
fn public_key(pem: &[u8], origin: &str) -> std::result::Result<Key, String> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("PRIVATE KEY") {
        return Err(format!(
            "{origin} holds a private key; configure the public key only"
        ));
    }
    use jsonwebtoken::AlgorithmFamily as F;
    type Loader = fn(&[u8]) -> jsonwebtoken::errors::Result<DecodingKey>;
    let tries: [(Loader, F); 3] = [
        (DecodingKey::from_rsa_pem, F::Rsa),
        (DecodingKey::from_ec_pem, F::Ec),
        (DecodingKey::from_ed_pem, F::Ed),
    ];
    for (f, family) in tries {
        if let Ok(key) = f(pem) {
            return Ok(Key {
                key,
                algorithms: family.algorithms().to_vec(),
                origin: origin.to_string(),
            });
        }
    }
    Err(format!(
        "{origin} is not a PEM public key (RSA, EC P-256/P-384 or Ed25519)"
    ))
}

/// The keys of a JWKS document, by `kid`. Symmetric (`oct`) keys are not taken from a URL.
fn parse_jwks(body: &[u8]) -> std::result::Result<HashMap<String, Key>, String> {
    let set: JwkSet =
        serde_json::from_slice(body).map_err(|e| format!("the JWKS is not valid: {e}"))?;
    let mut out = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let family: Vec<Algorithm> = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => jsonwebtoken::AlgorithmFamily::Rsa.algorithms().to_vec(),
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => vec![Algorithm::ES256],
                EllipticCurve::P384 => vec![Algorithm::ES384],
                _ => continue,
            },
            AlgorithmParameters::OctetKeyPair(_) => vec![Algorithm::EdDSA],
            AlgorithmParameters::OctetKey(_) => continue,
        };
        // A key that names its algorithm accepts that one only.
        let algorithms = match jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok())
        {
            Some(a) if family.contains(&a) => vec![a],
            Some(_) => continue,
            None => family,
        };
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        out.insert(
            kid.clone(),
            Key {
                key,
                algorithms,
                origin: format!("JWKS kid {kid:?}"),
            },
        );
    }
    Ok(out)
}

struct Jwks {
    url: String,
    keys: HashMap<String, Key>,
    fetched: Option<Instant>,
    last_attempt: Option<Instant>,
}

/// One verified token, remembered until it expires.
#[derive(Clone)]
struct Cached {
    principal: Principal,
}

/// What [`JwtVerifier::inspect`] learns from a token whose signature verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedToken {
    pub user: String,
    pub expires_at: i64,
    pub digest: String,
}

/// Verifies bearer tokens against the configured keys. Shared by Bolt and HTTP.
pub struct JwtVerifier {
    config: JwtConfig,
    /// Keys without a `kid` (the configured HMAC secret and public key).
    static_keys: Vec<Key>,
    jwks: Option<Mutex<Jwks>>,
    cache: RwLock<HashMap<String, Cached>>,
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Hex SHA-256 of the whole token text (the verified-token cache: a hit must be the very
/// text that verified, signature included).
pub fn digest(token: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A token's identity for the block list: the hex SHA-256 of its signed part
/// (`header.payload`), so the same claims under another valid signature (an ECDSA `(r, n-s)`
/// twin, a re-signed RSA-PSS token) are the same token.
pub fn identity(token: &str) -> String {
    let signed = token.rsplit_once('.').map(|(h, _)| h).unwrap_or(token);
    format!("id:{}", digest(signed))
}

/// Half the order of P-256 and P-384: an ECDSA `s` above it is the "high" twin.
const P256_HALF_ORDER: [u8; 32] =
    hex32(*b"7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8");
const P384_HALF_ORDER: [u8; 48] = hex48(*b"7fffffffffffffffffffffffffffffffffffffffffffffffe3b1a6c0fa1b96efac0d06d9245853bd76760cb5666294b9");

const fn hex_nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    }
}

const fn hex32(h: [u8; 64]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = hex_nibble(h[2 * i]) << 4 | hex_nibble(h[2 * i + 1]);
        i += 1;
    }
    out
}

const fn hex48(h: [u8; 96]) -> [u8; 48] {
    let mut out = [0u8; 48];
    let mut i = 0;
    while i < 48 {
        out[i] = hex_nibble(h[2 * i]) << 4 | hex_nibble(h[2 * i + 1]);
        i += 1;
    }
    out
}

/// For ES256/ES384: whether the signature's `s` (the second half of the raw `r || s`) is
/// above half the curve order. Other algorithms: false.
fn ecdsa_high_s(alg: Algorithm, token: &str) -> bool {
    let half: &[u8] = match alg {
        Algorithm::ES256 => &P256_HALF_ORDER,
        Algorithm::ES384 => &P384_HALF_ORDER,
        _ => return false,
    };
    let Some((_, sig)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(sig) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    if sig.len() != 2 * half.len() {
        return false;
    }
    // Big-endian byte strings of equal length compare like the numbers.
    sig.get(half.len()..).is_some_and(|s| s > half)
}

fn b64(part: &str) -> std::result::Result<Vec<u8>, Refusal> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Refusal::new(RefusalKind::Format, "a part is not valid base64url"))
}

fn json_object(
    bytes: &[u8],
    what: &str,
) -> std::result::Result<serde_json::Map<String, Json>, Refusal> {
    match serde_json::from_slice::<Json>(bytes) {
        Ok(Json::Object(m)) => Ok(m),
        Ok(_) => Err(Refusal::new(
            RefusalKind::Format,
            format!("the {what} is not a JSON object"),
        )),
        Err(_) => Err(Refusal::new(
            RefusalKind::Format,
            format!("the {what} is not valid JSON"),
        )),
    }
}

/// A JSON object (a JWT header or claims set).
pub type JsonObject = serde_json::Map<String, Json>;

/// The checks that need no key: size, three parts, base64url, JSON objects, `crit`, `alg`.
/// Returns the header and the claims. Public for the fuzz target.
pub fn parse_unverified(
    token: &str,
    max_size: usize,
) -> std::result::Result<(JsonObject, JsonObject), Refusal> {
    if token.len() > max_size {
        return Err(Refusal::new(
            RefusalKind::Format,
            format!(
                "the token is {} bytes, more than the limit of {max_size}",
                token.len()
            ),
        ));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(Refusal::new(
            RefusalKind::Format,
            format!(
                "a JWT has three dot-separated parts, this one has {}",
                parts.len()
            ),
        ));
    }
    let header = json_object(&b64(parts[0])?, "header")?;
    let claims = json_object(&b64(parts[1])?, "payload")?;
    b64(parts[2])?;
    if header.contains_key("crit") {
        return Err(Refusal::new(
            RefusalKind::Format,
            "the header has a 'crit' parameter; no extensions are supported",
        ));
    }
    match header.get("alg") {
        Some(Json::String(a)) if a.eq_ignore_ascii_case("none") => Err(Refusal::new(
            RefusalKind::Verification,
            "unsigned tokens (alg none) are not accepted",
        )),
        Some(Json::String(_)) => Ok((header, claims)),
        _ => Err(Refusal::new(RefusalKind::Format, "the header has no 'alg'")),
    }
}

/// A NumericDate claim: a JSON integer from 0 to [`MAX_NUMERIC_DATE`] (9999-12-31). A
/// fraction, an exponent (`1e300`) or an integer beyond (`2^64`) is a format error, never
/// rounded into a token that does not expire.
fn int_claim(
    claims: &serde_json::Map<String, Json>,
    name: &str,
) -> std::result::Result<Option<i64>, Refusal> {
    match claims.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => n
            .as_i64()
            .filter(|v| (0..=MAX_NUMERIC_DATE).contains(v))
            .map(Some)
            .ok_or_else(|| {
                Refusal::new(
                    RefusalKind::Format,
                    format!(
                        "claim '{name}' must be a whole number of seconds since 1970 (0 to {MAX_NUMERIC_DATE}), not {n}"
                    ),
                )
            }),
        Some(_) => Err(Refusal::new(
            RefusalKind::Format,
            format!("claim '{name}' is not a number"),
        )),
    }
}

/// `exp`, required.
fn exp_claim(claims: &JsonObject) -> std::result::Result<i64, Refusal> {
    int_claim(claims, "exp")?
        .ok_or_else(|| Refusal::new(RefusalKind::Format, "the claim 'exp' is required"))
}

/// `sub` (the user name), required and not empty.
fn sub_claim(claims: &JsonObject) -> std::result::Result<String, Refusal> {
    match claims.get("sub") {
        Some(Json::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(Refusal::new(
            RefusalKind::Format,
            "the claim 'sub' (the user name) is required",
        )),
    }
}

/// The JWT setting a configuration error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtSetting {
    Leeway,
    HmacSecret,
    RsaPublicKey,
    JwksUrl,
}

impl JwtSetting {
    /// The setting's name (its TOML key).
    pub fn name(&self) -> &'static str {
        match self {
            JwtSetting::Leeway => "Security.JWT.Leeway",
            JwtSetting::HmacSecret => "Security.JWT.HMAC.Secret",
            JwtSetting::RsaPublicKey => "Security.JWT.RSA.PublicKey",
            JwtSetting::JwksUrl => "Security.JWT.JWKS.URL",
        }
    }
}

/// A JWT configuration the verifier refused: the setting it is about, and the sentence for
/// the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfigError {
    pub setting: JwtSetting,
    pub message: String,
}

impl JwtConfigError {
    fn new(setting: JwtSetting, message: String) -> Self {
        JwtConfigError { setting, message }
    }
}

impl std::fmt::Display for JwtConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JwtConfigError {}

impl From<JwtConfigError> for String {
    fn from(e: JwtConfigError) -> String {
        e.message
    }
}

impl JwtVerifier {
    /// Build the verifier: load every configured key (files and URLs are read now), refuse
    /// weak or mismatched configuration. The error is for the operator.
    pub fn new(config: JwtConfig) -> std::result::Result<JwtVerifier, JwtConfigError> {
        if config.leeway > MAX_LEEWAY {
            return Err(JwtConfigError::new(
                JwtSetting::Leeway,
                format!(
                    "Security.JWT.Leeway is {} s; at most {MAX_LEEWAY} s is allowed",
                    config.leeway
                ),
            ));
        }
        let ca = config.ca_file.as_deref();
        let mut static_keys = Vec::new();
        if let Some(v) = &config.hmac_secret {
            let at = |message| JwtConfigError::new(JwtSetting::HmacSecret, message);
            let origin = format!("Security.JWT.HMAC.Secret {}", shown_source(v));
            let bytes = load_source(v, ca).map_err(|e| at(format!("{origin}: {e}")))?;
            static_keys.push(hmac_key(&bytes, &origin).map_err(at)?);
        }
        if let Some(v) = &config.public_key {
            let at = |message| JwtConfigError::new(JwtSetting::RsaPublicKey, message);
            let origin = format!("Security.JWT.RSA.PublicKey {}", shown_source(v));
            let bytes = load_source(v, ca).map_err(|e| at(format!("{origin}: {e}")))?;
            static_keys.push(public_key(&bytes, &origin).map_err(at)?);
        }
        let jwks = match &config.jwks_url {
            Some(url) => {
                let at = |message| JwtConfigError::new(JwtSetting::JwksUrl, message);
                if !url.starts_with("https://") {
                    return Err(at(format!(
                        "Security.JWT.JWKS.URL must be an https:// URL, not {url:?}"
                    )));
                }
                let body = crate::fetch::get(url, ca)
                    .map_err(|e| at(format!("Security.JWT.JWKS.URL: {e}")))?;
                let keys = parse_jwks(&body)
                    .map_err(|e| at(format!("Security.JWT.JWKS.URL {url}: {e}")))?;
                let now = Instant::now();
                // The first unknown `kid` may refetch at once (a rotation right after start).
                Some(Mutex::new(Jwks {
                    url: url.clone(),
                    keys,
                    fetched: Some(now),
                    last_attempt: None,
                }))
            }
            None => None,
        };
        Ok(JwtVerifier {
            config,
            static_keys,
            jwks,
            cache: RwLock::new(HashMap::new()),
        })
    }

    /// A verifier without configured keys: it accepts only the server's own tokens.
    pub fn server_only() -> JwtVerifier {
        JwtVerifier {
            config: JwtConfig {
                leeway: DEFAULT_LEEWAY,
                max_token_size: DEFAULT_MAX_TOKEN_SIZE,
                ..JwtConfig::default()
            },
            static_keys: Vec::new(),
            jwks: None,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Forget every verified token (after the server's signing keys changed).
    pub fn clear_cache(&self) {
        if let Ok(mut c) = self.cache.write() {
            c.clear();
        }
    }

    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The key for this header: by `kid` from the JWKS, else a configured key whose family
    /// accepts `alg`. The header never picks the family: a key accepts its own algorithms only.
    fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> std::result::Result<Key, Refusal> {
        if let (Some(kid), Some(jwks)) = (kid, &self.jwks) {
            let mut j = jwks
                .lock()
                .map_err(|_| Refusal::other("JWKS lock poisoned"))?;
            let stale = j.fetched.is_none_or(|t| t.elapsed() > JWKS_REFRESH);
            let may_retry = j
                .last_attempt
                .is_none_or(|t| t.elapsed() > JWKS_UNKNOWN_KID_INTERVAL);
            if stale || (!j.keys.contains_key(kid) && may_retry) {
                j.last_attempt = Some(Instant::now());
                match crate::fetch::get(&j.url, self.config.ca_file.as_deref())
                    .and_then(|b| parse_jwks(&b))
                {
                    Ok(keys) => {
                        j.keys = keys;
                        j.fetched = Some(Instant::now());
                        tracing::info!(url = %j.url, keys = j.keys.len(), "JWKS refreshed");
                    }
                    // Keep the last good set.
                    Err(e) => tracing::warn!(url = %j.url, "JWKS refresh failed: {e}"),
                }
            }
            return match j.keys.get(kid) {
                Some(k) if k.algorithms.contains(&alg) => Ok(k.clone()),
                Some(k) => Err(Refusal::new(
                    RefusalKind::Verification,
                    format!("algorithm {alg:?} does not match the key ({})", k.origin),
                )),
                None => Err(Refusal::new(
                    RefusalKind::Verification,
                    format!("no key with kid {kid:?}"),
                )),
            };
        }
        self.static_keys
            .iter()
            .find(|k| k.algorithms.contains(&alg))
            .cloned()
            .ok_or_else(|| {
                Refusal::new(
                    RefusalKind::Verification,
                    format!("algorithm {alg:?} is not accepted by any configured key"),
                )
            })
    }

    /// Verify a token and map it to a principal. Never follows `jku`, `x5u` or `jwk`.
    pub fn verify(
        &self,
        token: &str,
        service: &AuthService,
    ) -> std::result::Result<Principal, Refusal> {
        let now = now_secs();
        let d = digest(token);
        let cached = self.cache.read().ok().and_then(|c| c.get(&d).cloned());
        let principal = match cached {
            Some(c) => c.principal,
            None => {
                let p = self.verify_uncached(token, now, service)?;
                if let Ok(mut cache) = self.cache.write() {
                    if cache.len() >= CACHE_CAPACITY {
                        cache.retain(|_, c| {
                            c.principal
                                .token
                                .as_ref()
                                .is_some_and(|t| t.expires_at > now)
                        });
                        if cache.len() >= CACHE_CAPACITY {
                            cache.clear();
                        }
                    }
                    cache.insert(
                        d,
                        Cached {
                            principal: p.clone(),
                        },
                    );
                }
                p
            }
        };
        // What may change after verification is checked on every use, cached or not.
        self.check_live(&principal, now, service)?;
        Ok(principal)
    }

    fn check_live(
        &self,
        p: &Principal,
        now: i64,
        service: &AuthService,
    ) -> std::result::Result<(), Refusal> {
        let Some(t) = &p.token else {
            return Err(Refusal::other("no token"));
        };
        let leeway = i64::try_from(self.config.leeway).unwrap_or(0);
        if now > t.expires_at.saturating_add(leeway) {
            return Err(Refusal::new(
                RefusalKind::Expiration,
                "the token has expired",
            ));
        }
        let user = p.user.as_deref().unwrap_or("");
        let rec = service.store().user(user).ok().flatten().ok_or_else(|| {
            Refusal::new(
                RefusalKind::UserDoesNotExist,
                format!("user '{user}' does not exist"),
            )
        })?;
        self.check_blocked(t, &rec)
    }

    fn check_blocked(&self, t: &TokenRef, rec: &UserRecord) -> std::result::Result<(), Refusal> {
        if t.issued_at < rec.tokens_not_before {
            return Err(Refusal::new(
                RefusalKind::Blocked,
                "every token of this user issued before a revoke-all is refused",
            ));
        }
        if rec.blocked.contains_key(&t.digest) {
            return Err(Refusal::new(
                RefusalKind::Blocked,
                "the token is on the block list",
            ));
        }
        Ok(())
    }

    fn verify_uncached(
        &self,
        token: &str,
        now: i64,
        service: &AuthService,
    ) -> std::result::Result<Principal, Refusal> {
        let (claims, server) = self.verify_signature(token, service)?;
        self.check_claims(&claims, now, service, token, server)
    }

    /// Check a token's signature only (no claim checks), for the block list: who it belongs
    /// to (`sub`), its `exp`, and its digest. Expired tokens are returned too.
    pub fn inspect(
        &self,
        token: &str,
        service: &AuthService,
    ) -> std::result::Result<InspectedToken, Refusal> {
        let (claims, _) = self.verify_signature(token, service)?;
        Ok(InspectedToken {
            user: sub_claim(&claims)?,
            expires_at: exp_claim(&claims)?,
            digest: identity(token),
        })
    }

    /// The format checks and the signature. Returns the claims and whether the token was
    /// signed by the server's own key.
    fn verify_signature(
        &self,
        token: &str,
        service: &AuthService,
    ) -> std::result::Result<(JsonObject, bool), Refusal> {
        let (header, claims) = parse_unverified(token, self.config.max_token_size)?;
        let alg_name = match header.get("alg") {
            Some(Json::String(a)) => a.clone(),
            _ => return Err(Refusal::new(RefusalKind::Format, "the header has no 'alg'")),
        };
        let alg: Algorithm = alg_name.parse().map_err(|_| {
            Refusal::new(
                RefusalKind::Verification,
                format!("algorithm {alg_name:?} is not supported"),
            )
        })?;
        let kid = match header.get("kid") {
            Some(Json::String(k)) => Some(k.as_str()),
            None => None,
            Some(_) => return Err(Refusal::new(RefusalKind::Format, "'kid' is not a string")),
        };
        let server_key = kid.and_then(|k| service.server_key(k));
        let server = server_key.is_some();
        let key = match server_key {
            // The server's own key is HS256 only, whatever the header says.
            Some(secret) if alg == Algorithm::HS256 => Key {
                key: DecodingKey::from_secret(&secret),
                algorithms: vec![Algorithm::HS256],
                origin: "the server's token signing key".to_string(),
            },
            Some(_) => {
                return Err(Refusal::new(
                    RefusalKind::Verification,
                    format!("algorithm {alg:?} does not match the server's signing key"),
                ))
            }
            None => self.key_for(kid, alg)?,
        };
        let mut validation = Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        jsonwebtoken::decode::<Json>(token, &key.key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature
                | K::InvalidAlgorithm
                | K::InvalidKeyFormat
                | K::InvalidEcdsaKey
                | K::InvalidRsaKey(_) => {
                    Refusal::new(RefusalKind::Verification, "the signature does not verify")
                }
                K::Base64(_) | K::Json(_) | K::Utf8(_) | K::InvalidToken => {
                    Refusal::new(RefusalKind::Format, "the token is malformed")
                }
                _ => Refusal::other("the token could not be verified"),
            }
        })?;
        if self.config.require_low_s && ecdsa_high_s(alg, token) {
            return Err(Refusal::new(
                RefusalKind::Verification,
                "the ECDSA signature is not in low-s form (s > n/2), which Security.JWT.RequireLowS demands",
            ));
        }
        Ok((claims, server))
    }

    fn check_claims(
        &self,
        claims: &serde_json::Map<String, Json>,
        now: i64,
        service: &AuthService,
        token: &str,
        server: bool,
    ) -> std::result::Result<Principal, Refusal> {
        // The server's own tokens follow the GSQL.Token settings (issuer, maximum lifetime)
        // and carry no audience.
        let settings = service.token_settings();
        let (max_lifetime, issuer) = if server {
            (Some(settings.max_lifetime), Some(settings.issuer.clone()))
        } else {
            (self.config.max_lifetime, self.config.issuer.clone())
        };
        let leeway = i64::try_from(self.config.leeway).unwrap_or(0);
        let exp = exp_claim(claims)?;
        let iat = int_claim(claims, "iat")?;
        let nbf = int_claim(claims, "nbf")?;
        if now > exp.saturating_add(leeway) {
            return Err(Refusal::new(
                RefusalKind::Expiration,
                "the token has expired",
            ));
        }
        if let Some(nbf) = nbf {
            if nbf > now.saturating_add(leeway) {
                return Err(Refusal::new(
                    RefusalKind::NotYetValid,
                    "the token is not valid yet (nbf)",
                ));
            }
        }
        if let Some(iat) = iat {
            if iat > now.saturating_add(leeway) {
                return Err(Refusal::new(
                    RefusalKind::NotYetValid,
                    "the token was issued in the future (iat)",
                ));
            }
        }
        if let Some(max) = max_lifetime {
            let max = i64::try_from(max).unwrap_or(i64::MAX);
            let start = iat.unwrap_or(now);
            if exp.saturating_sub(start) > max {
                return Err(Refusal::other(format!(
                    "the token's lifetime is longer than the maximum of {max} s"
                )));
            }
        }
        if let Some(iss) = &issuer {
            match claims.get("iss") {
                Some(Json::String(s)) if s == iss => {}
                _ => {
                    return Err(Refusal::new(
                        RefusalKind::Issuer,
                        "the issuer is not accepted",
                    ))
                }
            }
        }
        if !server && !self.config.audience.is_empty() {
            let ok = match claims.get("aud") {
                Some(Json::String(s)) => self.config.audience.contains(s),
                Some(Json::Array(items)) => items
                    .iter()
                    .any(|a| matches!(a, Json::String(s) if self.config.audience.contains(s))),
                _ => false,
            };
            if !ok {
                return Err(Refusal::new(
                    RefusalKind::Audience,
                    "the audience is not accepted",
                ));
            }
        }
        let sub = sub_claim(claims)?;
        let rec = service.store().user(&sub).ok().flatten().ok_or_else(|| {
            Refusal::new(
                RefusalKind::UserDoesNotExist,
                format!("user '{sub}' does not exist"),
            )
        })?;
        let graph = match claims.get("graph") {
            None | Some(Json::Null) => None,
            Some(Json::String(g)) => Some(g.to_ascii_lowercase()),
            Some(_) => {
                return Err(Refusal::new(
                    RefusalKind::Format,
                    "the claim 'graph' is not a string",
                ))
            }
        };
        let token_ref = TokenRef {
            digest: identity(token),
            issued_at: iat.unwrap_or(0),
            expires_at: exp,
        };
        self.check_blocked(&token_ref, &rec)?;
        // Block lists written before identities were keyed by the signed part hold the
        // digest of the whole token.
        if rec.blocked.contains_key(&digest(token)) {
            return Err(Refusal::new(
                RefusalKind::Blocked,
                "the token is on the block list",
            ));
        }
        if let Some(g) = &graph {
            if !service.graph_exists(g) {
                return Err(Refusal::new(
                    RefusalKind::GraphDoesNotExist,
                    format!("graph '{g}' does not exist"),
                ));
            }
            if service.store().level(&sub, g).is_none() {
                return Err(Refusal::new(
                    RefusalKind::GraphScope,
                    format!("user '{sub}' has no privilege on graph '{g}'"),
                ));
            }
        }
        Ok(Principal {
            user: Some(sub),
            graph_scope: graph,
            token: Some(token_ref),
        })
    }

    /// Re-check a token principal: expired, blocked, revoked.
    pub fn recheck(&self, token: &TokenRef, user: &UserRecord) -> Result<()> {
        let leeway = i64::try_from(self.config.leeway).unwrap_or(0);
        if now_secs() > token.expires_at.saturating_add(leeway) {
            return Err(Error::new(
                ErrorCode::TokenExpired,
                format!(
                    "Token refused ({}, {}): the token has expired.",
                    RefusalKind::Expiration.title(),
                    RefusalKind::Expiration.code()
                ),
            ));
        }
        self.check_blocked(token, user).map_err(|r| {
            Error::new(
                ErrorCode::Unauthorized,
                format!(
                    "Token refused ({}, {}): {}.",
                    r.kind.title(),
                    r.kind.code(),
                    r.detail
                ),
            )
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::service::{AuthOptions, AuthService};
    use jsonwebtoken::{encode, EncodingKey, Header};

    const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// A service in a fresh directory; `neo4j`/`password` is the administrator.
    pub(crate) fn service() -> (tempfile::TempDir, std::sync::Arc<AuthService>) {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = AuthService::open(
            dir.path(),
            AuthOptions {
                disabled: false,
                initial_password: Some("password".into()),
            },
        )
        .unwrap();
        (dir, s)
    }

    fn verifier(over: impl FnOnce(&mut JwtConfig)) -> JwtVerifier {
        let mut c = JwtConfig {
            hmac_secret: Some(SECRET.into()),
            leeway: DEFAULT_LEEWAY,
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            ..JwtConfig::default()
        };
        over(&mut c);
        JwtVerifier::new(c).unwrap()
    }

    fn token(alg: Algorithm, claims: serde_json::Value) -> String {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    /// A token whose payload JSON is given as text (for numbers serde would normalise).
    fn raw_token(payload: &str) -> String {
        let b = |x: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(x);
        let signing_input = format!(
            "{}.{}",
            b(br#"{"alg":"HS256","typ":"JWT"}"#),
            b(payload.as_bytes())
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET.as_bytes());
        let tag = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes());
        format!("{signing_input}.{}", b(tag.as_ref()))
    }

    #[test]
    fn numeric_dates_are_whole_seconds_in_range() {
        let (_d, s) = service();
        let v = verifier(|_| {});
        let now = now_secs();
        let ok = raw_token(&format!(r#"{{"sub":"neo4j","exp":{}}}"#, now + 60));
        assert!(v.verify(&ok, &s).is_ok());
        for exp in [
            format!("{}.5", now + 60),
            "1e300".to_string(),
            "18446744073709551616".to_string(),
            "9223372036854775807".to_string(),
            format!("{}", MAX_NUMERIC_DATE + 1),
            "-1".to_string(),
            format!("{}.0", now + 60),
        ] {
            let t = raw_token(&format!(r#"{{"sub":"neo4j","exp":{exp}}}"#));
            let r = v.verify(&t, &s).unwrap_err();
            assert_eq!(r.kind, RefusalKind::Format, "exp {exp}: {}", r.detail);
        }
        for claim in ["nbf", "iat"] {
            let t = raw_token(&format!(
                r#"{{"sub":"neo4j","exp":{},"{claim}":1.5}}"#,
                now + 60
            ));
            assert_eq!(v.verify(&t, &s).unwrap_err().kind, RefusalKind::Format);
        }
    }

    #[test]
    fn identity_ignores_the_signature_and_high_s_is_detected() {
        assert_eq!(identity("aaa.bbb.sig1"), identity("aaa.bbb.sig2"));
        assert_ne!(identity("aaa.bbb.sig1"), identity("aaa.bbc.sig1"));
        assert_ne!(identity("aaa.bbb.sig1"), digest("aaa.bbb.sig1"));
        let b = |x: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(x);
        let mut sig = vec![1u8; 32];
        sig.extend_from_slice(&P256_HALF_ORDER);
        assert!(!ecdsa_high_s(Algorithm::ES256, &format!("a.b.{}", b(&sig))));
        sig[63] += 1;
        assert!(ecdsa_high_s(Algorithm::ES256, &format!("a.b.{}", b(&sig))));
        assert!(!ecdsa_high_s(Algorithm::RS256, &format!("a.b.{}", b(&sig))));
        assert!(!ecdsa_high_s(Algorithm::ES384, &format!("a.b.{}", b(&sig))));
        let mut sig = vec![1u8; 48];
        sig.extend_from_slice(&[0xff; 48]);
        assert!(ecdsa_high_s(Algorithm::ES384, &format!("a.b.{}", b(&sig))));
    }

    #[test]
    fn verifies_and_refuses_by_category() {
        let (_d, s) = service();
        let v = verifier(|c| {
            c.issuer = Some("me".into());
            c.audience = vec!["api".into()];
            c.max_lifetime = Some(3600);
        });
        let now = now_secs();
        let ok = token(
            Algorithm::HS512,
            serde_json::json!({"sub": "neo4j", "exp": now + 60, "iat": now, "iss": "me", "aud": ["x", "api"]}),
        );
        let p = v.verify(&ok, &s).unwrap();
        assert_eq!(p.user.as_deref(), Some("neo4j"));
        assert!(p.graph_scope.is_none());
        // Cached: the second call gives the same principal.
        assert_eq!(v.verify(&ok, &s).unwrap().token, p.token);
        let kind = |claims: serde_json::Value| {
            v.verify(&token(Algorithm::HS256, claims), &s)
                .unwrap_err()
                .kind
        };
        let base = |f: &dyn Fn(&mut serde_json::Map<String, Json>)| {
            let mut m = serde_json::json!({"sub": "neo4j", "exp": now + 60, "iat": now, "iss": "me", "aud": "api"});
            if let Json::Object(o) = &mut m {
                f(o);
            }
            m
        };
        assert_eq!(
            kind(base(&|m| {
                m.insert("exp".into(), (now - 120).into());
            })),
            RefusalKind::Expiration
        );
        assert_eq!(
            kind(base(&|m| {
                m.remove("exp");
            })),
            RefusalKind::Format
        );
        assert_eq!(
            kind(base(&|m| {
                m.insert("nbf".into(), (now + 600).into());
            })),
            RefusalKind::NotYetValid
        );
        assert_eq!(
            kind(base(&|m| {
                m.insert("iss".into(), "you".into());
            })),
            RefusalKind::Issuer
        );
        assert_eq!(
            kind(base(&|m| {
                m.insert("aud".into(), "API".into());
            })),
            RefusalKind::Audience
        );
        assert_eq!(
            kind(base(&|m| {
                m.insert("sub".into(), "ghost".into());
            })),
            RefusalKind::UserDoesNotExist
        );
        assert_eq!(
            kind(base(&|m| {
                m.insert("exp".into(), (now + 7200).into());
            })),
            RefusalKind::Other
        );
        s.set_graph_lister(std::sync::Arc::new(|| vec!["neo4j".to_string()]));
        let scoped = v
            .verify(
                &token(
                    Algorithm::HS256,
                    base(&|m| {
                        m.insert("graph".into(), "Neo4j".into());
                    }),
                ),
                &s,
            )
            .unwrap();
        assert_eq!(scoped.graph_scope.as_deref(), Some("neo4j"));
        assert_eq!(
            kind(base(&|m| {
                m.insert("graph".into(), "nowhere".into());
            })),
            RefusalKind::GraphDoesNotExist
        );
        s.store()
            .create_user("alice", String::new(), false)
            .unwrap();
        assert_eq!(
            kind(base(&|m| {
                m.insert("sub".into(), "alice".into());
                m.insert("graph".into(), "neo4j".into());
            })),
            RefusalKind::GraphScope
        );
        // Revoke-all refuses tokens issued before it, cached or not.
        s.store().set_tokens_not_before("neo4j", now + 1).unwrap();
        assert_eq!(v.verify(&ok, &s).unwrap_err().kind, RefusalKind::Blocked);
    }

    #[test]
    fn attacks_and_malformed_tokens() {
        let (_d, s) = service();
        let v = verifier(|_| {});
        let now = now_secs();
        let claims = serde_json::json!({"sub": "neo4j", "exp": now + 60});
        let good = token(Algorithm::HS256, claims.clone());
        let (h, p, sig) = {
            let parts: Vec<&str> = good.split('.').collect();
            (
                parts[0].to_string(),
                parts[1].to_string(),
                parts[2].to_string(),
            )
        };
        let enc = |j: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j.to_string())
        };
        let none = format!("{}.{p}.", enc(serde_json::json!({"alg": "none"})));
        assert_eq!(
            v.verify(&none, &s).unwrap_err().kind,
            RefusalKind::Verification
        );
        let crit = format!(
            "{}.{p}.{sig}",
            enc(serde_json::json!({"alg": "HS256", "crit": ["x"]}))
        );
        assert_eq!(v.verify(&crit, &s).unwrap_err().kind, RefusalKind::Format);
        let edited = format!(
            "{h}.{}.{sig}",
            enc(serde_json::json!({"sub": "neo4j", "exp": now + 6000}))
        );
        assert_eq!(
            v.verify(&edited, &s).unwrap_err().kind,
            RefusalKind::Verification
        );
        // An RS256 header against an HMAC-only configuration: no key accepts it.
        let rs = format!("{}.{p}.{sig}", enc(serde_json::json!({"alg": "RS256"})));
        assert_eq!(
            v.verify(&rs, &s).unwrap_err().kind,
            RefusalKind::Verification
        );
        for bad in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "!.!.!",
            "e30.e30",
            "e30.bm90.e30",
        ] {
            assert_eq!(
                v.verify(bad, &s).unwrap_err().kind,
                RefusalKind::Format,
                "{bad}"
            );
        }
        let huge = "a".repeat(DEFAULT_MAX_TOKEN_SIZE + 1);
        let r = v.verify(&huge, &s).unwrap_err();
        assert_eq!(r.kind, RefusalKind::Format);
        assert!(!r.message(&huge).contains(&huge));
        assert!(r.message(&huge).contains("aaaa****aaaa"));
        // Messages mask the token.
        let m = v.verify(&edited, &s).unwrap_err().message(&edited);
        assert!(!m.contains(&edited) && m.contains("JWT-VERIFICATION"));
    }

    #[test]
    fn configuration_is_checked() {
        let short = JwtVerifier::new(JwtConfig {
            hmac_secret: Some("short".into()),
            ..JwtConfig::default()
        });
        let short = short.err().unwrap();
        assert_eq!(short.setting, JwtSetting::HmacSecret);
        assert!(short.message.contains("at least 32 bytes"));
        let leeway = JwtVerifier::new(JwtConfig {
            hmac_secret: Some(SECRET.into()),
            leeway: 301,
            ..JwtConfig::default()
        });
        assert_eq!(leeway.err().map(|e| e.setting), Some(JwtSetting::Leeway));
        // A 32-byte secret accepts HS256 only.
        let k = hmac_key(&[7u8; 32], "t").unwrap();
        assert_eq!(k.algorithms, vec![Algorithm::HS256]);
        assert!(public_key(b"-----BEGIN PRIVATE KEY-----\n", "t").is_err());
        assert!(public_key(b"garbage", "t").is_err());
        assert!(load_source("http://insecure/key", None).is_err());
        assert!(parse_jwks(b"{").is_err());
        assert!(
            parse_jwks(br#"{"keys": [{"kty": "oct", "kid": "a", "k": "AAAA"}]}"#)
                .unwrap()
                .is_empty()
        );
        let dbg = format!(
            "{:?}",
            JwtConfig {
                hmac_secret: Some(SECRET.into()),
                ..JwtConfig::default()
            }
        );
        assert!(!dbg.contains(SECRET));
    }

    #[test]
    fn random_input_never_panics() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet =
            b"eyJhbGciOiJIUzI1NiJ9.-_=+/{}\":,crit none alg0123456789`'$* ;GRANTREVOKECREATEUSERON";
        for _ in 0..20_000 {
            let len = (next() % 64) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
                .collect();
            let _ = parse_unverified(&s, 1024);
            for text in [s.clone(), format!("GRANT {s}"), format!("CREATE USER {s}")] {
                if let Ok(stmt) = graphward_cypher::parser::parse(&text, 64) {
                    let _ = crate::policy::needs(&stmt, Some("u"));
                }
            }
        }
    }
}
