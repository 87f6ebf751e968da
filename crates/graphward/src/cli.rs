//! Command-line interface: the `graphward` binary's subcommands and their flags.
//!
//! Flags only *collect* what the operator typed: every value is an `Option<String>` so that
//! [`crate::config`] can layer it over the environment, the TOML file and the defaults, and
//! report a bad value together with where it came from. Further subcommands (`certs`, `token`,
//! `config`, `shell`) get their own variant and module.

use clap::{Args, Parser, Subcommand};

/// graphward: a security-focused graph database server (Cypher over Bolt).
#[derive(Debug, Parser)]
#[command(name = "graphward", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the database server (Bolt and HTTP listeners).
    Serve(ServeArgs),
    /// Interactive console client (Bolt, TLS with --use-ssl); batch mode on a file or stdin.
    Shell(graphward_shell::ShellArgs),
    /// Make and check TLS certificates.
    Certs(CertsArgs),
    /// Read, change and apply settings: get, set, apply (to the running server), entry
    /// (interactive).
    Config(crate::config_cmd::ConfigArgs),
    /// Print the authorization table: for each kind of statement an example and the privilege
    /// it needs, then each HTTP admin endpoint (`endpoint`: method and path) and what it
    /// needs, as JSON lines (what the server enforces; see graphward_auth::policy).
    Policy(PolicyArgs),
    /// Check every database of a data directory (server stopped): one line per database;
    /// exits non-zero when one is missing, empty or damaged.
    Check(crate::storage_cmd::CheckArgs),
    /// Back up a running server (every database and the auth state, consistent while writes
    /// go on) over HTTP(S) with admin credentials; verified against checksums before done.
    Backup(crate::storage_cmd::BackupArgs),
    /// Restore a backup into a data directory (server stopped); verifies it first.
    Restore(crate::storage_cmd::RestoreArgs),
    /// Compact one database of a running server (free pages go back to the file system)
    /// over HTTP(S) with admin credentials.
    Compact(crate::storage_cmd::CompactArgs),
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    #[command(subcommand)]
    pub command: CertsCommand,
}

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Write a private CA (ca.pem, ca.key) and a server certificate signed by it (server.pem
    /// with the chain, server.key mode 0600), or with --self-signed one self-signed certificate.
    Generate(CertsGenerateArgs),
    /// Check a certificate and key: match, chain, expiry, SANs, hostname, key permissions.
    /// Exits non-zero when a check fails.
    Check(CertsCheckArgs),
}

#[derive(Debug, Args)]
pub struct CertsGenerateArgs {
    /// Directory to write the files to (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
    /// Subject alternative name: DNS:name or IP:address; repeat for several
    #[arg(long = "san", value_name = "SAN", required = true)]
    pub sans: Vec<String>,
    /// Validity in days
    #[arg(long, value_name = "N", default_value_t = 365)]
    pub days: u32,
    /// One self-signed certificate instead of a CA and a certificate signed by it
    #[arg(long)]
    pub self_signed: bool,
    /// Encrypt server.key (PKCS#8, PBES2) with the password in this file (first line)
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CertsCheckArgs {
    /// Certificate chain (PEM)
    #[arg(long, value_name = "FILE")]
    pub cert: std::path::PathBuf,
    /// Private key (PEM)
    #[arg(long, value_name = "FILE")]
    pub key: std::path::PathBuf,
    /// CA certificate(s) the chain must verify against
    #[arg(long, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// Host name (or IP address) the certificate must be valid for
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Password file of an encrypted key (first line)
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<std::path::PathBuf>,
}

const SERVE_AFTER_HELP: &str = "\
Every flag can also be set with an environment variable GRAPHWARD_<FLAG> (e.g. --bolt-port is \
GRAPHWARD_BOLT_PORT) or a key in the TOML file given with --config. Precedence: flag > \
environment > file > default. Reference: docs/configuration.md";

/// Flags of `graphward serve`. Every field is optional: absent means "not given on the command
/// line", and the environment, the config file or the default decides.
#[derive(Debug, Default, Clone, Args)]
#[command(after_help = SERVE_AFTER_HELP)]
pub struct ServeArgs {
    /// TOML configuration file [env: GRAPHWARD_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,

    /// Directory holding the databases; created if missing [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,

