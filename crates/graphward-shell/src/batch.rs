//! Non-interactive mode: statements from `--file` or standard input, results to stdout in
//! the chosen format, errors (with the Neo4j status code) to stderr.

use std::io::{Read, Write};
use std::process::ExitCode;

use tokio::runtime::Runtime;

use crate::error::ShellError;
use crate::session::{Next, Session};
use crate::split::{split_all, Item};
use crate::{ShellArgs, EXIT_STATEMENT, EXIT_USAGE};

fn read_input(args: &ShellArgs) -> Result<String, String> {
    match &args.file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --file {}: {e}", path.display())),
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            Ok(text)
        }
    }
}

fn report(e: &ShellError) {
    eprintln!("error: {e}");
}

/// Runs every statement; stops at the first error unless `--continue-on-error`.
pub fn run(rt: &Runtime, mut session: Session, args: &ShellArgs) -> ExitCode {
    let text = match read_input(args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("graphward shell: {e}");
            rt.block_on(session.close());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut failed = false;
    let mut stdout = std::io::stdout().lock();
    for item in split_all(&text) {
        let outcome = match &item {
            Item::Statement(q) => rt
                .block_on(session.statement(q, std::future::pending(), std::future::pending()))
                .map(|(r, _)| {
                    let _ = stdout.write_all(session.render(&r).as_bytes());
                    let _ = stdout.flush();
                    Next::Continue
                }),
            Item::Command(c) => rt.block_on(session.command(c)).map(|(next, msg)| {
                if let Some(msg) = msg {
                    eprintln!("{msg}");
                }
                next
            }),
        };
        match outcome {
            Ok(Next::Continue) => {}
            Ok(Next::Exit) => break,
            Err(e) => {
                report(&e);
                failed = true;
                let lost = session.client.is_none();
                if !args.continue_on_error || lost {
                    break;
                }
            }
        }
    }
    if session.in_transaction() {
        eprintln!("error: input ended inside a transaction: it was rolled back (add :commit)");
        if let Some(c) = session.client.as_mut() {
            let _ = rt.block_on(c.rollback());
        }
        failed = true;
    }
    rt.block_on(session.close());
    if failed {
        ExitCode::from(EXIT_STATEMENT)
    } else {
        ExitCode::SUCCESS
    }
}
