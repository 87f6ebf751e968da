//! The authentication service: the user store, password checks, the JWT verifier, and the
//! privilege questions the rest of the server asks. Implements the core
//! [`Authenticator`](graphward_core::auth::Authenticator).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwapOption;

use graphward_core::auth::{AllowAll, Authenticator, ClientInfo, Credentials, DbmsPrivilege};
use graphward_core::engine::Principal;
use graphward_core::{Error, ErrorCode, Result};

use crate::jwt::JwtVerifier;
use crate::password::{self, CredentialCache, HashGate, RateLimiter};
use crate::store::{Level, Store, ALL_GRAPHS};
use crate::tokens::{KeyRing, TokenSettings};

/// The administrator created at the first start.
pub const ADMIN_USER: &str = "neo4j";
/// The role holding ADMIN on every graph.
pub const ADMIN_ROLE: &str = "admin";
/// The store's file, under the data directory.
pub const STORE_FILE: &str = "system/auth.redb";
/// Where a generated initial password is written, under the data directory.
pub const INITIAL_PASSWORD_FILE: &str = "initial-password";

/// Neo4j's wording for a failed login.
const AUTH_FAILED: &str = "The client is unauthorized due to authentication failure.";

/// How the service starts.
#[derive(Clone, Default)]
pub struct AuthOptions {
    /// True only with `--auth-disabled`: every client is let in with every right
    /// ([`graphward_core::auth::AllowAll`]).
    pub disabled: bool,
    /// The first administrator's password (from `--initial-password-file` or
    /// `GRAPHWARD_INITIAL_PASSWORD`); generated when absent.
    pub initial_password: Option<String>,
}

impl std::fmt::Debug for AuthOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthOptions")
            .field("disabled", &self.disabled)
            .field(
                "initial_password",
                &self.initial_password.as_ref().map(|_| "****"),
            )
            .finish()
    }
}

/// Lists the graphs that exist (the engine's databases), for the JWT `graph` claim.
pub type GraphLister = Arc<dyn Fn() -> Vec<String> + Send + Sync>;

pub struct AuthService {
    pub(crate) store: Store,
    disabled: bool,
    dummy_hash: String,
    gate: HashGate,
    limiter: RateLimiter,
    /// Recently verified passwords (HMAC digests), so Basic auth per request stays cheap.
    credentials: CredentialCache,
    /// Swapped whole by `config apply` (lock-free reads on every request).
    jwt: ArcSwapOption<JwtVerifier>,
    /// Verifies the server's own tokens when no JWT keys are configured.
    server_verifier: Arc<JwtVerifier>,
    graphs: RwLock<Option<GraphLister>>,
    /// The server's token signing keys (current first) and their file.
    pub(crate) keys: RwLock<KeyRing>,
    pub(crate) key_file: PathBuf,
    /// `GSQL.Token.*`.
    token_settings: RwLock<Arc<TokenSettings>>,
}

/// What the first start did, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstStart {
    /// Users existed already.
    No,
    /// The administrator got the configured password.
    ConfiguredPassword,
    /// The administrator got a generated password, written to this file.
    GeneratedPassword(PathBuf),
}

impl AuthService {
    /// Open the store under `data_dir`, creating the administrator at the first start.
    pub fn open(data_dir: &Path, options: AuthOptions) -> Result<(Arc<AuthService>, FirstStart)> {
        Self::open_with_limits(data_dir, options, password::HashLimits::default())
    }

    /// [`AuthService::open`] with explicit bounds on concurrent argon2id work
    /// (`--auth-hash-concurrency` and friends).
    pub fn open_with_limits(
        data_dir: &Path,
        options: AuthOptions,
        hash_limits: password::HashLimits,
    ) -> Result<(Arc<AuthService>, FirstStart)> {
        let store = Store::open(&data_dir.join(STORE_FILE))?;
        let dummy_hash = password::hash_password(&password::generate_password()?)?;
        let (keys, key_file) = crate::tokens::load_or_create_keys(data_dir)?;
        let service = AuthService {
            store,
            disabled: options.disabled,
            dummy_hash,
            gate: HashGate::new(hash_limits),
            limiter: RateLimiter::default(),
            credentials: CredentialCache::new(password::CREDENTIAL_CACHE_TTL)?,
            jwt: ArcSwapOption::empty(),
            server_verifier: Arc::new(JwtVerifier::server_only()),
            graphs: RwLock::new(None),
            keys: RwLock::new(keys),
            key_file,
            token_settings: RwLock::new(Arc::new(TokenSettings::default())),
        };
        let first = service.first_start(data_dir, options.initial_password)?;
        Ok((Arc::new(service), first))
    }