    /// Database used when a client names none [default: neo4j]
    #[arg(long, value_name = "NAME")]
    pub default_database: Option<String>,

    /// Log filter: a level (error, warn, info, debug, trace) or RUST_LOG-style directives
    /// [default: info]
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Address the Bolt listener binds; 0.0.0.0 exposes it to the network [default: 127.0.0.1]
    #[arg(long, value_name = "ADDR")]
    pub bolt_address: Option<String>,

    /// Bolt port [default: 7687]
    #[arg(long, value_name = "PORT")]
    pub bolt_port: Option<String>,

    /// Server agent string announced to Bolt clients
    #[arg(long, value_name = "AGENT")]
    pub bolt_server_agent: Option<String>,

    /// Largest Bolt message accepted, e.g. 16MiB [default: 16MiB]
    #[arg(long, value_name = "SIZE")]
    pub bolt_max_message_size: Option<String>,

    /// Most concurrent Bolt connections [default: 1000]
    #[arg(long, value_name = "N")]
    pub bolt_max_connections: Option<String>,

    /// Close Bolt connections idle this long, e.g. 30m [default: 1h]
    #[arg(long, value_name = "DURATION")]
    pub bolt_idle_timeout: Option<String>,

    /// Roll back an explicit Bolt transaction that sends nothing for this long, e.g. 30s
    /// [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub transaction_idle_timeout: Option<String>,

    /// host:port announced in routing tables [default: the address the client connected to]
    #[arg(long, value_name = "HOST:PORT")]
    pub bolt_advertised_address: Option<String>,

    /// Comma-separated WebSocket Origin values accepted [default: any]
    #[arg(long, value_name = "ORIGINS")]
    pub bolt_ws_allowed_origins: Option<String>,

    /// Address the HTTP listener binds [default: 127.0.0.1]
    #[arg(long, value_name = "ADDR")]
    pub http_address: Option<String>,

    /// HTTP port [default: 7474]
    #[arg(long, value_name = "PORT")]
    pub http_port: Option<String>,

    /// Largest HTTP request body accepted, e.g. 10MiB [default: 10MiB]
    #[arg(long, value_name = "SIZE")]
    pub http_max_body_size: Option<String>,

    /// Largest JSON result of one HTTP request, e.g. 512MiB [default: 512MiB]
    #[arg(long, value_name = "SIZE")]
    pub http_max_result_size: Option<String>,

    /// Roll back explicit HTTP transactions idle this long, e.g. 30s [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub http_transaction_idle_timeout: Option<String>,

    /// Most explicit HTTP transactions open at once [default: 1000]
    #[arg(long, value_name = "N")]
    pub http_max_transactions: Option<String>,

    /// Most concurrent HTTP connections [default: 1024]
    #[arg(long, value_name = "N")]
    pub http_max_connections: Option<String>,

    /// Longest query text accepted, e.g. 1MiB [default: 1MiB]
    #[arg(long, value_name = "SIZE")]
    pub max_query_length: Option<String>,

    /// Deepest expression/pattern nesting the parser accepts [default: 200]
    #[arg(long, value_name = "N")]
    pub max_nesting_depth: Option<String>,

    /// Most rows one query may produce or hold [default: 10000000]
    #[arg(long, value_name = "N")]
    pub max_rows: Option<String>,

    /// Memory one query may hold (intermediate rows, sort/aggregation state and values built
    /// in expressions), e.g. 512MiB [default: 2GiB]
    #[arg(long, value_name = "SIZE")]
    pub max_query_memory: Option<String>,

    /// Memory all running queries together may hold, e.g. 8GiB [default: half of the
    /// machine's (or the cgroup's) memory]
    #[arg(long, value_name = "SIZE")]
    pub max_total_query_memory: Option<String>,

    /// Wall-clock limit per query: seconds or e.g. 30s, 5m; 0 disables [default: 300s]
    #[arg(long, value_name = "DURATION")]
    pub query_timeout: Option<String>,

    /// Wall-clock limit of a whole transaction, including any wait for the write lock; a
    /// client's shorter tx_timeout wins; 0 disables [default: 300s]
    #[arg(long, value_name = "DURATION")]
    pub transaction_timeout: Option<String>,

