//! TLS of the listeners: building one [`TlsManager`] per listener at startup (bad files refuse
//! startup with the TLS library's message), the reload commands (`RELOAD BOLT_SERVER TLS`,
//! `RELOAD HTTP_SERVER TLS`, `RELOAD TLS`, `CALL dbms.security.reloadTLS()`), `SHOW TLS`,
//! SIGHUP, the optional file watcher and the hourly expiry warning.
//!
//! Every trigger ends in [`TlsManager::reload`], which is serialized, validates a complete new
//! configuration and swaps it in one step; a failure keeps the running configuration.

use std::sync::Arc;
use std::time::Duration;

use graphward_core::commands::{
    wrong_family, Command, CommandContext, CommandFamily, RowsStream, ServerCommand, TlsCommand,
};
use graphward_core::engine::{Params, ResultStream};
use graphward_core::error::{Error, ErrorCode};
use graphward_core::Value;
use graphward_tls::{TlsManager, NO_TLS_RELOAD_MESSAGE};

use crate::config::TlsConfig;

/// How often certificate expiry is checked against the warning horizon after startup.
pub const EXPIRY_CHECK_PERIOD: Duration = Duration::from_secs(3600);

/// The TLS managers of the listeners; `None` for a plaintext listener.
#[derive(Clone, Default)]
pub struct Listeners {
    pub bolt: Option<Arc<TlsManager>>,
    pub http: Option<Arc<TlsManager>>,
}

impl Listeners {
    /// Loads and validates every configured certificate. Errors name the listener, the file
    /// and the fix; they are fatal at startup.
    pub fn start(config: &TlsConfig) -> Result<Self, (&'static str, String)> {
        let make = |name: &'static str, settings: &Option<graphward_tls::TlsSettings>| {
            let Some(settings) = settings else {
                return Ok(None);
            };
            match TlsManager::new(name, settings.clone()) {
                Ok((manager, report)) => {
                    for w in &report.warnings {
                        tracing::warn!(listener = name, "{w}");
                    }
                    let info = &manager.current().info;
                    tracing::info!(
                        listener = name,
                        subject = %info.subject,
                        fingerprint = %info.fingerprint_sha256,
                        not_after = %info.not_after,
                        min_version = settings.min_version.as_str(),
                        client_auth = settings.client_auth.as_str(),
                        "TLS certificate loaded"
                    );
                    Ok(Some(Arc::new(manager)))
                }
                Err(e) => Err((name, e.to_string())),
            }
        };
        Ok(Listeners {
            bolt: make("bolt", &config.bolt)?,
            http: make("http", &config.http)?,
        })
    }

    /// The managers of the TLS listeners.
    pub fn all(&self) -> impl Iterator<Item = &Arc<TlsManager>> {
        self.bolt.iter().chain(self.http.iter())
    }

    /// Reloads every TLS listener (SIGHUP); failures are logged by the manager.
    pub async fn reload_all(&self) {
        for m in self.all() {
            let _ = m.reload_async().await;
        }
    }

    /// Starts the file watchers (`--tls-watch`) and the hourly expiry check. Abort the
    /// returned handles on shutdown.
    pub fn spawn_background(&self, watch: Option<Duration>) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        if let Some(period) = watch {
            for m in self.all() {
                tracing::info!(
                    listener = m.listener(),
                    period_ms = period.as_millis() as u64,
                    "watching TLS files for changes"
                );
                tasks.push(graphward_tls::watch(m.clone(), period));
            }
        }
        let managers: Vec<Arc<TlsManager>> = self.all().cloned().collect();
        if !managers.is_empty() {
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(EXPIRY_CHECK_PERIOD);
                tick.tick().await; // the first tick is immediate; startup already warned
                loop {
                    tick.tick().await;
                    for m in &managers {
                        warn_if_expiring(m);
                    }
                }
            }));
        }
        tasks
    }
}

/// Logs a WARN when the served certificate expires within the listener's warning horizon.
pub fn warn_if_expiring(m: &TlsManager) {
    let horizon = m.settings().expiry_warning;
    if horizon.is_zero() {
        return;
    }
    let status = m.status();
    let left = status.expires_in_secs;
    if left <= 0 {
        tracing::error!(
            listener = m.listener(),
            not_after = %status.certificate.not_after,
            cert_file = %status.cert_file,
            "the served TLS certificate has EXPIRED: clients will refuse it; replace the files and run RELOAD TLS"
        );
    } else if u64::try_from(left).unwrap_or(0) < horizon.as_secs() {
        tracing::warn!(
            listener = m.listener(),
            not_after = %status.certificate.not_after,
            days_left = left / 86400,
            cert_file = %status.cert_file,
            "the served TLS certificate expires soon: replace the files and run RELOAD TLS"
        );
    }
}

/// The `ServerCommand` handler for the TLS statements (`RELOAD ... TLS`, `SHOW TLS`). The front
/// door has authorized them (the `TLS MANAGEMENT` DBMS privilege, `graphward_auth::policy`).
pub struct TlsCommands {
    listeners: Listeners,
}

impl TlsCommands {
    pub fn new(listeners: Listeners) -> Self {
        TlsCommands { listeners }
    }

