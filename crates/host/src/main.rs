//! The `callbridge` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use callbridge_host::cli::{Cli, Command, KeysCommand};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            callbridge_host::telemetry::init(&args.log_filter, args.log_format);
            run_async("serve", callbridge_host::serve::serve(args))
        }
        Command::Migrate(args) => {
            callbridge_host::telemetry::init(&args.log_filter, args.log_format);
            run_async("migrate", async move { callbridge_host::serve::migrate(&args.database).await })
        }
        Command::Keys(KeysCommand::Rotate(args)) => {
            callbridge_host::telemetry::init("warn", callbridge_host::config::LogFormatArg::Text);
            run_async("keys rotate", async move { callbridge_host::serve::rotate_keys(&args).await })
        }
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
        Command::Jobs(args) => {
            run_async("jobs", async move { callbridge_host::jobs_cmd::run(&args, &mut std::io::stdout().lock()).await })
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

/// Runs a subcommand on a multi-threaded runtime; an error is one line on stderr and exit status 1.
fn run_async(name: &str, task: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("callbridge {name}: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("callbridge {name}: {error:#}");
            ExitCode::FAILURE
        }
    }
}
