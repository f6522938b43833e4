//! `callbridge connectors`: lists every registered connector with what it implements.

use std::io::Write;

use callbridge_core::http::{HttpClient, HttpSettings};
use callbridge_core::{ConnectorConfig, registry};
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct ConnectorsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One connector as `callbridge connectors` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorSummary {
    pub name: &'static str,
    pub display_name: &'static str,
    pub auth_type: &'static str,
    pub log_format: &'static str,
    pub operations: Vec<&'static str>,
}

/// Builds every registered connector with an empty configuration and describes it.
pub fn summaries() -> anyhow::Result<Vec<ConnectorSummary>> {
    let http = HttpClient::new(&HttpSettings::default())?;
    registry::all()
        .into_iter()
        .map(|descriptor| {
            let connector = (descriptor.build)(ConnectorConfig::new(http.clone()))
                .map_err(|error| anyhow::anyhow!("connector `{}` does not build: {error}", descriptor.name))?;
            Ok(ConnectorSummary {
                name: descriptor.name,
                display_name: descriptor.display_name,
                auth_type: connector.auth_type().as_str(),
                log_format: connector.log_format().map_or("custom", |it| it.as_str()),
                operations: connector.operations().iter().map(|it| it.interface_name()).collect(),
            })
        })
        .collect()
}

pub fn run(args: &ConnectorsArgs, output: &mut impl Write) -> anyhow::Result<()> {
    let summaries = summaries()?;
    if args.json {
        serde_json::to_writer_pretty(&mut *output, &summaries)?;
        writeln!(output)?;
        return Ok(());
    }
    for summary in &summaries {
        writeln!(
            output,
            "{:<16} {:<20} {:<7} {:<14} {}",
            summary.name,
            summary.display_name,
            summary.auth_type,
            summary.log_format,
            summary.operations.join(",")
        )?;
    }
    Ok(())
}
