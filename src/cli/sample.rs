//! `rso sample`: candidate dump in, k samples per prompt out.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::backend::{Backend, RunArgs};
use crate::error::Error;
use crate::io::reader::Input;
use super::dump::DumpArgs;
use crate::pairs::PairStrategy;
use crate::pipeline::{run_sample, OnShort, OutputMode, SampleJob};
use crate::sampler::SampleParams;

#[derive(Args, Debug)]
#[command(after_help = "Input: JSONL, wide (one prompt per line: {\"id\": ..., \"prompt\": ..., \"responses\": [...], \"rewards\": [...]}) \
or long (one response per line: {\"id\": ..., \"prompt\": ..., \"response\": ..., \"reward\": ...}, a prompt's rows anywhere in the file).\n\
Output: one line per prompt, in input order (long layout: order of first appearance): id, prompt, other input fields (wide layout), \
samples (accepted texts in acceptance order), rewards, indices (positions in the prompt's candidates, in input order).\n\
With --pairs: one line per pair in TRL's preference format: prompt, chosen, rejected, chosen_reward, rejected_reward, margin, id.\n\n\
Examples:\n  rso sample dump.jsonl -o samples.jsonl -k 8 --beta 0.5 --seed 1\n  \
rso sample generations.jsonl --preset openrlhf --pairs first-round -o pairs.jsonl")]
pub struct SampleArgs {
    /// Input JSONL dump; `-` or nothing reads stdin.
    pub input: Option<PathBuf>,
    /// Output file (written to a temporary file, renamed on success); default stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Samples per prompt (k).
    #[arg(short = 'k', long = "num-samples", default_value_t = 8)]
    pub num_samples: u32,
    /// beta of the KL-constrained objective: smaller follows the reward more closely.
    /// 0 is greedy top-k (best-of-n), inf keeps the first k candidates.
    #[arg(long, default_value = "0.5", value_parser = super::parse_beta)]
    pub beta: f32,
    /// Random seed; the same seed gives the same samples on any machine and backend.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A pool with fewer candidates than k: stop with an error, keep all, or skip the prompt.
    #[arg(long, value_enum, default_value_t = OnShort::Error)]
    pub on_short: OnShort,
    /// Write preference pairs instead of samples, built from each prompt's accepted
    /// samples in acceptance order: first-round (s0,s1),(s2,s3),... (k/2 pairs),
    /// tournament (knock-out, k-1 pairs) or best-worst (highest vs lowest reward).
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub pairs: Option<PairStrategy>,
    #[command(flatten)]
    pub dump: DumpArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Run the GPU backend (any adapter) and the CPU reference on every batch and report
    /// the prompts whose indices differ: only near ties between a uniform and its
    /// acceptance probability may (GPU exp is not correctly rounded); any other difference
    /// fails the run. The output is the GPU's.
    #[arg(long)]
    pub cross_check: bool,
    /// No summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: SampleArgs) -> Result<(), Error> {
    let params = SampleParams::new(args.num_samples, args.beta)?;
    let backend = if args.cross_check {
        if args.run.backend == Backend::Cpu {
            return Err(Error::Argument("--cross-check compares the GPU with the CPU: leave out --backend cpu".into()));
        }
        Some(Backend::Gpu)
    } else {
        None
    };
    let sampler = args.run.start(backend, args.quiet)?;
    let mut job = SampleJob::new(Input::from_arg(args.input.as_deref()), params);
    job.output = args.output;
    job.seed = args.seed;
    job.on_short = args.on_short;
    args.dump.apply(&mut job);
    job.mode = match args.pairs {
        Some(strategy) => OutputMode::Pairs(strategy),
        None => OutputMode::Samples,
    };
    job.block_size = args.run.block_size(sampler.as_ref());
    job.cross_check = args.cross_check;
    job.progress = !args.quiet && std::io::stderr().is_terminal();
    let summary = run_sample(&job, sampler.as_ref())?;
    if !args.quiet {
        eprintln!("{}", summary.report(&sampler.describe()));
    }
    Ok(())
}
