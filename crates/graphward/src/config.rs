//! Server configuration: every setting from a command-line flag, an environment variable
//! `GRAPHWARD_<FLAG>`, a TOML file, or its default — in that order of precedence.
//!
//! The layering is explicit: [`SETTINGS`] lists each setting once (its name, which is also its
//! TOML key, and its flag; the environment variable name is derived from the flag), and
//! [`Layers::lookup`] asks the flag, then the environment, then the file. Values from every
//! source go through the same parsers, so an error always names the setting, the offending
//! value and where it came from. Nothing here panics on input.
//!
//! The operator-facing reference is `docs/configuration.md`; keep the two in step.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use graphward_bolt::BoltConfig;
use graphward_core::engine::{AutoCompact, EngineConfig, Limits};
use graphward_core::preauth::PreAuthLimits;
use graphward_http::HttpLimits;

use crate::cli::ServeArgs;

/// Environment variable naming the config file (the `--config` flag wins over it).
pub const CONFIG_ENV: &str = "GRAPHWARD_CONFIG";
/// Fallback for the log filter after `GRAPHWARD_LOG_LEVEL`.
pub const RUST_LOG_ENV: &str = "RUST_LOG";
/// Longest duration any setting accepts (guards against overflowing `Instant` arithmetic).
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// One configurable setting. `name` is its TOML key (dotted for sections: `bolt.port` is `port`
/// in `[bolt]`); `flag` is the long flag without dashes; the environment variable is
/// `GRAPHWARD_` + the flag upper-cased with `-` turned into `_`.
pub struct Setting {
    pub name: &'static str,
    pub flag: &'static str,
    cli: fn(&ServeArgs) -> Option<&String>,
    /// What a running server does when the setting changes (`config apply`).
    pub runtime: Runtime,
}

/// What a running server does with a changed setting on `config apply` / `RELOAD CONFIG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Takes effect at the next restart.
    Restart,
    /// `Security.JWT.*`: a new JWT verifier is built and swapped in.
    Jwt,
    /// `GSQL.Token.*`: the token settings are checked together and replaced.
    Tokens,
}

impl Setting {
    pub fn env_var(&self) -> String {
        format!(
            "GRAPHWARD_{}",
            self.flag.to_ascii_uppercase().replace('-', "_")
        )
    }
}

macro_rules! setting {
    ($name:literal, $flag:literal, $field:ident) => {
        setting!($name, $flag, $field, Runtime::Restart)
    };
    ($name:literal, $flag:literal, $field:ident, $runtime:expr) => {
        Setting {
            name: $name,
            flag: $flag,
            cli: |a: &ServeArgs| a.$field.as_ref(),
            runtime: $runtime,
        }
    };
}

/// Every setting `serve` understands (except `--config` itself, which names the file).
pub static SETTINGS: &[Setting] = &[
    setting!("data_dir", "data-dir", data_dir),
    setting!("default_database", "default-database", default_database),
    setting!("log_level", "log-level", log_level),
    setting!("bolt.address", "bolt-address", bolt_address),
    setting!("bolt.port", "bolt-port", bolt_port),
    setting!("bolt.server_agent", "bolt-server-agent", bolt_server_agent),
    setting!(
        "bolt.max_message_size",
        "bolt-max-message-size",
        bolt_max_message_size
    ),
    setting!(
        "bolt.max_connections",
        "bolt-max-connections",
        bolt_max_connections
    ),
    setting!("bolt.idle_timeout", "bolt-idle-timeout", bolt_idle_timeout),
    setting!(
        "bolt.transaction_idle_timeout",
        "transaction-idle-timeout",
        transaction_idle_timeout
    ),
    setting!(
        "bolt.advertised_address",
        "bolt-advertised-address",
        bolt_advertised_address
    ),
    setting!(
        "bolt.ws_allowed_origins",
        "bolt-ws-allowed-origins",
        bolt_ws_allowed_origins
    ),
    setting!("http.address", "http-address", http_address),
    setting!("http.port", "http-port", http_port),
    setting!(
        "http.max_body_size",
        "http-max-body-size",
        http_max_body_size
    ),
    setting!(
        "http.max_result_size",
        "http-max-result-size",
        http_max_result_size
    ),
    setting!(
        "http.transaction_idle_timeout",
        "http-transaction-idle-timeout",
        http_transaction_idle_timeout
    ),
    setting!(
        "http.max_transactions",
        "http-max-transactions",
        http_max_transactions
    ),
    setting!(
        "http.max_connections",
        "http-max-connections",
        http_max_connections
    ),
    setting!(
        "limits.max_query_length",
        "max-query-length",
        max_query_length
    ),
    setting!(
        "limits.max_nesting_depth",
        "max-nesting-depth",
        max_nesting_depth
    ),
    setting!("limits.max_rows", "max-rows", max_rows),
    setting!(
        "limits.max_query_memory",
        "max-query-memory",
        max_query_memory
    ),
    setting!(
        "limits.max_total_query_memory",
        "max-total-query-memory",
        max_total_query_memory
    ),
    setting!("limits.query_timeout", "query-timeout", query_timeout),
    setting!(
        "limits.transaction_timeout",
        "transaction-timeout",
        transaction_timeout
    ),
    setting!(
        "limits.snapshot_warning_age",
        "snapshot-warning-age",
        snapshot_warning_age
    ),
    setting!("limits.bookmark_wait", "bookmark-wait", bookmark_wait),
    setting!(
        "storage.auto_compact_growth",
        "auto-compact-growth",
        auto_compact_growth
    ),
    setting!(
        "storage.auto_compact_min_size",
        "auto-compact-min-size",
        auto_compact_min_size
    ),
    setting!("import_dir", "import-dir", import_dir),
    setting!("auth.disabled", "auth-disabled", auth_disabled),
    setting!(
        "auth.initial_password_file",
        "initial-password-file",
        initial_password_file
    ),
    setting!(
        "auth.hash_concurrency",
        "auth-hash-concurrency",
        auth_hash_concurrency
    ),
    setting!("auth.hash_queue", "auth-hash-queue", auth_hash_queue),
    setting!("preauth.timeout", "preauth-timeout", preauth_timeout),
    setting!(
        "preauth.max_per_address",
        "preauth-max-per-address",
        preauth_max_per_address
    ),
    setting!(
        "preauth.max_connections",
        "preauth-max-connections",
        preauth_max_connections
    ),
    setting!(
        "Security.JWT.HMAC.Secret",
        "jwt-hmac-secret",
        jwt_hmac_secret,
        Runtime::Jwt
    ),
    setting!(
        "Security.JWT.RSA.PublicKey",
        "jwt-rsa-public-key",
        jwt_rsa_public_key,
        Runtime::Jwt
    ),
    setting!(
        "Security.JWT.JWKS.URL",
        "jwt-jwks-url",
        jwt_jwks_url,
        Runtime::Jwt
    ),
    setting!(
        "Security.JWT.Issuer",
        "jwt-issuer",
        jwt_issuer,
        Runtime::Jwt
    ),
    setting!(
        "Security.JWT.Audience",
        "jwt-audience",
        jwt_audience,
        Runtime::Jwt
    ),
    setting!(
        "Security.JWT.Leeway",
        "jwt-leeway",
        jwt_leeway,
        Runtime::Jwt
    ),
    setting!(
        "Security.JWT.MaxLifetime",
        "jwt-max-lifetime",
        jwt_max_lifetime,
        Runtime::Jwt
    ),
    setting!(
        "Security.JWT.RequireLowS",
        "jwt-require-low-s",
        jwt_require_low_s,
        Runtime::Jwt
    ),
    setting!(
        "Security.JWT.MaxTokenSize",
        "jwt-max-token-size",
        jwt_max_token_size,
        Runtime::Jwt
    ),
    setting!(
        "GSQL.Token.DropLimit",
        "token-drop-limit",
        token_drop_limit,
        Runtime::Tokens
    ),
    setting!(
        "GSQL.Token.Lifetime",
        "token-lifetime",
        token_lifetime,
        Runtime::Tokens
    ),
    setting!(
        "GSQL.Token.MaxLifetime",
        "token-max-lifetime",
        token_max_lifetime,
        Runtime::Tokens
    ),
    setting!(
        "GSQL.Token.Issuer",
        "token-issuer",
        token_issuer,
        Runtime::Tokens
    ),
    setting!("bolt.cert_file", "bolt-cert-file", bolt_cert_file),
    setting!("bolt.key_file", "bolt-key-file", bolt_key_file),
    setting!(
        "bolt.key_password_file",
        "bolt-key-password-file",
        bolt_key_password_file
    ),
    setting!("http.cert_file", "tls-cert", tls_cert),
    setting!("http.key_file", "tls-key", tls_key),
    setting!(
        "http.key_password_file",
        "tls-key-password-file",
        tls_key_password_file
    ),
    setting!("tls.min_version", "tls-min-version", tls_min_version),
    setting!(
        "tls.strict_ciphers",
        "tls-strict-ciphers",
        tls_strict_ciphers
    ),
    setting!(
        "tls.expiry_warning",
        "tls-expiry-warning",
        tls_expiry_warning
    ),
    setting!(
        "tls.allow_insecure_key_permissions",
        "allow-insecure-key-permissions",
        allow_insecure_key_permissions
    ),
    setting!(
        "tls.client_ca_file",
        "tls-client-ca-file",
        tls_client_ca_file
    ),
    setting!("tls.client_auth", "tls-client-auth", tls_client_auth),
    setting!("tls.watch", "tls-watch", tls_watch),
];

/// Top-level TOML tables whose keys nest (`[Security.JWT.HMAC] Secret = ...`); their settings
/// are named by the dotted path (`Security.JWT.HMAC.Secret`), as in TigerGraph.
const NESTED: &[&str] = &["Security", "GSQL"];

/// Environment variable holding the first administrator's password (not a flag: a password
/// on the command line would show in `ps`).
pub const INITIAL_PASSWORD_ENV: &str = "GRAPHWARD_INITIAL_PASSWORD";

