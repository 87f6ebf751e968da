//! Server-issued tokens (`POST /gsql/v1/tokens`), user secrets, the per-user block list and
//! revoke-all: the core [`TokenService`] implemented by [`AuthService`].
//!
//! Tokens are HS256 JWTs signed with the server's own key: 64 random bytes generated at the
//! first start and kept in `DATA_DIR/system/token-signing-key` (mode 0600). The header's
//! `kid` names the key. `ROTATE TOKEN SIGNING KEY` makes a new current key and keeps the
//! previous one for verification, so tokens already issued stay valid until they expire; a
//! second rotation forgets the oldest key and with it every token it signed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use graphward_core::auth::{
    mask_token, ClientInfo, IssuedToken, TokenCheck, TokenRequester, TokenService, TOKEN_DROP_LIMIT,
};
use graphward_core::engine::Principal;
use graphward_core::{Error, ErrorCode, Result};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::jwt::{digest, now_secs, RefusalKind};
use crate::password::random_bytes;
use crate::service::{who, AuthService};
use crate::store::{BlockError, Level, SecretRecord, ALL_GRAPHS};

/// The signing keys' file, under the data directory.
pub const SIGNING_KEY_FILE: &str = "system/token-signing-key";
/// Default and largest `GSQL.Token.DropLimit`.
pub const DEFAULT_DROP_LIMIT: usize = 20;
pub const MAX_DROP_LIMIT: usize = 50;
/// Default `GSQL.Token.Lifetime` (7 days) and `GSQL.Token.MaxLifetime` (30 days), in seconds.
pub const DEFAULT_LIFETIME: u64 = 7 * 24 * 3600;
pub const DEFAULT_MAX_LIFETIME: u64 = 30 * 24 * 3600;
/// Default `GSQL.Token.Issuer`.
pub const DEFAULT_ISSUER: &str = "graphward";
/// Bytes of a signing key and of a user secret.
const KEY_BYTES: usize = 64;
const SECRET_BYTES: usize = 32;

/// The `GSQL.Token.*` settings. Held by the [`AuthService`] and replaceable at runtime
/// ([`AuthService::set_token_settings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSettings {
    /// Most live entries in one user's block list (at most [`MAX_DROP_LIMIT`]).
    pub drop_limit: usize,
    /// Lifetime of a token when the request names none, in seconds.
    pub default_lifetime: u64,
    /// Longest lifetime a request may ask for, in seconds (also the longest `exp - iat`
    /// accepted for the server's own tokens).
    pub max_lifetime: u64,
    /// The `iss` claim of issued tokens (and the one required of them).
    pub issuer: String,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            drop_limit: DEFAULT_DROP_LIMIT,
            default_lifetime: DEFAULT_LIFETIME,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            issuer: DEFAULT_ISSUER.to_string(),
        }
    }
}

impl TokenSettings {
    /// Refuse settings out of range; the error names the setting.
    pub fn validate(&self) -> std::result::Result<(), String> {
        self.check().map_err(|(_, message)| message)
    }

    /// Like [`TokenSettings::validate`], naming the setting at fault.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        if self.drop_limit == 0 || self.drop_limit > MAX_DROP_LIMIT {
            return Err((
                "GSQL.Token.DropLimit",
                format!(
                    "GSQL.Token.DropLimit is {}; it must be between 1 and {MAX_DROP_LIMIT}",
                    self.drop_limit
                ),
            ));
        }
        if self.max_lifetime == 0 {
            return Err((
                "GSQL.Token.MaxLifetime",
                "GSQL.Token.Lifetime and GSQL.Token.MaxLifetime must be positive".into(),
            ));
        }
        if self.default_lifetime == 0 {
            return Err((
                "GSQL.Token.Lifetime",
                "GSQL.Token.Lifetime and GSQL.Token.MaxLifetime must be positive".into(),
            ));
        }
        if self.default_lifetime > self.max_lifetime {
            return Err((
                "GSQL.Token.Lifetime",
                format!(
                    "GSQL.Token.Lifetime ({} s) is longer than GSQL.Token.MaxLifetime ({} s)",
                    self.default_lifetime, self.max_lifetime
                ),
            ));
        }
        if self.issuer.trim().is_empty() {
            return Err((
                "GSQL.Token.Issuer",
                "GSQL.Token.Issuer must not be empty".into(),
            ));
        }
        Ok(())
    }
}

/// One signing key. `Debug` hides the secret.
#[derive(Clone)]
pub(crate) struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
    pub created: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey {{ kid: {}, created: {} }}",
            self.kid, self.created
        )
    }
}

