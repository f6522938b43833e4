//! `cargo xtask load`: runs the load generator (`callbridge-load` in the `callbridge-tests` package) in release
//! mode, passing its arguments, output and exit code through.

use std::path::Path;
use std::process::{Command, ExitCode};

pub(crate) fn run(root: &Path, args: &[String]) -> ExitCode {
    #[expect(clippy::disallowed_methods, reason = "build tooling finds cargo and its target folder")]
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["run", "--release", "-p", "callbridge-tests", "--bin", "callbridge-load", "--"])
        .args(args)
        .status();
    match status {
        // A signal leaves no code; report it as a failure.
        Ok(status) => ExitCode::from(status.code().and_then(|it| u8::try_from(it).ok()).unwrap_or(1)),
        Err(error) => {
            eprintln!("cargo xtask load: cannot run cargo: {error}");
            ExitCode::FAILURE
        }
    }
}
