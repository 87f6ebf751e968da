//! Runtime configuration: `graphward config apply` (`POST /admin/config/apply`) and the
//! `RELOAD CONFIG` server command re-read the config file and apply what can change without a
//! restart.
//!
//! * `Security.JWT.*`: a new JWT verifier is built from the new values (keys read or fetched
//!   now) and swapped in atomically; the block list moves over. A bad value refuses the whole
//!   apply: the old verifier stays and the error names the key and why.
//! * `GSQL.Token.*`: the token settings (drop limit, lifetimes, issuer of the server's own
//!   tokens) are checked together and replaced at once.
//! * Anything else that changed (ports, data directory, TLS files, ...) is reported as
//!   `needs-restart` and keeps being reported until the server restarts.
//!
//! The same layering as at startup applies: a setting given by a flag or an environment
//! variable still wins over the file.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use graphward_auth::jwt::JwtVerifier;
use graphward_auth::AuthService;
use graphward_core::commands::{
    wrong_family, Command, CommandContext, CommandFamily, RowsStream, ServerCommand,
};
use graphward_core::engine::{Params, ResultStream};
use graphward_core::{Error, ErrorCode, Value};
use graphward_http::admin::{ApplyOutcome, ConfigApplier};

use crate::cli::ServeArgs;
use crate::config::{self, Effective, Raw, Runtime, Source, SETTINGS};

/// What happened to one setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Applied,
    Unchanged,
    NeedsRestart,
    Error,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Unchanged => "unchanged",
            Status::NeedsRestart => "needs-restart",
            Status::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub status: Status,
    pub message: Option<String>,
}

/// The outcome of one apply.
#[derive(Debug, Clone)]
pub struct Report {
    /// Set when the apply was refused (then nothing changed).
    pub error: Option<String>,
    pub file: Option<PathBuf>,
    pub entries: Vec<Entry>,
}

impl Report {
    fn refused(file: Option<PathBuf>, key: Option<&str>, error: String) -> Report {
        let entries = key
            .map(|k| Entry {
                key: k.to_string(),
                status: Status::Error,
                message: Some(error.clone()),
            })
            .into_iter()
            .collect();
        Report {
            error: Some(error),
            file,
            entries,
        }
    }

    fn keys(&self, status: Status) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.status == status)
            .map(|e| e.key.as_str())
            .collect()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let results: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|e| {
                let mut v = serde_json::json!({"key": e.key, "status": e.status.as_str()});
                if let (Some(m), Some(o)) = (&e.message, v.as_object_mut()) {
                    o.insert("message".into(), serde_json::Value::String(m.clone()));
                }
                v
            })
            .collect();
        serde_json::json!({
            "status": if self.error.is_none() { "applied" } else { "refused" },
            "config_file": self.file.as_ref().map(|p| p.display().to_string()),
            "results": results,
            "applied": self.keys(Status::Applied),
            "unchanged": self.keys(Status::Unchanged),
            "needs_restart": self.keys(Status::NeedsRestart),
        })
    }
}

/// Re-reads the config file and applies it to the running server.
pub struct ConfigReloader {
    args: ServeArgs,
    file: Option<PathBuf>,
    auth: Arc<AuthService>,
    /// The raw values in force. Changes that need a restart are not recorded here, so they
    /// are reported again at the next apply.
    current: Mutex<Effective>,
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// How a value is shown in reports and logs (secrets never).
fn shown(key: &str, value: &Option<(Raw, Source)>) -> String {
    match value {
        None => "(not set: the default applies)".to_string(),
        Some((_, source)) if config::is_secret(key) => format!("**** (from {source})"),
        Some((raw, _)) => raw.display(),
    }
}

impl ConfigReloader {
    /// The reloader for a server started with `args` (the values in force are read now).
    pub fn new(args: ServeArgs, auth: Arc<AuthService>) -> Result<Self, String> {
        let file = config::config_file_of(&args);
        let text = match &file {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read config file {}: {e}", p.display()))?,
            ),
            None => None,
        };
        let current = config::effective(&args, &process_env, file.clone().zip(text.as_deref()))
            .map_err(|e| e.to_string())?;
        Ok(ConfigReloader {
            args,
            file,
            auth,
            current: Mutex::new(current),
        })
    }

    /// Re-read the file and apply what can be applied; see the module documentation.
    pub fn apply(&self) -> Report {
        let mut current = match self.current.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let report = self.apply_locked(&mut current);
        match &report.error {
            None => tracing::info!(
                applied = ?report.keys(Status::Applied),
                needs_restart = ?report.keys(Status::NeedsRestart),
                "configuration re-read"
            ),
            Some(e) => tracing::warn!("configuration not applied (nothing changed): {e}"),
        }
        report
    }