    /// Log (once per transaction) a transaction that has held its snapshot this long while its
    /// database file grew; 0 disables [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub snapshot_warning_age: Option<String>,

    /// How long a transaction whose bookmark names a commit not reached yet waits for it
    /// before failing with Neo.TransientError.Transaction.BookmarkTimeout; 0: at once
    /// [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub bookmark_wait: Option<String>,

    /// Compact a database file by itself (in the background, while no transaction is open on
    /// it) once it has grown by this many percent over its size after the last compaction;
    /// 0 disables [default: 100]
    #[arg(long, value_name = "PERCENT")]
    pub auto_compact_growth: Option<String>,

    /// Directory LOAD CSV reads files from (`file:///name.csv` is `<DIR>/name.csv`)
    /// [default: none: LOAD CSV is off]
    #[arg(long, value_name = "DIR")]
    pub import_dir: Option<String>,

    /// Smallest database file compacted automatically (a size: 64MiB, 1GB, bytes)
    /// [default: 256MiB]
    #[arg(long, value_name = "SIZE")]
    pub auto_compact_min_size: Option<String>,

    /// Bolt TLS certificate chain (PEM, leaf first). With --bolt-key-file, Bolt accepts TLS
    /// only (bolt+s://, neo4j+s://)
    #[arg(long, value_name = "FILE")]
    pub bolt_cert_file: Option<String>,

    /// Bolt TLS private key (PEM: PKCS#8, PKCS#1, SEC1 or encrypted PKCS#8); mode 0600 or less
    #[arg(long, value_name = "FILE")]
    pub bolt_key_file: Option<String>,

    /// File holding the password of an encrypted Bolt key (or set GRAPHWARD_BOLT_KEY_PASSWORD)
    #[arg(long, value_name = "FILE")]
    pub bolt_key_password_file: Option<String>,

    /// HTTP TLS certificate chain (PEM, leaf first). With --tls-key, HTTP accepts HTTPS only
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<String>,

    /// HTTP TLS private key (PEM); mode 0600 or less
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<String>,

    /// File holding the password of an encrypted HTTP key (or set GRAPHWARD_TLS_KEY_PASSWORD)
    #[arg(long, value_name = "FILE")]
    pub tls_key_password_file: Option<String>,

    /// Lowest TLS version accepted on both listeners: 1.2 or 1.3 [default: 1.2]
    #[arg(long, value_name = "VERSION")]
    pub tls_min_version: Option<String>,

    /// Only AEAD cipher suites with forward secrecy (TLS 1.3 suites; ECDHE with AES-GCM or
    /// ChaCha20-Poly1305 for TLS 1.2) [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub tls_strict_ciphers: Option<String>,

    /// Warn (at start and hourly) when a certificate expires within this horizon; 0 disables
    /// [default: 14d]
    #[arg(long, value_name = "DURATION")]
    pub tls_expiry_warning: Option<String>,

    /// Accept private keys readable by group/others and certificates writable by them
    /// [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub allow_insecure_key_permissions: Option<String>,

    /// PEM bundle of CAs trusted for client certificates (both listeners)
    #[arg(long, value_name = "FILE")]
    pub tls_client_ca_file: Option<String>,

    /// Client certificates: none, optional or require [default: none]
    #[arg(long, value_name = "MODE")]
    pub tls_client_auth: Option<String>,

    /// Reload TLS files when they change: true (poll every 2s), false, or a poll period such as
    /// 500ms [default: false]
    #[arg(long, value_name = "BOOL|PERIOD", num_args = 0..=1, default_missing_value = "true")]
    pub tls_watch: Option<String>,
    /// Turn authentication off: every client is an administrator. For local experiments
    /// only; a warning is logged [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub auth_disabled: Option<String>,

    /// File holding the password of the administrator `neo4j` created at the first start
    /// (also GRAPHWARD_INITIAL_PASSWORD); without either, one is generated and written to
    /// DATA_DIR/initial-password
    #[arg(long, value_name = "FILE")]
    pub initial_password_file: Option<String>,

    /// Password checks (argon2id, 19 MiB each) run at once [default: the number of cores]
    #[arg(long, value_name = "N")]
    pub auth_hash_concurrency: Option<String>,