    fn first_start(&self, data_dir: &Path, initial: Option<String>) -> Result<FirstStart> {
        if !self.store.is_empty()? {
            return Ok(FirstStart::No);
        }
        let (pw, first) = match initial {
            Some(pw) => {
                password::check_password_policy(&pw).map_err(|e| {
                    Error::argument(format!(
                        "the initial password is not acceptable: {}",
                        e.message
                    ))
                })?;
                (pw, FirstStart::ConfiguredPassword)
            }
            None => {
                let pw = password::generate_password()?;
                let path = data_dir.join(INITIAL_PASSWORD_FILE);
                write_private(&path, &format!("{pw}\n"))?;
                (pw, FirstStart::GeneratedPassword(path))
            }
        };
        self.store.create_role(ADMIN_ROLE, true)?;
        self.store.create_role("reader", true)?;
        self.store.create_role("editor", true)?;
        let hash = password::hash_password(&pw)?;
        self.store.create_user(ADMIN_USER, hash, true)?;
        self.store.grant(Level::Admin, ALL_GRAPHS, ADMIN_ROLE)?;
        self.store.grant(Level::Read, ALL_GRAPHS, "reader")?;
        self.store.grant(Level::Write, ALL_GRAPHS, "editor")?;
        self.store.grant_role(ADMIN_ROLE, ADMIN_USER)?;
        Ok(first)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// Install (or replace) the JWT verifier; `None` refuses bearer tokens.
    pub fn set_jwt(&self, verifier: Option<Arc<JwtVerifier>>) {
        self.jwt.store(verifier);
    }

    /// Replace the JWT verifier at runtime (`config apply`). The block list and revoke-all
    /// live in the user store, so a dropped token stays refused; the verified-token cache
    /// starts empty, so every token is checked against the new settings. `None` refuses
    /// external bearer tokens (the server's own are still accepted).
    pub fn replace_jwt(&self, verifier: Option<JwtVerifier>) {
        self.jwt.store(verifier.map(Arc::new));
    }

    pub fn jwt(&self) -> Option<Arc<JwtVerifier>> {
        self.jwt.load_full()
    }

    /// The verifier bearer tokens go through: the configured one, else one that accepts only
    /// the server's own tokens.
    pub fn verifier(&self) -> Arc<JwtVerifier> {
        self.jwt().unwrap_or_else(|| self.server_verifier.clone())
    }

    /// The `GSQL.Token.*` settings in force.
    pub fn token_settings(&self) -> Arc<TokenSettings> {
        self.token_settings
            .read()
            .map(|t| t.clone())
            .unwrap_or_default()
    }

    /// Replace the `GSQL.Token.*` settings (at start, or at runtime by `config apply`).
    /// Out-of-range settings are refused and nothing changes.
    pub fn set_token_settings(&self, settings: TokenSettings) -> std::result::Result<(), String> {
        settings.validate()?;
        let mut t = self
            .token_settings
            .write()
            .map_err(|_| "token settings lock poisoned".to_string())?;
        *t = Arc::new(settings);
        Ok(())
    }

    /// Tell the service how to list the graphs (for the JWT `graph` claim).
    pub fn set_graph_lister(&self, lister: GraphLister) {
        if let Ok(mut g) = self.graphs.write() {
            *g = Some(lister);
        }
    }

    pub fn graph_exists(&self, graph: &str) -> bool {
        let lister = self.graphs.read().ok().and_then(|g| g.clone());
        match lister {
            Some(l) => l().iter().any(|g| g.eq_ignore_ascii_case(graph)),
            None => true,
        }
    }

    /// Hash a new password (policy checked), through the hash gate.
    pub fn hash(&self, password: &str) -> Result<String> {
        self.gate.hash(password, None)
    }

    /// Check a user's password. Costs the same whether the user exists or not; rate limited
    /// per user and address.
    pub fn check_password(&self, user: &str, pw: &str, addr: Option<IpAddr>) -> Result<()> {
        if let Err(wait) = self.limiter.check(user, addr) {
            tracing::warn!(user = %user, peer = ?addr, "login refused: too many failed attempts");
            return Err(Error::new(
                ErrorCode::AuthRateLimit,
                format!(
                    "{AUTH_FAILED} Too many failed attempts from this address: try again in {} s.",
                    wait.as_secs().max(1)
                ),
            ));
        }
        let hash = self.store.user(user)?.map(|u| u.hash);
        let known = hash.is_some();
        if !known && !self.limiter.take_unknown() {
            tracing::warn!(peer = ?addr, "login refused: too many logins for unknown users");
            return Err(Error::new(
                ErrorCode::AuthRateLimit,
                format!("{AUTH_FAILED} Too many failed logins: try again in a few seconds."),
            ));
        }
        let hash = hash.unwrap_or_else(|| self.dummy_hash.clone());
        // A password that verified recently against this very hash skips argon2id (successes
        // only: a wrong password always pays the full check).
        let ok = if known && self.credentials.hit(user, pw, &hash) {
            true
        } else {
            // The same credentials arriving at once (a pool warming up) share one check.
            let verified = if known {
                self.credentials
                    .single_flight(user, pw, &hash, || self.gate.verify(pw, &hash, addr))
            } else {
                self.gate.verify(pw, &hash, addr)
            };
            let ok = verified.inspect_err(|_| {
                tracing::warn!(user = %user, peer = ?addr, "login refused: password checks at their bound");
            })? && known;
            if ok {
                self.credentials.remember(user, pw, &hash);
            }
            ok
        };
        if ok {
            self.limiter.success(user, addr);
            Ok(())
        } else {
            self.limiter.failure(user, addr);
            tracing::warn!(user = %user, peer = ?addr, "login failed: wrong user name or password");
            Err(Error::new(ErrorCode::Unauthorized, AUTH_FAILED))
        }
    }

    /// The level a principal has on `graph` (`*` asks for every graph: global privileges).
    /// With authentication on, this is read from the store as it is now.
    pub fn level(&self, principal: &Principal, graph: &str) -> Option<Level> {
        if self.disabled {
            return Some(Level::Admin);
        }
        let user = principal.user.as_deref()?;
        if let Some(scope) = &principal.graph_scope {
            if graph == ALL_GRAPHS || !scope.eq_ignore_ascii_case(graph) {
                return None;
            }
        }
        self.store.level(user, graph)
    }

    /// A client certificate the TLS layer verified against the operator's client CA: its
    /// subject CN or a SAN names the user (the first name that is a user wins).
    fn authenticate_certificate(
        &self,
        names: &[String],
        addr: Option<IpAddr>,
    ) -> Result<Principal> {
        match names.iter().find(|n| self.store.user_exists(n)) {
            Some(user) => {
                tracing::info!(user = %user, peer = ?addr, "authenticated by client certificate");
                Ok(Principal {
                    user: Some(user.clone()),
                    ..Principal::default()
                })
            }
            None => {
                tracing::warn!(names = ?names, peer = ?addr, "client certificate names no user");
                Err(Error::new(
                    ErrorCode::Unauthorized,
                    format!(
                        "The client certificate (names: {}) does not name a user: create the user, or send a user name and password or a token.",
                        names.join(", ")
                    ),
                ))
            }
        }
    }

    /// `Forbidden` unless the principal has ADMIN on every graph.
    pub fn require_admin(&self, principal: &Principal) -> Result<()> {
        if self.level(principal, ALL_GRAPHS) == Some(Level::Admin) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::Forbidden,
                format!(
                    "Permission denied: this command needs ADMIN ON GRAPH * ({} does not have it).",
                    who(principal)
                ),
            ))
        }
    }
}