/// The current key first, then the previous one (if any).
#[derive(Debug, Clone)]
pub(crate) struct KeyRing {
    pub keys: Vec<SigningKey>,
}

fn new_key() -> Result<SigningKey> {
    let secret = random_bytes(KEY_BYTES)?;
    let kid = format!("graphward-{}", &digest_bytes(&secret)[..16]);
    Ok(SigningKey {
        kid,
        secret,
        created: now_secs(),
    })
}

fn digest_bytes(b: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Parse the key file: one key per line, `kid created base64url-secret`, current first.
pub(crate) fn parse_key_file(text: &str) -> std::result::Result<KeyRing, String> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [kid, created, secret] = parts.as_slice() else {
            return Err(format!("line {}: expected `kid created secret`", n + 1));
        };
        let created: i64 = created
            .parse()
            .map_err(|_| format!("line {}: the creation time is not a number", n + 1))?;
        let secret = B64
            .decode(secret)
            .map_err(|_| format!("line {}: the key is not base64url", n + 1))?;
        if secret.len() < 32 {
            return Err(format!("line {}: the key is shorter than 32 bytes", n + 1));
        }
        if kid.is_empty() || kid.len() > 64 {
            return Err(format!("line {}: bad key id", n + 1));
        }
        keys.push(SigningKey {
            kid: (*kid).to_string(),
            secret,
            created,
        });
    }
    if keys.is_empty() {
        return Err("no key in the file".into());
    }
    Ok(KeyRing { keys })
}

/// Parse a signing key file's text; the number of keys, or why it is refused. Public for the
/// fuzz target.
pub fn check_key_file(text: &str) -> std::result::Result<usize, String> {
    parse_key_file(text).map(|r| r.keys.len())
}

pub(crate) fn render_key_file(ring: &KeyRing) -> String {
    let mut out = String::from(
        "# graphward token signing keys: current first. Secret: keep this file private.\n",
    );
    for k in &ring.keys {
        out.push_str(&format!(
            "{} {} {}\n",
            k.kid,
            k.created,
            B64.encode(&k.secret)
        ));
    }
    out
}

/// Load the key ring from `data_dir`, generating the first key when the file is absent.
pub(crate) fn load_or_create_keys(data_dir: &Path) -> Result<(KeyRing, PathBuf)> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let ring = parse_key_file(&text).map_err(|e| {
                Error::internal(format!("token signing key file {}: {e}", path.display()))
            })?;
            Ok((ring, path))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ring = KeyRing {
                keys: vec![new_key()?],
            };
            crate::service::write_private(&path, &render_key_file(&ring))?;
            tracing::info!(path = %path.display(), "token signing key generated");
            Ok((ring, path))
        }
        Err(e) => Err(Error::internal(format!(
            "cannot read the token signing key file {}: {e}",
            path.display()
        ))),
    }
}

/// Mask a secret for `SHOW SECRETS`.
fn mask_secret(s: &str) -> String {
    mask_token(s)
}

impl AuthService {
    /// Make a new current signing key; the previous current key stays accepted for
    /// verification, older ones are forgotten (their tokens are refused from now on).
    pub fn rotate_signing_key(&self) -> Result<String> {
        let mut guard = self
            .keys
            .write()
            .map_err(|_| Error::internal("signing key lock poisoned"))?;
        let mut keys = vec![new_key()?];
        if let Some(current) = guard.keys.first() {
            keys.push(current.clone());
        }
        let ring = KeyRing { keys };
        crate::service::write_private(&self.key_file, &render_key_file(&ring))?;
        let kid = ring.keys.first().map(|k| k.kid.clone()).unwrap_or_default();
        *guard = ring;
        drop(guard);
        self.verifier().clear_cache();
        tracing::info!(kid = %kid, "token signing key rotated");
        Ok(kid)
    }

    /// The secret of the server key named `kid`, if it is one of ours.
    pub fn server_key(&self, kid: &str) -> Option<Vec<u8>> {
        let ring = self.keys.read().ok()?;
        ring.keys
            .iter()
            .find(|k| k.kid == kid)
            .map(|k| k.secret.clone())
    }

    fn current_key(&self) -> Result<SigningKey> {
        self.keys
            .read()
            .map_err(|_| Error::internal("signing key lock poisoned"))?
            .keys
            .first()
            .cloned()
            .ok_or_else(|| Error::internal("no token signing key"))
    }

