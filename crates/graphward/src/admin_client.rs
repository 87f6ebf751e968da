//! The client side of the HTTP admin endpoints, shared by `graphward config apply`,
//! `graphward backup` and `graphward compact`: one set of connection flags ([`ServerArgs`],
//! flattened into each command) and one client ([`AdminClient`], on `ureq` with rustls).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use graphward_auth::fetch::{self, ureq, AgentOptions};

/// How to reach a running server's HTTP listener as an administrator.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Address of the server's HTTP listener
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    pub address: String,
    /// Port of the server's HTTP listener
    #[arg(long, value_name = "PORT", default_value_t = 7474)]
    pub port: u16,
    /// Use HTTPS, verifying the server against the system's roots (or --ca-file)
    #[arg(long)]
    pub use_ssl: bool,
    /// Verify the server's certificate against the CA certificate(s) in this PEM file
    /// (implies --use-ssl)
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// User name (needs ADMIN on every graph) [env: GRAPHWARD_USER] [default: neo4j]; the
    /// password comes from GRAPHWARD_PASSWORD or a prompt
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
}

/// An answer of the server: its status and the response, positioned at the body.
pub struct Answer {
    pub status: u16,
    pub response: ureq::http::Response<ureq::Body>,
}

impl Answer {
    /// The body as JSON (at most `limit` bytes; not JSON: `null`), and the raw bytes.
    pub fn json(mut self, limit: u64) -> Result<(u16, serde_json::Value, Vec<u8>), String> {
        let body = self
            .response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => format!("answer larger than {limit} bytes"),
                e => e.to_string(),
            })?;
        let json = serde_json::from_slice(&body).unwrap_or_default();
        Ok((self.status, json, body))
    }

    /// The declared length of the body, if the server sent one.
    pub fn content_length(&self) -> Option<u64> {
        self.response.body().content_length()
    }

    /// The body as a reader (streamed).
    pub fn into_reader(self) -> impl Read {
        self.response.into_body().into_reader()
    }
}

/// A client of one server's admin endpoints, with Basic credentials.
pub struct AdminClient {
    base: String,
    tls: bool,
    authorization: String,
    agent: ureq::Agent,
}

impl AdminClient {
    /// Reads the user name and password (`GRAPHWARD_USER`/`GRAPHWARD_PASSWORD` or a prompt)
    /// and prepares the agent (each read or write may wait `io_timeout`).
    pub fn new(a: &ServerArgs, io_timeout: Duration) -> Result<AdminClient, String> {
        use base64::Engine as _;
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let user = a
            .username
            .clone()
            .or_else(|| env("GRAPHWARD_USER"))
            .unwrap_or_else(|| "neo4j".to_string());
        let password = match env("GRAPHWARD_PASSWORD") {
            Some(p) => p,
            None if std::io::stdin().is_terminal() => {
                rpassword::prompt_password(format!("Password for {user}: "))
                    .map_err(|e| format!("cannot read the password: {e}"))?
            }
            None => {
                return Err(format!(
                    "no password for {user}: set GRAPHWARD_PASSWORD or run interactively to be prompted"
                ))
            }
        };
        let host = a.address.trim_start_matches('[').trim_end_matches(']');
        let authority = match host.parse::<std::net::Ipv6Addr>() {
            Ok(_) => format!("[{host}]:{}", a.port),
            Err(_) => format!("{host}:{}", a.port),
        };
        let tls = a.use_ssl || a.ca_file.is_some();
        let roots = match (&a.ca_file, tls) {
            (Some(f), _) => fetch::ca_file_roots(f)?,
            (None, true) => fetch::system_roots()?,
            (None, false) => Vec::new(),
        };
        let agent = fetch::agent(AgentOptions {
            roots,
            https_only: tls,
            connect_timeout: Duration::from_secs(10),
            io_timeout,
            user_agent: concat!("graphward-admin/", env!("CARGO_PKG_VERSION")),
        });
        let scheme = if tls { "https" } else { "http" };
        Ok(AdminClient {
            base: format!("{scheme}://{authority}"),
            tls,
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
            agent,
        })
    }

    /// Sends `method path` (no body). Any HTTP status is an answer; an error is a failure to
    /// talk to the server at all, with a hint for the likely cause.
    pub fn send(&self, method: &str, path: &str) -> Result<Answer, String> {
        let url = format!("{}{path}", self.base);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json")
            .body(())
            .map_err(|e| format!("{url}: {e}"))?;
        match self.agent.run(request) {
            Ok(response) => {
                let status = response.status().as_u16();
                Ok(Answer { status, response })
            }
            Err(e) => {
                let hint = match &e {
                    ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                        "is the server running? check --address/--port"
                    }
                    ureq::Error::HostNotFound => "check --address",
                    _ if self.tls => "is the port serving HTTPS? try without --use-ssl",
                    _ => "an HTTPS server? try --use-ssl",
                };
                Err(format!("{url}: {e} ({hint})"))
            }
        }
    }

    /// Whether this answer is the plaintext refusal of a TLS-only port (sent before any HTTP
    /// is parsed, so it is recognised by its fixed body, a protocol constant).
    pub fn is_tls_required(&self, status: u16, body: &[u8]) -> bool {
        !self.tls && status == 400 && body == graphward_tls::hygiene::HTTP_REFUSAL_BODY.as_bytes()
    }
}
