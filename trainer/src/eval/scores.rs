//! `trainer metrics`: the protocol metrics of score files written elsewhere (another
//! implementation's dev and test scores, or `trainer eval`'s own CSVs).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::metrics::{ScoreSet, evaluate};

#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// Dev-split scores: CSV with header `video,label,attack_type,score` (label 1 live,
    /// 0 attack; attack_type empty for live rows and optional for attacks; score = live
    /// probability). The thresholds are chosen here (equal-error point).
    #[arg(long, value_name = "CSV")]
    pub dev: PathBuf,
    /// Test-split scores, same columns; evaluated at the dev thresholds.
    #[arg(long, value_name = "CSV")]
    pub test: PathBuf,
    /// Groups of test videos to report apart, CSV `video,group` (a synthetic dataset's
    /// `video_groups.csv`: real people and procedural heads).
    #[arg(long, value_name = "CSV")]
    pub groups: Option<PathBuf>,
    /// One JSON object (rates as fractions) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `trainer metrics`.
pub fn command(args: MetricsArgs) -> Result<()> {
    let dev = ScoreSet::read_csv(&args.dev)?;
    let test = ScoreSet::read_csv(&args.test)?;
    let groups = match &args.groups {
        Some(path) => {
            anyhow::ensure!(path.is_file(), "{} is not a file", path.display());
            crate::data::read_video_table(path, "group")?
        }
        None => Default::default(),
    };
    let report = evaluate(&dev, &test)?.with_groups(&test, &groups);
    if args.json {
        println!("{}", report.to_json());
    } else {
        println!(
            "dev {}: {} frames, {} videos; test {}: {} frames, {} videos",
            args.dev.display(),
            dev.len(),
            dev.num_videos(),
            args.test.display(),
            test.len(),
            test.num_videos()
        );
        print!("{}", report.table());
    }
    Ok(())
}
