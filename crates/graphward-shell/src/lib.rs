//! graphward-shell: `graphward shell`, the console client.
//!
//! A Bolt client of our own on the wire format of `graphward-packstream` (PackStream,
//! chunking, handshake) ([`client`]), TLS through rustls with the aws-lc-rs provider
//! ([`connect`]), an interactive REPL with line editing and history ([`repl`]) and a batch mode reading
//! statements from stdin or a file ([`batch`]). Values are shown Cypher-style, as CSV or as
//! JSON lines ([`render`]).
//!
//! Exit status: 0 success, 1 a statement failed, 2 bad usage, 3 cannot connect or
//! authenticate.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod batch;
pub mod client;
pub mod connect;
pub mod error;
pub mod render;
pub mod repl;
pub mod session;
pub mod split;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use client::Auth;
use connect::{Target, TlsMode};
use render::Format;

/// Exit status when a statement failed.
pub const EXIT_STATEMENT: u8 = 1;
/// Exit status for bad usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the server cannot be reached or refuses the credentials.
pub const EXIT_CONNECT: u8 = 3;

const AFTER_HELP: &str = "\
Interactive when standard input is a terminal and no --file is given; otherwise statements \
are read from --file or standard input, separated by ';'. Prefer GRAPHWARD_PASSWORD or the \
prompt over --password (a flag is visible to other users in the process list), and \
--token-file over --token.
Exit status: 0 success, 1 a statement failed, 2 bad usage, 3 cannot connect or authenticate.

Examples:
  graphward shell --use-ssl --ca-file ca.pem --host db.example --username neo4j
  echo 'MATCH (n) RETURN count(n);' | graphward shell --format csv
  graphward shell --file import.cypher --token-file token.jwt --database sales";

/// Flags of `graphward shell` (in mgconsole's style).
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct ShellArgs {
    /// Server host name or IP address
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Bolt port
    #[arg(long, default_value_t = 7687)]
    pub port: u16,

    /// Connect with TLS, verifying the server against the system's trusted roots (or
    /// --ca-file). Implied by --ca-file and --insecure
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true")]
    pub use_ssl: Option<bool>,

    /// Verify the server's certificate against the CA certificate(s) in this PEM file
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Accept any server certificate (encrypted but not authenticated, like bolt+ssc)
    #[arg(long)]
    pub insecure: bool,

    /// User name for basic authentication [default: neo4j]
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// Password (prompted for when interactive and not given)
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "GRAPHWARD_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// Bearer token (JWT) instead of a user name and password
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,

    /// Read the bearer token from this file
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// Database to use [default: the server's default database]
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,

    /// Output format of results
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,

    /// Read statements from this file instead of standard input (not interactive)
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Non-interactive: go on after a failed statement (the exit status is still 1)
    #[arg(long)]
    pub continue_on_error: bool,

    /// History file of the interactive mode (created with mode 0600)
    /// [default: ~/.graphward_history]
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("graphward shell: {msg}");
    ExitCode::from(EXIT_USAGE)
}

/// Where and how to connect, from the flags.
pub fn target(args: &ShellArgs) -> Result<Target, String> {
    if args.insecure && args.ca_file.is_some() {
        return Err(
            "--insecure accepts any certificate and --ca-file verifies it: pass only one".into(),
        );
    }
    let tls_implied = args.insecure || args.ca_file.is_some();
    let use_tls = match args.use_ssl {
        Some(false) if tls_implied => {
            return Err("--use-ssl=false contradicts --ca-file/--insecure".into())
        }
        Some(v) => v,
        None => tls_implied,
    };
    let tls = use_tls.then(|| {
        if args.insecure {
            TlsMode::Insecure
        } else if let Some(ca) = &args.ca_file {
            TlsMode::CaFile(ca.clone())
        } else {
            TlsMode::SystemRoots
        }
    });
    Ok(Target {
        host: args.host.clone(),
        port: args.port,
        tls,
    })
}

/// The credentials, from the flags, the environment, or a prompt.
fn auth(args: &ShellArgs, interactive: bool) -> Result<Auth, String> {
    let token = match (&args.token, &args.token_file) {
        (Some(t), _) => Some(t.trim().to_string()),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read --token-file {}: {e}", path.display()))?;
            Some(text.trim().to_string())
        }
        (None, None) => None,
    };
    if let Some(token) = token {
        if token.is_empty() {
            return Err("the bearer token is empty".into());
        }
        return Ok(Auth::Bearer { token });
    }
    let user = args.username.clone().unwrap_or_else(|| "neo4j".into());
    let password = match &args.password {
        Some(p) => Some(p.clone()),
        None if interactive => Some(
            rpassword::prompt_password(format!("Password for {user}: "))
                .map_err(|e| format!("cannot read the password: {e}"))?,
        ),
        None => None,
    };
    match password {
        Some(password) => Ok(Auth::Basic { user, password }),
        None if args.username.is_some() => Err(format!(
            "no password for {user}: set GRAPHWARD_PASSWORD, pass --password, or run \
             interactively to be prompted"
        )),
        None => Ok(Auth::None),
    }
}

/// Runs `graphward shell`.
pub fn run(args: ShellArgs) -> ExitCode {
    let target = match target(&args) {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let interactive = args.file.is_none() && std::io::stdin().is_terminal();
    let auth = match auth(&args, interactive) {
        Ok(a) => a,
        Err(e) => return usage(e),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("graphward shell: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opened = rt.block_on(session::Session::open(
        target,
        auth,
        args.database.clone(),
        args.format,
    ));
    let session = match opened {
        Ok(s) => s,
        Err(e) => {
            eprintln!("graphward shell: {e}");
            return ExitCode::from(EXIT_CONNECT);
        }
    };
    if interactive {
        repl::run(&rt, session, &args)
    } else {
        batch::run(&rt, session, &args)
    }
}
