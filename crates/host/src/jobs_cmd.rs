//! `callbridge jobs`: the operator's view of the delivery queue: list pending and failed jobs (per user and
//! connector, with their age and last error), retry one now, or drop one for good.

use std::io::Write;

use anyhow::Context as _;
use chrono::Utc;
use clap::{Args, Subcommand};

use crate::config::DatabaseArgs;
use crate::store::{JobFilter, JobSummary, Store};

#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(subcommand)]
    pub action: Option<JobsAction>,
}

#[derive(Debug, Subcommand)]
pub enum JobsAction {
    /// List jobs with work pending or that failed (the default).
    List {
        /// Only failed jobs.
        #[arg(long)]
        failed: bool,
    },
    /// Make a job due now. For a failed create whose outcome was unknown, this says the CRM was checked and the
    /// record is not there: it will be created.
    Retry { id: String },
    /// Drop a job's pending operations for good.
    Drop { id: String },
}

/// Runs the command, writing its table or confirmation to `out`.
pub async fn run(args: &JobsArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let store = Store::connect(&args.database.url).await.context("cannot open the database")?;
    store.migrate().await.context("database migrations failed")?;
    let result = match &args.action {
        None => list(&store, JobFilter::Open, out).await,
        Some(JobsAction::List { failed }) => {
            list(&store, if *failed { JobFilter::Failed } else { JobFilter::Open }, out).await
        }
        Some(JobsAction::Retry { id }) => {
            anyhow::ensure!(store.retry_job(id).await?, "no job {id}");
            writeln!(out, "Job {id} is due now; a running instance's worker delivers it.")?;
            Ok(())
        }
        Some(JobsAction::Drop { id }) => {
            anyhow::ensure!(store.drop_job(id).await?, "no job {id}");
            writeln!(out, "Job {id} dropped: its pending operations will not be delivered.")?;
            Ok(())
        }
    };
    store.close().await;
    result
}

async fn list(store: &Store, filter: JobFilter, out: &mut impl Write) -> anyhow::Result<()> {
    let jobs = store.list_jobs(filter).await?;
    writeln!(
        out,
        "{:<32}  {:<7}  {:<12}  {:<36}  {:>3}  {:>8}  LAST ERROR",
        "ID", "STATE", "CONNECTOR", "USER", "OPS", "AGE"
    )?;
    for job in &jobs {
        writeln!(out, "{}", row(job))?;
    }
    writeln!(out, "{} job(s)", jobs.len())?;
    Ok(())
}

fn row(job: &JobSummary) -> String {
    let age = job.oldest_op_at.map_or_else(|| "-".to_owned(), |at| human_age((Utc::now() - at).num_seconds()));
    format!(
        "{:<32}  {:<7}  {:<12}  {:<36}  {:>3}  {:>8}  {}",
        job.id,
        job.state.as_str(),
        job.subject.platform,
        job.subject.user_id,
        job.pending_ops,
        age,
        job.last_error.as_deref().unwrap_or("-"),
    )
}

fn human_age(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