    /// Create a secret for `user` (the alias is generated when absent). Returns the alias and
    /// the secret, which is shown only this once.
    pub fn create_secret(&self, user: &str, alias: Option<&str>) -> Result<(String, String)> {
        let secret = B64.encode(random_bytes(SECRET_BYTES)?);
        let alias = match alias {
            Some(a) => a.to_string(),
            None => format!("secret-{}", &digest_bytes(&random_bytes(8)?)[..8]),
        };
        self.store().add_secret(
            user,
            &alias,
            SecretRecord {
                digest: digest(&secret),
                masked: mask_secret(&secret),
                created: now_secs(),
            },
        )?;
        tracing::info!(user = %user, alias = %alias, "secret created");
        Ok((alias, secret))
    }

    /// Issue a token for `user`.
    pub fn issue_for(
        &self,
        user: &str,
        graph: Option<&str>,
        lifetime_ms: Option<u64>,
    ) -> Result<IssuedToken> {
        let settings = self.token_settings();
        let Some(rec) = self.store().user(user)? else {
            return Err(Error::new(
                ErrorCode::Unauthorized,
                format!("user '{user}' does not exist"),
            ));
        };
        let graph = graph.map(|g| g.to_ascii_lowercase());
        if let Some(g) = &graph {
            if !self.graph_exists(g) {
                return Err(Error::argument(format!(
                    "{} ({}): graph '{g}' does not exist",
                    RefusalKind::GraphDoesNotExist.title(),
                    RefusalKind::GraphDoesNotExist.code()
                ))
                .with_detail(RefusalKind::GraphDoesNotExist.code()));
            }
            if !self.is_disabled() && self.store().level(user, g).is_none() {
                return Err(Error::new(
                    ErrorCode::Forbidden,
                    format!(
                        "{} ({}): user '{user}' has no privilege on graph '{g}'",
                        RefusalKind::GraphScope.title(),
                        RefusalKind::GraphScope.code()
                    ),
                )
                .with_detail(RefusalKind::GraphScope.code()));
            }
        }
        let lifetime = match lifetime_ms {
            None => settings.default_lifetime,
            Some(0) => return Err(Error::argument("lifetime must be at least 1000 ms")),
            Some(ms) => ms.div_ceil(1000),
        };
        if lifetime > settings.max_lifetime {
            return Err(Error::argument(format!(
                "lifetime {} ms is longer than the maximum of {} ms (GSQL.Token.MaxLifetime)",
                lifetime_ms.unwrap_or(0),
                settings.max_lifetime.saturating_mul(1000)
            )));
        }
        // A revoke-all refuses tokens issued up to the second it happened: a token issued in
        // that same second must wait for the next one (at most a second).
        let mut now = now_secs();
        if now < rec.tokens_not_before {
            let wait = u64::try_from(rec.tokens_not_before - now)
                .unwrap_or(1)
                .min(2);
            std::thread::sleep(Duration::from_millis(wait * 1000 + 20));
            now = now_secs();
        }
        let exp = now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
        let key = self.current_key()?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        let mut claims = serde_json::json!({
            "sub": user,
            "iat": now,
            "exp": exp,
            "iss": settings.issuer,
            "jti": digest_bytes(&random_bytes(16)?)[..32].to_string(),
        });
        if let (Some(g), Some(m)) = (&graph, claims.as_object_mut()) {
            m.insert("graph".into(), serde_json::Value::String(g.clone()));
        }
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&key.secret))
            .map_err(|e| Error::internal(format!("cannot sign the token: {e}")))?;
        tracing::info!(user = %user, graph = ?graph, expires = exp, token = %mask_token(&token), "token issued");
        Ok(IssuedToken {
            token,
            user: user.to_string(),
            graph,
            issued_at: now,
            expires_at: exp,
        })
    }

    fn caller(&self, caller: &Principal) -> Result<String> {
        caller
            .user
            .clone()
            .ok_or_else(|| Error::new(ErrorCode::Unauthorized, "not authenticated"))
    }

    fn is_admin(&self, p: &Principal) -> bool {
        self.level(p, ALL_GRAPHS) == Some(Level::Admin)
    }
}