/// "user 'x'" for messages.
pub fn who(principal: &Principal) -> String {
    match &principal.user {
        Some(u) => format!("user '{u}'"),
        None => "an anonymous client".to_string(),
    }
}

/// Write `text` to `path`, readable by the owner only.
pub(crate) fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let err = |e: std::io::Error| Error::internal(format!("cannot write {}: {e}", path.display()));
    let mut f = o.open(path).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}

impl Authenticator for AuthService {
    fn authenticate(&self, credentials: &Credentials, client: &ClientInfo) -> Result<Principal> {
        let addr = client.peer.map(|p| p.ip());
        if self.disabled {
            return AllowAll.authenticate(credentials, client);
        }
        match credentials {
            // No credentials sent: a client certificate the TLS layer verified may name the user.
            Credentials::None => match &client.client_certificate {
                Some(names) => self.authenticate_certificate(names, addr),
                None => Err(Error::new(
                    ErrorCode::Unauthorized,
                    "Authentication required: send a user name and password (scheme basic) or a token (scheme bearer).",
                )),
            },
            Credentials::ClientCertificate { names } => self.authenticate_certificate(names, addr),
            Credentials::Basic { user, password } => {
                self.check_password(user, password, addr)?;
                Ok(Principal {
                    user: Some(user.clone()),
                    ..Principal::default()
                })
            }
            Credentials::Bearer { token } => self
                .verifier()
                .verify(token, self)
                .map_err(|r| r.into_error(token)),
        }
    }