    fn apply_locked(&self, current: &mut Effective) -> Report {
        let Some(path) = self.file.clone() else {
            return Report::refused(
                None,
                None,
                "the server was started without a config file (--config or GRAPHWARD_CONFIG): there is nothing to re-read".to_string(),
            );
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                let msg = format!("cannot read config file {}: {e}", path.display());
                return Report::refused(Some(path), None, msg);
            }
        };
        let (config, new) = match config::resolve_effective(
            &self.args,
            &process_env,
            Some((path.clone(), text.as_str())),
        ) {
            Ok(r) => r,
            Err(e) => {
                let key = e.key().map(str::to_string);
                return Report::refused(Some(path), key.as_deref(), e.to_string());
            }
        };
        let raw = |m: &Effective, k: &str| m.get(k).cloned().flatten().map(|(r, _)| r);
        let changed: Vec<&'static str> = SETTINGS
            .iter()
            .map(|s| s.name)
            .filter(|k| raw(current, k) != raw(&new, k))
            .collect();

        // Build everything first; install only when nothing failed.
        let changed_in = |group: Runtime| -> Vec<&'static str> {
            changed
                .iter()
                .copied()
                .filter(|k| config::runtime(k) == group)
                .collect()
        };
        let jwt_changed = changed_in(Runtime::Jwt);
        let verifier = if jwt_changed.is_empty() {
            None
        } else if config.auth.jwt.is_configured() {
            match JwtVerifier::new(config.auth.jwt.clone()) {
                Ok(v) => Some(Some(v)),
                Err(e) => {
                    // The verifier names the setting it refused.
                    let key = e.setting.name();
                    let msg = format!(
                        "{} (key {key}; the previous JWT settings stay in force)",
                        e.message
                    );
                    return Report::refused(Some(path), Some(key), msg);
                }
            }
        } else {
            // Every key source removed: bearer tokens are refused from now on.
            Some(None)
        };
        let tokens_changed = changed_in(Runtime::Tokens);
        if !tokens_changed.is_empty() {
            if let Err((key, message)) = config.auth.tokens.check() {
                let key = Some(key);
                let msg = format!("{message} (the previous token settings stay in force)");
                return Report::refused(Some(path), key, msg);
            }
        }

        // Everything checked: install.
        if let Some(v) = verifier {
            self.auth.replace_jwt(v);
        }
        if !tokens_changed.is_empty() {
            if let Err(message) = self.auth.set_token_settings(config.auth.tokens.clone()) {
                // Validated above; only a poisoned lock gets here.
                return Report::refused(Some(path), tokens_changed.first().copied(), message);
            }
        }

        let mut entries = Vec::new();
        for s in SETTINGS {
            let key = s.name;
            let value = new.get(key).cloned().flatten();
            let (status, message) = if !changed.contains(&key) {
                let message = match &value {
                    Some((_, source @ (Source::Flag(_) | Source::Env(_)))) => Some(format!(
                        "set by {source}, which takes precedence over the file"
                    )),
                    _ => None,
                };
                (Status::Unchanged, message)
            } else if config::reapplicable(key) {
                current.insert(key, value.clone());
                (Status::Applied, Some(format!("now {}", shown(key, &value))))
            } else {
                (
                    Status::NeedsRestart,
                    Some(format!(
                        "changed to {}; takes effect at the next restart",
                        shown(key, &value)
                    )),
                )
            };
            entries.push(Entry {
                key: key.to_string(),
                status,
                message,
            });
        }
        Report {
            error: None,
            file: Some(path),
            entries,
        }
    }
}

impl ConfigApplier for ConfigReloader {
    fn apply(&self) -> ApplyOutcome {
        let report = ConfigReloader::apply(self);
        ApplyOutcome {
            ok: report.error.is_none(),
            report: report.to_json(),
            error: report.error,
        }
    }
}

/// `RELOAD CONFIG`: the same as `graphward config apply`, from any client (ADMIN on every
/// graph). Rows: key, status, message.
pub struct ConfigCommands {
    reloader: Arc<ConfigReloader>,
}

impl ConfigCommands {
    pub fn new(reloader: Arc<ConfigReloader>) -> Self {
        ConfigCommands { reloader }
    }
}

impl ServerCommand for ConfigCommands {
    fn family(&self) -> CommandFamily {
        CommandFamily::Config
    }