impl TokenService for AuthService {
    fn issue(
        &self,
        requester: &TokenRequester,
        graph: Option<&str>,
        lifetime_ms: Option<u64>,
        client: &ClientInfo,
    ) -> Result<IssuedToken> {
        let user = match requester {
            TokenRequester::Principal(p) => {
                if p.token.is_some() {
                    return Err(Error::new(
                        ErrorCode::Unauthorized,
                        "a token cannot be used to obtain another token: use a password (Basic) or a secret",
                    ));
                }
                self.caller(p)?
            }
            TokenRequester::Secret(secret) => {
                // Secrets are 32 random bytes: a plain digest lookup is enough (no brute force
                // is feasible); a failure is logged with the address, never the secret.
                let addr = client.peer.map(|p| p.ip());
                match self.store().user_by_secret(&digest(secret))? {
                    Some(u) => u,
                    None => {
                        tracing::warn!(peer = ?addr, "token request with an unknown secret");
                        return Err(Error::new(
                            ErrorCode::Unauthorized,
                            "The client is unauthorized due to authentication failure: unknown secret.",
                        ));
                    }
                }
            }
        };
        self.issue_for(&user, graph, lifetime_ms)
    }

    fn drop_tokens(&self, caller: &Principal, tokens: &[String]) -> Result<usize> {
        let me = self.caller(caller)?;
        let admin = self.is_admin(caller);
        let verifier = self.verifier();
        let now = now_secs();
        // Check every token first: nothing changes unless all of them can be dropped.
        let mut by_user: std::collections::BTreeMap<String, Vec<(String, i64)>> =
            Default::default();
        for t in tokens {
            let info = verifier.inspect(t, self).map_err(|r| {
                Error::argument(format!("cannot drop this token: {}", r.message(t)))
                    .with_detail(r.kind.code())
            })?;
            if info.user != me && !admin {
                return Err(Error::new(
                    ErrorCode::Forbidden,
                    format!(
                        "Permission denied: token {} belongs to another user; {} may drop only its own tokens.",
                        mask_token(t),
                        who(caller)
                    ),
                ));
            }
            by_user
                .entry(info.user)
                .or_default()
                .push((info.digest, info.expires_at));
        }
        let limit = self.token_settings().drop_limit;
        // Check every list's room first, then write.
        for (user, entries) in &by_user {
            if let Some(rec) = self.store().user(user)? {
                let live = rec.blocked.values().filter(|e| **e >= now).count();
                let adding = entries
                    .iter()
                    .filter(|(d, e)| *e >= now && !rec.blocked.contains_key(d))
                    .map(|(d, _)| d)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len();
                if live + adding > limit {
                    return Err(drop_limit_error(user, live, adding, limit));
                }
            }
        }
        let mut added = 0;
        for (user, entries) in by_user {
            match self.store().block_tokens(&user, &entries, limit, now) {
                Ok(n) => added += n,
                Err(BlockError::Limit {
                    live,
                    adding,
                    limit,
                }) => return Err(drop_limit_error(&user, live, adding, limit)),
                Err(BlockError::Other(e)) => return Err(e),
            }
            tracing::info!(user = %user, by = %me, "tokens dropped");
        }
        Ok(added)
    }

    fn clear_dropped(&self, caller: &Principal) -> Result<usize> {
        let me = self.caller(caller)?;
        let n = self.store().clear_blocked(&me, now_secs())?;
        tracing::info!(user = %me, entries = n, "block list cleared");
        Ok(n)
    }

    fn revoke_all(&self, caller: &Principal) -> Result<i64> {
        let me = self.caller(caller)?;
        // Every token issued up to this second is refused; the next second's are accepted.
        let from = now_secs() + 1;
        self.store().set_tokens_not_before(&me, from)?;
        tracing::info!(user = %me, "every token of the user revoked");
        Ok(from)
    }

    fn check(&self, token: &str) -> TokenCheck {
        match self.verifier().verify(token, self) {
            Ok(p) => TokenCheck::Valid {
                user: p.user.unwrap_or_default(),
                graph: p.graph_scope,
                expires_at: p.token.map(|t| t.expires_at).unwrap_or(0),
            },
            Err(r) => TokenCheck::Invalid {
                code: r.kind.code().to_string(),
                message: r.message(token),
            },
        }
    }
}

