//! The `graphward` binary. `main` only parses the command line and dispatches; each
//! subcommand lives in its own module.

mod certs;
mod cli;
mod config;
mod config_cmd;
mod reload;
mod serve;
mod tls;

use std::process::ExitCode;

use clap::Parser;

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
    }
}
