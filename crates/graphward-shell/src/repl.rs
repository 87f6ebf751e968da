//! Interactive mode: rustyline line editing and history, a prompt naming the database,
//! statements ending with `;` over several lines, aligned tables with a row count and time.
//!
//! Ctrl-C at the prompt clears the line (rustyline reads it as a key in raw mode). While a
//! query runs the terminal is in normal mode and Ctrl-C is a SIGINT: the handler installed at
//! start-up turns it into a RESET (the query stops, the shell stays); a second Ctrl-C while
//! waiting for the server gives the connection up and opens a new one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};
use tokio::runtime::Runtime;

use crate::error::ShellError;
use crate::render;
use crate::session::{Next, Session};
use crate::split::{Item, Splitter};
use crate::{ShellArgs, EXIT_STATEMENT};

const HISTORY_NAME: &str = ".graphward_history";

/// SIGINT delivered while a query runs.
struct Interrupts {
    #[cfg(unix)]
    sig: tokio::signal::unix::Signal,
}

impl Interrupts {
    /// Installs the handler (from then on Ctrl-C no longer kills the process).
    fn install(rt: &Runtime) -> std::io::Result<Interrupts> {
        #[cfg(unix)]
        {
            let _guard = rt.enter();
            let sig = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
            Ok(Interrupts { sig })
        }
        #[cfg(not(unix))]
        {
            let _ = rt;
            Ok(Interrupts {})
        }
    }

    /// Forgets a Ctrl-C pressed while nothing ran.
    async fn drain(&mut self) {
        #[cfg(unix)]
        while let Ok(Some(())) = tokio::time::timeout(Duration::ZERO, self.sig.recv()).await {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        {
            if self.sig.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn default_history() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(HISTORY_NAME))
}

/// Creates the history file with mode 0600 (and narrows an existing one).
fn prepare_history(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let f = opts.open(path)?;
        let mode = f.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    {
        opts.open(path)?;
    }
    Ok(())
}

/// Marks of a statement carrying a secret (`SET PASSWORD`, `IDENTIFIED BY`, `CREATE SECRET`,
/// `changePassword(...)`, a `$token` parameter...): a bare word or parameter name that
/// contains one of these (case-insensitively), as the lexer reads it.
const SECRET_WORDS: [&str; 5] = ["password", "identified", "secret", "token", "credential"];

/// Entries that may hold a secret stay out of the history file. The entry is read with the
/// server's own Cypher lexer: it is dropped when a bare word is one of [`SECRET_WORDS`], when
/// a string literal (or a backquoted name) is a JWT, when it does not lex (an unterminated
/// string could be half a password), or when it starts with a space (the usual opt-out).
fn keep_in_history(entry: &str) -> bool {
    use graphward_cypher::parser::lexer::{tokenize, Tok};
    if entry.starts_with(' ') {
        return false;
    }
    let Ok(tokens) = tokenize(entry) else {
        return false;
    };
    !tokens.iter().any(|t| match &t.tok {
        Tok::Ident(w) | Tok::Param(w) => {
            let w = w.to_ascii_lowercase();
            SECRET_WORDS.iter().any(|s| w.contains(s))
        }
        Tok::Str(s) | Tok::Quoted(s) => looks_like_jwt(s),
        _ => false,
    })
}

/// Three base64url parts whose first decodes to a JSON object: a JWT (signed or not).
fn looks_like_jwt(s: &str) -> bool {
    use base64::Engine as _;
    let s = s.trim();
    let parts: Vec<&str> = s.split('.').collect();
    let [header, payload, _signature] = parts.as_slice() else {
        return false;
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = header.trim_end_matches('=');
    matches!(
        b64.decode(header)
            .ok()
            .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok()),
        Some(serde_json::Value::Object(_))
    ) && b64.decode(payload.trim_end_matches('=')).is_ok()
}

fn prompt(session: &Session, splitter: &Splitter) -> String {
    let db = session.database_label();
    let tx = if session.in_transaction() { "#" } else { ">" };
    if splitter.is_pending() {
        format!("{}{tx} ", " ".repeat(db.chars().count()))
    } else {
        format!("{db}{tx} ")
    }
}

/// The interactive loop. Returns when the user leaves (`:exit`, Ctrl-D).
pub fn run(rt: &Runtime, mut session: Session, args: &ShellArgs) -> ExitCode {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_space(true)
        .history_ignore_dups(true)
        .and_then(|b| b.max_history_size(1000))
        .map(|b| b.build());
    let mut rl: Editor<(), DefaultHistory> = match config.and_then(Editor::with_config) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("graphward shell: cannot start line editing: {e}");
            return ExitCode::FAILURE;
        }
    };
    let history = args.history.clone().or_else(default_history);
    let history = history.and_then(|p| match prepare_history(&p) {
        Ok(()) => {
            let _ = rl.load_history(&p);
            Some(p)
        }
        Err(e) => {
            eprintln!(
                "warning: history not saved: cannot open {}: {e}",
                p.display()
            );
            None
        }
    });
    let mut interrupts = match Interrupts::install(rt) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("graphward shell: cannot install the Ctrl-C handler: {e}");
            return ExitCode::FAILURE;
        }
    };
    banner(&session);

    let mut splitter = Splitter::new();
    let mut failed = false;
    loop {
        let line = match rl.readline(&prompt(&session, &splitter)) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                splitter.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("graphward shell: cannot read input: {e}");
                failed = true;
                break;
            }
        };
        for item in splitter.push_line(&line) {
            let entry = match &item {
                Item::Statement(s) => format!("{s};"),
                Item::Command(c) => c.clone(),
            };
            if keep_in_history(&entry) {
                let _ = rl.add_history_entry(entry.as_str());
                if let Some(p) = &history {
                    let _ = rl.save_history(p);
                }
            }
            let next = match item {
                Item::Statement(q) => {
                    statement(rt, &mut session, &mut interrupts, &q);
                    Next::Continue
                }
                Item::Command(c) => command(rt, &mut session, &c),
            };
            if next == Next::Exit {
                rt.block_on(session.close());
                return ExitCode::SUCCESS;
            }
        }
    }
    if session.in_transaction() {
        eprintln!("open transaction rolled back");
    }
    rt.block_on(session.close());
    if failed {
        ExitCode::from(EXIT_STATEMENT)
    } else {
        ExitCode::SUCCESS
    }
}

