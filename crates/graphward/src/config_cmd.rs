//! `graphward config get|set|apply|entry`: read a setting's effective value, change it in the
//! TOML file (validated by the server's own parsers), tell the running server to apply the
//! file (`POST /admin/config/apply`), and an interactive entry of the security settings.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Subcommand, ValueEnum};

use crate::admin_client::{AdminClient, ServerArgs};
use crate::cli::{Cli, ServeArgs};
use crate::config::{self, Raw, Runtime, Source, SETTINGS};

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective value of a setting (flag names aside: environment > file >
    /// default) and where it comes from; secrets show as ****
    Get(GetArgs),
    /// Check VALUE with the server's own parser and write it into the config file (created
    /// mode 0600 if missing; other keys and comments are kept). Nothing changes on error
    Set(SetArgs),
    /// Tell the running server to re-read its config file and apply Security.JWT.* and
    /// GSQL.Token.* at once;
    /// other changed settings are reported as needing a restart. Authenticates as
    /// GRAPHWARD_USER (default neo4j) with GRAPHWARD_PASSWORD, or prompts for the password
    Apply(ApplyArgs),
    /// Prompt for each setting of a group (Enter keeps the current value; secrets are not
    /// echoed), check every answer, then write the file
    Entry(EntryArgs),
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// Setting name, e.g. Security.JWT.Issuer or bolt.port
    pub key: String,
    /// Config file [env: GRAPHWARD_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Setting name, e.g. Security.JWT.Issuer or bolt.port
    pub key: String,
    /// The new value (for a secret prefer @FILE: a value on the command line shows in `ps`)
    pub value: String,
    /// Config file [env: GRAPHWARD_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EntryGroup {
    /// Security.JWT.* and GSQL.Token.*
    Security,
}

#[derive(Debug, Args)]
pub struct EntryArgs {
    /// Which settings to prompt for
    #[arg(value_enum)]
    pub group: EntryGroup,
    /// Config file [env: GRAPHWARD_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn run(command: ConfigCommand) -> ExitCode {
    let result = match command {
        ConfigCommand::Get(a) => get(&a),
        ConfigCommand::Set(a) => set(&a),
        ConfigCommand::Apply(a) => apply(&a),
        ConfigCommand::Entry(a) => entry(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graphward config: {e}");
            ExitCode::FAILURE
        }
    }
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The known setting called `key`, or an error listing the known ones.
fn known(key: &str) -> Result<&'static config::Setting, String> {
    config::setting(key).ok_or_else(|| {
        let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        format!(
            "unknown setting `{key}`; known settings: {}",
            names.join(", ")
        )
    })
}