    fn reload(
        &self,
        bolt: bool,
        http: bool,
        database: &str,
    ) -> graphward_core::Result<Box<dyn ResultStream>> {
        let targets: Vec<&Arc<TlsManager>> = [
            bolt.then_some(self.listeners.bolt.as_ref()).flatten(),
            http.then_some(self.listeners.http.as_ref()).flatten(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if targets.is_empty() {
            return Err(Error::new(ErrorCode::NotSupported, NO_TLS_RELOAD_MESSAGE));
        }
        let mut rows = Vec::new();
        let mut failures = Vec::new();
        for m in targets {
            match m.reload() {
                Ok(_) => {
                    let info = m.current().info.clone();
                    rows.push(vec![
                        Value::String(m.listener().to_string()),
                        Value::String(info.fingerprint_sha256),
                        Value::String(info.not_after),
                    ]);
                }
                Err(e) => failures.push(format!(
                    "{} listener: {e} (the previous certificate stays in use)",
                    m.listener()
                )),
            }
        }
        if !failures.is_empty() {
            return Err(Error::new(
                ErrorCode::ArgumentError,
                format!("TLS reload failed: {}", failures.join("; ")),
            ));
        }
        Ok(RowsStream::new(
            vec![
                "listener".into(),
                "fingerprint_sha256".into(),
                "not_after".into(),
            ],
            rows,
            database,
        )
        .boxed())
    }

    fn show(&self, database: &str) -> Box<dyn ResultStream> {
        let columns: Vec<String> = [
            "listener",
            "tls",
            "subject",
            "sans",
            "issuer",
            "not_before",
            "not_after",
            "fingerprint_sha256",
            "cert_file",
            "key_file",
            "min_version",
            "strict_ciphers",
            "client_auth",
            "loaded_at",
            "last_reload_error",
            "reloads_succeeded",
            "reloads_failed",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let mut rows = Vec::new();
        for (name, m) in [
            ("bolt", &self.listeners.bolt),
            ("http", &self.listeners.http),
        ] {
            let row = match m {
                None => {
                    let mut r = vec![Value::String(name.into()), Value::Bool(false)];
                    r.resize(columns.len(), Value::Null);
                    r
                }
                Some(m) => {
                    let s = m.status();
                    let text = |v: String| Value::String(v);
                    let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
                    vec![
                        text(s.listener),
                        Value::Bool(true),
                        text(s.certificate.subject),
                        Value::List(s.certificate.sans.into_iter().map(text).collect()),
                        text(s.certificate.issuer),
                        text(s.certificate.not_before),
                        text(s.certificate.not_after),
                        text(s.certificate.fingerprint_sha256),
                        text(s.cert_file),
                        text(s.key_file),
                        text(s.min_version),
                        Value::Bool(s.strict_ciphers),
                        text(s.client_auth),
                        text(s.loaded_at),
                        s.last_reload_error.map(text).unwrap_or(Value::Null),
                        int(s.reloads_succeeded),
                        int(s.reloads_failed),
                    ]
                }
            };
            rows.push(row);
        }
        RowsStream::new(columns, rows, database).boxed()
    }
}

impl ServerCommand for TlsCommands {
    fn family(&self) -> CommandFamily {
        CommandFamily::Tls
    }

    fn run(
        &self,
        command: &Command,
        _params: &Params,
        ctx: &CommandContext<'_>,
    ) -> graphward_core::Result<Box<dyn ResultStream>> {
        match command {
            Command::Tls(TlsCommand::Reload { bolt, http }) => {
                if ctx.explicit_transaction {
                    Err(Error::new(
                        ErrorCode::NotSupported,
                        "RELOAD TLS cannot run inside an explicit transaction: run it as an auto-commit statement",
                    ))
                } else {
                    self.reload(*bolt, *http, ctx.database)
                }
            }
            Command::Tls(TlsCommand::Show) => Ok(self.show(ctx.database)),
            other => Err(wrong_family(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use graphward_core::engine::Principal;

    fn ctx<'a>(p: &'a Principal, explicit: bool) -> CommandContext<'a> {
        CommandContext {
            principal: p,
            database: "neo4j",
            explicit_transaction: explicit,
            can_read: &|_| true,
        }
    }

    fn err(r: graphward_core::Result<Box<dyn ResultStream>>) -> Error {
        match r {
            Err(e) => e,
            Ok(_) => panic!("expected an error"),
        }
    }

    #[test]
    fn commands_without_tls_and_inside_transactions() {
        let cmds = TlsCommands::new(Listeners::default());
        let admin = Principal {
            user: Some("admin".into()),
            ..Principal::default()
        };
        let params = Params::new();
        let reload = |bolt, http| Command::Tls(TlsCommand::Reload { bolt, http });
        let e = err(cmds.run(&reload(true, true), &params, &ctx(&admin, false)));
        assert_eq!(e.message, NO_TLS_RELOAD_MESSAGE);
        let e = err(cmds.run(&reload(true, false), &params, &ctx(&admin, true)));
        assert_eq!(e.code, ErrorCode::NotSupported);
        let e = err(cmds.run(&Command::ReloadConfig, &params, &ctx(&admin, false)));
        assert_eq!(e.code, ErrorCode::Internal);
        // SHOW TLS without TLS: one row per listener, tls = false
        let Ok(mut rows) = cmds.run(
            &Command::Tls(TlsCommand::Show),
            &params,
            &ctx(&admin, false),
        ) else {
            panic!("SHOW TLS failed");
        };
        let mut n = 0;
        while let Some(Ok(row)) = rows.next_row() {
            assert_eq!(row.get(1), Some(&Value::Bool(false)));
            n += 1;
        }
        assert_eq!(n, 2);
    }
}