/// Environment variable holding the password of an encrypted Bolt key (read at every load and
/// reload; never a flag, so it does not show in `ps`).
pub const BOLT_KEY_PASSWORD_ENV: &str = "GRAPHWARD_BOLT_KEY_PASSWORD";
/// Environment variable holding the password of an encrypted HTTP key.
pub const TLS_KEY_PASSWORD_ENV: &str = "GRAPHWARD_TLS_KEY_PASSWORD";
/// Poll period of `--tls-watch true`.
pub const DEFAULT_TLS_WATCH_PERIOD: Duration = Duration::from_secs(2);

/// TOML sections (tables) the file may contain.
const SECTIONS: &[&str] = &["bolt", "http", "limits", "tls", "auth"];

pub(crate) fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Settings a running server re-applies on `config apply` / `RELOAD CONFIG`; every other
/// setting needs a restart.
pub fn reapplicable(name: &str) -> bool {
    runtime(name) != Runtime::Restart
}

/// What a running server does when setting `name` changes (an unknown name: a restart).
pub fn runtime(name: &str) -> Runtime {
    setting(name).map_or(Runtime::Restart, |s| s.runtime)
}

/// Settings whose value is never shown (`config get`, `config entry`, logs): `****` and where
/// it came from.
pub fn is_secret(name: &str) -> bool {
    matches!(
        name,
        "Security.JWT.HMAC.Secret" | "bolt.key_password_file" | "http.key_password_file"
    )
}

/// Where in the TOML file a setting lives: the table path and the key (`bolt.port` is `port`
/// in `[bolt]`; `Security.JWT.HMAC.Secret` is `Secret` in `[Security.JWT.HMAC]`; `data_dir`
/// is at the top).
pub fn toml_location(name: &'static str) -> (Vec<&'static str>, &'static str) {
    match name.rsplit_once('.') {
        None => (Vec::new(), name),
        Some((table, key)) => {
            if NESTED.iter().any(|n| name.starts_with(n)) {
                (table.split('.').collect(), key)
            } else {
                (vec![table], key)
            }
        }
    }
}

/// Every setting's effective raw value and its source (`None`: not set, the default applies).
pub(crate) type Effective = BTreeMap<&'static str, Option<(Raw, Source)>>;

/// Resolve like [`resolve`], and also return each setting's raw value and source (for
/// `config get` and for comparing before/after a `config apply`).
pub(crate) fn resolve_effective<E: Fn(&str) -> Option<String>>(
    args: &ServeArgs,
    env: &E,
    file: Option<(PathBuf, &str)>,
) -> Result<(Config, Effective), ConfigError> {
    let config = resolve(args, env, file.clone())?;
    Ok((config, effective(args, env, file)?))
}

/// Each setting's raw value and source, without validating the values.
pub(crate) fn effective<E: Fn(&str) -> Option<String>>(
    args: &ServeArgs,
    env: &E,
    file: Option<(PathBuf, &str)>,
) -> Result<Effective, ConfigError> {
    let l = Layers::new(args, env, &file)?;
    Ok(SETTINGS.iter().map(|s| (s.name, l.lookup(s))).collect())
}

impl Raw {
    /// The value as the operator would write it (TOML-like), for `config get`.
    pub(crate) fn display(&self) -> String {
        match self {
            Raw::Text(t) => format!("{t:?}"),
            Raw::Int(i) => i.to_string(),
            Raw::List(items) => format!("{items:?}"),
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(String),
    File { path: PathBuf, key: String },
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "command-line flag --{flag}"),
            Source::Env(var) => write!(f, "environment variable {var}"),
            Source::File { path, key } => {
                write!(f, "config file {}, key `{key}`", path.display())
            }
            Source::Default => write!(f, "built-in default"),
        }
    }
}

/// A configuration error; the message is meant for the operator, as is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path} (given by {origin}): {error}")]
    ReadFile {
        path: PathBuf,
        origin: Source,
        error: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("unknown key `{key}` in config file {path}; known keys: {known}")]
    UnknownKey {
        path: PathBuf,
        key: String,
        known: String,
    },
    #[error("environment variable {var} is not valid UTF-8")]
    NotUnicode { var: String },
    #[error("invalid value {value} for setting `{setting}` (from {origin}): {reason}")]
    Invalid {
        setting: &'static str,
        origin: Source,
        value: String,
        reason: String,
    },
}

/// A value as a source gave it: text (flags, environment, TOML strings), a TOML integer, or a
/// TOML array of strings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw {
    Text(String),
    Int(i64),
    List(Vec<String>),
}

impl Raw {
    /// How the value is quoted in error messages (`{:?}` escapes control characters, so a
    /// hostile value cannot forge log lines).
    fn shown(&self) -> String {
        let s = match self {
            Raw::Text(s) => format!("{s:?}"),
            Raw::Int(i) => i.to_string(),
            Raw::List(items) => format!("{items:?}"),
        };
        if s.chars().count() > 120 {
            let cut: String = s.chars().take(117).collect();
            format!("{cut}...")
        } else {
            s
        }
    }
}

/// The Bolt listener's settings.
#[derive(Debug, Clone)]
pub struct BoltSettings {
    pub address: String,
    pub port: u16,
    pub config: BoltConfig,
}

/// The HTTP listener's settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub address: String,
    pub port: u16,
    pub limits: HttpLimits,
}

/// TLS of the listeners: `None` means that listener speaks plaintext.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    pub bolt: Option<graphward_tls::TlsSettings>,
    pub http: Option<graphward_tls::TlsSettings>,
    /// Poll period of the file watcher (`--tls-watch`), if on.
    pub watch: Option<Duration>,
}

/// Authentication settings.
#[derive(Clone, Default)]
pub struct AuthSettings {
    /// `--auth-disabled`: every client is an administrator.
    pub disabled: bool,
    /// `--initial-password-file`.
    pub initial_password_file: Option<PathBuf>,
    /// `GRAPHWARD_INITIAL_PASSWORD` (a secret: never printed).
    pub initial_password: Option<String>,
    /// `Security.JWT.*`.
    pub jwt: graphward_auth::jwt::JwtConfig,
    /// `GSQL.Token.*`.
    pub tokens: graphward_auth::tokens::TokenSettings,
    /// `auth.hash_*`: bounds on concurrent argon2id work.
    pub hash_limits: graphward_auth::password::HashLimits,
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSettings")
            .field("disabled", &self.disabled)
            .field("initial_password_file", &self.initial_password_file)
            .field(
                "initial_password",
                &self.initial_password.as_ref().map(|_| "****"),
            )
            .field("jwt", &self.jwt)
            .field("tokens", &self.tokens)
            .field("hash_limits", &self.hash_limits)
            .finish()
    }
}

/// The resolved configuration of `graphward serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// A `tracing_subscriber::EnvFilter` directive string.
    pub log_filter: String,
    pub engine: EngineConfig,
    pub bolt: BoltSettings,
    pub http: HttpSettings,
    pub tls: TlsConfig,
    pub auth: AuthSettings,
}

/// A value for an error message: secrets are never shown.
fn shown_value(name: &str, raw: &Raw) -> String {
    if is_secret(name) {
        "****".to_string()
    } else {
        raw.shown()
    }
}

impl ConfigError {
    /// The setting (or file key) the error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { setting, .. } => Some(setting),
            ConfigError::UnknownKey { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// The sources, in precedence order.
struct Layers<'a, E: Fn(&str) -> Option<String>> {
    args: &'a ServeArgs,
    env: &'a E,
    file_path: PathBuf,
    file: BTreeMap<&'static str, Raw>,
}

impl<'a, E: Fn(&str) -> Option<String>> Layers<'a, E> {
    /// The layers over `file` (`(path, contents)`), whose keys are checked here.
    fn new(
        args: &'a ServeArgs,
        env: &'a E,
        file: &Option<(PathBuf, &str)>,
    ) -> Result<Self, ConfigError> {
        let (file_path, file_values) = match file {
            Some((path, text)) => (path.clone(), parse_file(path, text)?),
            None => (PathBuf::new(), BTreeMap::new()),
        };
        Ok(Layers {
            args,
            env,
            file_path,
            file: file_values,
        })
    }

    /// The highest-precedence value given for `s`, and its source. An empty environment
    /// variable counts as unset.
    fn lookup(&self, s: &'static Setting) -> Option<(Raw, Source)> {
        if let Some(v) = (s.cli)(self.args) {
            return Some((Raw::Text(v.clone()), Source::Flag(s.flag)));
        }
        let var = s.env_var();
        if let Some(v) = (self.env)(&var).filter(|v| !v.is_empty()) {
            return Some((Raw::Text(v), Source::Env(var)));
        }
        if s.name == "log_level" {
            if let Some(v) = (self.env)(RUST_LOG_ENV).filter(|v| !v.is_empty()) {
                return Some((Raw::Text(v), Source::Env(RUST_LOG_ENV.to_string())));
            }
        }
        self.file.get(s.name).map(|v| {
            (
                v.clone(),
                Source::File {
                    path: self.file_path.clone(),
                    key: s.name.to_string(),
                },
            )
        })
    }

    /// An error about a setting that conflicts with others, naming where it was given.
    fn conflict(&self, name: &'static str, reason: &str) -> ConfigError {
        let found = setting(name).and_then(|s| self.lookup(s));
        let (origin, value) = match found {
            Some((raw, origin)) => (origin, shown_value(name, &raw)),
            None => (Source::Default, "(unset)".to_string()),
        };
        ConfigError::Invalid {
            setting: setting(name).map(|s| s.name).unwrap_or("tls"),
            origin,
            value,
            reason: reason.to_string(),
        }
    }

