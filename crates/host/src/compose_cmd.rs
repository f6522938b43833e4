//! `callbridge compose`: runs the call-log composer on one JSON object from stdin.

use std::io::{Read, Write};

use callbridge_core::{ComposeInput, LogFormat, compose};
use clap::Args;

#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// The body format: text/plain, text/html or text/markdown.
    // Checked in `run` rather than by clap, whose rejection spans several lines: every error here is one line.
    #[arg(long)]
    pub format: String,
}

fn parse_format(name: &str) -> Result<LogFormat, String> {
    LogFormat::parse(name)
        .ok_or_else(|| format!("unknown format `{name}`; expected text/plain, text/html or text/markdown"))
}

/// Reads the input, composes and writes the body with nothing added. Errors are one line for stderr.
pub fn run(args: &ComposeArgs, input: &mut impl Read, output: &mut impl Write) -> Result<(), String> {
    let format = parse_format(&args.format)?;
    let mut text = String::new();
    input.read_to_string(&mut text).map_err(|error| format!("cannot read stdin: {error}"))?;
    let compose_input: ComposeInput =
        serde_json::from_str(&text).map_err(|error| format!("invalid compose input: {error}"))?;
    let body = compose(&compose_input, format);
    output
        .write_all(body.as_bytes())
        .and_then(|()| output.flush())
        .map_err(|error| format!("cannot write stdout: {error}"))
}