    /// Password checks waiting for a slot; beyond, logins get a "busy" refusal [default: 64]
    #[arg(long, value_name = "N")]
    pub auth_hash_queue: Option<String>,

    /// Time a connection has to authenticate (Bolt) or send its first request head (HTTP),
    /// TLS handshake included [default: 10s]
    #[arg(long, value_name = "DURATION")]
    pub preauth_timeout: Option<String>,

    /// Unauthenticated connections per client address, per listener [default: 64]
    #[arg(long, value_name = "N")]
    pub preauth_max_per_address: Option<String>,

    /// Unauthenticated connections in all, per listener [default: 512]
    #[arg(long, value_name = "N")]
    pub preauth_max_connections: Option<String>,

    /// HMAC secret for JWT bearer tokens (HS256/384/512): the secret itself, @FILE, or an https:// URL; at least 32 bytes. Prefer @FILE: a flag shows in `ps`
    #[arg(long, value_name = "SECRET")]
    pub jwt_hmac_secret: Option<String>,

    /// Public key (PEM: RSA, EC P-256/P-384 or Ed25519) for JWT bearer tokens: the PEM itself, @FILE or an https:// URL
    #[arg(long, value_name = "KEY")]
    pub jwt_rsa_public_key: Option<String>,

    /// https:// URL of a JWKS; tokens name their key with `kid`
    #[arg(long, value_name = "URL")]
    pub jwt_jwks_url: Option<String>,

    /// Required `iss` claim of JWT bearer tokens [default: not checked]
    #[arg(long, value_name = "ISS")]
    pub jwt_issuer: Option<String>,

    /// Accepted `aud` values of JWT bearer tokens, comma-separated [default: not checked]
    #[arg(long, value_name = "AUD")]
    pub jwt_audience: Option<String>,

    /// Clock leeway for exp/nbf/iat, at most 300s [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub jwt_leeway: Option<String>,

    /// Longest accepted lifetime of an external token (exp - iat, or exp - now without
    /// iat); 0 removes the limit [default: 24h]
    #[arg(long, value_name = "DURATION")]
    pub jwt_max_lifetime: Option<String>,

    /// Refuse ECDSA (ES256/ES384) signatures not in low-s form; only for issuers that
    /// normalise their signatures [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub jwt_require_low_s: Option<String>,

    /// Largest bearer token accepted, checked before decoding [default: 16KiB]
    #[arg(long, value_name = "SIZE")]
    pub jwt_max_token_size: Option<String>,

    /// Most live entries in one user's token block list, 1 to 50 [default: 20]
    #[arg(long, value_name = "N")]
    pub token_drop_limit: Option<String>,

    /// Lifetime of a server-issued token when the request names none [default: 7d]
    #[arg(long, value_name = "DURATION")]
    pub token_lifetime: Option<String>,

    /// Longest lifetime a token request may ask for [default: 30d]
    #[arg(long, value_name = "DURATION")]
    pub token_max_lifetime: Option<String>,

    /// `iss` claim of server-issued tokens [default: graphward]
    #[arg(long, value_name = "ISS")]
    pub token_issuer: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn interop_fixture_flags_parse() {
        let cli = Cli::try_parse_from([
            "graphward",
            "serve",
            "--data-dir",
            "/tmp/d",
            "--bolt-address",
            "127.0.0.1",
            "--bolt-port",
            "7688",
            "--http-address",
            "127.0.0.1",
            "--http-port",
            "7475",
        ]);
        let Ok(Cli {
            command: Command::Serve(args),
        }) = cli
        else {
            panic!("fixture flags must parse: {cli:?}");
        };
        assert_eq!(args.data_dir.as_deref(), Some("/tmp/d"));
        assert_eq!(args.bolt_port.as_deref(), Some("7688"));
        assert_eq!(args.http_port.as_deref(), Some("7475"));
    }
}

/// Flags of `graphward policy`: the names filled into the examples.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Graph named by the examples
    #[arg(long, default_value = "neo4j")]
    pub graph: String,
    /// The user running the examples (for "own account" statements)
    #[arg(long, default_value = "alice")]
    pub user: String,
    /// Another user, named by the examples that touch someone else's account
    #[arg(long, default_value = "neo4j")]
    pub admin: String,
}
