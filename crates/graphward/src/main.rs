//! The `graphward` binary. `main` only parses the command line and dispatches; each
//! subcommand lives in its own module of the `graphward` library (src/lib.rs).

use std::process::ExitCode;

use clap::Parser;
use graphward::{certs, cli, config, config_cmd, serve, storage_cmd};

/// mimalloc returns freed memory to the operating system (freed pages are purged after a
/// short delay), so the server's RSS falls back after a big query; glibc's malloc keeps
/// most of it in per-thread arenas. See bench/RESULTS.md for the measurement.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => {
            let config = match config::load_from_process(&args) {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("graphward: configuration error: {e}");
                    return ExitCode::from(2);
                }
            };
            match serve::run(config, args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("graphward: error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        cli::Command::Shell(args) => graphward_shell::run(args),
        cli::Command::Certs(args) => certs::run(args.command),
        cli::Command::Config(args) => config_cmd::run(args.command),
        cli::Command::Policy(args) => {
            for (kind, example, needs) in
                graphward_auth::policy::examples(&args.graph, &args.user, &args.admin)
            {
                let line = serde_json::json!({"kind": kind, "example": example, "needs": needs});
                println!("{line}");
            }
            // The HTTP admin endpoints, decided by the same table as typed commands.
            for (kind, endpoint, needs) in
                graphward_auth::policy::endpoint_examples(&args.graph, &args.user)
            {
                let line = serde_json::json!({"kind": kind, "endpoint": endpoint, "needs": needs});
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        cli::Command::Check(args) => storage_cmd::check(&args),
        cli::Command::Backup(args) => storage_cmd::backup(&args),
        cli::Command::Restore(args) => storage_cmd::restore(&args),
        cli::Command::Compact(args) => storage_cmd::compact(&args),
    }
}
