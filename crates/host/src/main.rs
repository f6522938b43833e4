//! The `callbridge` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use callbridge_host::cli::{Cli, Command};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compose(args) => {
            match callbridge_host::compose_cmd::run(&args, &mut std::io::stdin().lock(), &mut std::io::stdout().lock())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("callbridge compose: {message}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Connectors(args) => match callbridge_host::connectors_cmd::run(&args, &mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("callbridge connectors: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}