    /// Look `name` up and parse it with `parse`, or return `default`.
    fn get<T>(
        &self,
        name: &'static str,
        default: T,
        parse: impl Fn(&Raw) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let Some(s) = setting(name) else {
            // A typo in this file, not operator input (the tests cover every name).
            return Err(ConfigError::Invalid {
                setting: name,
                origin: Source::Default,
                value: String::new(),
                reason: "internal error: setting missing from SETTINGS".to_string(),
            });
        };
        match self.lookup(s) {
            None => Ok(default),
            Some((raw, origin)) => parse(&raw).map_err(|reason| ConfigError::Invalid {
                setting: s.name,
                origin,
                value: shown_value(s.name, &raw),
                reason,
            }),
        }
    }
}

/// Load the configuration from the process: its environment and the config file it names.
pub fn load_from_process(args: &ServeArgs) -> Result<Config, ConfigError> {
    let vars = SETTINGS
        .iter()
        .map(Setting::env_var)
        .chain([CONFIG_ENV.to_string(), RUST_LOG_ENV.to_string()]);
    for var in vars {
        if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(&var) {
            return Err(ConfigError::NotUnicode { var });
        }
    }
    load(args, |k| std::env::var(k).ok())
}

/// The config file named by `--config` / `GRAPHWARD_CONFIG`, if any.
pub fn config_file_of(args: &ServeArgs) -> Option<PathBuf> {
    args.config.as_ref().map(PathBuf::from).or_else(|| {
        std::env::var(CONFIG_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// Load the configuration: the file named by `--config` / `GRAPHWARD_CONFIG` (if any) is read
/// from disk; `env` looks environment variables up (`std::env::var(..).ok()` in production).
pub fn load(args: &ServeArgs, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let file_ref = match &args.config {
        Some(p) => Some((PathBuf::from(p), Source::Flag("config"))),
        None => env(CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(|p| (PathBuf::from(p), Source::Env(CONFIG_ENV.to_string()))),
    };
    let file = match file_ref {
        None => None,
        Some((path, origin)) => match std::fs::read_to_string(&path) {
            Ok(text) => Some((path, text)),
            Err(error) => {
                return Err(ConfigError::ReadFile {
                    path,
                    origin,
                    error,
                })
            }
        },
    };
    resolve(
        args,
        &env,
        file.as_ref().map(|(p, t)| (p.clone(), t.as_str())),
    )
}

/// Resolve the configuration from the flags, the environment and the text of the config file
/// (`(path, contents)`), without touching the disk or the process environment.
pub fn resolve<E: Fn(&str) -> Option<String>>(
    args: &ServeArgs,
    env: &E,
    file: Option<(PathBuf, &str)>,
) -> Result<Config, ConfigError> {
    let l = Layers::new(args, env, &file)?;

    let limits_default = Limits::default();
    let bolt_default = BoltConfig::default();

    let data_dir = l.get("data_dir", PathBuf::from("./data"), |r| {
        text(r).and_then(non_empty).map(PathBuf::from)
    })?;
    let default_database = l.get("default_database", "neo4j".to_string(), |r| {
        text(r).and_then(database_name)
    })?;
    let import_dir = l.get("import_dir", None, |r| {
        let dir = PathBuf::from(text(r).and_then(non_empty)?);
        if dir.is_dir() {
            Ok(Some(dir))
        } else {
            Err("must be an existing directory".to_string())
        }
    })?;
    let log_filter = l.get("log_level", "info".to_string(), |r| {
        text(r).and_then(log_filter)
    })?;

    let preauth_default = PreAuthLimits::default();
    let preauth = PreAuthLimits {
        timeout: l.get("preauth.timeout", preauth_default.timeout, |r| {
            duration(r)?.ok_or_else(|| "must be greater than zero".to_string())
        })?,
        max_per_address: l.get(
            "preauth.max_per_address",
            preauth_default.max_per_address,
            |r| count(r, 1).and_then(to_usize),
        )?,
        max_total: l.get("preauth.max_connections", preauth_default.max_total, |r| {
            count(r, 1).and_then(to_usize)
        })?,
    };
    let bolt_port = l.get("bolt.port", 7687, port)?;
    let bolt_bind = l.get("bolt.address", "127.0.0.1".to_string(), bind_address)?;
    let bolt = BoltSettings {
        address: bolt_bind.clone(),
        port: bolt_port,
        config: BoltConfig {
            server_agent: l.get("bolt.server_agent", bolt_default.server_agent, |r| {
                text(r).and_then(server_agent)
            })?,
            max_message_size: l.get(
                "bolt.max_message_size",
                bolt_default.max_message_size,
                |r| size(r, 1024).and_then(to_usize),
            )?,
            max_connections: l.get("bolt.max_connections", bolt_default.max_connections, |r| {
                count(r, 1).and_then(to_usize)
            })?,
            idle_timeout: l.get("bolt.idle_timeout", bolt_default.idle_timeout, |r| {
                duration(r)?.ok_or_else(|| "must be greater than zero".to_string())
            })?,
            transaction_idle_timeout: l.get(
                "bolt.transaction_idle_timeout",
                bolt_default.transaction_idle_timeout,
                |r| duration(r)?.ok_or_else(|| "must be greater than zero".to_string()),
            )?,
            advertised_address: l.get(
                "bolt.advertised_address",
                bolt_default.advertised_address,
                |r| advertised_address(r, bolt_port).map(Some),
            )?,
            ws_allowed_origins: l.get(
                "bolt.ws_allowed_origins",
                bolt_default.ws_allowed_origins,
                origins,
            )?,
            preauth,
            listen_address: listen_address(&bolt_bind, bolt_port),
            ..bolt_default
        },
    };
    let http_default = HttpLimits::default();
    let http = HttpSettings {
        address: l.get("http.address", "127.0.0.1".to_string(), bind_address)?,
        port: l.get("http.port", 7474, port)?,
        limits: HttpLimits {
            max_body_bytes: l.get("http.max_body_size", http_default.max_body_bytes, |r| {
                size(r, 1024).and_then(to_usize)
            })?,
            max_result_bytes: l.get(
                "http.max_result_size",
                http_default.max_result_bytes,
                |r| size(r, 1024),
            )?,
            transaction_idle_timeout: l.get(
                "http.transaction_idle_timeout",
                http_default.transaction_idle_timeout,
                |r| duration(r)?.ok_or_else(|| "must be greater than zero".to_string()),
            )?,
            max_transactions: l.get(
                "http.max_transactions",
                http_default.max_transactions,
                |r| count(r, 1).and_then(to_usize),
            )?,
            max_connections: l.get("http.max_connections", http_default.max_connections, |r| {
                count(r, 1).and_then(to_usize)
            })?,
            preauth,
        },
    };
    let limits = Limits {
        max_query_length: l.get(
            "limits.max_query_length",
            limits_default.max_query_length,
            |r| size(r, 1).and_then(to_usize),
        )?,
        max_nesting_depth: l.get(
            "limits.max_nesting_depth",
            limits_default.max_nesting_depth,
            |r| count(r, 1).and_then(to_usize),
        )?,
        max_rows: l.get("limits.max_rows", limits_default.max_rows, |r| count(r, 1))?,
        max_memory_bytes: l.get(
            "limits.max_query_memory",
            limits_default.max_memory_bytes,
            |r| size(r, 1),
        )?,
        max_total_memory_bytes: l.get(
            "limits.max_total_query_memory",
            default_total_query_memory(),
            |r| size(r, 1),
        )?,
        query_timeout: l.get(
            "limits.query_timeout",
            limits_default.query_timeout,
            duration,
        )?,
        transaction_timeout: l.get(
            "limits.transaction_timeout",
            limits_default.transaction_timeout,
            duration,
        )?,
        snapshot_warning_age: l.get(
            "limits.snapshot_warning_age",
            limits_default.snapshot_warning_age,
            duration,
        )?,
        bookmark_wait: l.get(
            "limits.bookmark_wait",
            limits_default.bookmark_wait,
            duration,
        )?,
    };

    let compact_default = AutoCompact::default();
    let growth = l.get(
        "storage.auto_compact_growth",
        compact_default.growth_percent,
        |r| count(r, 0),
    )?;
    let auto_compact = (growth > 0)
        .then(|| -> Result<AutoCompact, ConfigError> {
            Ok(AutoCompact {
                growth_percent: growth,
                min_bytes: l.get(
                    "storage.auto_compact_min_size",
                    compact_default.min_bytes,
                    |r| size(r, 0),
                )?,
            })
        })
        .transpose()?;

    let tls = tls_config(&l)?;
    let auth = AuthSettings {
        disabled: l.get("auth.disabled", false, boolean)?,
        initial_password_file: l.get("auth.initial_password_file", None, |r| {
            text(r).and_then(non_empty).map(|p| Some(PathBuf::from(p)))
        })?,
        initial_password: env(INITIAL_PASSWORD_ENV).filter(|v| !v.is_empty()),
        jwt: jwt_config(&l)?,
        tokens: token_settings(&l)?,
        hash_limits: {
            let d = graphward_auth::password::HashLimits::default();
            graphward_auth::password::HashLimits {
                concurrency: l.get("auth.hash_concurrency", d.concurrency, |r| {
                    count(r, 1).and_then(to_usize)
                })?,
                queue: l.get("auth.hash_queue", d.queue, |r| {
                    count(r, 0).and_then(to_usize)
                })?,
                ..d
            }
        },
    };

    Ok(Config {
        config_file: file.map(|(p, _)| p),
        auth,
        data_dir,
        log_filter,
        engine: EngineConfig {
            default_database,
            limits,
            auto_compact,
            import_dir,
            bolt_address: bolt
                .config
                .advertised_address
                .clone()
                .unwrap_or_else(|| bolt.config.listen_address.clone()),
        },
        bolt,
        http,
        tls,
    })
}

/// The TLS settings of both listeners. A listener has TLS when its certificate and key are
/// both given; one without the other, or a password file without a key, is an error.
fn tls_config<E: Fn(&str) -> Option<String>>(l: &Layers<'_, E>) -> Result<TlsConfig, ConfigError> {
    use graphward_tls::{ClientAuth, TlsVersion, DEFAULT_EXPIRY_WARNING};
    let path = |r: &Raw| text(r).and_then(non_empty).map(PathBuf::from);
    let min_version = l.get("tls.min_version", TlsVersion::V1_2, |r| {
        scalar(r)?.parse::<TlsVersion>()
    })?;
    let strict_ciphers = l.get("tls.strict_ciphers", false, boolean)?;
    let expiry_warning = l.get("tls.expiry_warning", DEFAULT_EXPIRY_WARNING, |r| {
        Ok(duration(r)?.unwrap_or(Duration::ZERO))
    })?;
    let allow_insecure = l.get("tls.allow_insecure_key_permissions", false, boolean)?;
    let client_ca_file = l.get("tls.client_ca_file", None, |r| path(r).map(Some))?;
    let client_auth = l.get("tls.client_auth", ClientAuth::None, |r| {
        scalar(r)?.parse::<ClientAuth>()
    })?;
    if client_auth != ClientAuth::None && client_ca_file.is_none() {
        return Err(l.conflict(
            "tls.client_auth",
            "client certificates need the CAs that sign them: set --tls-client-ca-file",
        ));
    }
    let watch = l.get("tls.watch", None, |r| {
        let s = scalar(r)?;
        match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Ok(Some(DEFAULT_TLS_WATCH_PERIOD)),
            "false" | "no" | "off" => Ok(None),
            _ => parse_duration(&s)
                .map_err(|e| format!("expected true, false or a poll period ({e})")),
        }
    })?;

    let listener = |cert: &'static str,
                    key: &'static str,
                    password_file: &'static str,
                    password_env: &str|
     -> Result<Option<graphward_tls::TlsSettings>, ConfigError> {
        let cert_file = l.get(cert, None, |r| path(r).map(Some))?;
        let key_file = l.get(key, None, |r| path(r).map(Some))?;
        let key_password_file = l.get(password_file, None, |r| path(r).map(Some))?;
        let (cert_file, key_file) = match (cert_file, key_file) {
            (Some(c), Some(k)) => (c, k),
            (None, None) => {
                if key_password_file.is_some() {
                    return Err(l.conflict(
                        password_file,
                        "a key password file without a certificate and key",
                    ));
                }
                return Ok(None);
            }
            (Some(_), None) => {
                return Err(l.conflict(cert, "a certificate needs its private key as well"))
            }
            (None, Some(_)) => {
                return Err(l.conflict(key, "a private key needs its certificate as well"))
            }
        };
        let mut s = graphward_tls::TlsSettings::new(cert_file, key_file);
        s.key_password_file = key_password_file;
        // The process environment does not change after startup: name the variable only when
        // it is set, so that an unencrypted key does not need it.
        if (l.env)(password_env).is_some_and(|v| !v.is_empty()) {
            s.key_password_env = Some(password_env.to_string());
        }
        s.min_version = min_version;
        s.strict_ciphers = strict_ciphers;
        s.expiry_warning = expiry_warning;
        s.allow_insecure_key_permissions = allow_insecure;
        s.client_ca_file = client_ca_file.clone();
        s.client_auth = client_auth;
        Ok(Some(s))
    };
    let bolt = listener(
        "bolt.cert_file",
        "bolt.key_file",
        "bolt.key_password_file",
        BOLT_KEY_PASSWORD_ENV,
    )?;
    let mut http = listener(
        "http.cert_file",
        "http.key_file",
        "http.key_password_file",
        TLS_KEY_PASSWORD_ENV,
    )?;
    if let Some(h) = http.as_mut() {
        h.alpn_protocols = vec![b"http/1.1".to_vec()];
    }
    Ok(TlsConfig { bolt, http, watch })
}

fn jwt_config<E: Fn(&str) -> Option<String>>(
    l: &Layers<'_, E>,
) -> Result<graphward_auth::jwt::JwtConfig, ConfigError> {
    use graphward_auth::jwt;
    let opt_text = |r: &Raw| text(r).and_then(non_empty).map(Some);
    let leeway = l.get("Security.JWT.Leeway", jwt::DEFAULT_LEEWAY, |r| {
        let secs = duration(r)?.map(|d| d.as_secs()).unwrap_or(0);
        if secs > jwt::MAX_LEEWAY {
            return Err(format!("must be at most {}s", jwt::MAX_LEEWAY));
        }
        Ok(secs)
    })?;
    Ok(jwt::JwtConfig {
        hmac_secret: l.get("Security.JWT.HMAC.Secret", None, opt_text)?,
        public_key: l.get("Security.JWT.RSA.PublicKey", None, opt_text)?,
        jwks_url: l.get("Security.JWT.JWKS.URL", None, |r| {
            let u = non_empty(text(r)?)?;
            if u.starts_with("https://") {
                Ok(Some(u))
            } else {
                Err("must be an https:// URL".to_string())
            }
        })?,
        issuer: l.get("Security.JWT.Issuer", None, opt_text)?,
        audience: l.get("Security.JWT.Audience", Vec::new(), origins)?,
        leeway,
        max_lifetime: l.get(
            "Security.JWT.MaxLifetime",
            Some(jwt::DEFAULT_MAX_LIFETIME),
            |r| Ok(duration(r)?.map(|d| d.as_secs())),
        )?,
        require_low_s: l.get("Security.JWT.RequireLowS", false, boolean)?,
        max_token_size: l.get(
            "Security.JWT.MaxTokenSize",
            jwt::DEFAULT_MAX_TOKEN_SIZE,
            |r| size(r, 256).and_then(to_usize),
        )?,
        ca_file: None,
    })
}

fn token_settings<E: Fn(&str) -> Option<String>>(
    l: &Layers<'_, E>,
) -> Result<graphward_auth::tokens::TokenSettings, ConfigError> {
    use graphward_auth::tokens;
    let secs = |r: &Raw| -> Result<u64, String> {
        match duration(r)? {
            Some(d) if d.as_secs() > 0 => Ok(d.as_secs()),
            _ => Err("must be at least 1s".to_string()),
        }
    };
    let max_lifetime = l.get("GSQL.Token.MaxLifetime", tokens::DEFAULT_MAX_LIFETIME, secs)?;
    let default_lifetime = l.get(
        "GSQL.Token.Lifetime",
        tokens::DEFAULT_LIFETIME.min(max_lifetime),
        |r| {
            let d = secs(r)?;
            if d > max_lifetime {
                return Err(format!(
                    "must be at most GSQL.Token.MaxLifetime ({max_lifetime}s)"
                ));
            }
            Ok(d)
        },
    )?;
    let settings = tokens::TokenSettings {
        drop_limit: l.get("GSQL.Token.DropLimit", tokens::DEFAULT_DROP_LIMIT, |r| {
            let n = count(r, 1)?;
            if n > tokens::MAX_DROP_LIMIT as u64 {
                return Err(format!("must be at most {}", tokens::MAX_DROP_LIMIT));
            }
            to_usize(n)
        })?,
        default_lifetime,
        max_lifetime,
        issuer: l.get(
            "GSQL.Token.Issuer",
            tokens::DEFAULT_ISSUER.to_string(),
            |r| non_empty(text(r)?),
        )?,
    };
    Ok(settings)
}

/// `GRAPHWARD_*` variables in `names` that are not settings (likely typos), for a warning.
/// `GRAPHWARD_BIN` (used by the test scripts) is not reported.
pub fn unknown_env_vars(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let known: Vec<String> = SETTINGS.iter().map(Setting::env_var).collect();
    names
        .into_iter()
        .filter(|n| n.starts_with("GRAPHWARD_"))
        .filter(|n| {
            n != CONFIG_ENV
                && n != "GRAPHWARD_BIN"
                && n != BOLT_KEY_PASSWORD_ENV
                && n != TLS_KEY_PASSWORD_ENV
                && n != INITIAL_PASSWORD_ENV
                && !known.contains(n)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The TOML file

fn parse_file(
    path: &std::path::Path,
    text: &str,
) -> Result<BTreeMap<&'static str, Raw>, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::ParseFile {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let mut out = BTreeMap::new();
    for (key, value) in &table {
        if SECTIONS.contains(&key.as_str()) {
            let toml::Value::Table(section) = value else {
                return Err(ConfigError::UnknownKey {
                    path: path.to_path_buf(),
                    key: key.clone(),
                    known: format!("`{key}` must be a table ([{key}])"),
                });
            };
            for (sub, v) in section {
                let full = format!("{key}.{sub}");
                let s = setting(&full).ok_or_else(|| unknown_key(path, &full, Some(key)))?;
                out.insert(s.name, toml_raw(path, s, v)?);
            }
        } else if let (true, toml::Value::Table(t)) = (NESTED.contains(&key.as_str()), value) {
            flatten(path, key, t, &mut out)?;
        } else {
            let s = setting(key)
                .filter(|s| !s.name.contains('.') || NESTED.iter().any(|n| s.name.starts_with(n)))
                .ok_or_else(|| unknown_key(path, key, None))?;
            out.insert(s.name, toml_raw(path, s, value)?);
        }
    }
    Ok(out)
}

/// The leaves of a nested table (`[Security.JWT]`), named by their dotted path.
fn flatten(
    path: &std::path::Path,
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<&'static str, Raw>,
) -> Result<(), ConfigError> {
    for (sub, v) in table {
        let full = format!("{prefix}.{sub}");
        if let toml::Value::Table(t) = v {
            flatten(path, &full, t, out)?;
        } else {
            let s = setting(&full).ok_or_else(|| unknown_key(path, &full, Some(prefix)))?;
            out.insert(s.name, toml_raw(path, s, v)?);
        }
    }
    Ok(())
}

fn unknown_key(path: &std::path::Path, key: &str, section: Option<&str>) -> ConfigError {
    let known: Vec<String> = match section {
        Some(sec) => SETTINGS
            .iter()
            .filter_map(|s| s.name.strip_prefix(sec)?.strip_prefix('.'))
            .map(|k| format!("{sec}.{k}"))
            .collect(),
        None => SETTINGS
            .iter()
            .filter(|s| !s.name.contains('.'))
            .map(|s| s.name.to_string())
            .chain(SECTIONS.iter().map(|s| format!("[{s}]")))
            .collect(),
    };
    ConfigError::UnknownKey {
        path: path.to_path_buf(),
        key: key.to_string(),
        known: known.join(", "),
    }
}

fn toml_raw(
    path: &std::path::Path,
    s: &'static Setting,
    v: &toml::Value,
) -> Result<Raw, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        setting: s.name,
        origin: Source::File {
            path: path.to_path_buf(),
            key: s.name.to_string(),
        },
        value: if is_secret(s.name) {
            "****".to_string()
        } else {
            v.to_string()
        },
        reason: reason.to_string(),
    };
    match v {
        toml::Value::String(t) => Ok(Raw::Text(t.clone())),
        toml::Value::Integer(i) => Ok(Raw::Int(*i)),
        toml::Value::Boolean(b) => Ok(Raw::Text(b.to_string())),
        toml::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                toml::Value::String(t) => Ok(t.clone()),
                _ => Err(invalid("array items must be strings")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Raw::List),
        _ => Err(invalid("expected a string, an integer or a boolean")),
    }
}

// ---------------------------------------------------------------------------------------------
// Value parsers: each returns a reason on failure; the caller adds setting and source.

/// The value as text; integers are accepted (as their decimal form) where text is parsed.
fn scalar(r: &Raw) -> Result<String, String> {
    match r {
        Raw::Text(t) => Ok(t.trim().to_string()),
        Raw::Int(i) => Ok(i.to_string()),
        Raw::List(_) => Err("expected a single value, not a list".to_string()),
    }
}

/// The value as a string; a TOML integer is refused (it is almost certainly a mistake).
fn text(r: &Raw) -> Result<String, String> {
    match r {
        Raw::Text(t) => Ok(t.trim().to_string()),
        Raw::Int(_) => Err("expected a string".to_string()),
        Raw::List(_) => Err("expected a single string, not a list".to_string()),
    }
}

fn non_empty(s: String) -> Result<String, String> {
    if s.is_empty() {
        Err("must not be empty".to_string())
    } else {
        Ok(s)
    }
}

fn boolean(r: &Raw) -> Result<bool, String> {
    match scalar(r)?.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err("expected true or false".to_string()),
    }
}

fn port(r: &Raw) -> Result<u16, String> {
    scalar(r)?
        .parse::<u16>()
        .map_err(|_| "expected a port number 0-65535".to_string())
}

/// A non-negative integer of at least `min`.
fn count(r: &Raw, min: u64) -> Result<u64, String> {
    let s = scalar(r)?;
    let n = s
        .replace('_', "")
        .parse::<u64>()
        .map_err(|_| "expected a non-negative integer".to_string())?;
    if n < min {
        return Err(format!("must be at least {min}"));
    }
    Ok(n)
}

fn to_usize(n: u64) -> Result<usize, String> {
    usize::try_from(n).map_err(|_| "too large for this platform".to_string())
}

/// A byte size: an integer with an optional unit. `KB`/`MB`/`GB`/`TB` are powers of 1000;
/// `KiB`/`MiB`/`GiB`/`TiB` and the bare `K`/`M`/`G`/`T` are powers of 1024. Case-insensitive.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num = num.replace('_', "");
    if num.is_empty() {
        return Err("expected a size such as 1048576, 512KiB, 16MiB or 2GiB".to_string());
    }
    let n: u64 = num.parse().map_err(|_| "number too large".to_string())?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "k" | "kib" => 1 << 10,
        "mb" => 1000 * 1000,
        "m" | "mib" => 1 << 20,
        "gb" => 1000 * 1000 * 1000,
        "g" | "gib" => 1 << 30,
        "tb" => 1000 * 1000 * 1000 * 1000,
        "t" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| "size too large".to_string())
}

/// The default for `limits.max_total_query_memory`: half of the memory this process can
/// use (the machine's `MemTotal`, or the cgroup's `memory.max` when that is lower), and at
/// least 256 MiB; 4 GiB when neither can be read.
pub fn default_total_query_memory() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let total = meminfo.as_deref().and_then(|t| {
        t.lines().find_map(|l| {
            let rest = l.strip_prefix("MemTotal:")?;
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            kib.checked_mul(1024)
        })
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok());
    let avail = match (total, cgroup) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match avail {
        Some(bytes) => (bytes / 2).max(256 << 20),
        None => 4 << 30,
    }
}

fn size(r: &Raw, min: u64) -> Result<u64, String> {
    let n = parse_size(&scalar(r)?)?;
    if n < min {
        return Err(format!("must be at least {min} bytes"));
    }
    Ok(n)
}

/// A duration: a bare integer is seconds; otherwise number-unit pairs such as `30s`, `500ms`,
/// `5m`, `1h30m`, `2d` (units `ms`, `s`, `m`, `h`, `d`). Zero yields `None` ("no limit"). At
/// most 365 days.
pub fn parse_duration(s: &str) -> Result<Option<Duration>, String> {
    let s = s.trim();
    const HINT: &str = "expected a duration such as 30, 30s, 500ms, 5m or 1h30m";
    if s.is_empty() {
        return Err(HINT.to_string());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.chars().all(|c| c.is_ascii_digit()) {
        let secs: u64 = rest.parse().map_err(|_| "duration too large".to_string())?;
        total = Duration::from_secs(secs.min(MAX_DURATION.as_secs() + 1));
    } else {
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(HINT.to_string());
            }
            let (num, tail) = rest.split_at(digits);
            let n: u64 = num.parse().map_err(|_| "duration too large".to_string())?;
            let tail = tail.trim_start();
            let unit_len = tail
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(unit_len);
            let part = match unit.to_ascii_lowercase().as_str() {
                "ms" => Some(Duration::from_millis(n)),
                "s" | "sec" | "secs" => Some(Duration::from_secs(n)),
                "m" | "min" | "mins" => n.checked_mul(60).map(Duration::from_secs),
                "h" => n.checked_mul(3600).map(Duration::from_secs),
                "d" => n.checked_mul(86400).map(Duration::from_secs),
                "" => return Err(format!("{HINT} (a unit is missing after {num})")),
                other => return Err(format!("{HINT} (unknown unit {other:?})")),
            }
            .ok_or_else(|| "duration too large".to_string())?;
            total = total
                .checked_add(part)
                .ok_or_else(|| "duration too large".to_string())?;
            rest = tail.trim_start();
        }
    }
    if total > MAX_DURATION {
        return Err("must be at most 365d".to_string());
    }
    Ok(if total.is_zero() { None } else { Some(total) })
}

fn duration(r: &Raw) -> Result<Option<Duration>, String> {
    match r {
        Raw::Int(i) if *i < 0 => Err("must not be negative".to_string()),
        _ => parse_duration(&scalar(r)?),
    }
}

/// An address to bind: an IP address or a host name, without a port.
fn bind_address(r: &Raw) -> Result<String, String> {
    let s = non_empty(text(r)?)?;
    let unbracketed = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(&s);
    if unbracketed.parse::<IpAddr>().is_ok() {
        return Ok(unbracketed.to_string());
    }
    if s.parse::<SocketAddr>().is_ok() || s.contains(':') {
        return Err("give the address without a port (the port has its own setting)".to_string());
    }
    if is_host_name(&s) {
        Ok(s)
    } else {
        Err("expected an IP address or a host name".to_string())
    }
}

fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The `host:port` clients reach a listener bound to `bind` on: the bind address itself,
/// or `localhost` for an unspecified one (`0.0.0.0`, `::`), which no client can dial.
fn listen_address(bind: &str, port: u16) -> String {
    match bind.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => format!("localhost:{port}"),
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        _ => format!("{bind}:{port}"),
    }
}