/// `--config`, else `GRAPHWARD_CONFIG`.
fn file_of(flag: &Option<PathBuf>) -> Option<PathBuf> {
    flag.clone().or_else(|| {
        process_env(config::CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

fn required_file(flag: &Option<PathBuf>) -> Result<PathBuf, String> {
    file_of(flag)
        .ok_or_else(|| "no config file: give --config FILE or set GRAPHWARD_CONFIG".to_string())
}

/// The file's text; a missing file reads as empty (it is created on write).
fn read_or_empty(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The documented default of a setting (`[default: ...]` in the `serve` flag's help).
fn documented_default(s: &config::Setting) -> Option<String> {
    let cli = Cli::command();
    let serve = cli.find_subcommand("serve")?;
    let arg = serve
        .get_arguments()
        .find(|a| a.get_long() == Some(s.flag))?;
    let help = arg.get_long_help().or(arg.get_help())?.to_string();
    let start = help.rfind("[default: ")? + "[default: ".len();
    let end = help[start..].find(']')? + start;
    Some(help[start..end].to_string())
}

/// `KEY = VALUE  # source`, secrets masked.
fn describe(key: &str, s: &config::Setting, value: &Option<(Raw, Source)>) -> String {
    match value {
        Some((_, source)) if config::is_secret(key) => format!("{key} = ****  # {source}"),
        Some((raw, source)) => format!("{key} = {}  # {source}", raw.display()),
        None => match documented_default(s) {
            // a described default ("not checked", "no limit") is not a value to copy
            Some(d) if d.contains(' ') => format!("{key} is not set ({d})"),
            Some(d) => format!("{key} = {d}  # built-in default"),
            None => format!("{key} is not set"),
        },
    }
}

fn get(a: &GetArgs) -> Result<(), String> {
    let s = known(&a.key)?;
    let file = file_of(&a.config);
    let text = match &file {
        Some(p) => Some(
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let file = file.zip(text.as_deref());
    let args = ServeArgs::default();
    let values = config::effective(&args, &process_env, file.clone()).map_err(|e| e.to_string())?;
    let value = values.get(s.name).cloned().flatten();
    println!("{}", describe(s.name, s, &value));
    // Say so when the configuration as a whole would not start a server.
    if let Err(e) = config::resolve(&args, &process_env, file) {
        return Err(format!("warning: the configuration is not valid: {e}"));
    }
    Ok(())
}

/// The file's text with `key` set to `value`, if the server would accept the result (the
/// same parsers, and for Security.JWT.* the JWT verifier is built). The value is written as a
/// TOML integer or boolean when it reads as one and the setting accepts it, else as a string.
fn with_value(path: &Path, text: &str, key: &'static str, value: &str) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    let mut candidates: Vec<toml_edit::Value> = Vec::new();
    if let Ok(i) = value.trim().parse::<i64>() {
        candidates.push(i.into());
    }
    match value.trim() {
        "true" => candidates.push(true.into()),
        "false" => candidates.push(false.into()),
        _ => {}
    }
    candidates.push(value.into());
    let mut last_error = String::new();
    for candidate in candidates {
        put(&mut doc, key, candidate)?;
        let new_text = doc.to_string();
        match check(path, &new_text, key) {
            Ok(()) => return Ok(new_text),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// Would a server start with this file? (Only the file: no flags, no environment.)
fn check(path: &Path, text: &str, key: &str) -> Result<(), String> {
    let no_env = |_: &str| None;
    let config = config::resolve(
        &ServeArgs::default(),
        &no_env,
        Some((path.to_path_buf(), text)),
    )
    .map_err(|e| e.to_string())?;
    match config::runtime(key) {
        Runtime::Jwt if config.auth.jwt.is_configured() => {
            graphward_auth::jwt::JwtVerifier::new(config.auth.jwt.clone())?;
        }
        Runtime::Tokens => config.auth.tokens.validate()?,
        Runtime::Jwt | Runtime::Restart => {}
    }
    Ok(())
}

/// Set `key` in the document: in its table (`[bolt]`, `[Security.JWT]`, top level), or where
/// the file already has it as a quoted dotted key.
fn put(
    doc: &mut toml_edit::DocumentMut,
    key: &'static str,
    value: toml_edit::Value,
) -> Result<(), String> {
    use toml_edit::{Item, Table};
    if key.contains('.') && doc.as_table().contains_key(key) {
        doc[key] = Item::Value(value);
        return Ok(());
    }
    let (tables, leaf) = config::toml_location(key);
    let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    for name in tables {
        let item = table.entry(name).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        table = item
            .as_table_like_mut()
            .ok_or_else(|| format!("`{name}` in the config file is not a table"))?;
    }
    match table.get_mut(leaf) {
        Some(item) => *item = Item::Value(value),
        None => {
            table.insert(leaf, Item::Value(value));
        }
    }
    Ok(())
}

/// Write the file atomically (a temporary file renamed over it), owner-only when new.
fn write_file(path: &Path, text: &str) -> Result<(), String> {
    let err = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "graphward.toml".to_string());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.permissions().mode() & 0o777
            })
            .unwrap_or(0o600);
        o.mode(mode);
    }
    let result = (|| {
        let mut f = o.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

fn set(a: &SetArgs) -> Result<(), String> {
    let s = known(&a.key)?;
    let path = required_file(&a.config)?;
    let text = read_or_empty(&path)?;
    let new_text = with_value(&path, &text, s.name, &a.value)?;
    write_file(&path, &new_text)?;
    let when = if config::reapplicable(s.name) {
        "run `graphward config apply` to apply it to the running server"
    } else {
        "a running server takes it at its next restart"
    };
    println!("{} set in {}; {when}", s.name, path.display());
    Ok(())
}

fn prompt_line(prompt: &str, secret: bool) -> Result<String, String> {
    if secret {
        return rpassword::prompt_password(prompt)
            .map_err(|e| format!("cannot read the answer: {e}"));
    }
    print!("{prompt}");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    if n == 0 {
        return Err(
            "input ended before every setting was answered; nothing was written".to_string(),
        );
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn entry(a: &EntryArgs) -> Result<(), String> {
    let EntryGroup::Security = a.group;
    let path = required_file(&a.config)?;
    let mut text = read_or_empty(&path)?;
    let no_env = |_: &str| None;
    let values = config::effective(&ServeArgs::default(), &no_env, Some((path.clone(), &text)))
        .map_err(|e| e.to_string())?;
    println!(
        "Settings Security.JWT.* and GSQL.Token.* in {} (Enter keeps the current value)",
        path.display()
    );
    let mut changed = 0usize;
    for s in SETTINGS.iter().filter(|s| config::reapplicable(s.name)) {
        let secret = config::is_secret(s.name);
        let current = match values.get(s.name).cloned().flatten() {
            Some(_) if secret => "****".to_string(),
            Some((raw, _)) => raw.display(),
            None => documented_default(s)
                .map(|d| format!("default: {d}"))
                .unwrap_or_else(|| "not set".to_string()),
        };
        loop {
            let answer = prompt_line(&format!("{} [{current}]: ", s.name), secret)?;
            if answer.trim().is_empty() {
                break;
            }
            match with_value(&path, &text, s.name, answer.trim()) {
                Ok(t) => {
                    text = t;
                    changed += 1;
                    break;
                }
                Err(e) => println!("  refused: {e}"),
            }
        }
    }
    if changed == 0 {
        println!("Nothing changed.");
        return Ok(());
    }
    write_file(&path, &text)?;
    println!(
        "Wrote {changed} setting(s) to {}; run `graphward config apply` to apply them to the running server.",
        path.display()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// `config apply`: the HTTP client

const APPLY_TIMEOUT: Duration = Duration::from_secs(60);

fn apply(a: &ApplyArgs) -> Result<(), String> {
    let client = AdminClient::new(&a.server, APPLY_TIMEOUT)?;
    let (status, json, body) = client.send("POST", "/admin/config/apply")?.json(1 << 20)?;
    print_report(&json);
    if status == 200 {
        return Ok(());
    }
    let message = json["errors"][0]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&body).trim().to_string());
    let hint = if client.is_tls_required(status, &body) {
        " (add --use-ssl, or --ca-file with the CA that signed the server's certificate)"
    } else {
        ""
    };
    Err(format!(
        "the server refused (HTTP {status}): {message}{hint}"
    ))
}

fn print_report(json: &serde_json::Value) {
    let Some(results) = json["results"].as_array() else {
        return;
    };
    let mut unchanged = 0usize;
    for r in results {
        let status = r["status"].as_str().unwrap_or("");
        if status == "unchanged" && r.get("message").is_none() {
            unchanged += 1;
            continue;
        }
        let key = r["key"].as_str().unwrap_or("");
        match r["message"].as_str() {
            Some(m) => println!("{status:<14} {key}: {m}"),
            None => println!("{status:<14} {key}"),
        }
    }
    if unchanged > 0 {
        println!("({unchanged} other settings unchanged)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_comments_and_places_keys_in_their_tables() {
        let p = Path::new("/etc/graphward.toml");
        let text = "# my server\ndata_dir = \"/d\" # where\n\n[bolt]\nport = 1\n";
        let t = with_value(p, text, "bolt.port", "7700").unwrap();
        assert!(t.contains("# my server") && t.contains("# where"), "{t}");
        assert!(t.contains("port = 7700"), "{t}");
        let t = with_value(p, &t, "Security.JWT.Issuer", "me").unwrap();
        assert!(t.contains("[Security.JWT]\nIssuer = \"me\""), "{t}");
        assert!(!t.contains("[Security]\n"), "{t}");
        let t = with_value(p, &t, "Security.JWT.Issuer", "1234").unwrap();
        assert!(t.contains("Issuer = \"1234\""), "{t}");
        let t = with_value(p, &t, "tls.strict_ciphers", "true").unwrap();
        assert!(t.contains("strict_ciphers = true"), "{t}");
        let t = with_value(p, &t, "log_level", "debug").unwrap();
        let c =
            config::resolve(&ServeArgs::default(), &|_: &str| None, Some((p.into(), &t))).unwrap();
        assert_eq!(c.bolt.port, 7700);
        assert_eq!(c.auth.jwt.issuer.as_deref(), Some("1234"));
        assert_eq!(c.log_filter, "debug");
        // a flat quoted key is replaced where it is
        let t = with_value(
            p,
            "\"Security.JWT.Issuer\" = \"flat\"\n",
            "Security.JWT.Issuer",
            "x",
        )
        .unwrap();
        assert_eq!(t.matches("Issuer").count(), 1, "{t}");
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let p = Path::new("/etc/graphward.toml");
        for (key, value, why) in [
            ("bolt.port", "70000", "port number"),
            ("Security.JWT.Leeway", "301", "at most 300s"),
            ("Security.JWT.HMAC.Secret", "short", "at least 32 bytes"),
            ("Security.JWT.JWKS.URL", "http://x", "https"),
            ("limits.query_timeout", "soon", "duration"),
        ] {
            let e = with_value(p, "", config::setting(key).unwrap().name, value).unwrap_err();
            assert!(e.contains(why), "{key}: {e}");
            assert!(!e.contains("short"), "{key}: {e}");
        }
        assert!(known("Security.JWT.Nope").is_err_and(|e| e.contains("unknown setting")));
        assert!(with_value(p, "[bolt", "bolt.port", "1")
            .unwrap_err()
            .contains("not valid TOML"));
    }

    #[test]
    fn secrets_are_masked_and_defaults_documented() {
        let s = config::setting("Security.JWT.HMAC.Secret").unwrap();
        let v = Some((Raw::Text("x".repeat(40)), Source::Default));
        let line = describe(s.name, s, &v);
        assert!(line.contains("****") && !line.contains("xxxx"), "{line}");
        let s = config::setting("bolt.port").unwrap();
        assert_eq!(
            describe(s.name, s, &None),
            "bolt.port = 7687  # built-in default"
        );
        let s = config::setting("Security.JWT.Issuer").unwrap();
        assert_eq!(
            describe(s.name, s, &None),
            "Security.JWT.Issuer is not set (not checked)"
        );
    }

    #[test]
    fn write_is_atomic_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.toml");
        write_file(&p, "a = 1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a = 1\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
