//! `rso stats`: per-beta statistics of a dump, to choose beta.

use std::path::{Path, PathBuf};

use clap::Args;

use super::backend::RunArgs;
use super::dump::DumpArgs;
use crate::error::Error;
use crate::io::reader::Input;
use crate::pipeline::{read_pools, SampleJob};
use crate::sampler::SampleParams;
use crate::plot;
use crate::stats;

/// The file format of `--plot`, from the file name's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PlotFormat {
    Svg,
    Png,
}

impl PlotFormat {
    fn of(path: &Path) -> Result<Self, Error> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("svg") => Ok(PlotFormat::Svg),
            Some("png") => Ok(PlotFormat::Png),
            _ => Err(Error::Argument(format!(
                "--plot {}: plots are written as SVG or PNG; use a file name ending in .svg or .png",
                path.display()
            ))),
        }
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Per beta (every number a mean over prompts): sel_mean and sel_std, the mean and spread of the \
selected rewards; pool_mean; gain = sel_mean - pool_mean; accept_r1, the expected acceptance rate of round one; rounds, \
the mean number of rounds; short, the fraction of prompts with fewer than k candidates; kl, KL(softmax(r/beta) || uniform) \
over the pool in nats (the empirical KL(pi_r || pi_sft)).\n\n\
Example:\n  rso stats dump.jsonl --beta 0.1,0.25,0.5,1,2 -k 8 --plot beta.svg\n  rso stats dump.jsonl --plot beta.png")]
pub struct StatsArgs {
    /// Input JSONL dump; `-` or nothing reads stdin.
    pub input: Option<PathBuf>,
    /// The betas to compare, comma-separated (0: greedy top-k, inf: first k).
    #[arg(long, value_delimiter = ',', default_value = "0.1,0.25,0.5,1,2", value_parser = super::parse_beta)]
    pub beta: Vec<f32>,
    /// Samples per prompt (k).
    #[arg(short = 'k', long = "num-samples", default_value_t = 8)]
    pub num_samples: u32,
    /// Random seed of the sampling runs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write a plot of reward gain against KL, one point per beta (SVG or PNG, by the
    /// file name's extension).
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    pub plot: Option<PathBuf>,
    #[command(flatten)]
    pub dump: DumpArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

pub fn run(args: StatsArgs) -> Result<(), Error> {
    let plot_format = args.plot.as_deref().map(PlotFormat::of).transpose()?;
    if args.beta.is_empty() {
        return Err(Error::Argument("--beta: give at least one beta".into()));
    }
    let params = SampleParams::new(args.num_samples, args.beta[0])?;
    let sampler = args.run.start(None, false)?;
    let mut job = SampleJob::new(Input::from_arg(args.input.as_deref()), params);
    job.seed = args.seed;
    job.block_size = args.run.block_size(sampler.as_ref());
    args.dump.apply(&mut job);
    let pools = read_pools(&job)?;
    let results = args
        .beta
        .iter()
        .map(|&beta| stats::beta_stats(&pools.batch, args.num_samples, beta, sampler.as_ref()))
        .collect::<Result<Vec<_>, Error>>()?;
    if args.json {
        let value = stats::to_json(&results, pools.batch.len(), pools.batch.num_candidates(), args.num_samples, args.seed);
        println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
    } else {
        println!(
            "{} prompts, {} candidates, k = {}, seed {}",
            pools.batch.len(),
            pools.batch.num_candidates(),
            args.num_samples,
            args.seed
        );
        print!("{}", stats::table(&results));
    }
    if let (Some(path), Some(format)) = (&args.plot, plot_format) {
        let layout = plot::layout(&results);
        let bytes = match format {
            PlotFormat::Svg => plot::svg::render(&layout).into_bytes(),
            PlotFormat::Png => plot::png::render(&layout),
        };
        let mut sink = crate::io::sink::Sink::create(Some(path))?;
        sink.write_all(&bytes)?;
        sink.commit()?;
    }
    Ok(())
}