    fn allows(&self, principal: &Principal, privilege: DbmsPrivilege) -> bool {
        if self.disabled {
            return AllowAll.allows(principal, privilege);
        }
        match (&principal.user, &principal.graph_scope) {
            // A token narrowed to one graph carries no server-wide privilege.
            (Some(user), None) => self.store.has_dbms(user, privilege),
            _ => false,
        }
    }

    fn recheck(&self, principal: &Principal) -> Result<()> {
        if self.disabled {
            return AllowAll.recheck(principal);
        }
        let Some(user) = principal.user.as_deref() else {
            return Err(Error::new(ErrorCode::Unauthorized, "not authenticated"));
        };
        // A lookup in the in-memory table, without copying the record (once per statement).
        let verifier = principal.token.as_ref().map(|_| self.verifier());
        let token_check =
            self.store
                .with_user(user, |rec| match (&principal.token, &verifier) {
                    (Some(token), Some(v)) => v.recheck(token, rec),
                    _ => Ok(()),
                })?;
        let Some(token_check) = token_check else {
            return Err(Error::new(
                ErrorCode::Unauthorized,
                format!("User does not exist: user '{user}' was dropped."),
            ));
        };
        token_check
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> ClientInfo {
        ClientInfo {
            client_certificate: None,
            peer: "127.0.0.1:5000".parse().ok(),
            protocol: "test",
        }
    }

    #[test]
    fn first_start_with_configured_password() {
        let dir = tempfile::tempdir().unwrap();
        let (s, first) = AuthService::open(
            dir.path(),
            AuthOptions {
                disabled: false,
                initial_password: Some("password".into()),
            },
        )
        .unwrap();
        assert_eq!(first, FirstStart::ConfiguredPassword);
        let ok = s.authenticate(
            &Credentials::Basic {
                user: "neo4j".into(),
                password: "password".into(),
            },
            &client(),
        );
        assert_eq!(ok.unwrap().user.as_deref(), Some("neo4j"));
        let bad = s.authenticate(
            &Credentials::Basic {
                user: "neo4j".into(),
                password: "nope-nope".into(),
            },
            &client(),
        );
        assert_eq!(bad.unwrap_err().code, ErrorCode::Unauthorized);
        let missing = s.authenticate(
            &Credentials::Basic {
                user: "ghost".into(),
                password: "password".into(),
            },
            &client(),
        );
        assert_eq!(missing.unwrap_err().code, ErrorCode::Unauthorized);
        assert!(s.authenticate(&Credentials::None, &client()).is_err());
        drop(s);
        // A restart keeps the user and does not rewrite the password.
        let (s, first) = AuthService::open(
            dir.path(),
            AuthOptions {
                disabled: false,
                initial_password: Some("another-one".into()),
            },
        )
        .unwrap();
        assert_eq!(first, FirstStart::No);
        assert!(s.check_password("neo4j", "password", None).is_ok());
    }

    #[test]
    fn first_start_generates_a_private_password_file() {
        let dir = tempfile::tempdir().unwrap();
        let (s, first) = AuthService::open(dir.path(), AuthOptions::default()).unwrap();
        let FirstStart::GeneratedPassword(path) = first else {
            panic!("expected a generated password");
        };
        let pw = std::fs::read_to_string(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(s.check_password("neo4j", pw.trim(), None).is_ok());
    }
}
