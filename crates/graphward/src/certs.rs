//! `graphward certs generate|check`: thin front-ends over `graphward_tls::certs`.

use std::path::Path;
use std::process::ExitCode;

use graphward_tls::San;

use crate::cli::{CertsCheckArgs, CertsCommand, CertsGenerateArgs};

pub fn run(command: CertsCommand) -> ExitCode {
    match command {
        CertsCommand::Generate(args) => generate(args),
        CertsCommand::Check(args) => check(args),
    }
}

/// The first line of a password file, without its line ending. An empty password is refused.
fn read_password(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read key password file {}: {e}", path.display()))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(format!("key password file {} is empty", path.display()));
    }
    Ok(line.to_string())
}

fn generate(args: CertsGenerateArgs) -> ExitCode {
    let mut sans = Vec::new();
    for s in &args.sans {
        match s.parse::<San>() {
            Ok(san) => sans.push(san),
            Err(e) => {
                eprintln!("graphward certs generate: --san {s:?}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let password = match args.key_password_file.as_deref().map(read_password) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            eprintln!("graphward certs generate: {e}");
            return ExitCode::from(2);
        }
    };
    let encrypted = password.is_some();
    match graphward_tls::generate(&args.out, sans, args.days, args.self_signed, password) {
        Ok(files) => {
            if let (Some(ca), Some(ca_key)) = (&files.ca_cert, &files.ca_key) {
                println!(
                    "CA certificate:      {}  (give it to clients)",
                    ca.display()
                );
                println!(
                    "CA key:              {}  (keep it offline)",
                    ca_key.display()
                );
            }
            println!("server certificate:  {}", files.server_cert.display());
            println!(
                "server key:          {}{}",
                files.server_key.display(),
                if encrypted { "  (encrypted)" } else { "" }
            );
            println!("SHA-256 fingerprint: {}", files.fingerprint_sha256);
            println!("not after:           {}", files.not_after);
            println!(
                "use: graphward serve --bolt-cert-file {0} --bolt-key-file {1} --tls-cert {0} --tls-key {1}",
                files.server_cert.display(),
                files.server_key.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("graphward certs generate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(args: CertsCheckArgs) -> ExitCode {
    let password = match args.key_password_file.as_deref().map(read_password) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            eprintln!("graphward certs check: {e}");
            return ExitCode::from(2);
        }
    };
    let lines = graphward_tls::check_with_password(
        &args.cert,
        &args.key,
        args.ca.as_deref(),
        args.host.as_deref(),
        password.as_deref(),
    );
    let failed = lines.iter().filter(|l| !l.ok).count();
    for line in &lines {
        println!("{line}");
    }
    if failed == 0 {
        println!("all {} checks passed", lines.len());
        ExitCode::SUCCESS
    } else {
        println!("{failed} of {} checks failed", lines.len());
        ExitCode::FAILURE
    }
}