fn drop_limit_error(user: &str, live: usize, adding: usize, limit: usize) -> Error {
    Error::new(
        ErrorCode::ResourceLimit,
        format!(
            "Token drop refused ({TOKEN_DROP_LIMIT}): the block list of user '{user}' holds {live} live entries and may hold at most {limit} (GSQL.Token.DropLimit); dropping {adding} more would exceed it. Nothing was dropped. Entries leave the list when their token expires; to refuse every token of this user issued until now, use DELETE /gsql/v1/tokens?all=true."
        ),
    )
    .with_detail(TOKEN_DROP_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::tests::service;
    use crate::service::AuthOptions;
    use graphward_core::auth::{Authenticator, Credentials};

    fn principal(user: &str) -> Principal {
        Principal {
            user: Some(user.into()),
            ..Principal::default()
        }
    }

    fn bearer(s: &AuthService, t: &str) -> Result<Principal> {
        s.authenticate(
            &Credentials::Bearer { token: t.into() },
            &ClientInfo::default(),
        )
    }

    #[test]
    fn issued_tokens_verify_and_the_key_file_is_private() {
        let (dir, s) = service();
        let t = s.issue_for("neo4j", None, None).unwrap();
        let p = bearer(&s, &t.token).unwrap();
        assert_eq!(p.user.as_deref(), Some("neo4j"));
        assert_eq!(t.expires_at - t.issued_at, DEFAULT_LIFETIME as i64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(dir.path().join(SIGNING_KEY_FILE)).unwrap();
            assert_eq!(m.permissions().mode() & 0o777, 0o600);
        }
        // Too long a lifetime, zero lifetime, a graph the user cannot see.
        assert!(s.issue_for("neo4j", None, Some(u64::MAX)).is_err());
        assert!(s.issue_for("neo4j", None, Some(0)).is_err());
        s.store().create_user("bob", String::new(), false).unwrap();
        let e = s.issue_for("bob", Some("movies"), None).unwrap_err();
        assert_eq!(e.detail.as_deref(), Some("JWT-GRAPH-SCOPE"));
        // The key survives a restart: the token still verifies.
        drop(s);
        let (s, _) = AuthService::open(dir.path(), AuthOptions::default()).unwrap();
        assert!(bearer(&s, &t.token).is_ok());
        // Rotation keeps the previous key; a second rotation forgets it.
        s.rotate_signing_key().unwrap();
        assert!(bearer(&s, &t.token).is_ok());
        s.rotate_signing_key().unwrap();
        let e = bearer(&s, &t.token).unwrap_err();
        assert!(e.message.contains("JWT-VERIFICATION"), "{}", e.message);
    }

    #[test]
    fn block_list_limit_clear_and_revoke_all() {
        let (dir, s) = service();
        let me = principal("neo4j");
        let tokens: Vec<String> = (0..21)
            .map(|_| s.issue_for("neo4j", None, Some(60_000)).unwrap().token)
            .collect();
        assert_eq!(s.drop_tokens(&me, &tokens[..20]).unwrap(), 20);
        // Dropping again is idempotent, the 21st is refused and nothing changes.
        assert_eq!(s.drop_tokens(&me, &tokens[..1]).unwrap(), 0);
        let e = s.drop_tokens(&me, &tokens[20..]).unwrap_err();
        assert_eq!(e.detail.as_deref(), Some(TOKEN_DROP_LIMIT));
        assert!(e.message.contains("all=true"));
        assert!(bearer(&s, &tokens[20]).is_ok());
        let e = bearer(&s, &tokens[0]).unwrap_err();
        assert!(e.message.contains("JWT-BLOCKED"));
        assert!(!e.message.contains(&tokens[0]));
        assert!(
            matches!(s.check(&tokens[0]), TokenCheck::Invalid { code, .. } if code == "JWT-BLOCKED")
        );
        // Survives a restart.
        drop(s);
        let (s, _) = AuthService::open(dir.path(), AuthOptions::default()).unwrap();
        assert!(bearer(&s, &tokens[0]).is_err());
        assert_eq!(s.clear_dropped(&me).unwrap(), 20);
        assert!(bearer(&s, &tokens[0]).is_ok());
        // Expired entries leave the list by themselves.
        let now = now_secs();
        s.store()
            .block_tokens("neo4j", &[("old".into(), now - 10)], 1, now)
            .unwrap();
        s.store()
            .block_tokens("neo4j", &[("live".into(), now + 100)], 1, now)
            .unwrap();
        assert!(matches!(
            s.store()
                .block_tokens("neo4j", &[("more".into(), now + 100)], 1, now),
            Err(BlockError::Limit { live: 1, .. })
        ));
        // Revoke-all: earlier tokens refused, a later one accepted.
        s.revoke_all(&me).unwrap();
        assert!(bearer(&s, &tokens[1]).is_err());
        let later = s.issue_for("neo4j", None, None).unwrap();
        assert!(bearer(&s, &later.token).is_ok());
    }

    #[test]
    fn a_user_created_again_does_not_inherit_old_tokens() {
        let (dir, s) = service();
        s.store().create_user("bob", String::new(), false).unwrap();
        s.store().grant(Level::Read, "*", "bob").unwrap();
        let old = s.issue_for("bob", None, None).unwrap().token;
        assert!(bearer(&s, &old).is_ok());
        s.store().drop_user("bob", false).unwrap();
        drop(s);
        let (s, _) = AuthService::open(dir.path(), AuthOptions::default()).unwrap();
        s.store().create_user("bob", String::new(), false).unwrap();
        let e = bearer(&s, &old).unwrap_err();
        assert!(e.message.contains("JWT-BLOCKED"), "{}", e.message);
        let new = s.issue_for("bob", None, None).unwrap().token;
        assert!(bearer(&s, &new).is_ok());
    }

    #[test]
    fn only_own_tokens_and_malformed_ones_are_refused() {
        let (_dir, s) = service();
        s.store().create_user("bob", String::new(), false).unwrap();
        s.store().grant(Level::Read, "*", "bob").unwrap();
        let admin_token = s.issue_for("neo4j", None, None).unwrap().token;
        let bob_token = s.issue_for("bob", None, None).unwrap().token;
        let e = s
            .drop_tokens(&principal("bob"), std::slice::from_ref(&admin_token))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(!e.message.contains(&admin_token));
        // An administrator may drop anyone's.
        assert_eq!(
            s.drop_tokens(&principal("neo4j"), std::slice::from_ref(&bob_token))
                .unwrap(),
            1
        );
        for bad in ["", "garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"] {
            let e = s
                .drop_tokens(&principal("bob"), &[bad.to_string()])
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::ArgumentError, "{bad}");
        }
        assert!(
            matches!(s.check("garbage"), TokenCheck::Invalid { code, .. } if code == "JWT-FORMAT")
        );
        // Tokens cannot mint tokens.
        let p = bearer(&s, &admin_token).unwrap();
        assert!(s
            .issue(
                &TokenRequester::Principal(p),
                None,
                None,
                &ClientInfo::default()
            )
            .is_err());
    }

    #[test]
    fn secrets_issue_tokens_and_are_stored_hashed() {
        let (dir, s) = service();
        let (alias, secret) = s.create_secret("neo4j", Some("ci")).unwrap();
        assert_eq!(alias, "ci");
        assert!(s.create_secret("neo4j", Some("ci")).is_err());
        let t = s
            .issue(
                &TokenRequester::Secret(secret.clone()),
                None,
                None,
                &ClientInfo::default(),
            )
            .unwrap();
        assert_eq!(t.user, "neo4j");
        assert!(s
            .issue(
                &TokenRequester::Secret("nope".into()),
                None,
                None,
                &ClientInfo::default()
            )
            .is_err());
        let raw = std::fs::read(dir.path().join(crate::service::STORE_FILE)).unwrap();
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
        assert!(s.store().drop_secret("neo4j", "ci").unwrap());
        assert!(s
            .issue(
                &TokenRequester::Secret(secret),
                None,
                None,
                &ClientInfo::default()
            )
            .is_err());
    }

    #[test]
    fn key_file_parsing() {
        assert!(parse_key_file("").is_err());
        assert!(parse_key_file("a b").is_err());
        assert!(parse_key_file("k x AAAA").is_err());
        assert!(parse_key_file("k 1 !!!").is_err());
        assert!(parse_key_file("k 1 AAAA").is_err());
        let ring = KeyRing {
            keys: vec![new_key().unwrap()],
        };
        let back = parse_key_file(&render_key_file(&ring)).unwrap();
        assert_eq!(back.keys[0].secret, ring.keys[0].secret);
        assert!(!format!("{:?}", ring).contains(&B64.encode(&ring.keys[0].secret)));
        let bad = TokenSettings {
            drop_limit: 51,
            ..TokenSettings::default()
        };
        assert!(bad.validate().is_err());
        assert!(TokenSettings::default().validate().is_ok());
    }

    #[test]
    fn random_key_files_never_panic() {
        let good = render_key_file(&KeyRing {
            keys: vec![new_key().unwrap(), new_key().unwrap()],
        });
        assert_eq!(check_key_file(&good), Ok(2));
        let bytes = good.as_bytes();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut b = bytes.to_vec();
            let at = (seed as usize) % b.len();
            b[at] = (seed >> 32) as u8;
            b.truncate(((seed >> 16) as usize) % (b.len() + 1));
            let _ = check_key_file(&String::from_utf8_lossy(&b));
        }
    }
}