/// `host:port`, or a bare host to which the Bolt port is appended.
fn advertised_address(r: &Raw, bolt_port: u16) -> Result<String, String> {
    let s = non_empty(text(r)?)?;
    if s.parse::<SocketAddr>().is_ok() {
        return Ok(s);
    }
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => return Ok(format!("{ip}:{bolt_port}")),
        Ok(IpAddr::V6(ip)) => return Ok(format!("[{ip}]:{bolt_port}")),
        Err(_) => {}
    }
    let bad = || "expected host:port or a host name".to_string();
    match s.rsplit_once(':') {
        Some((host, p)) => {
            p.parse::<u16>().map_err(|_| bad())?;
            if is_host_name(host) {
                Ok(s)
            } else {
                Err(bad())
            }
        }
        None if is_host_name(&s) => Ok(format!("{s}:{bolt_port}")),
        None => Err(bad()),
    }
}

/// A comma-separated list (or TOML array) of WebSocket origins.
fn origins(r: &Raw) -> Result<Vec<String>, String> {
    let items: Vec<String> = match r {
        Raw::Text(t) => t.split(',').map(|x| x.trim().to_string()).collect(),
        Raw::List(l) => l.iter().map(|x| x.trim().to_string()).collect(),
        Raw::Int(_) => return Err("expected a list of origins".to_string()),
    };
    let items: Vec<String> = items.into_iter().filter(|x| !x.is_empty()).collect();
    for o in &items {
        if o.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("origin {o:?} contains whitespace"));
        }
    }
    Ok(items)
}