fn banner(session: &Session) {
    let (version, agent) = match &session.client {
        Some(c) => (c.version().to_string(), c.server_agent.clone()),
        None => (String::new(), String::new()),
    };
    let tls = match &session.target.tls {
        None => "not encrypted".to_string(),
        Some(crate::connect::TlsMode::Insecure) => {
            "TLS, certificate NOT verified (--insecure)".to_string()
        }
        Some(_) => "TLS, certificate verified".to_string(),
    };
    println!(
        "Connected to {}:{} ({agent}, Bolt {version}, {tls}).",
        session.target.host, session.target.port
    );
    println!("Type :help for help, :exit or Ctrl-D to leave. Statements end with ';'.");
}

fn statement(rt: &Runtime, session: &mut Session, interrupts: &mut Interrupts, q: &str) {
    if session.client.is_none() {
        reconnect(rt, session);
    }
    let result = rt.block_on(async {
        interrupts.drain().await;
        // The first Ctrl-C interrupts; a second one abandons the connection. Both futures
        // wait on the same signal stream, so they are created one after the other.
        let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
        let (second_tx, second_rx) = tokio::sync::oneshot::channel::<()>();
        let watcher = async {
            interrupts.next().await;
            let _ = first_tx.send(());
            eprintln!("interrupting (Ctrl-C again to give up the connection)...");
            interrupts.next().await;
            let _ = second_tx.send(());
            std::future::pending::<()>().await;
        };
        let run = session.statement(
            q,
            async {
                let _ = first_rx.await;
            },
            async {
                let _ = second_rx.await;
            },
        );
        tokio::select! {
            r = run => r,
            _ = watcher => Err(ShellError::Interrupted),
        }
    });
    match result {
        Ok((r, elapsed)) => {
            print!("{}", session.render(&r));
            println!("{}", render::summary_line(&r, elapsed));
        }
        Err(ShellError::Interrupted) => {
            eprintln!(
                "query interrupted; the connection is ready (any open transaction was rolled back)"
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            if session.client.is_none() {
                reconnect(rt, session);
            }
        }
    }
}

fn reconnect(rt: &Runtime, session: &mut Session) {
    eprintln!("reconnecting...");
    match rt.block_on(session.reconnect()) {
        Ok(()) => eprintln!("connected again"),
        Err(e) => eprintln!("error: {e} (the next statement tries again)"),
    }
}

fn command(rt: &Runtime, session: &mut Session, line: &str) -> Next {
    if session.client.is_none() {
        reconnect(rt, session);
    }
    match rt.block_on(session.command(line)) {
        Ok((next, msg)) => {
            if let Some(msg) = msg {
                println!("{msg}");
            }
            next
        }
        Err(e) => {
            eprintln!("error: {e}");
            if session.client.is_none() {
                reconnect(rt, session);
            }
            Next::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_the_history() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJuZW80aiJ9.c2lnbmF0dXJl";
        for secret in [
            "CREATE USER bob IDENTIFIED BY 'hunter2-hunter2'",
            "create user bob identified by 'x'",
            "ALTER USER bob SET PASSWORD 'new-password'",
            "ALTER CURRENT USER SET PASSWORD FROM 'a' TO 'b'",
            "CREATE SECRET s VALUE 'x'",
            "CALL dbms.security.changePassword('new-password')",
            &format!("RETURN '{jwt}' AS t"),
            &format!("RETURN \"{jwt}\""),
            &format!(":param t => '{jwt}'"),
            "RETURN 'unterminated",
            " MATCH (n) RETURN n",
            "CALL x($token)",
        ] {
            assert!(!keep_in_history(secret), "{secret}");
        }
        for fine in [
            "MATCH (n:Person) RETURN n.name",
            "RETURN 'a.b.c'",
            "RETURN 'not.a.jwt' + 'x'",
            ":help",
            "SHOW USERS",
        ] {
            assert!(keep_in_history(fine), "{fine}");
        }
    }
}
