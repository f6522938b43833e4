//! `cargo xtask`: project automation written in Rust, run through the cargo alias in `.cargo/config.toml`.
//!
//! This is the cargo-xtask pattern: instead of shell scripts, the workspace's chores are a small binary that needs
//! nothing but cargo. Commands:
//!
//! * `cargo xtask new-connector <name>`: scaffolds `connectors/<name>` and links it into the host.
//! * `cargo xtask tidy`: checks the workspace's rules (also run by `cargo test -p xtask`).
//! * `cargo xtask load [args...]`: runs the load generator in release mode.

mod lists;
mod load;
mod new_connector;
#[cfg(test)]
mod scaffold_tests;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  cargo xtask new-connector <name>   scaffold connectors/<name> and link it into the host
  cargo xtask tidy                   check the workspace's rules
  cargo xtask load [args...]         run the load generator (callbridge-load) in release mode";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("new-connector") => match args.get(1..) {
            Some([name]) => match new_connector::run(&root, name) {
                Ok(created) => {
                    println!("{}", new_connector::next_steps(name, &created));
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("cargo xtask new-connector: {error:#}");
                    ExitCode::FAILURE
                }
            },
            _ => usage_error("new-connector takes exactly one name"),
        },
        Some("tidy") if args.len() == 1 => {
            let problems = tidy::check(&root);
            if problems.is_empty() {
                println!("tidy: ok");
                ExitCode::SUCCESS
            } else {
                for problem in &problems {
                    eprintln!("tidy: {problem}");
                }
                eprintln!("tidy: {} problem(s)", problems.len());
                ExitCode::FAILURE
            }
        }
        Some("load") => load::run(&root, &args[1..]),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage_error("unknown or missing command"),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("cargo xtask: {message}\n{USAGE}");
    ExitCode::from(2)
}

/// The workspace root: the parent of this crate's folder.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}