    /// Authorized by the front door (`graphward_auth::policy`: ADMIN on every graph, which a
    /// token limited to one graph never has).
    fn run(
        &self,
        command: &Command,
        _params: &Params,
        ctx: &CommandContext<'_>,
    ) -> graphward_core::Result<Box<dyn ResultStream>> {
        if *command != Command::ReloadConfig {
            return Err(wrong_family(command));
        }
        let report = self.reloader.apply();
        if let Some(e) = report.error {
            return Err(Error::new(
                ErrorCode::ArgumentError,
                format!("configuration not applied (nothing changed): {e}"),
            ));
        }
        let rows = report
            .entries
            .into_iter()
            .map(|e| {
                vec![
                    Value::String(e.key),
                    Value::String(e.status.as_str().to_string()),
                    e.message.map(Value::String).unwrap_or(Value::Null),
                ]
            })
            .collect();
        Ok(RowsStream::new(
            vec!["key".into(), "status".into(), "message".into()],
            rows,
            ctx.database,
        )
        .boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(dir: &std::path::Path) -> Arc<AuthService> {
        let options = graphward_auth::AuthOptions {
            disabled: false,
            initial_password: Some("password".into()),
        };
        AuthService::open(dir, options).unwrap().0
    }

    fn reloader(dir: &std::path::Path, toml: &str) -> (ConfigReloader, PathBuf) {
        let file = dir.join("graphward.toml");
        std::fs::write(&file, toml).unwrap();
        let args = ServeArgs {
            config: Some(file.display().to_string()),
            ..Default::default()
        };
        (ConfigReloader::new(args, service(dir)).unwrap(), file)
    }

    fn status_of(r: &Report, key: &str) -> Status {
        r.entries.iter().find(|e| e.key == key).unwrap().status
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn start() -> String {
        format!("[Security.JWT]\nIssuer = \"a\"\n[Security.JWT.HMAC]\nSecret = \"{SECRET}\"\n")
    }

    #[test]
    fn jwt_changes_apply_and_ports_need_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let start = start();
        let (r, file) = reloader(dir.path(), &start);
        let report = r.apply();
        assert!(report.error.is_none(), "{report:?}");
        assert!(report.keys(Status::Applied).is_empty());

        std::fs::write(
            &file,
            format!("{start}[bolt]\nport = 9999\n").replace("\"a\"", "\"b\""),
        )
        .unwrap();
        let report = r.apply();
        assert!(report.error.is_none(), "{report:?}");
        assert_eq!(status_of(&report, "Security.JWT.Issuer"), Status::Applied);
        assert_eq!(status_of(&report, "bolt.port"), Status::NeedsRestart);
        assert_eq!(
            status_of(&report, "Security.JWT.HMAC.Secret"),
            Status::Unchanged
        );
        let jwt = r.auth.jwt().unwrap();
        assert_eq!(jwt.config().issuer.as_deref(), Some("b"));
        // needs-restart is reported again; applied keys are now in force
        let again = r.apply();
        assert_eq!(status_of(&again, "bolt.port"), Status::NeedsRestart);
        assert_eq!(status_of(&again, "Security.JWT.Issuer"), Status::Unchanged);
        let json = again.to_json().to_string();
        assert!(!json.contains(SECRET), "{json}");
    }

    #[test]
    fn a_bad_value_changes_nothing_and_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let start = start();
        let (r, file) = reloader(dir.path(), &start);
        r.auth.set_jwt(Some(Arc::new(
            JwtVerifier::new(graphward_auth::jwt::JwtConfig {
                hmac_secret: Some(SECRET.into()),
                issuer: Some("a".into()),
                max_token_size: 16384,
                ..Default::default()
            })
            .unwrap(),
        )));
        for (bad, key) in [
            (
                "[Security.JWT]\nIssuer = \"b\"\nLeeway = 301\n",
                "Security.JWT.Leeway",
            ),
            (
                "[Security.JWT]\nIssuer = \"b\"\n[Security.JWT.HMAC]\nSecret = \"short\"\n",
                "Security.JWT.HMAC.Secret",
            ),
            (
                "[Security.JWT]\nIssuer = \"b\"\nNope = 1\n",
                "Security.JWT.Nope",
            ),
        ] {
            std::fs::write(&file, bad).unwrap();
            let report = r.apply();
            let e = report.error.clone().unwrap();
            assert!(e.contains(key), "{e}");
            assert!(!e.contains("short"), "{e}");
            assert_eq!(report.entries[0].key, key);
            assert_eq!(r.auth.jwt().unwrap().config().issuer.as_deref(), Some("a"));
        }
    }

    #[test]
    fn token_settings_apply_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (r, file) = reloader(dir.path(), "[GSQL.Token]\nDropLimit = 20\n");
        std::fs::write(&file, "[GSQL.Token]\nDropLimit = 5\nLifetime = \"2h\"\n").unwrap();
        let report = r.apply();
        assert!(report.error.is_none(), "{report:?}");
        assert_eq!(status_of(&report, "GSQL.Token.DropLimit"), Status::Applied);
        assert_eq!(status_of(&report, "GSQL.Token.Lifetime"), Status::Applied);
        let t = r.auth.token_settings();
        assert_eq!((t.drop_limit, t.default_lifetime), (5, 7200));
        // a lifetime above the maximum: refused, nothing changes
        std::fs::write(
            &file,
            "[GSQL.Token]\nDropLimit = 7\nLifetime = \"40d\"\nMaxLifetime = \"30d\"\n",
        )
        .unwrap();
        let report = r.apply();
        let e = report.error.clone().unwrap();
        assert!(e.contains("GSQL.Token.Lifetime"), "{e}");
        let t = r.auth.token_settings();
        assert_eq!((t.drop_limit, t.default_lifetime), (5, 7200));
    }

    #[test]
    fn without_a_file_apply_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let r = ConfigReloader::new(ServeArgs::default(), service(dir.path())).unwrap();
        assert!(r.apply().error.unwrap().contains("without a config file"));
    }
}