/// Database names follow the storage layer's rules: at most 63 characters, ASCII letters,
/// digits, `.`, `_` and `-`, starting with a letter; case-insensitive (stored lower-case).
/// `system` is reserved.
fn database_name(s: String) -> Result<String, String> {
    let ok_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-');
    let starts_alpha = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if s.len() > 63 || !ok_chars || !starts_alpha {
        return Err("a database name has at most 63 characters (ASCII letters, digits, '.', '_', '-') and starts with a letter".to_string());
    }
    let lower = s.to_ascii_lowercase();
    if lower == "system" {
        return Err("`system` is reserved".to_string());
    }
    Ok(lower)
}

fn server_agent(s: String) -> Result<String, String> {
    let s = non_empty(s)?;
    if s.len() > 256 || s.chars().any(|c| !(' '..='~').contains(&c)) {
        return Err("expected at most 256 printable ASCII characters".to_string());
    }
    Ok(s)
}

/// A single level name, or `RUST_LOG`-style directives (`info,graphward_bolt=debug`).
fn log_filter(s: String) -> Result<String, String> {
    const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];
    let s = non_empty(s)?;
    if !s.contains(['=', ',', ':']) && !LEVELS.contains(&s.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "expected one of {} or RUST_LOG-style directives",
            LEVELS.join(", ")
        ));
    }
    tracing_subscriber::EnvFilter::try_new(&s)
        .map(|_| s.clone())
        .map_err(|e| format!("not a valid log filter: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn no_env() -> impl Fn(&str) -> Option<String> {
        env_of(&[])
    }

    fn file(text: &str) -> Option<(PathBuf, &str)> {
        Some((PathBuf::from("/etc/graphward.toml"), text))
    }

    fn err_of(r: Result<Config, ConfigError>) -> String {
        match r {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults() {
        let c = resolve(&ServeArgs::default(), &no_env(), None).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.engine.default_database, "neo4j");
        assert_eq!(c.bolt.address, "127.0.0.1");
        assert_eq!(c.bolt.port, 7687);
        assert_eq!(c.http.address, "127.0.0.1");
        assert_eq!(c.http.port, 7474);
        assert_eq!(c.log_filter, "info");
        let d = Limits::default();
        assert_eq!(c.engine.limits.max_rows, d.max_rows);
        assert_eq!(c.engine.limits.query_timeout, d.query_timeout);
        assert_eq!(
            c.bolt.config.max_connections,
            BoltConfig::default().max_connections
        );
        assert!(c.config_file.is_none());
    }

    #[test]
    fn precedence_flag_env_file_default() {
        let toml = "[bolt]\nport = 1111\naddress = \"10.0.0.1\"\n[http]\nport = 3333\n";
        let env = env_of(&[
            ("GRAPHWARD_BOLT_PORT", "2222"),
            ("GRAPHWARD_HTTP_PORT", "4444"),
        ]);
        let args = ServeArgs {
            http_port: Some("5555".into()),
            ..Default::default()
        };
        let c = resolve(&args, &env, file(toml)).unwrap();
        // flag beats env and file
        assert_eq!(c.http.port, 5555);
        // env beats file
        assert_eq!(c.bolt.port, 2222);
        // file beats default
        assert_eq!(c.bolt.address, "10.0.0.1");
        // default when nobody says anything
        assert_eq!(c.http.address, "127.0.0.1");

        // without the env, the file decides
        let c = resolve(&ServeArgs::default(), &no_env(), file(toml)).unwrap();
        assert_eq!(c.bolt.port, 1111);
        assert_eq!(c.http.port, 3333);
    }

    #[test]
    fn auth_settings() {
        let c = resolve(&ServeArgs::default(), &no_env(), None).unwrap();
        assert!(!c.auth.disabled);
        assert!(c.auth.initial_password.is_none());
        let env = env_of(&[("GRAPHWARD_INITIAL_PASSWORD", "s3cret-pw")]);
        let c = resolve(
            &ServeArgs::default(),
            &env,
            file("[auth]\ndisabled = true\ninitial_password_file = \"/run/pw\"\n"),
        )
        .unwrap();
        assert!(c.auth.disabled);
        assert_eq!(c.auth.initial_password.as_deref(), Some("s3cret-pw"));
        assert_eq!(c.auth.initial_password_file, Some(PathBuf::from("/run/pw")));
        assert!(!format!("{c:?}").contains("s3cret"));
        let args = ServeArgs {
            auth_disabled: Some("maybe".into()),
            ..Default::default()
        };
        assert!(err_of(resolve(&args, &no_env(), None)).contains("auth.disabled"));
        assert!(unknown_env_vars(["GRAPHWARD_INITIAL_PASSWORD".to_string()]).is_empty());
    }

    #[test]
    fn jwt_settings_from_nested_tables() {
        let toml = "[Security.JWT.HMAC]\nSecret = \"@/etc/secret\"\n[Security.JWT]\nIssuer = \"me\"\nAudience = [\"a\", \"b\"]\nLeeway = \"30s\"\n";
        let c = resolve(&ServeArgs::default(), &no_env(), file(toml)).unwrap();
        assert_eq!(c.auth.jwt.hmac_secret.as_deref(), Some("@/etc/secret"));
        assert_eq!(c.auth.jwt.issuer.as_deref(), Some("me"));
        assert_eq!(c.auth.jwt.audience, vec!["a", "b"]);
        assert_eq!(c.auth.jwt.leeway, 30);
        assert_eq!(c.auth.jwt.max_token_size, 16 * 1024);
        let e = err_of(resolve(
            &ServeArgs::default(),
            &no_env(),
            file("[Security.JWT]\nLeeway = 301\n"),
        ));
        assert!(e.contains("at most 300s"), "{e}");
        let e = err_of(resolve(
            &ServeArgs::default(),
            &no_env(),
            file("[Security.JWT]\nNope = 1\n"),
        ));
        assert!(e.contains("Security.JWT.Nope"), "{e}");
        let env = env_of(&[("GRAPHWARD_JWT_JWKS_URL", "http://insecure")]);
        assert!(err_of(resolve(&ServeArgs::default(), &env, None)).contains("https"));
        let toml = "\"Security.JWT.Issuer\" = \"flat\"\n";
        let c = resolve(&ServeArgs::default(), &no_env(), file(toml)).unwrap();
        assert_eq!(c.auth.jwt.issuer.as_deref(), Some("flat"));
    }

    #[test]
    fn empty_env_is_unset() {
        let env = env_of(&[("GRAPHWARD_BOLT_PORT", "")]);
        let c = resolve(&ServeArgs::default(), &env, file("[bolt]\nport = 1234")).unwrap();
        assert_eq!(c.bolt.port, 1234);
    }

    #[test]
    fn all_settings_from_file() {
        let toml = r#"
data_dir = "/var/lib/graphward"
default_database = "movies"
log_level = "debug"
[bolt]
address = "0.0.0.0"
port = 7000
server_agent = "Neo4j/5.26.0"
max_message_size = "1MiB"
max_connections = 10
idle_timeout = "5m"
advertised_address = "db.example.com"
ws_allowed_origins = ["https://a.example", "https://b.example"]
[http]
address = "::1"
port = 7001
[limits]
max_query_length = 65536
max_nesting_depth = 50
max_rows = 1000
max_query_memory = "64MiB"
query_timeout = "30s"
"#;
        let c = resolve(&ServeArgs::default(), &no_env(), file(toml)).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/graphward"));
        assert_eq!(c.engine.default_database, "movies");
        assert_eq!(c.log_filter, "debug");
        assert_eq!(c.bolt.address, "0.0.0.0");
        assert_eq!(c.bolt.port, 7000);
        assert_eq!(c.bolt.config.server_agent, "Neo4j/5.26.0");
        assert_eq!(c.bolt.config.max_message_size, 1 << 20);
        assert_eq!(c.bolt.config.max_connections, 10);
        assert_eq!(c.bolt.config.idle_timeout, Duration::from_secs(300));
        assert_eq!(
            c.bolt.config.advertised_address.as_deref(),
            Some("db.example.com:7000")
        );
        assert_eq!(
            c.bolt.config.ws_allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(c.http.address, "::1");
        assert_eq!(c.http.port, 7001);
        let l = &c.engine.limits;
        assert_eq!(l.max_query_length, 65536);
        assert_eq!(l.max_nesting_depth, 50);
        assert_eq!(l.max_rows, 1000);
        assert_eq!(l.max_memory_bytes, 64 << 20);
        assert_eq!(l.query_timeout, Some(Duration::from_secs(30)));
    }

    #[test]
    fn every_setting_has_a_flag_and_env() {
        let env: Vec<(String, String)> = vec![
            ("GRAPHWARD_DATA_DIR", "/d"),
            ("GRAPHWARD_DEFAULT_DATABASE", "other"),
            ("GRAPHWARD_LOG_LEVEL", "warn"),
            ("GRAPHWARD_BOLT_ADDRESS", "localhost"),
            ("GRAPHWARD_BOLT_PORT", "1"),
            ("GRAPHWARD_BOLT_SERVER_AGENT", "x/1"),
            ("GRAPHWARD_BOLT_MAX_MESSAGE_SIZE", "2048"),
            ("GRAPHWARD_BOLT_MAX_CONNECTIONS", "3"),
            ("GRAPHWARD_BOLT_IDLE_TIMEOUT", "4"),
            ("GRAPHWARD_TRANSACTION_IDLE_TIMEOUT", "14"),
            ("GRAPHWARD_BOLT_ADVERTISED_ADDRESS", "h:5"),
            ("GRAPHWARD_BOLT_WS_ALLOWED_ORIGINS", "a, b,,"),
            ("GRAPHWARD_HTTP_ADDRESS", "0.0.0.0"),
            ("GRAPHWARD_HTTP_PORT", "6"),
            ("GRAPHWARD_HTTP_MAX_BODY_SIZE", "2KiB"),
            ("GRAPHWARD_HTTP_MAX_RESULT_SIZE", "3KiB"),
            ("GRAPHWARD_HTTP_TRANSACTION_IDLE_TIMEOUT", "11"),
            ("GRAPHWARD_HTTP_MAX_TRANSACTIONS", "12"),
            ("GRAPHWARD_HTTP_MAX_CONNECTIONS", "13"),
            ("GRAPHWARD_MAX_QUERY_LENGTH", "7"),
            ("GRAPHWARD_MAX_NESTING_DEPTH", "8"),
            ("GRAPHWARD_MAX_ROWS", "9"),
            ("GRAPHWARD_MAX_QUERY_MEMORY", "10K"),
            ("GRAPHWARD_MAX_TOTAL_QUERY_MEMORY", "20K"),
            ("GRAPHWARD_QUERY_TIMEOUT", "0"),
            ("GRAPHWARD_TRANSACTION_TIMEOUT", "15"),
            ("GRAPHWARD_SNAPSHOT_WARNING_AGE", "16"),
            ("GRAPHWARD_BOOKMARK_WAIT", "17"),
            ("GRAPHWARD_AUTO_COMPACT_GROWTH", "25"),
            ("GRAPHWARD_AUTO_COMPACT_MIN_SIZE", "1MiB"),
            ("GRAPHWARD_BOLT_CERT_FILE", "/b.pem"),
            ("GRAPHWARD_BOLT_KEY_FILE", "/b.key"),
            ("GRAPHWARD_BOLT_KEY_PASSWORD_FILE", "/b.pw"),
            ("GRAPHWARD_TLS_CERT", "/h.pem"),
            ("GRAPHWARD_TLS_KEY", "/h.key"),
            ("GRAPHWARD_TLS_KEY_PASSWORD_FILE", "/h.pw"),
            ("GRAPHWARD_TLS_MIN_VERSION", "1.3"),
            ("GRAPHWARD_TLS_STRICT_CIPHERS", "true"),
            ("GRAPHWARD_TLS_EXPIRY_WARNING", "30d"),
            ("GRAPHWARD_ALLOW_INSECURE_KEY_PERMISSIONS", "yes"),
            ("GRAPHWARD_TLS_CLIENT_CA_FILE", "/ca.pem"),
            ("GRAPHWARD_TLS_CLIENT_AUTH", "optional"),
            ("GRAPHWARD_TLS_WATCH", "500ms"),
            (BOLT_KEY_PASSWORD_ENV, "secret"),
            (TLS_KEY_PASSWORD_ENV, "secret"),
            ("GRAPHWARD_AUTH_DISABLED", "yes"),
            ("GRAPHWARD_INITIAL_PASSWORD_FILE", "/pw"),
            ("GRAPHWARD_JWT_HMAC_SECRET", "@/hmac"),
            ("GRAPHWARD_JWT_RSA_PUBLIC_KEY", "@/rsa.pem"),
            ("GRAPHWARD_JWT_JWKS_URL", "https://idp/jwks"),
            ("GRAPHWARD_JWT_ISSUER", "iss"),
            ("GRAPHWARD_JWT_AUDIENCE", "a,b"),
            ("GRAPHWARD_JWT_LEEWAY", "10"),
            ("GRAPHWARD_JWT_MAX_LIFETIME", "1h"),
            ("GRAPHWARD_JWT_MAX_TOKEN_SIZE", "8KiB"),
            ("GRAPHWARD_TOKEN_DROP_LIMIT", "30"),
            ("GRAPHWARD_TOKEN_LIFETIME", "1h"),
            ("GRAPHWARD_TOKEN_MAX_LIFETIME", "2h"),
            ("GRAPHWARD_TOKEN_ISSUER", "me"),
            ("GRAPHWARD_AUTH_HASH_CONCURRENCY", "3"),
            ("GRAPHWARD_AUTH_HASH_QUEUE", "7"),
            ("GRAPHWARD_PREAUTH_TIMEOUT", "3s"),
            ("GRAPHWARD_PREAUTH_MAX_PER_ADDRESS", "5"),
            ("GRAPHWARD_PREAUTH_MAX_CONNECTIONS", "50"),
            ("GRAPHWARD_JWT_REQUIRE_LOW_S", "true"),
            ("GRAPHWARD_IMPORT_DIR", "/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(env.len(), SETTINGS.len() + 2);
        let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let c = resolve(&ServeArgs::default(), &lookup, None).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/d"));
        assert_eq!(c.engine.default_database, "other");
        assert_eq!(c.engine.import_dir, Some(PathBuf::from("/")));
        assert_eq!(c.log_filter, "warn");
        assert_eq!(c.bolt.address, "localhost");
        assert_eq!(c.bolt.port, 1);
        assert_eq!(c.bolt.config.server_agent, "x/1");
        assert_eq!(c.bolt.config.max_message_size, 2048);
        assert_eq!(c.auth.hash_limits.concurrency, 3);
        assert_eq!(c.auth.hash_limits.queue, 7);
        assert!(c.auth.jwt.require_low_s);
        let preauth = PreAuthLimits {
            timeout: Duration::from_secs(3),
            max_per_address: 5,
            max_total: 50,
        };
        assert_eq!(c.bolt.config.preauth, preauth);
        assert_eq!(c.http.limits.preauth, preauth);
        assert_eq!(c.bolt.config.max_connections, 3);
        assert_eq!(c.bolt.config.idle_timeout, Duration::from_secs(4));
        assert_eq!(
            c.bolt.config.transaction_idle_timeout,
            Duration::from_secs(14)
        );
        assert_eq!(
            c.engine.limits.transaction_timeout,
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            c.engine.limits.snapshot_warning_age,
            Some(Duration::from_secs(16))
        );
        assert_eq!(c.engine.limits.bookmark_wait, Some(Duration::from_secs(17)));
        assert_eq!(
            c.engine.auto_compact,
            Some(AutoCompact {
                growth_percent: 25,
                min_bytes: 1024 * 1024
            })
        );
        // No advertised address given: SHOW DATABASES names the advertised one.
        assert_eq!(c.engine.bolt_address, "h:5");
        assert_eq!(c.bolt.config.advertised_address.as_deref(), Some("h:5"));
        assert_eq!(c.bolt.config.ws_allowed_origins, vec!["a", "b"]);
        assert_eq!(c.http.address, "0.0.0.0");
        assert_eq!(c.http.port, 6);
        let h = &c.http.limits;
        assert_eq!((h.max_body_bytes, h.max_result_bytes), (2048, 3072));
        assert_eq!(h.transaction_idle_timeout, Duration::from_secs(11));
        assert_eq!((h.max_transactions, h.max_connections), (12, 13));
        let l = &c.engine.limits;
        assert_eq!(
            (l.max_query_length, l.max_nesting_depth, l.max_rows),
            (7, 8, 9)
        );
        assert_eq!(l.max_memory_bytes, 10 * 1024);
        assert_eq!(l.max_total_memory_bytes, 20 * 1024);
        assert!(default_total_query_memory() >= 256 << 20);
        assert_eq!(l.query_timeout, None);
        let bolt = c.tls.bolt.as_ref().unwrap();
        assert_eq!(bolt.cert_file, PathBuf::from("/b.pem"));
        assert_eq!(bolt.key_file, PathBuf::from("/b.key"));
        assert_eq!(bolt.key_password_file, Some(PathBuf::from("/b.pw")));
        assert_eq!(
            bolt.key_password_env.as_deref(),
            Some(BOLT_KEY_PASSWORD_ENV)
        );
        let t = &c.auth.tokens;
        assert_eq!(
            (t.drop_limit, t.default_lifetime, t.max_lifetime),
            (30, 3600, 7200)
        );
        assert_eq!(t.issuer, "me");
        let http = c.tls.http.as_ref().unwrap();
        assert_eq!(http.cert_file, PathBuf::from("/h.pem"));
        assert_eq!(http.key_file, PathBuf::from("/h.key"));
        assert_eq!(http.key_password_file, Some(PathBuf::from("/h.pw")));
        assert_eq!(http.key_password_env.as_deref(), Some(TLS_KEY_PASSWORD_ENV));
        for t in [bolt, http] {
            assert_eq!(t.min_version, graphward_tls::TlsVersion::V1_3);
            assert!(t.strict_ciphers && t.allow_insecure_key_permissions);
            assert_eq!(t.expiry_warning, Duration::from_secs(30 * 86400));
            assert_eq!(t.client_ca_file, Some(PathBuf::from("/ca.pem")));
            assert_eq!(t.client_auth, graphward_tls::ClientAuth::Optional);
        }
        assert_eq!(c.tls.watch, Some(Duration::from_millis(500)));
        assert!(c.auth.disabled);
        assert_eq!(c.auth.initial_password_file, Some(PathBuf::from("/pw")));
        let j = &c.auth.jwt;
        assert_eq!(j.hmac_secret.as_deref(), Some("@/hmac"));
        assert_eq!(j.public_key.as_deref(), Some("@/rsa.pem"));
        assert_eq!(j.jwks_url.as_deref(), Some("https://idp/jwks"));
        assert_eq!(j.issuer.as_deref(), Some("iss"));
        assert_eq!(j.audience, vec!["a", "b"]);
        assert_eq!(
            (j.leeway, j.max_lifetime, j.max_token_size),
            (10, Some(3600), 8192)
        );
        assert!(unknown_env_vars(env.iter().map(|(k, _)| k.clone())).is_empty());
    }

    #[test]
    fn tls_is_off_by_default_and_on_per_listener() {
        let c = resolve(&ServeArgs::default(), &no_env(), None).unwrap();
        assert!(c.tls.bolt.is_none() && c.tls.http.is_none() && c.tls.watch.is_none());

        let toml = r#"
[bolt]
cert_file = "/etc/gw/bolt.pem"
key_file = "/etc/gw/bolt.key"
[tls]
strict_ciphers = true
min_version = "1.3"
watch = true
"#;
        let c = resolve(&ServeArgs::default(), &no_env(), file(toml)).unwrap();
        let bolt = c.tls.bolt.unwrap();
        assert_eq!(bolt.cert_file, PathBuf::from("/etc/gw/bolt.pem"));
        assert!(bolt.strict_ciphers);
        assert_eq!(bolt.min_version, graphward_tls::TlsVersion::V1_3);
        assert_eq!(bolt.expiry_warning, graphward_tls::DEFAULT_EXPIRY_WARNING);
        assert!(c.tls.http.is_none());
        assert_eq!(c.tls.watch, Some(DEFAULT_TLS_WATCH_PERIOD));

        // bare boolean flags (clap gives "true")
        let args = ServeArgs {
            tls_cert: Some("/h.pem".into()),
            tls_key: Some("/h.key".into()),
            tls_strict_ciphers: Some("true".into()),
            tls_expiry_warning: Some("0".into()),
            ..Default::default()
        };
        let c = resolve(&args, &no_env(), None).unwrap();
        let http = c.tls.http.unwrap();
        assert!(http.strict_ciphers);
        assert_eq!(http.expiry_warning, Duration::ZERO);
        assert_eq!(http.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn incomplete_tls_settings_are_refused() {
        let cases: &[(&str, &str)] = &[
            ("[bolt]\ncert_file = \"/c.pem\"", "needs its private key"),
            ("[bolt]\nkey_file = \"/c.key\"", "needs its certificate"),
            ("[http]\ncert_file = \"/c.pem\"", "needs its private key"),
            (
                "[http]\nkey_password_file = \"/pw\"",
                "without a certificate",
            ),
            ("[tls]\nclient_auth = \"require\"", "--tls-client-ca-file"),
            (
                "[tls]\nclient_auth = \"sometimes\"",
                "none, optional or require",
            ),
            ("[tls]\nmin_version = \"1.1\"", "use 1.2 or 1.3"),
            ("[tls]\nstrict_ciphers = \"maybe\"", "true or false"),
            ("[tls]\nwatch = \"often\"", "poll period"),
            ("[tls]\nexpiry_warning = \"2 fortnights\"", "duration"),
            ("[bolt]\ncert_file = \"\"", "must not be empty"),
        ];
        for (text, why) in cases {
            let e = err_of(resolve(&ServeArgs::default(), &no_env(), file(text)));
            assert!(e.contains(why), "{text:?}: {e}");
            assert!(e.contains("/etc/graphward.toml"), "{text:?}: {e}");
        }
        let args = ServeArgs {
            bolt_cert_file: Some("/c.pem".into()),
            ..Default::default()
        };
        let e = err_of(resolve(&args, &no_env(), None));
        assert!(e.contains("--bolt-cert-file"), "{e}");
    }

    #[test]
    fn password_env_vars_are_not_reported_as_unknown() {
        let names = [BOLT_KEY_PASSWORD_ENV, TLS_KEY_PASSWORD_ENV].map(String::from);
        assert!(unknown_env_vars(names).is_empty());
    }

    #[test]
    fn rust_log_is_a_fallback_for_the_log_level() {
        let env = env_of(&[("RUST_LOG", "graphward=debug,info")]);
        let c = resolve(&ServeArgs::default(), &env, None).unwrap();
        assert_eq!(c.log_filter, "graphward=debug,info");
        let env = env_of(&[("RUST_LOG", "trace"), ("GRAPHWARD_LOG_LEVEL", "warn")]);
        let c = resolve(&ServeArgs::default(), &env, None).unwrap();
        assert_eq!(c.log_filter, "warn");
        let args = ServeArgs {
            log_level: Some("error".into()),
            ..Default::default()
        };
        assert_eq!(resolve(&args, &env, None).unwrap().log_filter, "error");
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err_of(resolve(
            &ServeArgs::default(),
            &no_env(),
            file("dta_dir = \"x\""),
        ));
        assert!(e.contains("unknown key `dta_dir`"), "{e}");
        assert!(e.contains("/etc/graphward.toml"), "{e}");
        assert!(e.contains("data_dir"), "{e}");

        let e = err_of(resolve(
            &ServeArgs::default(),
            &no_env(),
            file("[bolt]\nprot = 1"),
        ));
        assert!(e.contains("unknown key `bolt.prot`"), "{e}");
        assert!(e.contains("bolt.port"), "{e}");

        let e = err_of(resolve(
            &ServeArgs::default(),
            &no_env(),
            file("[tls]\nx = 1"),
        ));
        assert!(e.contains("unknown key `tls.x`"), "{e}");

        // a section key at top level, or a top-level key inside a section
        let e = err_of(resolve(&ServeArgs::default(), &no_env(), file("port = 1")));
        assert!(e.contains("unknown key `port`"), "{e}");
        let e = err_of(resolve(
            &ServeArgs::default(),
            &no_env(),
            file("[http]\ndata_dir = \"x\""),
        ));
        assert!(e.contains("unknown key `http.data_dir`"), "{e}");
        let e = err_of(resolve(&ServeArgs::default(), &no_env(), file("bolt = 5")));
        assert!(e.contains("`bolt`"), "{e}");
        let e = err_of(resolve(
            &ServeArgs::default(),
            &no_env(),
            file("\"bolt.port\" = 5"),
        ));
        assert!(e.contains("unknown key `bolt.port`"), "{e}");
    }

    #[test]
    fn malformed_toml_is_reported() {
        for text in [
            "[bolt",
            "port = ",
            "x = \"unterminated",
            "[bolt]\nport = 1\nport = 2",
            "\u{0}",
        ] {
            let e = err_of(resolve(&ServeArgs::default(), &no_env(), file(text)));
            assert!(e.contains("not valid TOML"), "{text:?}: {e}");
            assert!(e.contains("/etc/graphward.toml"), "{e}");
        }
    }

    #[test]
    fn bad_values_name_setting_and_source() {
        let env = env_of(&[("GRAPHWARD_BOLT_PORT", "70000")]);
        let e = err_of(resolve(&ServeArgs::default(), &env, None));
        assert!(e.contains("`bolt.port`"), "{e}");
        assert!(
            e.contains("environment variable GRAPHWARD_BOLT_PORT"),
            "{e}"
        );
        assert!(e.contains("70000"), "{e}");

        let args = ServeArgs {
            query_timeout: Some("soon".into()),
            ..Default::default()
        };
        let e = err_of(resolve(&args, &no_env(), None));
        assert!(e.contains("`limits.query_timeout`"), "{e}");
        assert!(e.contains("command-line flag --query-timeout"), "{e}");

        let e = err_of(resolve(
            &ServeArgs::default(),
            &no_env(),
            file("[http]\nport = -1"),
        ));
        assert!(e.contains("`http.port`"), "{e}");
        assert!(
            e.contains("config file /etc/graphward.toml, key `http.port`"),
            "{e}"
        );

        let cases = [
            "[http]\nport = true",
            "[http]\nport = 1.5",
            "[http]\nport = [1]",
            "[bolt]\nws_allowed_origins = [1]",
            "[bolt]\nmax_connections = 0",
            "[bolt]\nmax_message_size = \"12XB\"",
            "[bolt]\nmax_message_size = 100",
            "[bolt]\nidle_timeout = 0",
            "[bolt]\nidle_timeout = -5",
            "[bolt]\naddress = \"127.0.0.1:7687\"",
            "[bolt]\naddress = \"\"",
            "[bolt]\naddress = \"bad host\"",
            "[bolt]\nadvertised_address = \"h:99999\"",
            "[bolt]\nserver_agent = \"\"",
            "[bolt]\nserver_agent = \"a\\nb\"",
            "[limits]\nmax_query_memory = \"99999999999TiB\"",
            "[limits]\nmax_rows = \"lots\"",
            "[limits]\nmax_nesting_depth = 0",
            "[limits]\nquery_timeout = \"400d\"",
            "[limits]\nquery_timeout = \"99999999999999999999\"",
            "[limits]\nquery_timeout = \"5 parsecs\"",
            "[limits]\nquery_timeout = \"5\u{1F600}\"",
            "data_dir = 5",
            "data_dir = \"\"",
            "default_database = \"system\"",
            "default_database = \"a b\"",
            "default_database = \"1db\"",
            "default_database = \"SYSTEM\"",
            "log_level = \"verbose\"",
            "log_level = \"[{\"",
        ];
        for text in cases {
            let e = err_of(resolve(&ServeArgs::default(), &no_env(), file(text)));
            assert!(e.contains("invalid value"), "{text:?}: {e}");
            assert!(e.contains("/etc/graphward.toml"), "{text:?}: {e}");
        }
    }

    #[test]
    fn long_and_hostile_values_are_escaped_and_cut() {
        let args = ServeArgs {
            bolt_port: Some(format!("\n{}", "9".repeat(500))),
            ..Default::default()
        };
        let e = err_of(resolve(&args, &no_env(), None));
        assert!(!e.contains('\n'), "{e}");
        assert!(e.len() < 400, "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("1_000"), Ok(1000));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("16 mib"), Ok(16 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("3kb"), Ok(3000));
        assert!(parse_size("").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("1.5GiB").is_err());
        assert!(parse_size("18446744073709551616").is_err());
        assert!(parse_size("17000000TiB").is_err());
    }

    #[test]
    fn listen_addresses_clients_can_dial() {
        assert_eq!(listen_address("0.0.0.0", 7), "localhost:7");
        assert_eq!(listen_address("::", 7), "localhost:7");
        assert_eq!(listen_address("127.0.0.1", 7), "127.0.0.1:7");
        assert_eq!(listen_address("::1", 7), "[::1]:7");
        assert_eq!(listen_address("db.local", 7), "db.local:7");
    }

    #[test]
    fn durations() {
        let s = |n| Ok(Some(Duration::from_secs(n)));
        assert_eq!(parse_duration("30"), s(30));
        assert_eq!(parse_duration("30s"), s(30));
        assert_eq!(parse_duration("5m"), s(300));
        assert_eq!(parse_duration("1h30m"), s(5400));
        assert_eq!(parse_duration("1h 30m"), s(5400));
        assert_eq!(parse_duration("2d"), s(172800));
        assert_eq!(
            parse_duration("500ms"),
            Ok(Some(Duration::from_millis(500)))
        );
        assert_eq!(parse_duration("0"), Ok(None));
        assert_eq!(parse_duration("0s"), Ok(None));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("5").is_ok());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("366d").is_err());
        assert!(parse_duration("99999999999999999999s").is_err());
        assert!(parse_duration("18446744073709551615d").is_err());
        assert!(parse_duration("18446744073709551615ms").is_err());
    }

    #[test]
    fn unknown_env_vars_are_reported() {
        let names = [
            "GRAPHWARD_BOLTPORT",
            "GRAPHWARD_BOLT_PORT",
            "GRAPHWARD_BIN",
            "PATH",
            "GRAPHWARD_CONFIG",
        ]
        .map(String::from);
        assert_eq!(unknown_env_vars(names), vec!["GRAPHWARD_BOLTPORT"]);
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let args = ServeArgs {
            config: Some("/nonexistent/graphward.toml".into()),
            ..Default::default()
        };
        let e = match load(&args, no_env()) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("/nonexistent/graphward.toml"), "{e}");
        assert!(e.contains("--config"), "{e}");

        let env = env_of(&[("GRAPHWARD_CONFIG", "/nonexistent/g.toml")]);
        let e = match load(&ServeArgs::default(), env) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("GRAPHWARD_CONFIG"), "{e}");
    }
}
